//! The app's custom hooks: each owns one effect that talks to the browser, so [`super::App`]
//! only composes them.
//!
//! - [`use_runs`] runs the scenario (and its page-cache twin when side by side) in time slices,
//!   keeping the last run that worked on screen meanwhile and after a scenario error;
//! - [`use_step_views`] forks the runs at the step shown;
//! - [`use_run_finished`] tells the reducer the length of a finished run (and a lesson's step);
//! - [`use_player`], [`use_keyboard`], [`use_url`], [`use_start`] and [`use_lesson_progress`]
//!   are the play timer, the shortcuts, the share link, the first load and lesson progress.

use std::hash::{Hash, Hasher};
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::Interval;
use gloo::timers::future::TimeoutFuture;
use gloo::utils::{document, window};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, MessageEvent, Worker};
use yew::prelude::*;

use super::Shared;
use crate::boundary::explore::Search;
use crate::boundary::race::{self, Game};
use crate::boundary::{self, Run, Running, Scope, StepView, ViewOptions};
use crate::lessons::LESSONS;
use crate::share;
use crate::state::{page_cache_twin, Action, Arrive, ExploreStatus, Mode, Race, State};
use crate::wire::{Reply, Request};
use daxlab_core::lang::parse::ParseError;

const PROGRESS_KEY: &str = "daxlab.lessons.done";
const WELCOMED_KEY: &str = "daxlab.welcomed";

/// Milliseconds of simulation between two pauses while a scenario runs.
const SLICE_MS: f64 = 12.0;
/// Steps asked of the core at a time within a slice.
const CHUNK_STEPS: u32 = 256;

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Remember that the welcome was seen.
pub fn welcomed() {
    if let Some(s) = storage() {
        let _ = s.set_item(WELCOMED_KEY, "1");
    }
}

/// Focus an element by id, if it exists.
pub fn focus_id(id: &str) {
    if let Some(e) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = e.focus();
    }
}

/// What an effect does when it runs, and how it is undone before the next run.
pub type Effect = Box<dyn FnOnce() -> Teardown>;
/// How an effect is undone.
pub type Teardown = Box<dyn FnOnce()>;

/// Nothing to undo.
pub fn nothing() -> Teardown {
    Box::new(|| ())
}

/// A fingerprint of what an effect depends on (FNV-1a over its `Hash`).
pub fn key(v: &impl Hash) -> u64 {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            }
        }
        fn finish(&self) -> u64 {
            self.0
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    v.hash(&mut h);
    h.0
}

/// The app's one kind of effect: `f` runs after a render in which `key` (a fingerprint of what
/// it depends on) changed, and its teardown before it runs again. Yew builds its effect
/// machinery once per type of effect; every effect of the app going through this hook keeps one
/// copy of it in the wasm instead of one per effect.
#[hook]
pub fn use_effect_keyed(key: u64, f: Effect) {
    use_effect_with(key, move |_| f());
}

/// Html made again only when `key` (a fingerprint of what it shows) changes. One type of memo
/// for every part of the page, for the same reason as [`use_effect_keyed`].
#[hook]
pub fn use_html(key: u64, f: Box<dyn FnOnce() -> Html>) -> Html {
    let f = std::cell::Cell::new(Some(f));
    (*use_memo(key, move |_| f.take().map_or_else(Html::default, |f| f()))).clone()
}

/// The address of a shared value, for a fingerprint: the same value, the same address. Only
/// for values held while the fingerprint is in use (a run, held by the runs' state): a value
/// made again from scratch may land where a dropped one was.
pub fn addr<T>(v: &Option<Shared<T>>) -> usize {
    v.as_ref().map_or(0, |s| Rc::as_ptr(&s.0) as usize)
}

/// The runs on screen.
#[derive(Clone, PartialEq)]
pub struct Runs {
    /// The run of the scenario (the last one that worked).
    pub main: Option<Shared<Run>>,
    /// The run of its page-cache twin, when side by side.
    pub twin: Option<Shared<Run>>,
    /// The scenario text that failed to parse, with its error.
    pub error: Option<(String, ParseError)>,
    /// A run is going on.
    pub busy: bool,
    /// Steps run so far by the run going on.
    pub progress: u32,
}

#[derive(Clone, PartialEq, Default)]
struct Done {
    main: Option<Shared<Run>>,
    twin: Option<Shared<Run>>,
    error: Option<(String, ParseError)>,
    /// What was asked for: (scenario, side by side).
    asked: Option<(String, bool)>,
    /// Steps run so far by the run going on.
    progress: u32,
}

