//! The invariants of the race lab, checked as a run goes. A ghost copy of every file holds the
//! bytes that finished user operations (`write()`, stores through a shared mapping,
//! `truncate`, `punch`) left in it; holes hold zeros. Against it:
//!
//! - `store_lost`: kernel zeroing of a file's storage (a device block or a page-cache page)
//!   changes bytes below `i_size` that a finished operation put there and no operation in
//!   flight is changing (R1's `clear_page`, R2's `dax_new_buf`);
//! - `stale_data_exposed`: a `read()` or a load through a shared mapping returns bytes that
//!   differ from the file's, where no operation changed those pages while it ran (R3's hole
//!   page, R6's deleted file's bytes);
//! - `block_past_eof`: when no command is in flight, a file holds a block at or past its end
//!   (R4);
//! - `freed_block_mapped`: a PTE of a DAX mapping maps a block that the file no longer has at
//!   that offset (R5).
//!
//! `deadlock` is found by the engine. Each violation is reported once (per invariant, file and
//! page). The checks run only for scenarios with concurrent threads or an `expect violation`
//! line; a single thread cannot race itself.
//!
//! Simplified: a "stale copy" (writeback of an older page over newer data) is not checked, and
//! loads through private mappings are not compared (they need not show the file).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::footprint::Obj;
use super::trace::{Loc, Space};
use crate::lang::command::Command;
use crate::lang::invariant::Invariant;
use crate::lang::outcome::{Outcome, Value, Violation};
use crate::state::chunk_map::ChunkMap;
use crate::state::mem::{page_bytes, FrameUse, PageRef, Pfn, PAGE_SIZE};
use crate::state::mm::VmaKind;
use crate::state::{DevId, Machine, Pid, Tid};

/// A page of a file as finished operations left it.
#[derive(Debug, Clone, Default)]
struct GhostPage {
    /// The bytes (`None`: zeros).
    data: PageRef,
    /// The step at which an operation that changes it last started.
    touched: u32,
    /// Changed in a way the ghost cannot follow (an O_DIRECT write from a mapping, a failed
    /// store): never compared.
    unknown: bool,
}

/// What a thread's command does to a file, worked out when it starts.
#[derive(Debug, Clone)]
enum Op {
    /// It writes `data` at `off` (a `write()` or a store through a shared mapping).
    Write { ino: u64, off: u64, data: Rc<[u8]> },
    /// It changes `[off, end)` in a way decided when it ends (truncate: everything from the
    /// smaller size on; punch: its range; an O_DIRECT write from a mapping).
    Change {
        ino: u64,
        off: u64,
        end: u64,
        how: Change,
    },
    /// It reads `[off, off+len)` (a `read()` or a load through a shared mapping).
    Read { ino: u64, off: u64 },
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Truncate { size: u64 },
    Punch,
    Unknown,
}

/// A command in flight.
#[derive(Debug, Clone)]
struct InFlight {
    op: Op,
    start: u32,
}

/// A kernel write to memory that may be a file's storage, to check after the step.
#[derive(Debug, Clone, Copy)]
struct KernelWrite {
    tid: Tid,
    /// The step it happened in (a batch of steps is checked after its last one).
    step: u32,
    func: &'static str,
    loc: Loc,
    len: u64,
}

/// The ghost files and the checks (part of a run's state, checkpointed with the machine).
#[derive(Debug, Clone, Default)]
pub struct Ghost {
    /// Whether the run checks invariants at all.
    pub enabled: bool,
    files: BTreeMap<u64, ChunkMap<GhostPage>>,
    inflight: BTreeMap<Tid, InFlight>,
    writes: Vec<KernelWrite>,
    /// DAX PTEs installed since the last check: (process, address, step).
    pub installed: Vec<(Pid, u64, u32)>,
    /// The first step since the last check that freed a block.
    pub freed: Option<u32>,
    reported: BTreeSet<(Invariant, u64, u64)>,
}

