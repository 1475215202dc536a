//! The application state and its reducer. No DOM here: the logic is tested natively. What the
//! machine looks like is not state: it is derived from the scenario and the step.

use std::rc::Rc;

use yew::Reducible;

use crate::boundary::explore::{Report, Search};
use crate::boundary::race::{self, Policy};
use crate::boundary::Seek;
use crate::lessons::LESSONS;
use crate::share::{Link, RaceLink};
use crate::wire::Reply;

/// Which part of DAX Lab is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The sandbox: a scenario, the console and the lessons.
    #[default]
    Sandbox,
    /// The race lab: the levels, played with the learner as the scheduler.
    Races,
}

/// The level being played: which, under which lock policy, and the learner's picks so far.
/// What the threads do follows from these (see `boundary::race::Game`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Race {
    /// The level (an index of `boundary::race::level`).
    pub level: usize,
    /// The lock policy.
    pub policy: Policy,
    /// The thread that ran each step the learner chose, by name.
    pub picks: Vec<String>,
}

/// Where an exploration is.
#[derive(Debug, Clone, PartialEq)]
pub enum ExploreStatus {
    /// The worker is exploring.
    Running,
    /// It is over: every interleaving ran, or the bound stopped it.
    Done,
    /// The learner stopped it.
    Cancelled,
    /// It could not run.
    Failed(String),
}

/// An exploration of the level being played, run by the worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Exploration {
    /// Which exploration (the worker's replies name it).
    pub id: u32,
    /// The level explored.
    pub level: usize,
    /// Under which policy.
    pub policy: Policy,
    /// How.
    pub search: Search,
    /// Where it is.
    pub status: ExploreStatus,
    /// What it found so far.
    pub findings: Report,
    /// Milliseconds it has taken so far, as the worker measured them.
    pub elapsed_ms: f64,
    /// Progress reports received.
    pub updates: u32,
}

/// The most executions an exploration runs before it stops and says it is not complete.
pub const EXPLORE_MAX: u64 = 200_000;

/// What is selected: the views highlight it and the inspector shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selection {
    /// A page frame, wherever it appears (device page, page-cache page, PTE, copy).
    Pfn(u64),
    /// A device by name.
    Device(String),
    /// A file by inode number.
    File(u64),
    /// A mapping by name.
    Vma(String),
}

/// Colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follow the system.
    #[default]
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    /// The name the stylesheet and the button use.
    pub fn name(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// Where the view goes when the run being made is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrive {
    /// Stay where the state says (a link's step, or the end).
    #[default]
    Stay,
    /// The step the open lesson is about.
    Lesson,
    /// The last step that did something (a copy, a zeroing, a fault, a wait, an error): what
    /// the scenario's last change did, rather than its quiet last step.
    Latest,
    /// After a console line: the last step that did something in that line's command (after
    /// step `.0`, where the run stood), or else its end, where its result shows; never a step
    /// of an earlier command.
    LatestAfter(u32),
}

/// Everything the user has chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The scenario text in the editor.
    pub draft: String,
    /// The scenario that runs.
    pub scenario: String,
    /// The step shown (`None`: the end of the run).
    pub step: Option<u32>,
    /// Steps in the run shown.
    pub total: u32,
    /// The selected thing.
    pub selection: Option<Selection>,
    /// The frame whose contents are open.
    pub page: Option<u64>,
    /// Page cache and DAX side by side.
    pub compare: bool,
    /// Playing the steps.
    pub playing: bool,
    /// Steps per second when playing.
    pub speed: u32,
    /// What the timeline's previous/next buttons look for.
    pub seek: Seek,
    /// The console's line being typed.
    pub prompt: crate::complete::Prompt,
    /// Console lines entered, oldest first.
    pub history: Vec<String>,
    /// The console's last error.
    pub console_error: Option<String>,
    /// The open lesson.
    pub lesson: Option<usize>,
    /// Where to go once the run being made is done.
    pub arrive: Arrive,
    /// Ids of completed lessons.
    pub done: Vec<String>,
    /// Theme.
    pub theme: Theme,
    /// Large fonts for a lecture hall.
    pub presentation: bool,
    /// The keyboard help is open.
    pub help: bool,
    /// A message for the user (e.g. about a bad link).
    pub notice: Option<String>,
    /// The first-visit welcome is shown.
    pub welcome: bool,
    /// Lines whose result is shown in hex.
    pub hex: Vec<u32>,
    /// Sandbox or race lab.
    pub mode: Mode,
    /// The level being played (kept while the sandbox is shown).
    pub race: Option<Race>,
    /// Ids of the levels won.
    pub won: Vec<String>,
    /// The exploration of the level, if one was asked for.
    pub explore: Option<Exploration>,
}

