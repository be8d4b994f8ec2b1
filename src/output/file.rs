//! Local report files (`--output`, `--output-dir`): every one is checked before the audit
//! starts, and written only once every rendering is ready — all of them or none.
//!
//! What a path may be:
//! - a regular file, or none yet: replaced atomically (a temporary file beside it, then a
//!   rename), keeping an existing file's permissions;
//! - a character device or a FIFO (`/dev/null`, a terminal, a named pipe), or a file
//!   descriptor's path (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`): appended to, never
//!   replaced;
//! - a symbolic link: followed deliberately. A link to a regular file has that file replaced
//!   (the link stays); a link to a device or pipe is written through; a dangling link, a
//!   directory, a block device or a socket is an error.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::atomic_file::{self, dir_of};
use crate::error::AppError;

/// How a report reaches a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Replace (or create) this regular file atomically.
    Replace(PathBuf),
    /// Open and write: a device or a pipe.
    Stream,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> AppError {
    AppError::Config(format!("--output {}: {what}", path.display()))
}

/// What `path` is, and so how it is written; errors say why it cannot be.
fn classify(path: &Path) -> Result<Kind, AppError> {
    let link = fs::symlink_metadata(path);
    let meta = match &link {
        Ok(m) if m.file_type().is_symlink() => fs::metadata(path).map_err(|_| {
            bad(
                path,
                format_args!(
                    "is a symbolic link to {}, which does not exist",
                    fs::read_link(path).unwrap_or_default().display()
                ),
            )
        })?,
        Ok(m) => m.clone(),
        // Not there (or a parent is not a directory, which the caller's check names).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Kind::Replace(path.to_path_buf()))
        }
        Err(e) => return Err(bad(path, e)),
    };
    let resolved = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    // A file descriptor's path (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`) is whatever
    // the shell opened: written through, never replaced, even when it is a regular file
    // (`audit -o /dev/stdout >> log` appends to the log).
    let descriptor = |p: &Path| {
        p.starts_with("/dev/fd") || p.starts_with("/proc") || p == Path::new("/dev/stdout")
    };
    if descriptor(path) || descriptor(&resolved) {
        return Ok(Kind::Stream);
    }
    let t = meta.file_type();
    if t.is_file() {
        return Ok(Kind::Replace(resolved));
    }
    if t.is_dir() {
        return Err(bad(path, "is a directory; give a file path"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() || t.is_fifo() {
            return Ok(Kind::Stream);
        }
    }
    Err(bad(
        path,
        "is not a regular file, a character device or a FIFO",
    ))
}

/// Fails, before any AWS call, when a report could not be written to `path`: its kind,
/// its directory, the permission to write there, and the name itself (one too long for the
/// filesystem is found now, not after the audit).
pub fn preflight(path: &Path) -> Result<(), AppError> {
    let Kind::Replace(file) = classify(path)? else {
        return Ok(());
    };
    let dir = dir_of(&file);
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(bad(
            path,
            format_args!("directory {} {what}", dir.display()),
        ));
    }
    tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| bad(path, format_args!("cannot write in {}: {e}", dir.display())))?;
    if !file.exists() {
        // Created and removed at once: the exact name must be one the filesystem takes.
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
            .map_err(|e| bad(path, e))?;
        let _ = fs::remove_file(&file);
    }
    Ok(())
}

/// A report written beside its target, not yet in place.
struct Staged {
    target: PathBuf,
    shown: PathBuf,
    temp: tempfile::NamedTempFile,
}

/// What writes one report's bytes: a renderer writing straight into the file.
pub type Writer<'a> = &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>;

/// A [`Writer`] owned, to keep in a list.
pub type BoxedWriter<'a> = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a>;

