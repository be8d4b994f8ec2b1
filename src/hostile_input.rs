//! Property tests of every parser of outside input in the binary's library: the replay
//! fixture loader, the suppressions and baseline files, the simulation file (`--simulate`),
//! durations, and the XML completeness check. Any input must be accepted or refused with
//! an error that says where — never a panic. The same entry points are fuzzed with
//! cargo-fuzz in tests/fuzz (see the README); these run on stable in every test run.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use crate::baseline::Baseline;
use crate::recording::{Exchange, Replayer, RequestKey};
use crate::simulate::Simulator;
use crate::stop::parse_duration;
use crate::suppress::Suppressions;
use crate::transport::xml_cut_short;

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

fn write_recording(dir: &Path, ex: &Exchange) {
    let manifest = serde_json::json!({
        "format": crate::recording::FORMAT,
        "version": crate::recording::FORMAT_VERSION,
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