async fn run_in_slices(
    mut r: Running,
    current: &dyn Fn() -> bool,
    progress: &dyn Fn(u32),
) -> Option<Run> {
    loop {
        let t0 = now();
        let mut done = false;
        while !done && now() - t0 < SLICE_MS {
            done = r.advance(CHUNK_STEPS);
        }
        if done {
            return Some(r.finish());
        }
        progress(r.step());
        TimeoutFuture::new(0).await;
        if !current() {
            return None;
        }
    }
}

/// Run `scenario` (and its page-cache twin when `compare`), a slice of time at a time. A newer
/// scenario cancels an older run; a console line that extends the scenario goes on from the
/// end of the last run.
///
/// `shown` says whether the sandbox is on screen: a run that finishes while the race lab is
/// shown does not tell the reducer its length (the race's run is the one shown).
#[hook]
pub fn use_runs(
    scenario: &str,
    compare: bool,
    lesson: Option<usize>,
    shown: bool,
    dispatch: &Callback<Action>,
) -> Runs {
    let done = use_state(Done::default);
    let generation = use_mut_ref(|| 0u64);
    let last = use_mut_ref(Done::default);
    *last.borrow_mut() = (*done).clone();
    let on_screen = use_mut_ref(|| shown);
    *on_screen.borrow_mut() = shown;
    {
        let (done, generation, last, dispatch, on_screen) = (
            done.clone(),
            generation.clone(),
            last.clone(),
            dispatch.clone(),
            on_screen.clone(),
        );
        let text = scenario.to_string();
        use_effect_keyed(
            key(&(scenario, compare)),
            Box::new(move || {
                *generation.borrow_mut() += 1;
                let me = *generation.borrow();
                wasm_bindgen_futures::spawn_local(async move {
                    let current = || *generation.borrow() == me;
                    let progress = |n: u32| {
                        let mut d = last.borrow().clone();
                        d.progress = n;
                        done.set(d);
                    };
                    // Let the page paint the status before the first slice.
                    TimeoutFuture::new(0).await;
                    if !current() {
                        return;
                    }
                    progress(0);
                    let prev = last.borrow().clone();
                    let mut next = Done {
                        asked: Some((text.clone(), compare)),
                        progress: 0,
                        ..prev.clone()
                    };
                    let same =
                        |r: &Option<Shared<Run>>, t: &str| r.as_ref().is_some_and(|r| r.text == t);
                    if !same(&prev.main, &text) {
                        let start = prev
                            .main
                            .as_ref()
                            .and_then(|p| Running::extend(p, &text))
                            .map(Ok)
                            .unwrap_or_else(|| Running::start(&text));
                        match start {
                            Ok(r) => match run_in_slices(r, &current, &progress).await {
                                Some(run) => {
                                    next.main = Some(Shared::new(run));
                                    next.error = None;
                                }
                                None => return,
                            },
                            Err(e) => {
                                next.error = Some((text.clone(), e));
                                done.set(next);
                                return;
                            }
                        }
                    } else {
                        next.error = None;
                    }
                    if compare {
                        let t = page_cache_twin(&text);
                        if !same(&prev.twin, &t) {
                            // The twin goes on from the old twin as the scenario does.
                            let start = prev
                                .twin
                                .as_ref()
                                .and_then(|p| Running::extend(p, &t))
                                .map(Ok)
                                .unwrap_or_else(|| Running::start(&t));
                            next.twin = match start {
                                Ok(r) => match run_in_slices(r, &current, &progress).await {
                                    Some(run) => Some(Shared::new(run)),
                                    None => return,
                                },
                                Err(_) => None,
                            };
                        }
                    }
                    if current() {
                        // The reducer learns the run's length in the same turn as the run
                        // appears, so no frame shows one with the other's length.
                        if let Some(r) = next
                            .main
                            .as_ref()
                            .filter(|r| r.text == text && *on_screen.borrow())
                        {
                            dispatch.emit(finished(r, lesson));
                        }
                        done.set(next);
                    }
                });
                nothing()
            }),
        );
    }
    let busy = done.asked.as_ref() != Some(&(scenario.to_string(), compare));
    Runs {
        main: done.main.clone(),
        twin: if compare { done.twin.clone() } else { None },
        error: done.error.clone(),
        busy,
        progress: done.progress,
    }
}

