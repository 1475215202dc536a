//! The machine views of a step: the copies of the step, the counters with their plot, and the
//! process, files, devices and RAM; side by side, the page-cache twin on the left and the
//! scenario on the right, each with its own copies, under the same labels.

use yew::prelude::*;

use super::flow::flow;
use super::grid::{grid, GridOf};
use super::panels::counters;
use crate::boundary::cells::Cells;
use crate::boundary::{Run, Scope, Snapshot, StepView};
use crate::state::{Action, Selection};

/// Everything drawn of the machine at the step; side by side, `twin` is the page-cache twin's
/// view at the matching step.
pub fn views(
    run: &Run,
    view: &StepView,
    twin: Option<&StepView>,
    selection: Option<&Selection>,
    dispatch: &Callback<Action>,
) -> Html {
    let selected = match selection {
        Some(Selection::Pfn(x)) => Some(*x),
        _ => None,
    };
    let scope = run.dax_scope();
    let side = |title: &'static str, v: &StepView| {
        html! {
            <div class="half">
                <h2 class="side-title">{ title }</h2>
                { flow(&v.events, &scope, selected, dispatch) }
                { machine(&v.machine, selection, dispatch) }
            </div>
        }
    };
    match twin {
        Some(tv) => {
            let note = match &scope.mounts {
                Some(m) => format!(
                    "Only what belongs to {} is compared: the scenario's other mounts are the same on both sides.",
                    m.join(", ")
                ),
                None if run.mounts.iter().any(|m| m.dax) => {
                    "Left: the scenario with every -o dax removed. Right: the scenario as written.".into()
                }
                None => "This scenario mounts nothing with -o dax: both sides are the same.".into(),
            };
            html! {
                <>
                <div class="top-row">
                    <p class="compare-note">{ note }</p>
                    { counters(&[("Page cache", tv.machine.counters), ("DAX", view.machine.counters)], run, view.step) }
                </div>
                <div class="side-by-side">
                    { side("Page cache", tv) }
                    { side("DAX", view) }
                </div>
                </>
            }
        }
        None => html! {
            <>
            <div class="top-row">
                { flow(&view.events, &Scope::default(), selected, dispatch) }
                { counters(&[("total", view.machine.counters)], run, view.step) }
            </div>
            { machine(&view.machine, selection, dispatch) }
            </>
        },
    }
}

fn size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

/// A thing of the machine (a mapping, a file, a device): the button that selects it, and its
/// grids.
struct Item {
    sel: Selection,
    testid: Option<String>,
    label: Html,
    body: Html,
}

fn item(it: Item, selection: Option<&Selection>, d: &Callback<Action>) -> Html {
    let pressed = selection == Some(&it.sel);
    html! {
        <div class="row-view">
            <button class="link" data-testid={it.testid} onclick={super::send::<MouseEvent>(d, Action::Select(Some(it.sel)))} aria-pressed={pressed.to_string()}>
                { it.label }
            </button>
            { it.body }
        </div>
    }
}

