//! The secret detector sees every environment variable of every task definition: any name
//! and value must classify without panicking, and a recorded marker must read back as the
//! kind it was written for.
#![no_main]

use checks::secrets::classify_env;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, value) = text.split_once('=').unwrap_or((text, ""));
    if let Some(kind) = classify_env(name, value) {
        assert_eq!(classify_env(name, &kind.marker()), Some(kind));
    }
});
