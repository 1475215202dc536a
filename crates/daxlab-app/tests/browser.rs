//! The app's components in headless Chromium: they render the core's state, selection opens
//! the inspector, and the timeline rebuilds the machine at the chosen step.

#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use gloo::timers::future::sleep;
use gloo::utils::document;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn mount() -> Element {
    let root = document().create_element("div").expect("div");
    document()
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<daxlab_app::App>::with_root(root.clone()).render();
    root
}

/// Wait for a condition (never for a fixed time): up to 5 s, checking every 10 ms.
async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn find(root: &Element, sel: &str) -> Option<Element> {
    root.query_selector(sel).ok().flatten()
}

fn text(root: &Element, sel: &str) -> String {
    find(root, sel)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

fn set_range(root: &Element, value: &str) {
    let range: HtmlInputElement = find(root, "#step")
        .expect("range")
        .dyn_into()
        .expect("input");
    range.set_value(value);
    range
        .dispatch_event(&web_sys::InputEvent::new("input").expect("event"))
        .expect("dispatch");
}

#[wasm_bindgen_test]
async fn the_views_render_the_machine_the_core_built() {
    let root = mount();
    until("the mounts view", || {
        find(&root, "[data-testid=proc-mounts]").is_some()
    })
    .await;
    assert_eq!(
        text(&root, "[data-testid=proc-mounts]").trim(),
        "/dev/pmem0 /mnt/dax ext2 rw,relatime,dax 0 0"
    );
    assert!(text(&root, "[data-testid=device-pmem0]").contains("direct_access"));
    assert!(text(&root, "[data-testid=file-12]").contains("S_DAX"));
    root.remove();
}

#[wasm_bindgen_test]
async fn selecting_a_device_opens_it_in_the_inspector() {
    let root = mount();
    until("the device card", || {
        find(&root, "[data-testid=device-pmem0]").is_some()
    })
    .await;
    let card: HtmlElement = find(&root, "[data-testid=device-pmem0]")
        .expect("card")
        .dyn_into()
        .expect("element");
    card.click();
    until("the inspector", || {
        text(&root, "aside").contains("131072 sectors of 512 bytes")
    })
    .await;
    assert_eq!(card.get_attribute("aria-pressed").as_deref(), Some("true"));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_timeline_rebuilds_the_state_at_a_step() {
    let root = mount();
    until("the timeline", || {
        text(&root, "[data-testid=step]").ends_with("/ 19")
    })
    .await;
    // Step 0: nothing has run yet.
    set_range(&root, "0");
    until("step 0", || text(&root, "[data-testid=step]") == "0 / 19").await;
    assert!(text(&root, ".views").contains("No devices yet."));
    // Back to the end: the file is there again.
    set_range(&root, "19");
    until("the end", || text(&root, "[data-testid=step]") == "19 / 19").await;
    assert!(text(&root, "[data-testid=file-12]").contains("20 bytes"));
    root.remove();
}
