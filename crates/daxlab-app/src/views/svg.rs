//! The drawn views (SVG): address space and page tables, page cache, block maps, device frames
//! and RAM. Every cell that stands for a page frame carries its pfn, so selecting a pfn lights
//! it up in every view at once.

use yew::prelude::*;

use crate::boundary::{DeviceView, FileView, Snapshot, VmaView};
use crate::state::{Action, Selection};

/// Cells per row.
const COLS: u64 = 12;
const W: u64 = 46;
const H: u64 = 34;

/// One cell: a rectangle, two short lines of text, a class for its state, and what clicking it
/// selects.
struct Cell {
    top: String,
    bottom: String,
    class: &'static str,
    pfn: Option<u64>,
    title: String,
}

#[derive(Properties, PartialEq)]
pub struct GridProps {
    pub label: AttrValue,
    pub cells: Vec<(String, String, &'static str, Option<u64>, String)>,
    pub selected: Option<u64>,
    pub dispatch: Callback<Action>,
}

/// A wrapped grid of cells.
#[function_component(Grid)]
pub fn grid(p: &GridProps) -> Html {
    let cells: Vec<Cell> = p
        .cells
        .iter()
        .map(|(top, bottom, class, pfn, title)| Cell {
            top: top.clone(),
            bottom: bottom.clone(),
            class,
            pfn: *pfn,
            title: title.clone(),
        })
        .collect();
    let rows = (cells.len() as u64).div_ceil(COLS).max(1);
    let width = COLS.min(cells.len() as u64).max(1) * W + 2;
    html! {
        <svg class="grid" role="group" aria-label={p.label.clone()} width={width.to_string()} height={(rows * H + 2).to_string()} viewBox={format!("0 0 {} {}", width, rows * H + 2)}>
            { for cells.into_iter().enumerate().map(|(i, c)| {
                let (x, y) = ((i as u64 % COLS) * W + 1, (i as u64 / COLS) * H + 1);
                let lit = c.pfn.is_some() && c.pfn == p.selected;
                let onclick = c.pfn.map(|pfn| { let d = p.dispatch.clone(); Callback::from(move |_: MouseEvent| d.emit(Action::Select(Some(Selection::Pfn(pfn))))) });
                let onkeydown = c.pfn.map(|pfn| { let d = p.dispatch.clone(); Callback::from(move |e: KeyboardEvent| if e.key() == "Enter" || e.key() == " " { e.prevent_default(); d.emit(Action::Select(Some(Selection::Pfn(pfn)))) }) });
                let focusable = c.pfn.is_some();
                html! {
                    <g class={classes!("cell", c.class, lit.then_some("lit"))} transform={format!("translate({x},{y})")}
                       {onclick} {onkeydown} tabindex={focusable.then_some("0")} role={focusable.then_some("button")}
                       aria-label={format!("{} {}: {}", c.top, c.bottom, c.title)} data-pfn={c.pfn.map(|p| p.to_string())}>
                        <title>{ c.title.clone() }</title>
                        <rect width={(W - 4).to_string()} height={(H - 4).to_string()} rx="4" />
                        // One text element, so the visible text reads "top bottom", which begins the
                        // accessible name.
                        <text><tspan x="4" y="13" class="t1">{ c.top.clone() }</tspan>{ " " }<tspan x="4" y="26" class="t2">{ c.bottom.clone() }</tspan></text>
                    </g>
                }
            }) }
        </svg>
    }
}

fn hexpfn(p: u64) -> String {
    format!("{p:x}")
}

/// PTE cells of a mapping; `hole_pages` are the frames that are 4.0 DAX hole pages.
pub fn vma_cells(
    v: &VmaView,
    hole_pages: &[u64],
) -> Vec<(String, String, &'static str, Option<u64>, String)> {
    (0..v.pages.min(64))
        .map(|i| match v.ptes.iter().find(|p| p.page == i) {
            Some(&crate::boundary::PteView {
                pfn,
                writable: w,
                special,
                anon,
                ..
            }) => {
                let (class, kind) = if anon {
                    ("anon", "anonymous copy")
                } else if special {
                    ("dax", "device pfn, special PTE")
                } else if hole_pages.contains(&pfn) {
                    ("hole", "zeroed hole page")
                } else {
                    ("cache", "page-cache page")
                };
                (
                    format!("{i}"),
                    hexpfn(pfn),
                    class,
                    Some(pfn),
                    format!(
                        "{} page {i}: PTE → pfn {pfn:#x} ({kind}), {}",
                        v.name,
                        if w { "writable" } else { "read-only" }
                    ),
                )
            }
            None => (
                format!("{i}"),
                "—".into(),
                "none",
                None,
                format!("{} page {i}: no PTE", v.name),
            ),
        })
        .collect()
}

/// Page-cache cells of a file.
pub fn page_cells(f: &FileView) -> Vec<(String, String, &'static str, Option<u64>, String)> {
    f.pages
        .iter()
        .map(|p| {
            let (class, what) = if p.hole {
                ("hole", "hole page")
            } else if p.dirty {
                ("dirty", "dirty")
            } else {
                ("cache", "clean")
            };
            (
                format!(
                    "{}{}",
                    p.index,
                    if p.dirty {
                        " D"
                    } else if p.hole {
                        " H"
                    } else {
                        ""
                    }
                ),
                hexpfn(p.pfn),
                class,
                Some(p.pfn),
                format!("{} page {}: pfn {:#x}, {what}", f.path, p.index, p.pfn),
            )
        })
        .collect()
}

/// Block-map cells of a file, with the device frame of each block when the device is memory.
pub fn block_cells(
    f: &FileView,
    dev: Option<&DeviceView>,
) -> Vec<(String, String, &'static str, Option<u64>, String)> {
    let n = f
        .size
        .div_ceil(f.block_size)
        .max(f.blocks.iter().map(|b| b.iblock + 1).max().unwrap_or(0))
        .min(64);
    (0..n)
        .map(|i| {
            let past = i * f.block_size >= f.size;
            match f.blocks.iter().find(|b| b.iblock == i) {
                Some(&crate::boundary::BlockView {
                    block, unwritten, ..
                }) => {
                    let page = block * f.block_size / 4096;
                    let pfn = dev
                        .and_then(|d| d.frames.iter().find(|fr| fr.index == page).map(|fr| fr.pfn));
                    let class = if past {
                        "past"
                    } else if unwritten {
                        "unwritten"
                    } else {
                        "mapped"
                    };
                    let note = if past {
                        " — past EOF"
                    } else if unwritten {
                        " — unwritten extent"
                    } else {
                        ""
                    };
                    (
                        format!("{i}{}", if unwritten { " U" } else { "" }),
                        format!("b{block}"),
                        class,
                        pfn,
                        format!(
                            "{} block {i} → fs block {block}{}{note}",
                            f.path,
                            pfn.map(|p| format!(" (pfn {p:#x})")).unwrap_or_default()
                        ),
                    )
                }
                None => (
                    format!("{i}"),
                    "hole".into(),
                    "holeblk",
                    None,
                    format!("{} block {i}: hole (reads as zeros)", f.path),
                ),
            }
        })
        .collect()
}

/// Frame cells of a device.
pub fn device_cells(d: &DeviceView) -> Vec<(String, String, &'static str, Option<u64>, String)> {
    d.frames
        .iter()
        .take(64)
        .map(|f| {
            let (idx, pfn) = (f.index, f.pfn);
            (
                format!("p{idx}"),
                hexpfn(pfn),
                "dax",
                Some(pfn),
                format!(
                    "/dev/{} page {idx} (sector {}): pfn {pfn:#x}",
                    d.name,
                    idx * 8
                ),
            )
        })
        .collect()
}

/// RAM frames.
pub fn ram_cells(s: &Snapshot) -> Vec<(String, String, &'static str, Option<u64>, String)> {
    s.ram
        .iter()
        .take(96)
        .map(|f| {
            use crate::boundary::RamUse;
            let class = match f.what {
                RamUse::Brd => "dax",
                RamUse::HolePage => "hole",
                RamUse::Anon | RamUse::Buffer => "anon",
                RamUse::PageCache | RamUse::Kernel => "cache",
            };
            (
                hexpfn(f.pfn),
                f.text.split(' ').next().unwrap_or("").to_string(),
                class,
                Some(f.pfn),
                format!("pfn {:#x}: {}", f.pfn, f.text),
            )
        })
        .collect()
}
