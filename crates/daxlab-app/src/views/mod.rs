//! The views: function components that draw the session and the snapshot and send actions up.
//! [`App`] owns the reducer and the effects that talk to the browser (URL, storage, keys, timer).

mod console;
mod flow;
mod machine;
mod panels;
mod svg;
mod timeline;

use std::collections::BTreeSet;
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::Interval;
use gloo::timers::future::TimeoutFuture;
use gloo::utils::{document, window};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::boundary::{self, Session};
use crate::lessons::LESSONS;
use crate::share::{self, Link};
use crate::state::{page_cache_twin, Action, Selection, State, Theme};
use daxlab_core::lang::parse::ParseError;

pub use console::{check_line, complete};

const PROGRESS_KEY: &str = "daxlab.lessons.done";

/// Steps a run takes between two pauses (a few milliseconds of work).
const SLICE_STEPS: u32 = 20_000;

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The whole application.
#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::new);
    let dispatch = {
        let state = state.clone();
        Callback::from(move |a: Action| state.dispatch(a))
    };

    // On start: the link in the URL (if any) and the lessons already done.
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let hash = window().location().hash().unwrap_or_default();
            match share::from_fragment(&hash) {
                Ok(Some(Link { scenario, step })) => dispatch.emit(Action::Load { scenario, step }),
                Ok(None) => {}
                Err(e) => dispatch.emit(Action::Notice(Some(format!(
                    "This link could not be opened: {e}. DAX Lab started with a clean scenario."
                )))),
            }
            if let Some(v) = storage().and_then(|s| s.get_item(PROGRESS_KEY).ok().flatten()) {
                let done: BTreeSet<String> = v
                    .split(',')
                    .filter(|x| LESSONS.iter().any(|l| l.id == *x))
                    .map(str::to_string)
                    .collect();
                dispatch.emit(Action::RestoreProgress(done));
            }
        });
    }

    // Derived: the run of the scenario, and of its page-cache twin when comparing. A run goes
    // in slices of steps with a pause between them, so the page stays responsive and shows
    // progress; meanwhile the previous run stays on screen. A newer scenario cancels an older run.
    type Ran = (
        String,
        bool,
        Result<Rc<Session>, ParseError>,
        Option<Rc<Session>>,
    );
    let ran = use_state(|| None::<Ran>);
    let progress = use_state(|| 0u32);
    let generation = use_mut_ref(|| 0u64);
    {
        let (ran, progress, generation) = (ran.clone(), progress.clone(), generation.clone());
        use_effect_with(
            (state.scenario.clone(), state.compare),
            move |(text, compare)| {
                *generation.borrow_mut() += 1;
                let me = *generation.borrow();
                progress.set(0);
                let (text, compare) = (text.clone(), *compare);
                wasm_bindgen_futures::spawn_local(async move {
                    let current = || *generation.borrow() == me;
                    // Let the status paint before the first slice.
                    TimeoutFuture::new(20).await;
                    let mut runs = Vec::new();
                    let texts = if compare {
                        vec![text.clone(), page_cache_twin(&text)]
                    } else {
                        vec![text.clone()]
                    };
                    for t in texts {
                        let mut r = match boundary::Running::start(&t) {
                            Ok(r) => r,
                            Err(e) => {
                                runs.push(Err(e));
                                continue;
                            }
                        };
                        while !r.advance(SLICE_STEPS) {
                            if !current() {
                                return;
                            }
                            progress.set(r.step());
                            TimeoutFuture::new(0).await;
                        }
                        runs.push(Ok(r.into_session()));
                    }
                    if current() {
                        let mut runs = runs.into_iter();
                        let main = runs.next().unwrap_or_else(|| boundary::session(&text));
                        let twin = runs.next().and_then(Result::ok);
                        ran.set(Some((text, compare, main, twin)));
                    }
                });
            },
        );
    }
    let busy = ran
        .as_ref()
        .is_none_or(|r| r.0 != state.scenario || r.1 != state.compare);
    let session: Rc<Result<Rc<Session>, ParseError>> = Rc::new(match &*ran {
        Some((_, _, r, _)) => r.clone(),
        None => Err(ParseError {
            line: 0,
            col: 0,
            message: String::new(),
            want: None,
        }),
    });
    let twin: Rc<Option<Rc<Session>>> = Rc::new(ran.as_ref().and_then(|r| r.3.clone()));
    let ok: Option<Rc<Session>> = (*session).as_ref().ok().cloned();
    let total = ok.as_ref().map_or(0, |s| s.total_steps);
    let step = state.step.unwrap_or(total).min(total);
    let snap = use_memo((ok.clone().map(|s| s.text.clone()), step), {
        let ok = ok.clone();
        move |_| ok.as_ref().map(|s| Rc::new(boundary::snapshot(s, step)))
    });
    // Side by side in lockstep by command: the twin shows the step where as many commands are done.
    let twin_snap = use_memo(((*twin).as_ref().map(|t| t.text.clone()), step), {
        let (twin, ok) = ((*twin).clone(), ok.clone());
        move |_| {
            let (t, s) = (twin?, ok?);
            let n = s.results.iter().filter(|r| r.step <= step).count();
            let ts = if step >= s.total_steps {
                t.total_steps
            } else {
                t.step_of_result(n)
            };
            Some((t.clone(), Rc::new(boundary::snapshot(&t, ts))))
        }
    });
    // The lesson's goal is checked on the end of the run.
    let achieved = use_memo((state.lesson, ok.clone().map(|s| s.text.clone())), {
        let ok = ok.clone();
        move |(lesson, _)| match (lesson, &ok) {
            (Some(i), Some(s)) => (LESSONS[*i].check)(s, &boundary::snapshot(s, s.total_steps)),
            _ => false,
        }
    });
    {
        let (dispatch, lesson, done) = (dispatch.clone(), state.lesson, state.done.clone());
        use_effect_with((*achieved, lesson), move |(achieved, lesson)| {
            if let (true, Some(i)) = (*achieved, *lesson) {
                if !done.contains(LESSONS[i].id) {
                    let mut all = done.clone();
                    all.insert(LESSONS[i].id.to_string());
                    if let Some(s) = storage() {
                        let _ = s.set_item(
                            PROGRESS_KEY,
                            &all.iter().cloned().collect::<Vec<_>>().join(","),
                        );
                    }
                    dispatch.emit(Action::LessonDone(LESSONS[i].id.into()));
                }
            }
        });
    }

    // Keep the URL in step with the state, so a link opens the same state.
    use_effect_with((state.scenario.clone(), state.step), |(scenario, step)| {
        let f = share::to_fragment(&Link {
            scenario: scenario.clone(),
            step: *step,
        });
        if let Ok(h) = window().history() {
            let _ =
                h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{f}")));
        }
    });

    // Playing: one step per tick.
    {
        let (dispatch, playing, speed) = (dispatch.clone(), state.playing, state.speed);
        let cur = use_mut_ref(|| (0u32, 0u32));
        *cur.borrow_mut() = (step, total);
        use_effect_with((playing, speed), move |(playing, speed)| {
            let iv = playing.then(|| {
                Interval::new(1000 / speed.max(&1), move || {
                    let (from, total) = *cur.borrow();
                    dispatch.emit(Action::StepBy {
                        from,
                        delta: 1,
                        total,
                    });
                })
            });
            move || drop(iv)
        });
    }

    // Keyboard control.
    {
        let dispatch = dispatch.clone();
        let cur = use_mut_ref(|| (0u32, 0u32, false, false));
        *cur.borrow_mut() = (step, total, state.playing, state.help);
        use_effect_with((), move |_| {
            let l = EventListener::new_with_options(
                &document(),
                "keydown",
                EventListenerOptions::enable_prevent_default(),
                move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    let typing = document().active_element().is_some_and(|a| {
                        matches!(a.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    });
                    if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    let (from, total, playing, help) = *cur.borrow();
                    let by = |delta| Action::StepBy { from, delta, total };
                    let action = match (e.key().as_str(), e.shift_key()) {
                        ("ArrowRight", s) => Some(by(if s { 10 } else { 1 })),
                        ("ArrowLeft", s) => Some(by(if s { -10 } else { -1 })),
                        ("Home", _) => Some(Action::Jump { step: 0, total }),
                        ("End", _) => Some(Action::Jump { step: total, total }),
                        (" ", _) => Some(Action::SetPlaying(!playing)),
                        ("c", _) => Some(Action::ToggleCompare),
                        ("t", _) => Some(Action::CycleTheme),
                        ("p", _) => Some(Action::TogglePresentation),
                        ("?", _) => Some(Action::ToggleHelp),
                        // Escape closes the help if it is open, else clears the selection.
                        ("Escape", _) if help => Some(Action::ToggleHelp),
                        ("Escape", _) => Some(Action::Select(None)),
                        ("/", _) => {
                            if let Some(i) = document()
                                .get_element_by_id("console-line")
                                .and_then(|x| x.dyn_into::<web_sys::HtmlElement>().ok())
                            {
                                let _ = i.focus();
                            }
                            None
                        }
                        _ => None,
                    };
                    if let Some(a) = action {
                        e.prevent_default();
                        dispatch.emit(a);
                    }
                },
            );
            move || drop(l)
        });
    }

    let selected_pfn = match &state.selection {
        Some(Selection::Pfn(p)) => Some(*p),
        _ => None,
    };
    let theme = match state.theme {
        Theme::Auto => "auto",
        Theme::Light => "light",
        Theme::Dark => "dark",
    };
    let notice = state.notice.clone().map(|n| {
        let d = dispatch.clone();
        html! { <div class="notice" role="alert">{ n }<button onclick={Callback::from(move |_| d.emit(Action::Notice(None)))} aria-label="Dismiss">{ "×" }</button></div> }
    });
    let toggle = |a: Action| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(a.clone()))
    };
    let body = match (&*session, &*snap) {
        (Ok(s), Some(snap)) => {
            let events: Vec<boundary::EventRow> = s.events_at(step).to_vec();
            let announce = announcement(step, total, &events);
            let mut columns = vec![(
                if state.compare {
                    "DAX".to_string()
                } else {
                    "total".to_string()
                },
                snap.counters,
            )];
            let machines = match &*twin_snap {
                Some((_, tsnap)) if state.compare => {
                    columns.insert(0, ("page cache".into(), tsnap.counters));
                    html! {
                        <div class="side-by-side">
                            <machine::Machine snap={tsnap.clone()} selected={selected_pfn} selection={state.selection.clone()} dispatch={dispatch.clone()} title={Some(AttrValue::from("Page cache (same scenario without -o dax)"))} />
                            <machine::Machine snap={snap.clone()} selected={selected_pfn} selection={state.selection.clone()} dispatch={dispatch.clone()} title={Some(AttrValue::from("As written"))} />
                        </div>
                    }
                }
                _ => {
                    html! { <machine::Machine snap={snap.clone()} selected={selected_pfn} selection={state.selection.clone()} dispatch={dispatch.clone()} /> }
                }
            };
            html! {
                <>
                <section class="views" aria-label="Machine views">
                    <div class="top-row">
                        <flow::FlowView events={events.clone()} selected={selected_pfn} dispatch={dispatch.clone()} />
                        <panels::CountersPanel columns={columns} plot={s.bytes_by_step()} step={step} total={total} />
                    </div>
                    { machines }
                </section>
                <timeline::Timeline session={s.clone()} step={step} playing={state.playing} speed={state.speed} dispatch={dispatch.clone()} />
                <div class="side">
                    <panels::Inspector snap={snap.clone()} session={s.clone()} selection={state.selection.clone()} step={step} />
                    <panels::StepEvents events={events} thread={step.checked_sub(1).and_then(|i| s.ran.get(i as usize)).and_then(|l| s.lanes.get(*l)).cloned()} step={step} dispatch={dispatch.clone()} />
                    <panels::Results session={s.clone()} step={step} />
                </div>
                <p class="sr-only" aria-live="polite" data-testid="announce">{ announce }</p>
                </>
            }
        }
        (Err(e), _) if e.line > 0 => html! {
            <section class="views" aria-label="Machine views">
                <p class="error" role="alert">{ format!("Scenario error at {e}") }</p>
            </section>
        },
        _ => {
            html! { <section class="views" aria-label="Machine views"><p class="busy" role="status">{ "Running…" }</p></section> }
        }
    };
    html! {
        <div class={classes!("app", state.presentation.then_some("presentation"))} data-theme={theme}>
            <header class="topbar">
                <h1>{ "DAX Lab" }</h1>
                <p class="era" title="Which kernel and CPU the simulator behaves as">{ ok.as_ref().map_or_else(|| "Linux 4.0".to_string(), |s| s.end.machine.clone()) }</p>
                <nav class="toolbar" aria-label="View options">
                    <button onclick={toggle(Action::ToggleCompare)} aria-pressed={state.compare.to_string()} data-testid="compare">{ "Page cache | DAX" }</button>
                    <button onclick={toggle(Action::CycleTheme)} aria-label={format!("Theme: {theme}")}>{ format!("Theme: {theme}") }</button>
                    <button onclick={toggle(Action::TogglePresentation)} aria-pressed={state.presentation.to_string()}>{ "Presentation" }</button>
                    <button onclick={toggle(Action::ToggleHelp)} aria-label="Keyboard shortcuts">{ "?" }</button>
                </nav>
            </header>
            { for notice }
            if busy { <p class="busy-bar" role="status"><span class="spinner" aria-hidden="true"></span>{ if *progress > 0 { format!("Running the scenario… {} steps", *progress) } else { "Running the scenario…".to_string() } }</p> }
            if state.help { <panels::Help dispatch={dispatch.clone()} /> }
            <main class="layout">
                <div class="left">
                    <panels::LessonPanel lesson={state.lesson} done={state.done.clone()} achieved={*achieved} dispatch={dispatch.clone()} />
                    <console::Console scenario={state.scenario.clone()} draft={state.draft.clone()} history={state.history.clone()} error={state.console_error.clone()} dispatch={dispatch.clone()} />
                </div>
                { body }
            </main>
        </div>
    }
}

/// What a screen reader hears after each step.
fn announcement(step: u32, total: u32, events: &[boundary::EventRow]) -> String {
    let key: Vec<&str> = events
        .iter()
        .filter(|e| !matches!(e.kind, "call" | "return"))
        .map(|e| e.text.as_str())
        .take(3)
        .collect();
    let more = events.len().saturating_sub(key.len());
    format!(
        "Step {step} of {total}. {}{}",
        if key.is_empty() {
            "No data moved.".to_string()
        } else {
            key.join(". ") + "."
        },
        if more > 0 {
            format!(" {more} more events.")
        } else {
            String::new()
        }
    )
}
