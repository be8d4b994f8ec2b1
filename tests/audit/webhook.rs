//! `--webhook`: delivery to a receiver that fails, refuses and comes back, through the spool.

use std::path::Path;

use serde_json::Value;

use crate::support::{assert_config_error, audit, replay_json, stderr};

/// A webhook receiver on 127.0.0.1 that misbehaves on a script: one action per request
/// (`503`, `429`, `400`, `drop`, `slow`, `200`), then `200` for ever (or `500` with
/// `always_fail`).
/// It keeps every event key it received, like a receiver that dedupes by key.
struct Receiver {
    url: String,
    keys: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    fn start(script: &[&'static str], always_fail: bool) -> Receiver {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/hooks/awsaudit?token=s3cr3t",
            listener.local_addr().unwrap()
        );
        let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (k, n, script) = (keys.clone(), requests.clone(), script.to_vec());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let action =
                    script
                        .get(i)
                        .copied()
                        .unwrap_or(if always_fail { "500" } else { "200" });
                // Read the request: headers, then Content-Length bytes of body.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let body = loop {
                    let Ok(read) = s.read(&mut chunk) else {
                        break None;
                    };
                    if read == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..read]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break Some(buf[end + 4..end + 4 + len].to_vec());
                        }
                    }
                };
                let Some(body) = body else { continue };
                let reply = |s: &mut std::net::TcpStream, status: &str, extra: &str| {
                    let _ = write!(
                        s,
                        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n{extra}\r\n"
                    );
                };
                // A refusal that explains itself on two lines, the second one in red.
                let refuse = |s: &mut std::net::TcpStream| {
                    let text = "unknown field `events`\n\x1b[31merror: forged";
                    let _ = write!(
                        s,
                        "HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    );
                };
                let take = |k: &std::sync::Mutex<Vec<String>>| {
                    let batch: Value = serde_json::from_slice(&body).unwrap();
                    for e in batch["events"].as_array().unwrap() {
                        k.lock()
                            .unwrap()
                            .push(e["idempotency_key"].as_str().unwrap().to_string());
                    }
                };
                match action {
                    "503" => reply(&mut s, "503 Service Unavailable", ""),
                    "429" => reply(&mut s, "429 Too Many Requests", "retry-after: 0\r\n"),
                    "500" => reply(&mut s, "500 Internal Server Error", ""),
                    "400" => refuse(&mut s),
                    "drop" => drop(s),
                    "slow" => {
                        // Processed, but the answer comes after the sender gave up.
                        take(&k);
                        std::thread::sleep(std::time::Duration::from_millis(2500));
                        reply(&mut s, "200 OK", "");
                    }
                    _ => {
                        take(&k);
                        reply(&mut s, "200 OK", "");
                    }
                }
            }
        });
        Receiver {
            url,
            keys,
            requests,
        }
    }

    fn distinct_keys(&self) -> std::collections::BTreeSet<String> {
        self.keys.lock().unwrap().iter().cloned().collect()
    }
}

fn expected_keys() -> std::collections::BTreeSet<String> {
    replay_json("demo")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("opened:{}", f["fingerprint"].as_str().unwrap()))
        .collect()
}

#[test]
fn webhook_retries_faults_and_delivers_every_finding_once_by_key() {
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let r = Receiver::start(&["503", "drop", "429", "slow"], false);
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--format",
            "json",
            "--webhook",
            &r.url,
            "--webhook-spool",
            spool.path().to_str().unwrap(),
            "--webhook-timeout",
            "1",
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(r.distinct_keys(), expected_keys(), "every finding arrived");
    assert!(
        r.requests.load(std::sync::atomic::Ordering::SeqCst) >= 5,
        "it retried"
    );
    assert_eq!(
        spooled(spool.path()),
        0,
        "the spool is empty once delivered"
    );
}

