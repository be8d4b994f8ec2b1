//! Scratch files: what a fleet run keeps until its end and that grows with the organization
//! (the findings, each account's ECR registries, the pulls from them) is written to an
//! unnamed file in the system's temporary directory (`TMPDIR`), gone with the process
//! however it ends, and read back when it is needed. Memory keeps where each piece is.
//!
//! When no scratch file can be made or written, pieces are kept in memory instead, said
//! once: the run goes on with the memory it would have used.
//!
//! - [`Scratch`]: bytes appended, read back by [`Place`]
//! - [`Shelf`]: values kept under keys (accounts), read back by key

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sync;

/// An append-only scratch file.
#[derive(Debug)]
pub struct Scratch {
    file: Option<File>,
    /// Where the next piece goes; `None` once a write failed (pieces are then kept in
    /// memory, and what the file holds still reads back).
    offset: Option<u64>,
    /// What is kept, as warnings name it: "the findings".
    what: &'static str,
}

/// Where a piece is.
#[derive(Debug)]
pub enum Place {
    File {
        offset: u64,
        len: usize,
    },
    /// Kept in memory when the scratch file could not be written.
    Memory(Box<[u8]>),
}

impl Scratch {
    /// A new scratch file for `what` ("the findings"); in memory, said once, when none can
    /// be made.
    pub fn new(what: &'static str) -> Self {
        let file = tempfile::tempfile()
            .map_err(|e| {
                tracing::warn!(
                    error = %e,
                    dir = %std::env::temp_dir().display(),
                    "cannot make a scratch file for {what}: they are kept in memory (set TMPDIR to a writable directory)"
                )
            })
            .ok();
        Scratch {
            offset: file.as_ref().map(|_| 0),
            file,
            what,
        }
    }

    /// Appends `bytes`.
    pub fn put(&mut self, bytes: Vec<u8>) -> Place {
        if let (Some(file), Some(offset)) = (&self.file, self.offset) {
            match file.write_all_at(&bytes, offset) {
                Ok(()) => {
                    self.offset = Some(offset + bytes.len() as u64);
                    return Place::File {
                        offset,
                        len: bytes.len(),
                    };
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot write the scratch file of {}: the rest are kept in memory", self.what);
                    self.offset = None;
                }
            }
        }
        Place::Memory(bytes.into_boxed_slice())
    }

    /// The bytes at `at`; the error says what could not be read back.
    pub fn read<'a>(&self, at: &'a Place) -> Result<Cow<'a, [u8]>, String> {
        match at {
            Place::Memory(bytes) => Ok(Cow::Borrowed(bytes)),
            Place::File { offset, len } => {
                let file = self.file.as_ref().expect("file pieces have their file");
                let mut buf = vec![0; *len];
                file.read_exact_at(&mut buf, *offset).map_err(|e| {
                    format!(
                        "reading {} of the run back from its scratch file: {e}",
                        self.what
                    )
                })?;
                Ok(Cow::Owned(buf))
            }
        }
    }

    /// Whether pieces go to a file.
    #[cfg(test)]
    pub fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    #[cfg(test)]
    pub fn file(&self) -> Option<&File> {
        self.file.as_ref()
    }

    /// As after a failed write: what comes next is kept in memory.
    #[cfg(test)]
    pub fn stop_writing(&mut self) {
        self.offset = None;
    }
}

/// Values kept on a scratch file under keys, each key's in the order they were put.
/// Memory holds a key and a place per value.
#[derive(Debug)]
pub struct Shelf<T> {
    scratch: Scratch,
    places: BTreeMap<String, Vec<Place>>,
    /// What the first failed read said: a value that did not read back is missing from
    /// what its read returned, so what was built from it must not be delivered.
    failure: Mutex<Option<String>>,
    kept: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> Shelf<T> {
    pub fn new(what: &'static str) -> Self {
        Shelf {
            scratch: Scratch::new(what),
            places: BTreeMap::new(),
            failure: Mutex::new(None),
            kept: PhantomData,
        }
    }

    pub fn put(&mut self, key: &str, value: &T) {
        let bytes = serde_json::to_vec(value).expect("kept values serialise");
        let at = self.scratch.put(bytes);
        match self.places.get_mut(key) {
            Some(places) => places.push(at),
            None => {
                self.places.insert(key.to_string(), vec![at]);
            }
        }
    }

    /// The values kept under `key`, in the order they were put; those that do not read
    /// back are left out, and [`Shelf::failure`] says why.
    pub fn get(&self, key: &str) -> Vec<T> {
        let places = self.places.get(key).map_or(&[][..], Vec::as_slice);
        let mut values = Vec::with_capacity(places.len());
        for at in places {
            let read = self.scratch.read(at).and_then(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "{} of the run do not read back from its scratch file: {e}",
                        self.scratch.what
                    )
                })
            });
            match read {
                Ok(v) => values.push(v),
                Err(why) => {
                    sync::lock(&self.failure).get_or_insert(why);
                }
            }
        }
        values
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.places.keys().map(String::as_str)
    }

    pub fn failure(&self) -> Option<String> {
        sync::lock(&self.failure).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_by_key_in_the_order_put() {
        let mut shelf: Shelf<(String, Vec<u32>)> = Shelf::new("the test's values");
        assert!(shelf.scratch.on_disk());
        shelf.put("b", &("one".into(), vec![1, 2]));
        shelf.put("a", &("two".into(), vec![]));
        shelf.put("b", &("three".into(), vec![3]));
        assert_eq!(shelf.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            shelf.get("b"),
            [("one".into(), vec![1, 2]), ("three".into(), vec![3])]
        );
        assert_eq!(shelf.get("a"), [("two".into(), vec![])]);
        assert!(shelf.get("c").is_empty());
        assert_eq!(shelf.failure(), None);
    }

    #[test]
    fn a_value_that_does_not_read_back_is_a_failure_not_an_empty_answer() {
        let mut shelf: Shelf<Vec<u32>> = Shelf::new("the test's values");
        shelf.put("a", &vec![1]);
        shelf.put("a", &vec![2, 3, 4, 5]);
        // The file loses its second value.
        let file = shelf.scratch.file().unwrap();
        file.set_len(3).unwrap();
        assert_eq!(shelf.get("a"), [vec![1]]);
        let why = shelf.failure().expect("the failed read is kept");
        assert!(why.contains("the test's values"), "{why}");
    }

    #[test]
    fn pieces_stay_in_memory_once_the_file_cannot_be_written() {
        let mut scratch = Scratch::new("the test's values");
        let first = scratch.put(b"on disk".to_vec());
        assert!(matches!(first, Place::File { .. }));
        // A read-only handle of the same file: writes fail from here on.
        let path = format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            scratch.file().unwrap().as_raw_fd()
        });
        scratch.file = Some(File::open(path).unwrap());
        let second = scratch.put(b"in memory".to_vec());
        assert!(matches!(second, Place::Memory(_)));
        assert_eq!(&*scratch.read(&first).unwrap(), b"on disk");
        assert_eq!(&*scratch.read(&second).unwrap(), b"in memory");
    }
}
