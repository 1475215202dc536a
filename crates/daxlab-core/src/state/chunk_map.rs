//! A persistent map from `u64` keys, so the machine clones in O(1): a three-level radix tree
//! whose nodes sit behind `Rc`. Values live in chunks of [`CHUNK`] slots; a region node holds
//! [`REGION`] chunks; a small ordered index holds the regions. A clone shares everything; the
//! first write after a clone copies only the index (a short sorted vector), one region node and
//! one chunk.
//!
//! Used for every collection that can grow with the size of a run (frames, block maps, page
//! caches, page tables, a RAM disk's pages), so that a checkpoint of a machine holding 256 MiB
//! of data costs a few kilobytes, and a lookup is two array indexings after a short search.

use std::rc::Rc;

/// Slots per chunk.
pub const CHUNK: u64 = 64;
/// Chunks per region node.
pub const REGION: u64 = 64;
const SPAN: u64 = CHUNK * REGION;

#[derive(Clone)]
struct Chunk<V> {
    slots: [Option<V>; CHUNK as usize],
    count: u32,
}

impl<V> Chunk<V> {
    fn new() -> Self {
        Chunk {
            slots: std::array::from_fn(|_| None),
            count: 0,
        }
    }
}

struct Region<V> {
    chunks: Vec<Option<Rc<Chunk<V>>>>,
    count: u32,
}

impl<V> Clone for Region<V> {
    fn clone(&self) -> Self {
        Region {
            chunks: self.chunks.clone(),
            count: self.count,
        }
    }
}

impl<V> Region<V> {
    fn new() -> Self {
        Region {
            chunks: (0..REGION).map(|_| None).collect(),
            count: 0,
        }
    }
}

/// Region nodes by region number, sorted.
type Index<V> = Rc<Vec<(u64, Rc<Region<V>>)>>;

/// A persistent `u64 → V` map with cheap clones and in-order iteration.
pub struct ChunkMap<V> {
    regions: Index<V>,
    len: usize,
}

impl<V> Clone for ChunkMap<V> {
    fn clone(&self) -> Self {
        ChunkMap {
            regions: self.regions.clone(),
            len: self.len,
        }
    }
}

