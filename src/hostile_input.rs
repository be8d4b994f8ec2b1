//! Property tests of every parser of outside input in the binary's library: the replay
//! fixture loader, the suppressions and baseline files, the simulation file (`--simulate`),
//! durations, and the XML completeness check. Any input must be accepted or refused with
//! an error that says where — never a panic. The same entry points are fuzzed with
//! cargo-fuzz in tests/fuzz (see the README); these run on stable in every test run.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use crate::http::recording::{Exchange, RequestKey};
use crate::http::replay::Replayer;
use crate::http::simulate::Simulator;
use crate::http::transport::xml_cut_short;
use crate::report::baseline::Baseline;
use crate::report::suppress::Suppressions;
use crate::stop::parse_duration;

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// TOML-looking text: lines from the keys and values these files use, shuffled, with noise.
fn toml_like(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"ECS001\"".to_string()),
        Just("\"*\"".to_string()),
        Just("2027-01-01".to_string()),
        Just("\"2027-13-45\"".to_string()),
        Just("3".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e400".to_string()),
        Just("[\"*\"]".to_string()),
        Just("true".to_string()),
        Just("\"throttle\"".to_string()),
        Just("\"slow\"".to_string()),
        Just("\"panic\"".to_string()),
        Just("{ a = 1 }".to_string()),
        "\"[^\"\\\\\\n]{0,8}\"".prop_map(|s| s),
    ];
    let line = prop_oneof![
        Just("[[suppress]]".to_string()),
        Just("[[fault]]".to_string()),
        Just("[[bucket]]".to_string()),
        Just("[tags]".to_string()),
        (prop::sample::select(keys), value).prop_map(|(k, v)| format!("{k} = {v}")),
        ".{0,20}".prop_map(|s| s),
    ];
    prop::collection::vec(line, 0..14).prop_map(|lines| lines.join("\n"))
}

const SUPPRESS_KEYS: &[&str] = &[
    "check", "account", "region", "resource", "reason", "expires", "tags", "team",
];
const SIMULATE_KEYS: &[&str] = &[
    "latency_ms",
    "published_limits",
    "service",
    "operation",
    "region",
    "account",
    "kind",
    "attempts",
    "delay_ms",
    "name",
    "operations",
    "shared",
    "burst",
    "per_second",
];

fn located(message: &str, prefix: &str) -> bool {
    // `--flag FILE:LINE:COL: what` or `--flag FILE: what`
    message
        .strip_prefix(prefix)
        .is_some_and(|rest| !rest.trim().is_empty())
}

