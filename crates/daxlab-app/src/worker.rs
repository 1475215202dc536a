//! The explorer's web worker. The page sends it a scenario to explore ([`Request`]); it runs
//! the explorer a few executions at a time and posts what it has found ([`Reply::Progress`])
//! about every [`REPORT_MS`], so the page draws a live progress bar while its own thread stays
//! free. It explores one scenario at a time: to stop one, the page terminates the worker.
//! Its wasm holds the core and the explorer but no user interface.

use daxlab_app::boundary::explore::{Job, Search};
use daxlab_app::wire::{Reply, Request};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Milliseconds between two progress reports.
const REPORT_MS: f64 = 20.0;
/// Executions between two looks at the clock (a level's execution takes tens of microseconds).
const BUDGET: u32 = 16;

fn post(scope: &DedicatedWorkerGlobalScope, r: &Reply) {
    // Posting fails only if the page has gone; nothing is left to tell then.
    let _ = scope.post_message(&r.encode().into());
}

fn explore(scope: &DedicatedWorkerGlobalScope, id: u32, text: &str, search: Search, max: u64) {
    let clock = scope.performance();
    let now = || clock.as_ref().map_or(0.0, |p| p.now());
    let t0 = now();
    let mut job = match Job::start(text, search, max) {
        Ok(j) => j,
        Err(message) => return post(scope, &Reply::Failed { id, message }),
    };
    let mut reported = t0;
    loop {
        let done = job.run(BUDGET);
        let t = now();
        if done || t - reported >= REPORT_MS {
            post(
                scope,
                &Reply::Progress {
                    id,
                    findings: job.findings(),
                    elapsed_ms: t - t0,
                    done,
                },
            );
            reported = t;
        }
        if done {
            return;
        }
    }
}

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let me = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        match Request::decode(&e.data().as_string().unwrap_or_default()) {
            Ok(Request::Start {
                id,
                text,
                search,
                max,
            }) => explore(&me, id, &text, search, max),
            Err(message) => post(&me, &Reply::Failed { id: 0, message }),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    // Messages sent before this point are lost: the page waits for this one first.
    post(&scope, &Reply::Ready);
}
