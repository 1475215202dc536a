//! The race lab: the list of levels; a level's story, goal and lock-policy switch; the threads,
//! one card each, with the button (and key) that runs its next step, its program, kernel call
//! stack and what its next step will do; the locks; and the explorer, whose outcomes replay in
//! the views. Everything shown comes from a [`Game`] or an [`Exploration`]; every change goes
//! to the reducer.

use yew::prelude::*;

use super::send;
use crate::boundary::explore::{Found, Search};
use crate::boundary::race::{
    self, Game, Level, LineState, LockRow, Policy, Standing, ThreadCard, ThreadState,
};
use crate::state::{Action, Exploration, ExploreStatus, Race};

/// The random mode's runs and seed (a fixed seed: the same runs for everyone, reproducible).
const RANDOM: Search = Search::Random {
    runs: 1000,
    seed: 1,
};

/// What the race lab is, and its levels.
pub fn home(won: &[String], dispatch: &Callback<Action>) -> Html {
    html! {
        <section class="panel races-home" aria-labelledby="races-title">
            <h2 id="races-title" tabindex="-1">{ "Race lab: be the scheduler, break Linux 4.0" }</h2>
            <p>{ "dax.txt's locking section in one sentence: get_block can hand back new or uninitialised blocks, and a page fault can race a read(), a write(), another fault or a truncate, with no page lock to stop it. Each level is one such race, on the kernel's own paths." }</p>
            <p>{ "You choose which thread runs each next step. Each thread shows its kernel call stack and what its next step will do; the locks show who holds what. Break the level's invariant to win, switch to the later kernels' locking to see the fix hold, and let the explorer try every interleaving by itself." }</p>
            <ol class="levels">
                { for (0..race::level_count()).filter_map(race::level).enumerate().map(|(i, l)| html! {
                    <li>
                        <button class="level-card" id={format!("level-{i}")} onclick={send::<MouseEvent>(dispatch, Action::OpenLevel(Some(i)))}>
                            <span class="lid">{ l.id.to_ascii_uppercase() }</span>
                            <strong>{ l.title }</strong>
                            <span class="lgoal">{ format!("Goal: {}", l.goal) }</span>
                            <span class="lfix">{ format!("fixed by {}", l.commit) }</span>
                            if won.iter().any(|w| w == l.id) { <span class="badge yes">{ "✓ won" }</span> }
                        </button>
                    </li>
                }) }
            </ol>
        </section>
    }
}

/// The level: title, goal, the lock-policy switch, how the game stands, the story and the fix.
pub fn level_panel(l: &Level, r: &Race, g: &Game, dispatch: &Callback<Action>) -> Html {
    let next = (r.level + 1 < race::level_count()).then_some(r.level + 1);
    html! {
        <section class="panel level" aria-labelledby="level-title">
            <h2 id="level-title" tabindex="-1">{ format!("{} · {}", l.id.to_ascii_uppercase(), l.title) }</h2>
            <p class="goal-line"><strong>{ "Goal: " }</strong>{ l.goal }{ " " }<span class="badge no">{ format!("breaks {}", l.win.name()) }</span></p>
            <div class="policy" role="group" aria-label="Lock policy">
                <span class="sub">{ "locking" }</span>
                { for Policy::ALL.iter().map(|p| html! {
                    <button aria-pressed={(*p == r.policy).to_string()} onclick={send::<MouseEvent>(dispatch, Action::SetPolicy(*p))}>{ p.name() }</button>
                }) }
            </div>
            <p class="hint">{ r.policy.describe() }</p>
            { standing(l, r, g, dispatch) }
            <p class="story">{ l.story }</p>
            <blockquote class="quote">
                <p>{ format!("“{}”", l.quote) }</p>
                <footer>{ format!("— {}, ", l.source) }<cite>{ l.commit }</cite></footer>
            </blockquote>
            <details class="fix" open={r.policy == Policy::Fixed}>
                <summary>{ "What later kernels did" }</summary>
                <p>{ l.fix }</p>
            </details>
            <div class="row">
                <button onclick={send::<MouseEvent>(dispatch, Action::OpenLevel(None))}>{ "All levels" }</button>
                if let Some(n) = next { <button onclick={send::<MouseEvent>(dispatch, Action::OpenLevel(Some(n)))}>{ "Next level" }</button> }
            </div>
        </section>
    }
}