fn finished(r: &Run, lesson: Option<usize>) -> Action {
    Action::RunFinished {
        total: r.total,
        lesson: lesson.and_then(|i| LESSONS[i].focus.step(r)),
        latest: r.latest(),
    }
}

/// When the run on screen is the one asked for (`wanted`: the scenario's text, or the race's)
/// and the reducer does not know its length yet, or a lesson waits for its step (a lesson
/// opened again on the run already made), tell it.
#[hook]
pub fn use_run_finished(runs: &Runs, wanted: &str, state: &State, dispatch: &Callback<Action>) {
    let run = runs.main.clone().filter(|r| r.text == wanted);
    let pending = state.arrive != Arrive::Stay;
    let fingerprint = (
        run.as_ref().map(|r| Rc::as_ptr(&r.0) as usize),
        pending,
        state.total,
    );
    let (dispatch, lesson, total) = (dispatch.clone(), state.lesson, state.total);
    use_effect_keyed(
        self::key(&fingerprint),
        Box::new(move || {
            if let Some(r) = run {
                if r.total != total || pending {
                    dispatch.emit(finished(&r, lesson));
                }
            }
            nothing()
        }),
    );
}

/// The step views on screen: the run's at the step, and the twin's at the matching step.
#[derive(Clone, PartialEq)]
pub struct StepViews {
    /// The scenario's.
    pub main: Option<Shared<StepView>>,
    /// The twin's.
    pub twin: Option<Shared<StepView>>,
}

/// Fork the runs at the step shown (memoised: a render that changes nothing forks nothing).
#[hook]
pub fn use_step_views(runs: &Runs, step: u32, opts: &ViewOptions, compare: bool) -> StepViews {
    let main = runs.main.clone();
    let twin = runs.twin.clone().filter(|_| compare);
    let scope: Scope = match (&main, &twin) {
        (Some(m), Some(_)) => m.dax_scope(),
        _ => Scope::default(),
    };
    let main_opts = ViewOptions {
        scope: scope.clone(),
        ..opts.clone()
    };
    let main_view = use_memo((main.clone(), step, main_opts), |(run, step, o)| {
        run.as_ref().map(|r| Shared::new(r.view(*step, o)))
    });
    let twin_view = use_memo(
        (main, twin, step, scope, opts.selected),
        |(main, twin, step, scope, selected)| {
            let (m, t) = (main.as_ref()?, twin.as_ref()?);
            let ts = boundary::twin_step(m, t, *step);
            Some(Shared::new(t.view(
                ts,
                &ViewOptions {
                    scope: scope.clone(),
                    selected: *selected,
                    page: None,
                },
            )))
        },
    );
    StepViews {
        main: (*main_view).clone(),
        twin: (*twin_view).clone(),
    }
}

/// On first load: the link in the URL (if any), the lessons already done, and the welcome for
/// a first visit.
#[hook]
pub fn use_start(dispatch: &Callback<Action>) {
    let dispatch = dispatch.clone();
    use_effect_keyed(
        0,
        Box::new(move || {
            let hash = window().location().hash().unwrap_or_default();
            let mut linked = false;
            match share::from_fragment(&hash) {
                Ok(Some(l)) => {
                    linked = true;
                    dispatch.emit(Action::Load(l));
                }
                Ok(None) => {}
                Err(e) => dispatch.emit(Action::Notice(Some(format!(
                    "This link could not be opened: {e}. DAX Lab started with a clean scenario."
                )))),
            }
            let s = storage();
            let get = |k: &str| s.as_ref().and_then(|s| s.get_item(k).ok().flatten());
            let progress = get(PROGRESS_KEY);
            if let Some(v) = &progress {
                let done: Vec<String> = v
                    .split(',')
                    .filter(|x| LESSONS.iter().any(|l| l.id == *x))
                    .map(str::to_string)
                    .collect();
                dispatch.emit(Action::RestoreProgress(done));
            }
            if let Some(won) = stored_wins() {
                dispatch.emit(Action::RestoreWon(won));
            }
            if !linked && progress.is_none() && get(WELCOMED_KEY).is_none() {
                dispatch.emit(Action::Welcome(true));
            }
            nothing()
        }),
    );
}

