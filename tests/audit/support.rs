//! What every test module shares: running the binary in a sealed environment, replaying a
//! recording, copying and editing scenarios, and the small files and endpoints tests set up.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The scenarios: every directory in mocks/, by name, sorted. Nothing lists them, so a new
/// scenario is one new directory; `every_directory_in_mocks_is_a_valid_scenario` says what
/// that directory must hold.
pub fn scenarios() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("mocks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "mocks/ holds no scenario");
    names
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary in a sealed environment: no AWS settings or credentials from the developer's
/// machine, no instance metadata lookups, an empty HOME.
pub fn audit(args: &[&str], home: &Path) -> Output {
    audit_env(args, home, &[])
}

/// [`audit`] with extra environment variables.
pub fn audit_env(args: &[&str], home: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_audit"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .current_dir(root())
        .args(args)
        .output()
        .expect("the audit binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean one-line error with exit code 2 and nothing on stdout.
pub fn assert_config_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout must stay empty on error");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

pub fn replay_json(scenario: &str) -> Value {
    replay_report(&root().join("mocks").join(scenario), &[], 0).0
}

/// Replays the recording in `dir` (with `extra` flags) as JSON, asserts the exit code, and
/// returns the report and stderr.
pub fn replay_report(dir: &Path, extra: &[&str], exit: i32) -> (Value, String) {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["--replay", dir.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = audit(&args, home.path());
    assert_eq!(
        o.status.code(),
        Some(exit),
        "replay of {} exited {:?}: {}",
        dir.display(),
        o.status.code(),
        stderr(&o)
    );
    let report = serde_json::from_slice(&o.stdout).expect("the JSON report parses");
    (report, stderr(&o))
}

/// A scratch copy of a recorded scenario, to edit.
pub fn scenario_copy(scenario: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mocks").join(scenario), copy.path());
    copy
}

/// The first recorded exchange file of `service:operation` in a recording.
pub fn recorded(dir: &Path, service: &str, operation: &str) -> PathBuf {
    let mut files = Vec::new();
    walk(&dir.join("exchanges").join(service), &mut files);
    files.sort();
    files
        .into_iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{operation}-"))
        })
        .unwrap_or_else(|| panic!("{} has no recorded {service}:{operation}", dir.display()))
}

/// Every `.json` file under `dir`.
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    walk_ext(dir, "json", out)
}

/// Every file under `dir` whose extension is `ext`.
pub fn walk_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk_ext(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

pub fn first_file(dir: &Path) -> PathBuf {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files.into_iter().next().expect("a file")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// A live run in us-east-1 with test credentials and one attempt a call, every call sent to
/// `endpoint`: given as `--endpoint-url`, or with `from_env` as AWS_ENDPOINT_URL.
pub fn audit_at_endpoint(endpoint: &str, from_env: bool, extra: &[&str], home: &Path) -> Output {
    let mut args = vec!["--region", "us-east-1", "--max-attempts", "1"];
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    if from_env {
        env.push(("AWS_ENDPOINT_URL", endpoint));
    } else {
        args.extend(["--endpoint-url", endpoint]);
    }
    args.extend_from_slice(extra);
    audit_env(&args, home, &env)
}

/// An endpoint that takes connections and never answers: bound, never accepted.
pub fn silent_endpoint() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    (l, url)
}

/// A simulation file in a temporary directory.
pub fn sim_file(dir: &Path, text: &str) -> String {
    let path = dir.join("sim.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// "Never a false PASS": every finding of the fault-free run is either reported again or
/// its check says, for that account and region, that it could not decide.
pub fn assert_nothing_silently_dropped(clean: &Value, faulted: &Value) {
    let reported: std::collections::BTreeSet<&str> = faulted["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    for f in clean["findings"].as_array().unwrap() {
        if reported.contains(f["fingerprint"].as_str().unwrap()) {
            continue;
        }
        // A finding on a global resource (an IAM role) may rest on any region's data.
        let flagged = faulted["unknowns"].as_array().unwrap().iter().any(|u| {
            u["check"] == f["check"]
                && u["account"] == f["account"]
                && (u["region"] == f["region"]
                    || u["region"] == "global"
                    || f["region"] == "global")
        });
        assert!(
            flagged,
            "{} on {} vanished without an unknown: a silent pass",
            f["check"], f["resource"]
        );
    }
    // And nothing is invented.
    let clean_prints: std::collections::BTreeSet<&str> = clean["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert!(reported.is_subset(&clean_prints));
}
