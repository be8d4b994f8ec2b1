//! Reading a JSON report back (a baseline, a shard to merge) from its file: streamed from a
//! reader, never held as text or a JSON tree, its findings spilled when there are many.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use crate::report::SCHEMA_VERSION;

/// What is read of a report before the whole of it: enough to refuse one that is not an
/// awsaudit report of this schema.
#[derive(Default, Deserialize)]
pub struct Header {
    pub schema_version: Option<Value>,
    pub run: Option<Value>,
}

/// Why a file is not read as a report.
pub enum Refused {
    /// Not JSON (or not readable to its end).
    NotJson(serde_json::Error),
    /// JSON without a schema_version: not an awsaudit report.
    NoSchema,
    /// A report of another schema version.
    Version(u64),
}

/// Reads `reader` to its end, keeping only the header, and refuses anything but a JSON
/// report of this build's schema.
pub fn header(mut reader: impl BufRead) -> Result<Header, Refused> {
    // Only an object has a schema_version (serde would read a struct from an array too).
    let first = first_byte(&mut reader).map_err(|e| Refused::NotJson(serde_json::Error::io(e)))?;
    let header = if first == Some(b'{') {
        serde_json::from_reader::<_, Header>(reader).map_err(|e| (!e.is_data()).then_some(e))
    } else {
        serde_json::from_reader::<_, serde::de::IgnoredAny>(reader)
            .map(|_| Header::default())
            .map_err(Some)
    };
    let header = match header {
        Ok(header) => header,
        // JSON, but not shaped as a report's head: no schema_version to be read.
        Err(None) => Header::default(),
        Err(Some(e)) => return Err(Refused::NotJson(e)),
    };
    match header.schema_version.as_ref().and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => Ok(header),
        Some(v) => Err(Refused::Version(v)),
        None => Err(Refused::NoSchema),
    }
}

/// The first byte past JSON's whitespace, left unread.
fn first_byte(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        let Some(at) = buf.iter().position(|b| !b" \t\r\n".contains(b)) else {
            if buf.is_empty() {
                return Ok(None);
            }
            let n = buf.len();
            reader.consume(n);
            continue;
        };
        let b = buf[at];
        reader.consume(at);
        return Ok(Some(b));
    }
}
