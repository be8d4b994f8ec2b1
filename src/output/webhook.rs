//! `--webhook URL`: deliver what a ticketing system needs — findings to open, findings to
//! close — as JSON batches, and lose none of them.
//!
//! Every batch is written to a spool directory before it is sent and removed only after a
//! 2xx answer, so a crash, a network failure or a receiver outage leaves it on disk; the
//! next run sends the spool first, oldest batch first. Each event carries an idempotency
//! key derived from the finding's fingerprint (and each batch one from its events), so a
//! receiver that dedupes by key sees every finding exactly once even when a slow answer
//! makes the sender retry a batch the receiver already took.
//!
//! Retries: connection failures, timeouts, 408, 429 (honouring `Retry-After`) and 5xx,
//! with exponential backoff. After the last attempt the delivery stops, the run ends with
//! [`crate::error::Exit::Delivery`] and the undelivered batches stay spooled.
//!
//! No batch blocks the others: one the receiver refuses for good (a 4xx other than 401,
//! 407, 408 and 429) moves to `<spool>/dead-letter/`, a spool file that is not a batch to
//! `<spool>/quarantine/`; each is reported once, in the run that moved it (which exits
//! with [`crate::error::Exit::Delivery`]), and the later batches are still sent.
//!
//! Runs sharing a spool (shards on one host) take turns: the one sending holds an
//! exclusive lock on `<spool>/.lock`, so no batch is sent twice, nor moved while another
//! run sends it. A run that finds the lock held waits for it, up to [`LOCK_WAIT`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use checks::{Change, Finding};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::report::Report;
use crate::url_redact::redacted;

/// Events per POST.
const BATCH: usize = 100;

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The URL without its userinfo: credentials go in `authorization`, not the request line.
    url: hyper::Uri,
    /// `Basic base64(user:password)` from the URL's userinfo (marked sensitive: no Debug).
    authorization: Option<hyper::header::HeaderValue>,
    /// `scheme://[***@]host[:port]/…`: the URL without path or query, which may hold a
    /// token, nor userinfo.
    shown: String,
    spool: PathBuf,
    attempts: u32,
    timeout: Duration,
    backoff: Duration,
    lock_wait: Duration,
}

/// One thing to tell the ticketing system.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// `opened:<fingerprint>` or `resolved:<fingerprint>`: dedupe on it.
    pub idempotency_key: String,
    /// `opened` (a new finding: open a ticket) or `resolved` (close it).
    pub event: String,
    pub finding: Finding,
}

/// One POST body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    /// Hash of the batch's event keys (also sent as the `Idempotency-Key` header).
    pub batch_id: String,
    pub tool: String,
    /// When the run that produced the batch started.
    pub run_started_at: String,
    pub accounts: Vec<String>,
    pub events: Vec<Event>,
}

/// Spool subfolders for batches the receiver refused for good, and for files that are not
/// readable batches: out of the way of the others, kept for a person to look at.
const DEAD_LETTER: &str = "dead-letter";
const QUARANTINE: &str = "quarantine";

/// The spool's lock file (see the module's documentation).
const LOCK_FILE: &str = ".lock";

/// How long a run waits for another to finish sending from the same spool. Long enough for
/// a run with the default settings to try a batch through an outage (5 attempts of 10 s
/// with backoff, under a minute) a few times over; past it, this run's batches stay
/// spooled for the next run (exit 4), rather than a scheduled job hanging.
pub const LOCK_WAIT: Duration = Duration::from_secs(300);

/// At most this much of a receiver's refusal is read, and this many characters of it shown.
const ANSWER_BYTES: usize = 4096;
const ANSWER_CHARS: usize = 200;

/// What a delivery did.
#[derive(Debug, Default)]
pub struct Delivered {
    pub batches: usize,
    pub events: usize,
    /// Of those, batches left over from earlier runs.
    pub from_earlier_runs: usize,
    /// Spool files moved out of the way this run: batches the receiver refused for good,
    /// files that are not batches.
    pub set_aside: Vec<SetAside>,
    /// Why the delivery stopped before the end of the spool, if it did.
    pub stopped: Option<DeliveryError>,
}

