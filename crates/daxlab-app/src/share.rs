//! The share link: the scenario and what is shown of it in the URL fragment,
//! `#v2;l=LESSON;c=1;t=STEP;sel=SELECTION;pg=PFN;s=BASE64URL` (every part but `s` optional).
//! In the race lab the level, the lock policy and the learner's picks take the scenario's
//! place: `#v2;r=LEVEL;lk=POLICY;pk=a.a.b;t=STEP` (`r=` alone is the list of levels; `lk`
//! is omitted for 4.0 and `pk` when nothing was picked). Links of the first version
//! (`#v1;t=STEP;s=...`) still open. Pure functions; the app reads and writes `location.hash`
//! with them.

use crate::boundary::race::{self, Policy};
use crate::state::Selection;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            s.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    s
}

/// Decode base64url without padding; `None` on any bad character or length.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let vals: Option<Vec<u32>> = s
        .bytes()
        .map(|c| ALPHABET.iter().position(|a| *a == c).map(|v| v as u32))
        .collect();
    let vals = vals?;
    if vals.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(vals.len() * 3 / 4);
    for chunk in vals.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// A link's content: the scenario and everything needed to see it as the sender did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    /// The scenario text.
    pub scenario: String,
    /// The step (`None`: the end).
    pub step: Option<u32>,
    /// The open lesson, by id.
    pub lesson: Option<String>,
    /// Page cache and DAX side by side.
    pub compare: bool,
    /// The selection.
    pub selection: Option<Selection>,
    /// The frame whose contents are open.
    pub page: Option<u64>,
    /// The race lab, instead of a scenario.
    pub race: Option<RaceLink>,
}

/// The race lab's part of a link.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaceLink {
    /// The level being played, by id (`None`: the list of levels).
    pub level: Option<String>,
    /// Its lock policy.
    pub policy: Policy,
    /// The thread of each step the learner chose.
    pub picks: Vec<String>,
}

/// A thread name as the scenario language allows it: `[a-z][a-z0-9_]*`.
fn is_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

fn selection_part(s: &Selection) -> String {
    match s {
        Selection::Pfn(p) => format!("p{p}"),
        Selection::Device(d) => format!("d{d}"),
        Selection::File(i) => format!("f{i}"),
        Selection::Vma(m) => format!("m{m}"),
    }
}

