//! The race lab's levels: the locking races of Linux 4.0's DAX, each a scenario of threads (or
//! processes) with a goal. The learner is the scheduler; the level is won when the run breaks
//! the level's invariant. Each level's scenario file (`scenarios/races/`) ends with a winning
//! `schedule` line and its `expect violation`, so `daxlab run` shows the race; a level is
//! played from its program without them.

use crate::lang::invariant::Invariant;
use crate::state::Locking;

/// One level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Short id (`r1`), as in the kernel document's race list.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// What happens, in a few sentences.
    pub story: &'static str,
    /// The commit that fixed it, as `id subject`.
    pub commit: &'static str,
    /// A sentence about the race, in the kernel developers' words.
    pub quote: &'static str,
    /// Where the quote is from.
    pub source: &'static str,
    /// What the learner must make happen.
    pub goal: &'static str,
    /// The invariant that breaks when the goal is met.
    pub win: Invariant,
    /// What later kernels did about it (the `fixed` lock policy models it).
    pub fix: &'static str,
    /// The scenario file: the program, then a winning schedule and its `expect violation`.
    pub scenario: &'static str,
}

impl Level {
    /// The program to play: the scenario without its winning `schedule` and `expect
    /// violation` lines, under lock policy `locking` (a `locking` line first unless it is 4.0).
    pub fn program(&self, locking: Locking) -> String {
        let mut out = String::new();
        if locking != Locking::V4_0 {
            out.push_str(&format!("locking {}\n", locking.name()));
        }
        for l in self.scenario.lines() {
            let t = l.trim_start();
            if t.starts_with("schedule ") || t.starts_with("expect violation") {
                continue;
            }
            out.push_str(l);
            out.push('\n');
        }
        out
    }

    /// The winning `schedule` line of the scenario file.
    pub fn solution(&self) -> Option<&'static str> {
        self.scenario
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("schedule "))
    }
}

