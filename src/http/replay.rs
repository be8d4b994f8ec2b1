//! Replay: a recording validated whole, indexed by request key, and served from disk, with
//! an optional simulator (`--simulate`) answering in front of it.
//!
//! Only the index (canonical key → file) stays in memory: each answer is read from its file
//! when asked for, so replaying a recording of a thousand accounts costs what the live run
//! costs, not the recording's size.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::http::recording::{
    collect_json_files, parse_json, read_bounded, read_json, Exchange, Manifest, RecordingError,
    RequestKey, FORMAT, FORMAT_VERSION, MAX_EXCHANGE_BYTES, MAX_MANIFEST_BYTES,
    MAX_RECORDING_BYTES,
};
use crate::http::simulate::Simulator;

/// A recorded response, as the replayer serves it.
#[derive(Debug)]
pub struct Recorded {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Box<[u8]>,
}

/// The first 128 bits of a key's SHA-256: enough to tell a recording's requests apart, and
/// a hit is confirmed against the file's own key anyway.
type KeyDigest = [u8; 16];

fn digest(canonical: &str) -> KeyDigest {
    let full = Sha256::digest(canonical.as_bytes());
    let mut d = [0; 16];
    d.copy_from_slice(&full[..16]);
    d
}

/// Serves recorded responses by key.
#[derive(Debug)]
pub struct Replayer {
    dir: PathBuf,
    pub manifest: Manifest,
    /// By the digest of the canonical key (keys carry request bodies, so a large recording
    /// would otherwise hold them all): the file that answers it, under `dir`, when it is
    /// not where the recorder puts it ([`RequestKey::file_name`]; every file is, unless
    /// moved by hand). A hit is confirmed against the file's own key when it is read.
    exchanges: HashMap<KeyDigest, Option<Box<Path>>>,
    /// Answers in front of the recording: latency, rate limits, faults (`--simulate`).
    pub simulator: Option<Simulator>,
}

impl Replayer {
    /// Validates a whole recording (every exchange is read and checked once) and indexes
    /// it.
    pub fn load(dir: &Path) -> Result<Self, RecordingError> {
        if dir.is_file() {
            return Err(RecordingError::NotADirectory(dir.to_path_buf()));
        }
        if !dir.is_dir() {
            return Err(RecordingError::Missing(dir.to_path_buf()));
        }
        let manifest_path = dir.join("manifest.json");
        if fs::symlink_metadata(&manifest_path).is_err() {
            return Err(RecordingError::NoManifest(dir.to_path_buf()));
        }
        let manifest: Manifest = read_json(&manifest_path, MAX_MANIFEST_BYTES)?;
        if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
            return Err(RecordingError::Corrupt {
                path: manifest_path,
                message: format!(
                    "unsupported recording format `{}` version {} (this build reads `{FORMAT}` version {FORMAT_VERSION})",
                    manifest.format, manifest.version
                ),
            });
        }
        let mut exchanges: HashMap<KeyDigest, Option<Box<Path>>> = HashMap::new();
        let mut files = Vec::new();
        collect_json_files(&dir.join("exchanges"), &mut files)?;
        files.sort();
        let mut total: u64 = 0;
        for file in files {
            let text = read_bounded(&file, MAX_EXCHANGE_BYTES)?;
            total += text.len() as u64;
            if total > MAX_RECORDING_BYTES {
                return Err(RecordingError::Corrupt {
                    path: dir.to_path_buf(),
                    message: format!(
                        "the recording holds more than {} MiB of exchanges (at {}); this build replays at most that",
                        MAX_RECORDING_BYTES >> 20,
                        file.display()
                    ),
                });
            }
            let ex: Exchange = parse_json(&file, &text)?;
            ex.validate().map_err(|message| RecordingError::Corrupt {
                path: file.clone(),
                message,
            })?;
            let key = digest(&ex.key.canonical());
            let relative = file.strip_prefix(dir).unwrap_or(&file);
            let placed = ex.key.file_name();
            if let Some(first) = exchanges.get(&key) {
                return Err(RecordingError::Corrupt {
                    path: file.clone(),
                    message: format!(
                        "records the same request as {} ({}); keep one of them",
                        dir.join(first.as_deref().unwrap_or(&placed)).display(),
                        ex.key.describe()
                    ),
                });
            }
            exchanges.insert(key, (relative != placed).then(|| relative.into()));
        }
        Ok(Replayer {
            dir: dir.to_path_buf(),
            manifest,
            exchanges,
            simulator: None,
        })
    }

    /// The recorded answer to `key`, read from its file.
    pub fn get(&self, key: &RequestKey) -> Result<Recorded, RecordingError> {
        let canonical = key.canonical();
        let file = self
            .exchanges
            .get(&digest(&canonical))
            .map(|moved| match moved {
                Some(relative) => self.dir.join(relative),
                None => self.dir.join(key.file_name()),
            })
            .ok_or_else(|| RecordingError::MissingKey {
                key: key.describe(),
                file: self.dir.join(key.file_name()),
            })?;
        let file = &file;
        let text = read_bounded(file, MAX_EXCHANGE_BYTES)?;
        let ex: Exchange = parse_json(file, &text)?;
        // Validated at load; a file changed since then must still be valid, and still
        // answer this request.
        ex.validate().map_err(|message| RecordingError::Corrupt {
            path: file.clone(),
            message,
        })?;
        if ex.key.canonical() != canonical {
            return Err(RecordingError::Corrupt {
                path: file.clone(),
                message: format!(
                    "changed during the replay: it no longer records {}",
                    key.describe()
                ),
            });
        }
        Ok(Recorded {
            status: ex.status,
            body: ex.body_bytes().into_boxed_slice(),
            headers: ex.headers,
        })
    }
}
