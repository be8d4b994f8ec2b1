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
    /// The digests of the canonical keys (keys carry request bodies, so a large recording
    /// would otherwise hold them all) of the exchanges whose files are where the recorder
    /// puts them ([`RequestKey::file_name`]), sorted: 16 bytes an exchange.
    placed: Vec<KeyDigest>,
    /// The others (moved by hand), with their files under `dir`. A hit of either is
    /// confirmed against the file's own key when it is read.
    moved: HashMap<KeyDigest, Box<Path>>,
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
        let mut files = Vec::new();
        collect_json_files(&dir.join("exchanges"), &mut files)?;
        files.sort();
        // Each exchange's digest, with its file's place in `files`.
        let mut keys: Vec<(KeyDigest, u32)> = Vec::with_capacity(files.len());
        let mut moved = HashMap::new();
        let mut total: u64 = 0;
        for (i, file) in files.iter().enumerate() {
            let text = read_bounded(file, MAX_EXCHANGE_BYTES)?;
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
            let ex: Exchange = parse_json(file, &text)?;
            ex.validate().map_err(|message| RecordingError::Corrupt {
                path: file.clone(),
                message,
            })?;
            let key = digest(&ex.key.canonical());
            let relative = file.strip_prefix(dir).unwrap_or(file);
            if relative != ex.key.file_name() {
                moved.insert(key, relative.into());
            }
            let i = u32::try_from(i).map_err(|_| RecordingError::Corrupt {
                path: dir.to_path_buf(),
                message: "the recording holds more than 4 billion exchanges".into(),
            })?;
            keys.push((key, i));
        }
        keys.sort_unstable();
        // Two files recording one request: the first file (in name order) that repeats an
        // earlier one is named, with the earliest it repeats.
        let repeat = keys
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| (w[1].1, w[0].1))
            .min();
        if let Some((later, first)) = repeat {
            let file = &files[later as usize];
            let ex: Exchange = read_json(file, MAX_EXCHANGE_BYTES)?;
            return Err(RecordingError::Corrupt {
                path: file.clone(),
                message: format!(
                    "records the same request as {} ({}); keep one of them",
                    files[first as usize].display(),
                    ex.key.describe()
                ),
            });
        }
        drop(files);
        let placed: Vec<KeyDigest> = keys
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !moved.contains_key(k))
            .collect();
        Ok(Replayer {
            dir: dir.to_path_buf(),
            manifest,
            placed,
            moved,
            simulator: None,
        })
    }

    /// The recorded answer to `key`, read from its file.
    pub fn get(&self, key: &RequestKey) -> Result<Recorded, RecordingError> {
        let canonical = key.canonical();
        let d = digest(&canonical);
        let file = match self.moved.get(&d) {
            Some(relative) => self.dir.join(relative),
            None if self.placed.binary_search(&d).is_ok() => self.dir.join(key.file_name()),
            None => {
                return Err(RecordingError::MissingKey {
                    key: key.describe(),
                    file: self.dir.join(key.file_name()),
                })
            }
        };
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