/// Every level, in order.
pub const LEVELS: [Level; 7] = [
    Level {
        id: "r1",
        title: "Two write faults on one hole",
        story: "Two threads store to the same page of a file that has no block there yet. Each \
                takes a write fault. The first allocates the block; ext2 zeroes it but still \
                calls it new. The second finds the block mapped, maps it and stores. Then the \
                first maps the block too, and because the block is new, clears it first.",
        commit: "843172978bb9 dax: fix race between simultaneous faults",
        quote: "If two threads write-fault on the same hole at the same time, the winner of the \
                race will return to userspace and complete their store, only to have the loser \
                overwrite their store with zeroes.",
        source: "the commit message",
        goal: "Make a finished store vanish (either thread's).",
        win: Invariant::StoreLost,
        fix: "ext2 stopped reporting the blocks it zeroes as new (4.6), and a per-index lock in \
              the DAX radix tree serialises faults on one page (4.7).",
        scenario: include_str!("../../../scenarios/races/r1-two-write-faults.dax"),
    },
    Level {
        id: "r2",
        title: "write() against a write fault on a new block",
        story: "Thread a writes 100 bytes into a hole with write(): dax_io allocates the block, \
                which is visible at once, and will zero the parts of the block its write does \
                not cover. Thread b store-faults on the same block, finds it mapped and stores. \
                Then a's dax_new_buf zeroes around its 100 bytes.",
        commit: "12735f881952 ext4: pre-zero allocated blocks for DAX IO",
        quote: "Similarly dax_new_buf() called from dax_io() can overwrite data that has been \
                already written to the block via mmap.",
        source: "the commit message",
        goal: "Make b's store vanish.",
        win: Invariant::StoreLost,
        fix: "Filesystems zero what they allocate for DAX before returning it, and dax_io no \
              longer zeroes anything (dax: Remove zeroing from dax_io(), 4.6).",
        scenario: include_str!("../../../scenarios/races/r2-write-vs-write-fault.dax"),
    },
    Level {
        id: "r2b",
        title: "ext4: write() into an unwritten extent against a fault",
        story: "On ext4 a write() inside the file allocates an unwritten extent and copies the \
                data into it; the extent is converted when the write ends. A fault in between \
                finds the block unwritten, clears it before mapping it, and converts it.",
        commit: "12735f881952 ext4: pre-zero allocated blocks for DAX IO",
        quote: "So data written with DAX IO gets lost.",
        source: "the commit message",
        goal: "Make a's write() vanish although it returns 4096.",
        win: Invariant::StoreLost,
        fix: "ext4 allocates written, pre-zeroed blocks for DAX (4.5); no unwritten extent \
              reaches the DAX paths.",
        scenario: include_str!("../../../scenarios/races/r2-ext4-unwritten-write-vs-fault.dax"),
    },
    Level {
        id: "r3",
        title: "A hole page in one process, a block in another",
        story: "Process p read-faults on a hole and goes to map a zeroed page-cache page in its \
                place. Process q write-faults on the same page: it allocates the block, finds no \
                hole page to remove yet, maps the block and stores. Then p adds its hole page and \
                maps it. p now reads zeros where the file holds q's data.",
        commit: "ac401cc78242 dax: New fault locking",
        quote: "This fixes races between hole instantiation and read faults of the same index.",
        source: "the 4.7 DAX locking pull request",
        goal: "Make p read a hole page where the file has data.",
        win: Invariant::StaleDataExposed,
        fix: "A lock bit in the DAX radix-tree entry of each index, held across the whole fault \
              (4.7); later, holes map the shared zero page under the same entry.",
        scenario: include_str!("../../../scenarios/races/r3-hole-page-vs-write-fault.dax"),
    },
    Level {
        id: "r4",
        title: "An allocating fault against truncate",
        story: "Thread a store-faults on page 1 of an 8 KiB file: the size check passes and the \
                block is a hole. Thread b truncates the file to 4 KiB: it frees what is past the \
                end. Then a allocates the block, past the new end, and dax_insert_mapping's \
                size re-check fails: SIGBUS. The block stays allocated past the end of the file.",
        commit: "5726b27b09cc ext2: Add locking for DAX faults",
        quote: "In the worst case, the file still has blocks allocated past the end of the file.",
        source: "the comment in 4.0's dax_insert_mapping (fs/dax.c)",
        goal: "Leave a block allocated past the end of the file.",
        win: Invariant::BlockPastEof,
        fix: "ext2's dax_sem (4.4) and ext4's i_mmap_sem (4.5), held for read by faults and for \
              write by truncate.",
        scenario: include_str!("../../../scenarios/races/r4-fault-vs-truncate.dax"),
    },
    Level {
        id: "r5",
        title: "A fault against a hole punch",
        story: "Thread b punches a hole in an ext4 file: it unmaps the range, then removes the \
                extent. Thread a faults on the range in between, finds the old block still in \
                the extent tree and maps it. Then b frees the block: a's mapping points at a \
                block the file no longer has, which another file may get next.",
        commit: "ea3d7209ca01 ext4: fix races between page faults and hole punching",
        quote: "we can end up with a page mapped to disk blocks that will be shortly freed. \
                Filesystem corruption will shortly follow.",
        source: "the commit message",
        goal: "Leave a mapping of a freed block.",
        win: Invariant::FreedBlockMapped,
        fix: "ext4's i_mmap_sem, held for write over hole punching and truncate and for read by \
              faults (4.5).",
        scenario: include_str!("../../../scenarios/races/r5-fault-vs-punch.dax"),
    },
    Level {
        id: "r6",
        title: "read() against an allocating fault",
        story: "Thread a store-faults on a hole of an ext4 file: ext4 allocates a written extent \
                and makes it visible before anything zeroes it. The block held a deleted file's \
                bytes. Thread b's read() holds i_mutex, which faults do not take: it finds the \
                block mapped and written, and copies the deleted file's bytes out.",
        commit: "c86d8db33a92 ext4: implement allocation of pre-zeroed blocks",
        quote: "allocated blocks are zeroed out and converted to written extents before being \
                returned to avoid exposure of uninitialized data through mmap.",
        source: "Documentation/filesystems/dax.txt after the fix",
        goal: "Make b read another file's old bytes.",
        win: Invariant::StaleDataExposed,
        fix: "ext4 zeroes blocks it allocates for DAX before inserting them in the extent tree \
              (4.5).",
        scenario: include_str!("../../../scenarios/races/r6-read-vs-allocating-fault.dax"),
    },
];

/// The level with id `id`.
pub fn level(id: &str) -> Option<&'static Level> {
    LEVELS.iter().find(|l| l.id == id)
}
