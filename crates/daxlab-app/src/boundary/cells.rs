//! Grids that stay small whatever the machine holds: a grid of up to [`MAX_CELLS`] items draws
//! one cell per item; a larger one draws runs of similar items (consecutive indices, the same
//! kind, frames at a constant stride) as one cell each, and counts what it could not draw.
//! Pure data, tested natively.

/// The most cells a grid draws.
pub const MAX_CELLS: usize = 64;

/// What a cell stands for. One enum for every grid, so a view draws each kind one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PTE that maps a device page frame (a DAX mapping, special PTE).
    PteDevice,
    /// A PTE that maps a page-cache page.
    PtePageCache,
    /// A PTE that maps a 4.0 DAX hole page.
    PteHole,
    /// A PTE that maps an anonymous copy-on-write copy.
    PteAnon,
    /// A page of the mapping with no PTE yet.
    NoPte,
    /// A clean page-cache page.
    Clean,
    /// A dirty page-cache page.
    Dirty,
    /// A 4.0 DAX hole page in the page cache.
    HolePage,
    /// A file block mapped to a filesystem block.
    Block,
    /// An unwritten extent (ext4).
    Unwritten,
    /// A block at or past end of file.
    PastEof,
    /// A hole in the block map.
    Hole,
    /// A device page held in a CPU page frame.
    DeviceFrame,
    /// A RAM frame holding a brd page (the RAM disk's storage).
    Brd,
    /// A RAM frame holding a page-cache page.
    PageCache,
    /// A RAM frame of anonymous memory.
    Anon,
    /// A RAM frame of a program's I/O buffer.
    Buffer,
    /// A RAM frame the kernel uses for itself.
    Kernel,
}

impl Kind {
    /// The class the stylesheet draws it with (colour plus a pattern or a letter, never colour
    /// alone).
    pub fn class(self) -> &'static str {
        match self {
            Kind::PteDevice | Kind::DeviceFrame | Kind::Brd | Kind::Block => "dax",
            Kind::PtePageCache | Kind::Clean | Kind::PageCache | Kind::Kernel => "cache",
            Kind::Dirty => "dirty",
            Kind::PteHole | Kind::HolePage => "hole",
            Kind::PteAnon | Kind::Anon | Kind::Buffer => "anon",
            Kind::NoPte | Kind::Hole => "none",
            Kind::Unwritten => "unwritten",
            Kind::PastEof => "past",
        }
    }

    /// What it is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::PteDevice => "PTE to a device page frame (special PTE, no struct page)",
            Kind::PtePageCache => "PTE to a page-cache page",
            Kind::PteHole => "PTE to the zeroed hole page",
            Kind::PteAnon => "PTE to an anonymous copy",
            Kind::NoPte => "no PTE yet",
            Kind::Clean => "clean page-cache page",
            Kind::Dirty => "dirty page-cache page",
            Kind::HolePage => "hole page (zeroed, mapped read-only)",
            Kind::Block => "mapped block",
            Kind::Unwritten => "unwritten extent (reads as zeros)",
            Kind::PastEof => "block past end of file",
            Kind::Hole => "hole (reads as zeros)",
            Kind::DeviceFrame => "device page in a CPU page frame",
            Kind::Brd => "brd page (the RAM disk's storage)",
            Kind::PageCache => "page-cache page",
            Kind::Anon => "anonymous page",
            Kind::Buffer => "program's I/O buffer",
            Kind::Kernel => "kernel page",
        }
    }
}

/// One drawn cell: one item, or a run of `count` similar items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Index of the first item (page in a mapping or file, block in a file, page of a device;
    /// for RAM, the frame number itself).
    pub first: u64,
    /// Items in the cell.
    pub count: u64,
    /// What they are.
    pub kind: Kind,
    /// The page frame of the first item, if it has one.
    pub pfn: Option<u64>,
    /// Frame number step from one item to the next in a run.
    pub stride: u64,
    /// A second number the grid shows (the filesystem block of a block-map cell).
    pub value: Option<u64>,
    /// A writable PTE.
    pub writable: bool,
}

impl Cell {
    /// One item.
    pub fn one(first: u64, kind: Kind, pfn: Option<u64>) -> Self {
        Cell {
            first,
            count: 1,
            kind,
            pfn,
            stride: 1,
            value: None,
            writable: false,
        }
    }

    /// Whether frame `pfn` is one of the cell's.
    pub fn holds(&self, pfn: u64) -> bool {
        let Some(p) = self.pfn else { return false };
        if pfn < p {
            return false;
        }
        let d = pfn - p;
        if self.count == 1 || self.stride == 0 {
            return d == 0;
        }
        d.is_multiple_of(self.stride) && d / self.stride < self.count
    }

    /// The frame of the last item.
    pub fn last_pfn(&self) -> Option<u64> {
        self.pfn
            .map(|p| p + self.stride * self.count.saturating_sub(1))
    }

    /// Whether `next` continues this cell's run.
    fn continued_by(&self, next: &Cell) -> bool {
        if next.kind != self.kind
            || next.writable != self.writable
            || next.first != self.first + self.count
        {
            return false;
        }
        let step = |a: Option<u64>, b: Option<u64>, stride: u64, count: u64| match (a, b) {
            (None, None) => Some(stride),
            (Some(a), Some(b)) if count == 1 && b > a => Some(b - a),
            (Some(a), Some(b)) if b == a + stride * count => Some(stride),
            _ => None,
        };
        let Some(stride) = step(self.pfn, next.pfn, self.stride, self.count) else {
            return false;
        };
        // A second number (a block) must go up one by one as the index does.
        let blocks = match (self.value, next.value) {
            (None, None) => true,
            (Some(a), Some(b)) => b == a + self.count,
            _ => false,
        };
        blocks && (self.count > 1 || stride > 0)
    }
}

