//! Record: every exchange written into a staging directory beside the target, swapped into
//! place when the run ends, so a recording is never half-written and an incomplete one never
//! replaces a complete one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::http::recording::{
    io_err, read_json, write_atomic, Exchange, Manifest, RecordingError, FORMAT, FORMAT_VERSION,
    MAX_MANIFEST_BYTES,
};
use crate::{atomic_file, fleet, sync};

/// Writes exchanges into a staging directory beside the target, then swaps it into place
/// when the run finishes. At no instant is the target missing or half-written: the swap is
/// one atomic exchange of two directories where the system has one (Linux), and a
/// recording that is not complete never replaces one that is.
#[derive(Debug)]
pub struct Recorder {
    target: PathBuf,
    staging: PathBuf,
    /// Held for the run: a staging directory whose lock is free belongs to a run that
    /// was killed, and the next run removes it.
    _lock: fs::File,
    written: Mutex<BTreeMap<String, ()>>,
}

/// Where a finished recording went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// At the target (new, or replacing an older recording).
    Target(PathBuf),
    /// Incomplete, beside a complete recording at the target, which is kept.
    Beside { partial: PathBuf, kept: PathBuf },
}

const STAGING_LOCK: &str = ".awsaudit-recording.lock";

impl Recorder {
    /// Checks that `target` can be (re)placed, clears what killed runs left beside it, and
    /// creates the staging directory.
    pub fn create(target: &Path) -> Result<Self, RecordingError> {
        // The target, and DIR.incomplete beside it where a partial recording may go, are
        // replaced only if they hold a recording (or nothing).
        for place in [target.to_path_buf(), sibling(target, "incomplete")] {
            if fs::symlink_metadata(&place).is_ok() && !place.join("manifest.json").is_file() {
                let empty = place.is_dir()
                    && fs::read_dir(&place)
                        .map_err(io_err(&place))?
                        .next()
                        .is_none();
                if !empty {
                    return Err(RecordingError::NotARecording(place));
                }
            }
        }
        // Replacing the directory the process (and the user's shell) is in, or one that
        // holds it, would pull the ground from under both.
        if let (Ok(t), Ok(cwd)) = (fs::canonicalize(target), std::env::current_dir()) {
            if fs::canonicalize(&cwd).unwrap_or(cwd).starts_with(&t) {
                return Err(RecordingError::HoldsWorkingDirectory(target.to_path_buf()));
            }
        }
        let parent = atomic_file::dir_of(target);
        let prefix = staging_prefix(target);
        clear_stale_staging(&parent, &prefix);
        let staging = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&parent)
            .map_err(io_err(&parent))?
            .keep();
        let lock_path = staging.join(STAGING_LOCK);
        let lock = fs::File::create(&lock_path).map_err(io_err(&lock_path))?;
        lock.try_lock().map_err(|e| RecordingError::Io {
            path: lock_path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(Recorder {
            target: target.to_path_buf(),
            staging,
            _lock: lock,
            written: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn store(&self, ex: &Exchange) -> Result<(), RecordingError> {
        let rel = ex.key.file_name();
        let path = self.staging.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let mut text = serde_json::to_string_pretty(ex).expect("an exchange always serialises");
        text.push('\n');
        write_atomic(&path, text.as_bytes())?;
        sync::lock(&self.written).insert(rel.to_string_lossy().into_owned(), ());
        Ok(())
    }

    /// Writes the manifest and moves the recording into place; `incomplete` says why it
    /// does not hold every answer of the run.
    pub fn finish(
        &self,
        accounts: &[String],
        regions: &[String],
        fleet: Option<fleet::FleetManifest>,
        incomplete: Option<String>,
        recorded_at: String,
    ) -> Result<Placed, RecordingError> {
        let partial = incomplete.is_some();
        let manifest = Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            recorded_at,
            accounts: accounts.to_vec(),
            regions: regions.to_vec(),
            exchanges: sync::lock(&self.written).len(),
            fleet,
            incomplete,
        };
        let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
        text.push('\n');
        write_atomic(&self.staging.join("manifest.json"), text.as_bytes())?;
        let _ = fs::remove_file(self.staging.join(STAGING_LOCK));
        let existing = self.target.join("manifest.json");
        let old_is_complete = existing.is_file()
            && read_json::<Manifest>(&existing, MAX_MANIFEST_BYTES)
                .is_ok_and(|m| m.incomplete.is_none());
        if partial && old_is_complete {
            let beside = sibling(&self.target, "incomplete");
            if fs::symlink_metadata(&beside).is_ok() {
                swap_in(&self.staging, &beside)?;
            } else {
                fs::rename(&self.staging, &beside).map_err(io_err(&beside))?;
            }
            return Ok(Placed::Beside {
                partial: beside,
                kept: self.target.clone(),
            });
        }
        if fs::symlink_metadata(&self.target).is_ok() {
            swap_in(&self.staging, &self.target)?;
        } else {
            fs::rename(&self.staging, &self.target).map_err(io_err(&self.target))?;
        }
        Ok(Placed::Target(self.target.clone()))
    }

    /// Removes the staging directory of an abandoned recording.
    pub fn abandon(&self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

/// `.NAME.recording-`: the prefix of the target's staging directories.
fn staging_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording".into());
    format!(".{name}.recording-")
}

/// `NAME.SUFFIX` beside `target`.
fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    target.with_file_name(name)
}

/// Removes the staging directories of killed runs (their lock is free), saying so; a
/// staging directory whose lock is held belongs to a run still recording, and is left.
fn clear_stale_staging(parent: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(prefix)
            || !entry.file_type().is_ok_and(|t| t.is_dir())
        {
            continue;
        }
        let path = entry.path();
        let in_use = match fs::File::open(path.join(STAGING_LOCK)) {
            Ok(f) => f.try_lock().is_err(),
            // No lock file: being created this instant by another run, or finished and
            // killed mid-swap; only the second is old.
            Err(_) => entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
                t.elapsed().unwrap_or_default() < std::time::Duration::from_secs(60)
            }),
        };
        if in_use {
            continue;
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => eprintln!(
                "warning: removed {}, left by an interrupted recording",
                path.display()
            ),
            Err(e) => eprintln!(
                "warning: {} was left by an interrupted recording and could not be removed: {e}",
                path.display()
            ),
        }
    }
}

