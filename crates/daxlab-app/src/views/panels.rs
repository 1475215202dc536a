//! Side panels: counters with their plot, the call graph of the step, results, the inspector,
//! the welcome and the lessons.

use daxlab_core::engine::trace::Counters;
use yew::prelude::*;

use super::send;
use crate::boundary::{Run, Status, StepView};
use crate::lessons::LESSONS;
use crate::state::{Action, Selection};

/// Counters, one column each (one, or page cache and DAX side by side), and a plot of bytes
/// copied over the whole run.
pub fn counters(columns: &[(&'static str, Counters)], run: &Run, step: u32) -> Html {
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
    let o = &run.overview;
    let bins = o.bytes.len().max(1);
    let max = o.bytes.iter().copied().max().unwrap_or(1).max(1);
    let now = o.column(step).unwrap_or(0);
    html! {
        <div class="panel counters" role="group" aria-label="Counters">
            <h3>{ "Counters" }</h3>
            <table>
                <thead><tr><th scope="col"><span class="sr-only">{ "counter" }</span></th>{ for columns.iter().map(|(t, _)| html!{ <th scope="col">{ *t }</th> }) }</tr></thead>
                <tbody>
                { for rows.iter().map(|(name, f)| html! {
                    <tr><th scope="row">{ *name }</th>{ for columns.iter().map(|(_, c)| html!{ <td data-testid={format!("counter-{}", name.replace(' ', "-"))}>{ f(c) }</td> }) }</tr>
                }) }
                </tbody>
            </table>
            <svg class="plot" viewBox={format!("0 0 {bins} 50")} preserveAspectRatio="none" height="50" role="img" aria-label="Bytes copied over the run; the marked column is the step shown">
                { for o.bytes.iter().enumerate().filter(|(_, b)| **b > 0).map(|(i, b)| {
                    let bh = (b * 46 / max).max(1);
                    html! { <rect class={classes!((i <= now).then_some("past"))} x={i.to_string()} y={(50 - bh).to_string()} width="1.05" height={bh.to_string()} /> }
                }) }
                <rect class="now" x={now.to_string()} y="0" width="1" height="50" />
            </svg>
        </div>
    }
}

/// The panels beside the views: the step's call graph, the results, the inspector.
pub fn side(
    run: &Run,
    view: &StepView,
    hex: &[u32],
    selection: Option<&Selection>,
    dispatch: &Callback<Action>,
) -> Html {
    html! {
        <div class="side">
            { step_events(run, view, dispatch) }
            { results(run, view.step, hex, dispatch) }
            { inspector(view, selection, dispatch) }
        </div>
    }
}

/// The current step's events as a function_graph-style call graph; each links to what it
/// touched.
fn step_events(run: &Run, v: &StepView, dispatch: &Callback<Action>) -> Html {
    let thread = v
        .lane
        .and_then(|l| run.lanes.get(l))
        .map_or("—", |s| s.as_str());
    html! {
        <div class="panel events" role="group" aria-label="Events of this step">
            <h3>{ format!("Step {} · thread {thread}", v.step) }</h3>
            { for run.violations.iter().filter(|b| b.step == v.step && v.step > 0).map(|b| html! {
                <p class="broken" data-testid="violation-here"><strong>{ format!("✖ {} broke after this step: ", b.name) }</strong>{ &b.message }</p>
            }) }
            if v.step == 0 { <p class="empty">{ "Step 0: nothing has run yet. Step forward." }</p> }
            else if v.events.is_empty() { <p class="empty">{ "The thread ran to its next yield point without an event worth recording." }</p> }
            <ol class="graph" tabindex="0" aria-label="Call graph of this step">
                { for v.events.iter().map(|e| {
                    let indent = format!("padding-left: {}ch", e.depth.min(16));
                    html! {
                        <li class={classes!("ev", e.kind)} style={indent}>
                            if let Some(pfn) = e.pfn { <button class="link" onclick={send::<MouseEvent>(dispatch, Action::Select(Some(Selection::Pfn(pfn))))}>{ &e.text }</button> } else { { &e.text } }
                        </li>
                    }
                }) }
            </ol>
            if v.more_events > 0 { <p class="more">{ format!("+ {} more events in this step", v.more_events) }</p> }
        </div>
    }
}

/// The most results listed.
const MAX_RESULTS: usize = 12;

/// A hex dump, 16 bytes a line.
pub fn hex_dump(b: &[u8]) -> String {
    b.chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let hex: Vec<String> = c.iter().map(|x| format!("{x:02x}")).collect();
            format!("{:04x}  {}", i * 16, hex.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Results of the commands finished so far, as the kernel reports them, and the command in
/// progress, marked.
fn results(run: &Run, step: u32, hexed: &[u32], dispatch: &Callback<Action>) -> Html {
    let current = run.running_at(step);
    let unfinished: Vec<usize> = current
        .iter()
        .copied()
        .filter(|i| run.results[*i].step > step)
        .collect();
    let done: Vec<usize> = (0..run.results.len())
        .filter(|i| run.results[*i].step <= step)
        .collect();
    let jump = |s: u32| send::<MouseEvent>(dispatch, Action::Jump(s));
    let item = |i: usize| {
        let r = &run.results[i];
        let cur = current.contains(&i);
        let line = format!(
            "{}{:>3}  {}{}",
            if cur { "▶" } else { " " },
            r.line,
            r.thread
                .as_deref()
                .map(|t| format!("[{t}] "))
                .unwrap_or_default(),
            r.command
        );
        let finished = r.step <= step;
        let (class, label) = match r.status {
            _ if !finished => ("running", ""),
            Status::Ok => ("ok", ""),
            Status::Degraded => ("degraded", "⚠ degraded: "),
            Status::Failed if r.expect => ("bad", "✖ expect failed: "),
            Status::Failed => ("bad", "✖ refused: "),
        };
        let hex = hexed.contains(&r.line);
        html! {
            <li class={classes!(class, cur.then_some("cur"))} aria-current={cur.then_some("step")}>
                <button class="link" onclick={jump(r.start)} title={format!("Go to its first step ({}); it ends at step {}", r.start, r.step)}><code>{ line }</code></button>
                <span class="status">
                    if !finished { { format!("in progress: step {step} of its {}–{}", r.start, r.step) } }
                    else {
                        if !label.is_empty() { <strong>{ label }</strong> }
                        { r.text.chars().take(160).collect::<String>() }
                    }
                </span>
                if finished {
                    if let Some(m) = r.message.as_ref().filter(|m| !r.text.contains(m.as_str())) { <span class="printk">{ format!("kernel: {m}") }</span> }
                    if let Some(b) = &r.bytes {
                        <button class="chip" aria-pressed={hex.to_string()} onclick={send::<MouseEvent>(dispatch, Action::ToggleHex(r.line))}>{ "hex" }</button>
                        if hex { <pre class="hexdump" tabindex="0" aria-label={format!("The bytes of line {} in hex", r.line)}>{ hex_dump(b) }{ if r.len > b.len() as u64 { format!("\n… {} bytes in all", r.len) } else { String::new() } }</pre> }
                    }
                }
            </li>
        }
    };
    html! {
        <div class="panel results" role="group" aria-label="Results">
            <h3>{ format!("Results ({} of {})", done.len(), run.results.len()) }</h3>
            <ol aria-label="Commands in progress, then the latest results first; ▶ marks the command of this step">
                { for unfinished.iter().map(|i| item(*i)) }
                { for done.iter().rev().take(MAX_RESULTS).map(|i| item(*i)) }
            </ol>
            if done.len() > MAX_RESULTS { <p class="more">{ format!("+ {} earlier results", done.len() - MAX_RESULTS) }</p> }
        </div>
    }
}

/// All the state of the selected thing.
fn inspector(v: &StepView, selection: Option<&Selection>, dispatch: &Callback<Action>) -> Html {
    let s = &v.machine;
    // (what, value) rows, or a sentence when there is nothing to list.
    let rows: Result<Vec<(&str, String)>, &str> = match selection {
        Some(Selection::Pfn(pfn)) => Ok(std::iter::once(("page frame", format!("pfn {pfn:#x}")))
            .chain(
                s.frame
                    .iter()
                    .filter(|(f, _)| f == pfn)
                    .flat_map(|(_, i)| i.roles.iter())
                    .map(|r| (r.what, r.text.clone())),
            )
            .collect()),
        Some(Selection::Device(n)) => s
            .devices
            .iter()
            .find(|d| &d.name == n)
            .map(|d| {
                vec![
                    ("device", format!("/dev/{}", d.name)),
                    ("driver", d.kind.to_string()),
                    ("size", format!("{} bytes, {} sectors of 512", d.size, d.size / 512)),
                    (
                        "direct_access",
                        if d.direct_access { "implemented" } else { "not implemented: -EOPNOTSUPP" }
                            .to_string(),
                    ),
                    ("backing", d.backing.clone()),
                    ("pages in CPU frames", d.frames.items.to_string()),
                ]
            })
            .ok_or("That device does not exist at this step."),
        Some(Selection::File(ino)) => s
            .files
            .iter()
            .find(|f| f.ino == *ino)
            .map(|f| {
                let mut map: Vec<String> = f
                    .blocks
                    .cells
                    .iter()
                    .filter_map(|c| {
                        let b = c.value?;
                        Some(if c.count > 1 {
                            format!("{}–{}→{}–{}", c.first, c.first + c.count - 1, b, b + c.count - 1)
                        } else {
                            format!("{}→{b}", c.first)
                        })
                    })
                    .collect();
                if f.blocks.hidden > 0 {
                    map.push("…".into());
                }
                vec![
                    ("path", f.path.clone()),
                    ("inode", f.ino.to_string()),
                    ("i_size", f.size.to_string()),
                    ("i_flags", if f.s_dax { "S_DAX" } else { "(none)" }.to_string()),
                    ("block size", f.block_size.to_string()),
                    ("block map", if f.allocated == 0 { "all holes".into() } else { map.join(", ") }),
                    ("page cache", format!("{} pages", f.pages.items)),
                ]
            })
            .ok_or("That file does not exist at this step."),
        Some(Selection::Vma(n)) => s
            .vmas
            .iter()
            .find(|v| &v.name == n)
            .map(|v| {
                vec![
                    ("mapping", v.name.clone()),
                    ("range", format!("{:#x}–{:#x}", v.start, v.start + v.pages * 4096)),
                    ("file", v.file.clone()),
                    (
                        "flags",
                        format!(
                            "{}{}{}",
                            if v.shared { "VM_SHARED" } else { "private (COW)" },
                            if v.writable { " VM_WRITE" } else { "" },
                            if v.mixedmap { " VM_MIXEDMAP" } else { "" }
                        ),
                    ),
                    ("PTEs", format!("{} of {} pages", v.present, v.pages)),
                ]
            })
            .ok_or("That mapping does not exist at this step."),
        None => Err("Select a page frame, a block, a page, a PTE, a file or a device to see all of its state here."),
    };
    let pfn = match selection {
        Some(Selection::Pfn(p)) => Some(*p),
        _ => None,
    };
    html! {
        <aside class="panel inspector" aria-label="Inspector">
            <h2>{ "Inspector" }</h2>
            { match rows {
                Ok(rows) => html! { <dl>{ for rows.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }</dl> },
                Err(m) => html! { <p class="empty">{ m }</p> },
            } }
            if let Some(p) = pfn {
                <button onclick={send::<MouseEvent>(dispatch, Action::OpenPage(Some(p)))} aria-haspopup="dialog">{ "Page contents" }</button>
            }
            if !s.locks.is_empty() {
                <h3>{ "Locks held" }</h3>
                <ul class="locks">{ for s.locks.iter().map(|l| html!{ <li><code>{ l.lock.clone() }</code>{ format!(" — {}", l.holders) }</li> }) }</ul>
            }
        </aside>
    }
}

/// A first visit: what DAX is, in one sentence, and where to start.
pub fn welcome(dispatch: &Callback<Action>) -> Html {
    let start = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            super::hooks::welcomed();
            d.emit(Action::OpenLesson(Some(0)));
        })
    };
    let close = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            super::hooks::welcomed();
            d.emit(Action::Welcome(false));
        })
    };
    html! {
        <section class="panel welcome" aria-label="Welcome">
            <p>{ "DAX (direct access) lets a filesystem on memory-like storage skip the page cache: read(), write() and mmap() reach the device's own memory, with one copy or none instead of two." }</p>
            <div class="row">
                <button class="primary" onclick={start}>{ "Start with Lesson 1" }</button>
                <button onclick={close}>{ "Explore on my own" }</button>
            </div>
        </section>
    }
}

