//! The shortcomings lab in headless Chromium: the boundary's cache and memmap views built in
//! wasm as natively, and the cache view drawn and lit by a frame selection.

#![cfg(target_arch = "wasm32")]

mod common;

use daxlab_app::boundary::cache::{FrameKind, Gup, Op};
use daxlab_app::boundary::{run, ViewOptions};
use daxlab_app::lessons::{CACHE, LESSONS, PINNING};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use common::{find, mount, until};
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn the_cache_view_marks_the_stale_users_line_and_the_aliases() {
    let r = run(CACHE[0].1).expect("valid");
    let at = |cmd: &str| {
        r.results
            .iter()
            .find(|x| x.command.starts_with(cmd))
            .expect("command")
            .step
    };
    let v = r.view(at("cache m"), &ViewOptions::default());
    let c = v.machine.cache.as_ref().expect("armv5 has a cache");
    assert_eq!((c.sets, c.ways, c.line, c.vivt), (128, 4, 32, true));
    let lines: Vec<_> = c
        .rows
        .iter()
        .flat_map(|r| r.ways.iter().flatten())
        .collect();
    assert!(lines.iter().any(|l| !l.kernel && l.stale));
    // At the end read() has cached the frame under the kernel's address too: both aliases.
    let end = r.view(
        r.total,
        &ViewOptions {
            selected: lines.iter().find(|l| l.stale).map(|l| l.pfn),
            ..ViewOptions::default()
        },
    );
    let c = end.machine.cache.as_ref().expect("cache");
    let both: Vec<_> = c
        .rows
        .iter()
        .flat_map(|r| r.ways.iter().flatten())
        .filter(|l| l.alias)
        .collect();
    assert!(
        both.iter().any(|l| l.kernel) && both.iter().any(|l| !l.kernel),
        "{:?}",
        c.rows
    );
    // The read's step fills the kernel's line.
    let read = r.results.last().expect("read");
    let fills = (read.start..=read.step)
        .flat_map(|s| r.view(s, &ViewOptions::default()).machine.cache.clone())
        .flat_map(|c| c.events)
        .filter(|e| e.op == Op::Fill && e.kernel)
        .count();
    assert!(fills > 0);
}

#[wasm_bindgen_test]
fn x86_draws_no_cache_and_a_dax_mapping_cannot_be_pinned() {
    let r = run(PINNING[0].1).expect("valid");
    let v = r.view(r.total, &ViewOptions::default());
    assert!(v.machine.cache.is_none());
    let mm = &v.machine.memmap;
    assert!(mm.pte_special);
    assert!(mm
        .frames
        .iter()
        .any(|f| f.kind == FrameKind::Brd && f.gup == Gup::Special));
    assert!(mm
        .frames
        .iter()
        .any(|f| f.kind == FrameKind::PageCache && f.gup == Gup::Pins));
}

#[wasm_bindgen_test]
async fn selecting_a_cache_line_lights_its_frame_everywhere() {
    let root = mount();
    let i = LESSONS
        .iter()
        .position(|l| l.id == "aliasing-caches")
        .expect("lesson");
    until("the lessons", || {
        find(&root, &format!("#lesson-{i}")).is_some()
    })
    .await;
    find(&root, &format!("#lesson-{i}"))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        .expect("button")
        .click();
    let stale = "[aria-label='data cache lines'] .cell.stale";
    until("the stale line", || find(&root, stale).is_some()).await;
    let cell: HtmlElement = find(&root, stale)
        .expect("cell")
        .dyn_into()
        .expect("element");
    let pfn = cell.get_attribute("data-pfn").expect("pfn");
    cell.click();
    until("the frame lit", || {
        find(
            &root,
            &format!("[aria-label='RAM page frames'] .cell.lit[data-pfn='{pfn}']"),
        )
        .is_some()
    })
    .await;
    assert!(find(
        &root,
        &format!("[aria-label='data cache lines'] .cell.lit[data-pfn='{pfn}']")
    )
    .is_some());
    root.remove();
}