#[test]
fn webhook_outage_keeps_the_batches_and_the_next_run_delivers_them() {
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let down = Receiver::start(&[], true);
    let args = |url: &str| {
        vec![
            "--replay".to_string(),
            "mocks/demo".into(),
            "--format".into(),
            "json".into(),
            "-o".into(),
            out.to_str().unwrap().into(),
            "--webhook".into(),
            url.into(),
            "--webhook-spool".into(),
            spool.path().to_str().unwrap().into(),
            "--webhook-attempts".into(),
            "2".into(),
        ]
    };
    let a = args(&down.url);
    let o = audit(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        home.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("answered 500 Internal Server Error (after 2 attempts)"),
        "{err}"
    );
    assert!(err.contains("undelivered batch(es) kept in"), "{err}");
    assert!(
        !err.contains("s3cr3t"),
        "the URL's token is never printed: {err}"
    );
    assert!(out.is_file(), "the report is written whatever the delivery");
    let kept = spooled(spool.path());
    assert!(kept >= 1);

    // The receiver is back: the spooled batches go first, then this run's.
    let up = Receiver::start(&[], false);
    let a = args(&up.url);
    let o = audit(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(up.distinct_keys(), expected_keys());
    assert_eq!(
        up.requests.load(std::sync::atomic::Ordering::SeqCst),
        2 * kept,
        "the earlier run's batches, then this run's"
    );
    assert_eq!(spooled(spool.path()), 0);

    for (url, needle) in [
        (
            "ftp://example.com/x",
            "--webhook: only http:// and https:// URLs are supported",
        ),
        ("not a url", "--webhook: not a URL"),
    ] {
        let o = audit(&["--replay", "mocks/demo", "--webhook", url], home.path());
        assert_config_error(&o, needle);
    }
    let file = spool.path().join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--webhook",
            &up.url,
            "--webhook-spool",
            file.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(
        &o,
        &format!("--webhook-spool {}: is not a directory", file.display()),
    );
}

/// The `*.json` files in a spool directory: the batches waiting there.
fn spooled(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".json")
        })
        .count()
}

#[test]
fn webhook_dead_letters_a_refused_batch_once_and_still_delivers_the_rest() {
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    // Left by earlier runs, so sent before this run's batches: a batch the receiver will
    // refuse, and a file that is no batch at all.
    let refused = "20000101T000000Z.000000000-1-00000-0123456789abcdef.json";
    std::fs::write(
        spool.path().join(refused),
        r#"{"batch_id":"0123456789abcdef","tool":"awsaudit 0.0.0","run_started_at":"2000-01-01T00:00:00Z","accounts":[],"events":[]}"#,
    )
    .unwrap();
    std::fs::write(spool.path().join("1999-garbage.json"), b"\0not json").unwrap();
    let r = Receiver::start(&["400"], false);
    let url = r.url.replacen("http://", "http://ops:pa55w0rd@", 1);
    let args = [
        "--replay",
        "mocks/demo",
        "--format",
        "json",
        "--webhook",
        &url,
        "--webhook-spool",
        spool.path().to_str().unwrap(),
    ];
    let o = audit(&args, home.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        !o.stdout.is_empty(),
        "the report is written whatever the delivery"
    );
    let dead = spool.path().join("dead-letter").join(refused);
    let quarantined = spool.path().join("quarantine/1999-garbage.json");
    let shown = r
        .url
        .split("/hooks")
        .next()
        .unwrap()
        .replacen("http://", "http://***@", 1);
    for line in [
        format!("error: webhook {shown}/…: the receiver refused batch {refused} for good: answered 400 Bad Request: \"unknown field `events`\\n\\u{{1b}}[31merror: forged\"; moved to {}", dead.display()),
        format!("error: webhook {shown}/…: spool file 1999-garbage.json is not a batch (expected value at line 1 column 1); moved to {}", quarantined.display()),
    ] {
        assert!(err.lines().any(|l| l == line), "expected {line} in:\n{err}");
    }
    for secret in ["pa55w0rd", "s3cr3t", "\x1b"] {
        assert!(!err.contains(secret), "{secret:?} in {err}");
    }
    assert!(dead.is_file() && quarantined.is_file());
    assert_eq!(
        r.distinct_keys(),
        expected_keys(),
        "this run's batches arrived"
    );
    assert_eq!(spooled(spool.path()), 0);

    // Reported once: the next run delivers its batches and exits 0.
    let o = audit(&args, home.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}
