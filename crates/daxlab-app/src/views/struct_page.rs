//! The `struct page` view: the frames in use, each above its entry of the memmap array, or
//! above a gap where device memory has none; and what `get_user_pages` finds through a PTE to
//! it. It shows why pinning a DAX mapping fails in 4.0: a special PTE (`vm_normal_page`
//! returns NULL) or no `struct page` at all.

use yew::prelude::*;

use super::grid::{nav, Nav, COLS};
use crate::boundary::cache::{Gup, MemFrame, MemmapView};
use crate::state::Action;

fn gup(g: Gup) -> (&'static str, &'static str) {
    match g {
        Gup::Unmapped => ("", "not mapped by a PTE"),
        Gup::Pins => (
            "GUP ✓",
            "get_user_pages can pin it (normal PTE, struct page)",
        ),
        Gup::Special => (
            "GUP ✗ special",
            "get_user_pages fails: a special PTE, vm_normal_page returns NULL (-EFAULT)",
        ),
        Gup::NoPage => (
            "GUP ✗ no page",
            "get_user_pages fails: no struct page to return (-EFAULT)",
        ),
    }
}

fn cell(i: usize, f: &MemFrame, stop: usize, selected: Option<u64>) -> Html {
    let (g, gtext) = gup(f.gup);
    let frames = if f.count > 1 {
        format!("{:x}…{:x}", f.pfn, f.pfn + f.count - 1)
    } else {
        format!("{:x}", f.pfn)
    };
    let lit = selected.is_some_and(|s| s >= f.pfn && s < f.pfn + f.count);
    let page = if f.page {
        "struct page in mem_map (pfn_valid)".to_string()
    } else {
        "no struct page: device memory outside mem_map".to_string()
    };
    let title = format!(
        "frame{} {frames}{}: {}; {page}; {gtext}",
        if f.count > 1 { "s" } else { "" },
        if f.count > 1 {
            format!(" ({} frames)", f.count)
        } else {
            String::new()
        },
        f.kind.short()
    );
    let short = if f.count > 1 {
        format!("{} ×{}", f.kind.short(), f.count)
    } else {
        f.kind.short().to_string()
    };
    let sp = if f.page { "page ✓" } else { "no page" };
    let label = format!("{frames} {short} {sp} {g}: {title}");
    html! {
        <div role="gridcell" class={classes!("mm", (f.count > 1).then_some("run"), lit.then_some("lit"))}
            tabindex={if i == stop { "0" } else { "-1" }} data-i={i.to_string()} data-pfn={f.pfn.to_string()}
            aria-selected={lit.to_string()} aria-label={label} title={title}>
            <span class={classes!("cell", f.kind.class())}><span class="t1">{ frames }</span>{ " " }<span class="t2">{ short }</span></span>
            { " " }<span class={if f.page { "sp yes" } else { "sp gap" }}>{ sp }</span>{ " " }
            <span class="gup">{ g }</span>
        </div>
    }
}

/// The memmap beside the frames, when there is something to see: device memory, or a
/// mapping whose pages `get_user_pages` would look up.
pub fn memmap_panel(m: &MemmapView, selected: Option<u64>, d: &Callback<Action>) -> Html {
    let matters =
        m.ranges.iter().any(|r| !r.page) || m.frames.iter().any(|f| f.gup != Gup::Unmapped);
    if !matters {
        return Html::default();
    }
    let Nav {
        onkeydown,
        onclick,
        ondblclick,
    } = nav(m.frames.len(), COLS, d);
    let stop = selected.and_then(|s| m.find(s)).unwrap_or(0);
    html! {
        <div class="panel memmap" role="group" aria-label="struct page array">
            <h3>{ "struct page: the memmap beside the page frames" }</h3>
            <ul class="ranges">
                { for m.ranges.iter().map(|r| html! {
                    <li class={if r.page { "yes" } else { "gap" }}>{ format!("pfn {:#x}–{:#x} {}: {}", r.pfn, r.pfn + r.count.max(1) - 1, r.what,
                        if r.page { "a struct page for every frame" } else { "no struct page (not in mem_map)" }) }</li>
                }) }
            </ul>
            <div class="grid-wrap">
                <div class="grid" role="grid" aria-label="frames in use and their struct pages" {onkeydown} {onclick} {ondblclick}>
                    { for m.frames.chunks(COLS).enumerate().map(|(r, row)| html! {
                        <div role="row" class="grid-row">{ for row.iter().enumerate().map(|(j, f)| cell(r * COLS + j, f, stop, selected)) }</div>
                    }) }
                </div>
            </div>
            if m.hidden > 0 { <p class="more">{ format!("+ {} more frames not drawn", m.hidden) }</p> }
            <p class="note">{ if m.pte_special {
                "This CPU has pte_special: vm_insert_mixed makes every DAX PTE special, so get_user_pages finds no page through it even where a struct page exists (brd's pages); O_DIRECT, vmsplice and RDMA registration from a DAX mapping fail."
            } else {
                "This CPU has no pte_special: a DAX PTE to a frame with a struct page (brd's) is a normal page; one to device memory has no struct page to return."
            } }</p>
        </div>
    }
}