impl Delivered {
    /// Whether the run must end with [`crate::error::Exit::Delivery`]. A file set aside
    /// counts in the run that set it aside only: later runs no longer see it.
    pub fn failed(&self) -> bool {
        !self.set_aside.is_empty() || self.stopped.is_some()
    }

    /// One line for each problem, to print as errors.
    pub fn problems(&self) -> Vec<String> {
        self.set_aside
            .iter()
            .map(|s| s.message.clone())
            .chain(self.stopped.iter().map(ToString::to_string))
            .collect()
    }
}

/// A spool file moved out of the way (or that could not be).
#[derive(Debug, Clone)]
pub struct SetAside {
    /// Where it was in the spool.
    pub file: PathBuf,
    /// Where it is now; `None` when it could not be moved (it is tried again next run).
    pub moved_to: Option<PathBuf>,
    /// What happened, naming the file, the receiver's status and answer.
    pub message: String,
}

/// Why a delivery stopped.
#[derive(Debug, thiserror::Error)]
#[error("webhook {url}: {cause}; {pending} undelivered batch(es) kept in {spool} for the next run")]
pub struct DeliveryError {
    pub url: String,
    pub cause: String,
    pub pending: usize,
    pub spool: String,
}

impl Webhook {
    /// Checks the URL and the spool directory, before any AWS call. The spool defaults to
    /// `$XDG_STATE_HOME/awsaudit/webhook/<hash of the URL without its credentials>` (or
    /// `~/.local/state/…`).
    pub fn new(
        url: &str,
        spool: Option<&Path>,
        attempts: u32,
        timeout: Duration,
    ) -> Result<Self, AppError> {
        let bad = |why: &str| AppError::Config(format!("--webhook: {why}"));
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| bad("not a URL (give http://… or https://…)"))?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "http" && scheme != "https" {
            return Err(bad("only http:// and https:// URLs are supported"));
        }
        let Some(authority) = uri.authority().map(|a| a.as_str().to_string()) else {
            return Err(bad("the URL has no host"));
        };
        let shown = format!("{}/…", redacted(&format!("{scheme}://{authority}")));
        let (uri, authorization, key) = match authority.rsplit_once('@') {
            None => (uri, None, url.to_string()),
            Some((userinfo, host)) => {
                let mut parts = uri.into_parts();
                parts.authority = Some(
                    host.parse()
                        .map_err(|_| bad("the URL has no valid host after its userinfo"))?,
                );
                let uri = hyper::Uri::from_parts(parts)
                    .map_err(|_| bad("the URL has no valid host after its userinfo"))?;
                // The spool is named after the URL without its credentials, so a new password
                // finds the batches the old one left.
                let key = url.replacen(&format!("{userinfo}@"), "", 1);
                (uri, Some(basic_auth(userinfo)), key)
            }
        };
        let spool = match spool {
            Some(p) => p.to_path_buf(),
            None => {
                let state = std::env::var_os("XDG_STATE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state"))
                    })
                    .ok_or_else(|| {
                        bad("no HOME to keep the delivery spool in; give --webhook-spool DIR")
                    })?;
                let hash: String = Sha256::digest(key.as_bytes())[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                state.join("awsaudit").join("webhook").join(hash)
            }
        };
        if spool.exists() && !spool.is_dir() {
            return Err(AppError::Config(format!(
                "--webhook-spool {}: is not a directory",
                spool.display()
            )));
        }
        std::fs::create_dir_all(&spool)
            .map_err(|e| AppError::Config(format!("--webhook-spool {}: {e}", spool.display())))?;
        tempfile::NamedTempFile::new_in(&spool).map_err(|e| {
            AppError::Config(format!(
                "--webhook-spool {}: cannot write: {e}",
                spool.display()
            ))
        })?;
        Ok(Webhook {
            url: uri,
            authorization,
            shown,
            spool,
            attempts: attempts.max(1),
            timeout,
            backoff: Duration::from_millis(250),
            lock_wait: LOCK_WAIT,
        })
    }

    pub fn spool(&self) -> &Path {
        &self.spool
    }

    /// Spools this run's events, then sends every spooled batch, oldest first.
    pub async fn deliver(&self, report: &Report) -> Delivered {
        match self.spool_events(report) {
            Ok(mine) => self.send_spool(&mine).await,
            Err(cause) => Delivered {
                stopped: Some(self.error(cause)),
                ..Delivered::default()
            },
        }
    }

    /// Sends every spooled batch, oldest first; `mine` are this run's.
    async fn send_spool(&self, mine: &[PathBuf]) -> Delivered {
        let mut done = Delivered::default();
        // Held to the end: the listing, the sending and the moves are this run's alone.
        let _lock = match self.lock().await {
            Ok(lock) => lock,
            Err(cause) => {
                done.stopped = Some(self.error(cause));
                return done;
            }
        };
        let (pending, client) = match self.pending().and_then(|p| Ok((p, https_client()?))) {
            Ok(ready) => ready,
            Err(cause) => {
                done.stopped = Some(self.error(cause));
                return done;
            }
        };
        for path in &pending {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let (body, batch) = match read_batch(path) {
                Ok(Some(read)) => read,
                // Gone since the listing: nothing to send.
                Ok(None) => continue,
                Err(why) => {
                    let what = format!("spool file {name} {why}");
                    done.set_aside.push(self.set_aside(path, QUARANTINE, what));
                    continue;
                }
            };
            match self.post(&client, &batch.batch_id, body).await {
                Sent::Taken => {}
                Sent::Refused(answer) => {
                    let what = format!("the receiver refused batch {name} for good: {answer}");
                    done.set_aside.push(self.set_aside(path, DEAD_LETTER, what));
                    continue;
                }
                // The receiver is down or refuses every batch: each later one would fail
                // the same way after its own retries, for minutes, adding load to a
                // receiver that is struggling. They stay spooled, in order, for the next run.
                Sent::NotNow(cause) => {
                    done.stopped = Some(self.error(cause));
                    break;
                }
            }
            if let Err(e) = std::fs::remove_file(path) {
                done.stopped = Some(self.error(format!(
                    "delivered {name}, but cannot remove it from the spool (it will be sent again): {e}"
                )));
                break;
            }
            done.batches += 1;
            done.events += batch.events.len();
            if !mine.contains(path) {
                done.from_earlier_runs += 1;
            }
        }
        done
    }

    /// Takes the spool's lock, waiting up to `lock_wait` for a run that holds it.
    async fn lock(&self) -> Result<SpoolLock, String> {
        let path = self.spool.join(LOCK_FILE);
        let since = std::time::Instant::now();
        let mut told = false;
        loop {
            match SpoolLock::try_take(&path) {
                Ok(Some(lock)) => return Ok(lock),
                Ok(None) if since.elapsed() >= self.lock_wait => {
                    return Err(format!(
                        "another run was still sending from this spool after {} s",
                        self.lock_wait.as_secs_f32()
                    ))
                }
                Ok(None) => {
                    if !told {
                        tracing::warn!(
                            "webhook {}: another run is sending from the spool {}; waiting up to {} s for it",
                            self.shown,
                            self.spool.display(),
                            self.lock_wait.as_secs_f32()
                        );
                        told = true;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
        }
    }

    /// Moves a spool file into `<spool>/<folder>/`, and says what happened to it.
    fn set_aside(&self, path: &Path, folder: &str, what: String) -> SetAside {
        let dir = self.spool.join(folder);
        let to = dir.join(path.file_name().unwrap_or_default());
        let moved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::rename(path, &to));
        let message = match &moved {
            Ok(()) => format!("webhook {}: {what}; moved to {}", self.shown, to.display()),
            Err(e) => format!(
                "webhook {}: {what}; it stays in the spool, as it cannot be moved to {}: {e}",
                self.shown,
                dir.display()
            ),
        };
        SetAside {
            file: path.to_path_buf(),
            moved_to: moved.ok().map(|()| to),
            message,
        }
    }

    /// Why the delivery stops, with the number of batches left in the spool.
    fn error(&self, cause: String) -> DeliveryError {
        DeliveryError {
            url: self.shown.clone(),
            cause,
            pending: self.pending().map_or(0, |p| p.len()),
            spool: self.spool.display().to_string(),
        }
    }

    /// Spooled batch files, oldest first (their names start with a sortable time).
    fn pending(&self) -> Result<Vec<PathBuf>, String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.spool)
            .map_err(|e| format!("cannot read the spool {}: {e}", self.spool.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Writes this run's events as batch files (atomically, before any is sent), and
    /// returns their paths.
    fn spool_events(&self, report: &Report) -> Result<Vec<PathBuf>, String> {
        let events = events(report);
        // Sortable by run start, and unique per process: two runs in one second each keep
        // their batches (the receiver dedupes by key).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let stamp = format!(
            "{}.{nanos:09}-{}",
            report.run.started_at.replace([':', '-'], ""),
            std::process::id()
        );
        let mut paths = Vec::new();
        for (n, chunk) in events.chunks(BATCH).enumerate() {
            let mut h = Sha256::new();
            for e in chunk {
                h.update(e.idempotency_key.as_bytes());
                h.update([0]);
            }
            let batch_id: String = h.finalize()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let batch = Batch {
                batch_id: batch_id.clone(),
                tool: format!("awsaudit {}", report.tool.version),
                run_started_at: report.run.started_at.clone(),
                accounts: report.accounts.clone(),
                events: chunk.to_vec(),
            };
            let path = self.spool.join(format!("{stamp}-{n:05}-{batch_id}.json"));
            let bytes = serde_json::to_vec(&batch).expect("a batch serialises");
            crate::atomic_file::write(&path, &bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// POSTs one batch, retrying what is worth retrying.
    async fn post(&self, client: &HttpsClient, batch_id: &str, body: Vec<u8>) -> Sent {
        let body = Bytes::from(body);
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            let mut request = hyper::Request::post(self.url.clone())
                .header("content-type", "application/json")
                .header(
                    "user-agent",
                    concat!("awsaudit/", env!("CARGO_PKG_VERSION")),
                )
                .header("idempotency-key", batch_id);
            if let Some(auth) = &self.authorization {
                request = request.header(hyper::header::AUTHORIZATION, auth.clone());
            }
            let request = request
                .body(Full::new(body.clone()))
                .expect("a POST with static headers is valid");
            let outcome = tokio::time::timeout(self.timeout, async {
                let response = client.request(request).await?;
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let body = response.into_body();
                let text = if status.is_success() {
                    // Read the answer to the end so the connection can be reused.
                    let _ = body.collect().await;
                    Vec::new()
                } else {
                    head(body).await
                };
                Ok::<_, hyper_util::client::legacy::Error>(Answer {
                    status,
                    retry_after,
                    text,
                })
            })
            .await;
            let wait = match outcome {
                Ok(Ok(answer)) if answer.status.is_success() => return Sent::Taken,
                Ok(Ok(answer))
                    if answer.status.is_server_error()
                        || answer.status == hyper::StatusCode::TOO_MANY_REQUESTS
                        || answer.status == hyper::StatusCode::REQUEST_TIMEOUT =>
                {
                    last = answer.to_string();
                    answer.retry_after.map(|s| Duration::from_secs(s.min(30)))
                }
                // 401 and 407 say the credentials are wrong, not the batch: no batch can be
                // judged until they are fixed, and dead-lettering them all would leave every
                // one to be moved back by hand.
                Ok(Ok(answer))
                    if answer.status.is_client_error()
                        && !matches!(answer.status.as_u16(), 401 | 407) =>
                {
                    return Sent::Refused(answer.to_string())
                }
                // A redirect (not followed), 401 or 407: the URL or its credentials are wrong.
                Ok(Ok(answer)) => {
                    return Sent::NotNow(format!(
                        "{answer}, which retrying will not fix: check the URL and its credentials"
                    ))
                }
                Ok(Err(e)) => {
                    last = crate::error::error_chain(&e);
                    None
                }
                Err(_) => {
                    last = format!("no answer within {} s", self.timeout.as_secs_f32());
                    None
                }
            };
            if attempt < self.attempts {
                let backoff = self.backoff * 2u32.pow(attempt - 1);
                tokio::time::sleep(wait.unwrap_or(backoff).min(Duration::from_secs(30))).await;
            }
        }
        Sent::NotNow(format!("{last} (after {} attempts)", self.attempts))
    }
}

/// An exclusive lock on a file, released when dropped, or when the process ends however it
/// ends: a crashed run never leaves the spool locked.
struct SpoolLock {
    _file: std::fs::File,
}

impl SpoolLock {
    /// Takes the lock on `path` (created if need be), or `None` when another process, or
    /// another `SpoolLock` in this one, holds it.
    fn try_take(path: &Path) -> std::io::Result<Option<SpoolLock>> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // The same std lock the recorder's staging directories use (flock on unix).
        match file.try_lock() {
            Ok(()) => Ok(Some(SpoolLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// How one batch's POST ended.
enum Sent {
    Taken,
    /// Refused for good: this batch will never be taken (the receiver's answer).
    Refused(String),
    /// Not taken, for a reason that is not this batch's: the receiver is down, or refuses
    /// every batch.
    NotNow(String),
}

/// A receiver's answer: its status, `Retry-After` and, when it refused, the start of its text.
struct Answer {
    status: hyper::StatusCode,
    retry_after: Option<u64>,
    text: Vec<u8>,
}

/// `answered 400 Bad Request: "field `x` is required"`: the text cut short, and quoted with
/// its control characters escaped, so that a receiver's answer cannot forge a line of
/// output or drive the terminal.
impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "answered {}", self.status)?;
        let text = String::from_utf8_lossy(&self.text);
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        let shown: String = text.chars().take(ANSWER_CHARS).collect();
        write!(f, ": {shown:?}")?;
        if shown.len() < text.len() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// The first [`ANSWER_BYTES`] of a body; the rest is not waited for.
async fn head(mut body: hyper::body::Incoming) -> Vec<u8> {
    let mut text = Vec::new();
    while text.len() < ANSWER_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    text.extend_from_slice(&data[..data.len().min(ANSWER_BYTES - text.len())]);
                }
            }
            _ => break,
        }
    }
    text
}

/// A spool file's bytes and batch; `None` when it is gone; why not when it is no batch.
fn read_batch(path: &Path) -> Result<Option<(Vec<u8>, Batch)>, String> {
    let body = match std::fs::read(path) {
        Ok(body) => body,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read ({e})")),
    };
    let batch = serde_json::from_slice(&body).map_err(|e| format!("is not a batch ({e})"))?;
    Ok(Some((body, batch)))
}

/// `Authorization: Basic …` for a URL's `user:password` (each percent-decoded, as a browser
/// or curl does; the password may be absent).
fn basic_auth(userinfo: &str) -> hyper::header::HeaderValue {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let mut credentials: Vec<u8> = percent_decode_str(user).collect();
    credentials.push(b':');
    credentials.extend(percent_decode_str(password));
    let mut value = hyper::header::HeaderValue::try_from(format!(
        "Basic {}",
        aws_smithy_types::base64::encode(&credentials)
    ))
    .expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}

type HttpsClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

fn https_client() -> Result<HttpsClient, String> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// What to send: with a baseline, the new findings (open) and the resolved ones (close);
/// without one, every finding (open; receivers dedupe by key).
pub fn events(report: &Report) -> Vec<Event> {
    let event = |kind: &str, f: &Finding| Event {
        idempotency_key: format!("{kind}:{}", f.fingerprint),
        event: kind.to_string(),
        finding: f.clone(),
    };
    let mut out: Vec<Event> = report
        .findings
        .iter()
        .filter(|f| f.change != Some(Change::Unchanged))
        .map(|f| event("opened", f))
        .collect();
    if let Some(b) = &report.baseline {
        out.extend(b.resolved.iter().map(|f| event("resolved", f)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Read, Write};
    use std::sync::{Arc, Mutex};

    /// One request a [`Receiver`] got.
    #[derive(Debug, Clone)]
    struct Got {
        batch_id: String,
        authorization: Option<String>,
        host: Option<String>,
    }

    /// A webhook receiver on 127.0.0.1: each POST is answered with the status and body that
    /// `answer` gives for its batch id, on a thread of its own (so that two senders overlap).
    struct Receiver {
        addr: std::net::SocketAddr,
        got: Arc<Mutex<Vec<Got>>>,
    }

    impl Receiver {
        fn start(answer: fn(&str) -> (u16, String)) -> Receiver {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let got = Arc::new(Mutex::new(Vec::new()));
            let log = got.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let log = log.clone();
                    std::thread::spawn(move || {
                        let mut reader = std::io::BufReader::new(&stream);
                        let mut headers = Vec::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                                break;
                            }
                            headers.push(line.trim_end().to_string());
                        }
                        let header = |name: &str| {
                            headers.iter().find_map(|h| {
                                let (k, v) = h.split_once(':')?;
                                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                            })
                        };
                        let len = header("content-length").map_or(0, |v| v.parse().unwrap());
                        let mut body = vec![0; len];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let batch: Batch = serde_json::from_slice(&body).unwrap();
                        log.lock().unwrap().push(Got {
                            batch_id: batch.batch_id.clone(),
                            authorization: header("authorization"),
                            host: header("host"),
                        });
                        // Long enough for a second sender to be at work meanwhile.
                        std::thread::sleep(Duration::from_millis(20));
                        let (status, text) = answer(&batch.batch_id);
                        let _ = write!(
                            &stream,
                            "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                            hyper::StatusCode::from_u16(status)
                                .unwrap()
                                .canonical_reason()
                                .unwrap_or(""),
                            text.len()
                        );
                    });
                }
            });
            Receiver { addr, got }
        }

        fn url(&self) -> String {
            format!("http://{}/hooks/awsaudit?token=s3cr3t", self.addr)
        }

        /// The line a delivery to this receiver that stopped for `cause` prints.
        fn stop_line(&self, cause: &str, kept: usize, spool: &Path) -> String {
            format!(
                "webhook http://{}/…: {cause}; {kept} undelivered batch(es) kept in {} for the next run",
                self.addr,
                spool.display()
            )
        }

        fn batch_ids(&self) -> Vec<String> {
            self.got
                .lock()
                .unwrap()
                .iter()
                .map(|g| g.batch_id.clone())
                .collect()
        }
    }

    /// A webhook to `url` with a spool of `spool`, quick to give up.
    fn hook(url: &str, spool: &Path) -> Webhook {
        let mut hook = Webhook::new(url, Some(spool), 2, Duration::from_secs(5)).unwrap();
        hook.backoff = Duration::from_millis(1);
        hook
    }

    /// Writes a batch file into `spool` as an earlier run would have.
    fn spool_batch(spool: &Path, name: &str) -> PathBuf {
        let batch = Batch {
            batch_id: name.to_string(),
            tool: "awsaudit test".into(),
            run_started_at: "2026-01-01T00:00:00Z".into(),
            accounts: vec!["123456789012".into()],
            events: Vec::new(),
        };
        let path = spool.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(&batch).unwrap()).unwrap();
        path
    }

    /// The batch files waiting in `dir`, by name.
    fn json_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_batch_refused_for_good_is_dead_lettered_and_the_later_ones_still_go() {
        let r = Receiver::start(|id| match id {
            "b2" => (
                400,
                format!(
                    "field `x` is required\n\x1b[31merror: forged line\u{202e}{}",
                    "y".repeat(5000)
                ),
            ),
            _ => (200, String::new()),
        });
        let spool = tempfile::tempdir().unwrap();
        let hook = hook(&r.url(), spool.path());
        for b in ["b1", "b2", "b3"] {
            spool_batch(spool.path(), b);
        }
        let d = hook.send_spool(&[]).await;
        assert_eq!(r.batch_ids(), ["b1", "b2", "b3"], "oldest first, b2 once");
        assert_eq!((d.batches, d.from_earlier_runs), (2, 2));
        assert!(d.stopped.is_none(), "{:?}", d.stopped);
        assert!(d.failed(), "the run exits 4");
        let problems = d.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let line = &problems[0];
        let dead = spool.path().join(DEAD_LETTER).join("b2.json");
        assert!(
            line.starts_with(&format!(
                "webhook http://{}/…: the receiver refused batch b2.json for good: answered 400 Bad Request: \"field `x` is required\\n\\u{{1b}}[31merror: forged line\\u{{202e}}yyy",
                r.addr
            )),
            "{line}"
        );
        assert!(
            line.ends_with(&format!("…; moved to {}", dead.display())),
            "{line}"
        );
        assert!(line.len() < 400, "the answer is cut short: {line}");
        assert!(!line.contains(['\n', '\x1b', '\u{202e}']), "{line}");
        assert!(!line.contains("s3cr3t"), "{line}");
        assert_eq!(d.set_aside[0].moved_to.as_deref(), Some(dead.as_path()));
        assert!(dead.is_file());
        assert!(json_files(spool.path()).is_empty());

        // Reported once: the next run has nothing to say.
        let again = hook.send_spool(&[]).await;
        assert!(!again.failed(), "{:?}", again.problems());
        assert_eq!(r.batch_ids().len(), 3);
    }

    #[tokio::test]
    async fn an_unreadable_spool_file_is_quarantined_and_the_later_batches_still_go() {
        let r = Receiver::start(|_| (200, String::new()));
        let spool = tempfile::tempdir().unwrap();
        let hook = hook(&r.url(), spool.path());
        std::fs::write(spool.path().join("a-garbage.json"), b"{\"batch_id\": tru").unwrap();
        spool_batch(spool.path(), "b1");
        let d = hook.send_spool(&[]).await;
        assert_eq!(r.batch_ids(), ["b1"]);
        assert_eq!(d.batches, 1);
        assert!(d.failed());
        let quarantined = spool.path().join(QUARANTINE).join("a-garbage.json");
        assert_eq!(
            d.problems(),
            [format!(
                "webhook http://{}/…: spool file a-garbage.json is not a batch (EOF while parsing a value at line 1 column 16); moved to {}",
                r.addr,
                quarantined.display()
            )]
        );
        assert!(quarantined.is_file());
        assert!(json_files(spool.path()).is_empty());
        assert!(!hook.send_spool(&[]).await.failed(), "reported once");
    }

    #[tokio::test]
    async fn a_receiver_outage_stops_the_delivery_and_keeps_every_batch() {
        let r = Receiver::start(|_| (503, "down for maintenance".into()));
        let spool = tempfile::tempdir().unwrap();
        let hook = hook(&r.url(), spool.path());
        for b in ["b1", "b2", "b3"] {
            spool_batch(spool.path(), b);
        }
        let d = hook.send_spool(&[]).await;
        // Two attempts at the oldest batch, none at the others.
        assert_eq!(r.batch_ids(), ["b1", "b1"]);
        assert!(d.set_aside.is_empty());
        assert_eq!(
            d.stopped.map(|e| e.to_string()),
            Some(r.stop_line(
                "answered 503 Service Unavailable: \"down for maintenance\" (after 2 attempts)",
                3,
                spool.path()
            ))
        );
        assert_eq!(json_files(spool.path()), ["b1.json", "b2.json", "b3.json"]);
    }

    #[tokio::test]
    async fn a_credentials_refusal_keeps_every_batch_spooled() {
        let r = Receiver::start(|_| (401, "bad token".into()));
        let spool = tempfile::tempdir().unwrap();
        let hook = hook(&r.url(), spool.path());
        for b in ["b1", "b2"] {
            spool_batch(spool.path(), b);
        }
        let d = hook.send_spool(&[]).await;
        assert_eq!(
            r.batch_ids(),
            ["b1"],
            "not retried, and no other batch tried"
        );
        assert!(d.set_aside.is_empty(), "nothing dead-lettered");
        assert_eq!(
            d.stopped.map(|e| e.to_string()),
            Some(r.stop_line(
                "answered 401 Unauthorized: \"bad token\", which retrying will not fix: check the URL and its credentials",
                2,
                spool.path()
            ))
        );
        assert_eq!(json_files(spool.path()), ["b1.json", "b2.json"]);
        assert!(!spool.path().join(DEAD_LETTER).exists());
    }

    #[tokio::test]
    async fn two_runs_sharing_a_spool_send_each_batch_once() {
        let r = Receiver::start(|_| (200, String::new()));
        let spool = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..8).map(|i| format!("b{i}")).collect();
        for n in &names {
            spool_batch(spool.path(), n);
        }
        let (a, b) = (hook(&r.url(), spool.path()), hook(&r.url(), spool.path()));
        // Polled together: while one waits for the receiver, the other tries to send.
        let (da, db) = tokio::join!(a.send_spool(&[]), b.send_spool(&[]));
        let mut got = r.batch_ids();
        got.sort();
        assert_eq!(got, names, "each batch sent once");
        assert_eq!(da.batches + db.batches, names.len());
        assert!(
            !da.failed() && !db.failed(),
            "{:?} {:?}",
            da.problems(),
            db.problems()
        );
        assert!(json_files(spool.path()).is_empty());
    }

    #[tokio::test]
    async fn a_run_kept_waiting_for_the_spool_lock_leaves_its_batches_spooled() {
        let r = Receiver::start(|_| (200, String::new()));
        let spool = tempfile::tempdir().unwrap();
        spool_batch(spool.path(), "b1");
        let held = SpoolLock::try_take(&spool.path().join(LOCK_FILE))
            .unwrap()
            .expect("the lock is free");
        let mut hook = hook(&r.url(), spool.path());
        hook.lock_wait = Duration::from_millis(300);
        let d = hook.send_spool(&[]).await;
        assert!(r.batch_ids().is_empty());
        assert_eq!(
            d.stopped.map(|e| e.to_string()),
            Some(r.stop_line(
                "another run was still sending from this spool after 0.3 s",
                1,
                spool.path()
            ))
        );
        assert_eq!(json_files(spool.path()), ["b1.json"]);
        drop(held);
        assert_eq!(
            hook.send_spool(&[]).await.batches,
            1,
            "sent once the lock is free"
        );
    }

    #[tokio::test]
    async fn url_credentials_become_basic_auth_and_are_never_shown() {
        let r = Receiver::start(|_| (500, String::new()));
        let spool = tempfile::tempdir().unwrap();
        // A user and a password holding characters a URL must percent-encode.
        let url = format!("http://hook%40ops:pa%3As5w0rd@{}/hooks/awsaudit", r.addr);
        let hook = hook(&url, spool.path());
        spool_batch(spool.path(), "b1");
        let err = hook.send_spool(&[]).await.problems().join("\n");
        assert_eq!(r.batch_ids(), ["b1", "b1"], "both attempts arrived");
        let got = r.got.lock().unwrap().clone();
        for g in &got {
            assert_eq!(
                g.authorization.as_deref(),
                Some(
                    format!(
                        "Basic {}",
                        aws_smithy_types::base64::encode("hook@ops:pa:s5w0rd")
                    )
                    .as_str()
                ),
            );
            assert_eq!(g.host.as_deref(), Some(r.addr.to_string().as_str()));
        }
        assert!(
            err.starts_with(&format!("webhook http://***@{}/…: answered 500", r.addr)),
            "{err}"
        );
        for secret in ["pa%3As5w0rd", "s5w0rd", "hook%40ops"] {
            assert!(!err.contains(secret), "{err}");
            assert!(!format!("{hook:?}").contains(secret), "{hook:?}");
        }
    }
}
