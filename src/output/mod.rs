//! Where the report goes: local files, stdout and S3 objects (`--output`, `--output-dir`),
//! paired with the formats and checked before the audit starts; and the ticketing system
//! (`--webhook`).
//!
//! - `file`: local report files, written all or none
//! - `s3`: S3 objects
//! - `webhook`: batches of findings to open and close, spooled until delivered

pub mod file;
pub mod s3;
pub mod webhook;

use std::path::{Path, PathBuf};

use crate::cli::{self, Format};
use crate::error::AppError;
use crate::fleet;
use crate::render::{self, render};
use crate::report::Report;

/// Where one rendering of the report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
    S3(s3::S3Location),
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Stdout => write!(f, "stdout"),
            Destination::File(p) => write!(f, "{}", p.display()),
            Destination::S3(l) => write!(f, "{l}"),
        }
    }
}

/// A place named on the command line: a local path or an S3 URL.
enum Place {
    Local(PathBuf),
    /// An S3 key, or a prefix (empty or ending in `/`).
    S3 {
        bucket: String,
        key: String,
    },
}

impl Place {
    /// An S3 prefix: every format goes under it with its standard name.
    fn is_s3_prefix(&self) -> bool {
        matches!(self, Place::S3 { key, .. } if key.is_empty() || key.ends_with('/'))
    }
}

fn place(arg: &str) -> Result<Place, AppError> {
    match s3::parse_url(arg) {
        Some(parsed) => {
            let (bucket, key) = parsed?;
            Ok(Place::S3 { bucket, key })
        }
        None => Ok(Place::Local(PathBuf::from(arg))),
    }
}

/// `prefix` + `name`, with one `/` between them.
fn under_prefix(prefix: &str, name: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{name}")
    } else {
        format!("{prefix}/{name}")
    }
}

/// Pairs each `--format` with where it goes: the `--output`s in order, files (or objects)
/// under `--output-dir` or an `s3://BUCKET/PREFIX/` output, or stdout for a single format.
/// Every local destination is checked to be writable before any AWS call (S3 buckets are
/// checked by [`s3::S3Sink::connect`]); two formats never share a file.
pub fn resolve_outputs(
    out: &cli::OutputArgs,
    shard: Option<fleet::Shard>,
) -> Result<Vec<(Format, Destination)>, AppError> {
    let formats = if out.formats.is_empty() {
        vec![Format::Table]
    } else {
        out.formats.clone()
    };
    let mut seen = std::collections::BTreeSet::new();
    if let Some(f) = formats.iter().find(|f| !seen.insert(**f)) {
        return Err(AppError::Config(format!(
            "--format {} is given twice",
            f.name()
        )));
    }
    // A standard name, tagged with the shard so N workers writing to one place never
    // overwrite each other.
    let standard = |f: Format| match shard {
        Some(s) => s.file_name(f.file_name()),
        None => f.file_name().to_string(),
    };
    let in_place = |p: &Place, f: Format| match p {
        Place::Local(dir) => Destination::File(dir.join(standard(f))),
        Place::S3 { bucket, key } => Destination::S3(s3::S3Location {
            bucket: bucket.clone(),
            key: under_prefix(key, &standard(f)),
        }),
    };
    let single_prefix = match out.outputs.as_slice() {
        [only] => Some(place(only)?).filter(Place::is_s3_prefix),
        _ => None,
    };
    let outputs: Vec<(Format, Destination)> = match (&out.output_dir, out.outputs.len()) {
        (Some(dir), _) => {
            let p = place(dir)?;
            if let Place::Local(path) = &p {
                if !path.is_dir() {
                    return Err(AppError::Config(format!(
                        "--output-dir {}: {}",
                        path.display(),
                        if path.exists() {
                            "is not a directory"
                        } else {
                            "does not exist"
                        }
                    )));
                }
            }
            formats.iter().map(|f| (*f, in_place(&p, *f))).collect()
        }
        (None, 1) if single_prefix.is_some() => {
            let p = single_prefix.expect("matched");
            formats.iter().map(|f| (*f, in_place(&p, *f))).collect()
        }
        (None, 0) if formats.len() == 1 => vec![(formats[0], Destination::Stdout)],
        (None, 0) => {
            return Err(AppError::Config(format!(
            "{} formats need somewhere to go: one --output FILE per --format, or --output-dir DIR",
            formats.len()
        )))
        }
        (None, n) if n == formats.len() => formats
            .iter()
            .zip(&out.outputs)
            .map(|(f, o)| {
                Ok((
                    *f,
                    match place(o)? {
                        // `-` is standard output, as for most command-line tools.
                        Place::Local(path) if path.as_os_str() == "-" => Destination::Stdout,
                        p if p.is_s3_prefix() => in_place(&p, *f),
                        Place::Local(path) => Destination::File(path),
                        Place::S3 { bucket, key } => {
                            Destination::S3(s3::S3Location { bucket, key })
                        }
                    },
                ))
            })
            .collect::<Result<_, AppError>>()?,
        (None, n) => {
            return Err(AppError::Config(format!(
                "{n} --output for {} --format: give one --output per --format, in the same order (or one s3://BUCKET/PREFIX/ for all)",
                formats.len()
            )))
        }
    };
    let to_stdout: Vec<&str> = outputs
        .iter()
        .filter(|(_, d)| *d == Destination::Stdout)
        .map(|(f, _)| f.name())
        .collect();
    if to_stdout.len() > 1 {
        return Err(AppError::Config(format!(
            "--output -: given for --format {}; only one format can go to standard output",
            to_stdout.join(" and --format ")
        )));
    }
    let mut paths = std::collections::BTreeMap::new();
    for (format, dest) in &outputs {
        let id = match dest {
            Destination::File(path) => normalise(path).display().to_string(),
            Destination::S3(l) => l.to_string(),
            Destination::Stdout => continue,
        };
        if let Some(other) = paths.insert(id, *format) {
            return Err(AppError::Config(format!(
                "--output {dest}: given for both --format {} and --format {}",
                other.name(),
                format.name()
            )));
        }
        if let Destination::File(path) = dest {
            file::preflight(path)?;
        }
    }
    Ok(outputs)
}

