//! Helpers shared by the app's browser tests.

#![allow(dead_code)]

use std::time::Duration;

use gloo::timers::future::sleep;
use gloo::utils::document;
use web_sys::Element;

/// A fresh app: the URL fragment (which the app keeps in step with its state) is cleared first,
/// so no test starts from where the previous one left off.
pub fn mount() -> Element {
    let h = gloo::utils::window().history().expect("history");
    h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("#"))
        .expect("clear the fragment");
    let root = document().create_element("div").expect("div");
    document()
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<daxlab_app::App>::with_root(root.clone()).render();
    root
}

/// Wait for a condition (never for a fixed time): up to 10 s, checking every 10 ms.
pub async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The first element under `root` that `sel` selects.
pub fn find(root: &Element, sel: &str) -> Option<Element> {
    root.query_selector(sel).ok().flatten()
}
