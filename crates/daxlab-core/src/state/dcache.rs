//! The L1 data cache of the architectures where DAX breaks: virtually indexed, so one page
//! frame reached through two virtual addresses of different colours (the user's mapping and
//! the kernel's linear map) can sit in two lines at once. Geometry and policy per CPU from its
//! manual (see `Arch::dcache`); x86-64 has no model (its caches are physically indexed).
//!
//! The cache holds real bytes: a dirty line differs from memory until it is written back, and
//! a load that hits a line returns the line's bytes, stale or not.

use std::rc::Rc;

use super::mem::{Pfn, PhysMem, PAGE_SIZE};

/// How a line is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexing {
    /// Virtually indexed, virtually tagged (ARM926EJ-S): two virtual addresses never share a
    /// line.
    Vivt,
    /// Virtually indexed, physically tagged (R4000, UltraSPARC): two virtual addresses of one
    /// frame share a line only if they have the same colour.
    Vipt,
}

/// A data cache's geometry and write policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// The CPU, as its manual names it.
    pub cpu: &'static str,
    /// Bytes.
    pub size: u32,
    /// Ways per set.
    pub ways: u32,
    /// Bytes per line.
    pub line: u32,
    /// Indexing and tagging.
    pub indexing: Indexing,
    /// Write-back (a store dirties the line) or write-through (a store also goes to memory).
    pub write_back: bool,
    /// A store that misses fetches the line first.
    pub write_allocate: bool,
}

/// The part of an access that falls in one cache line.
struct Piece {
    /// Offset of the part within the access.
    k: usize,
    /// Its bytes.
    n: usize,
    /// Where it starts within its line.
    in_line: usize,
    /// The virtual address of its line.
    lva: u64,
    /// The frame offset of its line.
    off: u16,
    /// The line's set.
    set: u32,
}

impl Geometry {
    /// Sets.
    pub fn sets(&self) -> u32 {
        self.size / (self.ways * self.line)
    }
    /// The set a virtual address indexes.
    pub fn set_of(&self, va: u64) -> u32 {
        ((va / u64::from(self.line)) % u64::from(self.sets())) as u32
    }

    /// The pieces of an access of `len` bytes at virtual address `va`, byte `at` of its frame,
    /// one per cache line it touches.
    fn pieces(self, va: u64, at: usize, len: usize) -> impl Iterator<Item = Piece> {
        let line = self.line as usize;
        let mut k = 0;
        std::iter::from_fn(move || {
            if k >= len {
                return None;
            }
            let a = at + k;
            let in_line = a % line;
            let n = (line - in_line).min(len - k);
            let lva = va + k as u64 - in_line as u64;
            let p = Piece {
                k,
                n,
                in_line,
                lva,
                off: (a - in_line) as u16,
                set: self.set_of(lva),
            };
            k += n;
            Some(p)
        })
    }
    /// Page colours: how many sets-worth of pages one way spans.
    pub fn colours(&self) -> u32 {
        (self.size / self.ways / PAGE_SIZE as u32).max(1)
    }
    /// The colour of a virtual address.
    pub fn colour_of(&self, va: u64) -> u32 {
        ((va / PAGE_SIZE) % u64::from(self.colours())) as u32
    }
}

/// One cache line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Holds data.
    pub valid: bool,
    /// Differs from memory (write-back only).
    pub dirty: bool,
    /// Which of its bytes were stored since it was filled or written back, one bit each.
    ///
    /// Simplified: real caches write back a whole dirty line (the ARM926 a dirty half-line);
    /// the model writes back only the bytes stored, so that its flush of every alias at once
    /// keeps the newest store of each byte. Stale *clean* lines, the ones DAX leaves behind,
    /// behave as on the hardware.
    pub stored: u64,
    /// The line-aligned virtual address it was filled through (its tag, for VIVT).
    pub vaddr: u64,
    /// The frame it caches (its tag, for VIPT).
    pub pfn: Pfn,
    /// Its offset in the frame.
    pub off: u16,
    /// When it was last written (to tell which of two dirty aliases is newer).
    pub stamp: u64,
    /// The bytes.
    pub data: Rc<[u8]>,
}

/// What the cache did, for the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOp {
    /// A line was filled from memory.
    Fill,
    /// A dirty line was written back to memory.
    WriteBack,
    /// A line was dropped (invalidated, or evicted clean).
    Invalidate,
}

