//! The newest Fargate platform version for Linux and for Windows tasks, as dated data
//! (`checks/data/fargate-platform-versions.json`, with its `as_of` and `source`). ECS020
//! judges pinned versions against it; `LATEST` always resolves to these.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::date::{parse_date, Date};

/// Where the data lives, as messages asking for an update name it.
pub const PATH: &str = "checks/data/fargate-platform-versions.json";

const JSON: &str = include_str!("../data/fargate-platform-versions.json");

#[derive(Deserialize)]
struct Raw {
    as_of: String,
    source: String,
    linux: String,
    windows: String,
}

/// The newest platform versions, and when that was last checked.
#[derive(Debug)]
pub struct Latest {
    pub as_of: Date,
    pub source: String,
    pub linux: Version,
    pub windows: Version,
}

/// A platform version as (major, minor, patch).
pub type Version = (u32, u32, u32);

/// `1.4.0` → (1, 4, 0); anything else (`LATEST`, garbage) → `None`.
pub fn parse(version: &str) -> Option<Version> {
    let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

/// `(1, 4, 0)` → `1.4.0`.
pub fn label(v: Version) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

fn load(text: &str) -> Result<Latest, String> {
    let raw: Raw = serde_json::from_str(text).map_err(|e| format!("{PATH}: {e}"))?;
    let version = |v: &str| parse(v).ok_or_else(|| format!("{PATH}: bad version {v:?}"));
    Ok(Latest {
        as_of: parse_date(&raw.as_of).ok_or_else(|| format!("{PATH}: bad as_of"))?,
        source: raw.source,
        linux: version(&raw.linux)?,
        windows: version(&raw.windows)?,
    })
}

/// The bundled data, parsed once (the unit tests check it parses).
pub static LATEST: LazyLock<Latest> =
    LazyLock::new(|| load(JSON).expect("bundled Fargate platform versions are valid"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_data_parses_and_is_sourced() {
        let l = &*LATEST;
        assert_eq!(l.linux, (1, 4, 0));
        assert_eq!(l.windows, (1, 0, 0));
        assert!(l.source.starts_with("https://docs.aws.amazon.com/"));
    }

    #[test]
    fn versions_parse_strictly() {
        assert_eq!(parse("1.3.0"), Some((1, 3, 0)));
        assert_eq!(parse(" 1.4.0 "), Some((1, 4, 0)));
        for bad in ["LATEST", "1.4", "1.4.0.1", "", "a.b.c"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(label((1, 4, 0)), "1.4.0");
        assert!(load("{}").is_err());
    }
}
