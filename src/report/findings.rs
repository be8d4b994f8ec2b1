//! The report's findings, in report order. A single account's are held in memory. A
//! fleet's grow with the organization, so they are spilled as each account is checked: to
//! an unnamed scratch file (gone with the process, however it ends), one block per
//! (severity, check, account), and read back a block at a time whenever they are walked.
//! Only the blocks' keys stay in memory, so a run of 1,000 accounts holds a few bytes per
//! finding instead of the ~2 KB a finding takes in memory.
//!
//! The report's order is severity (worst first), check, account, region, resource: the
//! blocks, sorted by their key, are that order, each block sorted within.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use checks::names::Names;
use checks::{Finding, Severity};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::scratch::{Place, Scratch};
use crate::sync;

/// The findings of a report: read with [`Findings::iter`] or, a block at a time,
/// [`Findings::chunks`].
#[derive(Clone)]
pub struct Findings {
    len: usize,
    store: Store,
}

#[derive(Clone)]
enum Store {
    Memory(Vec<Finding>),
    Spilled(Arc<Spill>),
}

/// Findings written out, and where each block is.
struct Spill {
    scratch: Scratch,
    /// In report order.
    blocks: Vec<Block>,
    /// What the first failed read said (see [`Findings::failure`]).
    failure: Mutex<Option<String>>,
}

/// One (severity, check, account) of the findings one source (a checked account, the
/// fleet-wide checks, a shard) added.
struct Block {
    severity: Severity,
    /// The check and account, as indexes of the names the spiller interned: equal indexes
    /// are equal names.
    check: u32,
    account: u32,
    /// Who added it, the same way ([`NONE`] for no one): among equal keys, blocks are read
    /// in the sources' order (see [`Spiller::add`]).
    source: u32,
    /// How many findings it holds.
    count: u32,
    /// One compact JSON finding per line.
    at: Place,
}

/// The source of what is added after every named source.
const NONE: u32 = u32::MAX;

impl Default for Findings {
    fn default() -> Self {
        Findings::from(Vec::new())
    }
}

impl From<Vec<Finding>> for Findings {
    /// Findings already in report order.
    fn from(findings: Vec<Finding>) -> Self {
        Findings {
            len: findings.len(),
            store: Store::Memory(findings),
        }
    }
}

impl Findings {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every finding, in report order.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, Finding>> {
        self.chunks()
            .flat_map(|chunk| -> Box<dyn Iterator<Item = _>> {
                match chunk {
                    Cow::Borrowed(s) => Box::new(s.iter().map(Cow::Borrowed)),
                    Cow::Owned(v) => Box::new(v.into_iter().map(Cow::Owned)),
                }
            })
    }

    /// The findings in report order, in consecutive pieces: the whole list when it is in
    /// memory, else one (severity, check, account) at a time.
    pub fn chunks(&self) -> impl Iterator<Item = Cow<'_, [Finding]>> {
        let (memory, spill) = match &self.store {
            Store::Memory(v) => (Some(Cow::Borrowed(v.as_slice())), None),
            Store::Spilled(s) => (None, Some(s)),
        };
        let mut next = 0;
        let spilled = std::iter::from_fn(move || {
            let spill = spill?;
            let group = spill.group_at(next)?;
            next = group.end;
            let found = spill.read_group(group);
            // A walk ends at the first failed read: nothing after it is read as if whole.
            if sync::lock(&spill.failure).is_some() {
                return None;
            }
            Some(Cow::Owned(found))
        });
        memory.into_iter().chain(spilled)
    }

    /// Every finding as one slice: for renderers that lay a report out whole (their
    /// output is larger than the findings anyway).
    pub fn all(&self) -> Cow<'_, [Finding]> {
        match &self.store {
            Store::Memory(v) => Cow::Borrowed(v),
            Store::Spilled(_) => Cow::Owned(self.iter().map(Cow::into_owned).collect()),
        }
    }

    /// The findings with `judge` applied to each piece of [`chunks`](Self::chunks), in
    /// order: it may drop findings and change their fields, not their order. Errs when the
    /// spilled findings could not be read back.
    pub fn filter_chunks(self, mut judge: impl FnMut(&mut Vec<Finding>)) -> Result<Self, String> {
        match self.store {
            Store::Memory(mut v) => {
                judge(&mut v);
                Ok(Findings::from(v))
            }
            Store::Spilled(_) => {
                let mut out = Spiller::new();
                for chunk in self.chunks() {
                    let mut part = chunk.into_owned();
                    judge(&mut part);
                    out.add(None, part);
                }
                match self.failure() {
                    Some(why) => Err(why),
                    None => Ok(out.finish()),
                }
            }
        }
    }

    /// Why reading spilled findings back failed, if it did: a walk that met a failure
    /// ended early, so what it produced must not be delivered.
    pub fn failure(&self) -> Option<String> {
        match &self.store {
            Store::Memory(_) => None,
            Store::Spilled(s) => sync::lock(&s.failure).clone(),
        }
    }
}

