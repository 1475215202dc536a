//! The data cache and the `struct page` array at one step, as the views draw them: plain data,
//! bounded in size whatever the machine holds.
//!
//! The cache is drawn as rows of sets by ways. Consecutive sets whose lines continue each
//! other (the next line of the same frame through the same alias, in the same state) are one
//! row, so a page filled through one address is one row of 128 sets, not 128 rows. The memmap
//! is the page frames in use beside their `struct page` (or the gap where device memory has
//! none), with what `get_user_pages` would find through each frame's PTE.

use daxlab_core::engine::trace::{Event, EventKind};
use daxlab_core::state::dcache::{Indexing, LineOp};
use daxlab_core::state::mem::{FrameUse, Pfn, PAGE_SIZE, RAM_BASE};
use daxlab_core::state::Machine;

use super::machine::Scope;

/// The most rows of sets drawn.
pub const MAX_ROWS: usize = 16;
/// The most frames of the memmap drawn.
pub const MAX_FRAMES: usize = 48;

/// What the cache did to a line in the step shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Filled from memory.
    Fill,
    /// Written back to memory.
    WriteBack,
    /// Dropped (invalidated or evicted).
    Invalidate,
}

impl Op {
    fn of(op: LineOp) -> Self {
        match op {
            LineOp::Fill => Op::Fill,
            LineOp::WriteBack => Op::WriteBack,
            LineOp::Invalidate => Op::Invalidate,
        }
    }
    /// In words.
    pub fn name(self) -> &'static str {
        match self {
            Op::Fill => "filled",
            Op::WriteBack => "written back",
            Op::Invalidate => "dropped",
        }
    }
    /// Its sign on a line (shapes, not colour).
    pub fn sign(self) -> &'static str {
        match self {
            Op::Fill => "▼",
            Op::WriteBack => "▲",
            Op::Invalidate => "✕",
        }
    }
}

/// A line, or a run of lines in consecutive sets continuing each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    /// The virtual address of the first line (its tag on a VIVT cache).
    pub vaddr: u64,
    /// The page colour of that address (0 when the cache has one colour).
    pub colour: u32,
    /// The frame.
    pub pfn: u64,
    /// The offset in the frame of the first line.
    pub off: u64,
    /// Lines in the run.
    pub lines: u32,
    /// Filled through the kernel's linear map (`kaddr`), not a user mapping.
    pub kernel: bool,
    /// Differs from memory.
    pub dirty: bool,
    /// Holds bytes that are not the frame's newest (another alias or memory has newer ones).
    pub stale: bool,
    /// The frame is cached under more than one virtual page (user and kernel aliases).
    pub alias: bool,
    /// What the step did to it.
    pub op: Option<Op>,
}

/// Consecutive sets drawn as one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRow {
    /// The first set.
    pub set: u32,
    /// Sets in the row.
    pub sets: u32,
    /// Each way (`None`: empty).
    pub ways: Vec<Option<LineView>>,
}

/// One thing the cache did in the step shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEvent {
    /// The access or flush responsible.
    pub func: &'static str,
    /// What.
    pub op: Op,
    /// First line's virtual address.
    pub vaddr: u64,
    /// Its set.
    pub set: u32,
    /// The frame.
    pub pfn: u64,
    /// Lines.
    pub lines: u32,
    /// Through the kernel's address.
    pub kernel: bool,
}

/// The data cache at one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheView {
    /// The CPU.
    pub cpu: &'static str,
    /// Bytes.
    pub size: u32,
    /// Sets.
    pub sets: u32,
    /// Ways.
    pub ways: u32,
    /// Bytes per line.
    pub line: u32,
    /// Page colours.
    pub colours: u32,
    /// Virtually tagged (else physically tagged).
    pub vivt: bool,
    /// Write-back (else write-through).
    pub write_back: bool,
    /// Rows of sets holding lines (at most [`MAX_ROWS`]).
    pub rows: Vec<SetRow>,
    /// Rows not drawn.
    pub hidden_rows: usize,
    /// Valid lines.
    pub valid: u32,
    /// What the step did.
    pub events: Vec<CacheEvent>,
}

