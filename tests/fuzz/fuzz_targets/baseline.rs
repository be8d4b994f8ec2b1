//! The baseline report (`--baseline`): any text loads or fails with a message naming it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = awsaudit::report::baseline::Baseline::parse(text, "b.json") {
        assert!(e.to_string().starts_with("--baseline b.json:"));
    }
});
