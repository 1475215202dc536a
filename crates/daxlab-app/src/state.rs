//! The application state and its reducer. No DOM here: the logic is tested natively. What the
//! machine looks like is not state: it is derived from the scenario and the step.

use std::collections::BTreeSet;
use std::rc::Rc;

use yew::Reducible;

use crate::lessons::LESSONS;

/// What is selected: the views highlight it and the inspector shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Everything the user has chosen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// The scenario text in the editor.
    pub draft: String,
    /// The scenario that runs.
    pub scenario: String,
    /// The step shown (`None`: the end of the run).
    pub step: Option<u32>,
    /// The selected thing.
    pub selection: Option<Selection>,
    /// Page cache and DAX side by side.
    pub compare: bool,
    /// Playing the steps.
    pub playing: bool,
    /// Steps per second when playing.
    pub speed: u32,
    /// Console lines entered, oldest first.
    pub history: Vec<String>,
    /// The console's last error.
    pub console_error: Option<String>,
    /// The open lesson.
    pub lesson: Option<usize>,
    /// Ids of completed lessons.
    pub done: BTreeSet<String>,
    /// Theme.
    pub theme: Theme,
    /// Large fonts for a lecture hall.
    pub presentation: bool,
    /// The keyboard help is open.
    pub help: bool,
    /// A message for the user (e.g. about a bad link).
    pub notice: Option<String>,
}

/// Things the user (or the app, on their behalf) does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start from a scenario (first load, a link, a lesson), optionally at a step.
    Load {
        /// Scenario text.
        scenario: String,
        /// Step.
        step: Option<u32>,
    },
    /// Edit the scenario text.
    Edit(String),
    /// Run the edited scenario, showing its end.
    Run,
    /// Show a step, clamped to the run.
    Jump {
        /// The step wanted.
        step: u32,
        /// Steps in the run.
        total: u32,
    },
    /// Move by `delta` steps from `from`.
    StepBy {
        /// The step shown now.
        from: u32,
        /// How far (negative: back).
        delta: i64,
        /// Steps in the run.
        total: u32,
    },
    /// Play or pause.
    SetPlaying(bool),
    /// Steps per second.
    SetSpeed(u32),
    /// Select (or clear).
    Select(Option<Selection>),
    /// Switch between single and side by side.
    ToggleCompare,
    /// A console line was accepted: append it to the scenario and run.
    ConsoleAccepted(String),
    /// A console line was refused.
    ConsoleError(String),
    /// Open a lesson (loads its scenario) or close it.
    OpenLesson(Option<usize>),
    /// A lesson's goal was reached.
    LessonDone(String),
    /// Progress restored from storage.
    RestoreProgress(BTreeSet<String>),
    /// Next theme (auto → light → dark).
    CycleTheme,
    /// Presentation mode on or off.
    TogglePresentation,
    /// Keyboard help on or off.
    ToggleHelp,
    /// Show a notice.
    Notice(Option<String>),
}

impl State {
    /// The initial state: the first scenario at its end.
    pub fn new() -> Self {
        State {
            draft: crate::boundary::FIRST_SCENARIO.into(),
            scenario: crate::boundary::FIRST_SCENARIO.into(),
            speed: 4,
            ..State::default()
        }
    }

    /// The pure transition function.
    pub fn apply(&self, action: Action) -> State {
        let mut s = self.clone();
        match action {
            Action::Load { scenario, step } => {
                s.draft = scenario.clone();
                s.scenario = scenario;
                s.step = step;
                s.selection = None;
                s.playing = false;
            }
            Action::Edit(text) => s.draft = text,
            Action::Run => {
                s.scenario = s.draft.clone();
                s.step = None;
                s.selection = None;
                s.playing = false;
            }
            Action::Jump { step, total } => s.step = Some(step.min(total)),
            Action::StepBy { from, delta, total } => {
                let to = (i64::from(from) + delta).clamp(0, i64::from(total)) as u32;
                s.step = Some(to);
                if to == total && delta > 0 {
                    s.playing = false;
                }
            }
            Action::SetPlaying(p) => s.playing = p,
            Action::SetSpeed(v) => s.speed = v.clamp(1, 60),
            Action::Select(sel) => s.selection = sel,
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
                s.console_error = None;
                if s.history.last() != Some(&line) {
                    s.history.push(line);
                }
            }
            Action::ConsoleError(e) => s.console_error = Some(e),
            Action::OpenLesson(i) => {
                s.lesson = i.filter(|i| *i < LESSONS.len());
                if let Some(l) = s.lesson.map(|i| &LESSONS[i]) {
                    s.draft = l.scenario.into();
                    s.scenario = l.scenario.into();
                    s.step = None;
                    s.selection = None;
                    s.playing = false;
                }
            }
            Action::LessonDone(id) => {
                s.done.insert(id);
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
        }
        s
    }
}

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(self.apply(action))
    }
}

/// The same scenario with every `-o dax` removed: the page-cache twin for side by side.
pub fn page_cache_twin(scenario: &str) -> String {
    scenario
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
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_does_not_run_until_asked() {
        let s = State::new().apply(Action::Edit("device x brd size=1M".into()));
        assert_ne!(s.scenario, s.draft);
        let s = s
            .apply(Action::Jump { step: 3, total: 10 })
            .apply(Action::Run);
        assert_eq!(s.scenario, "device x brd size=1M");
        assert_eq!(s.step, None, "a new run shows its end");
    }

    #[test]
    fn stepping_is_clamped_and_playing_stops_at_the_end() {
        let s = State::new().apply(Action::SetPlaying(true));
        let s = s.apply(Action::StepBy {
            from: 9,
            delta: 5,
            total: 12,
        });
        assert_eq!((s.step, s.playing), (Some(12), false));
        let s = s.apply(Action::StepBy {
            from: 2,
            delta: -5,
            total: 12,
        });
        assert_eq!(s.step, Some(0));
        assert_eq!(
            State::new()
                .apply(Action::Jump {
                    step: 99,
                    total: 12
                })
                .step,
            Some(12)
        );
    }

    #[test]
    fn console_lines_append_to_the_scenario_and_enter_history_once() {
        let s = State::new().apply(Action::ConsoleError("x".into()));
        let s = s
            .apply(Action::ConsoleAccepted("drop_caches".into()))
            .apply(Action::ConsoleAccepted("drop_caches".into()));
        assert!(s.scenario.ends_with("drop_caches\ndrop_caches\n"));
        assert_eq!(s.history, vec!["drop_caches".to_string()]);
        assert_eq!(s.console_error, None);
    }

    #[test]
    fn a_lesson_loads_its_scenario_and_progress_is_kept() {
        let s = State::new().apply(Action::OpenLesson(Some(2)));
        assert_eq!(s.scenario, LESSONS[2].scenario);
        let s = s
            .apply(Action::LessonDone("usage".into()))
            .apply(Action::OpenLesson(None));
        assert!(s.done.contains("usage"));
        assert_eq!(s.apply(Action::OpenLesson(Some(99))).lesson, None);
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
