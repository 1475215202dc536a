//! The console's line: history, and completion, where the parser says what it wants where the
//! line ends (a command, a device kind, a device of the scenario, a descriptor, a mapping...)
//! and the word being typed is completed from those choices. Pure; tested natively.

use daxlab_core::lang::parse::{self, want_at_end, ScenarioNames, Want};

use crate::state::Action;

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

/// The line being typed, and what the keys leave around it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prompt {
    /// The text.
    pub text: String,
    /// Where in the history ↑ and ↓ are.
    pub pos: Option<usize>,
    /// The choices Tab listed.
    pub choices: Vec<String>,
    /// What Tab said.
    pub note: String,
}

impl Prompt {
    /// The same prompt with other text, its choices gone.
    pub fn with(&self, text: String) -> Prompt {
        Prompt {
            text,
            choices: Vec::new(),
            ..self.clone()
        }
    }

    /// A choice replaces the word being typed.
    pub fn pick(&self, choice: &str) -> Prompt {
        let head = match self.text.rfind(char::is_whitespace) {
            Some(i) => &self.text[..=i],
            None => "",
        };
        self.with(format!("{head}{choice} "))
    }

    /// What a key does: the new prompt and what to tell the app, or `None` when the key is
    /// not the console's (it keeps its usual meaning: an empty line lets Tab move on).
    pub fn key(
        &self,
        key: &str,
        scenario: &str,
        names: Option<&ScenarioNames>,
        history: &[String],
    ) -> Option<(Prompt, Option<Action>)> {
        match key {
            "Enter" => {
                let l = self.text.trim().to_string();
                if l.is_empty() {
                    return None;
                }
                Some(match check_line(scenario, &l) {
                    Ok(()) => (Prompt::default(), Some(Action::ConsoleAccepted(l))),
                    Err(m) => (self.clone(), Some(Action::ConsoleError(Some(m)))),
                })
            }
            "ArrowUp" if !history.is_empty() => {
                let i = self.pos.map_or(history.len() - 1, |i| i.saturating_sub(1));
                Some((
                    Prompt {
                        pos: Some(i),
                        ..self.with(history[i].clone())
                    },
                    None,
                ))
            }
            "ArrowDown" if self.pos.is_some() => {
                let i = self.pos.unwrap_or(0) + 1;
                Some(if i >= history.len() {
                    (Prompt::default(), None)
                } else {
                    (
                        Prompt {
                            pos: Some(i),
                            ..self.with(history[i].clone())
                        },
                        None,
                    )
                })
            }
            "Tab" if !self.text.trim().is_empty() => {
                let parsed;
                let n = match names {
                    Some(n) => n,
                    None => {
                        parsed = parse::parse(scenario)
                            .map(|s| ScenarioNames::of(&s))
                            .unwrap_or_default();
                        &parsed
                    }
                };
                let c = complete(&self.text, n);
                Some((
                    Prompt {
                        text: c.line,
                        pos: self.pos,
                        choices: c.choices,
                        note: c.note,
                    },
                    None,
                ))
            }
            "Escape" => Some((self.with(self.text.clone()), None)),
            _ => None,
        }
    }
}

/// What Tab does to a console line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The line after completion (the same line when nothing could be added).
    pub line: String,
    /// The choices, when more than one fits what is typed.
    pub choices: Vec<String>,
    /// A sentence for the learner (and for screen readers).
    pub note: String,
}

