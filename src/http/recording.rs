//! Recordings: every exchange stored under the canonical key of its request.
//!
//! Layout of a recording directory (documented for users in mocks/README.md):
//!
//! ```text
//! DIR/manifest.json                                      format, version, account, regions
//! DIR/exchanges/<service>/<region>/<Operation>-<hash>.json
//! ```
//!
//! The key is (service, region, operation, parameters); parameters are the request's
//! method, path, query and body, parsed and canonicalised (JSON and form bodies sorted), so
//! the same logical request always has the same key whatever order the concurrent collector
//! sends it in. Keys never include headers: no credentials, signatures, dates or request ids
//! are stored. Response bodies are stored as JSON when they are JSON (hand-editable), text
//! otherwise, with request ids removed and secret-looking values redacted.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::redact::{redact_json, redact_text};

use crate::{atomic_file, error, fleet};

/// The recording format this build reads and writes.
pub const FORMAT: &str = "awsaudit-recording";
pub const FORMAT_VERSION: u32 = 1;

/// Canonical identity of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestKey {
    /// The member account of a fleet run; absent for the caller's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub service: String,
    pub region: String,
    pub operation: String,
    pub params: Value,
}

/// What of a request its key is made from.
pub struct Request<'a> {
    pub method: &'a str,
    /// The URI, or just its path and query.
    pub uri: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

impl RequestKey {
    /// The key of a request the SDK is about to send.
    pub fn from_request(
        account: Option<&str>,
        service: &str,
        region: &str,
        operation: &str,
        req: &HttpRequest,
    ) -> Self {
        let content_type = req.headers().get("content-type").unwrap_or_default();
        let request = Request {
            method: req.method(),
            uri: req.uri(),
            content_type,
            body: req.body().bytes().unwrap_or_default(),
        };
        Self::from_parts(account, service, region, operation, &request)
    }

    /// The key of a request given by its parts (a synthetic recording's requests).
    pub fn from_parts(
        account: Option<&str>,
        service: &str,
        region: &str,
        operation: &str,
        req: &Request<'_>,
    ) -> Self {
        let (path, query) = match req.uri.split_once("://") {
            Some((_, rest)) => {
                let path_and_query = rest.find('/').map_or("/", |i| &rest[i..]);
                split_query(path_and_query)
            }
            None => split_query(req.uri),
        };
        let body = canonical_body(&req.content_type.to_ascii_lowercase(), req.body);
        let mut params = serde_json::Map::new();
        params.insert("method".into(), Value::String(req.method.to_string()));
        params.insert("path".into(), Value::String(path.to_string()));
        if !query.is_empty() {
            params.insert("query".into(), query_map(query));
        }
        if !body.is_null() {
            params.insert("body".into(), body);
        }
        RequestKey {
            account: account.map(str::to_string),
            service: service.to_string(),
            region: region.to_string(),
            operation: operation.to_string(),
            params: Value::Object(params),
        }
    }

    /// The key as one canonical string (serde_json sorts object keys).
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("a key always serialises")
    }

    /// Relative path of this key's file in a recording.
    pub fn file_name(&self) -> PathBuf {
        let digest = Sha256::digest(self.canonical().as_bytes());
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let mut path = PathBuf::from("exchanges");
        if let Some(account) = &self.account {
            path.push(safe_segment(account));
        }
        path.join(safe_segment(&self.service))
            .join(safe_segment(&self.region))
            .join(format!("{}-{hash}.json", safe_segment(&self.operation)))
    }

    /// `ecs us-east-1 DescribeServices {…}` for error messages.
    pub fn describe(&self) -> String {
        let account = self
            .account
            .as_deref()
            .map(|a| format!("account {a} "))
            .unwrap_or_default();
        format!(
            "{account}{} {} {} {}",
            self.service, self.region, self.operation, self.params
        )
    }
}

fn safe_segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn split_query(path_and_query: &str) -> (&str, &str) {
    path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""))
}

