//! The views: function components that draw a run and the step shown, and send actions up.
//! [`App`] composes them; the effects that talk to the browser (running in slices, the URL,
//! storage, keys, the play timer, focus) are custom hooks in [`hooks`].

mod cache;
mod console;
mod dialog;
mod flow;
mod grid;
pub mod hooks;
mod machine;
mod panels;
mod race;
mod struct_page;
mod timeline;

use std::ops::Deref;
use std::rc::Rc;

use yew::prelude::*;

use crate::boundary::{Run, StepView, ViewOptions};
use crate::state::{Action, ExploreStatus, Mode, Selection, State};
use hooks::{ExploreJob, Runs, StepViews};

/// A value shared by reference: equal only to itself, so a component given the same run or
/// step view skips its render at once, whatever the size of what it holds.
#[derive(Debug)]
pub struct Shared<T>(pub Rc<T>);

impl<T> Shared<T> {
    /// Share a value.
    pub fn new(v: T) -> Self {
        Shared(Rc::new(v))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A callback that sends one action.
pub(crate) fn send<E>(d: &Callback<Action>, a: Action) -> Callback<E> {
    let d = d.clone();
    Callback::from(move |_: E| d.emit(a.clone()))
}

/// The whole application.
#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::new);
    let dispatch = {
        let state = state.clone();
        use_memo((), move |_| {
            Callback::from(move |a: Action| state.dispatch(a))
        })
    };
    let dispatch: Callback<Action> = (*dispatch).clone();

    hooks::use_start(&dispatch);
    let sandbox = state.mode == Mode::Sandbox;
    let racing = state.playing_race().cloned();
    let (game, race_run) = hooks::use_game(racing.as_ref());
    let sandbox_runs: Runs = hooks::use_runs(
        &state.scenario,
        state.compare && sandbox,
        state.lesson,
        sandbox,
        &dispatch,
    );
    // In the race lab the run shown is the level's, as the picks have made it.
    let runs = match (sandbox, &race_run) {
        (true, _) => sandbox_runs,
        (false, run) => Runs {
            main: run.clone(),
            twin: None,
            error: None,
            busy: false,
            progress: 0,
        },
    };
    let wanted = match (&game, sandbox) {
        (Some(g), false) => g.text().to_string(),
        _ => state.scenario.clone(),
    };
    hooks::use_run_finished(&runs, &wanted, &state, &dispatch);
    hooks::use_race_progress(game.clone(), &state.won, &dispatch);
    hooks::use_reveal_findings(state.explore.as_ref());
    hooks::use_explorer(
        state
            .explore
            .as_ref()
            .filter(|x| x.status == ExploreStatus::Running)
            .map(|x| ExploreJob {
                id: x.id,
                text: crate::boundary::race::program(x.level, x.policy),
                search: x.search,
            }),
        &dispatch,
    );
    // The step shown, within the run shown.
    let shown = runs.main.as_ref().map_or(0, |r| r.total);
    let step = state.step.unwrap_or(shown).min(shown);
    // Looking back within the threads' steps (one pick each): the game as it was then.
    let then_race = match (&racing, &game) {
        (Some(r), Some(g)) if !sandbox => step
            .checked_sub(g.start())
            .map(|k| k as usize)
            .filter(|k| *k < r.picks.len())
            .map(|k| crate::state::Race {
                picks: r.picks[..k].to_vec(),
                ..r.clone()
            }),
        _ => None,
    };
    let then = hooks::use_game_at(then_race.as_ref());
    let opts = ViewOptions {
        scope: Default::default(),
        selected: match &state.selection {
            Some(Selection::Pfn(p)) => Some(*p),
            _ => None,
        },
        page: state.page,
    };
    let views: StepViews = hooks::use_step_views(&runs, step, &opts, state.compare);
    hooks::use_lesson_progress(&state, &runs, &dispatch);
    hooks::use_url(&state, &dispatch);
    hooks::use_player(state.playing, state.speed, &dispatch);
    hooks::use_keyboard(&state, runs.main.clone(), game.clone(), &dispatch);
    hooks::use_lesson_focus(state.lesson);
    hooks::use_level_focus(state.mode, racing.as_ref().map(|r| r.level));

    // The two big parts of the page, made again only when what they show changes.
    let timeline = {
        let (d, run, st) = (dispatch.clone(), runs.main.clone(), &*state);
        let (playing, speed, seek) = (st.playing, st.speed, st.seek);
        hooks::use_html(
            hooks::key(&(hooks::addr(&run), step, playing, speed, seek)),
            Box::new(move || match run {
                Some(run) => timeline::timeline(timeline::TimelineArgs {
                    run: &run,
                    step,
                    playing,
                    speed,
                    seek,
                    dispatch: &d,
                }),
                None => Html::default(),
            }),
        )
    };
    // What the step views are made of (not their addresses: a view made again from scratch may
    // land where the one it replaces was).
    let view_key = hooks::key(&(
        hooks::addr(&runs.main),
        hooks::addr(&runs.twin),
        step,
        &state.selection,
        state.page,
        state.compare,
    ));
    let machine_views = {
        let (d, run, view, twin, sel) = (
            dispatch.clone(),
            runs.main.clone(),
            views.main.clone(),
            views.twin.clone(),
            state.selection.clone(),
        );
        hooks::use_html(
            view_key,
            Box::new(move || match (run, view) {
                (Some(run), Some(view)) => {
                    machine::views(&run, &view, twin.as_deref(), sel.as_ref(), &d)
                }
                _ => Html::default(),
            }),
        )
    };
    // Grids drawn again keep one Tab stop each.
    hooks::use_effect_keyed(
        hooks::key(&(
            hooks::addr(&views.main),
            hooks::addr(&views.twin),
            &state.selection,
        )),
        Box::new(|| {
            grid::one_tab_stop_per_grid();
            hooks::nothing()
        }),
    );
    dialog::use_dialog_focus(
        match (state.help, state.page) {
            (true, _) => Some(u64::MAX),
            (false, p) => p.filter(|_| views.main.is_some()),
        },
        state.page.map(|p| format!("[data-pfn='{p}']")),
    );
    let theme = state.theme.name();
    let toggle = |a: Action| send::<MouseEvent>(&dispatch, a);
    let main = runs.main.clone();
    let notice = state.notice.clone().map(|n| {
        html! { <div class="notice" role="alert">{ n }<button onclick={toggle(Action::Notice(None))} aria-label="Dismiss">{ "×" }</button></div> }
    });
    let running_line = main.as_ref().and_then(|r| {
        (r.text == state.draft)
            .then(|| r.running_at(step).first().map(|i| r.results[*i].line))
            .flatten()
    });
    let error_line = runs
        .error
        .as_ref()
        .filter(|(t, _)| *t == state.draft)
        .map(|(_, e)| e.line);
    console::use_editor_follows(running_line.or(error_line));
    let body = match (&main, &views.main) {
        _ if !sandbox && racing.is_none() => html! { { race::home(&state.won, &dispatch) } },
        (Some(run), Some(view)) => {
            html! {
                <>
                { timeline }
                <section class="views" aria-label="Machine views" tabindex="-1" aria-busy={runs.busy.to_string()}>
                    if let Some((text, e)) = &runs.error {
                        <p class="error banner" role="alert">
                            { format!("Scenario error at line {}, col {}: {}", e.line, e.col, e.message) }
                            if *text == state.scenario && run.text != *text { <span class="kept">{ format!(" The views show the last run that worked ({} steps).", run.total) }</span> }
                        </p>
                    }
                    { machine_views }
                </section>
                { panels::side(run, view, &state.hex, state.selection.as_ref(), &dispatch) }
                <p class="sr-only" aria-live="polite" data-testid="announce">{ announcement(run, view) }</p>
                </>
            }
        }
        _ => match &runs.error {
            Some((_, e)) => html! {
                <section class="views" aria-label="Machine views" tabindex="-1" aria-busy={runs.busy.to_string()}>
                    <p class="error banner" role="alert">{ format!("Scenario error at line {}, col {}: {}", e.line, e.col, e.message) }</p>
                </section>
            },
            None => html! {
                <section class="views" aria-label="Machine views" tabindex="-1" aria-busy="true"><p class="busy">{ "Running…" }</p></section>
            },
        },
    };
    let machine = main.as_ref().map(|r| r.machine.clone());
    html! {
        <div class={classes!("app", state.presentation.then_some("presentation"))} data-theme={theme}>
            <header class="topbar">
                <h1>{ "DAX Lab" }</h1>
                <p class="era" data-testid="era">
                    { match &machine {
                        Some(m) => html! { <>
                            <span>{ format!("Kernel: {}", m.era) }</span>
                            <span>{ format!("CPU: {}", m.arch) }</span>
                            <span class={classes!("badge", if m.fs_dax { "yes" } else { "no" })}>{
                                match (m.fs_dax, m.pretend) {
                                    (true, false) => "FS_DAX built",
                                    (true, true) => "FS_DAX built anyway (pretend)",
                                    _ => "FS_DAX not built: no DAX on this CPU in 4.0",
                                }
                            }</span>
                            if m.locking != "4.0" { <span>{ format!("locking: {}", m.locking) }</span> }
                        </> },
                        None => html! { <span>{ "Kernel: Linux 4.0" }</span> },
                    } }
                </p>
                <nav class="modes" aria-label="Parts of DAX Lab">
                    <button onclick={toggle(Action::SetMode(Mode::Sandbox))} aria-pressed={sandbox.to_string()}>{ "Sandbox" }</button>
                    <button onclick={toggle(Action::SetMode(Mode::Races))} aria-pressed={(!sandbox).to_string()} data-testid="races">{ "Race lab" }</button>
                </nav>
                <nav class="toolbar" aria-label="View options">
                    if sandbox { <button onclick={toggle(Action::ToggleCompare)} aria-pressed={state.compare.to_string()} data-testid="compare">{ "Page cache | DAX" }</button> }
                    <button onclick={toggle(Action::CycleTheme)}>{ format!("Theme: {theme}") }</button>
                    <button onclick={toggle(Action::TogglePresentation)} aria-pressed={state.presentation.to_string()}>{ "Presentation" }</button>
                    <button onclick={toggle(Action::ToggleHelp)} aria-label="Keyboard shortcuts" aria-haspopup="dialog">{ "?" }</button>
                </nav>
            </header>
            { for notice }
            if runs.busy {
                <p class="busy-bar" role="status"><span class="spinner" aria-hidden="true"></span>{
                    if runs.progress > 0 { format!("Running the scenario… {} steps", runs.progress) } else { "Running the scenario…".to_string() }
                }</p>
            }
            <main class={classes!("layout", (!sandbox).then_some(if racing.is_some() { "race" } else { "races-list" }))}>
                if let (false, Some(r), Some(g)) = (sandbox, &racing, &game) {
                    <div class="left">
                        if let Some(l) = crate::boundary::race::level(r.level) { { race::level_panel(l, r, g, &dispatch) } }
                        { race::explorer(state.explore.as_ref(), r, g, &dispatch) }
                    </div>
                    <div class="sched">{ race::scheduler(g, then.as_deref(), r, step, shown, &dispatch) }</div>
                }
                if sandbox {
                <div class="left">
                    if state.welcome { { panels::welcome(&dispatch) } }
                    { panels::lesson_panel(state.lesson, &state.done, main.as_deref(), step, &dispatch) }
                    { console::console(console::ConsoleArgs {
                        scenario: &state.scenario,
                        prompt: &state.prompt,
                        history: &state.history,
                        error: state.console_error.as_deref(),
                        names: main.clone().filter(|r| r.text == state.scenario),
                        draft: &state.draft,
                        running: running_line,
                        scenario_error: error_line,
                        where_: main.as_ref().filter(|r| r.text == state.draft).and_then(|r| where_text(r, step)),
                        dispatch: &dispatch,
                    }) }
                </div>
                }
                { body }
            </main>
            if state.help { { dialog::help(&dispatch) } }
            if let (Some(view), Some(pfn)) = (&views.main, state.page) {
                { dialog::page_view(view, pfn, &dispatch) }
            }
        </div>
    }
}

/// The command the step belongs to.
fn command_at(run: &Run, step: u32) -> Option<&crate::boundary::ResultRow> {
    run.running_at(step).first().map(|i| &run.results[*i])
}

/// The command, as "line L: [thread] text".
fn command_text(r: &crate::boundary::ResultRow) -> String {
    format!(
        "line {}: {}{}",
        r.line,
        r.thread
            .as_deref()
            .map(|t| format!("[{t}] "))
            .unwrap_or_default(),
        r.command
    )
}

/// Where the step is, in words.
fn where_text(run: &Run, step: u32) -> Option<String> {
    command_at(run, step).map(|r| format!("Step {step} is in {}", command_text(r)))
}

/// What a screen reader hears after each step.
fn announcement(run: &Run, view: &StepView) -> String {
    let key: Vec<&str> = view
        .events
        .iter()
        .filter(|e| !matches!(e.kind, "call" | "return"))
        .map(|e| e.text.as_str())
        .take(3)
        .collect();
    let more = view.events.len() + view.more_events - key.len();
    let mut s = format!("Step {} of {}. ", view.step, run.total);
    if let Some(r) = command_at(run, view.step) {
        s.push('L');
        s.push_str(&command_text(r)[1..]);
        s.push_str(". ");
    }
    if key.is_empty() {
        s.push_str("No data moved.");
    } else {
        s.push_str(&key.join(". "));
        s.push('.');
    }
    if more > 0 {
        s.push_str(&format!(" {more} more events."));
    }
    s
}