/// An absolute, lexically normalised path (`a/./b`, `a/x/../b` → `a/b`), to tell that two
/// spellings name one file.
fn normalise(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Connects to the S3 buckets among `outputs` and checks each (before any audit call);
/// `None` when nothing goes to S3.
pub async fn connect_s3(
    outputs: &[(Format, Destination)],
    profile: Option<&str>,
    endpoint_url: Option<&str>,
) -> Result<Option<s3::S3Sink>, AppError> {
    let buckets: Vec<String> = outputs
        .iter()
        .filter_map(|(_, d)| match d {
            Destination::S3(l) => Some(l.bucket.clone()),
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if buckets.is_empty() {
        return Ok(None);
    }
    s3::S3Sink::connect(profile, endpoint_url, &buckets)
        .await
        .map(Some)
}

/// Writes the files, each rendered straight into place (all of them or none, see
/// [`file::write_all_with`]), then stdout, then S3 objects whole. When an upload fails, the
/// renderings that did not reach S3 are kept in a local directory the error names, so a
/// long fleet run is never lost to a transient S3 error.
pub async fn deliver(
    report: &Report,
    outputs: &[(Format, Destination)],
    s3: Option<&s3::S3Sink>,
    stdout: &mut dyn FnMut(&str) -> Result<(), AppError>,
) -> Result<(), AppError> {
    // Files are written by their renderers straight into place (all of them or none); only
    // stdout and S3 take a report whole.
    let writers: Vec<(&Path, file::BoxedWriter<'_>)> = outputs
        .iter()
        .filter_map(|(format, dest)| match dest {
            Destination::File(path) => {
                let format = *format;
                let w: file::BoxedWriter<'_> = Box::new(move |out: &mut dyn std::io::Write| {
                    render::render_to(report, format, out)
                });
                Some((path.as_path(), w))
            }
            _ => None,
        })
        .collect();
    let files: Vec<(&Path, file::Writer<'_>)> = writers.iter().map(|(p, w)| (*p, &**w)).collect();
    file::write_all_with(&files)?;
    let rendered: Vec<(String, &Destination)> = outputs
        .iter()
        .filter(|(_, dest)| !matches!(dest, Destination::File(_)))
        .map(|(format, dest)| (render(report, *format), dest))
        .collect();
    // A fleet's findings are read back as they are rendered: a failed read cut them short.
    if let Some(why) = report.findings.failure() {
        return Err(AppError::Config(why));
    }
    for (text, dest) in &rendered {
        if let Destination::Stdout = dest {
            stdout(text)?;
        }
    }
    let mut failed: Vec<(&String, &s3::S3Location, String)> = Vec::new();
    for (text, dest) in &rendered {
        if let Destination::S3(to) = dest {
            let sink = s3.ok_or_else(|| {
                AppError::Config(format!("{to}: S3 was not connected before the audit"))
            })?;
            if let Err(e) = sink.put(to, text).await {
                failed.push((text, to, e));
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let keep = tempfile::Builder::new()
        .prefix("awsaudit-unsent-")
        .tempdir()
        .map(|d| d.keep())
        .map_err(|e| {
            AppError::Config(format!(
                "S3 upload failed ({}), and the reports could not be kept locally: {e}",
                failed[0].2
            ))
        })?;
    for (i, (text, to, _)) in failed.iter().enumerate() {
        let name = to.key.rsplit('/').next().unwrap_or("report");
        let mut path = keep.join(name);
        if path.exists() {
            path = keep.join(format!("{i}-{name}"));
        }
        file::write_private(&path, text)?;
    }
    Err(AppError::Config(format!(
        "could not write {} report(s) to S3 ({}); they are kept in {}",
        failed.len(),
        failed[0].2,
        keep.display()
    )))
}
