//! `audit write-recording DIR` (hidden; the back end of tests/synth.py): a recording written
//! from requests and responses given as JSON lines on stdin, through the recorder's own
//! code — request keys, redaction, file names, the manifest, the staging swap. A generator
//! of synthetic estates then knows AWS's wire protocols, never this recording format.
//!
//! The first line is the manifest's header, every other line one exchange:
//!
//! ```text
//! {"recorded_at": "2026-11-22T08:21:45Z", "accounts": ["123456789012"], "regions": ["us-east-1"], "fleet": null}
//! {"service": "ecs", "region": "us-east-1", "operation": "ListClusters", "method": "POST", "uri": "/",
//!  "content_type": "application/x-amz-json-1.1", "body": "{}", "status": 200,
//!  "response_content_type": "application/x-amz-json-1.1", "response": {"clusterArns": []}}
//! ```
//!
//! `account` (a fleet member's exchanges) is optional; `response` is the body as text, or as
//! JSON for a JSON body.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::AppError;
use crate::fleet::FleetManifest;
use crate::http::record::Recorder;
use crate::http::recording::{Exchange, Request, RequestKey};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    recorded_at: String,
    accounts: Vec<String>,
    regions: Vec<String>,
    #[serde(default)]
    fleet: Option<FleetManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    account: Option<String>,
    service: String,
    region: String,
    operation: String,
    method: String,
    uri: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    body: String,
    status: u16,
    response_content_type: String,
    response: Value,
}

/// Writes the recording `input` describes into `dir`; the number of exchanges written.
pub fn write(dir: &Path, input: impl BufRead) -> Result<usize, AppError> {
    let bad = |n: usize, what: String| AppError::Config(format!("stdin line {n}: {what}"));
    let mut lines = input.lines().enumerate();
    let header: Header = match lines.next() {
        Some((_, line)) => {
            let line = line.map_err(|e| bad(1, e.to_string()))?;
            serde_json::from_str(&line).map_err(|e| bad(1, format!("not a header: {e}")))?
        }
        None => return Err(AppError::Config("stdin is empty: no header line".into())),
    };
    let rec = Recorder::create(dir)?;
    let written = (|| {
        let mut seen = HashSet::new();
        for (i, line) in lines {
            let n = i + 1;
            let line = line.map_err(|e| bad(n, e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let l: Line =
                serde_json::from_str(&line).map_err(|e| bad(n, format!("not an exchange: {e}")))?;
            let request = Request {
                method: &l.method,
                uri: &l.uri,
                content_type: &l.content_type,
                body: l.body.as_bytes(),
            };
            let key = RequestKey::from_parts(
                l.account.as_deref(),
                &l.service,
                &l.region,
                &l.operation,
                &request,
            );
            if !seen.insert(key.canonical()) {
                return Err(bad(
                    n,
                    format!("a second exchange for the request {}", key.describe()),
                ));
            }
            let body = match &l.response {
                Value::String(s) => s.clone().into_bytes(),
                v => serde_json::to_vec(v).expect("a JSON value always serialises"),
            };
            let headers = [("content-type".to_string(), l.response_content_type)];
            let ex = Exchange::new(key, l.status, &headers, &body);
            ex.validate().map_err(|why| bad(n, why))?;
            rec.store(&ex)?;
        }
        rec.finish(
            &header.accounts,
            &header.regions,
            header.fleet,
            None,
            header.recorded_at,
        )?;
        Ok(seen.len())
    })();
    if written.is_err() {
        rec.abandon();
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::replay::Replayer;

    const HEADER: &str = r#"{"recorded_at":"2026-11-22T08:21:45Z","accounts":["123456789012"],"regions":["us-east-1"]}"#;
    const LIST: &str = r#"{"service":"ecs","region":"us-east-1","operation":"ListClusters","method":"POST","uri":"/","content_type":"application/x-amz-json-1.1","body":"{}","status":200,"response_content_type":"application/x-amz-json-1.1","response":{"clusterArns":[]}}"#;

    #[test]
    fn exchanges_are_written_with_the_recorders_keys_and_replay() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rec");
        let describe = r#"{"service":"ec2","region":"us-east-1","operation":"DescribeVpcs","method":"POST","uri":"/","content_type":"application/x-www-form-urlencoded; charset=utf-8","body":"Action=DescribeVpcs&Version=2016-11-15&MaxResults=1000","status":200,"response_content_type":"text/xml","response":"<DescribeVpcsResponse/>"}"#;
        let input = format!("{HEADER}\n{LIST}\n{describe}\n");
        assert_eq!(write(&out, input.as_bytes()).unwrap(), 2);
        let replayer = Replayer::load(&out).unwrap();
        assert_eq!(replayer.manifest.recorded_at, "2026-11-22T08:21:45Z");
        // The key is what the SDK's own request makes: Action and Version are the
        // operation, the empty JSON object no body at all.
        let key = RequestKey::from_parts(
            None,
            "ec2",
            "us-east-1",
            "DescribeVpcs",
            &Request {
                method: "POST",
                uri: "https://ec2.us-east-1.amazonaws.com/",
                content_type: "application/x-www-form-urlencoded",
                body: b"MaxResults=1000&Action=DescribeVpcs&Version=2016-11-15",
            },
        );
        assert_eq!(replayer.get(&key).unwrap().status, 200);
        assert!(out.join(key.file_name()).is_file());
    }

    #[test]
    fn a_repeated_request_or_a_bad_line_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rec");
        let e = write(&out, format!("{HEADER}\n{LIST}\n{LIST}\n").as_bytes()).unwrap_err();
        assert!(e.to_string().contains("line 3: a second exchange"), "{e}");
        let e = write(
            &out,
            format!("{HEADER}\n{{\"service\":\"ecs\"}}\n").as_bytes(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 2: not an exchange"), "{e}");
        let e = write(&out, "{}\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("line 1: not a header"), "{e}");
        assert!(!out.exists(), "nothing is left at the target");
    }
}