impl CacheView {
    /// Whether the frame has a line drawn.
    pub fn holds(&self, pfn: u64) -> bool {
        self.rows
            .iter()
            .flat_map(|r| r.ways.iter().flatten())
            .any(|l| l.pfn == pfn)
    }
}

/// The cache of `m` after the step whose events are `events` (`None` where the architecture's
/// caches are physically indexed).
pub fn cache_view(m: &Machine, events: &[Event], selected: Option<u64>) -> Option<CacheView> {
    let c = m.dcache.as_ref()?;
    let g = c.geo;
    let line = u64::from(g.line);
    let kernel = |va: u64, pfn: Pfn| va & !(PAGE_SIZE - 1) == pfn.kaddr();
    let evs: Vec<CacheEvent> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Cache {
                func,
                op,
                vaddr,
                pfn,
                lines,
            } => Some(CacheEvent {
                func,
                op: Op::of(*op),
                vaddr: *vaddr,
                set: g.set_of(*vaddr),
                pfn: pfn.0,
                lines: *lines,
                kernel: kernel(*vaddr, *pfn),
            }),
            _ => None,
        })
        .take(super::MAX_EVENTS)
        .collect();
    // Aliased frames: the virtual pages each frame is cached under.
    let mut pages: Vec<(u64, u64)> = c
        .lines()
        .map(|(_, _, l)| (l.pfn.0, l.vaddr & !(PAGE_SIZE - 1)))
        .collect();
    pages.sort_unstable();
    pages.dedup();
    let aliased = |pfn: u64| pages.iter().filter(|p| p.0 == pfn).count() > 1;
    // Stale lines, frame by frame, by (set, way).
    let mut stale: Vec<(u32, u32)> = Vec::new();
    let mut last = None;
    for &(pfn, _) in &pages {
        if last != Some(pfn) {
            stale.extend(
                c.lines_of(&m.mem, Pfn(pfn))
                    .into_iter()
                    .filter(|x| x.3)
                    .map(|x| (x.0, x.1)),
            );
            last = Some(pfn);
        }
    }
    let op_of = |va: u64, pfn: u64| {
        evs.iter()
            .rev()
            .find(|e| e.pfn == pfn && va >= e.vaddr && va < e.vaddr + u64::from(e.lines) * line)
            .map(|e| e.op)
    };
    // Sets holding lines, in set order (the cache lists its lines set-major).
    let mut rows: Vec<SetRow> = Vec::new();
    let mut valid = 0;
    for (set, way, l) in c.lines() {
        valid += 1;
        if rows.last().is_none_or(|r| r.set != set) {
            rows.push(SetRow {
                set,
                sets: 1,
                ways: vec![None; g.ways as usize],
            });
        }
        let row = rows.last_mut().expect("pushed");
        row.ways[way as usize] = Some(LineView {
            vaddr: l.vaddr,
            colour: g.colour_of(l.vaddr),
            pfn: l.pfn.0,
            off: u64::from(l.off),
            lines: 1,
            kernel: kernel(l.vaddr, l.pfn),
            dirty: l.dirty,
            stale: stale.contains(&(set, way)),
            alias: aliased(l.pfn.0),
            op: op_of(l.vaddr, l.pfn.0),
        });
    }
    // Runs of sets.
    let mut runs: Vec<SetRow> = Vec::new();
    for SetRow { set, ways, .. } in rows {
        if let Some(last) = runs.last_mut() {
            let next = last.set + last.sets == set
                && last.ways.iter().zip(&ways).all(|(a, b)| match (a, b) {
                    (None, None) => true,
                    (Some(a), Some(b)) => {
                        let n = u64::from(a.lines);
                        b.vaddr == a.vaddr + n * line
                            && b.off == a.off + n * line
                            && (b.pfn, b.kernel, b.dirty, b.stale, b.alias, b.op, b.colour)
                                == (a.pfn, a.kernel, a.dirty, a.stale, a.alias, a.op, a.colour)
                    }
                    _ => false,
                });
            if next {
                last.sets += 1;
                for l in last.ways.iter_mut().flatten() {
                    l.lines += 1;
                }
                continue;
            }
        }
        runs.push(SetRow { set, sets: 1, ways });
    }
    let mut rows = runs;
    // Too many rows: keep those that matter (the selected frame, the step's lines, stale and
    // aliased lines), in set order.
    let hidden_rows = rows.len().saturating_sub(MAX_ROWS);
    if hidden_rows > 0 {
        let rank = |r: &SetRow| {
            r.ways
                .iter()
                .flatten()
                .map(|l| {
                    u8::from(selected == Some(l.pfn)) * 8
                        + u8::from(l.op.is_some()) * 4
                        + u8::from(l.stale) * 2
                        + u8::from(l.alias)
                })
                .max()
                .unwrap_or(0)
        };
        let ranks: Vec<u8> = rows.iter().map(rank).collect();
        // The highest ranks first, each in set order, until the rows are full.
        let mut keep = vec![false; rows.len()];
        let mut n = 0;
        for r in (0..16).rev() {
            for (i, k) in keep.iter_mut().enumerate() {
                if ranks[i] == r && n < MAX_ROWS {
                    *k = true;
                    n += 1;
                }
            }
        }
        let mut k = keep.into_iter();
        rows.retain(|_| k.next().unwrap_or(false));
    }
    Some(CacheView {
        cpu: g.cpu,
        size: g.size,
        sets: g.sets(),
        ways: g.ways,
        line: g.line,
        colours: g.colours(),
        vivt: g.indexing == Indexing::Vivt,
        write_back: g.write_back,
        rows,
        hidden_rows,
        valid,
        events: evs,
    })
}

