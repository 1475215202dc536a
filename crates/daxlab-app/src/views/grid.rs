//! A grid of cells (page-table entries, block maps, page caches, device and RAM frames): one
//! Tab stop, arrow keys inside (a roving tabindex kept in the DOM), Enter or Space selects the
//! frame, `v` or a double click opens its contents. A cell may stand for a run of similar
//! items; a grid says how many items it did not draw.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use crate::boundary::cells::{Cell, Cells, Kind};
use crate::state::{Action, Selection};

/// Cells per row.
pub const COLS: usize = 8;

/// What a grid shows, for its labels.
#[derive(Debug, Clone, PartialEq)]
pub enum GridOf {
    /// The PTEs of a mapping.
    Ptes(String),
    /// A file's block map.
    Blocks(String),
    /// A file's page cache.
    Pages(String),
    /// A device's page frames.
    Device(String),
    /// RAM frames.
    Ram,
}

impl GridOf {
    /// The grid's accessible name (tests rely on these).
    pub fn label(&self) -> String {
        match self {
            GridOf::Ptes(m) => format!("page-table entries of {m}"),
            GridOf::Blocks(p) => format!("block map of {p}"),
            GridOf::Pages(p) => format!("page cache of {p}"),
            GridOf::Device(d) => format!("page frames of /dev/{d}"),
            GridOf::Ram => "RAM page frames".into(),
        }
    }

    /// What its items are called.
    fn item(&self) -> &'static str {
        match self {
            GridOf::Ptes(_) | GridOf::Pages(_) | GridOf::Device(_) => "page",
            GridOf::Blocks(_) => "block",
            GridOf::Ram => "frame",
        }
    }
}

fn letter(k: Kind) -> &'static str {
    match k {
        Kind::Dirty => " D",
        Kind::HolePage | Kind::PteHole => " H",
        Kind::Unwritten => " U",
        Kind::PastEof => " E",
        Kind::PteAnon | Kind::Anon => " A",
        _ => "",
    }
}

/// The two short lines of a cell and its description.
fn texts(of: &GridOf, c: &Cell) -> (String, String, String) {
    let idx = if c.count > 1 {
        format!("{}–{}", c.first, c.first + c.count - 1)
    } else {
        c.first.to_string()
    };
    let pfns = match (c.pfn, c.last_pfn()) {
        (Some(a), Some(b)) if c.count > 1 => format!("pfn {a:#x}…{b:#x}"),
        (Some(a), _) => format!("pfn {a:#x}"),
        _ => String::new(),
    };
    let top = match of {
        GridOf::Ram if c.count == 1 => c.pfn.map_or(String::new(), |p| format!("{p:x}")),
        GridOf::Ram => format!("{:x}…", c.first),
        GridOf::Device(_) => format!("p{idx}"),
        _ => format!("{idx}{}", letter(c.kind)),
    };
    let bottom = if c.count > 1 {
        format!("×{}", c.count)
    } else {
        match (of, c.pfn, c.value) {
            (GridOf::Ram, _, _) => match c.kind {
                Kind::Brd => "brd",
                Kind::PageCache => "cache",
                Kind::HolePage => "hole",
                Kind::Anon => "anon",
                Kind::Buffer => "buf",
                _ => "kern",
            }
            .to_string(),
            (_, _, Some(b)) => format!("b{b}"),
            (_, Some(p), _) => format!("{p:x}"),
            _ if c.kind == Kind::Hole => "hole".into(),
            _ => "—".into(),
        }
    };
    let item = of.item();
    let what = if c.count > 1 {
        format!("{item}s {idx}: {} {}s", c.count, c.kind.describe())
    } else {
        format!("{item} {idx}: {}", c.kind.describe())
    };
    let mut title = format!("{}, {what}", of.label());
    if let Some(b) = c.value {
        title.push_str(&if c.count > 1 {
            format!(", blocks {b}…{}", b + c.count - 1)
        } else {
            format!(", fs block {b}")
        });
    }
    if !pfns.is_empty() {
        title.push_str(", ");
        title.push_str(&pfns);
    }
    if c.writable {
        title.push_str(", writable");
    }
    (top, bottom, title)
}

/// The cell an event happened in, and its grid.
fn cell_of(e: &Event) -> Option<(HtmlElement, HtmlElement)> {
    let t = e.target()?.dyn_into::<Element>().ok()?;
    let cell = t
        .closest("[data-i]")
        .ok()??
        .dyn_into::<HtmlElement>()
        .ok()?;
    let grid = cell
        .closest("[role=grid]")
        .ok()??
        .dyn_into::<HtmlElement>()
        .ok()?;
    Some((cell, grid))
}

