//! The core in the browser: the same scenarios give the same results under wasm32 in headless
//! Chromium as natively.

#![cfg(target_arch = "wasm32")]

use daxlab_core::lang::report::{run_text, Report};
use daxlab_core::lang::text;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fingerprint(r: &Report) -> String {
    let mut s: String = r
        .events
        .iter()
        .map(|e| text::event(e, &r.names) + "\n")
        .collect();
    s.push_str(&format!("{:?}", r.counters));
    s
}

#[wasm_bindgen_test]
fn the_races_reproduce_in_the_browser() {
    for text in [
        include_str!("../../../scenarios/races/r1-two-write-faults.dax"),
        include_str!("../../../scenarios/races/r4-fault-vs-truncate.dax"),
    ] {
        let r = run_text(text);
        assert!(
            r.ok(),
            "{:?}",
            r.results.iter().filter(|c| !c.ok()).collect::<Vec<_>>()
        );
        assert_eq!(
            fingerprint(&r),
            fingerprint(&run_text(text)),
            "deterministic in wasm too"
        );
    }
}

#[wasm_bindgen_test]
fn copy_accounting_is_the_same_in_the_browser() {
    let text = "device a brd size=16M\ndevice b brd size=16M\nmkfs ext2 /dev/a\nmkfs ext2 /dev/b\n\
                mount /dev/a /pc\nmount /dev/b /dax -o dax\nopen p /pc/f create\nopen d /dax/f create\n\
                write p 0 pattern=seq len=64K\nwrite d 0 pattern=seq len=64K\nfsync p\ndrop_caches\n\
                read p 0 64K\nread d 0 64K";
    let r = run_text(text);
    assert!(r.ok());
    // 16 pages: written back (16) and read back in (16) and copied out (16) plus the write (16).
    assert_eq!(r.mount("/pc").expect("mount").copies, 64);
    // 16 pages written and 16 read, one copy each.
    assert_eq!(r.mount("/dax").expect("mount").copies, 32);
}

#[wasm_bindgen_test]
fn bad_text_is_an_error_not_a_panic() {
    let r = run_text("device x brd size=1M\nwrite f 0 \"unterminated");
    let e = r.error.expect("an error");
    assert_eq!((e.line, e.col), (2, 11));
}

/// Jumping to a step (nearest checkpoint, then replay) gives the machine that running straight
/// there gives, at steps inside long commands and inside a race's group of threads.
#[wasm_bindgen_test]
fn jumps_equal_running_straight_there_in_the_browser() {
    use daxlab_core::engine::exec::{Execution, RunOptions};
    use daxlab_core::engine::trace::TraceMode;
    use daxlab_core::lang::parse::parse;
    let long = "device d brd size=16M\nmkfs ext2 /dev/d\nmount /dev/d /dax -o dax\n\
                open f /dax/f create\nwrite f 0 fill=7 len=1M\nread f 0 1M\n";
    for text in [
        long,
        include_str!("../../../scenarios/races/r1-two-write-faults.dax"),
    ] {
        let s = parse(text).expect("valid");
        let opts = |trace, checkpoint_every| RunOptions {
            trace,
            keep_steps: true,
            checkpoint_every,
            batch: false,
        };
        let mut whole = Execution::new(&s, opts(TraceMode::Full, 7)).expect("runs");
        whole.run_to_end();
        assert!(whole.checkpoints().len() > 1, "checkpoints were taken");
        let total = whole.step();
        for k in 1..8 {
            let step = total * k / 8;
            let jumped = whole.fork_at(step, opts(TraceMode::Off, 0));
            let mut straight = Execution::new(&s, opts(TraceMode::Off, 0)).expect("runs");
            straight.advance(step);
            assert_eq!(jumped.step(), step);
            assert_eq!(
                format!("{:?}", jumped.machine()),
                format!("{:?}", straight.machine()),
                "machine at step {step}"
            );
            assert_eq!(jumped.counters(), straight.counters());
        }
    }
}