/// What a frame of the memmap view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A brd page (the RAM disk's storage, RAM).
    Brd,
    /// A page-cache page.
    PageCache,
    /// A 4.0 DAX hole page.
    HolePage,
    /// Anonymous memory.
    Anon,
    /// A program's I/O buffer.
    Buffer,
    /// Kernel memory (a module's, a pipe's, a buffer).
    Kernel,
    /// Device memory: no `struct page`.
    Device,
}

impl FrameKind {
    /// The stylesheet class (as the other grids draw these kinds).
    pub fn class(self) -> &'static str {
        match self {
            FrameKind::Brd | FrameKind::Device => "dax",
            FrameKind::PageCache | FrameKind::Kernel => "cache",
            FrameKind::HolePage => "hole",
            FrameKind::Anon | FrameKind::Buffer => "anon",
        }
    }
    /// Short name on the cell.
    pub fn short(self) -> &'static str {
        match self {
            FrameKind::Brd => "brd",
            FrameKind::PageCache => "cache",
            FrameKind::HolePage => "hole",
            FrameKind::Anon => "anon",
            FrameKind::Buffer => "buf",
            FrameKind::Kernel => "kern",
            FrameKind::Device => "dev",
        }
    }
}

/// What `get_user_pages` finds through a PTE to the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gup {
    /// No PTE maps it.
    Unmapped,
    /// A normal PTE and a `struct page`: the page can be pinned.
    Pins,
    /// A special PTE (`vm_normal_page` returns NULL): nothing to pin.
    Special,
    /// No `struct page` at all.
    NoPage,
}

/// Frames in use, a run of them, beside their `struct page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemFrame {
    /// The first frame.
    pub pfn: u64,
    /// Frames in the run.
    pub count: u64,
    /// What they are.
    pub kind: FrameKind,
    /// Whether they have a `struct page` (a `mem_map` entry).
    pub page: bool,
    /// What `get_user_pages` finds through their PTE.
    pub gup: Gup,
}

/// A range of physical memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysRange {
    /// The first frame.
    pub pfn: u64,
    /// Frames.
    pub count: u64,
    /// What it is.
    pub what: String,
    /// Covered by `mem_map`.
    pub page: bool,
}

/// The `struct page` array beside the frames.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemmapView {
    /// RAM and device memory.
    pub ranges: Vec<PhysRange>,
    /// Frames in use (at most [`MAX_FRAMES`] runs).
    pub frames: Vec<MemFrame>,
    /// Frames in use not drawn.
    pub hidden: u64,
    /// Whether the CPU has `pte_special`.
    pub pte_special: bool,
}

impl MemmapView {
    /// The drawn run holding `pfn`.
    pub fn find(&self, pfn: u64) -> Option<usize> {
        self.frames
            .iter()
            .position(|f| pfn >= f.pfn && pfn < f.pfn + f.count)
    }
}