/// The user bytes a command writes, as the program holds them.
fn data_bytes(d: &crate::lang::data::Data) -> Rc<[u8]> {
    let mut v = vec![0; d.len() as usize];
    d.fill(0, &mut v);
    v.into()
}

/// The file and file offset of mapping `map` at `off` in process `pid`, if it is a shared
/// mapping of a file.
fn shared_file(m: &Machine, pid: Pid, map: &str, off: u64) -> Option<(u64, u64)> {
    let v = m.processes.get(pid.0 as usize)?.mm.vma_named(map)?;
    match v.kind {
        VmaKind::File { ino, .. } if v.shared => Some((ino, v.pgoff * PAGE_SIZE + off)),
        _ => None,
    }
}

/// The bytes of frame `pfn` as the CPU sees them: memory, with the data cache's dirty lines
/// over it where there is a cache.
fn frame_view(m: &Machine, pfn: Pfn) -> PageRef {
    match &m.dcache {
        Some(c) => Some(c.frame_view(&m.mem, pfn).into()),
        None => m.mem.page_ref(pfn),
    }
}

/// What file `ino` holds at `[off, off+len)` now: its up-to-date page-cache pages, else its
/// blocks on the device (holes and unwritten extents read as zeros). What it looked at goes
/// to `read`.
fn file_bytes(m: &Machine, ino: u64, off: u64, len: u64, read: &mut Vec<Obj>) -> Vec<u8> {
    let mut out = vec![0; len as usize];
    let Ok(i) = m.inode(ino) else { return out };
    read.push(Obj::Blocks(ino));
    let fs = m.fs(i.fs);
    let (bs, dev) = (fs.block_size, fs.dev);
    let Some(driver) = m.devices.get(dev.0 as usize).map(|d| &d.driver) else {
        return out;
    };
    let mut k = 0;
    while k < len {
        let at = off + k;
        let n = (bs - at % bs).min(len - k);
        let index = at / PAGE_SIZE;
        read.push(Obj::CachePage(ino, index));
        let cached = i
            .mapping
            .find_get_page(index)
            .filter(|p| p.uptodate && !p.hole);
        let src: PageRef;
        let from;
        match cached {
            Some(p) => {
                read.push(Obj::Frame(p.pfn));
                src = frame_view(m, p.pfn);
                from = (at % PAGE_SIZE) as usize;
            }
            None => match i.blocks.get(at / bs).filter(|e| !e.unwritten) {
                Some(e) => {
                    let byte = e.block * bs + at % bs;
                    let frame = driver.frame(byte / PAGE_SIZE);
                    read.push(frame.map_or(Obj::Device(dev), Obj::Frame));
                    src = match frame {
                        Some(pfn) if m.dcache.is_some() => frame_view(m, pfn),
                        _ => driver.page(&m.mem, byte / PAGE_SIZE),
                    };
                    from = (byte % PAGE_SIZE) as usize;
                }
                None => {
                    k += n;
                    continue;
                }
            },
        }
        out[k as usize..(k + n) as usize]
            .copy_from_slice(&page_bytes(&src)[from..from + n as usize]);
        k += n;
    }
    out
}

fn file_of(m: &Machine, pid: Pid, fd: &str) -> Option<u64> {
    let f = m.fd(pid, fd).ok()?;
    Some(m.file(f).ok()?.ino)
}

impl Ghost {
    fn page_mut(&mut self, ino: u64, index: u64) -> &mut GhostPage {
        self.files
            .entry(ino)
            .or_default()
            .get_or_insert_with(index, GhostPage::default)
    }

    fn page(&self, ino: u64, index: u64) -> Option<&GhostPage> {
        self.files.get(&ino)?.get(index)
    }

    /// Mark `[off, end)` of `ino` as being changed from `step` on.
    fn touch(&mut self, ino: u64, off: u64, end: u64, step: u32) {
        if end <= off {
            return;
        }
        for index in off / PAGE_SIZE..end.div_ceil(PAGE_SIZE) {
            self.page_mut(ino, index).touched = step;
        }
    }