proptest! {
    // Failures found are kept as plain tests below (the repository's top level holds no
    // proptest-regressions directory).
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn simulation_files_parse_or_say_where(text in prop_oneof![toml_like(SIMULATE_KEYS), ".{0,200}"]) {
        if let Err((line, col, what)) = Simulator::parse(&text) {
            prop_assert!(line >= 1 && col >= 1 && !what.is_empty());
            prop_assert!(line <= text.lines().count().max(1) + 1, "line {line} of {text:?}");
        }
    }

    #[test]
    fn suppressions_parse_or_say_where(text in prop_oneof![toml_like(SUPPRESS_KEYS), ".{0,200}"]) {
        if let Err(e) = Suppressions::parse(&text, "s.toml", checks::rules::ALL) {
            let m = e.to_string();
            prop_assert!(located(&m, "--suppressions s.toml:"), "{m}");
        }
    }

    #[test]
    fn baselines_load_or_say_why(value in json(), raw in ".{0,100}", versioned in any::<bool>()) {
        let mut value = value;
        if let (true, Value::Object(m)) = (versioned, &mut value) {
            m.insert("schema_version".into(), Value::from(crate::report::SCHEMA_VERSION));
        }
        for text in [value.to_string(), raw] {
            if let Err(e) = Baseline::parse(&text, "b.json") {
                let m = e.to_string();
                prop_assert!(located(&m, "--baseline b.json:"), "{m}");
            }
        }
    }

    #[test]
    fn recordings_load_or_name_the_bad_file(
        manifest in prop_oneof![json().prop_map(|v| v.to_string()), ".{0,80}"],
        exchange in prop_oneof![json().prop_map(|v| v.to_string()), ".{0,80}"],
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.json"), &manifest).unwrap();
        let ex = dir.path().join("exchanges/ecs/us-east-1");
        std::fs::create_dir_all(&ex).unwrap();
        std::fs::write(ex.join("ListClusters-0.json"), &exchange).unwrap();
        if let Err(e) = Replayer::load(dir.path()) {
            let m = e.to_string();
            prop_assert!(m.contains(&dir.path().display().to_string()), "{m}");
        }
    }

    #[test]
    fn recorded_exchanges_are_found_by_their_key(
        service in "[a-z0-9-]{1,12}",
        region in "[a-z0-9-]{1,14}",
        operation in "[A-Za-z]{1,20}",
        account in prop::option::of("[0-9]{12}"),
        params in json(),
        body in json(),
        status in 100u16..600,
    ) {
        let key = RequestKey { account, service, region, operation, params };
        let ex = Exchange { key: key.clone(), status, headers: Vec::new(), body };
        let dir = tempfile::tempdir().unwrap();
        write_recording(dir.path(), &ex);
        let replayer = Replayer::load(dir.path()).unwrap();
        let got = replayer.get(&key).unwrap();
        prop_assert_eq!(got.status, status);
        prop_assert_eq!(&got.body[..], &ex.body_bytes()[..]);
    }

    #[test]
    fn durations_parse_or_refuse(text in ".{0,12}", h in 0u64..100, m in 0u64..60, s in 0u64..60) {
        let _ = parse_duration(&text);
        let total = h * 3600 + m * 60 + s;
        let parsed = parse_duration(&format!("{h}h{m}m{s}s"));
        if total == 0 {
            prop_assert!(parsed.is_err());
        } else {
            prop_assert_eq!(parsed.unwrap().as_secs(), total);
        }
    }

    #[test]
    fn xml_cut_short_finds_every_cut(
        root in "[A-Zabd-z][A-Za-z0-9]{0,20}",
        // Child names never repeat the root's: AWS responses do not nest their root.
        children in prop::collection::vec(("c[A-Za-z]{0,8}", "[^<>&]{0,12}"), 0..6),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let _ = xml_cut_short(&noise);
        let inner: String = children
            .iter()
            .map(|(n, v)| format!("<{n}>{v}</{n}>"))
            .collect();
        let doc = format!("<?xml version=\"1.0\"?>\n<{root} xmlns=\"x\">{inner}</{root}>\n");
        prop_assert!(!xml_cut_short(doc.as_bytes()));
        let whole = doc.trim_end().len();
        for cut in 1..whole {
            prop_assert!(xml_cut_short(&doc.as_bytes()[..cut]), "{cut}: {doc}");
        }
    }
}

/// One edit of a recorded exchange.
#[derive(Debug, Clone)]
enum Edit {
    Status(u16),
    Header(String, String),
    Body(Value),
    /// The body's JSON text cut at a fraction of its length, as a string.
    Cut(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let header_name = prop_oneof![
        Just("content-type".to_string()),
        Just("content-length".to_string()),
        Just("x-amzn-errortype".to_string()),
        Just("x-amzn-query-error".to_string()),
        Just("retry-after".to_string()),
        ".{0,10}".prop_map(|s| s),
    ];
    prop_oneof![
        prop_oneof![
            Just(200u16),
            Just(400),
            Just(403),
            Just(404),
            Just(429),
            Just(500),
            Just(503),
            any::<u16>()
        ]
        .prop_map(Edit::Status),
        (header_name, ".{0,24}").prop_map(|(k, v)| Edit::Header(k, v)),
        json().prop_map(Edit::Body),
        (0.0f64..1.0).prop_map(Edit::Cut),
    ]
}

fn apply(ex: &mut Value, edit: &Edit) {
    match edit {
        Edit::Status(s) => ex["status"] = Value::from(*s),
        Edit::Header(k, v) => {
            if let Some(h) = ex["headers"].as_array_mut() {
                h.push(serde_json::json!([k, v]));
            }
        }
        Edit::Body(b) => ex["body"] = b.clone(),
        Edit::Cut(at) => {
            let text = match &ex["body"] {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            let mut end = (text.len() as f64 * at) as usize;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            ex["body"] = Value::String(text[..end].to_string());
        }
    }
}

thread_local! {
    /// Panics on this thread since the hook was installed (the serving test runs the whole
    /// collection on its own thread).
    static PANICS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            previous(info);
        }));
    });
}