impl<V> Default for ChunkMap<V> {
    fn default() -> Self {
        ChunkMap {
            regions: Rc::new(Vec::new()),
            len: 0,
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for ChunkMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: PartialEq> PartialEq for ChunkMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

fn split(k: u64) -> (u64, usize, usize) {
    (
        k / SPAN,
        ((k % SPAN) / CHUNK) as usize,
        (k % CHUNK) as usize,
    )
}

impl<V> ChunkMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn region(&self, r: u64) -> Result<usize, usize> {
        self.regions.binary_search_by_key(&r, |(n, _)| *n)
    }

    fn chunk(&self, k: u64) -> Option<&Chunk<V>> {
        let (r, c, _) = split(k);
        let i = self.region(r).ok()?;
        self.regions[i].1.chunks[c].as_deref()
    }

    /// The value at `k`.
    pub fn get(&self, k: u64) -> Option<&V> {
        self.chunk(k)?.slots[(k % CHUNK) as usize].as_ref()
    }

    /// Whether `k` has a value.
    pub fn contains_key(&self, k: u64) -> bool {
        self.get(k).is_some()
    }

    /// Entries with keys in `range`, in key order.
    pub fn range(&self, range: impl std::ops::RangeBounds<u64>) -> impl Iterator<Item = (u64, &V)> {
        use std::ops::Bound;
        let lo = match range.start_bound() {
            Bound::Included(k) => *k,
            Bound::Excluded(k) => k.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let hi = match range.end_bound() {
            Bound::Included(k) => Some(*k),
            Bound::Excluded(k) => k.checked_sub(1),
            Bound::Unbounded => Some(u64::MAX),
        }
        .filter(|h| *h >= lo);
        let regions = hi.map(|hi| {
            let a = self.regions.partition_point(|(n, _)| *n < lo / SPAN);
            let b = self.regions.partition_point(|(n, _)| *n <= hi / SPAN);
            &self.regions[a..b]
        });
        let hi = hi.unwrap_or(0);
        regions.into_iter().flatten().flat_map(move |(r, region)| {
            let r = *r;
            // Only the chunks of this region that overlap [lo, hi].
            let c_lo = if r == lo / SPAN {
                ((lo % SPAN) / CHUNK) as usize
            } else {
                0
            };
            let c_hi = if r == hi / SPAN {
                ((hi % SPAN) / CHUNK) as usize
            } else {
                REGION as usize - 1
            };
            region.chunks[c_lo..=c_hi]
                .iter()
                .enumerate()
                .filter_map(move |(c, ch)| Some((c_lo + c, ch.as_deref()?)))
                .flat_map(move |(c, ch)| {
                    let base = r * SPAN + c as u64 * CHUNK;
                    ch.slots
                        .iter()
                        .enumerate()
                        .filter_map(move |(i, v)| Some((base + i as u64, v.as_ref()?)))
                        .filter(move |(k, _)| *k >= lo && *k <= hi)
                })
        })
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.range(..)
    }

    /// The smallest key.
    pub fn first_key(&self) -> Option<u64> {
        self.iter().next().map(|(k, _)| k)
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The first entry at or after `k`.
    pub fn first_from(&self, k: u64) -> Option<(u64, &V)> {
        self.range(k..).next()
    }
}

/// The chunk holding `k`, made writable (copying what a clone shares), created if missing.
fn chunk_mut<V: Clone>(regions: &mut Index<V>, k: u64) -> &mut Chunk<V> {
    let (r, c, _) = split(k);
    let i = match regions.binary_search_by_key(&r, |(n, _)| *n) {
        Ok(i) => i,
        Err(i) => {
            Rc::make_mut(regions).insert(i, (r, Rc::new(Region::new())));
            i
        }
    };
    let region = Rc::make_mut(&mut Rc::make_mut(regions)[i].1);
    if region.chunks[c].is_none() {
        region.count += 1;
    }
    Rc::make_mut(region.chunks[c].get_or_insert_with(|| Rc::new(Chunk::new())))
}

impl<V: Clone> ChunkMap<V> {
    fn chunk_mut(&mut self, k: u64) -> &mut Chunk<V> {
        chunk_mut(&mut self.regions, k)
    }

    /// The value at `k`, mutably (copying what is shared with a clone).
    pub fn get_mut(&mut self, k: u64) -> Option<&mut V> {
        self.get(k)?;
        self.chunk_mut(k).slots[(k % CHUNK) as usize].as_mut()
    }

    /// Set `k` to `v`, returning the old value.
    pub fn insert(&mut self, k: u64, v: V) -> Option<V> {
        let chunk = self.chunk_mut(k);
        let old = chunk.slots[(k % CHUNK) as usize].replace(v);
        if old.is_none() {
            chunk.count += 1;
            self.len += 1;
        }
        old
    }

    /// Remove `k`, returning its value.
    pub fn remove(&mut self, k: u64) -> Option<V> {
        self.get(k)?;
        let chunk = self.chunk_mut(k);
        let old = chunk.slots[(k % CHUNK) as usize].take();
        chunk.count -= 1;
        let empty = chunk.count == 0;
        self.len -= 1;
        if empty {
            let (r, c, _) = split(k);
            if let Ok(i) = self.region(r) {
                let regions = Rc::make_mut(&mut self.regions);
                let region = Rc::make_mut(&mut regions[i].1);
                region.chunks[c] = None;
                region.count -= 1;
                if region.count == 0 {
                    regions.remove(i);
                }
            }
        }
        old
    }

    /// The value at `k`, inserting `f()` first if there is none.
    pub fn get_or_insert_with(&mut self, k: u64, f: impl FnOnce() -> V) -> &mut V {
        let chunk = chunk_mut(&mut self.regions, k);
        let slot = &mut chunk.slots[(k % CHUNK) as usize];
        if slot.is_none() {
            chunk.count += 1;
            self.len += 1;
        }
        slot.get_or_insert_with(f)
    }

    /// Remove every entry with a key at or after `k`, returning them in order.
    pub fn split_off_from(&mut self, k: u64) -> Vec<(u64, V)> {
        let keys: Vec<u64> = self.range(k..).map(|(k, _)| k).collect();
        keys.into_iter()
            .filter_map(|k| self.remove(k).map(|v| (k, v)))
            .collect()
    }
}

impl<V: Clone> FromIterator<(u64, V)> for ChunkMap<V> {
    fn from_iter<I: IntoIterator<Item = (u64, V)>>(iter: I) -> Self {
        let mut m = ChunkMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_as_a_btreemap_and_clones_are_independent() {
        let mut m = ChunkMap::new();
        let mut b = BTreeMap::new();
        let mut x: u64 = 7;
        let mut snaps = Vec::new();
        for n in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (x >> 33) % 300_000 + if n % 7 == 0 { 1 << 40 } else { 0 };
            if x.is_multiple_of(3) {
                assert_eq!(m.remove(k), b.remove(&k));
            } else {
                assert_eq!(m.insert(k, n), b.insert(k, n));
            }
            if n % 997 == 0 {
                snaps.push((m.clone(), b.clone()));
            }
        }
        assert_eq!(m.len(), b.len());
        assert!(m
            .iter()
            .map(|(k, v)| (k, *v))
            .eq(b.iter().map(|(k, v)| (*k, *v))));
        let (lo, hi) = (100, 200_000);
        assert!(m
            .range(lo..hi)
            .map(|(k, v)| (k, *v))
            .eq(b.range(lo..hi).map(|(k, v)| (*k, *v))));
        assert!(m.range(5..5).next().is_none());
        assert!(m.range(..0).next().is_none());
        for (sm, sb) in snaps {
            assert!(sm
                .iter()
                .map(|(k, v)| (k, *v))
                .eq(sb.iter().map(|(k, v)| (*k, *v))));
        }
    }
}