impl Default for State {
    fn default() -> Self {
        State {
            draft: crate::boundary::FIRST_SCENARIO.into(),
            scenario: crate::boundary::FIRST_SCENARIO.into(),
            step: None,
            total: 0,
            selection: None,
            page: None,
            compare: false,
            playing: false,
            speed: 4,
            seek: Seek::Copy,
            prompt: Default::default(),
            history: Vec::new(),
            console_error: None,
            lesson: None,
            arrive: Arrive::Latest,
            done: Vec::new(),
            theme: Theme::Auto,
            presentation: false,
            help: false,
            notice: None,
            welcome: false,
            hex: Vec::new(),
            mode: Mode::Sandbox,
            race: None,
            won: Vec::new(),
            explore: None,
        }
    }
}

/// Things the user (or the app, on their behalf) does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a share link.
    Load(Link),
    /// Edit the scenario text.
    Edit(String),
    /// Run the edited scenario, showing its end.
    Run,
    /// A run is done: its length, and the steps it could open at.
    RunFinished {
        /// Steps in the run.
        total: u32,
        /// The step the open lesson is about.
        lesson: Option<u32>,
        /// The last step that did something.
        latest: Option<u32>,
    },
    /// Show a step (clamped to the run).
    Jump(u32),
    /// Move by some steps (negative: back).
    StepBy(i64),
    /// Play or pause.
    SetPlaying(bool),
    /// Steps per second.
    SetSpeed(u32),
    /// What previous/next look for.
    SetSeek(Seek),
    /// Select (or clear).
    Select(Option<Selection>),
    /// Open (or close) the contents of a frame; opening selects it.
    OpenPage(Option<u64>),
    /// Switch between single and side by side.
    ToggleCompare,
    /// The console's line changed.
    Prompt(crate::complete::Prompt),
    /// A console line was accepted: append it to the scenario and run on.
    ConsoleAccepted(String),
    /// A console line was refused (or the refusal cleared).
    ConsoleError(Option<String>),
    /// Open a lesson (loads its scenario) or close it.
    OpenLesson(Option<usize>),
    /// A lesson's goal was reached.
    LessonDone(String),
    /// Progress restored from storage.
    RestoreProgress(Vec<String>),
    /// Next theme (auto → light → dark).
    CycleTheme,
    /// Presentation mode on or off.
    TogglePresentation,
    /// Keyboard help on or off.
    ToggleHelp,
    /// Show a notice.
    Notice(Option<String>),
    /// Show or hide the first-visit welcome.
    Welcome(bool),
    /// Show a result's bytes in hex, or as text again.
    ToggleHex(u32),
    /// Show the sandbox or the race lab.
    SetMode(Mode),
    /// Open a level (from its start, under 4.0) or go back to the list of levels.
    OpenLevel(Option<usize>),
    /// Play the level under another lock policy (from its start).
    SetPolicy(Policy),
    /// Run the next step of the thread named so.
    Pick(String),
    /// Take back the last pick.
    Undo,
    /// Take back every pick.
    Restart,
    /// Make these the picks and show the end (the rest run by the default policy).
    Finish(Vec<String>),
    /// Make these the picks (an outcome of the explorer, to its end) and play them from step
    /// `from`.
    Replay {
        /// The picks.
        picks: Vec<String>,
        /// The step to play from.
        from: u32,
    },
    /// Keep only the first picks (the rest could not be made).
    TrimPicks(usize),
    /// A level was won.
    Won(String),
    /// Won levels restored from storage.
    RestoreWon(Vec<String>),
    /// Explore the level being played.
    Explore(Search),
    /// Stop the exploration.
    CancelExplore,
    /// The worker said something about an exploration.
    Explored(Reply),
}

impl State {
    /// The initial state: the first scenario at its end.
    pub fn new() -> Self {
        Self::default()
    }

    /// The step shown.
    pub fn current(&self) -> u32 {
        self.step.unwrap_or(self.total).min(self.total)
    }