impl std::fmt::Debug for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.store {
            Store::Memory(v) => v.fmt(f),
            Store::Spilled(s) => write!(
                f,
                "{} findings in {} spilled blocks",
                self.len,
                s.blocks.len()
            ),
        }
    }
}

impl Serialize for Findings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// How many findings read back from a report are kept in memory before they go to a
/// scratch file, a part at a time.
const READ_PART: usize = 4096;

impl<'de> Deserialize<'de> for Findings {
    /// A report's list, read back: in memory when short; a fleet's is spilled as it is
    /// read, [`READ_PART`] findings at a time, so reading a report (a baseline, a shard to
    /// merge) costs its blocks' keys, not its findings.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> serde::de::Visitor<'de> for List {
            type Value = Findings;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of findings")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Findings, A::Error> {
                let mut part = Vec::new();
                let mut spilled: Option<(Spiller, usize)> = None;
                while let Some(f) = seq.next_element::<Finding>()? {
                    part.push(f);
                    if part.len() == READ_PART {
                        let (spiller, parts) = spilled.get_or_insert_with(|| (Spiller::new(), 0));
                        // Parts in the order read: a finding two of them hold is the first's.
                        spiller.add(Some(&format!("{parts:010}")), std::mem::take(&mut part));
                        *parts += 1;
                    }
                }
                Ok(match spilled {
                    None => Findings::from(part),
                    Some((mut spiller, parts)) => {
                        spiller.add(Some(&format!("{parts:010}")), part);
                        spiller.finish()
                    }
                })
            }
        }
        d.deserialize_seq(List)
    }
}

impl Spill {
    /// The blocks from `start` that share its key, read together.
    fn group_at(&self, start: usize) -> Option<std::ops::Range<usize>> {
        let first = self.blocks.get(start)?;
        let len = self.blocks[start..]
            .iter()
            .take_while(|b| b.key() == first.key())
            .count();
        Some(start..start + len)
    }

    /// A group's findings in report order. Blocks of one key from several sources (one
    /// resource seen from two accounts) hold the same finding more than once: the first
    /// source's is kept, as when the outcomes are settled whole.
    fn read_group(&self, group: std::ops::Range<usize>) -> Vec<Finding> {
        let several = group.len() > 1;
        let mut out = Vec::new();
        for b in &self.blocks[group] {
            match self.read(b) {
                Ok(mut found) => out.append(&mut found),
                Err(why) => {
                    sync::lock(&self.failure).get_or_insert(why);
                    return Vec::new();
                }
            }
        }
        if several {
            let mut seen = HashSet::new();
            out.retain(|f| seen.insert(f.fingerprint.clone()));
            checks::registry::sort_findings(&mut out);
        }
        out
    }

    fn read(&self, b: &Block) -> Result<Vec<Finding>, String> {
        let bytes = self.scratch.read(&b.at)?;
        serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Finding>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("the run's findings in its scratch file do not read back: {e}"))
    }
}

impl Block {
    fn key(&self) -> (Severity, u32, u32) {
        (self.severity, self.check, self.account)
    }
}

/// Builds spilled [`Findings`] from the findings of several sources, each added whole.
pub struct Spiller {
    scratch: Scratch,
    blocks: Vec<Block>,
    len: usize,
    /// Check codes, accounts and sources, each once however many blocks name them.
    names: Names,
}

impl Default for Spiller {
    fn default() -> Self {
        Self::new()
    }
}

impl Spiller {
    /// A spiller over a new scratch file (see `crate::scratch`).
    pub fn new() -> Self {
        Spiller {
            scratch: Scratch::new("the findings"),
            blocks: Vec::new(),
            len: 0,
            names: Names::default(),
        }
    }

