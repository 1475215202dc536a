//! Time travel: step back and forward, play at a speed, scrub, and one lane per thread showing
//! the steps each thread ran.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::boundary::Session;
use crate::state::Action;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub session: std::rc::Rc<Session>,
    pub step: u32,
    pub playing: bool,
    pub speed: u32,
    pub dispatch: Callback<Action>,
}

#[function_component(Timeline)]
pub fn timeline(p: &TimelineProps) -> Html {
    let total = p.session.total_steps;
    let step = p.step;
    let d = &p.dispatch;
    let by = |delta: i64| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| {
            d.emit(Action::StepBy {
                from: step,
                delta,
                total,
            })
        })
    };
    let oninput = {
        let d = d.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            if let Ok(s) = i.value().parse() {
                d.emit(Action::Jump { step: s, total });
            }
        })
    };
    let play = {
        let (d, playing) = (d.clone(), p.playing);
        Callback::from(move |_: MouseEvent| {
            if !playing && step >= total {
                d.emit(Action::Jump { step: 0, total });
            }
            d.emit(Action::SetPlaying(!playing))
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
    // Lanes: which thread ran each step.
    let width = 900u32;
    let lanes = &p.session.lanes;
    let lane_h = 16u32;
    let x = |s: u32| 80 + (u64::from(s) * u64::from(width - 90) / u64::from(total.max(1))) as u32;
    let ran: Vec<(usize, u32)> = p
        .session
        .ran
        .iter()
        .enumerate()
        .map(|(i, l)| (*l, i as u32 + 1))
        .collect();
    let jump_to = |s: u32| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.emit(Action::Jump { step: s, total }))
    };
    html! {
        <section class="panel timeline" aria-label="Timeline">
            <div class="controls">
                <button onclick={by(-i64::from(total))} aria-label="First step" title="First step (Home)">{ "|◀" }</button>
                <button onclick={by(-1)} aria-label="Step back" title="Step back (←)" data-testid="back">{ "◀" }</button>
                <button onclick={play} aria-label={if p.playing { "Pause" } else { "Play" }} title="Play / pause (Space)" data-testid="play">{ if p.playing { "Pause" } else { "Play" } }</button>
                <button onclick={by(1)} aria-label="Step forward" title="Step forward (→)" data-testid="forward">{ "▶" }</button>
                <button onclick={by(i64::from(total))} aria-label="Last step" title="Last step (End)">{ "▶|" }</button>
                <label for="speed">{ "speed" }</label>
                <select id="speed" onchange={speed}>
                    { for [1u32, 2, 4, 8, 16, 30].iter().map(|v| html!{ <option value={v.to_string()} selected={*v == p.speed}>{ format!("{v} steps/s") }</option> }) }
                </select>
                <label for="step">{ "step" }</label>
                <input id="step" type="range" min="0" max={total.to_string()} value={step.to_string()} {oninput} />
                <output for="step" data-testid="step">{ format!("{step} / {total}") }</output>
            </div>
            <svg class="lanes" width={width.to_string()} height={(lanes.len() as u32 * lane_h + 4).to_string()} role="img" aria-label="Which thread ran each step">
                { for lanes.iter().enumerate().map(|(i, name)| {
                    let y = i as u32 * lane_h + 2;
                    html! {
                        <g>
                            <text x="0" y={(y + 11).to_string()} class="lane-name">{ name.clone() }</text>
                            { for ran.iter().filter(|(l, _)| *l == i).map(|(_, s)| html! {
                                <rect class={classes!("tick", (*s == step).then_some("now"))} x={x(*s).to_string()} y={y.to_string()} width="3" height={(lane_h - 4).to_string()} onclick={jump_to(*s)}>
                                    <title>{ format!("step {s}: {name}") }</title>
                                </rect>
                            }) }
                        </g>
                    }
                }) }
                <line class="cursor" x1={x(step).to_string()} x2={x(step).to_string()} y1="0" y2={(lanes.len() as u32 * lane_h + 4).to_string()} />
            </svg>
        </section>
    }
}
