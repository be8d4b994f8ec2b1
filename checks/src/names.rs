//! Strings kept once, named by a small index: what a fleet run repeats for every call or
//! finding (accounts, regions, operations, check codes) costs four bytes a mention instead
//! of a string each.

use std::collections::HashMap;
use std::sync::Arc;

/// An interner: each distinct string once, by the index it was first given.
#[derive(Debug, Default, Clone)]
pub struct Names {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
}

impl Names {
    /// The index of `s`, added when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let i = u32::try_from(self.names.len()).expect("fewer than 4 billion names");
        let n: Arc<str> = Arc::from(s);
        self.names.push(n.clone());
        self.index.insert(n, i);
        i
    }

    /// The index of `s`, if it was interned.
    pub fn find(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }

    /// The string at `i`, which this interner gave.
    pub fn get(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_is_kept_once_and_found_by_its_index() {
        let mut n = Names::default();
        let a = n.intern("111122223333");
        let b = n.intern("us-east-1");
        assert_ne!(a, b);
        assert_eq!(n.intern("111122223333"), a);
        assert_eq!(n.get(a), "111122223333");
        assert_eq!(n.find("us-east-1"), Some(b));
        assert_eq!(n.find("eu-west-1"), None);
    }
}