    fn set(&mut self, ino: u64, off: u64, bytes: &[u8]) {
        let mut done = 0;
        while done < bytes.len() {
            let at = off + done as u64;
            let (index, in_page) = (at / PAGE_SIZE, (at % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - in_page).min(bytes.len() - done);
            let p = self.page_mut(ino, index);
            crate::state::mem::page_bytes_mut(&mut p.data)[in_page..in_page + n]
                .copy_from_slice(&bytes[done..done + n]);
            done += n;
        }
    }

    fn zero(&mut self, ino: u64, off: u64, end: u64) {
        if let Some(pages) = self.files.get(&ino) {
            let have: Vec<u64> = pages
                .range(off / PAGE_SIZE..end.div_ceil(PAGE_SIZE))
                .map(|(i, _)| i)
                .collect();
            for index in have {
                let p = self.page_mut(ino, index);
                let lo = off.max(index * PAGE_SIZE) - index * PAGE_SIZE;
                let hi = end.min((index + 1) * PAGE_SIZE) - index * PAGE_SIZE;
                if p.data.is_some() {
                    crate::state::mem::page_bytes_mut(&mut p.data)[lo as usize..hi as usize]
                        .fill(0);
                }
            }
        }
    }

    fn mark_unknown(&mut self, ino: u64, off: u64, end: u64) {
        for index in off / PAGE_SIZE..end.div_ceil(PAGE_SIZE) {
            self.page_mut(ino, index).unknown = true;
        }
    }

    /// Whether byte `at` of `ino` is being changed by a command in flight (other than
    /// `except`'s).
    fn in_flight(&self, ino: u64, at: u64, except: Option<Tid>) -> bool {
        self.inflight.iter().any(|(t, f)| {
            Some(*t) != except
                && match &f.op {
                    Op::Write { ino: i, off, data } => {
                        *i == ino && *off <= at && at < off + data.len() as u64
                    }
                    Op::Change {
                        ino: i, off, end, ..
                    } => *i == ino && *off <= at && at < *end,
                    Op::Read { .. } => false,
                }
        })
    }

    /// A command starts on thread `tid` of process `pid` at `step`. Returns what it touched
    /// of the ghost (for the step's footprint).
    pub fn begin(
        &mut self,
        m: &Machine,
        tid: Tid,
        pid: Pid,
        cmd: &Command,
        step: u32,
    ) -> Option<crate::engine::footprint::Access> {
        if !self.enabled {
            return None;
        }
        let op = match cmd {
            Command::Expect { cmd, .. } => return self.begin(m, tid, pid, cmd, step),
            Command::Write { fd, off, data } => file_of(m, pid, fd).map(|ino| Op::Write {
                ino,
                off: *off,
                data: data_bytes(data),
            }),
            Command::Store { map, off, data } => {
                shared_file(m, pid, map, *off).map(|(ino, off)| Op::Write {
                    ino,
                    off,
                    data: data_bytes(data),
                })
            }
            Command::Truncate { fd, size } => file_of(m, pid, fd).map(|ino| {
                let old = m.inode(ino).map_or(0, |i| i.size);
                Op::Change {
                    ino,
                    off: old.min(*size),
                    end: u64::MAX / 2,
                    how: Change::Truncate { size: *size },
                }
            }),
            Command::Punch { fd, off, len } => file_of(m, pid, fd).map(|ino| Op::Change {
                ino,
                off: *off,
                end: off.saturating_add(*len),
                how: Change::Punch,
            }),
            Command::OdirectFromMap { fd, off, len, .. } => {
                file_of(m, pid, fd).map(|ino| Op::Change {
                    ino,
                    off: *off,
                    end: off.saturating_add(*len),
                    how: Change::Unknown,
                })
            }
            Command::Read { fd, off, .. } => {
                file_of(m, pid, fd).map(|ino| Op::Read { ino, off: *off })
            }
            Command::Load { map, off, .. } => {
                shared_file(m, pid, map, *off).map(|(ino, off)| Op::Read { ino, off })
            }
            _ => None,
        };
        let op = op?;
        let touched = match &op {
            Op::Write { ino, .. } | Op::Change { ino, .. } => crate::engine::footprint::Access {
                obj: Obj::GhostOf(*ino, tid),
                write: true,
            },
            // A read's start is compared with the writers' starts.
            Op::Read { ino, .. } => crate::engine::footprint::Access {
                obj: Obj::Ghost(*ino),
                write: false,
            },
        };
        match &op {
            Op::Write { ino, off, data } => self.touch(*ino, *off, off + data.len() as u64, step),
            Op::Change { ino, off, end, .. } => {
                let end = (*end).min(m.inode(*ino).map_or(0, |i| i.size).max(*off) + PAGE_SIZE);
                self.touch(*ino, *off, end, step)
            }
            Op::Read { .. } => {}
        }
        self.inflight.insert(tid, InFlight { op, start: step });
        Some(touched)
    }

    /// Thread `tid`'s command ended with `outcome` at `step`: the ghost takes what it wrote;
    /// what it read is compared with the file. Returns what it touched (for the footprint).
    pub fn finish(
        &mut self,
        m: &Machine,
        tid: Tid,
        outcome: &Outcome,
        step: u32,
        out: &mut Vec<Violation>,
    ) -> Vec<crate::engine::footprint::Access> {
        use crate::engine::footprint::Access;
        let Some(f) = self.inflight.remove(&tid) else {
            return Vec::new();
        };
        let mut touched = match &f.op {
            Op::Write { ino, .. } => vec![Access {
                obj: Obj::Ghost(*ino),
                write: true,
            }],
            Op::Change { ino, .. } => vec![Access {
                obj: Obj::Ghost(*ino),
                write: true,
            }],
            Op::Read { ino, .. } => vec![Access {
                obj: Obj::Ghost(*ino),
                write: false,
            }],
        };
        match f.op {
            Op::Write { ino, off, data } => {
                self.touch(ino, off, off + data.len() as u64, step);
                match (outcome.is_ok(), &outcome.value) {
                    (true, Value::Num(n)) => {
                        let n = (*n as usize).min(data.len());
                        self.set(ino, off, &data[..n]);
                        // The check reads what the file holds.
                        let mut read = Vec::new();
                        self.check_landed(m, tid, ino, off, &data[..n], step, out, &mut read);
                        touched.extend(read.into_iter().map(|obj| Access { obj, write: false }));
                    }
                    _ => self.mark_unknown(ino, off, off + data.len() as u64),
                }
            }
            Op::Change { ino, off, end, how } => {
                let size = m.inode(ino).map_or(0, |i| i.size);
                self.touch(ino, off, end.min(size.max(off) + PAGE_SIZE), step);
                match (outcome.is_ok(), how) {
                    (true, Change::Truncate { size }) => self.zero(ino, size, u64::MAX / 2),
                    (true, Change::Punch) => self.zero(ino, off, end),
                    _ => self.mark_unknown(ino, off, end.min(size.max(off) + PAGE_SIZE)),
                }
            }
            Op::Read { ino, off } => {
                if let (true, Value::Bytes(b)) = (outcome.is_ok(), &outcome.value) {
                    let got = b.to_vec();
                    self.compare_read(tid, ino, off, &got, f.start, step, out);
                }
            }
        }
        touched
    }

    /// A write or store just finished: the file must hold its bytes (below `i_size`, where no
    /// other command in flight is changing them). If not, something zeroed them while it ran
    /// (R2: a fault's clear_page on an unwritten extent a direct write was filling).
    #[allow(clippy::too_many_arguments)]
    fn check_landed(
        &mut self,
        m: &Machine,
        tid: Tid,
        ino: u64,
        off: u64,
        data: &[u8],
        step: u32,
        out: &mut Vec<Violation>,
        read: &mut Vec<Obj>,
    ) {
        read.push(Obj::ISize(ino));
        let size = m.inode(ino).map_or(0, |i| i.size);
        let len = (data.len() as u64).min(size.saturating_sub(off));
        if len == 0 {
            return;
        }
        let have = file_bytes(m, ino, off, len, read);
        let lost = (0..len as usize)
            .find(|k| have[*k] != data[*k] && !self.in_flight(ino, off + *k as u64, Some(tid)));
        if let Some(k) = lost {
            let at = off + k as u64;
            self.set(ino, off, &have);
            self.report(
                out,
                Invariant::StoreLost,
                ino,
                at / PAGE_SIZE,
                step,
                format!(
                    "a write to ino {ino} finished, but the file holds {:#04x} at offset {at} where it wrote {:#04x}: the kernel overwrote it while the write ran",
                    have[k], data[k]
                ),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compare_read(
        &mut self,
        tid: Tid,
        ino: u64,
        off: u64,
        got: &[u8],
        start: u32,
        step: u32,
        out: &mut Vec<Violation>,
    ) {
        let mut done = 0usize;
        while done < got.len() {
            let at = off + done as u64;
            let (index, in_page) = (at / PAGE_SIZE, (at % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - in_page).min(got.len() - done);
            let settled = match self.page(ino, index) {
                Some(p) => !p.unknown && p.touched < start,
                None => true,
            };
            if settled {
                let want = self
                    .page(ino, index)
                    .map(|p| &page_bytes(&p.data)[in_page..in_page + n])
                    .unwrap_or(&page_bytes(&None)[..n]);
                let have = &got[done..done + n];
                let differs = |k: &usize| {
                    want[*k] != have[*k] && !self.in_flight(ino, at + *k as u64, Some(tid))
                };
                if let Some(k) = (0..n).find(differs) {
                    self.report(
                        out,
                        Invariant::StaleDataExposed,
                        ino,
                        index,
                        step,
                        format!(
                            "a read of ino {ino} got {:#04x} at offset {}, where the file holds {:#04x}",
                            have[k],
                            at + k as u64,
                            want[k]
                        ),
                    );
                }
            }
            done += n;
        }
    }

    fn report(
        &mut self,
        out: &mut Vec<Violation>,
        invariant: Invariant,
        ino: u64,
        index: u64,
        step: u32,
        message: String,
    ) {
        if self.reported.insert((invariant, ino, index)) {
            out.push(Violation {
                step,
                invariant,
                message: message.into(),
            });
        }
    }

    /// The kernel zeroed `len` bytes at `loc` (function `func`, thread `tid`): checked after
    /// the step.
    pub fn kernel_zeroed(&mut self, tid: Tid, step: u32, func: &'static str, loc: Loc, len: u64) {
        if matches!(loc.space, Space::Device { .. } | Space::PageCache { .. }) {
            self.writes.push(KernelWrite {
                tid,
                step,
                func,
                loc,
                len,
            });
        }
    }

    /// The checks after a step. `quiescent`: no command is in flight. What the checks read
    /// goes to `read` (for the step's footprint).
    pub fn after_step(
        &mut self,
        m: &Machine,
        names: &dyn Fn(Tid) -> Rc<str>,
        step: u32,
        quiescent: bool,
        out: &mut Vec<Violation>,
        read: &mut Vec<Obj>,
    ) {
        for w in std::mem::take(&mut self.writes) {
            // Which file owns the zeroed block is looked up in every block map.
            read.extend(m.inodes.keys().map(|i| Obj::Blocks(*i)));
            if let Some(ino) = self.check_zeroing(m, names, &w, w.step, out) {
                read.push(Obj::Ghost(ino));
                read.push(Obj::ISize(ino));
            }
        }
        if let Some(at) = self.freed.take() {
            // A block freed: every DAX PTE of every process is looked at.
            self.installed.clear();
            self.check_ptes(m, at, out);
            read.push(Obj::Mms);
            read.extend(m.inodes.keys().map(|i| Obj::Blocks(*i)));
        }
        for (pid, addr, at) in std::mem::take(&mut self.installed) {
            // A PTE installed: only it is looked at.
            if let Some(ino) = self.check_pte(m, pid, addr, at, out) {
                read.push(Obj::Pte(pid, addr));
                read.push(Obj::Mm(pid));
                read.push(Obj::Blocks(ino));
            }
        }
        if quiescent {
            self.check_eof(m, step, out);
            for i in m.inodes.keys() {
                read.push(Obj::Blocks(*i));
                read.push(Obj::ISize(*i));
            }
        }
    }

    /// The file offset that device byte `byte` of `dev` holds, if a file owns its block.
    fn owner_of(m: &Machine, dev: DevId, byte: u64) -> Option<(u64, u64)> {
        let fs = m.filesystems.iter().find(|f| f.dev == dev)?;
        let (block, in_block) = (byte / fs.block_size, byte % fs.block_size);
        m.inodes.values().filter(|i| i.fs == fs.id).find_map(|i| {
            i.blocks
                .iter()
                .find(|(_, e)| e.block == block)
                .map(|(iblock, _)| (i.ino, iblock * fs.block_size + in_block))
        })
    }

    /// Returns the file whose storage the zeroing hit, if any.
    fn check_zeroing(
        &mut self,
        m: &Machine,
        names: &dyn Fn(Tid) -> Rc<str>,
        w: &KernelWrite,
        step: u32,
        out: &mut Vec<Violation>,
    ) -> Option<u64> {
        let pfn = w.loc.pfn?;
        let start = match w.loc.space {
            Space::PageCache { ino, index } => Some((ino, index * PAGE_SIZE)),
            Space::Device { dev, sector } => {
                let byte = sector * crate::state::mem::SECTOR_SIZE
                    + (w.loc.vaddr % crate::state::mem::SECTOR_SIZE);
                Self::owner_of(m, dev, byte)
            }
            _ => None,
        };
        let (ino, file_off) = start?;
        // A page freed later in the same step (a truncated page-cache page) holds nothing of
        // the file any more.
        m.mem.get(pfn)?;
        let file_off = match w.loc.space {
            Space::PageCache { .. } => file_off + w.loc.page_off() as u64,
            _ => file_off,
        };
        let size = m.inode(ino).map_or(0, |i| i.size);
        let frame = frame_view(m, pfn);
        let frame = page_bytes(&frame);
        let mut k = 0;
        while k < w.len {
            let at = file_off + k;
            if at >= size {
                break;
            }
            let (index, in_page) = (at / PAGE_SIZE, (at % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE - in_page as u64).min(w.len - k).min(size - at) as usize;
            let settled = self.page(ino, index).is_some_and(|p| !p.unknown);
            if settled {
                let want: Vec<u8> = self
                    .page(ino, index)
                    .map(|p| page_bytes(&p.data)[in_page..in_page + n].to_vec())
                    .unwrap_or_else(|| vec![0; n]);
                let off_in_frame = w.loc.page_off() + k as usize;
                let have = &frame[off_in_frame..off_in_frame + n];
                let differs =
                    |j: &usize| want[*j] != have[*j] && !self.in_flight(ino, at + *j as u64, None);
                if let Some(j) = (0..n).find(differs) {
                    // Reported once: from now on the file holds what the kernel left.
                    self.set(ino, at, have);
                    let who = names(w.tid);
                    self.report(
                        out,
                        Invariant::StoreLost,
                        ino,
                        index,
                        step,
                        format!(
                            "{} in thread {who} zeroed ino {ino} at offset {}, where a finished store or write had put {:#04x}",
                            w.func,
                            at + j as u64,
                            want[j]
                        ),
                    );
                }
            }
            k += n as u64;
        }
        Some(ino)
    }

    /// The device byte a DAX PTE's frame holds.
    fn device_byte(m: &Machine, pfn: Pfn) -> Option<(DevId, u64)> {
        match m.mem.get(pfn)?.usage {
            FrameUse::BrdPage { dev, idx } => Some((dev, idx * PAGE_SIZE)),
            FrameUse::DeviceMemory { dev } => {
                let frames = m.devices.get(dev.0 as usize)?.driver.cpu_frames(&m.mem);
                let (idx, _) = frames.into_iter().find(|(_, p)| *p == pfn)?;
                Some((dev, idx * PAGE_SIZE))
            }
            _ => None,
        }
    }

    /// The check of one DAX PTE just installed. Returns the file it maps.
    fn check_pte(
        &mut self,
        m: &Machine,
        pid: Pid,
        addr: u64,
        step: u32,
        out: &mut Vec<Violation>,
    ) -> Option<u64> {
        let p = m.processes.get(pid.0 as usize)?;
        let v = p.mm.find_vma(addr)?;
        let VmaKind::File { ino, .. } = v.kind else {
            return None;
        };
        let pte = p.mm.pte(addr)?;
        let (dev, byte) = Self::device_byte(m, pte.pfn)?;
        let pgoff = v.pgoff_of(addr);
        if !Self::owns(m, ino, pgoff, dev, byte) {
            self.report(
                out,
                Invariant::FreedBlockMapped,
                ino,
                pgoff,
                step,
                format!(
                    "process {}'s PTE at {addr:#x} maps device byte {byte:#x}, which ino {ino} does not have at page {pgoff}",
                    pid.0
                ),
            );
        }
        Some(ino)
    }

    /// Whether file page `pgoff` of `ino` is the block at device byte `byte` of `dev`.
    fn owns(m: &Machine, ino: u64, pgoff: u64, dev: DevId, byte: u64) -> bool {
        m.inode(ino).ok().is_some_and(|i| {
            let fs = m.fs(i.fs);
            fs.dev == dev
                && i.blocks
                    .get(pgoff * PAGE_SIZE / fs.block_size)
                    .is_some_and(|e| e.block * fs.block_size == byte)
        })
    }

    fn check_ptes(&mut self, m: &Machine, step: u32, out: &mut Vec<Violation>) {
        let mut found = Vec::new();
        for (pid, p) in m.processes.iter().enumerate() {
            for v in p.mm.vmas.values() {
                let VmaKind::File { ino, .. } = v.kind else {
                    continue;
                };
                for (vpn, pte) in
                    p.mm.ptes
                        .range(v.start / PAGE_SIZE..(v.start + v.len) / PAGE_SIZE)
                {
                    if !pte.special {
                        continue;
                    }
                    let pgoff = v.pgoff_of(vpn * PAGE_SIZE);
                    let Some((dev, byte)) = Self::device_byte(m, pte.pfn) else {
                        continue;
                    };
                    if !Self::owns(m, ino, pgoff, dev, byte) {
                        found.push((ino, pgoff, pid, vpn * PAGE_SIZE, byte));
                    }
                }
            }
        }
        for (ino, pgoff, pid, addr, byte) in found {
            self.report(
                out,
                Invariant::FreedBlockMapped,
                ino,
                pgoff,
                step,
                format!(
                    "process {pid}'s PTE at {addr:#x} maps device byte {byte:#x}, which ino {ino} no longer has at page {pgoff}"
                ),
            );
        }
    }

    fn check_eof(&mut self, m: &Machine, step: u32, out: &mut Vec<Violation>) {
        let mut found = Vec::new();
        for i in m.inodes.values() {
            let bs = m.fs(i.fs).block_size;
            if let Some((iblock, _)) = i.blocks.range(i.size.div_ceil(bs)..).next() {
                found.push((i.ino, iblock, i.size));
            }
        }
        for (ino, iblock, size) in found {
            self.report(
                out,
                Invariant::BlockPastEof,
                ino,
                iblock,
                step,
                format!("ino {ino} still has block {iblock} allocated past its end (i_size {size}) with nothing in flight"),
            );
        }
    }

    /// Forget an evicted inode.
    pub fn forget(&mut self, ino: u64) {
        self.files.remove(&ino);
    }
}