/// Check the open lesson's goal on the end of its run, and keep progress in the browser.
#[hook]
pub fn use_lesson_progress(state: &State, runs: &Runs, dispatch: &Callback<Action>) {
    let run = runs.main.clone().filter(|r| r.text == state.scenario);
    let achieved = use_memo((state.lesson, run), |(lesson, run)| match (lesson, run) {
        (Some(i), Some(r)) => {
            let end = r.view(r.total, &ViewOptions::default());
            (LESSONS[*i].check)(r, &end.machine)
        }
        _ => false,
    });
    let (dispatch, lesson, done, achieved) = (
        dispatch.clone(),
        state.lesson,
        state.done.clone(),
        *achieved,
    );
    use_effect_keyed(
        key(&(achieved, lesson)),
        Box::new(move || {
            if let (true, Some(i)) = (achieved, lesson) {
                if !done.iter().any(|d| d == LESSONS[i].id) {
                    let mut all = done.clone();
                    all.push(LESSONS[i].id.to_string());
                    if let Some(s) = storage() {
                        let _ = s.set_item(PROGRESS_KEY, &all.join(","));
                    }
                    dispatch.emit(Action::LessonDone(LESSONS[i].id.into()));
                }
            }
            nothing()
        }),
    );
}

/// Focus follows the lessons: opening one moves it to the lesson's heading, closing it to the
/// lesson's entry in the list.
#[hook]
pub fn use_lesson_focus(lesson: Option<usize>) {
    let prev = use_mut_ref(|| lesson);
    use_effect_keyed(
        key(&lesson),
        Box::new(move || {
            let was = std::mem::replace(&mut *prev.borrow_mut(), lesson);
            match (was, lesson) {
                (w, Some(_)) if w != lesson => focus_id("lesson-title"),
                (Some(i), None) => focus_id(&format!("lesson-{i}")),
                _ => {}
            }
            nothing()
        }),
    );
}

/// Focus follows the race lab: opening a level moves it to the level's title, going back to
/// the list to the level's entry (or the list's title when coming from the sandbox).
#[hook]
pub fn use_level_focus(mode: Mode, level: Option<usize>) {
    let prev = use_mut_ref(|| (mode, level));
    use_effect_keyed(
        key(&(mode == Mode::Races, level)),
        Box::new(move || {
            let was = std::mem::replace(&mut *prev.borrow_mut(), (mode, level));
            match (was, mode, level) {
                (_, Mode::Races, Some(_)) => focus_id("level-title"),
                ((Mode::Races, Some(i)), Mode::Races, None) => focus_id(&format!("level-{i}")),
                ((Mode::Sandbox, _), Mode::Races, None) => focus_id("races-title"),
                _ => {}
            }
            nothing()
        }),
    );
}

/// Keep the URL in step with the state, so a link opens the same state. Moving to another
/// place (the sandbox or the race lab, a lesson, a level) is a new history entry, so the
/// browser's Back returns to the place before; anything else within a place replaces the entry.
/// A link pasted into the address bar, or Back and Forward, load the state the URL holds.
#[hook]
pub fn use_url(state: &State, dispatch: &Callback<Action>) {
    let link = state.link();
    let f = share::to_fragment(&link);
    let place = (
        link.lesson.clone(),
        link.race.as_ref().map(|r| r.level.clone()),
    );
    // What the URL holds now, by the page's own doing (to tell it from a navigation).
    let shown = use_mut_ref(String::new);
    let last_place = use_mut_ref(|| None::<(Option<String>, Option<Option<String>>)>);
    let first = use_mut_ref(|| true);
    // The state comes from a navigation (Back, Forward, a pasted link): the browser made the
    // history entry already.
    let navigated = use_mut_ref(|| false);
    {
        let (shown, navigated) = (shown.clone(), navigated.clone());
        use_effect_keyed(
            key(&f),
            Box::new(move || {
                let url = format!("#{f}");
                let hash = window().location().hash().unwrap_or_default();
                let first = std::mem::replace(&mut *first.borrow_mut(), false);
                if first && !hash.is_empty() && hash != url {
                    // The page opened on a link that is being loaded: leave it in the URL.
                    return nothing();
                }
                if let Ok(h) = window().history() {
                    let by_browser = std::mem::replace(&mut *navigated.borrow_mut(), false);
                    let moved =
                        !by_browser && last_place.borrow().as_ref().is_some_and(|p| *p != place);
                    let null = wasm_bindgen::JsValue::NULL;
                    let _ = if moved {
                        h.push_state_with_url(&null, "", Some(&url))
                    } else {
                        h.replace_state_with_url(&null, "", Some(&url))
                    };
                    *last_place.borrow_mut() = Some(place);
                    *shown.borrow_mut() = f;
                }
                nothing()
            }),
        );
    }
    let dispatch = dispatch.clone();
    use_effect_keyed(
        0,
        Box::new(move || {
            let load = move |_: &web_sys::Event| {
                let hash = window().location().hash().unwrap_or_default();
                if hash.trim_start_matches('#') == shown.borrow().as_str() {
                    return;
                }
                match share::from_fragment(&hash) {
                    Ok(Some(l)) => {
                        *navigated.borrow_mut() = true;
                        dispatch.emit(Action::Load(l));
                    }
                    Ok(None) => {}
                    Err(e) => dispatch.emit(Action::Notice(Some(format!(
                        "This link could not be opened: {e}."
                    )))),
                }
            };
            let w = window();
            let a = EventListener::new(&w, "hashchange", load.clone());
            let b = EventListener::new(&w, "popstate", load);
            Box::new(move || drop((a, b)))
        }),
    );
}

