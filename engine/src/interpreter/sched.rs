//! The scheduler's bookkeeping: which fibers can run now and which wait for the clock, kept
//! up to date whenever a fiber's phase or wake-up time changes, so that a step costs
//! O(log n) in the number of fibers instead of a scan of every live fiber.
//!
//! The step loop must pick exactly the fiber the former scan picked for the same seed
//! (golden histories depend on it): the draw `r % runnable.len()` indexed the runnable fibers
//! in ascending fiber index. [`ReadySet`] is a Fenwick tree over fibers in the order they
//! were created, whose k-th member is found in O(log n) by descending the tree, which gives
//! the same order.
//!
//! A fiber's id is the slot of its record, and the slot of a Map iteration that has ended
//! is given to a later fiber, so that a Map of many items keeps records only for the
//! iterations in flight. The scheduler therefore orders fibers by their creation number
//! (`Seq`), which is never reused and is what the fiber index was before slots were reused.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::clock::Timestamp;

use super::FiberId;

/// A set of fiber indices with O(log n) insert, remove and "the k-th smallest member".
#[derive(Debug, Default)]
pub(super) struct ReadySet {
    /// Fenwick tree (1-based in its arithmetic, stored 0-based): `tree[i - 1]` counts the
    /// members in `(i - lowbit(i), i]`.
    tree: Vec<u32>,
    member: Vec<bool>,
    len: usize,
}

impl ReadySet {
    /// Makes room for one more index (the next fiber), not a member yet.
    fn grow(&mut self) {
        let i = self.tree.len() + 1;
        // The new node covers `(i - lowbit(i), i]`; every index in it but `i` is already
        // present, so its count is the difference of two prefix sums.
        let low = i - (i & i.wrapping_neg());
        let count = self.prefix(i - 1) - self.prefix(low);
        self.tree.push(count as u32);
        self.member.push(false);
    }

    /// How many members are below index `n` (1-based `n`: members among `0..n`).
    fn prefix(&self, mut n: usize) -> usize {
        let mut sum = 0;
        while n > 0 {
            sum += self.tree[n - 1] as usize;
            n &= n - 1;
        }
        sum
    }

    fn add(&mut self, index: usize, delta: i32) {
        let mut i = index + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] = (self.tree[i - 1] as i32 + delta) as u32;
            i += i & i.wrapping_neg();
        }
    }

    fn set(&mut self, index: usize, on: bool) {
        if self.member[index] != on {
            self.member[index] = on;
            self.add(index, if on { 1 } else { -1 });
            if on {
                self.len += 1;
            } else {
                self.len -= 1;
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Keeps the first `n` indices' membership (`member[i]`) and drops the rest, building
    /// the tree again in one pass. The lists keep their room.
    fn truncate_and_rebuild(&mut self, n: usize) {
        self.member.truncate(n);
        self.tree.clear();
        self.tree.extend(self.member.iter().map(|&m| u32::from(m)));
        for i in 1..=n {
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                self.tree[parent - 1] += self.tree[i - 1];
            }
        }
        self.len = self.member.iter().filter(|&&m| m).count();
    }

    /// The member at position `k` (0-based) in ascending order; `k < len()`.
    pub(super) fn kth(&self, k: usize) -> usize {
        let n = self.tree.len();
        let mut pos = 0;
        let mut rest = k;
        let mut step = if n == 0 {
            0
        } else {
            1 << (usize::BITS - 1 - n.leading_zeros())
        };
        while step > 0 {
            let next = pos + step;
            if next <= n && (self.tree[next - 1] as usize) <= rest {
                pos = next;
                rest -= self.tree[next - 1] as usize;
            }
            step >>= 1;
        }
        // `pos` is the largest prefix length holding at most `k` members, so index `pos`
        // (0-based) is the (k+1)-th member.
        pos
    }
}

/// What the scheduler knows about one fiber: the part of its phase that decides when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Slot {
    /// Joined on its branches, or finished: never runnable by itself.
    #[default]
    Idle,
    /// About to enter a state: runnable now.
    Enter,
    /// Sleeping until the given instant.
    Sleeping(Timestamp),
    /// Waiting for a callback; runnable at the given instant (its timeout).
    Awaiting(Timestamp),
}

/// A fiber's creation number: the n-th fiber the execution made. The scheduler's order.
pub(super) type Seq = usize;

