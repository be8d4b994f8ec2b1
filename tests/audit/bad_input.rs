//! Bad flags, recordings, regions, credentials and endpoints: each a clear one-line error
//! (exit 2) that names what is wrong and never prints a secret.

use crate::support::{
    assert_config_error, audit, audit_at_endpoint, audit_env, copy_dir, first_file, root, stderr,
};

#[test]
fn bad_flags_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--no-such-flag"], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-such-flag"));
    let o = audit(&["--replay", "mocks/demo", "--format", "yaml"], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("yaml"));
    let o = audit(&["--replay", "mocks/demo", "--record", "x"], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"));
    let o = audit(
        &["--replay", "mocks/demo", "--concurrency", "0"],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_or_corrupt_recordings_are_named() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--replay", "/nonexistent/recording"], home.path());
    assert_config_error(&o, "/nonexistent/recording: no such recording directory");

    let o = audit(&["--replay", "src"], home.path());
    assert_config_error(&o, "not a recording (no manifest.json");

    let o = audit(&["--replay", "mocks/demo/manifest.json"], home.path());
    assert_config_error(&o, "is a file; give the recording's directory");

    // A corrupt exchange file is named with what is wrong in it.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mocks/ecs001"), copy.path());
    let victim = first_file(&copy.path().join("exchanges"));
    std::fs::write(&victim, "{ not json").unwrap();
    let o = audit(&["--replay", copy.path().to_str().unwrap()], home.path());
    assert_config_error(&o, &victim.file_name().unwrap().to_string_lossy());
    assert!(stderr(&o).contains("invalid recording file"));

    // A wrong format version.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mocks/ecs001"), copy.path());
    let manifest = copy.path().join("manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 99");
    std::fs::write(&manifest, text).unwrap();
    let o = audit(&["--replay", copy.path().to_str().unwrap()], home.path());
    assert_config_error(&o, "version 99");
}

#[test]
fn replay_ignores_the_environment_s_aws_settings() {
    // A developer's shell usually exports these; a replay needs none of them.
    let home = tempfile::tempdir().unwrap();
    let o = audit_env(
        &["--replay", "mocks/ecs001"],
        home.path(),
        &[
            ("AWS_PROFILE", "prod"),
            ("AWS_REGION", "ap-south-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // An explicit --profile with --replay is a contradiction, and says so.
    let o = audit(
        &["--replay", "mocks/ecs001", "--profile", "prod"],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"));
}

#[test]
fn replay_rejects_regions_it_did_not_record() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(
        &["--replay", "mocks/demo", "--region", "ap-south-1"],
        home.path(),
    );
    assert_config_error(&o, "region `ap-south-1` is not in the recording");
    let o = audit(&["--replay", "mocks/demo", "--region", "mars"], home.path());
    assert_config_error(&o, "invalid region `mars`");
}

#[test]
fn credentials_problems_say_how_to_fix_them() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--region", "us-east-1"], home.path());
    assert_config_error(&o, "no AWS credentials found");
    assert!(
        stderr(&o).contains("--replay mocks/demo"),
        "points at the demo"
    );

    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nregion = eu-west-1\n",
    )
    .unwrap();
    let o = audit(&["--profile", "prod", "--region", "us-east-1"], home.path());
    assert_config_error(&o, "profile `prod` does not exist");
    assert!(stderr(&o).contains("defined profiles: dev"));
    // The same through AWS_PROFILE.
    let o = audit_env(
        &["--region", "us-east-1"],
        home.path(),
        &[("AWS_PROFILE", "prod")],
    );
    assert_config_error(&o, "profile `prod` does not exist");
}

/// An instance metadata service on 127.0.0.1 that refuses every request with 403, as on a
/// host where IMDS is turned off; it counts what it was asked. It serves a few requests
/// and stops, so it never outlives the test's need.
fn forbidding_imds() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            // The request head; IMDS requests carry no body.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = s.write_all(
                b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, asked)
}

#[test]
fn no_credentials_hint_survives_a_forbidding_instance_metadata_service() {
    let home = tempfile::tempdir().unwrap();
    let empty = home.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    let (imds, asked) = forbidding_imds();
    // IMDS on (the sealed environment turns it off) and pointed at the local 403 server;
    // no other credentials anywhere.
    let o = audit_env(
        &["--region", "us-east-1"],
        home.path(),
        &[
            ("AWS_EC2_METADATA_DISABLED", "false"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds),
            ("AWS_CONFIG_FILE", empty),
            ("AWS_SHARED_CREDENTIALS_FILE", empty),
        ],
    );
    assert!(
        asked.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the chain asked the local IMDS: {}",
        stderr(&o)
    );
    assert_config_error(
        &o,
        "no AWS credentials found for the default credential chain",
    );
    let err = stderr(&o);
    assert!(
        err.contains("--replay mocks/demo"),
        "points at the demo: {err}"
    );
    assert!(
        err.contains("instance metadata: "),
        "keeps the cause: {err}"
    );
    assert!(err.contains("forbidden"), "keeps the cause: {err}");
}

/// A port on 127.0.0.1 nothing listens on: bound, then dropped.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = home.path().join("r.json");
    let o = audit_at_endpoint(&url, false, &["-o", out.to_str().unwrap()], home.path());
    assert_config_error(&o, &format!("cannot reach AWS at {url}"));
    assert!(!out.exists(), "no partial output file");
}

#[test]
fn an_endpoint_url_password_is_never_printed() {
    let home = tempfile::tempdir().unwrap();
    let port = closed_port();
    let unreachable = format!("http://moto:pa55w0rd@127.0.0.1:{port}");
    for (url, from_env, needle) in [
        (
            unreachable.as_str(),
            false,
            format!("cannot reach AWS at http://***@127.0.0.1:{port}"),
        ),
        (
            unreachable.as_str(),
            true,
            format!("cannot reach AWS at http://***@127.0.0.1:{port}"),
        ),
        (
            "ftp://moto:pa55w0rd@127.0.0.1",
            false,
            "invalid --endpoint-url `ftp://***@127.0.0.1`".to_string(),
        ),
    ] {
        let o = audit_at_endpoint(url, from_env, &[], home.path());
        assert_config_error(&o, &needle);
        assert!(!stderr(&o).contains("pa55w0rd"), "{}", stderr(&o));
    }
}
