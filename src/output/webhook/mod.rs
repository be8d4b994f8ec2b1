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

use checks::{Change, Finding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file;
use crate::error::AppError;
use crate::report::Report;
use crate::url_redact::redacted;

use post::{basic_auth, https_client, Sent};

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
        // A walk of spilled findings that failed ended early: sending what it read would
        // tell the receiver the rest were fixed.
        if let Some(why) = report.findings.failure() {
            return Err(why);
        }
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
            atomic_file::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            paths.push(path);
        }
        Ok(paths)
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
        .map(|f| event("opened", &f))
        .collect();
    if let Some(b) = &report.baseline {
        out.extend(b.resolved.iter().map(|f| event("resolved", f)));
    }
    out
}

mod post;
#[cfg(test)]
mod tests;
