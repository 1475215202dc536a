//! The console (one command at a time, with history, completion of command words and of their
//! arguments, and the command reference generated from the parser's own table) and the
//! scenario editor (with the line of the current command and of an error marked).

use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::hooks::focus_id;
use super::Shared;
use crate::boundary::Run;
use crate::complete::complete;
use crate::state::Action;
use daxlab_core::lang::parse::{self, ScenarioNames, BLOCK_WORDS, COMMANDS};
use daxlab_core::state::block_dev::DeviceKind;

/// Check a console line against the scenario it extends; errors name the column of the line.
pub fn check_line(scenario: &str, line: &str) -> Result<(), String> {
    let base_lines = scenario.lines().count() as u32;
    let text = format!("{}\n{line}\n", scenario.trim_end_matches('\n'));
    match parse::parse(&text) {
        Ok(_) => Ok(()),
        Err(e) if e.line > base_lines => Err(format!("col {}: {}", e.col, e.message)),
        Err(e) => Err(format!("the scenario above has an error: {e}")),
    }
}

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub scenario: String,
    pub history: Vec<String>,
    pub error: Option<String>,
    /// The run of the scenario, for the names it defines (completion).
    pub names: Option<Shared<Run>>,
    /// The scenario text in the editor.
    pub draft: String,
    /// The line of the command at the step shown.
    pub running: Option<u32>,
    /// The line of the scenario's error.
    pub scenario_error: Option<u32>,
    /// Where the step is, in words.
    pub where_: Option<String>,
    pub dispatch: Callback<Action>,
}

#[function_component(Console)]
pub fn console(p: &ConsoleProps) -> Html {
    let line = use_state(String::new);
    let pos = use_state(|| None::<usize>); // position in history while browsing
    let choices = use_state(Vec::<String>::new);
    let note = use_state(String::new);
    let input = use_node_ref();
    let set = {
        let (line, input, choices) = (line.clone(), input.clone(), choices.clone());
        move |v: String, keep_choices: bool| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                i.set_value(&v);
                let _ = i.focus();
            }
            line.set(v);
            if !keep_choices {
                choices.set(Vec::new());
            }
        }
    };
    let onkeydown = {
        let (line, pos, d, history, scenario, names, set, choices, note) = (
            line.clone(),
            pos.clone(),
            p.dispatch.clone(),
            p.history.clone(),
            p.scenario.clone(),
            p.names.clone(),
            set.clone(),
            choices.clone(),
            note.clone(),
        );
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                let l = (*line).trim().to_string();
                if l.is_empty() {
                    return;
                }
                match check_line(&scenario, &l) {
                    Ok(()) => {
                        d.emit(Action::ConsoleAccepted(l));
                        set(String::new(), false);
                        note.set(String::new());
                        pos.set(None);
                    }
                    Err(m) => d.emit(Action::ConsoleError(Some(m))),
                }
            }
            "ArrowUp" if !history.is_empty() => {
                e.prevent_default();
                let i = pos.map_or(history.len() - 1, |i| i.saturating_sub(1));
                pos.set(Some(i));
                set(history[i].clone(), false);
            }
            "ArrowDown" if pos.is_some() => {
                e.prevent_default();
                let i = pos.unwrap_or(0) + 1;
                if i >= history.len() {
                    pos.set(None);
                    set(String::new(), false);
                } else {
                    pos.set(Some(i));
                    set(history[i].clone(), false);
                }
            }
            // An empty line lets Tab move on; on a line, Tab completes and never leaves.
            "Tab" if !e.shift_key() && !line.trim().is_empty() => {
                e.prevent_default();
                let parsed;
                let n: &ScenarioNames = match &names {
                    Some(r) => &r.names,
                    None => {
                        parsed = parse::parse(&scenario)
                            .map(|s| ScenarioNames::of(&s))
                            .unwrap_or_default();
                        &parsed
                    }
                };
                let c = complete(&line, n);
                set(c.line, true);
                choices.set(c.choices);
                note.set(c.note);
            }
            "Escape" => {
                e.prevent_default();
                choices.set(Vec::new());
                focus_id("timeline");
            }
            _ => {}
        })
    };
    let oninput = {
        let (line, choices) = (line.clone(), choices.clone());
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            line.set(i.value());
            if !choices.is_empty() {
                choices.set(Vec::new());
            }
        })
    };
    // A choice replaces the word being typed.
    let pick = |c: &String| {
        let (line, set, c) = (line.clone(), set.clone(), c.clone());
        Callback::from(move |_: MouseEvent| {
            let head = match line.rfind(char::is_whitespace) {
                Some(i) => &line[..=i],
                None => "",
            };
            set(format!("{head}{c} "), false);
        })
    };
    let back = use_node_ref();
    // Keep the current command's line in sight in the editor.
    {
        let back = back.clone();
        use_effect_with(p.running.or(p.scenario_error), move |line| {
            let (Some(line), Some(b)) = (*line, back.cast::<HtmlElement>()) else {
                return;
            };
            let Some(t) = gloo::utils::document()
                .get_element_by_id("scenario")
                .and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
            else {
                return;
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
        });
    }
    let try_it = |ex: &'static str| {
        let set = set.clone();
        Callback::from(move |_: MouseEvent| set(ex.to_string(), false))
    };
    html! {
        <>
        <section class="panel console" aria-label="Console">
            <h2>{ "Console" }</h2>
            <div class="prompt">
                <span aria-hidden="true">{ "#" }</span>
                <input id="console-line" ref={input} type="text" aria-label="Command" autocomplete="off" spellcheck="false"
                       placeholder="a command, e.g. read f 0 20"
                       value={(*line).clone()} {oninput} {onkeydown} aria-describedby="console-note console-error" />
            </div>
            <p class="hint">{ "Enter runs it · Tab completes · ↑ history · Esc leaves · / comes back" }</p>
            if !choices.is_empty() {
                <ul class="choices" aria-label="Completions">
                    { for choices.iter().map(|c| html! { <li><button class="chip" onclick={pick(c)}>{ c.clone() }</button></li> }) }
                </ul>
            }
            <p id="console-note" class="note" aria-live="polite">{ (*note).clone() }</p>
            <p id="console-error" class="error" aria-live="assertive">{ p.error.clone().unwrap_or_default() }</p>
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
        { editor(p, &back) }
        </>
    }
}

/// The scenario editor. Behind the text, a copy of its lines marks the current command and the
/// line of an error; it scrolls with the text.
fn editor(p: &ConsoleProps, back: &NodeRef) -> Html {
    let onedit = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            d.emit(Action::Edit(t.value()));
        })
    };
    let onscroll = {
        let back = back.clone();
        Callback::from(move |e: Event| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            if let Some(b) = back.cast::<HtmlElement>() {
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
                <pre class="backdrop" ref={back.clone()} aria-hidden="true">{
                    for (1..=lines as u32).map(|n| html! {
                        <span class={classes!("ln", (Some(n) == p.running).then_some("cur"), (Some(n) == p.scenario_error).then_some("err"))}>{ "\n" }</span>
                    })
                }</pre>
                <textarea id="scenario" spellcheck="false" wrap="off" value={p.draft.clone()} oninput={onedit} {onscroll}
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
                <button class="primary" onclick={super::send(&p.dispatch, Action::Run)} data-testid="run">{ "Run" }</button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_errors_name_the_column_of_the_line() {
        assert_eq!(
            check_line("device x brd size=1M\n", "mmpa m"),
            Err("col 1: unknown command \"mmpa\"; did you mean \"mmap\"?".into())
        );
        assert_eq!(check_line("device x brd size=1M", "drop_caches"), Ok(()));
    }
}
