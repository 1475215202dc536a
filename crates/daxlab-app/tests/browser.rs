//! The app's components in headless Chromium: they render the core's state, selection opens
//! the inspector, and the timeline rebuilds the machine at the chosen step.

#![cfg(target_arch = "wasm32")]

mod common;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use common::{find, mount, until};
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

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
        text(&root, "aside").contains("131072 sectors of 512")
    })
    .await;
    assert_eq!(card.get_attribute("aria-pressed").as_deref(), Some("true"));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_timeline_rebuilds_the_state_at_a_step() {
    let root = mount();
    until("the timeline", || {
        text(&root, "[data-testid=step]").ends_with("/ 20")
    })
    .await;
    // Step 0: nothing has run yet.
    set_range(&root, "0");
    until("step 0", || text(&root, "[data-testid=step]") == "0 / 20").await;
    assert!(text(&root, ".views").contains("No devices yet."));
    // Back to the end: the file is there again.
    set_range(&root, "20");
    until("the end", || text(&root, "[data-testid=step]") == "20 / 20").await;
    assert!(text(&root, "[data-testid=file-12]").contains("i_size 20"));
    root.remove();
}

#[wasm_bindgen_test]
async fn selecting_a_frame_lights_it_in_every_view() {
    let root = mount();
    until("the device frames", || {
        find(&root, "[aria-label='page frames of /dev/pmem0'] [data-pfn]").is_some()
    })
    .await;
    let cell = find(&root, "[aria-label='page frames of /dev/pmem0'] [data-pfn]").expect("cell");
    let pfn = cell.get_attribute("data-pfn").expect("pfn");
    cell.dyn_ref::<HtmlElement>().expect("element").click();
    until("the highlight", || {
        root.query_selector_all(".cell.lit")
            .map(|l| l.length())
            .unwrap_or(0)
            > 0
    })
    .await;
    let lit = root.query_selector_all(".cell.lit").expect("query");
    let views: Vec<String> = (0..lit.length())
        .filter_map(|i| lit.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .map(|e| {
            assert_eq!(
                e.get_attribute("data-pfn").as_deref(),
                Some(pfn.as_str()),
                "only cells of that frame light up"
            );
            e.closest("[role=grid]")
                .ok()
                .flatten()
                .and_then(|s| s.get_attribute("aria-label"))
                .unwrap_or_default()
        })
        .collect();
    // The device's frame, the RAM frame (a brd page) and the file block stored in it.
    assert!(
        views.contains(&"page frames of /dev/pmem0".to_string()),
        "{views:?}"
    );
    assert!(views.contains(&"RAM page frames".to_string()), "{views:?}");
    assert!(
        views.contains(&"block map of /mnt/dax/hello".to_string()),
        "{views:?}"
    );
    let hex = format!("pfn {:#x}", pfn.parse::<u64>().expect("number"));
    until("the inspector", || text(&root, "aside").contains(&hex)).await;
    assert!(
        text(&root, "aside").contains("/dev/pmem0 page"),
        "{}",
        text(&root, "aside")
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn stepping_renders_within_a_frame() {
    // Measured, not asserted: the time from a step change to the rendered DOM, against the 16.7 ms
    // of a 60 Hz frame. Printed for the record.
    let root = mount();
    until("the timeline", || {
        text(&root, "[data-testid=step]").ends_with("/ 20")
    })
    .await;
    let perf = gloo::utils::window().performance().expect("performance");
    let mut times = Vec::new();
    for s in (0..=20).rev() {
        let t0 = perf.now();
        set_range(&root, &s.to_string());
        let want = format!("{s} / 20");
        until("the step", || text(&root, "[data-testid=step]") == want).await;
        times.push(perf.now() - t0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    web_sys::console::log_1(
        &format!(
            "step render: median {median:.2} ms = {:.2} of a 60 Hz frame (max {:.2} ms)",
            median / 16.7,
            times[times.len() - 1]
        )
        .into(),
    );
    assert_eq!(times.len(), 21);
    root.remove();
}