/// How the game stands: won (which invariant broke, after which step, and why), another
/// invariant broken, a deadlock, over with nothing broken, or not winnable under `fixed`.
fn standing(l: &Level, r: &Race, g: &Game, dispatch: &Callback<Action>) -> Html {
    let jump = |s: u32| send::<MouseEvent>(dispatch, Action::Jump(s));
    let violations = &g.board().violations;
    let win = violations.iter().find(|v| v.name == l.win.name());
    html! {
        <div class="standing" role="status" data-testid="standing">
            if let Some(w) = win {
                <p class="won"><strong>{ format!("✓ Level won: {} ", w.name) }</strong>{ "broke after " }
                    <button class="link step-link" onclick={jump(w.step)}>{ format!("step {}", w.step) }</button>{ format!(": {}.", w.message) }</p>
            }
            { for violations.iter().filter(|v| v.name != l.win.name()).map(|v| html! {
                <p class="broken"><strong>{ if v.name == "deadlock" { "✖ Deadlock".to_string() } else { format!("✖ {} ", v.name) } }</strong>{ " after " }
                    <button class="link step-link" onclick={jump(v.step)}>{ format!("step {}", v.step) }</button>{ format!(": {}.", v.message) }</p>
            }) }
            if violations.is_empty() {
                if r.policy == Policy::Fixed {
                    <p class="fixed">{ "Under the fixed policy this level cannot be won: the locks below close the race. Play it anyway, or let the explorer prove it." }</p>
                } else if g.board().standing == Standing::Over {
                    <p>{ "Every thread has finished and no invariant broke. Undo some steps and try another order." }</p>
                } else {
                    <p class="empty">{ "No invariant broken yet. Invariants are checked after every step." }</p>
                }
            }
        </div>
    }
}

/// The threads, one card each, and the scheduler's own controls; then the locks. `then` is the
/// game as it was at the step shown, when that is before the last choice: the cards and the
/// locks follow the time travel (and a replay), and the choices wait for the last step.
pub fn scheduler(
    g: &Game,
    then: Option<&Game>,
    r: &Race,
    step: u32,
    total: u32,
    dispatch: &Callback<Action>,
) -> Html {
    let past = then.is_some();
    let board = then.unwrap_or(g).board();
    let cards = &board.threads;
    let over = g.board().standing == Standing::Over;
    let finish = {
        let (d, level, policy, picks) = (dispatch.clone(), r.level, r.policy, r.picks.clone());
        Callback::from(move |_: MouseEvent| {
            d.emit(Action::Finish(race::complete(level, policy, &picks)))
        })
    };
    html! {
        <section class="panel scheduler" aria-labelledby="scheduler-title">
            <h2 id="scheduler-title">{ "You are the scheduler" }</h2>
            <p class="hint">{ format!("Press {} to run a thread's next step (or its button) · u undoes · f lets the rest run · ← → travel in time", keys(cards.len())) }</p>
            if past {
                <p class="past" role="note">{ format!("Step {step}: the threads as they were then. The next choice is at step {total}. ") }
                    <button class="link" onclick={send::<MouseEvent>(dispatch, Action::Jump(total))}>{ format!("Back to step {total}") }</button></p>
            } else if step < total {
                <p class="past" role="note">{ format!("You are looking at step {step}, after the threads ran; the next choice was at step {total}. ") }
                    <button class="link" onclick={send::<MouseEvent>(dispatch, Action::Jump(total))}>{ format!("Back to step {total}") }</button></p>
            }
            <div class="threads">
                { for cards.iter().enumerate().map(|(i, c)| card(i, c, past, dispatch)) }
            </div>
            <div class="row">
                <button onclick={send::<MouseEvent>(dispatch, Action::Undo)} disabled={r.picks.is_empty()} aria-keyshortcuts="u">{ "↶ Undo" }</button>
                <button onclick={send::<MouseEvent>(dispatch, Action::Restart)} disabled={r.picks.is_empty()}>{ "Start again" }</button>
                <button onclick={finish} disabled={over} aria-keyshortcuts="f">{ "Let the rest run" }</button>
                <span class="picks" data-testid="picks">{ format!("{} step{} chosen", r.picks.len(), if r.picks.len() == 1 { "" } else { "s" }) }</span>
            </div>
            <p class="schedule-line">
                <span class="sub">{ "your schedule, as daxlab run reproduces it: " }</span>
                <code data-testid="schedule">{ if r.picks.is_empty() { "(nothing chosen yet)".to_string() } else { format!("schedule {}", r.picks.join(" ")) } }</code>
            </p>
            { locks(&board.locks) }
        </section>
    }
}

