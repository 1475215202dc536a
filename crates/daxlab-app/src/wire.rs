//! The messages between the page and the explorer's web worker, and their text form (what
//! `postMessage` carries). A message is a sequence of fields, each a number written `N,` or a
//! text written `LEN:TEXT` (LEN in bytes), so any text passes unescaped and a damaged message
//! is an error, never a panic. Pure: tested natively.

use crate::boundary::explore::{Found, Report, Search};

/// From the page to the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Explore `text` (dropping whatever was being explored).
    Start {
        /// Which exploration this is (replies carry it, so stale ones are ignored).
        id: u32,
        /// The scenario.
        text: String,
        /// How.
        search: Search,
        /// Stop after this many executions.
        max: u64,
    },
}

/// From the worker to the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The worker is loaded and listens.
    Ready,
    /// What exploration `id` has found so far.
    Progress {
        /// The exploration.
        id: u32,
        /// What it found.
        findings: Report,
        /// Milliseconds since it started (including the set-up), by `performance.now()`.
        elapsed_ms: f64,
        /// It is over (finished or stopped at its bound): no more replies for it.
        done: bool,
    },
    /// Exploration `id` could not start.
    Failed {
        /// The exploration.
        id: u32,
        /// Why.
        message: String,
    },
}

#[derive(Default)]
struct Writer(String);

impl Writer {
    fn num(&mut self, n: u64) -> &mut Self {
        self.0.push_str(&n.to_string());
        self.0.push(',');
        self
    }
    fn text(&mut self, t: &str) -> &mut Self {
        self.0.push_str(&t.len().to_string());
        self.0.push(':');
        self.0.push_str(t);
        self
    }
    fn texts(&mut self, ts: &[String]) -> &mut Self {
        self.num(ts.len() as u64);
        for t in ts {
            self.text(t);
        }
        self
    }
}

struct Reader<'a>(&'a str);

fn damaged() -> String {
    "a damaged message from the explorer".into()
}

impl Reader<'_> {
    /// Digits up to `end`.
    fn digits(&mut self, end: char) -> Result<u64, String> {
        let i = self.0.find(end).ok_or_else(damaged)?;
        let n = self.0[..i].parse().map_err(|_| damaged())?;
        self.0 = &self.0[i + 1..];
        Ok(n)
    }
    fn num(&mut self) -> Result<u64, String> {
        self.digits(',')
    }
    fn text(&mut self) -> Result<String, String> {
        let len = self.digits(':')? as usize;
        let t = self.0.get(..len).ok_or_else(damaged)?;
        self.0 = &self.0[len..];
        Ok(t.to_string())
    }
    fn texts(&mut self) -> Result<Vec<String>, String> {
        let n = self.num()?;
        // Each text takes at least two bytes: a longer list than that is damaged.
        if n as usize > self.0.len() {
            return Err(damaged());
        }
        (0..n).map(|_| self.text()).collect()
    }
    fn end(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(damaged())
        }
    }
}

impl Request {
    /// The message's text.
    pub fn encode(&self) -> String {
        let mut w = Writer::default();
        match self {
            Request::Start {
                id,
                text,
                search,
                max,
            } => {
                w.text("start").num(u64::from(*id)).text(text).num(*max);
                match search {
                    Search::Exhaustive => w.num(0),
                    Search::Random { runs, seed } => w.num(1).num(u64::from(*runs)).num(*seed),
                };
            }
        }
        w.0
    }

    /// Read a message's text.
    pub fn decode(s: &str) -> Result<Request, String> {
        let mut r = Reader(s);
        let r = &mut r;
        let req = match r.text()?.as_str() {
            "start" => Request::Start {
                id: u32::try_from(r.num()?).map_err(|_| damaged())?,
                text: r.text()?,
                max: r.num()?,
                search: match r.num()? {
                    0 => Search::Exhaustive,
                    1 => Search::Random {
                        runs: u32::try_from(r.num()?).map_err(|_| damaged())?,
                        seed: r.num()?,
                    },
                    _ => return Err(damaged()),
                },
            },
            _ => return Err(damaged()),
        };
        r.end()?;
        Ok(req)
    }
}

