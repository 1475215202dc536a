//! The views: function components that draw a [`Snapshot`] and send [`Action`]s up.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::boundary::{self, DeviceView, FileView, Snapshot};
use crate::state::{Action, Selection, State};

fn size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The whole application.
#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    let dispatch = {
        let state = state.clone();
        Callback::from(move |a: Action| state.dispatch(a))
    };
    // Derived from the state, recomputed only when the scenario or the step changes.
    let snap = {
        let key = (state.scenario.clone(), state.step);
        use_memo(key, |(text, step)| boundary::simulate(text, *step))
    };
    let body = match &*snap {
        Ok(s) => {
            html! { <Machine snap={s.clone()} selection={state.selection.clone()} dispatch={dispatch.clone()} /> }
        }
        Err(e) => html! {
            <section class="views" aria-label="Machine views">
                <p class="error" role="alert">{ format!("Scenario error at {e}") }</p>
            </section>
        },
    };
    let ok: Option<&Snapshot> = (*snap).as_ref().ok();
    let total = ok.map_or(0, |s| s.total_steps);
    let step = ok.map_or(0, |s| s.step);
    html! {
        <div class="app">
            <header class="topbar">
                <h1>{ "DAX Lab" }</h1>
                <p class="era" title="Which kernel the simulator behaves as">{ "Linux 4.0 (as Documentation/filesystems/dax.txt describes it)" }</p>
            </header>
            <main class="layout">
                { body }
                <Console draft={state.draft.clone()} dispatch={dispatch.clone()} />
                <Timeline step={step} total={total} dispatch={dispatch.clone()} />
                <Inspector snap={ok.cloned()} selection={state.selection.clone()} />
            </main>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct MachineProps {
    snap: Snapshot,
    selection: Option<Selection>,
    dispatch: Callback<Action>,
}

#[function_component(Machine)]
fn machine(p: &MachineProps) -> Html {
    let s = &p.snap;
    let c = &s.counters;
    html! {
        <section class="views" aria-label="Machine views">
            <div class="panel" aria-label="Block devices" role="group">
                <h2>{ "Block devices" }</h2>
                if s.devices.is_empty() { <p class="empty">{ "No devices yet." }</p> }
                <ul class="cards">
                    { for s.devices.iter().map(|d| html!{ <Device dev={d.clone()} selected={p.selection == Some(Selection::Device(d.name.clone()))} dispatch={p.dispatch.clone()} /> }) }
                </ul>
            </div>
            <div class="panel" aria-label="Mounts" role="group">
                <h2>{ "Mounts" }<span class="cite">{ "/proc/mounts" }</span></h2>
                if s.proc_mounts.is_empty() { <p class="empty">{ "Nothing mounted." }</p> }
                else { <pre class="mounts" data-testid="proc-mounts">{ &s.proc_mounts }</pre> }
            </div>
            <div class="panel" aria-label="Files" role="group">
                <h2>{ "Files" }</h2>
                if s.files.is_empty() { <p class="empty">{ "No files." }</p> }
                <ul class="cards">
                    { for s.files.iter().map(|f| html!{ <File file={f.clone()} selected={p.selection == Some(Selection::File(f.ino))} dispatch={p.dispatch.clone()} /> }) }
                </ul>
            </div>
            <div class="panel counters" aria-label="Counters" role="group">
                <h2>{ "Counters" }</h2>
                <dl>
                    <dt>{ "copies" }</dt><dd data-testid="copies">{ c.copies }</dd>
                    <dt>{ "bytes copied" }</dt><dd>{ c.bytes_copied }</dd>
                    <dt>{ "copies avoided" }</dt><dd>{ c.copies_avoided }</dd>
                    <dt>{ "page-cache pages" }</dt><dd>{ c.pagecache_pages }</dd>
                    <dt>{ "faults (minor / major)" }</dt><dd>{ format!("{} / {}", c.faults_minor, c.faults_major) }</dd>
                    <dt>{ "simulated time" }</dt><dd>{ format!("{} ns", c.sim_ns) }</dd>
                </dl>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct DeviceProps {
    dev: DeviceView,
    selected: bool,
    dispatch: Callback<Action>,
}

#[function_component(Device)]
fn device(p: &DeviceProps) -> Html {
    let d = &p.dev;
    let onclick = {
        let (dispatch, name) = (p.dispatch.clone(), d.name.clone());
        Callback::from(move |_| {
            dispatch.emit(Action::Select(Some(Selection::Device(name.clone()))))
        })
    };
    html! {
        <li>
            <button class={classes!("card", p.selected.then_some("selected"))} {onclick} aria-pressed={p.selected.to_string()} data-testid={format!("device-{}", d.name)}>
                <span class="title">{ format!("/dev/{}", d.name) }</span>
                <span class="meta">{ format!("{} · {}", d.kind, size(d.size)) }</span>
                <span class={classes!("badge", if d.direct_access { "yes" } else { "no" })}>
                    { if d.direct_access { "direct_access ✓" } else { "no direct_access" } }
                </span>
            </button>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct FileProps {
    file: FileView,
    selected: bool,
    dispatch: Callback<Action>,
}

#[function_component(File)]
fn file(p: &FileProps) -> Html {
    let f = &p.file;
    let onclick = {
        let (dispatch, ino) = (p.dispatch.clone(), f.ino);
        Callback::from(move |_| dispatch.emit(Action::Select(Some(Selection::File(ino)))))
    };
    html! {
        <li>
            <button class={classes!("card", p.selected.then_some("selected"))} {onclick} aria-pressed={p.selected.to_string()} data-testid={format!("file-{}", f.ino)}>
                <span class="title">{ &f.path }</span>
                <span class="meta">{ format!("inode {} · {} · {} · {}", f.ino, plural(f.size, "byte"), plural(f.blocks.len() as u64, "block"), plural(f.pages.len() as u64, "cached page")) }</span>
                if f.s_dax { <span class="badge yes" title="S_DAX is set in i_flags: read/write go through dax_do_io, mmap maps device pfns">{ "S_DAX" }</span> }
                else { <span class="badge no" title="No S_DAX: read/write go through the page cache">{ "page cache" }</span> }
            </button>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct ConsoleProps {
    draft: String,
    dispatch: Callback<Action>,
}

#[function_component(Console)]
fn console(p: &ConsoleProps) -> Html {
    let oninput = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            d.emit(Action::Edit(t.value()));
        })
    };
    let run = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.emit(Action::Run))
    };
    let onkeydown = {
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                d.emit(Action::Run);
            }
        })
    };
    html! {
        <section class="console" aria-label="Console">
            <h2><label for="scenario">{ "Scenario" }</label></h2>
            <textarea id="scenario" spellcheck="false" value={p.draft.clone()} {oninput} {onkeydown} rows="12" />
            <div class="row">
                <button class="primary" onclick={run} data-testid="run">{ "Run" }</button>
                <span class="hint">{ "Ctrl+Enter runs the scenario" }</span>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct TimelineProps {
    step: u32,
    total: u32,
    dispatch: Callback<Action>,
}

#[function_component(Timeline)]
fn timeline(p: &TimelineProps) -> Html {
    let total = p.total;
    let oninput = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            if let Ok(step) = i.value().parse() {
                d.emit(Action::Jump { step, total });
            }
        })
    };
    html! {
        <section class="timeline" aria-label="Timeline">
            <label for="step">{ "Step" }</label>
            <input id="step" type="range" min="0" max={total.to_string()} value={p.step.to_string()} {oninput} />
            <output for="step" data-testid="step">{ format!("{} / {}", p.step, total) }</output>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct InspectorProps {
    snap: Option<Snapshot>,
    selection: Option<Selection>,
}

#[function_component(Inspector)]
fn inspector(p: &InspectorProps) -> Html {
    let body = match (&p.snap, &p.selection) {
        (Some(s), Some(Selection::Device(n))) => match s.devices.iter().find(|d| &d.name == n) {
            Some(d) => html! {
                <dl>
                    <dt>{ "device" }</dt><dd>{ format!("/dev/{}", d.name) }</dd>
                    <dt>{ "driver" }</dt><dd>{ &d.kind }</dd>
                    <dt>{ "size" }</dt><dd>{ format!("{} ({} sectors of 512 bytes)", size(d.size), d.size / 512) }</dd>
                    <dt>{ "direct_access" }</dt><dd>{ if d.direct_access { "implemented" } else { "not implemented: -EOPNOTSUPP" } }</dd>
                    <dt>{ "backing" }</dt><dd>{ &d.backing }</dd>
                </dl>
            },
            None => html! { <p class="empty">{ "That device is gone." }</p> },
        },
        (Some(s), Some(Selection::File(ino))) => match s.files.iter().find(|f| f.ino == *ino) {
            Some(f) => html! {
                <dl>
                    <dt>{ "path" }</dt><dd>{ &f.path }</dd>
                    <dt>{ "inode" }</dt><dd>{ f.ino }</dd>
                    <dt>{ "i_size" }</dt><dd>{ f.size }</dd>
                    <dt>{ "i_flags" }</dt><dd>{ if f.s_dax { "S_DAX" } else { "(none)" } }</dd>
                    <dt>{ "block map" }</dt>
                    <dd>{ if f.blocks.is_empty() { "all holes".to_string() } else {
                        f.blocks.iter().map(|(i, b, u)| format!("{i}→{b}{}", if *u { " (unwritten)" } else { "" })).collect::<Vec<_>>().join(", ")
                    } }</dd>
                    <dt>{ "page cache" }</dt>
                    <dd>{ if f.pages.is_empty() { "empty".to_string() } else {
                        f.pages.iter().map(|(i, pfn, d, h)| format!("page {i}: pfn {pfn:#x}{}{}", if *d { " dirty" } else { "" }, if *h { " (hole page)" } else { "" })).collect::<Vec<_>>().join(", ")
                    } }</dd>
                </dl>
            },
            None => html! { <p class="empty">{ "That file is gone." }</p> },
        },
        _ => {
            html! { <p class="empty">{ "Select a device or a file to see all of its state." }</p> }
        }
    };
    html! {
        <aside class="inspector" aria-label="Inspector">
            <h2>{ "Inspector" }</h2>
            { body }
        </aside>
    }
}
