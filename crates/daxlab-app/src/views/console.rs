//! The console (one command at a time, with history, completion of command words and of their
//! arguments, and the command reference generated from the parser's own table) and the
//! scenario editor (with the line of the current command and of an error marked).

use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::hooks::{focus_id, key, nothing, use_effect_keyed};
use super::Shared;
use crate::boundary::Run;
use crate::complete::Prompt;
use crate::state::Action;
use daxlab_core::lang::parse::{BLOCK_WORDS, COMMANDS};
use daxlab_core::state::block_dev::DeviceKind;

/// What the console and the editor show and do.
pub struct ConsoleArgs<'a> {
    /// The scenario the console extends.
    pub scenario: &'a str,
    /// The line being typed.
    pub prompt: &'a Prompt,
    /// Lines entered.
    pub history: &'a [String],
    /// The last line's refusal.
    pub error: Option<&'a str>,
    /// The run of the scenario, for the names it defines (completion).
    pub names: Option<Shared<Run>>,
    /// The scenario text in the editor.
    pub draft: &'a str,
    /// The line of the command at the step shown.
    pub running: Option<u32>,
    /// The line of the scenario's error.
    pub scenario_error: Option<u32>,
    /// Where the step is, in words.
    pub where_: Option<String>,
    /// Where actions go.
    pub dispatch: &'a Callback<Action>,
}

/// Show a new prompt: the input's value follows, and the focus stays on it.
fn show(d: &Callback<Action>, next: Prompt) {
    if let Some(i) = gloo::utils::document()
        .get_element_by_id("console-line")
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
    {
        if i.value() != next.text {
            i.set_value(&next.text);
        }
        let _ = i.focus();
    }
    d.emit(Action::Prompt(next));
}

/// The console and the scenario editor.
pub fn console(p: ConsoleArgs<'_>) -> Html {
    let prompt = p.prompt;
    let onkeydown = {
        let (prompt, d, history, scenario, names) = (
            prompt.clone(),
            p.dispatch.clone(),
            p.history.to_vec(),
            p.scenario.to_string(),
            p.names.clone(),
        );
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            let key = if key == "Tab" && e.shift_key() {
                ""
            } else {
                key.as_str()
            };
            let names = names.as_ref().map(|r| &r.names);
            if let Some((next, action)) = prompt.key(key, &scenario, names, &history) {
                e.prevent_default();
                show(&d, next);
                if let Some(a) = action {
                    d.emit(a);
                }
                if key == "Escape" {
                    focus_id("timeline");
                }
            }
        })
    };
    let oninput = {
        let (prompt, d) = (prompt.clone(), p.dispatch.clone());
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            d.emit(Action::Prompt(prompt.with(i.value())));
        })
    };
    let pick = |c: &String| {
        let (next, d) = (prompt.pick(c), p.dispatch.clone());
        Callback::from(move |_: MouseEvent| show(&d, next.clone()))
    };
    let try_it = |ex: &'static str| {
        let (next, d) = (prompt.with(ex.to_string()), p.dispatch.clone());
        Callback::from(move |_: MouseEvent| show(&d, next.clone()))
    };
    html! {
        <>
        <section class="panel console" aria-label="Console">
            <h2>{ "Console" }</h2>
            <div class="prompt">
                <span aria-hidden="true">{ "#" }</span>
                <input id="console-line" type="text" aria-label="Command" autocomplete="off" spellcheck="false"
                       placeholder="a command, e.g. read f 0 20"
                       value={prompt.text.clone()} {oninput} {onkeydown} aria-describedby="console-note console-error" />
            </div>
            <p class="hint">{ "Enter runs it · Tab completes · ↑ history · Esc leaves · / comes back" }</p>
            if !prompt.choices.is_empty() {
                <ul class="choices" aria-label="Completions">
                    { for prompt.choices.iter().map(|c| html! { <li><button class="chip" onclick={pick(c)}>{ c.clone() }</button></li> }) }
                </ul>
            }
            <p id="console-note" class="note" aria-live="polite">{ prompt.note.clone() }</p>
            <p id="console-error" class="error" aria-live="assertive">{ p.error.unwrap_or_default().to_string() }</p>
            <details class="reference">
                <summary>{ "Command reference" }</summary>
                <dl>
                    { for COMMANDS.iter().map(|c| html! { <>
                        <dt><code>{ format!("{} {}", c.word, c.syntax) }</code></dt>
                        <dd>{ c.summary }{ " " }<button class="chip" onclick={try_it(c.example)} aria-label={format!("Try: {}", c.example)}><code>{ c.example }</code></button></dd>
                    </> }) }
                    { for BLOCK_WORDS.iter().map(|(w, syn, sum)| html! { <>
                        <dt><code>{ format!("{w} {syn}") }</code></dt><dd>{ *sum }</dd>
                    </> }) }
                </dl>
                <p class="sub">{ "Device kinds" }</p>
                <dl>{ for DeviceKind::ALL.iter().map(|(w, _, d)| html! { <><dt><code>{ *w }</code></dt><dd>{ *d }</dd></> }) }</dl>
                <p class="hint">{ "Sizes take K, M, G and 0x; data is a \"quoted string\", fill=0xNN len=SIZE or pattern=seq len=SIZE." }</p>
            </details>
        </section>
        { editor(&p) }
        </>
    }
}