/// The runnable fibers and the timers of the others.
#[derive(Debug, Default)]
pub(super) struct Sched {
    /// Fibers (by creation number) that can run now: about to enter a state, or
    /// sleeping/awaiting with a wake-up time that has come.
    pub(super) ready: ReadySet,
    /// By fiber id.
    slots: Vec<Slot>,
    /// The creation number of the fiber in each id's slot.
    seq: Vec<Seq>,
    /// The fiber id of each creation number.
    fiber: Vec<FiberId>,
    /// Every sleeping fiber (by creation number) by wake-up time, due or not
    /// (`Execution::next_wake` reads the earliest).
    pub(super) sleeping: BTreeSet<(Timestamp, Seq)>,
    /// Every fiber (by creation number) waiting for a callback by its timeout, due or not.
    pub(super) awaiting: BTreeSet<(Timestamp, Seq)>,
    /// How many fibers are about to enter a state.
    pub(super) entering: usize,
}

impl Sched {
    /// Registers a new fiber in slot `fid`: the next slot (`fid` is the number of slots so
    /// far) or the slot of a fiber that has ended. Idle until [`Sched::update`].
    pub(super) fn add_fiber(&mut self, fid: FiberId) {
        if self.fiber.len() >= Self::COMPACT_FACTOR * self.slots.len() + Self::COMPACT_SLACK {
            self.compact();
        }
        let seq = self.fiber.len();
        self.ready.grow();
        self.fiber.push(fid);
        if fid == self.slots.len() {
            self.slots.push(Slot::Idle);
            self.seq.push(seq);
        } else {
            debug_assert_eq!(
                self.slots[fid],
                Slot::Idle,
                "a reused slot's fiber has ended"
            );
            self.seq[fid] = seq;
        }
    }

    /// Creation numbers per slot beyond which [`Sched::compact`] renumbers (plus
    /// `COMPACT_SLACK`).
    const COMPACT_FACTOR: usize = 2;
    const COMPACT_SLACK: usize = 64;

    /// Numbers the fibers in the slots again from 0, in the same order, and forgets the
    /// numbers of fibers whose slots were given to later ones.
    ///
    /// Why: the ready set and the creation-order list have an entry for every creation
    /// number ever given, so a Map of 100,000 items, which keeps a dozen records, searched
    /// a tree of 100,000 entries at every step (17 levels instead of 6). That made its cost
    /// grow faster than its items: 105.5 times a 1,000-item Map's instructions. Only the
    /// order of the numbers matters (a pick is the k-th runnable fiber in creation order),
    /// and renumbering keeps it, so every seed picks the same fibers as before. It runs
    /// once per `COMPACT_FACTOR * slots + COMPACT_SLACK` creations and costs one pass over
    /// the numbers given since the last time, so its share per fiber stays constant.
    ///
    /// The slots' numbers are found in order by that pass: a number still belongs to a slot
    /// when the slot's number is it (a slot given away has the later number), and the lists
    /// are rewritten in place, since a new number is never above the old one. It sorted the
    /// slots by number into new lists before: the sort's unpredictable branches made it
    /// 1.6 % of a 100,000-item Map's time for 1.3 % of its instructions, and the new lists,
    /// which then grew by doubling, another 1.6 % of its instructions.
    fn compact(&mut self) {
        // The old numbers' new ones are needed only for the timer sets.
        let timers = !(self.sleeping.is_empty() && self.awaiting.is_empty());
        let mut renumber = if timers {
            vec![Seq::MAX; self.fiber.len()]
        } else {
            Vec::new()
        };
        let mut new = 0;
        for old in 0..self.fiber.len() {
            let fid = self.fiber[old];
            // A slot's number is the last one given to it, so the slot is renumbered at its
            // last appearance here and no later one can match the new number.
            if self.seq[fid] == old {
                // `renumber` is empty when no fiber waits on a timer.
                if let Some(r) = renumber.get_mut(old) {
                    *r = new;
                }
                self.seq[fid] = new;
                self.fiber[new] = fid;
                self.ready.member[new] = self.ready.member[old];
                new += 1;
            }
        }
        debug_assert_eq!(new, self.seq.len(), "every slot has a number");
        self.fiber.truncate(new);
        self.ready.truncate_and_rebuild(new);
        // Every timer belongs to a fiber in a slot (a fiber leaves the timer sets before its
        // slot can be given away), and renumbering keeps the order, so the sets keep theirs.
        if timers {
            for set in [&mut self.sleeping, &mut self.awaiting] {
                *set = set.iter().map(|&(t, seq)| (t, renumber[seq])).collect();
            }
        }
        debug_assert!(self
            .sleeping
            .iter()
            .chain(&self.awaiting)
            .all(|&(_, s)| s != Seq::MAX));
    }