impl LineOp {
    /// The name in the runner's JSON.
    pub fn name(self) -> &'static str {
        match self {
            LineOp::Fill => "fill",
            LineOp::WriteBack => "write_back",
            LineOp::Invalidate => "invalidate",
        }
    }
}

/// One thing the cache did to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEvent {
    /// What.
    pub op: LineOp,
    /// Set and way.
    pub set: u32,
    /// Way.
    pub way: u32,
    /// The virtual address of the line.
    pub vaddr: u64,
    /// The frame.
    pub pfn: Pfn,
    /// The offset in the frame.
    pub off: u16,
}

/// A data cache and its contents.
#[derive(Debug, Clone)]
pub struct DCache {
    /// Geometry and policy.
    pub geo: Geometry,
    /// `sets * ways` lines, set-major.
    lines: Rc<Vec<Line>>,
    /// Round-robin victim per set (`CONFIG_CPU_CACHE_ROUND_ROBIN`, for reproducibility).
    victim: Rc<Vec<u8>>,
    /// Writes so far (for line stamps).
    clock: u64,
}

impl PartialEq for DCache {
    fn eq(&self, o: &Self) -> bool {
        self.geo == o.geo && self.lines == o.lines
    }
}

impl DCache {
    /// An empty cache.
    pub fn new(geo: Geometry) -> Self {
        let n = (geo.sets() * geo.ways) as usize;
        let empty = Line {
            valid: false,
            dirty: false,
            stored: 0,
            vaddr: 0,
            pfn: Pfn(0),
            off: 0,
            stamp: 0,
            data: Rc::from(vec![0u8; geo.line as usize]),
        };
        DCache {
            geo,
            lines: Rc::new(vec![empty; n]),
            victim: Rc::new(vec![0; geo.sets() as usize]),
            clock: 0,
        }
    }

    fn at(&self, set: u32, way: u32) -> &Line {
        &self.lines[(set * self.geo.ways + way) as usize]
    }

    fn at_mut(&mut self, set: u32, way: u32) -> &mut Line {
        let i = (set * self.geo.ways + way) as usize;
        &mut Rc::make_mut(&mut self.lines)[i]
    }

    /// The way of `set` holding the line for (`va`, `pfn`, `off`).
    fn find(&self, set: u32, va: u64, pfn: Pfn, off: u16) -> Option<u32> {
        (0..self.geo.ways).find(|w| {
            let l = self.at(set, *w);
            l.valid
                && match self.geo.indexing {
                    Indexing::Vivt => l.vaddr == va,
                    Indexing::Vipt => l.pfn == pfn && l.off == off,
                }
        })
    }

    fn write_back(&mut self, mem: &mut PhysMem, set: u32, way: u32, ev: &mut Vec<LineEvent>) {
        let l = self.at(set, way);
        if l.valid && l.dirty {
            let (pfn, off, data, stored) = (l.pfn, l.off as usize, l.data.clone(), l.stored);
            for_stored(stored, data.len(), |a, b| {
                mem.write(pfn, off + a, &data[a..b])
            });
            ev.push(LineEvent {
                op: LineOp::WriteBack,
                set,
                way,
                vaddr: l.vaddr,
                pfn,
                off: off as u16,
            });
            let l = self.at_mut(set, way);
            l.dirty = false;
            l.stored = 0;
        }
    }

    /// Fill a line for (`va`, `pfn`, `off`), evicting the set's victim.
    fn fill(
        &mut self,
        mem: &mut PhysMem,
        set: u32,
        va: u64,
        pfn: Pfn,
        off: u16,
        ev: &mut Vec<LineEvent>,
    ) -> u32 {
        let way = match (0..self.geo.ways).find(|w| !self.at(set, *w).valid) {
            Some(w) => w,
            None => {
                let w = u32::from(self.victim[set as usize]) % self.geo.ways;
                Rc::make_mut(&mut self.victim)[set as usize] = ((w + 1) % self.geo.ways) as u8;
                self.drop_line(mem, set, w, ev);
                w
            }
        };
        let len = self.geo.line as usize;
        let data: Rc<[u8]> = Rc::from(&mem.page(pfn)[off as usize..off as usize + len]);
        *self.at_mut(set, way) = Line {
            valid: true,
            dirty: false,
            stored: 0,
            vaddr: va,
            pfn,
            off,
            stamp: 0,
            data,
        };
        ev.push(LineEvent {
            op: LineOp::Fill,
            set,
            way,
            vaddr: va,
            pfn,
            off,
        });
        way
    }

