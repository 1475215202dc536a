//! The data-cache view: the sets that hold lines, by ways, each line with its tag (the virtual
//! address it was filled through), colour, frame, dirty bit and stale mark; the step's fills,
//! write-backs and drops marked on the lines they hit. Meaning is carried by letters and
//! borders, never by colour alone: U/K for the user's and the kernel's alias, ⇄ when a frame is
//! cached under both, D dirty, ! stale (hatched), ▼ ▲ ✕ for what the step did.

use yew::prelude::*;

use super::grid::{nav, Nav};
use crate::boundary::cache::{CacheView, LineView, SetRow};
use crate::state::{Action, Selection};

fn size(n: u32) -> String {
    if n >= 1024 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// The sets of a row, as a header.
fn sets(r: &SetRow) -> String {
    match r.sets {
        1 => format!("set {}", r.set),
        n => format!("sets {}–{}", r.set, r.set + n - 1),
    }
}

/// The two short lines of a line's cell and its full description.
fn texts(c: &CacheView, l: &LineView) -> (String, String, String) {
    let mut flags = String::new();
    if let Some(op) = l.op {
        flags.push_str(op.sign());
    }
    flags.push(if l.kernel { 'K' } else { 'U' });
    if l.alias {
        flags.push('⇄');
    }
    if c.colours > 1 {
        flags.push_str(&format!(" c{}", l.colour));
    }
    if l.dirty {
        flags.push_str(" D");
    }
    if l.stale {
        flags.push_str(" !");
    }
    let mut bottom = format!("{:x}+{:x}", l.pfn, l.off);
    if l.lines > 1 {
        bottom.push_str(&format!(" ×{}", l.lines));
    }
    let runs = if l.lines > 1 {
        format!(
            "{} lines, {:#x}…{:#x}",
            l.lines,
            l.vaddr,
            l.vaddr + u64::from(c.line) * u64::from(l.lines - 1)
        )
    } else {
        format!("tag {:#x}", l.vaddr)
    };
    let title = format!(
        "{} alias, {runs}{}, pfn {:#x} offset {:#x}{}{}{}{}",
        if l.kernel {
            "kernel's (linear map)"
        } else {
            "user's (mapping)"
        },
        if c.colours > 1 {
            format!(", colour {}", l.colour)
        } else {
            String::new()
        },
        l.pfn,
        l.off,
        if l.alias {
            ", the frame is cached under another address too"
        } else {
            ""
        },
        if l.dirty {
            ", dirty (memory is older)"
        } else {
            ", clean"
        },
        if l.stale {
            ", STALE: the frame has newer bytes elsewhere"
        } else {
            ""
        },
        l.op.map(|o| format!(", {} in this step", o.name()))
            .unwrap_or_default(),
    );
    (flags, bottom, title)
}

/// The data cache of the machine, or the note that x86-64 has nothing to draw.
pub fn cache_panel(c: Option<&CacheView>, selected: Option<u64>, d: &Callback<Action>) -> Html {
    let Some(c) = c else {
        return html! {
            <p class="panel note" data-testid="cache-note">{ "Data cache: x86-64's caches are physically indexed and tagged, so the user's and the kernel's addresses of a frame hit one line: no aliases, nothing to flush." }</p>
        };
    };
    let ways = c.ways as usize;
    let Nav {
        onkeydown,
        onclick,
        ondblclick,
    } = nav(c.rows.len() * ways, ways, d);
    let stop = c
        .rows
        .iter()
        .flat_map(|r| r.ways.iter())
        .position(|l| l.as_ref().is_some_and(|l| Some(l.pfn) == selected))
        .unwrap_or(0);
    let cell = |i: usize, l: &Option<LineView>| {
        let tab = if i == stop { "0" } else { "-1" };
        match l {
            None => html! {
                <div role="gridcell" class="cell cl none" tabindex={tab} data-i={i.to_string()} aria-label="empty way">{ "—" }</div>
            },
            Some(l) => {
                let (top, bottom, title) = texts(c, l);
                let lit = Some(l.pfn) == selected;
                html! {
                    <div role="gridcell" tabindex={tab} data-i={i.to_string()} data-pfn={l.pfn.to_string()}
                        class={classes!("cell", "cl", if l.kernel { "kern" } else { "user" }, l.dirty.then_some("dirty"),
                            l.stale.then_some("stale"), l.alias.then_some("alias"), l.op.map(|_| "hit"), (l.lines > 1).then_some("run"), lit.then_some("lit"))}
                        aria-selected={lit.to_string()} aria-label={format!("{top} {bottom}: {title}")} title={title}>
                        <span class="t1">{ top }</span>{ " " }<span class="t2">{ bottom }</span>
                    </div>
                }
            }
        }
    };
    let sel = |pfn: u64| super::send::<MouseEvent>(d, Action::Select(Some(Selection::Pfn(pfn))));
    html! {
        <div class="panel cache-view" role="group" aria-label="Data cache">
            <h3>{ format!("Data cache: {}, {}, {} sets × {} way{}, {}-byte lines, {}, {} · {} lines valid",
                c.cpu, size(c.size), c.sets, c.ways, if c.ways == 1 { "" } else { "s" }, c.line,
                if c.vivt { "virtually indexed and tagged" } else { "virtually indexed, physically tagged" },
                if c.write_back { "write-back" } else { "write-through" }, c.valid) }</h3>
            if c.rows.is_empty() { <p class="empty">{ "No line holds data yet." }</p> } else {
                <div class="grid-wrap">
                    <div class="grid" role="grid" aria-label="data cache lines" {onkeydown} {onclick} {ondblclick}>
                        { for c.rows.iter().enumerate().map(|(r, row)| html! {
                            <div role="row" class="grid-row"><span role="rowheader" class="setname">{ sets(row) }</span>
                                { for row.ways.iter().enumerate().map(|(w, l)| cell(r * ways + w, l)) }</div>
                        }) }
                    </div>
                </div>
                if c.hidden_rows > 0 { <p class="more">{ format!("+ {} more rows of sets not drawn", c.hidden_rows) }</p> }
            }
            if !c.events.is_empty() {
                <ul class="cache-events" aria-label="what the cache did in this step">
                    { for c.events.iter().map(|e| html! {
                        <li><button class="link" onclick={sel(e.pfn)}>{ format!("{} {} {} line{} of pfn {:#x} through the {} address {:#x} (set {}) · {}",
                            e.op.sign(), e.op.name(), e.lines, if e.lines == 1 { "" } else { "s" }, e.pfn,
                            if e.kernel { "kernel's" } else { "user's" }, e.vaddr, e.set, e.func) }</button></li>
                    }) }
                </ul>
            }
            <p class="legend">
                { for [("key cl user", "U user's alias"), ("key cl kern", "K kernel's alias"), ("key cl alias", "⇄ cached under both"),
                    ("key dirty", "D dirty"), ("key cl stale", "! stale"), ("key cl hit", "▼ fill ▲ write-back ✕ drop")]
                    .iter().map(|(k, t)| html! { <span class={*k}>{ *t }</span> }) }
                if c.colours > 1 { <span>{ format!("c0–c{}: page colour", c.colours - 1) }</span> }
            </p>
        </div>
    }
}