    /// Adds one source's findings, in any order. `source` (an account, a shard; none for
    /// what is added after them all, such as the fleet-wide checks) orders the sources for
    /// the findings two of them share: the first one's is kept, as it is within a source.
    pub fn add(&mut self, source: Option<&str>, mut findings: Vec<Finding>) {
        let source = source.map_or(NONE, |s| self.name(s));
        let mut seen = HashSet::new();
        findings.retain(|f| seen.insert(f.fingerprint.clone()));
        drop(seen);
        checks::registry::sort_findings(&mut findings);
        for block in findings.chunk_by(|a, b| {
            (a.severity, &a.check, &a.account) == (b.severity, &b.check, &b.account)
        }) {
            let mut bytes = Vec::new();
            for f in block {
                serde_json::to_writer(&mut bytes, f).expect("findings serialise");
                bytes.push(b'\n');
            }
            let at = self.scratch.put(bytes);
            let (check, account) = (self.name(&block[0].check), self.name(&block[0].account));
            self.blocks.push(Block {
                severity: block[0].severity,
                check,
                account,
                source,
                count: u32::try_from(block.len()).expect("fewer than 4 billion findings a block"),
                at,
            });
        }
        self.len += findings.len();
    }

    fn name(&mut self, s: &str) -> u32 {
        self.names.intern(s)
    }

