//! The replay fixture loader: a recording directory whose manifest and exchange files hold
//! any bytes must load or fail with an error naming the file, never panic. The input is
//! split at the first NUL: the manifest, then one exchange file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (manifest, exchange) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("manifest.json"), manifest).expect("writable");
    let ex = dir.path().join("exchanges/ecs/us-east-1");
    std::fs::create_dir_all(&ex).expect("writable");
    std::fs::write(ex.join("ListClusters-0.json"), exchange).expect("writable");
    if let Ok(replayer) = awsaudit::http::recording::Replayer::load(dir.path()) {
        let _ = replayer.manifest.accounts.len();
    }
});