    /// The pure transition function.
    pub fn apply(&self, action: Action) -> State {
        let mut s = self.clone();
        match action {
            Action::Load(l) => {
                s.step = l.step;
                s.lesson = l
                    .lesson
                    .and_then(|id| LESSONS.iter().position(|x| x.id == id));
                s.compare = l.compare;
                s.selection = l.selection;
                s.page = l.page;
                s.playing = false;
                s.arrive = Arrive::Stay;
                s.welcome = false;
                s.explore = None;
                match l.race {
                    Some(r) => {
                        s.mode = Mode::Races;
                        s.compare = false;
                        s.race = r
                            .level
                            .and_then(|id| race::level_index(&id))
                            .map(|level| Race {
                                level,
                                policy: r.policy,
                                picks: r.picks,
                            });
                    }
                    None => {
                        s.mode = Mode::Sandbox;
                        s.draft = l.scenario.clone();
                        s.scenario = l.scenario;
                    }
                }
            }
            Action::Edit(text) => s.draft = text,
            Action::Run => {
                s.scenario = s.draft.clone();
                s.fresh_run();
            }
            Action::RunFinished {
                total,
                lesson,
                latest,
            } => {
                s.total = total;
                match s.arrive {
                    Arrive::Stay => {}
                    Arrive::Lesson => s.step = lesson.or(latest),
                    Arrive::Latest => s.step = latest,
                    Arrive::LatestAfter(from) => {
                        s.step = Some(latest.filter(|l| *l > from).unwrap_or(total))
                    }
                }
                s.arrive = Arrive::Stay;
                s.step = s.step.map(|x| x.min(total));
            }
            Action::Jump(step) => s.step = Some(step.min(s.total)),
            Action::StepBy(delta) => {
                let to = (i64::from(s.current()) + delta).clamp(0, i64::from(s.total)) as u32;
                s.step = Some(to);
                if to == s.total && delta > 0 {
                    s.playing = false;
                }
            }
            Action::SetPlaying(p) => {
                s.playing = p;
                if p && s.current() >= s.total {
                    s.step = Some(0);
                }
            }
            Action::SetSpeed(v) => s.speed = v.clamp(1, 60),
            Action::SetSeek(k) => s.seek = k,
            Action::Select(sel) => s.selection = sel,
            Action::OpenPage(p) => {
                s.page = p;
                if let Some(p) = p {
                    s.selection = Some(Selection::Pfn(p));
                }
            }
            Action::ToggleCompare => s.compare = !s.compare,
            Action::ConsoleAccepted(line) => {
                let mut text = s.scenario.clone();
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&line);
                text.push('\n');
                s.draft = text.clone();
                s.scenario = text;
                s.step = None;
                s.arrive = Arrive::LatestAfter(s.total);
                s.playing = false;
                s.console_error = None;
                if s.history.last() != Some(&line) {
                    s.history.push(line);
                }
            }
            Action::Prompt(p) => s.prompt = p,
            Action::ConsoleError(e) => s.console_error = e,
            Action::OpenLesson(i) => {
                s.lesson = i.filter(|i| *i < LESSONS.len());
                if let Some(l) = s.lesson.map(|i| &LESSONS[i]) {
                    s.draft = l.scenario.into();
                    s.scenario = l.scenario.into();
                    s.fresh_run();
                    s.arrive = Arrive::Lesson;
                    s.welcome = false;
                }
            }
            Action::LessonDone(id) => {
                if !s.done.contains(&id) {
                    s.done.push(id);
                }
            }
            Action::RestoreProgress(done) => s.done = done,
            Action::CycleTheme => {
                s.theme = match s.theme {
                    Theme::Auto => Theme::Light,
                    Theme::Light => Theme::Dark,
                    Theme::Dark => Theme::Auto,
                }
            }
            Action::TogglePresentation => s.presentation = !s.presentation,
            Action::ToggleHelp => s.help = !s.help,
            Action::Notice(n) => s.notice = n,
            Action::Welcome(w) => s.welcome = w,
            Action::ToggleHex(line) => {
                if s.hex.contains(&line) {
                    s.hex.retain(|l| *l != line);
                } else {
                    s.hex.push(line);
                }
            }
            Action::SetMode(m) => {
                if s.mode != m {
                    s.mode = m;
                    s.new_view();
                    s.welcome = false;
                    if m == Mode::Races {
                        // The page-cache twin of a race makes no sense: one run is shown.
                        s.compare = false;
                    }
                }
            }
            Action::OpenLevel(level) => {
                s.mode = Mode::Races;
                s.welcome = false;
                s.new_view();
                s.race = level
                    .filter(|i| *i < race::level_count())
                    .map(|level| Race {
                        level,
                        policy: Policy::V4_0,
                        picks: Vec::new(),
                    });
                s.compare = false;
                s.explore = None;
            }
            Action::SetPolicy(p) => {
                if let Some(r) = s.race.as_mut().filter(|r| r.policy != p) {
                    // The same schedule under the other locks: it plays as far as they let it
                    // (the game stops at the first pick a thread cannot take, and says so).
                    r.policy = p;
                    s.explore = None;
                    s.new_view();
                }
            }
            Action::Pick(name) => {
                if let Some(r) = s.race.as_mut() {
                    r.picks.push(name);
                    s.show_end();
                }
            }
            Action::Undo => {
                if s.race.as_mut().and_then(|r| r.picks.pop()).is_some() {
                    s.show_end();
                }
            }
            Action::Restart => {
                if let Some(r) = s.race.as_mut() {
                    r.picks.clear();
                    s.show_end();
                }
            }
            Action::Finish(picks) => {
                if let Some(r) = s.race.as_mut() {
                    r.picks = picks;
                    s.show_end();
                }
            }
            Action::Replay { picks, from } => {
                if let Some(r) = s.race.as_mut() {
                    r.picks = picks;
                    s.step = Some(from);
                    s.playing = true;
                    s.arrive = Arrive::Stay;
                }
            }
            Action::TrimPicks(n) => {
                if let Some(r) = s.race.as_mut() {
                    r.picks.truncate(n);
                }
            }
            Action::Won(id) => {
                if !s.won.contains(&id) {
                    s.won.push(id);
                }
            }
            Action::RestoreWon(won) => s.won = won,
            Action::Explore(search) => {
                if let Some(r) = &s.race {
                    s.explore = Some(Exploration {
                        id: s.explore.as_ref().map_or(1, |x| x.id + 1),
                        level: r.level,
                        policy: r.policy,
                        search,
                        status: ExploreStatus::Running,
                        findings: Report::default(),
                        elapsed_ms: 0.0,
                        updates: 0,
                    });
                }
            }
            Action::CancelExplore => {
                if let Some(x) = s
                    .explore
                    .as_mut()
                    .filter(|x| x.status == ExploreStatus::Running)
                {
                    x.status = ExploreStatus::Cancelled;
                }
            }
            Action::Explored(reply) => {
                fn running(x: &mut Option<Exploration>, id: u32) -> Option<&mut Exploration> {
                    x.as_mut()
                        .filter(|x| x.id == id && x.status == ExploreStatus::Running)
                }
                match reply {
                    Reply::Ready => {}
                    Reply::Progress {
                        id,
                        findings,
                        elapsed_ms,
                        done,
                    } => {
                        if let Some(x) = running(&mut s.explore, id) {
                            x.findings = findings;
                            x.elapsed_ms = elapsed_ms;
                            x.updates += 1;
                            if done {
                                x.status = ExploreStatus::Done;
                            }
                        }
                    }
                    Reply::Failed { id, message } => {
                        if let Some(x) = running(&mut s.explore, id) {
                            x.status = ExploreStatus::Failed(message);
                        }
                    }
                }
            }
        }
        s
    }

    /// The level being played, when the race lab shows one.
    pub fn playing_race(&self) -> Option<&Race> {
        self.race.as_ref().filter(|_| self.mode == Mode::Races)
    }

    /// A new run is shown: from its end, nothing selected.
    fn new_view(&mut self) {
        self.step = None;
        self.selection = None;
        self.page = None;
        self.playing = false;
        self.arrive = Arrive::Stay;
    }

    /// A pick changed the run: show its end.
    fn show_end(&mut self) {
        self.step = None;
        self.playing = false;
        self.arrive = Arrive::Stay;
    }

    fn fresh_run(&mut self) {
        self.step = None;
        self.selection = None;
        self.page = None;
        self.playing = false;
        self.arrive = Arrive::Latest;
        self.console_error = None;
        self.hex.clear();
    }

    /// The share link of this state.
    pub fn link(&self) -> Link {
        if self.mode == Mode::Races {
            return Link {
                step: self.step,
                selection: self.selection.clone(),
                page: self.page,
                race: Some(RaceLink {
                    level: self
                        .race
                        .as_ref()
                        .and_then(|r| race::level(r.level))
                        .map(|l| l.id.to_string()),
                    policy: self.race.as_ref().map_or(Policy::V4_0, |r| r.policy),
                    picks: self.race.as_ref().map_or(Vec::new(), |r| r.picks.clone()),
                }),
                ..Link::default()
            };
        }
        Link {
            scenario: self.scenario.clone(),
            step: self.step,
            lesson: self.lesson.map(|i| LESSONS[i].id.to_string()),
            compare: self.compare,
            selection: self.selection.clone(),
            page: self.page,
            race: None,
        }
    }
}

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(self.apply(action))
    }
}