/// "1 or 2", "1, 2 or 3".
fn keys(n: usize) -> String {
    let k: Vec<String> = (1..=n.min(9)).map(|i| i.to_string()).collect();
    match k.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => k.join(""),
    }
}

/// One thread: its key and button, where it is, what its next step will do, its kernel call
/// stack, the locks it holds, and its program with the steps each line took.
fn card(i: usize, c: &ThreadCard, past: bool, dispatch: &Callback<Action>) -> Html {
    let key = (i + 1).to_string();
    let (class, state) = match &c.state {
        ThreadState::Runnable => ("runnable", "can run".to_string()),
        ThreadState::Blocked { on, holders } if holders.is_empty() => {
            ("blocked", format!("waits for {on}"))
        }
        ThreadState::Blocked { on, holders } => (
            "blocked",
            format!("waits for {on}, held by {}", holders.join(", ")),
        ),
        ThreadState::Finished => ("finished", "finished".to_string()),
        ThreadState::Stopped => ("finished", "stopped: it could never run again".to_string()),
    };
    let runnable = c.state == ThreadState::Runnable;
    html! {
        <article class={classes!("thread", class)} aria-labelledby={format!("thread-{}", c.name)} key={c.name.clone()}>
            <header>
                <h3 id={format!("thread-{}", c.name)}><kbd aria-hidden="true">{ &key }</kbd>{ format!(" {} ", c.name) }<span class="kind">{ if c.process { "process" } else { "thread" } }</span></h3>
                <span class={classes!("tstate", class)}>{ state }</span>
            </header>
            <button class={classes!("step-btn", runnable.then_some("primary"))} disabled={!runnable || past} aria-keyshortcuts={key.clone()}
                    data-testid={format!("run-{}", c.name)} onclick={send::<MouseEvent>(dispatch, Action::Pick(c.name.clone()))}>
                { format!("Run {}'s next step", c.name) }
            </button>
            if runnable {
                <div class="next">
                    <span class="sub">{ "its next step:" }</span>
                    if c.next.is_empty() { <p class="empty">{ "a yield point: nothing to record" }</p> }
                    <ul>{ for c.next.iter().map(|e| html! { <li class={classes!("ev", e.kind)}>{ &e.text }</li> }) }</ul>
                    if c.more_next > 0 { <p class="more">{ format!("+ {} more events", c.more_next) }</p> }
                </div>
            }
            <div class="stack">
                <span class="sub">{ "kernel stack: " }</span>
                if c.stack.is_empty() { <span class="empty">{ " in user space" }</span> }
                <ol aria-label={format!("{}'s kernel call stack, outermost first", c.name)}>{ for c.stack.iter().map(|f| html! { <li><code>{ *f }</code></li> }) }</ol>
            </div>
            if !c.holds.is_empty() {
                <p class="holds"><span class="sub">{ "holds: " }</span><code>{ c.holds.join(", ") }</code></p>
            }
            <ol class="program" aria-label={format!("{}'s program", c.name)}>
                { for c.lines.iter().map(|l| {
                    let (cls, mark) = match &l.state {
                        LineState::Done(_) => ("done", "✓"),
                        LineState::Current => ("cur", "▶"),
                        LineState::Todo => ("todo", " "),
                    };
                    html! {
                        <li class={cls}>
                            <code>{ format!("{mark} {}", l.text) }</code>
                            if let LineState::Done(res) = &l.state { <span class="res">{ format!(" → {}", res.split_whitespace().collect::<Vec<_>>().join(" ")) }</span> }
                            if !l.steps.is_empty() {
                                <details class="micro">
                                    <summary>{ format!("{} step{}", l.steps.len(), if l.steps.len() == 1 { "" } else { "s" }) }</summary>
                                    <ol>{ for l.steps.iter().map(|m| html! {
                                        <li><button class="link step-link" onclick={send::<MouseEvent>(dispatch, Action::Jump(m.step))}>{ format!("step {}", m.step) }</button>{ format!(" {}", m.text) }</li>
                                    }) }</ol>
                                </details>
                            }
                        </li>
                    }
                }) }
            </ol>
        </article>
    }
}