/// A grid's cells and what was left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cells {
    /// The cells drawn.
    pub cells: Vec<Cell>,
    /// Items in the grid, drawn or not.
    pub items: u64,
    /// Items beyond the drawn cells.
    pub hidden: u64,
}

impl Cells {
    /// The cell holding frame `pfn`, if drawn.
    pub fn find_pfn(&self, pfn: u64) -> Option<usize> {
        self.cells.iter().position(|c| c.holds(pfn))
    }
}

/// Builds [`Cells`] from items in index order, with memory bounded by [`MAX_CELLS`].
#[derive(Debug, Default)]
pub struct CellsBuilder {
    runs: Vec<Cell>,
    items: u64,
    hidden: u64,
}

impl CellsBuilder {
    /// An empty grid.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an item, or a run of items (`cell.count` > 1, e.g. a stretch of pages with no PTE).
    pub fn push(&mut self, cell: Cell) {
        if cell.count == 0 {
            return;
        }
        self.items += cell.count;
        if self.hidden > 0 {
            self.hidden += cell.count;
            return;
        }
        if let Some(last) = self.runs.last_mut() {
            if last.continued_by(&cell) {
                if last.count == 1 {
                    last.stride = match (last.pfn, cell.pfn) {
                        (Some(a), Some(b)) => b - a,
                        _ => last.stride,
                    };
                }
                last.count += cell.count;
                return;
            }
        }
        if self.runs.len() < MAX_CELLS {
            self.runs.push(cell);
        } else {
            self.hidden += cell.count;
        }
    }

    /// The grid: one cell per item when there are few, else the runs.
    pub fn finish(self) -> Cells {
        if self.items <= MAX_CELLS as u64 {
            let mut cells = Vec::with_capacity(self.items as usize);
            for r in &self.runs {
                for i in 0..r.count {
                    cells.push(Cell {
                        first: r.first + i,
                        count: 1,
                        pfn: r.pfn.map(|p| p + r.stride * i),
                        value: r.value.map(|v| v + i),
                        stride: 1,
                        ..*r
                    });
                }
            }
            return Cells {
                cells,
                items: self.items,
                hidden: 0,
            };
        }
        Cells {
            cells: self.runs,
            items: self.items,
            hidden: self.hidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: impl IntoIterator<Item = Cell>) -> Cells {
        let mut b = CellsBuilder::new();
        for c in items {
            b.push(c);
        }
        b.finish()
    }

    #[test]
    fn a_small_grid_draws_every_item() {
        let g = build((0..10).map(|i| Cell::one(i, Kind::Clean, Some(100 + i))));
        assert_eq!(g.cells.len(), 10);
        assert_eq!((g.items, g.hidden), (10, 0));
        assert!(g.cells.iter().all(|c| c.count == 1));
        assert_eq!(g.find_pfn(105), Some(5));
    }

    #[test]
    fn a_run_given_as_one_item_is_expanded_when_the_grid_is_small() {
        let mut b = CellsBuilder::new();
        b.push(Cell {
            count: 5,
            ..Cell::one(0, Kind::NoPte, None)
        });
        b.push(Cell::one(5, Kind::PteDevice, Some(9)));
        let g = b.finish();
        assert_eq!(g.cells.len(), 6);
        assert_eq!(g.cells[4].first, 4);
        assert_eq!(g.cells[5].pfn, Some(9));
    }

    #[test]
    fn a_large_grid_draws_runs_at_a_stride() {
        // 65536 page-cache pages whose frames alternate with brd pages: one run, stride 2.
        let g = build((0..65536).map(|i| Cell::one(i, Kind::Clean, Some(1000 + 2 * i))));
        assert_eq!(g.cells.len(), 1);
        let c = g.cells[0];
        assert_eq!((c.first, c.count, c.stride), (0, 65536, 2));
        assert!(c.holds(1000 + 2 * 700) && !c.holds(1001) && !c.holds(1000 + 2 * 65536));
        assert_eq!(c.last_pfn(), Some(1000 + 2 * 65535));
    }

    #[test]
    fn kinds_and_blocks_split_runs_and_what_does_not_fit_is_counted() {
        // Dirty and clean alternate: nothing merges, so all but 64 cells are counted as hidden.
        let g = build((0..1000).map(|i| {
            Cell::one(
                i,
                if i % 2 == 0 { Kind::Dirty } else { Kind::Clean },
                Some(i),
            )
        }));
        assert_eq!(g.cells.len(), MAX_CELLS);
        assert_eq!(g.items, 1000);
        assert_eq!(g.hidden, 1000 - MAX_CELLS as u64);
        // Blocks must rise with the index.
        let g = build((0..100).map(|i| Cell {
            value: Some(if i < 50 { 10 + i } else { 500 + i }),
            ..Cell::one(i, Kind::Block, None)
        }));
        assert_eq!(g.cells.len(), 2);
        assert_eq!(g.cells[1].value, Some(550));
    }
}
