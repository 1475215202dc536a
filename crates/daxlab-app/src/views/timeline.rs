//! Time travel: step back and forward, play at a speed, scrub, jump to the previous or next
//! command, copy, fault, lock wait or error. Two strips: the whole run in a fixed number of
//! columns (each lane a density strip, what happened in each column, where commands start),
//! and the steps around the current one, one column per step. Neither grows with the run.

use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::boundary::{Run, Seek, Strip};
use crate::state::Action;
use wasm_bindgen::JsCast;

/// What the timeline shows and does.
pub struct TimelineArgs<'a> {
    /// The run.
    pub run: &'a Run,
    /// The step shown.
    pub step: u32,
    /// Playing.
    pub playing: bool,
    /// Steps per second.
    pub speed: u32,
    /// What previous and next look for.
    pub seek: Seek,
    /// Where actions go.
    pub dispatch: &'a Callback<Action>,
}

/// Steps each side of the current one in the detail strip.
const RADIUS: u32 = 30;
/// Height of a row of a strip, in pixels.
const ROW: u32 = 11;
/// The rows under the lanes: what happened.
const MARK_ROWS: [(&str, Seek); 4] = [
    ("copy", Seek::Copy),
    ("fault", Seek::Fault),
    ("lock-wait", Seek::Wait),
    ("error", Seek::Error),
];

/// A click on a strip: the fraction of its width.
fn fraction(e: &MouseEvent) -> Option<f64> {
    let el = e
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest("svg")
        .ok()??;
    let r = el.get_bounding_client_rect();
    (r.width() > 0.0).then(|| ((f64::from(e.client_x()) - r.left()) / r.width()).clamp(0.0, 1.0))
}

/// A strip of columns of steps: a row per lane (darker where the lane ran more of the column's
/// steps), a row per kind of event, a line where a command starts, the step shown marked. A
/// click goes to the column's first step.
fn strip(
    class: &'static str,
    s: &Strip,
    step: u32,
    label: String,
    names: Html,
    broken: &[u32],
    d: &Callback<Action>,
) -> Html {
    let columns = s.marks.len().max(1);
    let lanes = s.lanes.len();
    let h = (lanes + MARK_ROWS.len()) as u32 * ROW;
    let click = {
        let (d, first, per, n) = (d.clone(), s.first, s.per_column, columns);
        Callback::from(move |e: MouseEvent| {
            if let Some(f) = fraction(&e) {
                let c = ((f * n as f64) as u32).min(n as u32 - 1);
                d.emit(Action::Jump(first + c * per));
            }
        })
    };
    let row = |y: u32, x: usize, class: &'static str, opacity: Option<String>| {
        html! { <rect class={class} x={x.to_string()} y={(y * ROW + 1).to_string()} width="1.05" height={(ROW - 2).to_string()} fill-opacity={opacity} /> }
    };
    html! {
        <div class="strip" title="Click to go there">
            { names }
            <div class="near-wrap">
                <svg class={class} viewBox={format!("0 0 {columns} {h}")} preserveAspectRatio="none" height={h.to_string()} role="img" aria-label={label} onclick={click}>
                    { for s.lanes.iter().enumerate().map(|(i, l)| html! { <>{
                        for l.iter().enumerate().filter(|(_, n)| **n > 0).map(|(c, n)| row(i as u32, c, "ran", Some(opacity(*n, s.per_column))))
                    }</> }) }
                    { for MARK_ROWS.iter().enumerate().map(|(j, (class, k))| html! { <>{
                        for s.marks.iter().enumerate().filter(|(_, m)| **m & k.mark() != 0).map(|(c, _)| row((lanes + j) as u32, c, class, None))
                    }</> }) }
                    { for s.starts.iter().map(|c| html! { <line class="cmd" x1={c.column.to_string()} x2={c.column.to_string()} y1="0" y2={h.to_string()} /> }) }
                    // An invariant broken after a step: a line through every row at its column.
                    { for broken.iter().filter_map(|b| s.column(*b)).map(|c| html! { <rect class="violation" x={c.to_string()} y="0" width="1" height={h.to_string()} /> }) }
                    if let Some(c) = s.column(step) {
                        <rect class="now" x={c.to_string()} y="0" width="1" height={h.to_string()} />
                    }
                </svg>
                <div class="starts" aria-hidden="true">
                    { for labels(s, columns).map(|c| html! {
                        <span style={format!("left: {}%", c.column * 100 / columns)}>{ format!("L{}", c.line) }</span>
                    }) }
                </div>
            </div>
        </div>
    }
}

