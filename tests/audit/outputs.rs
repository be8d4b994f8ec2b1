//! Where reports go: files, `--output-dir`, every format, pipes and links, and no file at all
//! when the run fails before the audit.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{assert_config_error, audit, stderr};

#[test]
fn output_file_is_written_and_fail_on_sets_the_exit_code() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("report.json");
    let out_s = out.to_str().unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--format",
            "json",
            "-o",
            out_s,
            "--fail-on",
            "high",
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        o.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(report["summary"]["findings"].as_u64().unwrap() > 0);
    // The report gets the mode any new file gets here, not a temporary file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = home.path().join("plain");
        std::fs::write(&plain, b"").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), mode(&plain));
        std::fs::remove_file(plain).unwrap();
    }
    // Only the report file is left behind: no temporary files.
    let entries: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);

    // A threshold above every finding passes: ecs001 has high and medium findings only.
    let o = audit(
        &["--replay", "mocks/ecs001", "--fail-on", "critical"],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "no critical findings in ecs001");
    let o = audit(
        &["--replay", "mocks/demo", "--fail-on", "critical"],
        home.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the demo's trust-anyone role is critical"
    );
}

#[test]
fn unwritable_output_fails_before_any_work_and_leaves_no_file() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "-o",
            "/nonexistent-dir/report.json",
        ],
        home.path(),
    );
    assert_config_error(&o, "directory /nonexistent-dir does not exist");
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "-o",
            home.path().to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(&o, "is a directory");
    // A file where the directory should be.
    let file = home.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "-o",
            file.join("r.json").to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(&o, "a-file is not a directory");
    // A failed run with --output creates no file at all.
    let out = home.path().join("never.json");
    let o = audit(
        &["--replay", "/nonexistent", "-o", out.to_str().unwrap()],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn every_format_renders_the_same_findings_into_output_dir() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/ecs-catalog",
            "--format",
            "json,jsonl,csv,markdown",
            "--format",
            "table",
            "--format",
            "sarif,asff,ocsf,html",
            "--output-dir",
            d,
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "everything went to files");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let report: Value = serde_json::from_str(&read("report.json")).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 10);
    let fingerprints: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    // JSON lines: one complete finding per line, in report order.
    let lines: Vec<Value> = read("findings.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, *findings);
    // CSV: a header and one row per finding, fingerprints in their column.
    let csv = read("findings.csv");
    assert!(csv.starts_with("severity,check,name,account,region,resource,message,"));
    for fp in &fingerprints {
        assert_eq!(csv.matches(fp).count(), 1, "{fp} once in the CSV");
    }
    let md = read("report.md");
    assert!(md.starts_with("# awsaudit report\n"));
    assert!(md.contains(&format!("| **total** | **{}** |", findings.len())));
    for fp in &fingerprints {
        assert!(md.contains(fp), "{fp} in the Markdown");
    }
    assert!(read("report.txt").contains("coverage complete"));
    // SARIF: one rule per check that ran, one result per finding, tracked by fingerprint.
    let sarif: Value = serde_json::from_str(&read("report.sarif")).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        report["run"]["checks"].as_array().unwrap().len()
    );
    let sarif_fps: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"]["awsaudit/v1"].as_str().unwrap())
        .collect();
    assert_eq!(sarif_fps, fingerprints);
    // ASFF: Security Hub finding ids derive from the fingerprint, so re-imports update.
    let asff: Value = serde_json::from_str(&read("findings.asff.json")).unwrap();
    let ids: Vec<&str> = asff
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), fingerprints.len());
    for (id, fp) in ids.iter().zip(&fingerprints) {
        assert!(id.ends_with(fp), "{id}");
    }
    // The crosswalk rides along: a rule's tags and properties, ASFF's related requirements,
    // OCSF's compliance objects; a check that answers no control carries none.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = |code: &str| rules.iter().find(|r| r["id"] == code).unwrap();
    let ecs017 = rule("ECS017");
    assert!(ecs017["properties"]["tags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("fsbp ECS.5")));
    assert_eq!(ecs017["properties"]["controls"][0]["id"], "ECS.5");
    assert!(rule("ECS001")["properties"].get("controls").is_none());
    let first = |doc: &Value, pointer: &str, code: &str| -> Value {
        doc.as_array()
            .unwrap()
            .iter()
            .find(|f| f.pointer(pointer).and_then(Value::as_str) == Some(code))
            .unwrap_or_else(|| panic!("no {code} finding"))
            .clone()
    };
    let requirements = &first(&asff, "/ProductFields/awsaudit~1Check", "ECS017")["Compliance"]
        ["RelatedRequirements"];
    assert!(
        requirements
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().ends_with(" ECS.5")),
        "{requirements}"
    );
    assert!(first(&asff, "/ProductFields/awsaudit~1Check", "ECS001")
        .get("Compliance")
        .is_none());
    let ocsf: Value = serde_json::from_str(&read("findings.ocsf.json")).unwrap();
    let compliance = &first(&ocsf, "/metadata/event_code", "ECS017")["unmapped"]["compliance"];
    assert!(
        compliance
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["control"] == "ECS.5" && c["standards"][0].is_string()),
        "{compliance}"
    );
    // The secret ECS003 names is named in every format, its value in none (the recording
    // holds only markers, and no format prints a marker as a value).
    for name in [
        "report.json",
        "findings.jsonl",
        "findings.csv",
        "report.md",
        "report.txt",
        "report.sarif",
        "findings.asff.json",
        "findings.ocsf.json",
        "report.html",
    ] {
        let text = read(name);
        assert!(text.contains("SMTP_PASSWORD"), "{name}");
        assert!(
            !text.contains("REDACTED"),
            "{name} prints a redaction marker"
        );
    }
}

