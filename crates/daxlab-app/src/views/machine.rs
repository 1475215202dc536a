//! The machine views of a step: the copies of the step, the counters with their plot, and the
//! process, files, devices and RAM; side by side, the page-cache twin on the left and the
//! scenario on the right, each with its own copies, under the same labels.

use yew::prelude::*;

use super::flow::flow;
use super::grid::{grid, GridOf};
use super::panels::counters;
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

/// All views of one machine.
fn machine(s: &Snapshot, selection: Option<&Selection>, d: &Callback<Action>) -> Html {
    let selected = match selection {
        Some(Selection::Pfn(x)) => Some(*x),
        _ => None,
    };
    let select = |sel: Selection| super::send::<MouseEvent>(d, Action::Select(Some(sel)));
    let pressed = |sel: &Selection| (selection == Some(sel)).to_string();
    let grid = |of: GridOf, cells: &crate::boundary::cells::Cells| grid(of, cells, selected, d);
    let more = |n: usize, what: &str| {
        (n > 0).then(|| html! { <p class="more">{ format!("+ {n} more {what} not listed") }</p> })
    };
    html! {
        <div class="machine">
            <div class="panel" role="group" aria-label="Process address space">
                <h3>{ "Process: mappings and page-table entries" }</h3>
                if s.vmas.is_empty() { <p class="empty">{ "No mappings. mmap a file to see its PTEs." }</p> }
                { for s.vmas.iter().map(|v| {
                    let sel = Selection::Vma(v.name.clone());
                    html! {
                        <div class="row-view">
                            <button class="link" onclick={select(sel.clone())} aria-pressed={pressed(&sel)}>
                                { format!("{} {:#x} {} {} {}{} · {} of {} pages mapped", v.name, v.start, v.file, if v.shared { "shared" } else { "private" }, if v.writable { "rw" } else { "r" }, if v.mixedmap { " VM_MIXEDMAP" } else { "" }, v.present, v.pages) }
                            </button>
                            { grid(GridOf::Ptes(v.name.clone()), &v.ptes) }
                        </div>
                    }
                }) }
                { for more(s.more_vmas, "mappings") }
            </div>
            <div class="panel" role="group" aria-label="Files: block maps and page cache">
                <h3>{ "Files: block map and page cache" }</h3>
                if s.files.is_empty() { <p class="empty">{ "No files." }</p> }
                { for s.files.iter().map(|f| {
                    let sel = Selection::File(f.ino);
                    html! {
                        <div class="row-view">
                            <button class="link" data-testid={format!("file-{}", f.ino)} onclick={select(sel.clone())} aria-pressed={pressed(&sel)}>
                                <strong>{ &f.path }</strong>
                                { format!(" ino {} · i_size {} · ", f.ino, f.size) }
                                if f.s_dax { <span class="badge yes">{ "S_DAX" }</span> } else { <span class="badge no">{ "page cache" }</span> }
                            </button>
                            <div class="sub">{ format!("block map ({} blocks allocated)", f.allocated) }</div>
                            if f.blocks.items == 0 { <p class="empty">{ "empty file" }</p> }
                            else { { grid(GridOf::Blocks(f.path.clone()), &f.blocks) } }
                            <div class="sub">{ format!("page cache ({} pages)", f.pages.items) }</div>
                            if f.pages.items == 0 { <p class="empty">{ "empty" }</p> }
                            else { { grid(GridOf::Pages(f.path.clone()), &f.pages) } }
                        </div>
                    }
                }) }
                { for more(s.more_files, "files") }
            </div>
            <div class="panel" role="group" aria-label="Block devices">
                <h3>{ "Block devices and their page frames" }</h3>
                if s.devices.is_empty() { <p class="empty">{ "No devices yet." }</p> }
                { for s.devices.iter().map(|dv| {
                    let sel = Selection::Device(dv.name.clone());
                    html! {
                        <div class="row-view">
                            <button class="link" data-testid={format!("device-{}", dv.name)} onclick={select(sel.clone())} aria-pressed={pressed(&sel)}>
                                <strong>{ format!("/dev/{}", dv.name) }</strong>{ format!(" {} · {} · ", dv.kind, size(dv.size)) }
                                <span class={classes!("badge", if dv.direct_access { "yes" } else { "no" })}>{ if dv.direct_access { "direct_access" } else { "no direct_access" } }</span>
                            </button>
                            if dv.frames.items == 0 { <p class="empty">{ if dv.direct_access { "no page touched yet" } else { "not CPU-addressable: reached by bios only" } }</p> }
                            else { { grid(GridOf::Device(dv.name.clone()), &dv.frames) } }
                        </div>
                    }
                }) }
                <div class="sub">{ "/proc/mounts" }</div>
                if s.proc_mounts.is_empty() { <p class="empty">{ "Nothing mounted." }</p> }
                else { <pre class="mounts" data-testid="proc-mounts">{ &s.proc_mounts }</pre> }
            </div>
            <div class="panel" role="group" aria-label="Physical memory">
                <h3>{ format!("RAM page frames in use ({})", s.ram.items) }</h3>
                if s.ram.items == 0 { <p class="empty">{ "none" }</p> }
                else { { grid(GridOf::Ram, &s.ram) } }
                <p class="legend">
                    <span class="key dax">{ "device / brd" }</span><span class="key cache">{ "page cache" }</span>
                    <span class="key dirty">{ "D dirty" }</span><span class="key hole">{ "H hole page" }</span>
                    <span class="key anon">{ "A anonymous" }</span><span class="key unwritten">{ "U unwritten" }</span><span class="key past">{ "E past EOF" }</span>
                </p>
            </div>
        </div>
    }
}