/// The memmap of `m`, within `scope`.
pub fn memmap_view(m: &Machine, scope: &Scope) -> MemmapView {
    let mut ranges = vec![PhysRange {
        pfn: RAM_BASE / PAGE_SIZE,
        count: m.mem.ram_pages(),
        what: "RAM".into(),
        page: true,
    }];
    for (first, count, dev) in m.mem.device_ranges() {
        ranges.push(PhysRange {
            pfn: first.0,
            count,
            what: format!(
                "/dev/{} ({})",
                m.device(dev).name,
                m.device(dev).driver.kind().name()
            ),
            page: false,
        });
    }
    // How each mapped frame is mapped.
    // (frame, 0 for a special PTE, 1 for a normal one): a frame mapped by any special PTE
    // counts as special (it sorts first, and dedup keeps it).
    let mut special: Vec<(u64, u64)> = Vec::new();
    for p in &m.processes {
        for v in p.mm.vmas.values() {
            for (_, pte) in p.mm.ptes_in(v.start, v.len) {
                special.push((pte.pfn.0, u64::from(!pte.special)));
            }
        }
    }
    special.sort_unstable();
    special.dedup_by_key(|x| x.0);
    let in_scope = |ino: u64| {
        scope.mounts.is_none()
            || m.inodes.get(&ino).is_some_and(|i| {
                m.mount_of_fs(i.fs)
                    .is_some_and(|mt| scope.keeps(&m.mount(mt).path))
            })
    };
    let mut frames: Vec<MemFrame> = Vec::new();
    let mut hidden = 0;
    for (pfn, f) in m.mem.frames() {
        let kind = match f.usage {
            FrameUse::BrdPage { .. } => FrameKind::Brd,
            FrameUse::PageCache { ino, .. } if in_scope(ino) => FrameKind::PageCache,
            FrameUse::HolePage { ino, .. } if in_scope(ino) => FrameKind::HolePage,
            FrameUse::PageCache { .. } | FrameUse::HolePage { .. } => continue,
            FrameUse::Anon { .. } => FrameKind::Anon,
            FrameUse::UserBuffer { .. } => FrameKind::Buffer,
            FrameUse::Kernel | FrameUse::Module { .. } => FrameKind::Kernel,
            FrameUse::DeviceMemory { .. } => FrameKind::Device,
        };
        let page = f.usage.has_struct_page();
        let mapped = special
            .binary_search_by_key(&pfn.0, |x| x.0)
            .ok()
            .map(|i| special[i].1 == 0);
        let gup = match (mapped, page) {
            (None, _) => Gup::Unmapped,
            (Some(true), _) => Gup::Special,
            (Some(false), false) => Gup::NoPage,
            (Some(false), true) => Gup::Pins,
        };
        if let Some(last) = frames.last_mut() {
            if last.pfn + last.count == pfn.0
                && (last.kind, last.page, last.gup) == (kind, page, gup)
            {
                last.count += 1;
                continue;
            }
        }
        if frames.len() < MAX_FRAMES {
            frames.push(MemFrame {
                pfn: pfn.0,
                count: 1,
                kind,
                page,
                gup,
            });
        } else {
            hidden += 1;
        }
    }
    MemmapView {
        ranges,
        frames,
        hidden,
        pte_special: m.config.arch.has_pte_special(),
    }
}

#[cfg(test)]
mod tests {
    use crate::boundary::{run, ViewOptions};

    const STALE: &str =
        include_str!("../../../../scenarios/shortcomings/armv5-dax-write-then-load-is-stale.dax");