/// A panel of the machine views.
struct Panel {
    label: &'static str,
    heading: String,
    /// What it says when it lists nothing.
    none: &'static str,
    items: Vec<Item>,
    /// How many more were not listed, and what they are.
    more: (usize, &'static str),
    /// What follows the list.
    extra: Html,
}

/// A panel of things, or a sentence when there are none, and how many were not listed.
fn panel(p: Panel, selection: Option<&Selection>, d: &Callback<Action>) -> Html {
    html! {
        <div class="panel" role="group" aria-label={p.label}>
            <h3>{ p.heading }</h3>
            if p.items.is_empty() && !p.none.is_empty() { <p class="empty">{ p.none }</p> }
            { for p.items.into_iter().map(|it| item(it, selection, d)) }
            if p.more.0 > 0 { <p class="more">{ format!("+ {} more {} not listed", p.more.0, p.more.1) }</p> }
            { p.extra }
        </div>
    }
}

/// A grid, or a sentence when it holds nothing.
fn grid_or(
    of: GridOf,
    cells: &Cells,
    empty: &'static str,
    selected: Option<u64>,
    d: &Callback<Action>,
) -> Html {
    if cells.items == 0 {
        html! { <p class="empty">{ empty }</p> }
    } else {
        grid(of, cells, selected, d)
    }
}

fn badge(yes: bool, text: &'static str) -> Html {
    html! { <span class={if yes { "badge yes" } else { "badge no" }}>{ text }</span> }
}

/// All views of one machine.
fn machine(s: &Snapshot, selection: Option<&Selection>, d: &Callback<Action>) -> Html {
    let selected = match selection {
        Some(Selection::Pfn(x)) => Some(*x),
        _ => None,
    };
    // Each process has its own page tables: name it when there is more than one.
    let processes = s.vmas.iter().any(|v| v.process != s.vmas[0].process);
    let vmas = s
        .vmas
        .iter()
        .map(|v| Item {
            sel: Selection::Vma(v.name.clone()),
            testid: None,
            label: html! { <>
                if processes { <strong>{ format!("process {} · ", v.process) }</strong> }
                { format!("{} {:#x} {} {} {}{} · {} of {} pages mapped", v.name, v.start, v.file, if v.shared { "shared" } else { "private" }, if v.writable { "rw" } else { "r" }, if v.mixedmap { " VM_MIXEDMAP" } else { "" }, v.present, v.pages) }
            </> },
            body: grid(GridOf::Ptes(v.name.clone()), &v.ptes, selected, d),
        })
        .collect();
    let files = s
        .files
        .iter()
        .map(|f| Item {
            sel: Selection::File(f.ino),
            testid: Some(format!("file-{}", f.ino)),
            label: html! { <>
                <strong>{ &f.path }</strong>
                { format!(" ino {} · i_size {} · ", f.ino, f.size) }
                { if f.s_dax { badge(true, "S_DAX") } else { badge(false, "page cache") } }
            </> },
            body: html! { <>
                <div class="sub">{ format!("block map ({} blocks allocated)", f.allocated) }</div>
                { grid_or(GridOf::Blocks(f.path.clone()), &f.blocks, "empty file", selected, d) }
                <div class="sub">{ format!("page cache ({} pages)", f.pages.items) }</div>
                { grid_or(GridOf::Pages(f.path.clone()), &f.pages, "empty", selected, d) }
            </> },
        })
        .collect();
    let devices = s
        .devices
        .iter()
        .map(|dv| Item {
            sel: Selection::Device(dv.name.clone()),
            testid: Some(format!("device-{}", dv.name)),
            label: html! { <>
                <strong>{ format!("/dev/{}", dv.name) }</strong>{ format!(" {} · {} · ", dv.kind, size(dv.size)) }
                { if dv.direct_access { badge(true, "direct_access") } else { badge(false, "no direct_access") } }
            </> },
            body: grid_or(
                GridOf::Device(dv.name.clone()),
                &dv.frames,
                if dv.direct_access { "no page touched yet" } else { "not CPU-addressable: reached by bios only" },
                selected,
                d,
            ),
        })
        .collect();
    html! {
        <div class="machine">
            { panel(Panel {
                label: "Process address space",
                heading: "Process: mappings and page-table entries".into(),
                none: "No mappings. mmap a file to see its PTEs.",
                items: vmas,
                more: (s.more_vmas, "mappings"),
                extra: Html::default(),
            }, selection, d) }
            { panel(Panel {
                label: "Files: block maps and page cache",
                heading: "Files: block map and page cache".into(),
                none: "No files.",
                items: files,
                more: (s.more_files, "files"),
                extra: Html::default(),
            }, selection, d) }
            { panel(Panel {
                label: "Block devices",
                heading: "Block devices and their page frames".into(),
                none: "No devices yet.",
                items: devices,
                more: (0, ""),
                extra: html! { <>
                    <div class="sub">{ "/proc/mounts" }</div>
                    if s.proc_mounts.is_empty() { <p class="empty">{ "Nothing mounted." }</p> }
                    else { <pre class="mounts" data-testid="proc-mounts">{ &s.proc_mounts }</pre> }
                </> },
            }, selection, d) }
            { panel(Panel {
                label: "Physical memory",
                heading: format!("RAM page frames in use ({})", s.ram.items),
                none: "",
                items: Vec::new(),
                more: (0, ""),
                extra: html! { <>
                    { grid_or(GridOf::Ram, &s.ram, "none", selected, d) }
                    <p class="legend">
                        { for [("key dax", "device / brd"), ("key cache", "page cache"), ("key dirty", "D dirty"), ("key hole", "H hole page"), ("key anon", "A anonymous"), ("key unwritten", "U unwritten"), ("key past", "E past EOF")]
                            .iter().map(|(c, t)| html! { <span class={*c}>{ *t }</span> }) }
                    </p>
                </> },
            }, selection, d) }
            { super::cache::cache_panel(s.cache.as_ref(), selected, d) }
            { super::struct_page::memmap_panel(&s.memmap, selected, d) }
        </div>
    }
}
