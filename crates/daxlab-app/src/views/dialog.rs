//! Dialogs: focus moves in when one opens, Tab stays inside, Escape closes it, and focus goes
//! back to what opened it. The keyboard help and the contents of a page frame.

use gloo::utils::document;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use super::hooks::{key, nothing, use_effect_keyed};
use super::send;
use crate::boundary::StepView;
use crate::state::Action;

const FOCUSABLE: &str =
    "button:not([disabled]), [href], input, select, textarea, [tabindex]:not([tabindex='-1'])";

fn focusables(root: &Element) -> Vec<HtmlElement> {
    let Ok(list) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// The open dialog.
fn open_dialog() -> Option<Element> {
    document()
        .query_selector("[aria-modal=true]")
        .ok()
        .flatten()
}

/// Focus moves into a dialog when one opens and goes back to what opened it when it closes
/// (or, if that is gone, to `back_to`, a CSS selector). `open` names the dialog open, if any.
#[hook]
pub fn use_dialog_focus(open: Option<u64>, back_to: Option<String>) {
    use_effect_keyed(
        key(&open),
        Box::new(move || {
            if open.is_none() {
                return nothing();
            }
            let opener = document().active_element();
            if let Some(first) = open_dialog().and_then(|d| focusables(&d).into_iter().next()) {
                let _ = first.focus();
            }
            Box::new(move || {
                let back = opener
                    .filter(|e| e.is_connected())
                    .or_else(|| back_to.and_then(|s| document().query_selector(&s).ok().flatten()))
                    .and_then(|e| e.dyn_into::<HtmlElement>().ok());
                if let Some(b) = back {
                    let _ = b.focus();
                }
            })
        }),
    );
}

/// Tab stays inside the dialog; Escape closes it.
fn trap(close: Callback<()>) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
        "Escape" => {
            e.prevent_default();
            close.emit(());
        }
        "Tab" => {
            let Some(d) = open_dialog() else { return };
            let f = focusables(&d);
            let (Some(first), Some(last)) = (f.first(), f.last()) else {
                e.prevent_default();
                return;
            };
            let active = document().active_element();
            let at = |x: &HtmlElement| {
                active
                    .as_ref()
                    .is_some_and(|a| a == x.unchecked_ref::<Element>())
            };
            if e.shift_key() && at(first) {
                e.prevent_default();
                let _ = last.focus();
            } else if !e.shift_key() && at(last) {
                e.prevent_default();
                let _ = first.focus();
            }
        }
        _ => {}
    })
}

/// A modal dialog (see [`use_dialog_focus`] for where focus goes).
fn dialog(label: String, class: &'static str, close: Callback<()>, body: Html) -> Html {
    let c = close.clone();
    html! {
        <div class="scrim">
            <div class={classes!("dialog", class)} role="dialog" aria-modal="true" aria-label={label} onkeydown={trap(close)}>
                { body }
                <div class="row"><button onclick={Callback::from(move |_: MouseEvent| c.emit(()))}>{ "Close" }</button></div>
            </div>
        </div>
    }
}

/// Keyboard shortcuts.
pub const SHORTCUTS: [(&str, &str); 18] = [
    ("→ / ←", "step forward / back"),
    ("Shift + → / ←", "ten steps forward / back"),
    ("Home / End", "first / last step"),
    (
        "[ / ]",
        "previous / next of what \"find\" looks for (command, copy, fault, lock wait, error, violation)",
    ),
    ("Space", "play / pause"),
    ("c", "page cache and DAX side by side"),
    ("t", "theme: auto, light, dark"),
    ("p", "presentation mode (large fonts)"),
    ("/", "go to the console"),
    (
        "Escape",
        "leave the console or the editor; close a dialog; clear the selection",
    ),
    (
        "Tab",
        "in the console: complete the word (choices are listed)",
    ),
    (
        "Arrows in a grid",
        "move between cells (a grid is one Tab stop)",
    ),
    (
        "Enter / Space in a grid",
        "select the frame, lit in every view",
    ),
    ("v or Shift + Enter in a grid", "open the page's contents"),
    ("1, 2, 3 in the race lab", "run that thread's next step"),
    ("u or Backspace in the race lab", "undo the last step chosen"),
    ("f in the race lab", "let the default order run the rest"),
    ("e in the race lab", "explore every interleaving (again: cancel)"),
];

