//! The application state and its reducer. No DOM here: the logic is tested natively.

use std::rc::Rc;

use yew::Reducible;

/// What the inspector shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// A device by name.
    Device(String),
    /// A file by inode number.
    File(u64),
}

/// Everything the user has chosen; what the machine looks like is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The scenario text being edited.
    pub draft: String,
    /// The scenario text that was last run.
    pub scenario: String,
    /// The step shown (`None`: the end of the run).
    pub step: Option<u32>,
    /// The inspected item.
    pub selection: Option<Selection>,
}

impl Default for State {
    fn default() -> Self {
        let s = crate::boundary::FIRST_SCENARIO.to_string();
        State {
            draft: s.clone(),
            scenario: s,
            step: None,
            selection: None,
        }
    }
}

/// Things the user does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Edit the scenario text.
    Edit(String),
    /// Run the edited scenario from the start, showing its end.
    Run,
    /// Show a step of the run.
    Jump {
        /// The step wanted.
        step: u32,
        /// Steps in the run (the step is clamped to it).
        total: u32,
    },
    /// Inspect something (or nothing).
    Select(Option<Selection>),
}

impl State {
    /// The pure transition function.
    pub fn apply(&self, action: Action) -> State {
        let mut s = self.clone();
        match action {
            Action::Edit(text) => s.draft = text,
            Action::Run => {
                s.scenario = s.draft.clone();
                s.step = None;
                s.selection = None;
            }
            Action::Jump { step, total } => s.step = Some(step.min(total)),
            Action::Select(sel) => s.selection = sel,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_does_not_run_until_asked() {
        let s = State::default().apply(Action::Edit("device x brd size=1M".into()));
        assert_ne!(s.scenario, s.draft);
        let s = s
            .apply(Action::Jump { step: 3, total: 10 })
            .apply(Action::Run);
        assert_eq!(s.scenario, "device x brd size=1M");
        assert_eq!(s.step, None, "a new run shows its end");
    }

    #[test]
    fn jumps_are_clamped_to_the_run() {
        let s = State::default().apply(Action::Jump {
            step: 99,
            total: 12,
        });
        assert_eq!(s.step, Some(12));
    }

    #[test]
    fn selection_is_cleared_by_a_new_run() {
        let s = State::default()
            .apply(Action::Select(Some(Selection::File(12))))
            .apply(Action::Run);
        assert_eq!(s.selection, None);
    }
}
