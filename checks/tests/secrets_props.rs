//! Property tests for `checks::secrets`: any name and value classify without panicking, a
//! recorded marker reads back as the reason it was written for, and a finding's wording
//! (the reason) never carries the value.

use checks::secrets::{
    args_for_recording, classify_args, classify_env, env_for_recording, value_kind, SecretKind,
};
use proptest::prelude::*;

const CASES: u32 = 512;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_entry_classifies_and_markers_round_trip(name in ".{0,40}", value in ".{0,200}") {
        if let Some(kind) = classify_env(&name, &value) {
            prop_assert_eq!(classify_env(&name, &kind.marker()), Some(kind));
            prop_assert_eq!(classify_env("ANY", &kind.marker()), Some(kind));
            if value.len() >= 4 {
                prop_assert!(!kind.reason().contains(value.as_str()));
                prop_assert!(!kind.marker().contains(value.as_str()));
            }
        }
    }

    #[test]
    fn access_key_ids_are_found_inside_any_text(
        prefix in "[a-z =:/]{0,20}",
        id in "(AKIA|ASIA)[A-Z0-9]{16}",
        suffix in "[a-z =:/]{0,20}",
    ) {
        let value = format!("{prefix}{id}{suffix}");
        prop_assert_eq!(value_kind(&value), Some(SecretKind::AwsAccessKeyId));
        prop_assert_eq!(classify_env("CONFIG", &value), Some(SecretKind::AwsAccessKeyId));
    }

    #[test]
    fn short_or_hex_values_are_not_random_tokens(value in "[0-9a-f]{0,64}") {
        prop_assert_ne!(value_kind(&value), Some(SecretKind::HighEntropy));
    }

    /// The recorded form of a command line keeps no value, judges the same, and recording it
    /// again changes nothing: a replay reports exactly what the live audit did.
    #[test]
    fn recorded_command_lines_judge_the_same_and_keep_no_value(
        args in proptest::collection::vec("[ -~]{0,40}", 0..8),
        secret in "[A-Za-z0-9]{18,30}",
    ) {
        let mut args = args;
        args.push(format!("--db-password={secret}"));
        let recorded = args_for_recording(&args);
        prop_assert_eq!(args_for_recording(&recorded), recorded.clone());
        prop_assert_eq!(classify_args(&recorded), classify_args(&args));
        let text = recorded.join(" ");
        prop_assert!(!text.contains(secret.as_str()), "{} kept in {}", secret, text);
    }

    #[test]
    fn recorded_environment_values_are_only_verdicts(name in "[A-Z_]{1,20}", value in ".{0,80}") {
        let marker = env_for_recording(&name, &value);
        prop_assert!(marker.starts_with("***REDACTED:") && marker.ends_with("***"));
        prop_assert_eq!(classify_env(&name, &marker), classify_env(&name, &value));
    }
}
