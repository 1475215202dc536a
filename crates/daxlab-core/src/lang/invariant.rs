//! The invariants a run is checked against (the race lab's win conditions), by name.

/// An invariant of the storage path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// Bytes a finished store or `write()` put in a file were overwritten by kernel zeroing or
    /// a stale copy.
    StoreLost,
    /// A read or a load returned bytes the file does not hold (a deleted file's old bytes, an
    /// incoherent hole page, a stale cache line).
    StaleDataExposed,
    /// Once truncate is done and nothing is in flight, a block at or past end of file.
    BlockPastEof,
    /// A PTE maps a block the file no longer owns.
    FreedBlockMapped,
    /// Threads wait for each other forever.
    Deadlock,
}

impl Invariant {
    /// Every invariant with its name.
    pub const ALL: [(&'static str, Invariant); 5] = [
        ("store_lost", Invariant::StoreLost),
        ("stale_data_exposed", Invariant::StaleDataExposed),
        ("block_past_eof", Invariant::BlockPastEof),
        ("freed_block_mapped", Invariant::FreedBlockMapped),
        ("deadlock", Invariant::Deadlock),
    ];

    /// The name (as `violations` and `expect violation` spell it).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, i)| *i == self)
            .map_or("?", |(n, _)| n)
    }
}