fn parse_selection(v: &str) -> Option<Selection> {
    let (k, rest) = v.split_at_checked(1)?;
    let name = || {
        (!rest.is_empty() && rest.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
            .then(|| rest.to_string())
    };
    match k {
        "p" => rest.parse().ok().map(Selection::Pfn),
        "f" => rest.parse().ok().map(Selection::File),
        "d" => name().map(Selection::Device),
        "m" => name().map(Selection::Vma),
        _ => None,
    }
}

/// The fragment for a link (without `#`): `v2;` then `key=value` parts separated by `;`.
pub fn to_fragment(l: &Link) -> String {
    let mut f = String::from("v2;");
    if let Some(r) = &l.race {
        f.push_str(&format!("r={};", r.level.as_deref().unwrap_or_default()));
        if r.policy != Policy::V4_0 {
            f.push_str(&format!("lk={};", r.policy.name()));
        }
        if !r.picks.is_empty() {
            f.push_str(&format!("pk={};", r.picks.join(".")));
        }
    }
    if let Some(id) = &l.lesson {
        f.push_str(&format!("l={id};"));
    }
    if l.compare {
        f.push_str("c=1;");
    }
    if let Some(s) = l.step {
        f.push_str(&format!("t={s};"));
    }
    if let Some(s) = &l.selection {
        f.push_str(&format!("sel={};", selection_part(s)));
    }
    if let Some(p) = l.page {
        f.push_str(&format!("pg={p};"));
    }
    if l.race.is_some() {
        // The level is the scenario.
        f.pop();
        return f;
    }
    f.push_str("s=");
    f.push_str(&encode(l.scenario.as_bytes()));
    f
}

/// Read a fragment (with or without `#`), of this version or of the first (`v1`: scenario and
/// step only). An empty fragment is `Ok(None)`; anything malformed is an error that says what
/// is wrong with it.
pub fn from_fragment(f: &str) -> Result<Option<Link>, String> {
    let f = f.trim_start_matches('#');
    if f.is_empty() {
        return Ok(None);
    }
    let mut parts = f.split(';');
    let v2 = match parts.next() {
        Some("v1") => false,
        Some("v2") => true,
        _ => {
            return Err("the link is not a DAX Lab link (it should start with #v2; or #v1;)".into())
        }
    };
    let mut l = Link::default();
    let mut scenario = None;
    for p in parts {
        let bad = || format!("the link has an unknown part \"{p}\"");
        match p.split_once('=') {
            Some(("s", v)) => {
                let bytes = decode(v).ok_or("the scenario in the link is damaged (bad base64)")?;
                scenario = Some(
                    String::from_utf8(bytes).map_err(|_| "the scenario in the link is not text")?,
                );
            }
            Some(("t", v)) => {
                l.step = Some(
                    v.parse::<u32>()
                        .map_err(|_| format!("the step \"{v}\" in the link is not a number"))?,
                )
            }
            Some(("l", v)) if v2 => l.lesson = Some(v.to_string()),
            Some(("c", v)) if v2 => l.compare = v == "1",
            Some(("sel", v)) if v2 => {
                l.selection = Some(
                    parse_selection(v)
                        .ok_or_else(|| format!("the selection \"{v}\" in the link is damaged"))?,
                )
            }
            Some(("r", v)) if v2 => {
                let level = (!v.is_empty()).then(|| v.to_string());
                if let Some(id) = &level {
                    race::level_index(id).ok_or_else(|| {
                        format!("the race level \"{id}\" in the link does not exist")
                    })?;
                }
                l.race.get_or_insert_with(RaceLink::default).level = level;
            }
            Some(("lk", v)) if v2 => {
                l.race.get_or_insert_with(RaceLink::default).policy = Policy::from_name(v)
                    .ok_or_else(|| {
                        format!("the lock policy \"{v}\" in the link is not 4.0, none or fixed")
                    })?;
            }
            Some(("pk", v)) if v2 => {
                let picks: Vec<String> = v.split('.').map(str::to_string).collect();
                if !picks.iter().all(|p| is_name(p)) {
                    return Err(format!("the schedule \"{v}\" in the link is damaged"));
                }
                l.race.get_or_insert_with(RaceLink::default).picks = picks;
            }
            Some(("pg", v)) if v2 => {
                l.page = Some(
                    v.parse()
                        .map_err(|_| format!("the page \"{v}\" in the link is not a number"))?,
                )
            }
            _ => return Err(bad()),
        }
    }
    match (&l.race, scenario) {
        (Some(r), _) if r.level.is_none() && !r.picks.is_empty() => {
            return Err("the link has a schedule but no race level (r=)".into())
        }
        (Some(_), Some(_)) => return Err("the link has both a race level and a scenario".into()),
        (Some(_), None) => {}
        (None, s) => l.scenario = s.ok_or("the link has no scenario (s=)")?,
    }
    Ok(Some(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "device pmem0 brd size=64M\nmount /dev/pmem0 /mnt -o dax\n\u{e9}",
        ] {
            assert_eq!(decode(&encode(s.as_bytes())).as_deref(), Some(s.as_bytes()));
            let l = Link {
                scenario: s.to_string(),
                step: Some(7),
                ..Link::default()
            };
            assert_eq!(from_fragment(&to_fragment(&l)), Ok(Some(l)));
        }
    }

    #[test]
    fn everything_shown_round_trips() {
        for selection in [
            Selection::Pfn(4100),
            Selection::Device("pmem0".into()),
            Selection::File(12),
            Selection::Vma("m".into()),
        ] {
            let l = Link {
                scenario: "device pmem0 brd size=64M\n".into(),
                step: Some(3),
                lesson: Some("filesystems".into()),
                compare: true,
                selection: Some(selection),
                page: Some(4100),
                race: None,
            };
            let f = to_fragment(&l);
            assert!(f.starts_with("v2;l=filesystems;c=1;t=3;sel="), "{f}");
            assert_eq!(from_fragment(&f), Ok(Some(l)));
        }
    }

    #[test]
    fn old_links_still_open() {
        let l = from_fragment("#v1;t=5;s=YQ").expect("v1").expect("link");
        assert_eq!(
            (l.scenario.as_str(), l.step, l.compare),
            ("a", Some(5), false)
        );
        assert!(
            from_fragment("#v1;c=1;s=YQ").is_err(),
            "v1 had no side by side"
        );
    }

    #[test]
    fn a_race_link_holds_the_level_the_policy_and_the_picks() {
        let l = Link {
            step: Some(30),
            race: Some(RaceLink {
                level: Some("r3".into()),
                policy: Policy::Fixed,
                picks: vec!["p".into(), "p".into(), "q".into()],
            }),
            ..Link::default()
        };
        let f = to_fragment(&l);
        assert_eq!(f, "v2;r=r3;lk=fixed;pk=p.p.q;t=30");
        assert_eq!(from_fragment(&f), Ok(Some(l)));
        let list = Link {
            race: Some(RaceLink::default()),
            ..Link::default()
        };
        assert_eq!(to_fragment(&list), "v2;r=");
        assert_eq!(from_fragment("#v2;r="), Ok(Some(list)));
        assert!(from_fragment("#v2;r=r9").unwrap_err().contains("\"r9\""));
        assert!(from_fragment("#v2;r=r1;lk=5.0")
            .unwrap_err()
            .contains("lock policy"));
        assert!(from_fragment("#v2;r=r1;pk=a..b")
            .unwrap_err()
            .contains("schedule"));
        assert!(from_fragment("#v2;r=r1;pk=A").is_err());
        assert!(from_fragment("#v2;r=;pk=a").is_err());
        assert!(from_fragment("#v2;r=r1;s=YQ").is_err());
        assert!(from_fragment("#v1;r=r1").is_err(), "v1 had no race lab");
    }

    #[test]
    fn tampered_links_are_errors() {
        assert_eq!(from_fragment(""), Ok(None));
        assert!(from_fragment("#v3;s=YQ").is_err());
        assert!(from_fragment("#v2;sel=x1;s=YQ")
            .unwrap_err()
            .contains("selection"));
        assert!(from_fragment("#v2;sel=d;s=YQ").is_err());
        assert!(from_fragment("#v2;pg=-1;s=YQ").is_err());
        assert!(from_fragment("#v1;s=Y").is_err());
        assert!(from_fragment("#v1;s=!!").is_err());
        assert!(from_fragment("#v1;t=x;s=YQ")
            .unwrap_err()
            .contains("not a number"));
        assert!(from_fragment("#v1;t=3")
            .unwrap_err()
            .contains("no scenario"));
        assert!(from_fragment("#v1;s=__8").is_err(), "not UTF-8");
    }
}