/// The same scenario with every `-o dax` removed: the page-cache twin for side by side. Line
/// for line the same, so a console line extends the twin as it extends the scenario.
pub fn page_cache_twin(scenario: &str) -> String {
    let mut twin = scenario
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if !t.starts_with("mount ") {
                return l.to_string();
            }
            let words: Vec<&str> = t.split_whitespace().collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < words.len() {
                if words[i] == "-o" {
                    let opts: Vec<&str> = words.get(i + 1).map_or(vec![], |o| {
                        o.split(',')
                            .filter(|o| *o != "dax" && *o != "xip")
                            .collect()
                    });
                    if !opts.is_empty() {
                        out.push("-o".to_string());
                        out.push(opts.join(","));
                    }
                    i += 2;
                } else {
                    out.push(words[i].to_string());
                    i += 1;
                }
            }
            out.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    if scenario.ends_with('\n') {
        twin.push('\n');
    }
    twin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(s: State, total: u32) -> State {
        s.apply(Action::RunFinished {
            total,
            lesson: None,
            latest: None,
        })
    }

    #[test]
    fn editing_does_not_run_until_asked() {
        let s = finished(State::new(), 10).apply(Action::Edit("device x brd size=1M".into()));
        assert_ne!(s.scenario, s.draft);
        let s = s.apply(Action::Jump(3)).apply(Action::Run);
        assert_eq!(s.scenario, "device x brd size=1M");
        assert_eq!(s.step, None, "a new run shows its end");
    }

    #[test]
    fn the_run_length_is_in_the_state_and_clamps_every_move() {
        let s = finished(State::new(), 12).apply(Action::SetPlaying(true));
        assert_eq!(s.step, Some(0), "playing from the end starts over");
        let s = s.apply(Action::Jump(9)).apply(Action::StepBy(5));
        assert_eq!((s.step, s.playing), (Some(12), false));
        let s = s.apply(Action::Jump(2)).apply(Action::StepBy(-5));
        assert_eq!(s.step, Some(0));
        assert_eq!(s.apply(Action::Jump(99)).step, Some(12));
        assert_eq!(State::new().current(), 0, "no run yet");
        // A shorter run clamps the step shown.
        let s = finished(s.apply(Action::Jump(11)), 5);
        assert_eq!(s.current(), 5);
    }

    #[test]
    fn console_lines_append_to_the_scenario_and_enter_history_once() {
        let s = State::new().apply(Action::ConsoleError(Some("x".into())));
        let s = s
            .apply(Action::ConsoleAccepted("drop_caches".into()))
            .apply(Action::ConsoleAccepted("drop_caches".into()));
        assert!(s.scenario.ends_with("drop_caches\ndrop_caches\n"));
        assert_eq!(s.history, vec!["drop_caches".to_string()]);
        assert_eq!(s.console_error, None);
    }

    #[test]
    fn a_console_line_arrives_in_its_own_command_or_at_its_result() {
        let s = State::new().apply(Action::RunFinished {
            total: 30,
            lesson: None,
            latest: Some(29),
        });
        // The new command did something at step 34 of 36: there.
        let a = s
            .clone()
            .apply(Action::ConsoleAccepted("load m 0 4".into()))
            .apply(Action::RunFinished {
                total: 36,
                lesson: None,
                latest: Some(34),
            });
        assert_eq!(a.step, Some(34));
        // It did nothing worth seeing: its end, where its result shows, not step 29 of an
        // earlier command.
        let b = s
            .apply(Action::ConsoleAccepted("load m 0 4".into()))
            .apply(Action::RunFinished {
                total: 33,
                lesson: None,
                latest: Some(29),
            });
        assert_eq!(b.step, Some(33));
    }

    #[test]
    fn a_run_opens_at_its_last_change_and_a_lesson_at_its_step() {
        let s = State::new().apply(Action::RunFinished {
            total: 19,
            lesson: None,
            latest: Some(18),
        });
        assert_eq!(
            s.step,
            Some(18),
            "the first run opens where data last moved"
        );
        let s = s.apply(Action::OpenLesson(Some(2)));
        assert_eq!(s.scenario, LESSONS[2].scenario);
        assert_eq!(s.arrive, Arrive::Lesson);
        let s = s.apply(Action::RunFinished {
            total: 40,
            lesson: Some(17),
            latest: Some(39),
        });
        assert_eq!((s.step, s.arrive), (Some(17), Arrive::Stay));
        // Moving about and the same run reported again changes nothing.
        let s = s.apply(Action::Jump(5)).apply(Action::RunFinished {
            total: 40,
            lesson: Some(17),
            latest: Some(39),
        });
        assert_eq!(s.step, Some(5));
        // The next run (an edit) opens at its last change, or its end.
        let s = s.apply(Action::Run).apply(Action::RunFinished {
            total: 41,
            lesson: Some(3),
            latest: None,
        });
        assert_eq!(s.step, None);
        let s = s
            .apply(Action::LessonDone("usage".into()))
            .apply(Action::OpenLesson(None));
        assert_eq!(s.done, vec!["usage".to_string()]);
        assert_eq!(s.apply(Action::OpenLesson(Some(99))).lesson, None);
    }

    #[test]
    fn a_link_restores_lesson_mode_selection_and_page() {
        let l = Link {
            scenario: "device x brd size=1M\n".into(),
            step: Some(1),
            lesson: Some(LESSONS[3].id.into()),
            compare: true,
            selection: Some(Selection::Vma("m".into())),
            page: Some(4097),
            race: None,
        };
        let s = State::new().apply(Action::Load(l.clone()));
        assert_eq!(s.lesson, Some(3));
        assert_eq!(s.arrive, Arrive::Stay, "a link keeps its step");
        assert!(s.compare);
        assert_eq!(s.link(), l);
        // Opening a page selects its frame; closing keeps the selection.
        let s = s
            .apply(Action::OpenPage(Some(77)))
            .apply(Action::OpenPage(None));
        assert_eq!((s.page, s.selection), (None, Some(Selection::Pfn(77))));
    }

    #[test]
    fn hex_toggles_per_line_and_a_new_run_resets_it() {
        let s = State::new().apply(Action::ToggleHex(6));
        assert!(s.hex.contains(&6));
        assert!(!s.apply(Action::ToggleHex(6)).hex.contains(&6));
        assert!(s.apply(Action::Run).hex.is_empty());
    }

    #[test]
    fn the_twin_drops_only_the_dax_option() {
        let t = page_cache_twin(
            "mount /dev/a /x -o dax\n  mount /dev/b /y -o ro,dax\nwrite f 0 \"-o dax\"",
        );
        assert_eq!(
            t,
            "mount /dev/a /x\nmount /dev/b /y -o ro\nwrite f 0 \"-o dax\""
        );
        let s = "device d brd size=1M\nmount /dev/d /x -o dax\n";
        assert_eq!(
            page_cache_twin(&format!("{s}sync\n")),
            format!("{}sync\n", page_cache_twin(s)),
            "a line added to the scenario is a line added to its twin"
        );
    }

    fn picks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_level_is_played_by_picks_undone_one_at_a_time_and_its_link_holds_them() {
        let s = State::new().apply(Action::SetMode(Mode::Races));
        assert_eq!((s.mode, s.playing_race()), (Mode::Races, None));
        let s = finished(s.apply(Action::OpenLevel(Some(0))), 17);
        assert_eq!(
            s.playing_race(),
            Some(&Race {
                level: 0,
                policy: Policy::V4_0,
                picks: vec![]
            })
        );
        let s = s.apply(Action::Jump(3)).apply(Action::Pick("a".into()));
        assert_eq!(s.step, None, "a pick shows its step");
        let s = s
            .apply(Action::Pick("b".into()))
            .apply(Action::Pick("b".into()));
        let s = s.apply(Action::Undo);
        assert_eq!(s.race.as_ref().map(|r| r.picks.clone()), Some(picks("a b")));
        let l = s.link();
        assert_eq!(crate::share::to_fragment(&l), "v2;r=r1;pk=a.b");
        let back = State::new().apply(Action::Load(l));
        assert_eq!(back.race, s.race);
        assert_eq!(back.mode, Mode::Races);
        // Another policy keeps the schedule, to replay it under the other locks.
        let s = s.apply(Action::SetPolicy(Policy::Fixed));
        assert_eq!(
            s.race.as_ref().map(|r| (r.policy, r.picks.clone())),
            Some((Policy::Fixed, picks("a b")))
        );
        let s = s.apply(Action::Undo).apply(Action::Undo);
        assert_eq!(s.apply(Action::Undo), s);
        // Back to the sandbox and to the race again: the level is kept.
        let s = s.apply(Action::SetMode(Mode::Sandbox));
        assert_eq!(s.playing_race(), None);
        assert!(crate::share::to_fragment(&s.link()).starts_with("v2;s="));
        assert_eq!(s.link().scenario, crate::boundary::FIRST_SCENARIO);
        assert!(s
            .apply(Action::SetMode(Mode::Races))
            .playing_race()
            .is_some());
        assert_eq!(State::new().apply(Action::OpenLevel(Some(99))).race, None);
    }

    #[test]
    fn a_replay_plays_from_its_step_and_a_refused_pick_is_trimmed() {
        let s = State::new()
            .apply(Action::OpenLevel(Some(0)))
            .apply(Action::Replay {
                picks: picks("a a b"),
                from: 17,
            });
        assert_eq!((s.step, s.playing), (Some(17), true));
        let s = s.apply(Action::TrimPicks(1));
        assert_eq!(s.race.as_ref().map(|r| r.picks.clone()), Some(picks("a")));
        let s = s.apply(Action::Finish(picks("a b b a")));
        assert_eq!((s.step, s.playing), (None, false));
        let s = s.apply(Action::Restart);
        assert_eq!(s.race.as_ref().map(|r| r.picks.len()), Some(0));
        let s = s
            .apply(Action::Won("r1".into()))
            .apply(Action::Won("r1".into()));
        assert_eq!(s.won, vec!["r1".to_string()]);
    }

    #[test]
    fn an_exploration_takes_only_its_own_replies_and_stops_when_cancelled() {
        let s = State::new().apply(Action::Explore(Search::Exhaustive));
        assert_eq!(s.explore, None, "nothing to explore outside a level");
        let s = State::new()
            .apply(Action::OpenLevel(Some(1)))
            .apply(Action::Explore(Search::Exhaustive));
        let x = s.explore.clone().expect("exploring");
        assert_eq!((x.id, x.level, x.status), (1, 1, ExploreStatus::Running));
        let found = |id, done, executions| {
            Action::Explored(Reply::Progress {
                id,
                findings: Report {
                    complete: done,
                    executions,
                    ..Report::default()
                },
                elapsed_ms: 5.0,
                done,
            })
        };
        let s = s.apply(found(1, false, 10)).apply(found(7, false, 99));
        let x = s.explore.clone().expect("exploring");
        assert_eq!(
            (x.findings.executions, x.updates),
            (10, 1),
            "a stale reply is ignored"
        );
        let done = s.apply(found(1, true, 20));
        assert_eq!(
            done.explore.as_ref().map(|x| x.status.clone()),
            Some(ExploreStatus::Done)
        );
        let cancelled = s.apply(Action::CancelExplore).apply(found(1, true, 20));
        let x = cancelled.explore.clone().expect("kept");
        assert_eq!(
            (x.status, x.findings.executions),
            (ExploreStatus::Cancelled, 10)
        );
        let again = cancelled.apply(Action::Explore(Search::Random { runs: 5, seed: 1 }));
        assert_eq!(again.explore.as_ref().map(|x| x.id), Some(2));
        let failed = again.apply(Action::Explored(Reply::Failed {
            id: 2,
            message: "no".into(),
        }));
        assert_eq!(
            failed.explore.map(|x| x.status),
            Some(ExploreStatus::Failed("no".into()))
        );
        // A new policy drops the exploration of the old one.
        assert_eq!(again.apply(Action::SetPolicy(Policy::None)).explore, None);
    }

    #[test]
    fn themes_cycle() {
        let s = State::new()
            .apply(Action::CycleTheme)
            .apply(Action::CycleTheme);
        assert_eq!(s.theme, Theme::Dark);
        assert_eq!(s.apply(Action::CycleTheme).theme, Theme::Auto);
    }
}