    /// Makes room for `n` more fibers at once, as a Parallel state starts them: the lists
    /// then grow once rather than doubling as each fiber is added (six reallocations of a
    /// ten-branch Parallel's). The per-slot lists get the room too: a new fiber takes a new
    /// slot unless one has ended, and room that stays unused is only capacity.
    pub(super) fn reserve(&mut self, n: usize) {
        self.ready.tree.reserve(n);
        self.ready.member.reserve(n);
        self.fiber.reserve(n);
        self.slots.reserve(n);
        self.seq.reserve(n);
    }

    /// The fiber with creation number `seq`.
    pub(super) fn fiber(&self, seq: Seq) -> FiberId {
        self.fiber[seq]
    }

    /// The creation number of the fiber in slot `fid`.
    #[cfg(any(test, debug_assertions))]
    pub(super) fn seq(&self, fid: FiberId) -> Seq {
        self.seq[fid]
    }

    /// The runnable fiber at position `k` (0-based) in creation order; `k < ready.len()`.
    pub(super) fn pick(&self, k: usize) -> FiberId {
        self.fiber[self.ready.kth(k)]
    }

    /// Records that fiber `fid` is now in `slot`, the clock being at `now`. Most calls
    /// change nothing (a fiber that goes on to its next state stays runnable), so that case
    /// is decided in line.
    #[inline]
    pub(super) fn update(&mut self, fid: FiberId, slot: Slot, now: Timestamp) {
        if self.slots[fid] != slot {
            self.change(fid, slot, now);
        }
    }

    fn change(&mut self, fid: FiberId, slot: Slot, now: Timestamp) {
        let old = self.slots[fid];
        let seq = self.seq[fid];
        match old {
            Slot::Idle => {}
            Slot::Enter => self.entering -= 1,
            Slot::Sleeping(w) => {
                self.sleeping.remove(&(w, seq));
            }
            Slot::Awaiting(w) => {
                self.awaiting.remove(&(w, seq));
            }
        }
        let ready = match slot {
            Slot::Idle => false,
            Slot::Enter => {
                self.entering += 1;
                true
            }
            Slot::Sleeping(w) => {
                self.sleeping.insert((w, seq));
                w <= now
            }
            Slot::Awaiting(w) => {
                self.awaiting.insert((w, seq));
                w <= now
            }
        };
        self.slots[fid] = slot;
        self.ready.set(seq, ready);
    }

    /// The clock moved from `from` to `to` (forward): the timers in between become runnable.
    pub(super) fn advance(&mut self, from: Timestamp, to: Timestamp) {
        if to <= from {
            return;
        }
        let range = (
            Bound::Excluded((from, Seq::MAX)),
            Bound::Included((to, Seq::MAX)),
        );
        for set in [&self.sleeping, &self.awaiting] {
            for &(_, seq) in set.range(range) {
                self.ready.set(seq, true);
            }
        }
    }

