//! The console (one command at a time, with history and completion) and the scenario editor.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::state::Action;
use daxlab_core::lang::parse::{self, line_words};

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub scenario: String,
    pub draft: String,
    pub history: Vec<String>,
    pub error: Option<String>,
    pub dispatch: Callback<Action>,
}

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

/// Complete the first word of `line` to a command word, if exactly one command starts with it
/// (or to the longest common prefix).
pub fn complete(line: &str) -> Option<String> {
    if line.contains(' ') || line.is_empty() {
        return None;
    }
    let m: Vec<&str> = line_words().filter(|c| c.starts_with(line)).collect();
    match m.as_slice() {
        [] => None,
        [one] => Some(format!("{one} ")),
        many => {
            let first = many[0];
            let n = (0..first.len())
                .take_while(|i| {
                    many.iter()
                        .all(|c| c.as_bytes().get(*i) == first.as_bytes().get(*i))
                })
                .count();
            (n > line.len()).then(|| first[..n].to_string())
        }
    }
}

#[function_component(Console)]
pub fn console(p: &ConsoleProps) -> Html {
    let line = use_state(String::new);
    let pos = use_state(|| None::<usize>); // position in history while browsing
    let input = use_node_ref();
    let onkeydown = {
        let (line, pos, d, history, scenario, input) = (
            line.clone(),
            pos.clone(),
            p.dispatch.clone(),
            p.history.clone(),
            p.scenario.clone(),
            input.clone(),
        );
        Callback::from(move |e: KeyboardEvent| {
            let set = |v: String| {
                if let Some(i) = input.cast::<HtmlInputElement>() {
                    i.set_value(&v);
                }
                line.set(v);
            };
            match e.key().as_str() {
                "Enter" => {
                    let l = (*line).trim().to_string();
                    if l.is_empty() {
                        return;
                    }
                    match check_line(&scenario, &l) {
                        Ok(()) => {
                            d.emit(Action::ConsoleAccepted(l));
                            set(String::new());
                            pos.set(None);
                        }
                        Err(m) => d.emit(Action::ConsoleError(m)),
                    }
                }
                "ArrowUp" if !history.is_empty() => {
                    e.prevent_default();
                    let i = pos.map_or(history.len() - 1, |i| i.saturating_sub(1));
                    pos.set(Some(i));
                    set(history[i].clone());
                }
                "ArrowDown" if pos.is_some() => {
                    e.prevent_default();
                    let i = pos.unwrap_or(0) + 1;
                    if i >= history.len() {
                        pos.set(None);
                        set(String::new());
                    } else {
                        pos.set(Some(i));
                        set(history[i].clone());
                    }
                }
                "Tab" => {
                    if let Some(c) = complete(&line) {
                        e.prevent_default();
                        set(c);
                    }
                }
                _ => {}
            }
        })
    };
    let oninput = {
        let line = line.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            line.set(i.value());
        })
    };
    let onedit = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            d.emit(Action::Edit(t.value()));
        })
    };
    let run = {
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(Action::Run))
    };
    let editor_keys = {
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                d.emit(Action::Run);
            }
        })
    };
    html! {
        <section class="panel console" aria-label="Console">
            <h2>{ "Console" }</h2>
            <div class="prompt">
                <span aria-hidden="true">{ "#" }</span>
                <input id="console-line" ref={input} type="text" aria-label="Command" autocomplete="off" spellcheck="false"
                       placeholder="a command, e.g. read f 0 20 (Tab completes, ↑ history)"
                       value={(*line).clone()} {oninput} {onkeydown} aria-describedby="console-error" />
            </div>
            <p id="console-error" class="error" aria-live="assertive">{ p.error.clone().unwrap_or_default() }</p>
            <details open=true>
                <summary>{ "Scenario editor" }</summary>
                <label for="scenario" class="sr-only">{ "Scenario" }</label>
                <textarea id="scenario" spellcheck="false" value={p.draft.clone()} oninput={onedit} onkeydown={editor_keys} rows="10" />
                <div class="row">
                    <button class="primary" onclick={run} data-testid="run">{ "Run" }</button>
                    <span class="hint">{ "Ctrl+Enter runs the whole scenario" }</span>
                </div>
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion() {
        assert_eq!(complete("mma").as_deref(), Some("mmap "));
        assert_eq!(complete("un").as_deref(), Some("unlink "));
        assert_eq!(complete("u"), None, "umount and unlink share only the u");
        assert_eq!(complete("dr").as_deref(), Some("drop_caches "));
        assert_eq!(complete("mu").as_deref(), Some("munmap "));
        assert_eq!(complete("tr").as_deref(), Some("truncate "));
        assert_eq!(complete("zz"), None);
        assert_eq!(complete("read f"), None);
    }

    #[test]
    fn console_errors_name_the_column_of_the_line() {
        assert_eq!(
            check_line("device x brd size=1M\n", "mmpa m"),
            Err("col 1: unknown command \"mmpa\"; did you mean \"mmap\"?".into())
        );
        assert_eq!(check_line("device x brd size=1M", "drop_caches"), Ok(()));
    }
}
