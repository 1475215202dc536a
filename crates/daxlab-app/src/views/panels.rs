//! Side panels: counters with their plot, the call graph of the step, results, the inspector,
//! lessons and the keyboard help.

use daxlab_core::engine::trace::Counters;
use yew::prelude::*;

use crate::boundary::{EventRow, Session, Snapshot};
use crate::lessons::LESSONS;
use crate::state::{Action, Selection};

#[derive(Properties, PartialEq)]
pub struct CountersProps {
    /// (heading, counters) per column: one column, or page cache and DAX side by side.
    pub columns: Vec<(String, Counters)>,
    /// Bytes copied per step, for the plot.
    pub plot: Vec<(u32, u64)>,
    pub step: u32,
    pub total: u32,
}

/// Counters, and a plot of bytes copied over the steps.
#[function_component(CountersPanel)]
pub fn counters_panel(p: &CountersProps) -> Html {
    type Row = (&'static str, fn(&Counters) -> String);
    let rows: [Row; 7] = [
        ("copies", |c| c.copies.to_string()),
        ("bytes copied", |c| c.bytes_copied.to_string()),
        ("copies avoided", |c| c.copies_avoided.to_string()),
        ("page-cache pages", |c| c.pagecache_pages.to_string()),
        ("minor faults", |c| c.faults_minor.to_string()),
        ("major faults", |c| c.faults_major.to_string()),
        ("simulated time", |c| format!("{} ns", c.sim_ns)),
    ];
    let (w, h) = (300u32, 60u32);
    let max = p.plot.iter().map(|x| x.1).max().unwrap_or(1).max(1);
    let x = |s: u32| 2 + (s as u64 * (w as u64 - 4) / p.total.max(1) as u64) as u32;
    html! {
        <div class="panel counters" role="group" aria-label="Counters" tabindex="0">
            <h3>{ "Counters" }</h3>
            <table>
                <thead><tr><th scope="col">{ "" }</th>{ for p.columns.iter().map(|(t, _)| html!{ <th scope="col">{ t.clone() }</th> }) }</tr></thead>
                <tbody>
                { for rows.iter().map(|(name, f)| html! {
                    <tr><th scope="row">{ *name }</th>{ for p.columns.iter().map(|(_, c)| html!{ <td data-testid={format!("counter-{}", name.replace(' ', "-"))}>{ f(c) }</td> }) }</tr>
                }) }
                </tbody>
            </table>
            <svg class="plot" width={w.to_string()} height={h.to_string()} role="img" aria-label="Bytes copied per step">
                <title>{ "Bytes copied per step" }</title>
                { for p.plot.iter().map(|(s, b)| {
                    let bh = (b * (h as u64 - 10) / max) as u32;
                    html! { <rect class={classes!((*s <= p.step).then_some("past"))} x={x(*s).to_string()} y={(h - bh).to_string()} width="2" height={bh.to_string()} /> }
                }) }
                <line class="now" x1={x(p.step).to_string()} x2={x(p.step).to_string()} y1="0" y2={h.to_string()} />
            </svg>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct StepProps {
    pub events: Vec<EventRow>,
    /// The thread that ran this step.
    pub thread: Option<String>,
    pub step: u32,
    pub dispatch: Callback<Action>,
}

/// The current step's events as a function_graph-style call graph; each links to what it touched.
#[function_component(StepEvents)]
pub fn step_events(p: &StepProps) -> Html {
    html! {
        <div class="panel events" role="group" aria-label="Events of this step">
            <h3>{ format!("Step {} · thread {}", p.step, p.thread.clone().unwrap_or_else(|| "—".into())) }</h3>
            if p.step == 0 { <p class="empty">{ "Step 0: nothing has run yet. Step forward." }</p> }
            else if p.events.is_empty() { <p class="empty">{ "The thread ran to its next yield point without an event worth recording." }</p> }
            <ol class="graph" tabindex="0" aria-label="Call graph of this step">
                { for p.events.iter().map(|e| {
                    let onclick = e.pfns.first().copied().map(|pfn| { let d = p.dispatch.clone(); Callback::from(move |_: MouseEvent| d.emit(Action::Select(Some(Selection::Pfn(pfn))))) });
                    let indent = format!("padding-left: {}ch", e.depth * 2);
                    html! {
                        <li class={classes!("ev", e.kind)} style={indent}>
                            if onclick.is_some() { <button class="link" {onclick}>{ &e.text }</button> } else { { &e.text } }
                        </li>
                    }
                }) }
            </ol>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ResultsProps {
    pub session: std::rc::Rc<Session>,
    pub step: u32,
}

/// Results of the commands finished so far, as the kernel reports them.
#[function_component(Results)]
pub fn results(p: &ResultsProps) -> Html {
    let done: Vec<_> = p
        .session
        .results
        .iter()
        .filter(|r| r.step <= p.step)
        .collect();
    html! {
        <div class="panel results" role="group" aria-label="Results">
            <h3>{ format!("Results ({} of {})", done.len(), p.session.results.len()) }</h3>
            <ol tabindex="0" aria-label="Latest results first">
                { for done.iter().rev().take(12).map(|r| {
                    html! {
                        <li class={classes!(if r.ok { "ok" } else { "bad" })}>
                            <code>{ format!("{:>3}  {}{}", r.line, r.thread.as_deref().map(|t| format!("[{t}] ")).unwrap_or_default(), r.command) }</code>
                            <span class="status">{ r.text.chars().take(160).collect::<String>() }</span>
                        </li>
                    }
                }) }
            </ol>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub snap: std::rc::Rc<Snapshot>,
    pub session: std::rc::Rc<Session>,
    pub selection: Option<Selection>,
    pub step: u32,
}

/// All the state of the selected thing.
#[function_component(Inspector)]
pub fn inspector(p: &InspectorProps) -> Html {
    let s = &p.snap;
    let row = |k: &str, v: String| html! { <><dt>{ k.to_string() }</dt><dd>{ v }</dd></> };
    let body = match &p.selection {
        Some(Selection::Pfn(pfn)) => {
            let mut rows = vec![
                row("page frame", format!("pfn {pfn:#x}")),
                row("physical address", format!("{:#x}", pfn << 12)),
                row(
                    "kernel address",
                    format!("{:#x}", daxlab_core::state::mem::Pfn(*pfn).kaddr()),
                ),
            ];
            if let Some(f) = s.ram.iter().find(|r| r.pfn == *pfn) {
                rows.push(row("RAM frame", f.text.clone()));
            }
            for d in &s.devices {
                if let Some(idx) = d.frames.iter().find(|f| f.pfn == *pfn).map(|f| f.index) {
                    rows.push(row(
                        "device",
                        format!(
                            "/dev/{} page {idx}, sectors {}..{}",
                            d.name,
                            idx * 8,
                            idx * 8 + 7
                        ),
                    ));
                }
            }
            for f in &s.files {
                if let Some(pg) = f.pages.iter().find(|pg| pg.pfn == *pfn) {
                    rows.push(row(
                        "page cache",
                        format!(
                            "{} page {}{}{}",
                            f.path,
                            pg.index,
                            if pg.dirty { ", dirty" } else { "" },
                            if pg.hole { ", hole page" } else { "" }
                        ),
                    ));
                }
            }
            for v in &s.vmas {
                for pte in v.ptes.iter().filter(|pte| pte.pfn == *pfn) {
                    rows.push(row(
                        "mapped by",
                        format!(
                            "{} page {} at {:#x}, {}{}",
                            v.name,
                            pte.page,
                            v.start + pte.page * 4096,
                            if pte.writable {
                                "writable"
                            } else {
                                "read-only"
                            },
                            if pte.special {
                                ", special PTE (no struct page)"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
            let touched = p
                .session
                .events
                .iter()
                .filter(|e| e.step <= p.step && e.pfns.contains(pfn))
                .count();
            rows.push(row("events so far", touched.to_string()));
            html! { <dl>{ for rows }</dl> }
        }
        Some(Selection::Device(n)) => match s.devices.iter().find(|d| &d.name == n) {
            Some(d) => html! { <dl>
                { row("device", format!("/dev/{}", d.name)) }{ row("driver", d.kind.clone()) }
                { row("size", format!("{} bytes, {} sectors of 512", d.size, d.size / 512)) }
                { row("direct_access", if d.direct_access { "implemented".into() } else { "not implemented: -EOPNOTSUPP".into() }) }
                { row("backing", d.backing.clone()) }{ row("frames touched", d.frames.len().to_string()) }
            </dl> },
            None => html! { <p class="empty">{ "That device does not exist at this step." }</p> },
        },
        Some(Selection::File(ino)) => match s.files.iter().find(|f| f.ino == *ino) {
            Some(f) => html! { <dl>
                { row("path", f.path.clone()) }{ row("inode", f.ino.to_string()) }{ row("i_size", f.size.to_string()) }
                { row("i_flags", if f.s_dax { "S_DAX".into() } else { "(none)".into() }) }
                { row("block size", f.block_size.to_string()) }
                { row("block map", if f.blocks.is_empty() { "all holes".into() } else { f.blocks.iter().map(|b| format!("{}→{}{}", b.iblock, b.block, if b.unwritten { " (unwritten)" } else { "" })).collect::<Vec<_>>().join(", ") }) }
                { row("page cache", if f.pages.is_empty() { "empty".into() } else { f.pages.iter().map(|pg| format!("{}:{:#x}{}", pg.index, pg.pfn, if pg.dirty { " dirty" } else { "" })).collect::<Vec<_>>().join(", ") }) }
            </dl> },
            None => html! { <p class="empty">{ "That file does not exist at this step." }</p> },
        },
        Some(Selection::Vma(n)) => match s.vmas.iter().find(|v| &v.name == n) {
            Some(v) => html! { <dl>
                { row("mapping", v.name.clone()) }{ row("range", format!("{:#x}–{:#x}", v.start, v.start + v.pages * 4096)) }
                { row("file", v.file.clone()) }
                { row("flags", format!("{}{}{}", if v.shared { "VM_SHARED" } else { "private (COW)" }, if v.writable { " VM_WRITE" } else { "" }, if v.mixedmap { " VM_MIXEDMAP" } else { "" })) }
                { row("PTEs", v.ptes.len().to_string()) }
            </dl> },
            None => html! { <p class="empty">{ "That mapping does not exist at this step." }</p> },
        },
        None => {
            html! { <p class="empty">{ "Select a page frame, a block, a page, a PTE, a file or a device to see all of its state here." }</p> }
        }
    };
    html! {
        <aside class="panel inspector" aria-label="Inspector">
            <h2>{ "Inspector" }</h2>
            { body }
            if !s.locks.is_empty() {
                <h3>{ "Locks held" }</h3>
                <ul class="locks">{ for s.locks.iter().map(|l| html!{ <li><code>{ l.lock.clone() }</code>{ format!(" — {}", l.holders) }</li> }) }</ul>
            }
        </aside>
    }
}

#[derive(Properties, PartialEq)]
pub struct LessonProps {
    pub lesson: Option<usize>,
    pub done: std::collections::BTreeSet<String>,
    pub achieved: bool,
    pub dispatch: Callback<Action>,
}

/// The lesson list, or the open lesson with its task and whether the goal is reached.
#[function_component(LessonPanel)]
pub fn lesson_panel(p: &LessonProps) -> Html {
    let open = |i: Option<usize>| {
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(Action::OpenLesson(i)))
    };
    match p.lesson.map(|i| (i, &LESSONS[i])) {
        None => html! {
            <nav class="panel lessons" aria-label="Lessons">
                <h2>{ "Lessons" }</h2>
                <ol>
                    { for LESSONS.iter().enumerate().map(|(i, l)| html! {
                        <li><button class="link" onclick={open(Some(i))}>{ l.title }</button>
                        if p.done.contains(l.id) { <span class="badge yes" aria-label="completed">{ "✓ done" }</span> }</li>
                    }) }
                </ol>
            </nav>
        },
        Some((i, l)) => html! {
            <section class="panel lessons" aria-label="Lesson">
                <h2>{ format!("Lesson {}: {}", i + 1, l.title) }</h2>
                <p class="cite">{ format!("{} · {}", l.section, l.era) }</p>
                { for l.text.iter().map(|t| html!{ <p>{ *t }</p> }) }
                <p class="task"><strong>{ "Task: " }</strong>{ l.task }</p>
                if p.achieved || p.done.contains(l.id) { <p class="goal ok" role="status">{ "✓ Goal reached." }</p> }
                else { <p class="goal" role="status">{ "Goal not reached yet: edit the scenario or type a command, then run." }</p> }
                <div class="row">
                    <button onclick={open(None)}>{ "All lessons" }</button>
                    if i + 1 < LESSONS.len() { <button onclick={open(Some(i + 1))}>{ "Next lesson" }</button> }
                </div>
            </section>
        },
    }
}

/// Keyboard shortcuts.
pub const SHORTCUTS: [(&str, &str); 9] = [
    ("→ / ←", "step forward / back"),
    ("Shift + → / ←", "ten steps forward / back"),
    ("Home / End", "first / last step"),
    ("Space", "play / pause"),
    ("c", "page cache and DAX side by side"),
    ("t", "theme: auto, light, dark"),
    ("p", "presentation mode (large fonts)"),
    ("/", "focus the console"),
    ("?", "this help (Escape closes it)"),
];

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub dispatch: Callback<Action>,
}

/// The keyboard help.
#[function_component(Help)]
pub fn help(p: &HelpProps) -> Html {
    let close = {
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(Action::ToggleHelp))
    };
    html! {
        <div class="help" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts">
            <h2>{ "Keyboard shortcuts" }</h2>
            <dl>{ for SHORTCUTS.iter().map(|(k, v)| html!{ <><dt><kbd>{ *k }</kbd></dt><dd>{ *v }</dd></> }) }</dl>
            <p>{ "In the console: ↑/↓ history, Tab completes a command word, Enter runs the line. In the editor: Ctrl+Enter runs the scenario. The address bar always holds a link to what you see: copy it to share." }</p>
            <button onclick={close} autofocus=true>{ "Close" }</button>
        </div>
    }
}