fn query_map(query: &str) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match map.get_mut(k.as_ref()) {
            Some(Value::Array(list)) => list.push(Value::String(v.into_owned())),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(v.into_owned())]);
            }
            None => {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    Value::Object(map.into_iter().collect())
}

fn canonical_body(content_type: &str, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if content_type.contains("x-www-form-urlencoded") {
        // awsQuery / ec2Query: Action and Version are the operation, not parameters.
        let mut map = serde_json::Map::new();
        for (k, v) in form_urlencoded::parse(body) {
            if k != "Action" && k != "Version" {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        return Value::Object(map);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) if m.is_empty() => Value::Null,
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
    }
}

/// Response headers worth keeping: the SDK reads error types from some of them.
const KEPT_HEADERS: [&str; 3] = ["content-type", "x-amzn-errortype", "x-amzn-query-error"];

/// One recorded exchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    pub key: RequestKey,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// JSON responses are stored as JSON values, anything else as text.
    pub body: Value,
}

impl Exchange {
    /// Builds the stored form of a live exchange: headers filtered, body redacted.
    pub fn new(key: RequestKey, status: u16, headers: &[(String, String)], body: &[u8]) -> Self {
        let headers: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| KEPT_HEADERS.iter().any(|h| k.eq_ignore_ascii_case(h)))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        // By the header, or by the body itself: an emulator may label JSON as text/html,
        // and a JSON body must get the JSON redaction rules whatever it is labelled.
        let is_json = headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.contains("json"))
            || body
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b'{' || *b == b'[');
        let body = match (is_json, serde_json::from_slice::<Value>(body)) {
            (true, Ok(mut v)) => {
                redact_json(&mut v);
                v
            }
            _ => Value::String(redact_text(&String::from_utf8_lossy(body))),
        };
        Exchange {
            key,
            status,
            headers,
            body,
        }
    }

    /// The response body as the SDK expects it on the wire.
    /// Checks what the replayer will hand to the HTTP stack: a status code HTTP has and
    /// headers an HTTP message can carry.
    pub fn validate(&self) -> Result<(), String> {
        if !(100..=999).contains(&self.status) {
            return Err(format!(
                "status {} is not an HTTP status code (100-999)",
                self.status
            ));
        }
        for (name, value) in &self.headers {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("header name {name:?} is not a valid HTTP header name"))?;
            http::HeaderValue::from_str(value).map_err(|_| {
                format!("header {name}: value {value:?} is not a valid HTTP header value")
            })?;
        }
        Ok(())
    }

    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Value::String(s) => s.clone().into_bytes(),
            Value::Null => Vec::new(),
            v => serde_json::to_vec(v).expect("a JSON value always serialises"),
        }
    }
}

// ---------------------------------------------------------------- manifest

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub tool_version: String,
    pub recorded_at: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub exchanges: usize,
    /// The accounts of a fleet run and how each role assumption ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<fleet::FleetManifest>,
    /// Why the recording does not hold every answer of its run (a stopped run, calls that
    /// got no answer); absent when it does. Replaying it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// The largest exchange file a recording may hold: well above any AWS answer (an IAM
/// authorization details page is a few MB), far below what would exhaust memory.
pub const MAX_EXCHANGE_BYTES: u64 = 32 << 20;
/// The most a whole recording may hold, and the largest manifest.
pub const MAX_RECORDING_BYTES: u64 = 2 << 30;
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Errors reading or writing recordings; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{0}: no such recording directory")]
    Missing(PathBuf),
    #[error("{0}: is a file; give the recording's directory (the one holding manifest.json)")]
    NotADirectory(PathBuf),
    #[error("{0}: not a recording (no manifest.json; record one with `audit --record DIR`)")]
    NoManifest(PathBuf),
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("replay: no recorded response for {key} (expected {file})")]
    MissingKey { key: String, file: PathBuf },
    #[error("{0}: exists and is not a recording; refusing to overwrite it")]
    NotARecording(PathBuf),
    #[error("--record {0}: is the current directory or holds it; record somewhere else")]
    HoldsWorkingDirectory(PathBuf),
}

