//! The suppressions file (`--suppressions`): any text parses or fails with file:line:col.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = awsaudit::report::suppress::Suppressions::parse(text, "s.toml", checks::rules::ALL) {
        assert!(e.to_string().starts_with("--suppressions s.toml:"));
    }
});
