//! The application state and its reducer. No DOM here: the logic is tested natively. What the
//! machine looks like is not state: it is derived from the scenario and the step.

use std::rc::Rc;

use yew::Reducible;

use crate::boundary::Seek;
use crate::lessons::LESSONS;
use crate::share::Link;

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
                s.draft = l.scenario.clone();
                s.scenario = l.scenario;
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
                s.arrive = Arrive::Latest;
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
        }
        s
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
        Link {
            scenario: self.scenario.clone(),
            step: self.step,
            lesson: self.lesson.map(|i| LESSONS[i].id.to_string()),
            compare: self.compare,
            selection: self.selection.clone(),
            page: self.page,
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

    #[test]
    fn themes_cycle() {
        let s = State::new()
            .apply(Action::CycleTheme)
            .apply(Action::CycleTheme);
        assert_eq!(s.theme, Theme::Dark);
        assert_eq!(s.apply(Action::CycleTheme).theme, Theme::Auto);
    }
}