/// A recording that cannot be read or written stops the run, as bad input does.
impl From<RecordingError> for error::AppError {
    fn from(e: RecordingError) -> Self {
        error::AppError::Config(e.to_string())
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RecordingError + '_ {
    move |source| RecordingError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads and parses a recording file (see [`read_bounded`]).
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
    cap: u64,
) -> Result<T, RecordingError> {
    parse_json(path, &read_bounded(path, cap)?)
}

/// Reads a recording file: a regular file (never a link, which could lead outside the
/// recording, nor a FIFO, which would never end) of at most `cap` bytes.
pub(crate) fn read_bounded(path: &Path, cap: u64) -> Result<String, RecordingError> {
    let corrupt = |message: String| RecordingError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
    if !meta.file_type().is_file() {
        return Err(corrupt(format!(
            "is a {}, not a regular file; a recording holds only regular files",
            file_kind(&meta.file_type())
        )));
    }
    if meta.len() > cap {
        return Err(corrupt(format!(
            "is {} bytes, above the {} MiB a recording file may be",
            meta.len(),
            cap >> 20
        )));
    }
    let mut text = String::new();
    // Bounded even if the file grows while it is read.
    (fs::File::open(path).map_err(io_err(path))?)
        .take(cap + 1)
        .read_to_string(&mut text)
        .map_err(io_err(path))?;
    if text.len() as u64 > cap {
        return Err(corrupt(format!(
            "is above the {} MiB a recording file may be",
            cap >> 20
        )));
    }
    Ok(text)
}

/// Parses a recording file's text; the error is the parser's message only, never the
/// file's content, which may not be a recording at all.
pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
    text: &str,
) -> Result<T, RecordingError> {
    serde_json::from_str(text).map_err(|e| RecordingError::Corrupt {
        path: path.to_path_buf(),
        message: format!("invalid recording file: {e}"),
    })
}

/// What a directory entry is, in words.
pub(crate) fn file_kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    if t.is_symlink() {
        "symbolic link"
    } else if t.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

/// Every `.json` file under `dir`, descending only into real directories (a link to a
/// directory could lead outside the recording, or back into it forever).
pub(crate) fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RecordingError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
        Ok(m) if !m.is_dir() => {
            return Err(RecordingError::Corrupt {
                path: dir.to_path_buf(),
                message: format!(
                    "is a {}, not a directory of the recording",
                    file_kind(&m.file_type())
                ),
            })
        }
        Ok(_) => {}
    }
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            collect_json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            // Links and special files are refused by read_json, by name.
            out.push(path);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- record