/// Writes every file, each by its renderer straight into its temporary file (or its stream),
/// so no report is held whole in memory: all of them, or — when one cannot be written —
/// none, with the files that were there before left as they were.
pub fn write_all_with(files: &[(&Path, Writer<'_>)]) -> Result<(), AppError> {
    let mut staged = Vec::new();
    let mut streams = Vec::new();
    for (path, write) in files {
        match classify(path)? {
            Kind::Replace(target) => staged.push(stage(path, &target, *write)?),
            Kind::Stream => streams.push((*path, *write)),
        }
    }
    commit(staged)?;
    for (path, write) in streams {
        // Appending: a descriptor the shell opened with `>` is empty, one opened with `>>`
        // keeps what it holds; devices and pipes ignore it.
        fs::OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|f| {
                let mut out = std::io::BufWriter::with_capacity(1 << 16, f);
                write(&mut out)?;
                out.flush()
            })
            .map_err(|e| bad(path, format_args!("could not write the report: {e}")))?;
    }
    Ok(())
}

/// The whole report in a temporary file beside `target`, synced, with the permissions of
/// the file it will replace (or those any new file gets).
fn stage(shown: &Path, target: &Path, write: Writer<'_>) -> Result<Staged, AppError> {
    let temp = atomic_file::stage_with(target, &mut |w| write(w))
        .map_err(|e| bad(shown, format_args!("could not write the report: {e}")))?;
    Ok(Staged {
        target: target.to_path_buf(),
        shown: shown.to_path_buf(),
        temp,
    })
}

/// Renames every staged file into place. Each file replaced is first kept under a second
/// name (a hard link), so that when a later rename fails the earlier ones are undone.
fn commit(staged: Vec<Staged>) -> Result<(), AppError> {
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut failure = None;
    for s in staged {
        let backup = if s.target.exists() {
            let b = backup_name(&s.target);
            match fs::hard_link(&s.target, &b) {
                Ok(()) => Some(b),
                Err(e) => {
                    failure = Some(bad(
                        &s.shown,
                        format_args!("could not write the report: {e}"),
                    ));
                    break;
                }
            }
        } else {
            None
        };
        match s.temp.persist(&s.target) {
            Ok(_) => done.push((s.target, backup)),
            Err(e) => {
                if let Some(b) = backup {
                    let _ = fs::remove_file(b);
                }
                failure = Some(bad(
                    &s.shown,
                    format_args!("could not write the report: {}", e.error),
                ));
                break;
            }
        }
    }
    for (target, backup) in done {
        match (&failure, backup) {
            (None, Some(b)) => {
                let _ = fs::remove_file(b);
            }
            (None, None) => {}
            (Some(_), Some(b)) => {
                let _ = fs::rename(b, &target);
            }
            (Some(_), None) => {
                let _ = fs::remove_file(&target);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

fn backup_name(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    dir_of(target).join(format!(".{name}.awsaudit-previous-{}", std::process::id()))
}

/// Writes a report kept back from a failed upload: readable by its owner only, since the
/// place it was meant for may have been more private than a shared temporary directory.
pub fn write_private(path: &Path, text: &str) -> Result<(), AppError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            AppError::Config(format!(
                "{}: could not keep the report: {e}",
                path.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`write_all_with`] of texts.
    fn write_all(files: &[(&Path, &str)]) -> Result<(), AppError> {
        let writers: Vec<(&Path, BoxedWriter<'_>)> = files
            .iter()
            .map(|(path, text)| {
                let w: BoxedWriter<'_> =
                    Box::new(move |out: &mut dyn Write| out.write_all(text.as_bytes()));
                (*path, w)
            })
            .collect();
        let refs: Vec<(&Path, Writer<'_>)> = writers.iter().map(|(p, w)| (*p, &**w)).collect();
        write_all_with(&refs)
    }

    #[test]
    fn a_failed_write_leaves_every_earlier_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        fs::write(&a, "old").unwrap();
        let b = dir.path().join("b.json");
        // The second target's directory vanishes between the check and the write.
        let gone = dir.path().join("gone");
        fs::create_dir(&gone).unwrap();
        let c = gone.join("c.json");
        preflight(&c).unwrap();
        fs::remove_dir(&gone).unwrap();
        let e = write_all(&[(&a, "new"), (&b, "new"), (&c, "new")]).unwrap_err();
        assert!(e.to_string().contains("c.json"), "{e}");
        assert_eq!(fs::read_to_string(&a).unwrap(), "old");
        assert!(!b.exists());
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary or backup file left: {left:?}");
    }

    #[test]
    fn a_renderer_that_fails_half_way_writes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.csv"));
        fs::write(&a, "old").unwrap();
        let fine: Writer<'_> = &|w| w.write_all(b"new");
        let broken: Writer<'_> = &|w| {
            w.write_all(b"half a report")?;
            Err(std::io::Error::other("disk full"))
        };
        let e = write_all_with(&[(a.as_path(), fine), (b.as_path(), broken)]).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        assert_eq!(fs::read_to_string(&a).unwrap(), "old");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    }

    #[test]
    fn a_commit_that_fails_half_way_restores_what_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        fs::write(&a, "old").unwrap();
        let first = stage(&a, &a, &|w| w.write_all(b"new")).unwrap();
        // A target that became a non-empty directory: the rename over it fails.
        let d = dir.path().join("d.json");
        let second = stage(&d, &d, &|w| w.write_all(b"new")).unwrap();
        fs::create_dir(&d).unwrap();
        fs::write(d.join("x"), "").unwrap();
        assert!(commit(vec![first, second]).is_err());
        assert_eq!(fs::read_to_string(&a).unwrap(), "old");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_descriptor_path_is_written_through_and_a_regular_file_under_dev_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        fs::write(&log, "earlier\n").unwrap();
        let f = fs::OpenOptions::new().append(true).open(&log).unwrap();
        use std::os::fd::AsRawFd;
        let fd = PathBuf::from(format!("/dev/fd/{}", f.as_raw_fd()));
        assert_eq!(classify(&fd).unwrap(), Kind::Stream);
        write_all(&[(&fd, "report\n")]).unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "earlier\nreport\n");
        if Path::new("/dev/shm").is_dir() {
            let shm = Path::new("/dev/shm").join(format!("awsaudit-test-{}", std::process::id()));
            fs::write(&shm, "old").unwrap();
            assert_eq!(classify(&shm).unwrap(), Kind::Replace(shm.clone()));
            let _ = fs::remove_file(&shm);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_report_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        fs::write(&a, "old").unwrap();
        fs::set_permissions(&a, fs::Permissions::from_mode(0o640)).unwrap();
        write_all(&[(&a, "new")]).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "new");
        assert_eq!(
            fs::metadata(&a).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
}