/// Make cell `i` of `grid` its one Tab stop and focus it.
fn rove(grid: &HtmlElement, i: usize) {
    let Some(to) = grid
        .query_selector(&format!("[data-i='{i}']"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    else {
        return;
    };
    if let Ok(list) = grid.query_selector_all("[tabindex='0']") {
        for k in 0..list.length() {
            if let Some(e) = list.item(k).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = e.set_attribute("tabindex", "-1");
            }
        }
    }
    let _ = to.set_attribute("tabindex", "0");
    let _ = to.focus();
}

/// After the grids are drawn again, each has exactly one Tab stop: the focused cell, else the
/// selected one, else its first.
pub fn one_tab_stop_per_grid() {
    let Ok(grids) = gloo::utils::document().query_selector_all("[role=grid]") else {
        return;
    };
    for g in 0..grids.length() {
        let Some(grid) = grids.item(g).and_then(|n| n.dyn_into::<HtmlElement>().ok()) else {
            continue;
        };
        let Ok(stops) = grid.query_selector_all("[tabindex='0']") else {
            continue;
        };
        if stops.length() == 1 {
            continue;
        }
        let keep = gloo::utils::document()
            .active_element()
            .filter(|a| grid.contains(Some(a)) && a.has_attribute("data-i"))
            .or_else(|| grid.query_selector("[aria-selected=true]").ok().flatten())
            .or_else(|| grid.query_selector("[data-i]").ok().flatten());
        if let Some(keep) = keep.and_then(|k| k.get_attribute("data-i")) {
            if let Ok(i) = keep.parse() {
                let focused = gloo::utils::document().active_element();
                rove(&grid, i);
                // Moving the Tab stop must not move the focus.
                if let Some(f) = focused.and_then(|f| f.dyn_into::<HtmlElement>().ok()) {
                    let _ = f.focus();
                }
            }
        }
    }
}

/// The keys and clicks of a grid of `n` cells in rows of `cols`: arrows move the one Tab stop,
/// Enter or Space (or a click) selects the cell's frame, `v` or a double click opens it.
pub(super) struct Nav {
    pub onkeydown: Callback<KeyboardEvent>,
    pub onclick: Callback<MouseEvent>,
    pub ondblclick: Callback<MouseEvent>,
}

/// The handlers of a grid (see [`Nav`]).
pub(super) fn nav(n: usize, cols: usize, dispatch: &Callback<Action>) -> Nav {
    let pfn_at = |cell: &HtmlElement| {
        cell.get_attribute("data-pfn")
            .and_then(|p| p.parse::<u64>().ok())
    };
    let onkeydown = {
        let (d, pfn_at) = (dispatch.clone(), pfn_at);
        Callback::from(move |e: KeyboardEvent| {
            let Some((cell, grid)) = cell_of(&e) else {
                return;
            };
            let at: usize = cell
                .get_attribute("data-i")
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            let last = n.saturating_sub(1);
            let to = match e.key().as_str() {
                "ArrowRight" => Some((at + 1).min(last)),
                "ArrowLeft" => Some(at.saturating_sub(1)),
                "ArrowDown" => Some((at + cols).min(last)),
                "ArrowUp" => Some(at.saturating_sub(cols)),
                "Home" => Some(0),
                "End" => Some(last),
                "Enter" | " " | "v" => {
                    if let Some(pfn) = pfn_at(&cell) {
                        d.emit(if e.shift_key() || e.key() == "v" {
                            Action::OpenPage(Some(pfn))
                        } else {
                            Action::Select(Some(Selection::Pfn(pfn)))
                        });
                    }
                    None
                }
                _ => return,
            };
            e.prevent_default();
            if let Some(i) = to {
                rove(&grid, i);
            }
        })
    };
    let onclick = {
        let d = dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            let Some((cell, grid)) = cell_of(&e) else {
                return;
            };
            if let Some(i) = cell.get_attribute("data-i").and_then(|i| i.parse().ok()) {
                rove(&grid, i);
            }
            if let Some(pfn) = pfn_at(&cell) {
                d.emit(Action::Select(Some(Selection::Pfn(pfn))));
            }
        })
    };
    let ondblclick = {
        let d = dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            if let Some(pfn) = cell_of(&e).and_then(|(c, _)| pfn_at(&c)) {
                d.emit(Action::OpenPage(Some(pfn)));
            }
        })
    };
    Nav {
        onkeydown,
        onclick,
        ondblclick,
    }
}

/// A grid of cells: one Tab stop (the selected cell, or the first), arrow keys inside.
pub fn grid(of: GridOf, cells: &Cells, selected: Option<u64>, dispatch: &Callback<Action>) -> Html {
    let Nav {
        onkeydown,
        onclick,
        ondblclick,
    } = nav(cells.cells.len(), COLS, dispatch);
    let stop = cells
        .cells
        .iter()
        .position(|c| selected.is_some_and(|s| c.holds(s)))
        .unwrap_or(0);
    let cell = |i: usize, c: &Cell| {
        let (top, bottom, title) = texts(&of, c);
        let lit = selected.is_some_and(|s| c.holds(s));
        html! {
            <div role="gridcell" class={classes!("cell", c.kind.class(), (c.count > 1).then_some("run"), lit.then_some("lit"))}
                 tabindex={if i == stop { "0" } else { "-1" }} data-i={i.to_string()}
                 data-pfn={c.pfn.map(|p| p.to_string())} aria-selected={lit.to_string()}
                 aria-label={format!("{top} {bottom}: {title}")} title={title}>
                <span class="t1">{ top }</span>{ " " }<span class="t2">{ bottom }</span>
            </div>
        }
    };
    html! {
        <div class="grid-wrap">
            <div class="grid" role="grid" aria-label={of.label()} {onkeydown} {onclick} {ondblclick}>
                { for cells.cells.chunks(COLS).enumerate().map(|(r, row)| html! {
                    <div role="row" class="grid-row">{ for row.iter().enumerate().map(|(j, c)| cell(r * COLS + j, c)) }</div>
                }) }
            </div>
            if cells.hidden > 0 {
                <p class="more">{ format!("+ {} more {}s not drawn ({} in all)", cells.hidden, of.item(), cells.items) }</p>
            } else if cells.cells.iter().any(|c| c.count > 1) {
                <p class="more">{ format!("{} {}s in all: runs of similar ones are drawn as one cell (×N)", cells.items, of.item()) }</p>
            }
        </div>
    }
}