    /// A CPU load of `dst.len()` bytes at virtual address `va` of frame `pfn` (from byte `at`
    /// of the frame; within one page).
    pub fn load(
        &mut self,
        mem: &mut PhysMem,
        va: u64,
        pfn: Pfn,
        at: usize,
        dst: &mut [u8],
        ev: &mut Vec<LineEvent>,
    ) {
        for Piece {
            k,
            n,
            in_line,
            lva,
            off,
            set,
        } in self.geo.pieces(va, at, dst.len())
        {
            let way = match self.find(set, lva, pfn, off) {
                Some(w) => w,
                None => self.fill(mem, set, lva, pfn, off, ev),
            };
            dst[k..k + n].copy_from_slice(&self.at(set, way).data[in_line..in_line + n]);
        }
    }

    /// A CPU store of `src` at virtual address `va` of frame `pfn` (from byte `at`; within one
    /// page).
    pub fn store(
        &mut self,
        mem: &mut PhysMem,
        va: u64,
        pfn: Pfn,
        at: usize,
        src: &[u8],
        ev: &mut Vec<LineEvent>,
    ) {
        for Piece {
            k,
            n,
            in_line,
            lva,
            off,
            set,
        } in self.geo.pieces(va, at, src.len())
        {
            let a = at + k;
            let way = match self.find(set, lva, pfn, off) {
                Some(w) => Some(w),
                None if self.geo.write_allocate => Some(self.fill(mem, set, lva, pfn, off, ev)),
                None => None,
            };
            match way {
                Some(w) => {
                    self.clock += 1;
                    let (wb, stamp) = (self.geo.write_back, self.clock);
                    let l = self.at_mut(set, w);
                    Rc::make_mut(&mut l.data)[in_line..in_line + n].copy_from_slice(&src[k..k + n]);
                    l.stamp = stamp;
                    if wb {
                        l.dirty = true;
                        l.stored |= (u64::MAX >> (64 - n)) << in_line;
                    } else {
                        mem.write(pfn, a, &src[k..k + n]);
                    }
                }
                // No allocation on a write miss: the store goes to memory (through the write
                // buffer on the ARM926).
                None => mem.write(pfn, a, &src[k..k + n]),
            }
        }
    }

    /// Write back and invalidate every line holding frame `pfn`, through any alias (what
    /// `flush_dcache_page` achieves, in the model, on every architecture).
    pub fn flush_frame(&mut self, mem: &mut PhysMem, pfn: Pfn, ev: &mut Vec<LineEvent>) {
        self.flush_where(mem, ev, |l| l.pfn == pfn);
    }

    /// Write back and invalidate every line (ARM926's `switch_mm`).
    pub fn flush_all(&mut self, mem: &mut PhysMem, ev: &mut Vec<LineEvent>) {
        self.flush_where(mem, ev, |_| true);
    }

    /// Write back and invalidate the lines of bytes `at..at+len` of frame `pfn` reached through
    /// virtual address `va` (ARM's `__cpuc_flush_dcache_area`, MIPS's `Hit_Writeback_Inv_D` on
    /// each line): lines of the same frame under another alias stay.
    pub fn flush_range(
        &mut self,
        mem: &mut PhysMem,
        va: u64,
        pfn: Pfn,
        at: usize,
        len: usize,
        ev: &mut Vec<LineEvent>,
    ) {
        let line = self.geo.line as usize;
        let mut a = at / line * line;
        while a < at + len {
            let lva = va - at as u64 + a as u64;
            let set = self.geo.set_of(lva);
            if let Some(way) = self.find(set, lva, pfn, a as u16) {
                self.drop_line(mem, set, way, ev);
            }
            a += line;
        }
    }

    fn drop_line(&mut self, mem: &mut PhysMem, set: u32, way: u32, ev: &mut Vec<LineEvent>) {
        self.write_back(mem, set, way, ev);
        let l = self.at(set, way);
        ev.push(LineEvent {
            op: LineOp::Invalidate,
            set,
            way,
            vaddr: l.vaddr,
            pfn: l.pfn,
            off: l.off,
        });
        self.at_mut(set, way).valid = false;
    }