/// Puts the directory `new` at `target` in place of the one there, then removes the old
/// one (now at `new`). On Linux the two change places in one atomic step; elsewhere the old
/// one is moved aside first and put back if the new one cannot take its place.
fn swap_in(new: &Path, target: &Path) -> Result<(), RecordingError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
        if let (Some(a), Some(b)) = (c(new), c(target)) {
            // SAFETY: both are valid NUL-terminated paths, relative to the working directory.
            let rc = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    a.as_ptr(),
                    libc::AT_FDCWD,
                    b.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            };
            if rc == 0 {
                let _ = fs::remove_dir_all(new);
                return Ok(());
            }
            // A filesystem without RENAME_EXCHANGE: the portable way below.
        }
    }
    let aside = sibling(new, "old");
    fs::rename(target, &aside).map_err(io_err(target))?;
    if let Err(e) = fs::rename(new, target) {
        let _ = fs::rename(&aside, target);
        return Err(io_err(target)(e));
    }
    let _ = fs::remove_dir_all(&aside);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(target: &Path, marker: &str, incomplete: Option<&str>) -> Placed {
        let rec = Recorder::create(target).unwrap();
        fs::write(rec.staging.join("marker"), marker).unwrap();
        rec.finish(
            &[],
            &["us-east-1".into()],
            None,
            incomplete.map(str::to_string),
            "2026-11-22T08:21:45Z".into(),
        )
        .unwrap()
    }

    fn marker(dir: &Path) -> String {
        fs::read_to_string(dir.join("marker")).unwrap()
    }

    #[test]
    fn a_recording_replaces_only_what_it_is_at_least_as_whole_as() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("rec");
        // A partial recording where there was none: at the target, marked.
        assert_eq!(
            record(&target, "1", Some("stopped")),
            Placed::Target(target.clone())
        );
        // A partial one replaces a partial one; a complete one replaces anything.
        record(&target, "2", Some("stopped"));
        assert_eq!(marker(&target), "2");
        record(&target, "3", None);
        assert_eq!(marker(&target), "3");
        // A partial one never replaces a complete one: it goes beside it.
        let placed = record(&target, "4", Some("stopped"));
        let beside = dir.path().join("rec.incomplete");
        assert_eq!(
            placed,
            Placed::Beside {
                partial: beside.clone(),
                kept: target.clone()
            }
        );
        assert_eq!(marker(&target), "3");
        assert_eq!(marker(&beside), "4");
        let m: Manifest = read_json(&beside.join("manifest.json"), MAX_MANIFEST_BYTES).unwrap();
        assert_eq!(m.incomplete.as_deref(), Some("stopped"));
        // Nothing of the runs is left beside them: no staging, no lock.
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["rec", "rec.incomplete"]);
        assert!(!target.join(STAGING_LOCK).exists());
    }

    #[test]
    fn what_is_beside_the_target_is_replaced_only_if_it_is_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("rec");
        let beside = dir.path().join("rec.incomplete");
        fs::create_dir(&beside).unwrap();
        fs::write(beside.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            Recorder::create(&target),
            Err(RecordingError::NotARecording(p)) if p == beside
        ));
        assert!(beside.join("notes.txt").is_file());
    }

    #[test]
    fn a_staging_directory_of_a_live_run_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("rec");
        let live = Recorder::create(&target).unwrap();
        // A second recorder to the same place does not take the first one's staging.
        let second = Recorder::create(&target).unwrap();
        assert!(live.staging.is_dir());
        second.abandon();
        live.abandon();
    }
}