    /// Forgets every fiber but keeps the registrations (all idle): the execution ended.
    pub(super) fn clear(&mut self) {
        for slot in &mut self.slots {
            *slot = Slot::Idle;
        }
        // An empty set's tree is all zeros: no need to build it again fiber by fiber.
        self.ready.tree.fill(0);
        self.ready.member.fill(false);
        self.ready.len = 0;
        self.sleeping.clear();
        self.awaiting.clear();
        self.entering = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The k-th member must follow ascending index order, as the former scan's list did.
    #[test]
    fn kth_member_in_index_order() {
        let mut s = ReadySet::default();
        for _ in 0..37 {
            s.grow();
        }
        let members = [0usize, 3, 4, 16, 17, 31, 36];
        for &m in &members {
            s.set(m, true);
        }
        s.set(4, false);
        s.set(4, true);
        s.set(5, true);
        s.set(5, false);
        assert_eq!(s.len(), members.len());
        for (k, &m) in members.iter().enumerate() {
            assert_eq!(s.kth(k), m);
        }
        // Growing after members exist keeps the counts right.
        s.grow();
        s.set(37, true);
        assert_eq!(s.kth(members.len()), 37);
        assert_eq!(s.kth(3), 16);
    }

    /// A reused slot's new fiber comes after every fiber made before it, as a new slot's
    /// would: the scheduler orders by creation, not by slot.
    #[test]
    fn a_reused_slot_is_ordered_by_creation() {
        let now = Timestamp(0);
        let mut s = Sched::default();
        for fid in 0..3 {
            s.add_fiber(fid);
            s.update(fid, Slot::Enter, now);
        }
        s.update(1, Slot::Idle, now);
        s.add_fiber(1);
        s.update(1, Slot::Enter, now);
        s.add_fiber(3);
        s.update(3, Slot::Sleeping(now), now);
        let order: Vec<FiberId> = (0..s.ready.len()).map(|k| s.pick(k)).collect();
        assert_eq!(order, [0, 2, 1, 3]);
        assert_eq!((s.seq(1), s.fiber(3)), (3, 1));
        assert_eq!(s.sleeping.iter().next(), Some(&(now, 4)));
    }

    /// Renumbering keeps the picks: a Map-like churn of some 5,000 fibers over 7 slots (each new
    /// fiber takes the slot of one that ended), some runnable, some sleeping, gives the same
    /// k-th runnable fiber after every change as a list kept in creation order, and the
    /// scheduler's lists stay bounded by the slots, not the fibers made.
    #[test]
    fn renumbering_keeps_the_creation_order() {
        let now = Timestamp(10);
        let mut s = Sched::default();
        // (creation, fid, slot) of the fibers in the slots.
        let mut model: Vec<(usize, FiberId, Slot)> = Vec::new();
        let mut created = 0;
        let mut rng = crate::scope::Rng::new(7);
        for fid in 0..7 {
            s.add_fiber(fid);
            model.push((created, fid, Slot::Idle));
            created += 1;
        }
        for step in 0..30_000u64 {
            let r = rng.next_u64();
            let i = (r % model.len() as u64) as usize;
            let fid = model[i].1;
            let slot = match (r >> 8) % 4 {
                0 => Slot::Enter,
                1 => Slot::Sleeping(Timestamp((r >> 16) as i64 % 20)),
                2 => Slot::Awaiting(Timestamp((r >> 16) as i64 % 20)),
                _ => Slot::Idle,
            };
            s.update(fid, slot, now);
            model[i].2 = slot;
            if slot == Slot::Idle && step % 3 != 0 {
                // The fiber ended: a new one takes its slot, after every other.
                s.add_fiber(fid);
                model[i] = (created, fid, Slot::Idle);
                created += 1;
            }
            let mut ready: Vec<(usize, FiberId)> = model
                .iter()
                .filter(|(_, _, slot)| match *slot {
                    Slot::Enter => true,
                    Slot::Sleeping(w) | Slot::Awaiting(w) => w <= now,
                    Slot::Idle => false,
                })
                .map(|&(c, fid, _)| (c, fid))
                .collect();
            ready.sort_unstable();
            assert_eq!(s.ready.len(), ready.len(), "step {step}");
            for (k, &(_, fid)) in ready.iter().enumerate() {
                assert_eq!(s.pick(k), fid, "step {step}, runnable fiber {k}");
            }
            let mut timers: Vec<(Timestamp, usize)> = model
                .iter()
                .filter_map(|&(c, _, slot)| match slot {
                    Slot::Sleeping(w) => Some((w, c)),
                    _ => None,
                })
                .collect();
            timers.sort_unstable();
            let fibers: Vec<(Timestamp, FiberId)> = s
                .sleeping
                .iter()
                .map(|&(w, seq)| (w, s.fiber(seq)))
                .collect();
            let want: Vec<(Timestamp, FiberId)> = timers
                .iter()
                .map(|&(w, c)| (w, model.iter().find(|m| m.0 == c).unwrap().1))
                .collect();
            assert_eq!(
                fibers, want,
                "step {step}: sleeping fibers by time, then creation"
            );
        }
        assert!(created > 4_000, "{created} fibers made");
        assert!(
            s.fiber.len() <= 2 * 7 + 64,
            "{} creation numbers kept",
            s.fiber.len()
        );
    }
}