    #[test]
    fn the_stale_users_line_and_its_flush_are_drawn() {
        let r = run(STALE).expect("valid");
        let cache_line = r
            .results
            .iter()
            .find(|x| x.command.starts_with("cache m"))
            .expect("cache")
            .step;
        let v = r.view(cache_line, &ViewOptions::default());
        let c = v.machine.cache.as_ref().expect("armv5 has a cache");
        assert_eq!((c.sets, c.ways, c.line), (128, 4, 32));
        let user: Vec<_> = c
            .rows
            .iter()
            .flat_map(|r| r.ways.iter().flatten())
            .filter(|l| !l.kernel)
            .collect();
        assert!(user.iter().any(|l| l.stale), "{:?}", c.rows);
        // The inspector of that frame lists its lines.
        let pfn = user.iter().find(|l| l.stale).map(|l| l.pfn);
        let sel = r.view(
            cache_line,
            &ViewOptions {
                selected: pfn,
                ..ViewOptions::default()
            },
        );
        let (_, info) = sel.machine.frame.as_ref().expect("selected");
        assert!(info.roles.iter().any(|r| r.what == "cache line"
            && r.text.contains("user's")
            && r.text.ends_with("STALE")));
        // The flush drops it, and the view of that step says so.
        let flush = r
            .results
            .iter()
            .find(|x| x.command.starts_with("flush_dcache_page"))
            .expect("flush");
        let hit = (flush.start..=flush.step)
            .map(|s| r.view(s, &ViewOptions::default()))
            .find_map(|v| v.machine.cache.as_ref().map(|c| c.events.clone()))
            .filter(|e| !e.is_empty())
            .expect("the flush's events");
        assert_eq!(hit[0].op, super::Op::Invalidate);
        assert!(!hit[0].kernel);
    }

    #[test]
    fn a_load_that_fills_a_line_is_the_latest_step() {
        // A console line shows the latest step that did something: the load's fill, not the
        // copy of the write before it.
        let text = format!(
            "{}flush_dcache_page m 0\nload m 8 4\n",
            crate::lessons::LESSONS[4].scenario
        );
        let r = run(&text).expect("valid");
        let load = r.results.last().expect("the load");
        let latest = r.latest().expect("a step");
        assert!(
            latest >= load.start && latest <= load.step,
            "{latest} in {}..{}",
            load.start,
            load.step
        );
    }

    #[test]
    fn too_many_rows_keep_the_selected_frames_lines() {
        // Loads 64 bytes apart fill every other set: 24 rows of one line each, then a load
        // from a second page of the file, whose line is selected.
        let mut text = String::from("arch armv5 pretend\ndevice d brd size=16M\nmkfs ext2 /dev/d\nmount /dev/d /x -o dax\nopen f /x/f create\nwrite f 0 fill=0x41 len=8K\nmmap m f 0 8K shared r\n");
        for k in 0..24 {
            text.push_str(&format!("load m {} 1\n", k * 64));
        }
        text.push_str("load m 4100 1\n");
        let r = run(&text).expect("valid");
        let all = r.view(r.total, &ViewOptions::default());
        let c = all.machine.cache.as_ref().expect("cache");
        assert_eq!(c.rows.len(), super::MAX_ROWS);
        assert!(c.hidden_rows > 0);
        assert!(
            c.rows.windows(2).all(|w| w[0].set < w[1].set),
            "in set order"
        );
        // The second page's frame.
        let pfn = all.machine.vmas[0]
            .ptes
            .cells
            .iter()
            .find(|x| x.first == 1)
            .and_then(|x| x.pfn)
            .expect("page 1 mapped");
        let sel = r.view(
            r.total,
            &ViewOptions {
                selected: Some(pfn),
                ..ViewOptions::default()
            },
        );
        assert!(sel.machine.cache.as_ref().expect("cache").holds(pfn));
    }

    #[test]
    fn x86_has_no_cache_view_and_device_memory_has_no_struct_page() {
        let r = run("device bank axonram size=16M\nmkfs ext2 /dev/bank\nmount /dev/bank /d -o dax\nopen f /d/f create\nwrite f 0 \"x\"\nmmap m f 0 4K shared r\nload m 0 1\n").expect("valid");
        let v = r.view(r.total, &ViewOptions::default());
        assert!(v.machine.cache.is_none());
        let mm = &v.machine.memmap;
        assert!(mm.ranges.iter().any(|r| !r.page && r.what.contains("bank")));
        let dev = mm
            .frames
            .iter()
            .find(|f| f.kind == super::FrameKind::Device)
            .expect("a device frame in use");
        assert!(!dev.page);
        assert_eq!(dev.gup, super::Gup::Special);
        assert!(mm.frames.iter().any(|f| f.page));
    }
}