/// The lesson list, or the open lesson with its task, where to look and whether the goal is
/// reached. (Focus follows it: see `hooks::use_lesson_focus`.)
pub fn lesson_panel(
    lesson: Option<usize>,
    done: &[String],
    run: Option<&Run>,
    step: u32,
    dispatch: &Callback<Action>,
) -> Html {
    let open = |i: Option<usize>| send::<MouseEvent>(dispatch, Action::OpenLesson(i));
    match lesson.map(|i| (i, &LESSONS[i])) {
        None => html! {
            <nav class="panel lessons" aria-label="Lessons">
                <h2>{ "Lessons" }</h2>
                <ol>
                    { for LESSONS.iter().enumerate().map(|(i, l)| html! {
                        <li><button class="link" id={format!("lesson-{i}")} onclick={open(Some(i))}>{ l.title }</button>
                        if done.iter().any(|d| d == l.id) { <span class="badge yes">{ "✓ done" }</span> }</li>
                    }) }
                </ol>
            </nav>
        },
        Some((i, l)) => {
            let focus = run
                .filter(|r| r.text == l.scenario || r.text.starts_with(l.scenario))
                .and_then(|r| l.focus.step(r));
            let achieved = done.iter().any(|d| d == l.id);
            html! {
                <section class="panel lessons" aria-labelledby="lesson-title">
                    <h2 id="lesson-title" tabindex="-1">{ format!("Lesson {}: {}", i + 1, l.title) }</h2>
                    <p class="cite">{ format!("{} · {}", l.section, l.era) }</p>
                    // Reached, it says so first: the lesson's text scrolls, its top stays in view.
                    if achieved { <p class="goal ok" role="status">{ "✓ Goal reached." }</p> }
                    if let Some(f) = focus {
                        <div class="look">
                            <p><strong>{ format!("Where to look (step {f}{}): ", run.and_then(|r| r.running_at(f).first().map(|i| format!(", line {}", r.results[*i].line))).unwrap_or_default()) }</strong>{ l.look }</p>
                            if step != f { <button onclick={send::<MouseEvent>(dispatch, Action::Jump(f))}>{ format!("Go to step {f}") }</button> }
                        </div>
                    }
                    // The task before the explanation: in a short lesson box (a phone, a
                    // projector) it is what must stay in view.
                    <p class="task"><strong>{ "Task: " }</strong>{ l.task }</p>
                    { for l.text.iter().map(|t| html!{ <p>{ *t }</p> }) }
                    { more(l, dispatch) }
                    if !achieved { <p class="goal" role="status">{ "Goal not reached yet: edit the scenario or type a command, then run." }</p> }
                    <div class="row">
                        <button onclick={open(None)}>{ "All lessons" }</button>
                        if i + 1 < LESSONS.len() { <button onclick={open(Some(i + 1))}>{ "Next lesson" }</button> }
                    </div>
                </section>
            }
        }
    }
}

/// The other scenarios of a lesson's concept, each loaded and run by one button.
fn more(l: &crate::lessons::Lesson, d: &Callback<Action>) -> Html {
    if l.more.len() < 2 {
        return Html::default();
    }
    html! {
        <div class="more-scenarios"><strong>{ "Compare: " }</strong>
            { for l.more.iter().skip(1).map(|(name, text)| {
                let (d, text) = (d.clone(), *text);
                html! { <button class="chip" onclick={Callback::from(move |_: MouseEvent| { d.emit(Action::Edit(text.into())); d.emit(Action::Run); })}>{ *name }</button> }
            }) }
        </div>
    }
}