/// The command starts worth a label: those at least 4% of the strip from the last labelled.
fn labels(s: &Strip, columns: usize) -> impl Iterator<Item = &crate::boundary::CommandStart> {
    let mut last: Option<usize> = None;
    s.starts.iter().filter(move |c| {
        let far = last.is_none_or(|l| c.column.abs_diff(l) * 25 >= columns);
        if far {
            last = Some(c.column);
        }
        far
    })
}

/// How dark a column of a lane is: how many of its steps the lane ran (at least 0.3).
fn opacity(n: u32, of: u32) -> String {
    let x = 30 + 70 * u64::from(n) / u64::from(of.max(1));
    if x >= 100 {
        "1".into()
    } else {
        format!("0.{x:02}")
    }
}

/// The timeline.
pub fn timeline(p: TimelineArgs<'_>) -> Html {
    let run = p.run;
    let total = run.total;
    let step = p.step;
    let d = p.dispatch;
    let send = |a: Action| super::send::<MouseEvent>(d, a);
    let oninput = {
        let d = d.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            if let Ok(s) = i.value().parse() {
                d.emit(Action::Jump(s));
            }
        })
    };
    let speed = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(v) = s.value().parse() {
                d.emit(Action::SetSpeed(v));
            }
        })
    };
    let seek_kind = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Some((k, _)) = Seek::ALL.iter().find(|(_, n)| *n == s.value()) {
                d.emit(Action::SetSeek(*k));
            }
        })
    };
    let name = p.seek.name();
    let prev = run.seek(p.seek, step, false);
    let next = run.seek(p.seek, step, true);
    let jump = |to: Option<u32>| to.map(|s| send(Action::Jump(s)));

    let broken: Vec<u32> = run.violations.iter().map(|v| v.step).collect();
    let names = html! {
        <div class="names" aria-hidden="true">
            { for run.lanes.iter().map(|l| html! { <span>{ l.clone() }</span> }) }
            { for MARK_ROWS.iter().map(|(_, k)| html! { <span class="mark-name">{ k.name() }</span> }) }
        </div>
    };
    let whole = strip(
        "whole",
        &run.overview,
        step,
        format!(
            "The whole run: {total} steps, {} a column",
            run.overview.per_column
        ),
        names.clone(),
        &broken,
        d,
    );
    let det = run.detail(step, RADIUS);
    let near = strip(
        "near",
        &det,
        step,
        format!(
            "Steps {} to {}, a column each",
            det.first,
            det.first + det.marks.len().max(1) as u32 - 1
        ),
        names,
        &broken,
        d,
    );
    html! {
        <section class="panel timeline" id="timeline" aria-label="Timeline" tabindex="-1">
            <div class="controls">
                <button onclick={send(Action::Jump(0))} aria-label="First step" title="First step (Home)">{ "|◀" }</button>
                <button onclick={send(Action::StepBy(-1))} aria-label="Step back" title="Step back (←)" data-testid="back">{ "◀" }</button>
                <button onclick={send(Action::SetPlaying(!p.playing))} aria-label={if p.playing { "Pause" } else { "Play" }} title="Play / pause (Space)" data-testid="play">{ if p.playing { "❚❚" } else { "▶▶" } }</button>
                <button onclick={send(Action::StepBy(1))} aria-label="Step forward" title="Step forward (→)" data-testid="forward">{ "▶" }</button>
                <button onclick={send(Action::Jump(total))} aria-label="Last step" title="Last step (End)">{ "▶|" }</button>
                <output role="status" aria-label="Current step" data-testid="step">{ format!("{step} / {total}") }</output>
            </div>
            <div class="tools">
                <span class="seek">
                    <label for="seek">{ "find" }</label>
                    <select id="seek" onchange={seek_kind}>
                        { for Seek::ALL.iter().map(|(k, n)| html! { <option value={*n} selected={*k == p.seek}>{ *n }</option> }) }
                    </select>
                    <button onclick={jump(prev)} disabled={prev.is_none()} aria-label={format!("Previous {name}")} title="[">{ "◀" }</button>
                    <button onclick={jump(next)} disabled={next.is_none()} aria-label={format!("Next {name}")} title="]">{ "▶" }</button>
                </span>
                <span class="speed">
                    <label for="speed">{ "speed" }</label>
                    <select id="speed" onchange={speed}>
                        { for [1u32, 2, 4, 8, 16, 30].iter().map(|v| html!{ <option value={v.to_string()} selected={*v == p.speed}>{ format!("{v}/s") }</option> }) }
                    </select>
                </span>
            </div>
            <input id="step" class="scrub" type="range" aria-label="Step" min="0" max={total.to_string()} value={step.to_string()} {oninput} />
            { whole }
            { near }
        </section>
    }
}