impl Reply {
    /// The message's text.
    pub fn encode(&self) -> String {
        let mut w = Writer::default();
        match self {
            Reply::Ready => {
                w.text("ready");
            }
            Reply::Progress {
                id,
                findings,
                elapsed_ms,
                done,
            } => {
                // Microseconds: a whole number, and finer than the browser's clock.
                w.text("progress")
                    .num(u64::from(*id))
                    .num((elapsed_ms * 1000.0).round().max(0.0) as u64)
                    .num(u64::from(*done))
                    .num(u64::from(findings.complete))
                    .num(findings.executions as u64)
                    .num(findings.pruned as u64)
                    .num(findings.outcomes.len() as u64);
                for o in &findings.outcomes {
                    w.texts(&o.violations)
                        .texts(&o.results)
                        .num(o.count as u64)
                        .texts(&o.schedule);
                }
            }
            Reply::Failed { id, message } => {
                w.text("failed").num(u64::from(*id)).text(message);
            }
        }
        w.0
    }

    /// Read a message's text.
    pub fn decode(s: &str) -> Result<Reply, String> {
        let mut r = Reader(s);
        let r = &mut r;
        let id = |r: &mut Reader<'_>| u32::try_from(r.num()?).map_err(|_| damaged());
        let reply = match r.text()?.as_str() {
            "ready" => Reply::Ready,
            "progress" => {
                let id = id(r)?;
                let elapsed_ms = r.num()? as f64 / 1000.0;
                let done = r.num()? != 0;
                let complete = r.num()? != 0;
                let executions = r.num()? as usize;
                let pruned = r.num()? as usize;
                let n = r.num()?;
                if n as usize > r.0.len() {
                    return Err(damaged());
                }
                let outcomes = (0..n)
                    .map(|_| {
                        Ok(Found {
                            violations: r.texts()?,
                            results: r.texts()?,
                            count: r.num()? as usize,
                            schedule: r.texts()?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Reply::Progress {
                    id,
                    findings: Report {
                        complete,
                        executions,
                        pruned,
                        outcomes,
                    },
                    elapsed_ms,
                    done,
                }
            }
            "failed" => Reply::Failed {
                id: id(r)?,
                message: r.text()?,
            },
            _ => return Err(damaged()),
        };
        r.end()?;
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress() -> Reply {
        Reply::Progress {
            id: 7,
            findings: Report {
                complete: true,
                executions: 1196,
                pruned: 3,
                outcomes: vec![
                    Found {
                        violations: vec![],
                        results: vec!["a line 12: ok  1".into(), "b line 15: ok  \"é:,\"".into()],
                        count: 1164,
                        schedule: vec![],
                    },
                    Found {
                        violations: vec!["store_lost".into()],
                        results: vec!["3:x".into()],
                        count: 32,
                        schedule: vec!["schedule a a b b b".into()],
                    },
                ],
            },
            elapsed_ms: 48.125,
            done: true,
        }
    }

    #[test]
    fn messages_round_trip_whatever_their_texts_hold() {
        let r = progress();
        assert_eq!(Reply::decode(&r.encode()), Ok(r));
        for r in [
            Reply::Ready,
            Reply::Failed {
                id: 1,
                message: "line 2, col 1: unknown command".into(),
            },
        ] {
            assert_eq!(Reply::decode(&r.encode()), Ok(r));
        }
        for search in [
            Search::Exhaustive,
            Search::Random {
                runs: 500,
                seed: u64::MAX,
            },
        ] {
            let q = Request::Start {
                id: 3,
                text: "thread a {\n  store m 0 \"1,2:3\"\n}\n".into(),
                search,
                max: 100_000,
            };
            assert_eq!(Request::decode(&q.encode()), Ok(q));
        }
    }

    #[test]
    fn a_damaged_message_is_an_error() {
        let good = progress().encode();
        // Every prefix, and the message with anything after it, is refused.
        for i in 0..good.len() {
            if good.is_char_boundary(i) {
                assert!(Reply::decode(&good[..i]).is_err(), "prefix {i}");
            }
        }
        assert!(Reply::decode(&format!("{good}1,")).is_err());
        assert!(Reply::decode("8:progress99999999999999999999,").is_err());
        assert!(Reply::decode("5:ready").is_ok());
        assert!(Reply::decode("5:hello").is_err());
        assert!(Reply::decode("8:progress1,0,1,1,0,0,999999999,").is_err());
        assert!(Request::decode("5:start1,0:5,9,").is_err());
        assert!(Request::decode("").is_err());
    }
}
