//! Completion in the console: the parser says what it wants where the line ends (a command, a
//! device kind, a device of the scenario, a descriptor, a mapping...), and the word being typed
//! is completed from those choices. Pure; tested natively.

use daxlab_core::lang::parse::{want_at_end, ScenarioNames, Want};

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
        Want::Words(_) => "word",
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
                note: format!("{n} choices of {kind}: {}.", fits.join(", ")),
                choices: fits,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daxlab_core::lang::parse::parse;

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
        assert!(u.note.starts_with("2 choices of command"));
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
