//! Every copy of the current step drawn as an arrow between user memory, RAM (page cache, hole
//! and anonymous pages) and the device, labelled with bytes and the kernel function; zeroing is
//! a dashed arrow from nowhere.

use yew::prelude::*;

use crate::boundary::{EventRow, Scope};
use crate::state::{Action, Selection};

const COLX: [u32; 3] = [50, 220, 390];
const NAMES: [&str; 3] = ["user memory", "RAM: page cache", "device"];
/// The most arrows drawn.
const MAX_ARROWS: usize = 12;

/// The data-flow diagram of the events of a step that count toward `scope`'s mounts (all, when
/// it names none).
pub fn flow(
    events: &[EventRow],
    scope: &Scope,
    selected: Option<u64>,
    dispatch: &Callback<Action>,
) -> Html {
    let all: Vec<&EventRow> = events
        .iter()
        .filter(|e| e.flow.is_some() && e.mount.as_deref().is_none_or(|m| scope.keeps(m)))
        .collect();
    let flows = &all[..all.len().min(MAX_ARROWS)];
    let h = 50 + 38 * flows.len().max(1) as u32;
    html! {
        <div class="panel flow" role="group" aria-label="Copies in this step">
            <h3>{ "Copies and zeroing in this step" }</h3>
            <svg class="flowsvg" viewBox={format!("0 0 440 {h}")} role="img"
                 aria-label={format!("{} copies or zeroings in this step", all.len())}>
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
                    </marker>
                </defs>
                { for (0..3).map(|c| html! {
                    <g>
                        <text x={COLX[c].to_string()} y="16" text-anchor="middle" class="colname">{ NAMES[c] }</text>
                        <line x1={COLX[c].to_string()} x2={COLX[c].to_string()} y1="24" y2={(h - 4).to_string()} class="colline" />
                    </g>
                }) }
                if flows.is_empty() { <text x="220" y="50" text-anchor="middle" class="none">{ if scope.mounts.is_some() && events.iter().any(|e| e.flow.is_some()) { "no data moved here (this step works on another mount)" } else { "no data moved in this step" } }</text> }
                { for flows.iter().enumerate().map(|(i, e)| {
                    let Some(f) = &e.flow else { return html! {} };
                    let y = 56 + 38 * i as u32;
                    let to = COLX[f.to.column];
                    let (from, zero) = match &f.from { Some(s) => (COLX[s.column], false), None => (if to > 150 { to - 150 } else { to + 150 }, true) };
                    let (x1, x2) = if from == to { (from - 40, to + 40) } else { (from, to) };
                    let src = f.from.as_ref().and_then(|s| s.pfn);
                    let lit = selected.is_some() && (f.to.pfn == selected || src == selected);
                    let pfn = f.to.pfn.or(src);
                    let onclick = pfn.map(|pfn| super::send::<MouseEvent>(dispatch, Action::Select(Some(Selection::Pfn(pfn)))));
                    html! {
                        <g class={classes!("arrow", zero.then_some("zero"), lit.then_some("lit"))} {onclick}>
                            <title>{ e.text.clone() }</title>
                            <line x1={x1.to_string()} y1={y.to_string()} x2={x2.to_string()} y2={y.to_string()} marker-end="url(#arrow)" />
                            <text x={((x1 + x2) / 2).to_string()} y={(y - 6).to_string()} text-anchor="middle">
                                { format!("{} {} B · {}", if zero { "zero" } else { "copy" }, f.bytes, f.func) }
                            </text>
                        </g>
                    }
                }) }
            </svg>
            if all.len() > flows.len() { <p class="more">{ format!("+ {} more not drawn", all.len() - flows.len()) }</p> }
        </div>
    }
}
