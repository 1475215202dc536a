//! The machine views of one snapshot: process, page cache, block maps, devices and RAM.

use yew::prelude::*;

use super::svg::{block_cells, device_cells, page_cells, ram_cells, vma_cells, Grid};
use crate::boundary::Snapshot;
use crate::state::{Action, Selection};

#[derive(Properties, PartialEq)]
pub struct MachineProps {
    pub snap: std::rc::Rc<Snapshot>,
    pub selected: Option<u64>,
    /// The selection, to mark the selected file, device or mapping as pressed.
    pub selection: Option<Selection>,
    pub dispatch: Callback<Action>,
    /// A short heading ("DAX", "page cache") in side-by-side mode.
    #[prop_or_default]
    pub title: Option<AttrValue>,
}

fn size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

/// All views of the machine.
#[function_component(Machine)]
pub fn machine(p: &MachineProps) -> Html {
    let s = &p.snap;
    let d = &p.dispatch;
    let select = |sel: Selection| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.emit(Action::Select(Some(sel.clone()))))
    };
    let hole_pages: Vec<u64> = s
        .files
        .iter()
        .flat_map(|f| f.pages.iter().filter(|p| p.hole).map(|p| p.pfn))
        .collect();
    let pressed = |sel: Selection| (p.selection.as_ref() == Some(&sel)).to_string();
    html! {
        <div class="machine">
            if let Some(t) = &p.title { <h2 class="side-title">{ t.clone() }</h2> }
            <div class="panel" role="group" aria-label="Process address space">
                <h3>{ "Process: mappings and page-table entries" }</h3>
                if s.vmas.is_empty() { <p class="empty">{ "No mappings. mmap a file to see its PTEs." }</p> }
                { for s.vmas.iter().map(|v| html! {
                    <div class="row-view">
                        <button class="link" onclick={select(Selection::Vma(v.name.clone()))} aria-pressed={pressed(Selection::Vma(v.name.clone()))}>
                            { format!("{} {:#x} {} {} {}{}", v.name, v.start, v.file, if v.shared { "shared" } else { "private" }, if v.writable { "rw" } else { "r" }, if v.mixedmap { " VM_MIXEDMAP" } else { "" }) }
                        </button>
                        <Grid label={format!("page-table entries of {}", v.name)} cells={vma_cells(v, &hole_pages)} selected={p.selected} dispatch={d.clone()} />
                    </div>
                }) }
            </div>
            <div class="panel" role="group" aria-label="Files: block maps and page cache">
                <h3>{ "Files: block map and page cache" }</h3>
                if s.files.is_empty() { <p class="empty">{ "No files." }</p> }
                { for s.files.iter().map(|f| {
                    let dev = s.devices.iter().find(|x| x.name == f.dev);
                    html! {
                        <div class="row-view">
                            <button class="link" data-testid={format!("file-{}", f.ino)} onclick={select(Selection::File(f.ino))} aria-pressed={pressed(Selection::File(f.ino))}>
                                <strong>{ &f.path }</strong>
                                { format!(" ino {} · i_size {} · ", f.ino, f.size) }
                                if f.s_dax { <span class="badge yes">{ "S_DAX" }</span> } else { <span class="badge no">{ "page cache" }</span> }
                            </button>
                            <div class="sub">{ "block map" }</div>
                            <Grid label={format!("block map of {}", f.path)} cells={block_cells(f, dev)} selected={p.selected} dispatch={d.clone()} />
                            <div class="sub">{ format!("page cache ({} pages)", f.pages.len()) }</div>
                            if f.pages.is_empty() { <p class="empty">{ "empty" }</p> }
                            else { <Grid label={format!("page cache of {}", f.path)} cells={page_cells(f)} selected={p.selected} dispatch={d.clone()} /> }
                        </div>
                    }
                }) }
            </div>
            <div class="panel" role="group" aria-label="Block devices">
                <h3>{ "Block devices and their page frames" }</h3>
                if s.devices.is_empty() { <p class="empty">{ "No devices yet." }</p> }
                { for s.devices.iter().map(|dv| html! {
                    <div class="row-view">
                        <button class="link" data-testid={format!("device-{}", dv.name)} onclick={select(Selection::Device(dv.name.clone()))} aria-pressed={pressed(Selection::Device(dv.name.clone()))}>
                            <strong>{ format!("/dev/{}", dv.name) }</strong>{ format!(" {} · {} · ", dv.kind, size(dv.size)) }
                            <span class={classes!("badge", if dv.direct_access { "yes" } else { "no" })}>{ if dv.direct_access { "direct_access" } else { "no direct_access" } }</span>
                        </button>
                        if dv.frames.is_empty() { <p class="empty">{ if dv.direct_access { "no page touched yet" } else { "not CPU-addressable: reached by bios only" } }</p> }
                        else { <Grid label={format!("page frames of /dev/{}", dv.name)} cells={device_cells(dv)} selected={p.selected} dispatch={d.clone()} /> }
                    </div>
                }) }
                <div class="sub">{ "/proc/mounts" }</div>
                if s.proc_mounts.is_empty() { <p class="empty">{ "Nothing mounted." }</p> }
                else { <pre class="mounts" data-testid="proc-mounts">{ &s.proc_mounts }</pre> }
            </div>
            <div class="panel" role="group" aria-label="Physical memory">
                <h3>{ format!("RAM page frames in use ({})", s.ram.len()) }</h3>
                if s.ram.is_empty() { <p class="empty">{ "none" }</p> }
                else { <Grid label="RAM page frames" cells={ram_cells(s)} selected={p.selected} dispatch={d.clone()} /> }
                <p class="legend">
                    <span class="key dax">{ "device / brd" }</span><span class="key cache">{ "page cache" }</span>
                    <span class="key dirty">{ "dirty" }</span><span class="key hole">{ "hole page" }</span>
                    <span class="key anon">{ "anonymous" }</span><span class="key unwritten">{ "unwritten" }</span><span class="key past">{ "past EOF" }</span>
                </p>
            </div>
        </div>
    }
}