/// The demo recording with `edits` applied to its exchanges, served through the real
/// session, transport (and `sim`, when it parses) to the real collector, then checked.
fn serve(edits: &[(prop::sample::Index, Edit)], sim: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/demo");
    copy_tree(&demo, dir.path());
    let mut files = Vec::new();
    collect_files(&dir.path().join("exchanges"), &mut files);
    files.sort();
    for (index, edit) in edits {
        let file = index.get(&files);
        let mut ex: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        apply(&mut ex, edit);
        std::fs::write(file, ex.to_string()).unwrap();
    }
    let replayer = match Replayer::load(dir.path()) {
        Ok(r) => r,
        Err(e) => {
            // Refused at load: by name, never served.
            let m = e.to_string();
            prop_assert!(m.contains(&dir.path().display().to_string()), "{m}");
            return Ok(());
        }
    };
    drop(replayer);
    let sim_path = dir.path().join("sim.toml");
    std::fs::write(&sim_path, sim).unwrap();
    let mut argv = vec!["audit", "--replay", dir.path().to_str().unwrap()];
    argv.extend(["--max-attempts", "2", "--call-timeout", "2s"]);
    if Simulator::parse(sim).is_ok() {
        argv.extend(["--simulate", sim_path.to_str().unwrap()]);
    }
    let args = <crate::cli::Cli as clap::Parser>::try_parse_from(argv)
        .unwrap()
        .audit;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    count_panics();
    let before = PANICS.with(|p| p.get());
    let result = runtime.block_on(crate::run::collect_and_check(
        &args,
        crate::progress::Progress::new(false),
        &crate::run::Judging::default(),
        crate::stop::Stop::new(),
    ));
    let panics = PANICS.with(|p| p.get()) - before;
    let report = match result {
        Ok(report) => report,
        // Set-up failed before any collection (the identity call): a clean error, and a
        // panic there is named as one.
        Err(crate::error::AppError::Internal(m)) => {
            prop_assert!(panics > 0 && m.contains("panic"), "{m}");
            return Ok(());
        }
        Err(e) => {
            prop_assert_eq!(panics, 0, "{}", e);
            return Ok(());
        }
    };
    let panicked = report
        .coverage
        .gaps
        .iter()
        .any(|g| g.error_code.as_deref() == Some(crate::gap::GapCode::Panicked.as_str()));
    prop_assert_eq!(panicked, panics > 0, "{} panic(s) on this thread", panics);
    prop_assert_eq!(
        crate::run::exit_for(&report, None) == crate::error::Exit::Incomplete,
        !report.coverage.gaps.is_empty()
    );
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Simulation files of well-formed faults, every kind on any service.
fn faults() -> impl Strategy<Value = String> {
    let fault = (
        prop::sample::select(&["*", "ecs", "ecr", "ec2", "eks", "elbv2", "iam", "sts"][..]),
        prop::sample::select(
            &[
                "throttle",
                "server-error",
                "unavailable",
                "reset",
                "access-denied",
                "opt-in",
                "truncated",
                "malformed",
                "panic",
            ][..],
        ),
        prop::option::of(1u32..3),
    )
        .prop_map(|(service, kind, attempts)| {
            let attempts = attempts
                .map(|n| format!("attempts = {n}\n"))
                .unwrap_or_default();
            format!("[[fault]]\nservice = \"{service}\"\nkind = \"{kind}\"\n{attempts}")
        });
    prop::collection::vec(fault, 1..4).prop_map(|f| f.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// What a recording or a simulation file holds reaches the SDK: a panic anywhere on the
    /// way is a `Panicked` coverage gap, never a lost region and never a crash.
    #[test]
    fn served_recordings_and_simulations_never_lose_a_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), edit()), 1..8),
        sim in prop_oneof![Just(String::new()), toml_like(SIMULATE_KEYS), faults()],
    ) {
        serve(&edits, &sim)?;
    }
}

