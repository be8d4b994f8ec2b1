//! The run-wide limit on calls in flight, served by rank.
//!
//! A counting semaphore like tokio's, except that when a slot frees, it goes to the waiting
//! call of the lowest rank (then the longest waiting), not simply the longest waiting. A fleet
//! run ranks each account by when its collection started: the accounts that started first get
//! the slots they can use and the younger ones fill what is left, so accounts finish one
//! after another, each dropping its inventory as soon as it can, instead of all in flight
//! advancing together and finishing together, with the last few then running alone on a
//! fraction of the slots. Within one rank (a single-account run) it is first come, first
//! served.
//!
//! Once the last account has started, nothing is gained by finishing the oldest first (no
//! account waits to take its place) and the run ends with whichever has the most left to
//! do: from then on a free slot goes to the latest started (`serve_latest_first`), so the
//! last accounts run alongside the others instead of alone, each on its own
//! `--account-concurrency`, after them. Rank 0 (the caller's own account, or an account
//! another one waits for) goes first either way.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use crate::sync;

/// Who goes first for a slot: lower first. The caller's own account is 0.
pub type Rank = u64;

#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    /// Arrival number of the next waiter.
    arrivals: u64,
    /// Waiters, in the order they are served: (rank, arrival).
    waiting: BTreeMap<(Rank, u64), Waker>,
    /// Arrivals handed a slot and not yet woken to take it.
    granted: HashSet<u64>,
    /// The highest rank waiting goes first (after rank 0), instead of the lowest.
    latest_first: bool,
}

impl State {
    /// A slot comes back: to the first waiter, else to the free ones. The waiter to wake
    /// is returned so it is woken after the lock is let go.
    fn release(&mut self) -> Option<Waker> {
        match self
            .next_served()
            .and_then(|k| self.waiting.remove_entry(&k))
        {
            Some(((_, arrival), waker)) => {
                self.granted.insert(arrival);
                Some(waker)
            }
            None => {
                self.free += 1;
                None
            }
        }
    }

    /// The waiter served next: the lowest rank, or once the latest started go first, rank
    /// 0 else the highest; the longest waiting within it.
    fn next_served(&self) -> Option<(Rank, u64)> {
        let (&(lowest, arrival), _) = self.waiting.first_key_value()?;
        if !self.latest_first || lowest == 0 {
            return Some((lowest, arrival));
        }
        let (&(highest, _), _) = self.waiting.last_key_value()?;
        self.waiting.range((highest, 0)..).next().map(|(&k, _)| k)
    }
}

impl Slots {
    pub fn new(slots: usize) -> Self {
        Slots {
            state: Mutex::new(State {
                free: slots,
                ..State::default()
            }),
        }
    }

    /// From now on the highest rank waiting is served first (rank 0 still before it): the
    /// fleet's last account has started.
    pub fn serve_latest_first(&self) {
        sync::lock(&self.state).latest_first = true;
    }

    /// A slot, once one is free and no waiter served before it (see `State::next_served`)
    /// is left.
    pub fn acquire(&self, rank: Rank) -> Acquire<'_> {
        Acquire {
            slots: self,
            rank,
            arrival: None,
        }
    }

    fn release(&self) {
        let waker = sync::lock(&self.state).release();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Waiting for a slot. Dropped before it is ready, it gives back whatever it was handed.
#[derive(Debug)]
pub struct Acquire<'a> {
    slots: &'a Slots,
    rank: Rank,
    /// Set once it waits.
    arrival: Option<u64>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Slot<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Slot<'a>> {
        let slots = self.slots;
        let mut state = sync::lock(&slots.state);
        match self.arrival {
            None if state.free > 0 => {
                // A slot is free only when nobody waits (a release hands it to a waiter).
                state.free -= 1;
                Poll::Ready(Slot { slots })
            }
            None => {
                let arrival = state.arrivals;
                state.arrivals += 1;
                state
                    .waiting
                    .insert((self.rank, arrival), cx.waker().clone());
                drop(state);
                self.arrival = Some(arrival);
                Poll::Pending
            }
            Some(arrival) if state.granted.remove(&arrival) => {
                drop(state);
                self.arrival = None;
                Poll::Ready(Slot { slots })
            }
            Some(arrival) => {
                if let Some(w) = state.waiting.get_mut(&(self.rank, arrival)) {
                    if !w.will_wake(cx.waker()) {
                        *w = cx.waker().clone();
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(arrival) = self.arrival else {
            return;
        };
        let mut state = sync::lock(&self.slots.state);
        if state.waiting.remove(&(self.rank, arrival)).is_some() {
            return;
        }
        // Handed a slot it will never use: the next waiter's.
        if state.granted.remove(&arrival) {
            let waker = state.release();
            drop(state);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// A slot held; it goes back when dropped.
#[derive(Debug)]
pub struct Slot<'a> {
    slots: &'a Slots,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.slots.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Lets spawned tasks run until each waits.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    /// The order `waiters` (name, rank), arriving one after another while the one slot is
    /// held, are served in once it frees.
    async fn served(waiters: &[(&'static str, Rank)], latest_first: bool) -> Vec<&'static str> {
        let slots = Arc::new(Slots::new(1));
        let served = Arc::new(Mutex::new(Vec::new()));
        let held = slots.acquire(0).await;
        let mut tasks = Vec::new();
        for &(name, rank) in waiters {
            let (slots, served) = (slots.clone(), served.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire(rank).await;
                sync::lock(&served).push(name);
                settle().await;
            }));
            // Each waits before the next arrives.
            settle().await;
        }
        if latest_first {
            slots.serve_latest_first();
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        let order = sync::lock(&served).clone();
        order
    }

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_lowest_rank_then_the_longest_waiting() {
        let waiters = [("c", 3), ("a1", 1), ("b", 2), ("a2", 1)];
        assert_eq!(served(&waiters, false).await, ["a1", "a2", "b", "c"]);
    }

    #[tokio::test]
    async fn once_the_latest_go_first_a_freed_slot_goes_to_rank_0_then_the_highest() {
        let waiters = [("a", 1), ("c1", 3), ("b", 2), ("c2", 3), ("own", 0)];
        assert_eq!(served(&waiters, true).await, ["own", "c1", "c2", "b", "a"]);
    }

    #[tokio::test]
    async fn a_waiter_given_up_takes_no_slot_even_once_handed_one() {
        let slots = Slots::new(1);
        let held = slots.acquire(0).await;
        // Given up while waiting.
        {
            let mut waiting = std::pin::pin!(slots.acquire(1));
            assert!(futures::poll!(waiting.as_mut()).is_pending());
        }
        // Handed the slot, then given up before it took it.
        let mut handed = Box::pin(slots.acquire(1));
        assert!(futures::poll!(handed.as_mut()).is_pending());
        drop(held);
        drop(handed);
        let again = slots.acquire(5).await;
        assert!(futures::poll!(std::pin::pin!(slots.acquire(0))).is_pending());
        drop(again);
        let state = sync::lock(&slots.state);
        assert_eq!(
            (state.free, state.waiting.len(), state.granted.len()),
            (1, 0, 0)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_in_flight_than_slots() {
        let slots = Arc::new(Slots::new(3));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..200u64)
            .map(|i| {
                let (slots, in_flight, most) = (slots.clone(), in_flight.clone(), most.clone());
                tokio::spawn(async move {
                    let _slot = slots.acquire(i % 7).await;
                    let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 3);
        assert_eq!(sync::lock(&slots.state).free, 3);
    }
}