    /// The findings, in report order.
    pub fn finish(mut self) -> Findings {
        let names = &self.names;
        let source = |i: u32| (i == NONE, (i != NONE).then(|| names.get(i)));
        self.blocks.sort_by(|a, b| {
            Reverse(a.severity)
                .cmp(&Reverse(b.severity))
                .then_with(|| names.get(a.check).cmp(names.get(b.check)))
                .then_with(|| names.get(a.account).cmp(names.get(b.account)))
                .then_with(|| source(a.source).cmp(&source(b.source)))
        });
        let mut spill = Spill {
            scratch: self.scratch,
            blocks: self.blocks,
            failure: Mutex::new(None),
        };
        spill.blocks.shrink_to_fit();
        // Only a key several sources added can hold a finding twice: count those once.
        let mut len = self.len;
        let mut start = 0;
        while let Some(group) = spill.group_at(start) {
            start = group.end;
            if group.len() > 1 {
                let total: usize = spill.blocks[group.clone()]
                    .iter()
                    .map(|b| b.count as usize)
                    .sum();
                len -= total - spill.read_group(group).len();
            }
        }
        Findings {
            len,
            store: Store::Spilled(Arc::new(spill)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(sev: Severity, check: &str, account: &str, region: &str, resource: &str) -> Finding {
        Finding {
            check: check.into(),
            name: "n".into(),
            severity: sev,
            account: account.into(),
            region: region.into(),
            resource: resource.into(),
            message: format!("{check} on {resource}"),
            remediation: "r".into(),
            evidence: vec![],
            fingerprint: format!("{check}|{account}|{region}|{resource}"),
            change: None,
            cost: None,
            owner: None,
        }
    }

    /// Three accounts' findings over severities, checks, regions and resources.
    fn account(account: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, sev) in [Severity::Low, Severity::Critical, Severity::Medium]
            .into_iter()
            .enumerate()
        {
            for check in ["ECS002", "ECS001", "VPC003"] {
                for region in ["us-west-2", "eu-west-1"] {
                    out.push(finding(
                        sev,
                        check,
                        account,
                        region,
                        &format!("arn:{i}:{check}"),
                    ));
                }
            }
        }
        out.reverse();
        out
    }

    fn spilled(sources: &[(Option<&str>, Vec<Finding>)]) -> Findings {
        let mut s = Spiller::new();
        assert!(
            s.scratch.on_disk(),
            "the test machine has a temporary directory"
        );
        for (source, findings) in sources {
            s.add(*source, findings.clone());
        }
        s.finish()
    }

    fn fingerprints<'a>(it: impl Iterator<Item = Cow<'a, Finding>>) -> Vec<String> {
        it.map(|f| f.fingerprint.clone()).collect()
    }

    #[test]
    fn spilled_findings_read_back_in_the_order_of_one_sorted_list() {
        let (a, b, c) = (account("333"), account("111"), account("222"));
        let findings = spilled(&[
            (Some("333"), a.clone()),
            (Some("111"), b.clone()),
            (Some("222"), c.clone()),
        ]);
        let mut whole: Vec<Finding> = [a, b, c].concat();
        checks::registry::sort_findings(&mut whole);
        assert_eq!(findings.len(), whole.len());
        assert_eq!(
            fingerprints(findings.iter()),
            fingerprints(whole.iter().map(Cow::Borrowed))
        );
        let pieces: Vec<Finding> = findings.chunks().flat_map(Cow::into_owned).collect();
        assert_eq!(pieces.len(), whole.len());
        assert!(findings.chunks().count() > 3, "read a block at a time");
        // Serialised as the list would be.
        assert_eq!(
            serde_json::to_string(&findings).unwrap(),
            serde_json::to_string(&whole).unwrap()
        );
        assert_eq!(findings.failure(), None);
    }

    #[test]
    fn a_finding_two_sources_hold_is_the_first_sources_and_counted_once() {
        let mut seen_from_b = finding(Severity::High, "ECR008", "111", "us-east-1", "arn:repo");
        seen_from_b.owner = Some("from 222".into());
        let mut seen_from_a = seen_from_b.clone();
        seen_from_a.owner = Some("from 111".into());
        let fleet_wide = finding(Severity::High, "ECR008", "111", "us-east-1", "arn:other");
        // Added in the order accounts finish, not their order.
        let findings = spilled(&[
            (None, vec![fleet_wide]),
            (Some("222"), vec![seen_from_b.clone(), seen_from_b]),
            (Some("111"), vec![seen_from_a]),
        ]);
        assert_eq!(findings.len(), 2);
        let all = findings.all();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].resource, "arn:other");
        assert_eq!(all[1].owner.as_deref(), Some("from 111"));
    }

    #[test]
    fn a_long_list_read_back_is_spilled_and_reads_as_written() {
        // Over two parts, in report order, as a report holds them.
        let mut many: Vec<Finding> = (0..READ_PART + 10)
            .map(|i| {
                let account = format!("{:012}", i % 7);
                let sev = [Severity::High, Severity::Low][i % 2];
                finding(
                    sev,
                    "ECS001",
                    &account,
                    "us-east-1",
                    &format!("arn:r{i:05}"),
                )
            })
            .collect();
        checks::registry::sort_findings(&mut many);
        let json = serde_json::to_string(&many).unwrap();
        let back: Findings = serde_json::from_str(&json).unwrap();
        assert!(matches!(back.store, Store::Spilled(_)), "{back:?}");
        assert_eq!(back.len(), many.len());
        assert_eq!(back.all().as_ref(), many.as_slice());
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.failure(), None);
        // A short list stays in memory.
        let few: Findings =
            serde_json::from_str(&serde_json::to_string(&many[..3]).unwrap()).unwrap();
        assert!(matches!(few.store, Store::Memory(_)));
        assert_eq!(few.all().as_ref(), &many[..3]);
    }

    #[test]
    fn judging_a_piece_at_a_time_keeps_the_order() {
        let findings = spilled(&[(Some("111"), account("111")), (Some("222"), account("222"))]);
        let mut whole = findings.all().into_owned();
        let judge = |part: &mut Vec<Finding>| {
            part.retain(|f| f.region != "eu-west-1");
            for f in part.iter_mut() {
                f.owner = Some(f.account.clone());
            }
        };
        let judged = findings.filter_chunks(judge).unwrap();
        judge(&mut whole);
        assert_eq!(judged.len(), whole.len());
        assert_eq!(judged.all().as_ref(), whole.as_slice());
    }

    #[test]
    fn findings_kept_in_memory_when_the_scratch_file_fails_still_read_back() {
        let mut s = Spiller::new();
        s.add(Some("111"), account("111"));
        // As after a failed write: the rest stays in memory.
        s.scratch.stop_writing();
        s.add(Some("222"), account("222"));
        assert!(s.blocks.iter().any(|b| matches!(b.at, Place::Memory(_))));
        let findings = s.finish();
        let mut whole = [account("111"), account("222")].concat();
        checks::registry::sort_findings(&mut whole);
        assert_eq!(findings.all().as_ref(), whole.as_slice());
    }

    #[test]
    fn a_scratch_file_that_no_longer_reads_back_is_a_failure_not_fewer_findings() {
        // Account 222's blocks are the second half of the file, and in report order each
        // follows account 111's block of the same key.
        let findings = spilled(&[(Some("111"), account("111")), (Some("222"), account("222"))]);
        let Store::Spilled(spill) = &findings.store else {
            panic!("spilled")
        };
        let file = spill.scratch.file().unwrap();
        file.set_len(file.metadata().unwrap().len() / 2).unwrap();
        assert_eq!(findings.failure(), None);
        // The walk reads 111's first block (two regions), then stops at 222's: nothing after
        // a failed read is read as if the report were whole.
        assert_eq!(findings.iter().count(), 2);
        let why = findings.failure().expect("the failed read is kept");
        assert!(why.contains("scratch file"), "{why}");
        assert!(findings.filter_chunks(|_| {}).is_err());
    }
}
