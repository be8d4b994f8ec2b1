//! Files written whole or not at all: the bytes go to a temporary file beside the target,
//! synced, then renamed over it. Reports, recordings and the webhook spool all write so.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory a file is written in (`.` for a bare name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `bytes` in a synced temporary file beside `path`, not yet in place, with the permissions
/// of the file it will replace, or those any new file gets here (0666 less the umask) rather
/// than a temporary file's private 0600.
pub fn stage(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    stage_with(path, &mut |w| w.write_all(bytes))
}

/// [`stage`], with the content written by `write` straight into the temporary file (a
/// large report is never held whole in memory a second time). Buffered.
pub fn stage_with(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let existing = fs::metadata(path).ok();
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = existing
            .as_ref()
            .map_or(0o666, |m| m.permissions().mode() & 0o7777);
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    let mut temp = builder.tempfile_in(dir_of(path))?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, temp.as_file_mut());
        write(&mut buffered)?;
        buffered.flush()?;
    }
    temp.as_file().sync_all()?;
    // The mode given at creation was masked by the umask; an existing file's is restored.
    if let Some(m) = existing {
        temp.as_file().set_permissions(m.permissions())?;
    }
    Ok(temp)
}

/// Writes `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    stage(path, bytes)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}