/// Found by `simulation_files_parse_or_say_where`: a parse error without words.
#[test]
fn a_lone_carriage_return_is_an_error_with_words() {
    let (line, col, what) = Simulator::parse("\r").unwrap_err();
    assert_eq!((line, col), (1, 1));
    assert_eq!(what, "not valid TOML");
    let e = Suppressions::parse("\r", "s.toml", checks::rules::ALL).unwrap_err();
    assert_eq!(e.to_string(), "--suppressions s.toml:1:1: not valid TOML");
}

/// Found by `recorded_exchanges_are_found_by_their_key`: a float in a request's parameters
/// that did not read back as the same number left its exchange unreachable.
#[test]
fn floats_in_keys_read_back_exactly() {
    let key = RequestKey {
        account: None,
        service: "s".into(),
        region: "r".into(),
        operation: "O".into(),
        params: serde_json::json!([3.330753660006727e264, -5.2402911994177486e-194]),
    };
    let ex = Exchange {
        key: key.clone(),
        status: 200,
        headers: Vec::new(),
        body: Value::Null,
    };
    let dir = tempfile::tempdir().unwrap();
    write_recording(dir.path(), &ex);
    assert!(Replayer::load(dir.path()).unwrap().get(&key).is_ok());
}

/// A replay keeps only its index in memory: each answer is read from its file when asked
/// for, and a file that no longer answers the request is an error, never another answer.
#[test]
fn replayed_bodies_are_read_when_asked_for() {
    let key = RequestKey {
        account: None,
        service: "ecs".into(),
        region: "us-east-1".into(),
        operation: "ListClusters".into(),
        params: serde_json::json!({}),
    };
    let ex = |body: Value| Exchange {
        key: key.clone(),
        status: 200,
        headers: Vec::new(),
        body,
    };
    let dir = tempfile::tempdir().unwrap();
    write_recording(dir.path(), &ex(serde_json::json!({"clusterArns": []})));
    let replayer = Replayer::load(dir.path()).unwrap();
    let path = dir.path().join(key.file_name());
    std::fs::write(
        &path,
        serde_json::to_string(&ex(serde_json::json!({"n": 2}))).unwrap(),
    )
    .unwrap();
    assert_eq!(&replayer.get(&key).unwrap().body[..], br#"{"n":2}"#);
    let mut other = ex(Value::Null);
    other.key.operation = "DescribeClusters".into();
    std::fs::write(&path, serde_json::to_string(&other).unwrap()).unwrap();
    let err = replayer.get(&key).unwrap_err().to_string();
    assert!(err.contains("no longer records"), "{err}");
    std::fs::remove_file(&path).unwrap();
    assert!(replayer.get(&key).is_err());
}

/// The index keeps a path only for a file that is not where the recorder puts it: one
/// renamed by hand still answers its request.
#[test]
fn a_renamed_exchange_file_still_answers() {
    let key = RequestKey {
        account: Some("123456789012".into()),
        service: "ecs".into(),
        region: "us-east-1".into(),
        operation: "ListClusters".into(),
        params: serde_json::json!({}),
    };
    let ex = Exchange {
        key: key.clone(),
        status: 200,
        headers: Vec::new(),
        body: serde_json::json!({"clusterArns": ["arn:c"]}),
    };
    let dir = tempfile::tempdir().unwrap();
    write_recording(dir.path(), &ex);
    let placed = dir.path().join(key.file_name());
    std::fs::rename(&placed, placed.with_file_name("by-hand.json")).unwrap();
    let replayer = Replayer::load(dir.path()).unwrap();
    let body = replayer.get(&key).unwrap().body;
    assert_eq!(&body[..], br#"{"clusterArns":["arn:c"]}"#);
}

fn write_recording(dir: &Path, ex: &Exchange) {
    let manifest = serde_json::json!({
        "format": crate::http::recording::FORMAT,
        "version": crate::http::recording::FORMAT_VERSION,
        "tool_version": "0",
        "recorded_at": "2026-11-22T00:00:00Z",
        "accounts": ["123456789012"],
        "regions": ["us-east-1"],
        "exchanges": 1,
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let path = dir.join(ex.key.file_name());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string(ex).unwrap()).unwrap();
}