    fn flush_where(
        &mut self,
        mem: &mut PhysMem,
        ev: &mut Vec<LineEvent>,
        hit: impl Fn(&Line) -> bool,
    ) {
        // Oldest write first, so that where two aliases hold the same bytes the newest wins
        // (as in frame_view).
        let mut hits: Vec<(u64, u32, u32)> = self
            .lines()
            .filter(|(_, _, l)| hit(l))
            .map(|(set, way, l)| (l.stamp, set, way))
            .collect();
        hits.sort_unstable();
        for (_, set, way) in hits {
            self.drop_line(mem, set, way, ev);
        }
    }

    /// The valid lines, with their set and way.
    pub fn lines(&self) -> impl Iterator<Item = (u32, u32, &Line)> {
        let ways = self.geo.ways;
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.valid)
            .map(move |(i, l)| (i as u32 / ways, i as u32 % ways, l))
    }

    /// The valid lines holding bytes of frame `pfn` (any alias), with whether each is stale:
    /// its bytes differ from [`DCache::frame_view`].
    pub fn lines_of(&self, mem: &PhysMem, pfn: Pfn) -> Vec<(u32, u32, &Line, bool)> {
        let view = self.frame_view(mem, pfn);
        self.lines()
            .filter(|(_, _, l)| l.pfn == pfn)
            .map(|(s, w, l)| {
                let off = l.off as usize;
                (s, w, l, view[off..off + l.data.len()] != *l.data)
            })
            .collect()
    }

    /// The page of frame `pfn` as a load through virtual address `va` (of the page's start) would
    /// see it, without filling anything: memory, overlaid by the lines that address would hit.
    pub fn view_at(&self, mem: &PhysMem, va: u64, pfn: Pfn) -> Vec<u8> {
        let mut page = mem.page(pfn).to_vec();
        let line = self.geo.line as usize;
        for off in (0..page.len()).step_by(line) {
            let lva = va + off as u64;
            if let Some(w) = self.find(self.geo.set_of(lva), lva, pfn, off as u16) {
                page[off..off + line].copy_from_slice(&self.at(self.geo.set_of(lva), w).data);
            }
        }
        page
    }

    /// The bytes of frame `pfn` as the CPU would next see them if nothing more were written:
    /// memory with the dirty lines laid over it, the most recently written last.
    pub fn frame_view(&self, mem: &PhysMem, pfn: Pfn) -> Vec<u8> {
        let mut page = mem.page(pfn).to_vec();
        let mut dirty: Vec<&Line> = self
            .lines
            .iter()
            .filter(|l| l.valid && l.dirty && l.pfn == pfn)
            .collect();
        dirty.sort_by_key(|l| l.stamp);
        for l in dirty {
            let off = l.off as usize;
            for_stored(l.stored, l.data.len(), |a, b| {
                page[off + a..off + b].copy_from_slice(&l.data[a..b])
            });
        }
        page
    }
}

/// Calls `f(start, end)` for each run of set bits of `stored` below bit `len`.
fn for_stored(stored: u64, len: usize, mut f: impl FnMut(usize, usize)) {
    let mut a = 0;
    while a < len {
        if stored >> a & 1 == 0 {
            a += 1;
            continue;
        }
        let b = (a..len).find(|&i| stored >> i & 1 == 0).unwrap_or(len);
        f(a, b);
        a = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::mem::FrameUse;

    fn arm() -> Geometry {
        crate::state::Arch::Armv5
            .dcache()
            .expect("the ARM926 has a data cache")
    }

    #[test]
    fn two_aliases_of_one_frame_go_stale_and_a_flush_makes_them_agree() {
        let mut mem = PhysMem::new(1 << 20);
        let pfn = mem.alloc_ram(FrameUse::Kernel).expect("ram");
        let mut c = DCache::new(arm());
        let mut ev = Vec::new();
        let (user, kernel) = (0x4002_0000u64, pfn.kaddr());
        let mut b = [0u8; 1];
        c.load(&mut mem, user, pfn, 0x40, &mut b, &mut ev);
        c.store(&mut mem, user, pfn, 0x40, b"N", &mut ev);
        c.load(&mut mem, kernel, pfn, 0x40, &mut b, &mut ev);
        assert_eq!(&b, b"\0", "the kernel alias misses and reads memory: stale");
        assert_eq!(c.frame_view(&mem, pfn)[0x40], b'N');
        c.flush_frame(&mut mem, pfn, &mut ev);
        c.load(&mut mem, kernel, pfn, 0x40, &mut b, &mut ev);
        assert_eq!(&b, b"N");
        assert!(ev.iter().any(|e| e.op == LineOp::WriteBack));
    }
}
