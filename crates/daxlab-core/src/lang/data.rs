//! Bytes in the language: the data a command writes or an expectation compares with ([`Data`],
//! generated on demand for `fill=` and `pattern=`), and the bytes a command produced
//! ([`Bytes`], shared with the frames that held them rather than copied).

use std::rc::Rc;

use crate::state::mem::{page_bytes, PageRef};

/// A named deterministic byte pattern (`pattern=NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Byte `i` is `i mod 251`.
    Seq,
    /// Zeros.
    Zero,
}

impl Pattern {
    /// Every pattern with its name.
    pub const ALL: [(&'static str, Pattern); 2] = [("seq", Pattern::Seq), ("zero", Pattern::Zero)];

    fn byte(self, i: u64) -> u8 {
        match self {
            Pattern::Seq => (i % 251) as u8,
            Pattern::Zero => 0,
        }
    }
}

/// Bytes a command writes or an expectation compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Literal bytes (a quoted string).
    Bytes(Rc<[u8]>),
    /// `fill=0xNN len=SIZE`.
    Fill {
        /// The byte.
        byte: u8,
        /// How many.
        len: u64,
    },
    /// `pattern=NAME len=SIZE`.
    Pattern {
        /// Which.
        pattern: Pattern,
        /// How many.
        len: u64,
    },
}

impl Data {
    /// Literal bytes.
    pub fn bytes(b: &[u8]) -> Self {
        Data::Bytes(Rc::from(b))
    }

    /// The length.
    pub fn len(&self) -> u64 {
        match self {
            Data::Bytes(b) => b.len() as u64,
            Data::Fill { len, .. } | Data::Pattern { len, .. } => *len,
        }
    }

    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes `off..off + dst.len()` into `dst`.
    pub fn fill(&self, off: u64, dst: &mut [u8]) {
        match self {
            Data::Bytes(b) => dst.copy_from_slice(&b[off as usize..off as usize + dst.len()]),
            Data::Fill { byte, .. } => dst.fill(*byte),
            Data::Pattern { pattern, .. } => {
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = pattern.byte(off + i as u64);
                }
            }
        }
    }

    /// Every byte (for small data and tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.len() as usize];
        self.fill(0, &mut v);
        v
    }
}

/// Part of one page's bytes.
#[derive(Debug, Clone)]
pub struct Slice {
    /// The page (shared with the frame it was read from, as it was then).
    pub page: PageRef,
    /// Offset in the page.
    pub off: u16,
    /// Length (a whole page is 4096, which fits).
    pub len: u16,
}

impl Slice {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &page_bytes(&self.page)[self.off as usize..self.off as usize + self.len as usize]
    }
}

/// Bytes a command produced (a `read`, a `load`).
#[derive(Debug, Clone, Default)]
pub struct Bytes {
    parts: Rc<[Slice]>,
    len: u64,
}

impl Bytes {
    /// Bytes made of page slices, in order.
    pub fn from_slices(parts: Vec<Slice>) -> Self {
        let len = parts.iter().map(|s| u64::from(s.len)).sum();
        Bytes {
            parts: parts.into(),
            len,
        }
    }

    /// The length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes, chunk by chunk.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(Slice::bytes)
    }

    /// Every byte (for small results and tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len as usize);
        for c in self.chunks() {
            v.extend_from_slice(c);
        }
        v
    }

    /// The first `n` bytes at most.
    pub fn prefix(&self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n.min(self.len as usize));
        for c in self.chunks() {
            if v.len() >= n {
                break;
            }
            v.extend_from_slice(&c[..c.len().min(n - v.len())]);
        }
        v
    }

    /// Whether these are the bytes of `d` (compared 256 bytes at a time: no page-sized
    /// buffer to zero for a short compare).
    pub fn matches(&self, d: &Data) -> bool {
        if self.len != d.len() {
            return false;
        }
        let mut off = 0u64;
        let mut buf = [0u8; 256];
        for part in self.chunks().flat_map(|c| c.chunks(256)) {
            let want = &mut buf[..part.len()];
            d.fill(off, want);
            if want != part {
                return false;
            }
            off += part.len() as u64;
        }
        true
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.to_vec() == other.to_vec()
    }
}