/// The copy of the editor's lines behind its text.
fn backdrop() -> Option<HtmlElement> {
    gloo::utils::document()
        .get_element_by_id("scenario-lines")
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
}

/// Keep a line (the current command's, or an error's) in sight in the editor.
#[hook]
pub fn use_editor_follows(line: Option<u32>) {
    use_effect_keyed(
        key(&line),
        Box::new(move || {
            let (Some(line), Some(b)) = (line, backdrop()) else {
                return nothing();
            };
            let Some(t) = gloo::utils::document()
                .get_element_by_id("scenario")
                .and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
            else {
                return nothing();
            };
            let lh = b
                .first_element_child()
                .and_then(|c| c.dyn_into::<HtmlElement>().ok())
                .map_or(18, |c| c.offset_height().max(1));
            let top = (line as i32 - 1) * lh;
            let (st, h) = (t.scroll_top(), t.client_height());
            if top < st || top + lh > st + h {
                t.set_scroll_top((top - h / 3).max(0));
                b.set_scroll_top(t.scroll_top());
            }
            nothing()
        }),
    );
}

/// The scenario editor. Behind the text, a copy of its lines marks the current command and the
/// line of an error; it scrolls with the text.
fn editor(p: &ConsoleArgs<'_>) -> Html {
    let onedit = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            d.emit(Action::Edit(t.value()));
        })
    };
    let onscroll = {
        Callback::from(move |e: Event| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            if let Some(b) = backdrop() {
                b.set_scroll_top(t.scroll_top());
                b.set_scroll_left(t.scroll_left());
            }
        })
    };
    let keys = {
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                d.emit(Action::Run);
            } else if e.key() == "Escape" {
                e.prevent_default();
                focus_id("timeline");
            }
        })
    };
    let lines = p.draft.split('\n').count();
    html! {
        <section class="panel editor-panel" aria-label="Scenario editor">
            <h2><label for="scenario">{ "Scenario" }</label></h2>
            <div class="editor">
                <pre class="backdrop" id="scenario-lines" aria-hidden="true">{
                    for (1..=lines as u32).map(|n| html! {
                        <span class={classes!("ln", (Some(n) == p.running).then_some("cur"), (Some(n) == p.scenario_error).then_some("err"))}>{ "\n" }</span>
                    })
                }</pre>
                <textarea id="scenario" spellcheck="false" wrap="off" value={p.draft.to_string()} oninput={onedit} {onscroll}
                          onkeydown={keys} rows="9" aria-describedby="editor-where" />
            </div>
            <p id="editor-where" class="hint">{
                match (p.scenario_error, &p.where_) {
                    (Some(l), _) => format!("✖ marks line {l}, where the scenario has an error."),
                    (None, Some(w)) => format!("▶ {w}"),
                    (None, None) => "Ctrl+Enter runs the whole scenario.".into(),
                }
            }</p>
            <div class="row">
                <button class="primary" onclick={super::send(p.dispatch, Action::Run)} data-testid="run">{ "Run" }</button>
            </div>
        </section>
    }
}
