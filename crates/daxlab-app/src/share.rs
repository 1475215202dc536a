//! The share link: the scenario and the step in the URL fragment, `#v1;t=STEP;s=BASE64URL`.
//! Pure functions; the app reads and writes `location.hash` with them.

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

/// A link's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The scenario text.
    pub scenario: String,
    /// The step (`None`: the end).
    pub step: Option<u32>,
}

/// The fragment for a link (without `#`).
pub fn to_fragment(l: &Link) -> String {
    let t = l.step.map(|s| format!("t={s};")).unwrap_or_default();
    format!("v1;{t}s={}", encode(l.scenario.as_bytes()))
}

/// Read a fragment (with or without `#`). An empty fragment is `Ok(None)`; anything malformed
/// is an error that says what is wrong with it.
pub fn from_fragment(f: &str) -> Result<Option<Link>, String> {
    let f = f.trim_start_matches('#');
    if f.is_empty() {
        return Ok(None);
    }
    let mut parts = f.split(';');
    if parts.next() != Some("v1") {
        return Err("the link is not a DAX Lab link (it should start with #v1;)".into());
    }
    let (mut scenario, mut step) = (None, None);
    for p in parts {
        match p.split_once('=') {
            Some(("s", v)) => {
                let bytes = decode(v).ok_or("the scenario in the link is damaged (bad base64)")?;
                scenario = Some(
                    String::from_utf8(bytes).map_err(|_| "the scenario in the link is not text")?,
                );
            }
            Some(("t", v)) => {
                step = Some(
                    v.parse::<u32>()
                        .map_err(|_| format!("the step \"{v}\" in the link is not a number"))?,
                )
            }
            _ => return Err(format!("the link has an unknown part \"{p}\"")),
        }
    }
    let scenario = scenario.ok_or("the link has no scenario (s=)")?;
    Ok(Some(Link { scenario, step }))
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
            };
            assert_eq!(from_fragment(&to_fragment(&l)), Ok(Some(l)));
        }
    }

    #[test]
    fn tampered_links_are_errors() {
        assert_eq!(from_fragment(""), Ok(None));
        assert!(from_fragment("#v2;s=YQ").is_err());
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