/// Who holds which lock, and who waits.
fn locks(rows: &[LockRow]) -> Html {
    html! {
        <div class="locks-panel" role="group" aria-label="Locks">
            <h3>{ "Locks" }</h3>
            if rows.is_empty() { <p class="empty">{ "No lock taken yet." }</p> }
            else {
                <table class="locks-table">
                    <thead><tr><th scope="col">{ "lock" }</th><th scope="col">{ "held by" }</th><th scope="col">{ "waiting" }</th></tr></thead>
                    <tbody>
                        { for rows.iter().map(|l| html! {
                            <tr class={classes!(l.holders.is_empty().then_some("free"), (!l.waiters.is_empty()).then_some("contended"))}>
                                <td><code>{ &l.name }</code></td>
                                <td>{ if l.holders.is_empty() { "free".to_string() } else { l.holders.join(", ") } }</td>
                                <td>{ l.waiters.join(", ") }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </div>
    }
}

/// The explorer: start (every interleaving, or seeded random runs), progress and cancel, and
/// the outcomes as a histogram, each with its shortest schedule and a button that replays it.
pub fn explorer(x: Option<&Exploration>, r: &Race, g: &Game, dispatch: &Callback<Action>) -> Html {
    let running = x.is_some_and(|x| x.status == ExploreStatus::Running);
    let replay = |o: &Found| {
        let (d, level, policy, from) = (dispatch.clone(), r.level, r.policy, g.start());
        let picks = race::schedule_picks(&o.schedule);
        Callback::from(move |_: MouseEvent| {
            d.emit(Action::Replay {
                picks: race::complete(level, policy, &picks),
                from,
            })
        })
    };
    html! {
        <section class="panel explorer" aria-labelledby="explorer-title">
            <h2 id="explorer-title">{ "Explorer" }</h2>
            <p class="hint">{ "Runs every interleaving that can end differently (partial-order reduction: orders of independent steps run once), in a worker, so the page stays yours." }</p>
            <div class="row">
                if running {
                    <button class="primary" onclick={send::<MouseEvent>(dispatch, Action::CancelExplore)} aria-keyshortcuts="e">{ "Cancel" }</button>
                } else {
                    <button class="primary" onclick={send::<MouseEvent>(dispatch, Action::Explore(Search::Exhaustive))} aria-keyshortcuts="e">{ "Explore every interleaving" }</button>
                    <button onclick={send::<MouseEvent>(dispatch, Action::Explore(RANDOM))}>{ "1,000 random runs (seed 1)" }</button>
                }
            </div>
            if let Some(x) = x { { findings(x, replay) } }
        </section>
    }
}

/// Milliseconds to a tenth, without the float formatting code (it would weigh on the page's
/// wasm for one number).
fn ms(x: f64) -> String {
    let tenths = (x.max(0.0) * 10.0).round() as u64;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Progress and the histogram of outcomes.
fn findings(x: &Exploration, replay: impl Fn(&Found) -> Callback<MouseEvent>) -> Html {
    let f = &x.findings;
    let max = match x.search {
        Search::Random { runs, .. } => Some(runs),
        Search::Exhaustive => None,
    };
    let counts = format!(
        "{} execution{} · {} outcome{}",
        f.executions,
        if f.executions == 1 { "" } else { "s" },
        f.outcomes.len(),
        if f.outcomes.len() == 1 { "" } else { "s" }
    );
    let status = match &x.status {
        ExploreStatus::Running => format!("Exploring… {counts} · {} ms", ms(x.elapsed_ms)),
        ExploreStatus::Done if f.complete => format!(
            "Complete: every interleaving ran. {counts} ({} cut short as redundant) in {} ms.",
            f.pruned,
            ms(x.elapsed_ms)
        ),
        ExploreStatus::Done if max.is_some() => {
            format!(
                "Done: {counts} in {} ms. Random runs prove nothing they did not find.",
                ms(x.elapsed_ms)
            )
        }
        ExploreStatus::Done => format!(
            "Not complete: stopped at the bound of {} executions. {counts} in {} ms.",
            crate::state::EXPLORE_MAX,
            ms(x.elapsed_ms)
        ),
        ExploreStatus::Cancelled => format!("Cancelled after {counts}: not complete."),
        ExploreStatus::Failed(m) => format!("The explorer could not run: {m}"),
    };
    // The outcomes that break something first, then the commonest (a few outcomes: an
    // insertion keeps the page's wasm free of a general sort).
    let rank = |o: &Found| (o.violations.is_empty(), std::cmp::Reverse(o.count));
    let mut order: Vec<&Found> = Vec::with_capacity(f.outcomes.len());
    for o in &f.outcomes {
        let at = order
            .iter()
            .position(|p| rank(p) > rank(o))
            .unwrap_or(order.len());
        order.insert(at, o);
    }
    let top = order.iter().map(|o| o.count).max().unwrap_or(1).max(1);
    let clean = f.outcomes.iter().all(|o| o.violations.is_empty());
    html! { <>
        <div class="progress-row">
            if x.status == ExploreStatus::Running {
                if let Some(m) = max {
                    <progress max={m.to_string()} value={f.executions.to_string()} aria-label="Exploration progress"></progress>
                } else {
                    <progress aria-label="Exploration progress"></progress>
                }
            }
            <p class="xstatus" role="status" data-testid="explore-status" data-elapsed-ms={ms(x.elapsed_ms)}
               data-updates={x.updates.to_string()} data-done={(x.status == ExploreStatus::Done).to_string()}>{ status }</p>
        </div>
        if x.status == ExploreStatus::Done && f.complete && clean {
            <p class="proved" data-testid="proved">{ format!("No invariant broken in any of the {} executions.", f.executions) }</p>
        }
        if !order.is_empty() {
            <ol class="histogram" aria-label="Outcomes, those that break an invariant first">
                { for order.iter().map(|o| {
                    let bad = !o.violations.is_empty();
                    let per_mille = o.count * 1000 / top;
                    let width = format!("width: {}.{}%", per_mille / 10, per_mille % 10);
                    let label = if bad { o.violations.join(" + ") } else { "no invariant broken".to_string() };
                    html! {
                        <li class={classes!("outcome", bad.then_some("bad"))}>
                            <div class="bar-wrap" aria-hidden="true"><div class="bar" style={width}></div></div>
                            <p class="what"><span class="count">{ format!("{} ×", o.count) }</span>{ " " }<strong>{ label.clone() }</strong></p>
                            <p class="results">{ o.results.iter().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join(" · ") }</p>
                            <p class="shortest"><span class="sub">{ "shortest: " }</span><code>{ if o.schedule.is_empty() { "the default order".to_string() } else { o.schedule.join(" · ") } }</code></p>
                            <button onclick={replay(o)} aria-label={format!("Replay: {label} ({} executions)", o.count)}>{ "▶ Replay" }</button>
                        </li>
                    }
                }) }
            </ol>
        }
    </> }
}