#[test]
fn formats_and_outputs_must_pair_up_before_any_work() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let a_again = dir.path().join("x").join("..").join("a.json");
    std::fs::create_dir(dir.path().join("x")).unwrap();
    let (a, a_again) = (a.to_str().unwrap(), a_again.to_str().unwrap());
    let cases: [(&[&str], &str); 5] = [
        (
            &["--format", "json,csv"],
            "2 formats need somewhere to go: one --output FILE per --format, or --output-dir DIR",
        ),
        (
            &["--format", "json,csv", "-o", a],
            "1 --output for 2 --format",
        ),
        (
            &[
                "--format", "json", "--format", "csv", "-o", a, "-o", a_again,
            ],
            "given for both --format json and --format csv",
        ),
        (&["--format", "json,json"], "--format json is given twice"),
        (
            &["--format", "json", "--output-dir", "/nonexistent/awsaudit"],
            "--output-dir /nonexistent/awsaudit: does not exist",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["--replay", "mocks/demo"];
        args.extend_from_slice(extra);
        assert_config_error(&audit(&args, home.path()), needle);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no file was written"
    );
    // An unknown format or --only-new without a baseline are usage errors from the parser.
    for args in [
        &["--replay", "mocks/demo", "--format", "yaml"][..],
        &["--replay", "mocks/demo", "--only-new"][..],
    ] {
        let o = audit(args, home.path());
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
}

#[test]
fn outputs_write_through_pipes_and_links_and_never_replace_them() {
    use std::os::unix::fs::FileTypeExt;
    let home = tempfile::tempdir().unwrap();
    let json_to = |path: &Path| {
        audit(
            &[
                "--replay",
                "mocks/demo",
                "--format",
                "json",
                "-o",
                path.to_str().unwrap(),
            ],
            home.path(),
        )
    };
    // A FIFO is written to, not replaced by a regular file.
    let fifo = home.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = json_to(&fifo);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = reader.join().unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // A link to a report: the report it points to is replaced, the link stays.
    let real = home.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = home.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = json_to(&link);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().starts_with('{'));
    // A link to nothing is refused before the audit.
    let dangling = home.path().join("dangling.json");
    std::os::unix::fs::symlink(home.path().join("nowhere"), &dangling).unwrap();
    let o = audit(
        &["--replay", "mocks/demo", "-o", dangling.to_str().unwrap()],
        home.path(),
    );
    assert_config_error(&o, "which does not exist");
}

#[test]
fn exit_2_leaves_no_output_written() {
    let home = tempfile::tempdir().unwrap();
    let good = home.path().join("good.json");
    // A name too long for the filesystem is found before the audit, not after it.
    let long = home.path().join(format!("{}.csv", "x".repeat(300)));
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--format",
            "json",
            "--format",
            "csv",
            "-o",
            good.to_str().unwrap(),
            "-o",
            long.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(&o, "File name too long");
    assert!(!good.exists(), "no output of a run that exits 2");
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}
