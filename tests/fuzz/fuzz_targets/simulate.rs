//! The simulation file (`--simulate`): any text parses or fails with a line and column.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err((line, col, what)) = awsaudit::http::simulate::Simulator::parse(text) {
        assert!(line >= 1 && col >= 1 && !what.is_empty());
    }
});