/// The keyboard help.
pub fn help(dispatch: &Callback<Action>) -> Html {
    let d = dispatch.clone();
    dialog(
        "Keyboard shortcuts".into(),
        "help",
        Callback::from(move |_| d.emit(Action::ToggleHelp)),
        html! { <>
            <h2>{ "Keyboard shortcuts" }</h2>
            <dl>{ for SHORTCUTS.iter().map(|(k, v)| html!{ <><dt><kbd>{ *k }</kbd></dt><dd>{ *v }</dd></> }) }</dl>
            <p>{ "In the console: ↑/↓ history, Enter runs the line. In the editor: Ctrl+Enter runs the scenario. The address bar always holds a link to what you see (lesson, step, side by side, selection, open page): copy it to share." }</p>
        </> },
    )
}

/// Rows of 16 bytes; runs of rows of zeros that the step did not touch are folded.
fn rows(bytes: &[u8], changed: &[bool]) -> Html {
    let mut out = Vec::new();
    let mut zeros = 0usize;
    let flush = |out: &mut Vec<Html>, zeros: &mut usize, at: usize| {
        if *zeros > 0 {
            out.push(html! { <div class="prow fold">{ format!("{:#06x}…{:#06x}  {} rows of zeros", (at - *zeros) * 16, at * 16 - 1, *zeros) }</div> });
            *zeros = 0;
        }
    };
    for (r, (b, c)) in bytes.chunks(16).zip(changed.chunks(16)).enumerate() {
        if b.iter().all(|x| *x == 0) && !c.iter().any(|x| *x) {
            zeros += 1;
            continue;
        }
        flush(&mut out, &mut zeros, r);
        // Split the row into runs of changed and unchanged bytes; the changed are marked.
        let mut hex = Vec::new();
        let mut ascii = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let mark = c[i];
            let j = (i..b.len()).find(|j| c[*j] != mark).unwrap_or(b.len());
            let h: String = b[i..j].iter().map(|x| format!("{x:02x} ")).collect();
            let a: String = b[i..j]
                .iter()
                .map(|x| {
                    if x.is_ascii_graphic() || *x == b' ' {
                        *x as char
                    } else {
                        '.'
                    }
                })
                .collect();
            if mark {
                hex.push(html! { <mark>{ h }</mark> });
                ascii.push(html! { <mark>{ a }</mark> });
            } else {
                hex.push(html! { { h } });
                ascii.push(html! { { a } });
            }
            i = j;
        }
        out.push(html! {
            <div class="prow"><span class="off">{ format!("{:#06x}", r * 16) }</span>{ "  " }<span class="hex">{ for hex }</span>{ " " }<span class="ascii">{ for ascii }</span></div>
        });
    }
    flush(&mut out, &mut zeros, bytes.len() / 16);
    out.into_iter().collect::<Html>()
}

/// The contents of a page frame at the step: hex and ASCII, the bytes this step changed marked.
pub fn page_view(view: &StepView, pfn: u64, dispatch: &Callback<Action>) -> Html {
    let d = dispatch.clone();
    let close = Callback::from(move |_| d.emit(Action::OpenPage(None)));
    let body = match view.page.as_ref().filter(|pg| pg.pfn == pfn) {
        Some(pg) => {
            let n = pg.changed_count();
            html! { <>
                <dl class="frame-info">{ for pg.info.roles.iter().map(|r| html! { <><dt>{ r.what }</dt><dd>{ r.text.clone() }</dd></> }) }</dl>
                <p class="changed" data-testid="page-changed">{
                    if n == 0 { format!("Step {} changed no byte of this page.", view.step) }
                    else { format!("Step {} changed {n} byte{} of this page: marked below.", view.step, if n == 1 { "" } else { "s" }) }
                }</p>
                <div class="pagedump" tabindex="0" aria-label="Hex and ASCII, 16 bytes a row">{ rows(&pg.bytes, &pg.changed) }</div>
                <div class="row">
                    <button onclick={send::<MouseEvent>(dispatch, Action::StepBy(-1))}>{ "◀ Previous step" }</button>
                    <button onclick={send::<MouseEvent>(dispatch, Action::StepBy(1))}>{ "Next step ▶" }</button>
                </div>
            </> }
        }
        None => html! { <p class="busy">{ "Reading the page…" }</p> },
    };
    dialog(
        format!("Contents of page frame {pfn:#x}"),
        "page",
        close,
        html! { <>
            <h2>{ format!("Page frame {pfn:#x} at step {}", view.step) }</h2>
            { body }
        </> },
    )
}