fn what(w: Want) -> &'static str {
    match w {
        Want::Command => "command",
        Want::Words(_) => "choice",
        Want::Device | Want::DevPath => "device",
        Want::Fd => "descriptor",
        Want::Map => "mapping",
        Want::Thread => "thread",
        Want::Path => "path",
        Want::Value => "value",
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut n = first.len();
    for w in &words[1..] {
        n = n.min(
            first
                .bytes()
                .zip(w.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first[..n].to_string()
}

/// Complete the last word of `line` with what the parser wants there, from the names the
/// scenario defines.
pub fn complete(line: &str, names: &ScenarioNames) -> Completion {
    let split = line
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let (head, partial) = line.split_at(split);
    let want = if head.trim().is_empty() {
        Some(Want::Command)
    } else {
        want_at_end(head)
    };
    let same = |note: String| Completion {
        line: line.to_string(),
        choices: Vec::new(),
        note,
    };
    let Some(want) = want else {
        return same("Nothing to complete here: the command is complete, or wants a value.".into());
    };
    let kind = what(want);
    if want == Want::Value {
        return same("Nothing to complete here: type a number, a size (4K, 1M) or data.".into());
    }
    let all = names.candidates(want);
    if all.is_empty() {
        return same(format!(
            "The scenario defines no {kind} yet: nothing to complete."
        ));
    }
    let fits: Vec<String> = all.into_iter().filter(|c| c.starts_with(partial)).collect();
    match fits.len() {
        0 => same(format!("No {kind} starts with \"{partial}\".")),
        1 => Completion {
            line: format!("{head}{} ", fits[0]),
            choices: Vec::new(),
            note: format!("Completed the {kind} {}.", fits[0]),
        },
        n => {
            let prefix = common_prefix(&fits);
            Completion {
                line: format!(
                    "{head}{}",
                    if prefix.len() > partial.len() {
                        &prefix
                    } else {
                        partial
                    }
                ),
                note: format!("{n} choices: {}.", fits.join(", ")),
                choices: fits,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daxlab_core::lang::parse::parse;

    #[test]
    fn console_errors_name_the_column_of_the_line() {
        assert_eq!(
            check_line("device x brd size=1M\n", "mmpa m"),
            Err("col 1: unknown command \"mmpa\"; did you mean \"mmap\"?".into())
        );
        assert_eq!(check_line("device x brd size=1M", "drop_caches"), Ok(()));
    }

    #[test]
    fn the_prompt_keeps_history_completes_and_picks() {
        let scenario = "device pmem0 brd size=64M\n";
        let history = vec!["sync".to_string(), "drop_caches".to_string()];
        let p = Prompt::default();
        assert_eq!(
            p.key("Enter", scenario, None, &history),
            None,
            "nothing to run"
        );
        assert_eq!(
            p.key("Tab", scenario, None, &history),
            None,
            "an empty line lets Tab move on"
        );
        let (up, _) = p.key("ArrowUp", scenario, None, &history).expect("history");
        assert_eq!(up.text, "drop_caches");
        let (up, _) = up
            .key("ArrowUp", scenario, None, &history)
            .expect("history");
        assert_eq!(up.text, "sync");
        let (down, _) = up
            .key("ArrowDown", scenario, None, &history)
            .expect("history");
        assert_eq!(down.text, "drop_caches");
        let (out, _) = down
            .key("ArrowDown", scenario, None, &history)
            .expect("history");
        assert_eq!(out, Prompt::default());
        let (t, _) = p
            .with("direct_access p".into())
            .key("Tab", scenario, None, &history)
            .expect("completes");
        assert_eq!(t.text, "direct_access pmem0 ");
        let (k, _) = p
            .with("device x d".into())
            .key("Tab", scenario, None, &history)
            .expect("lists");
        assert_eq!(k.choices, vec!["dcssblk", "disk"]);
        assert_eq!(k.pick("disk").text, "device x disk ");
        assert!(k.pick("disk").choices.is_empty());
        let (bad, a) = p
            .with("mmpa".into())
            .key("Enter", scenario, None, &history)
            .expect("refused");
        assert_eq!(bad.text, "mmpa");
        assert!(matches!(a, Some(Action::ConsoleError(Some(_)))));
        let (ok, a) = p
            .with("sync ".into())
            .key("Enter", scenario, None, &history)
            .expect("runs");
        assert_eq!(ok, Prompt::default());
        assert_eq!(a, Some(Action::ConsoleAccepted("sync".into())));
    }

    fn names() -> ScenarioNames {
        ScenarioNames::of(
            &parse(
                "device pmem0 brd size=64M\ndevice pc0 brd size=64M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /mnt/dax -o dax\nopen f /mnt/dax/a create\nopen g /mnt/dax/b create\nmmap m f 0 4K shared rw\n",
            )
            .expect("valid"),
        )
    }

    #[test]
    fn command_words() {
        let n = ScenarioNames::default();
        assert_eq!(complete("mma", &n).line, "mmap ");
        assert_eq!(complete("dr", &n).line, "drop_caches ");
        let u = complete("u", &n);
        assert_eq!(u.line, "u");
        assert_eq!(u.choices, vec!["umount", "unlink"]);
        assert_eq!(u.note, "2 choices: umount, unlink.");
        assert!(complete("zz", &n)
            .note
            .contains("No command starts with \"zz\""));
    }

    #[test]
    fn arguments_from_the_parser_and_the_scenario() {
        let n = names();
        // Device kinds: an ambiguous prefix lists the choices.
        let k = complete("device x ", &n);
        assert_eq!(
            k.choices,
            vec!["brd", "axonram", "dcssblk", "window", "stall", "disk"]
        );
        assert_eq!(complete("device x d", &n).choices, vec!["dcssblk", "disk"]);
        assert_eq!(complete("device x a", &n).line, "device x axonram ");
        // Devices, as /dev/NAME and as names.
        assert_eq!(
            complete("mkfs ext2 /dev/pc", &n).line,
            "mkfs ext2 /dev/pc0 "
        );
        assert_eq!(
            complete("direct_access p", &n).choices,
            vec!["pmem0", "pc0"]
        );
        assert_eq!(
            complete("direct_access pm", &n).line,
            "direct_access pmem0 "
        );
        // Descriptors and mappings.
        assert_eq!(complete("read ", &n).choices, vec!["f", "g"]);
        assert_eq!(complete("load ", &n).line, "load m ");
        assert_eq!(complete("expect read g", &n).line, "expect read g ");
        // Filesystems, sharing and protection words.
        assert_eq!(complete("mkfs ext", &n).choices, vec!["ext2", "ext4"]);
        assert_eq!(
            complete("mmap m2 f 0 4K sh", &n).line,
            "mmap m2 f 0 4K shared "
        );
        // Values are not guessed.
        assert!(complete("read f ", &n).note.contains("Nothing to complete"));
    }
}