/// Writes a file of the recording atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordingError> {
    atomic_file::write(path, bytes).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_canonical_and_drop_the_action() {
        let a = canonical_body(
            "application/x-www-form-urlencoded",
            b"Action=DescribeSubnets&Version=2016-11-15&MaxResults=1000&NextToken=abc",
        );
        let b = canonical_body(
            "application/x-www-form-urlencoded",
            b"NextToken=abc&Version=2016-11-15&MaxResults=1000&Action=DescribeSubnets",
        );
        assert_eq!(a, b);
        assert_eq!(a["NextToken"], "abc");
        assert!(a.get("Action").is_none());
    }

    #[test]
    fn secrets_and_request_ids_are_redacted() {
        let xml = "<R><RequestId>abc-123</RequestId><SecretAccessKey>wJalr</SecretAccessKey><Key>AKIAIOSFODNN7EXAMPLE</Key></R>";
        let out = redact_text(xml);
        assert!(!out.contains("abc-123"));
        assert!(!out.contains("wJalr"));
        assert!(!out.contains("AKIAIOSFODNN7EXAMPLE"));

        let mut v: Value = serde_json::from_str(
            r#"{"environment":[{"name":"DB_PASSWORD","value":"hunter2"},{"name":"LOG_LEVEL","value":"INFO"},{"name":"X","value":"ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}"#,
        )
        .unwrap();
        redact_json(&mut v);
        let s = v.to_string();
        assert!(!s.contains("hunter2"));
        assert!(!s.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"));
        // No environment value is kept, secret or not; the marker says the verdict, so a
        // replay reports what the live audit did.
        assert!(!s.contains("INFO"));
        assert!(s.contains(r#""value":"***REDACTED:name***""#), "{s}");
        assert!(s.contains(r#""value":"***REDACTED:token***""#), "{s}");
        assert!(s.contains(r#""value":"***REDACTED:clear***""#), "{s}");
    }

    #[test]
    fn free_form_fields_keep_verdicts_not_values() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let mut v = serde_json::json!({
            "taskDefinition": {"containerDefinitions": [{
                "name": "app",
                "command": ["java", "-jar", "app.jar", "--db-password=hunter2-prod"],
                "entryPoint": ["sh", "-c", "exec /app --token s3cr3tvalue99"],
                "dockerLabels": {"com.example.build": "build-7731", "auth": jwt},
                "healthCheck": {"command": ["CMD-SHELL", "curl -u admin:pw1234 localhost"]},
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "api_token": "tok-9981-abc"}},
            }]},
            "tags": [{"key": "team", "value": "payments"}, {"key": "db_password", "value": "hunter3"}],
            "Targets": [{"Input": format!("{{\"containerOverrides\":[{{\"name\":\"app\",\"environment\":[{{\"name\":\"TOKEN\",\"value\":\"{jwt}\"}}],\"command\":[\"--mode\",\"nightly-batch\"]}}],\"taskRoleArn\":\"arn:aws:iam::1:role/x\"}}"),
                         "InputTemplate": "{\"id\": <id>, \"secret\": \"abc\"}"}],
        });
        redact_json(&mut v);
        let s = v.to_string();
        for gone in [
            "hunter2",
            "hunter3",
            "s3cr3t",
            "build-7731",
            "eyJ",
            "pw1234",
            "tok-9981",
            "nightly-batch",
            "role/x",
            "abc",
        ] {
            assert!(!s.contains(gone), "{gone} kept: {s}");
        }
        // What checks and suppressions read stays: names, options, clear tags.
        for kept in [
            "--db-password=***REDACTED:name***",
            "--token ***REDACTED:name***",
            "/ecs/app",
            "payments",
            "com.example.build",
            "TOKEN",
            "--mode",
        ] {
            assert!(s.contains(kept), "{kept} lost: {s}");
        }
        let replayed = s.clone();
        let mut again: Value = serde_json::from_str(&replayed).unwrap();
        redact_json(&mut again);
        assert_eq!(again.to_string(), replayed, "redaction is idempotent");
    }

    #[test]
    fn xml_tags_are_judged_by_their_key() {
        let xml = "<Tags><member><Key>team</Key><Value>web</Value></member><member><Key>DB_PASSWORD</Key>\n<Value>hunter2</Value></member></Tags><tagSet><item><key>api_token</key><value>zz-top-77</value></item></tagSet>";
        let out = redact_text(xml);
        assert!(out.contains("<Value>web</Value>"), "{out}");
        assert!(
            !out.contains("hunter2") && !out.contains("zz-top-77"),
            "{out}"
        );
        assert!(out.contains("<Value>***REDACTED:name***</Value>"), "{out}");
    }

    #[test]
    fn exchange_keeps_json_bodies_editable() {
        let key = RequestKey {
            account: None,
            service: "ecs".into(),
            region: "us-east-1".into(),
            operation: "ListClusters".into(),
            params: serde_json::json!({"method": "POST", "path": "/"}),
        };
        let ex = Exchange::new(
            key,
            200,
            &[
                ("Content-Type".into(), "application/x-amz-json-1.1".into()),
                ("x-amzn-RequestId".into(), "req-1".into()),
            ],
            br#"{"clusterArns":["arn:aws:ecs:us-east-1:1:cluster/a"]}"#,
        );
        assert!(ex.body.is_object());
        assert_eq!(ex.headers.len(), 1, "request id header dropped");
        assert_eq!(
            ex.body_bytes(),
            br#"{"clusterArns":["arn:aws:ecs:us-east-1:1:cluster/a"]}"#.to_vec()
        );
    }
}
