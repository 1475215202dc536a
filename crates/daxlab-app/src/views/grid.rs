//! A grid of cells (page-table entries, block maps, page caches, device and RAM frames): one
//! Tab stop, arrow keys inside (a roving tabindex), Enter or Space selects the frame, `v` or a
//! double click opens its contents. A cell may stand for a run of similar items; a grid says
//! how many items it did not draw.

use wasm_bindgen::JsCast;
use web_sys::HtmlElement;
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

#[derive(Properties, PartialEq)]
pub struct GridProps {
    pub of: GridOf,
    pub cells: Cells,
    pub selected: Option<u64>,
    pub dispatch: Callback<Action>,
}

/// A grid of cells.
#[function_component(Grid)]
pub fn grid(p: &GridProps) -> Html {
    let active = use_state(|| 0usize);
    let node = use_node_ref();
    let n = p.cells.cells.len();
    let at = (*active).min(n.saturating_sub(1));
    let focus = {
        let node = node.clone();
        move |i: usize| {
            if let Some(e) = node
                .cast::<HtmlElement>()
                .and_then(|g| g.query_selector(&format!("[data-i='{i}']")).ok().flatten())
                .and_then(|e| e.dyn_into::<HtmlElement>().ok())
            {
                let _ = e.focus();
            }
        }
    };
    let pfn_of = {
        let cells = p.cells.cells.clone();
        move |i: usize| cells.get(i).and_then(|c| c.pfn)
    };
    let onkeydown = {
        let (active, d, pfn_of) = (active.clone(), p.dispatch.clone(), pfn_of.clone());
        Callback::from(move |e: KeyboardEvent| {
            let last = n.saturating_sub(1);
            let to = match e.key().as_str() {
                "ArrowRight" => Some((at + 1).min(last)),
                "ArrowLeft" => Some(at.saturating_sub(1)),
                "ArrowDown" => Some((at + COLS).min(last)),
                "ArrowUp" => Some(at.saturating_sub(COLS)),
                "Home" => Some(0),
                "End" => Some(last),
                "Enter" | " " => {
                    if let Some(pfn) = pfn_of(at) {
                        d.emit(if e.shift_key() {
                            Action::OpenPage(Some(pfn))
                        } else {
                            Action::Select(Some(Selection::Pfn(pfn)))
                        });
                    }
                    None
                }
                "v" => {
                    if let Some(pfn) = pfn_of(at) {
                        d.emit(Action::OpenPage(Some(pfn)));
                    }
                    None
                }
                _ => return,
            };
            e.prevent_default();
            if let Some(i) = to {
                active.set(i);
                focus(i);
            }
        })
    };
    let cell = |i: usize, c: &Cell| {
        let (top, bottom, title) = texts(&p.of, c);
        let lit = p.selected.is_some_and(|s| c.holds(s));
        let onclick = {
            let (d, active, pfn) = (p.dispatch.clone(), active.clone(), c.pfn);
            Callback::from(move |_: MouseEvent| {
                active.set(i);
                if let Some(pfn) = pfn {
                    d.emit(Action::Select(Some(Selection::Pfn(pfn))));
                }
            })
        };
        let ondblclick = c
            .pfn
            .map(|pfn| super::send::<MouseEvent>(&p.dispatch, Action::OpenPage(Some(pfn))));
        html! {
            <div role="gridcell" class={classes!("cell", c.kind.class(), (c.count > 1).then_some("run"), lit.then_some("lit"))}
                 tabindex={if i == at { "0" } else { "-1" }} data-i={i.to_string()}
                 data-pfn={c.pfn.map(|p| p.to_string())} aria-selected={lit.to_string()}
                 aria-label={format!("{top} {bottom}: {title}")} title={title} {onclick} {ondblclick}>
                <span class="t1">{ top }</span>{ " " }<span class="t2">{ bottom }</span>
            </div>
        }
    };
    html! {
        <div class="grid-wrap">
            <div class="grid" role="grid" aria-label={p.of.label()} ref={node} {onkeydown}>
                { for p.cells.cells.chunks(COLS).enumerate().map(|(r, row)| html! {
                    <div role="row" class="grid-row">{ for row.iter().enumerate().map(|(j, c)| cell(r * COLS + j, c)) }</div>
                }) }
            </div>
            if p.cells.hidden > 0 {
                <p class="more">{ format!("+ {} more {}s not drawn ({} in all)", p.cells.hidden, p.of.item(), p.cells.items) }</p>
            } else if p.cells.cells.iter().any(|c| c.count > 1) {
                <p class="more">{ format!("{} {}s in all: runs of similar ones are drawn as one cell (×N)", p.cells.items, p.of.item()) }</p>
            }
        </div>
    }
}
