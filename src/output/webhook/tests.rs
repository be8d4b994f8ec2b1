//! The webhook against a receiver on 127.0.0.1: retries, dead letters, quarantine, the
//! spool lock, credentials.

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

#[test]
fn an_event_carries_the_findings_owner_and_cost() {
    let finding = Finding {
        check: "EKS001".into(),
        name: "idle-eks-cluster".into(),
        severity: checks::Severity::Medium,
        account: "111122223333".into(),
        region: "us-east-1".into(),
        resource: "arn:aws:eks:us-east-1:111122223333:cluster/idle".into(),
        message: "idle".into(),
        remediation: "delete it".into(),
        evidence: Vec::new(),
        fingerprint: "f".repeat(32),
        change: None,
        cost: Some(checks::Cost {
            monthly_usd: 73.0,
            kind: checks::CostKind::Waste,
            basis: "1 EKS control plane × $0.10/h × 730 h".into(),
        }),
        owner: Some("platform".into()),
    };
    let event = Event {
        idempotency_key: format!("opened:{}", finding.fingerprint),
        event: "opened".into(),
        finding,
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["finding"]["owner"], "platform");
    assert_eq!(json["finding"]["cost"]["monthly_usd"], 73.0);
    assert_eq!(json["finding"]["cost"]["kind"], "waste");
    // A spooled batch reads back the same.
    let back: Event = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}