/// Playing: one step per tick.
#[hook]
pub fn use_player(playing: bool, speed: u32, dispatch: &Callback<Action>) {
    let dispatch = dispatch.clone();
    use_effect_keyed(
        key(&(playing, speed)),
        Box::new(move || {
            let iv = playing.then(|| {
                Interval::new(1000 / speed.max(1), move || {
                    dispatch.emit(Action::StepBy(1))
                })
            });
            Box::new(move || drop(iv))
        }),
    );
}

/// Whether the keys go to what has focus (a text field, a button, a dialog) rather than to
/// the shortcuts.
fn typing(e: &web_sys::KeyboardEvent) -> bool {
    document().active_element().is_some_and(|a| {
        matches!(a.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || (e.key() == " " && matches!(a.tag_name().as_str(), "BUTTON" | "SUMMARY" | "A"))
    })
}

/// The keyboard shortcuts (see `SHORTCUTS` in the help).
#[hook]
pub fn use_keyboard(
    state: &State,
    run: Option<Shared<Run>>,
    game: Option<Shared<Game>>,
    dispatch: &Callback<Action>,
) {
    let cur = use_mut_ref(|| (State::default(), None::<Shared<Run>>, None::<Shared<Game>>));
    *cur.borrow_mut() = (state.clone(), run, game);
    let dispatch = dispatch.clone();
    use_effect_keyed(
        0,
        Box::new(move || {
            let l = EventListener::new_with_options(
                &document(),
                "keydown",
                EventListenerOptions::enable_prevent_default(),
                move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    if e.default_prevented() || e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    let (s, run, game) = &*cur.borrow();
                    // A dialog is open: the keys are its own, but Escape closes it wherever
                    // the focus is.
                    if s.help || s.page.is_some() {
                        if e.key() == "Escape" {
                            e.prevent_default();
                            dispatch.emit(if s.help {
                                Action::ToggleHelp
                            } else {
                                Action::OpenPage(None)
                            });
                        }
                        return;
                    }
                    if typing(e) {
                        return;
                    }
                    let seek = |forward: bool| {
                        run.as_ref()
                            .and_then(|r| r.seek(s.seek, s.current(), forward))
                            .map(Action::Jump)
                    };
                    if let Some(a) = game.as_ref().and_then(|g| race_key(&e.key(), s, g)) {
                        e.prevent_default();
                        dispatch.emit(a);
                        return;
                    }
                    let action = match (e.key().as_str(), e.shift_key()) {
                        ("ArrowRight", sh) => Some(Action::StepBy(if sh { 10 } else { 1 })),
                        ("ArrowLeft", sh) => Some(Action::StepBy(if sh { -10 } else { -1 })),
                        ("Home", _) => Some(Action::Jump(0)),
                        ("End", _) => Some(Action::Jump(s.total)),
                        (" ", _) => Some(Action::SetPlaying(!s.playing)),
                        ("]", _) => seek(true),
                        ("[", _) => seek(false),
                        ("c", _) if s.mode == Mode::Sandbox => Some(Action::ToggleCompare),
                        ("t", _) => Some(Action::CycleTheme),
                        ("p", _) => Some(Action::TogglePresentation),
                        ("?", _) => Some(Action::ToggleHelp),
                        ("Escape", _) if s.selection.is_some() => Some(Action::Select(None)),
                        ("/", _) => {
                            e.prevent_default();
                            focus_id("console-line");
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
            Box::new(move || drop(l))
        }),
    );
}

/// The race lab's keys: a digit runs that thread's next step, `u` (or Backspace) undoes, `f`
/// lets the default policy run the rest, `e` explores (or stops exploring).
/// Looking back within the threads' steps, the keys that run steps do nothing, as their buttons
/// are disabled there.
fn race_key(key: &str, s: &State, game: &Game) -> Option<Action> {
    let r = s.playing_race()?;
    let past = s.step.is_some_and(|st| {
        st.checked_sub(game.start())
            .is_some_and(|k| (k as usize) < r.picks.len())
    });
    match key {
        "u" | "Backspace" => Some(Action::Undo),
        "f" if past => None,
        "f" => Some(Action::Finish(race::complete(r.level, r.policy, &r.picks))),
        "e" => Some(match &s.explore {
            Some(x) if x.status == ExploreStatus::Running => Action::CancelExplore,
            _ => Action::Explore(Search::Exhaustive),
        }),
        _ if past => None,
        _ => {
            let n: usize = key.parse().ok().filter(|n| (1..=9).contains(n))?;
            let name = game.thread_names().into_iter().nth(n - 1)?;
            game.runnable(&name).then_some(Action::Pick(name))
        }
    }
}

/// When an exploration ends, its outcomes are brought into view (on a laptop they sit below the
/// fold of the level's column, which scrolls on its own).
#[hook]
pub fn use_reveal_findings(explore: Option<&crate::state::Exploration>) {
    let done = explore
        .filter(|x| x.status != ExploreStatus::Running)
        .map(|x| x.id);
    use_effect_keyed(
        key(&done),
        Box::new(move || {
            if done.is_some() {
                if let Ok(Some(e)) = document().query_selector("[data-testid=explore-status]") {
                    e.scroll_into_view_with_bool(true);
                }
            }
            nothing()
        }),
    );
}

/// The level being played, made again when the level, the policy or the picks change; and its
/// run, for the time travel and the views.
#[hook]
pub fn use_game(race: Option<&Race>) -> (Option<Shared<Game>>, Option<Shared<Run>>) {
    let game = use_memo(race.cloned(), |r| {
        r.as_ref()
            .and_then(|r| Game::new(r.level, r.policy, &r.picks).ok())
            .map(Shared::new)
    });
    let game: Option<Shared<Game>> = (*game).clone();
    let run = use_memo(game.clone(), |g| g.as_ref().map(|g| Shared::new(g.run())));
    (game, (*run).clone())
}

/// The game of `race` alone (no run for the views): the threads as they were at an earlier
/// step.
#[hook]
pub fn use_game_at(race: Option<&Race>) -> Option<Shared<Game>> {
    let game = use_memo(race.cloned(), |r| {
        r.as_ref()
            .and_then(|r| Game::new(r.level, r.policy, &r.picks).ok())
            .map(Shared::new)
    });
    (*game).clone()
}

const WON_KEY: &str = "daxlab.races.won";

/// Levels won are kept in the browser; a link's pick that cannot be made is dropped, with a
/// notice.
#[hook]
pub fn use_race_progress(game: Option<Shared<Game>>, won: &[String], dispatch: &Callback<Action>) {
    let (dispatch, won) = (dispatch.clone(), won.to_vec());
    use_effect_keyed(
        key(&addr(&game)),
        Box::new(move || {
            let Some(g) = game else { return nothing() };
            if let Some(r) = g.refused() {
                dispatch.emit(Action::TrimPicks(r.at));
                dispatch.emit(Action::Notice(Some(format!(
                    "The schedule stops at pick {}: thread \"{}\" cannot run there.",
                    r.at + 1,
                    r.thread
                ))));
            }
            let id = race::level(g.level()).map(|l| l.id.to_string());
            if let (Some(_), Some(id)) = (g.win(), id) {
                if !won.contains(&id) {
                    let mut all = won.clone();
                    all.push(id.clone());
                    if let Some(s) = storage() {
                        let _ = s.set_item(WON_KEY, &all.join(","));
                    }
                    dispatch.emit(Action::Won(id));
                }
            }
            nothing()
        }),
    );
}

/// The levels won before, from storage.
pub fn stored_wins() -> Option<Vec<String>> {
    let v = storage()?.get_item(WON_KEY).ok().flatten()?;
    Some(
        v.split(',')
            .filter(|x| race::level_index(x).is_some())
            .map(str::to_string)
            .collect(),
    )
}

/// The file trunk makes to load the explorer's wasm in a worker (relative to the page, so
/// the site works under a sub-path too).
const WORKER_URL: &str = "./daxlab-explorer_loader.js";

/// The explorer's worker, as the page holds it.
struct ExplorerWorker {
    worker: Worker,
    /// The worker has said it listens.
    ready: Rc<std::cell::Cell<bool>>,
    /// A request waiting for that.
    queued: Rc<std::cell::RefCell<Option<String>>>,
    /// The exploration it is running.
    busy: Rc<std::cell::Cell<Option<u32>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl ExplorerWorker {
    fn spawn(dispatch: Callback<Action>) -> Result<Self, String> {
        let worker = Worker::new(WORKER_URL)
            .map_err(|e| format!("the explorer's worker could not start ({e:?})"))?;
        let ready = Rc::new(std::cell::Cell::new(false));
        let queued: Rc<std::cell::RefCell<Option<String>>> = Rc::default();
        let busy: Rc<std::cell::Cell<Option<u32>>> = Rc::default();
        let on_message = {
            let (w, ready, queued, busy, d) = (
                worker.clone(),
                ready.clone(),
                queued.clone(),
                busy.clone(),
                dispatch.clone(),
            );
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Ok(reply) = Reply::decode(&e.data().as_string().unwrap_or_default()) else {
                    return;
                };
                match &reply {
                    Reply::Ready => {
                        ready.set(true);
                        if let Some(q) = queued.borrow_mut().take() {
                            let _ = w.post_message(&q.into());
                        }
                    }
                    Reply::Progress { done: true, .. } | Reply::Failed { .. } => busy.set(None),
                    Reply::Progress { .. } => {}
                }
                d.emit(Action::Explored(reply));
            })
        };
        let on_error = {
            let busy = busy.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                e.prevent_default();
                let why = e
                    .dyn_ref::<web_sys::ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| format!("{WORKER_URL} did not load"));
                if let Some(id) = busy.take() {
                    dispatch.emit(Action::Explored(Reply::Failed {
                        id,
                        message: format!("the explorer's worker failed: {why}"),
                    }));
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(ExplorerWorker {
            worker,
            ready,
            queued,
            busy,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    fn send(&self, id: u32, r: &Request) {
        self.busy.set(Some(id));
        let text = r.encode();
        if self.ready.get() {
            let _ = self.worker.post_message(&text.into());
        } else {
            *self.queued.borrow_mut() = Some(text);
        }
    }
}

impl Drop for ExplorerWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// What the worker is asked to explore: the exploration's id, the scenario and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreJob {
    /// The exploration.
    pub id: u32,
    /// The scenario.
    pub text: String,
    /// How.
    pub search: Search,
}

/// Run the exploration asked for in the explorer's worker (made on first use, kept for the
/// next). An exploration no longer wanted while the worker still runs it (cancelled, or the
/// level or policy changed) stops the worker; the next one starts a fresh worker.
#[hook]
pub fn use_explorer(job: Option<ExploreJob>, dispatch: &Callback<Action>) {
    let slot = use_mut_ref(|| None::<ExplorerWorker>);
    let dispatch = dispatch.clone();
    use_effect_keyed(
        key(&job.as_ref().map(|j| j.id)),
        Box::new(move || {
            let Some(job) = job else { return nothing() };
            if slot.borrow().is_none() {
                match ExplorerWorker::spawn(dispatch.clone()) {
                    Ok(w) => *slot.borrow_mut() = Some(w),
                    Err(message) => {
                        dispatch.emit(Action::Explored(Reply::Failed {
                            id: job.id,
                            message,
                        }));
                        return nothing();
                    }
                }
            }
            if let Some(w) = slot.borrow().as_ref() {
                w.send(
                    job.id,
                    &Request::Start {
                        id: job.id,
                        text: job.text.clone(),
                        search: job.search,
                        max: crate::state::EXPLORE_MAX,
                    },
                );
            }
            Box::new(move || {
                let busy = slot.borrow().as_ref().and_then(|w| w.busy.get());
                if busy == Some(job.id) {
                    // Dropping it terminates it.
                    slot.borrow_mut().take();
                }
            })
        }),
    );
}
