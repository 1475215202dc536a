//! The DAX read benchmark in the browser: the workload of `benches/machine.rs` (a 64 MiB file
//! read in 128 KiB `read()` calls into one reused buffer) against a memory copy of the same
//! bytes into one reused 128 KiB buffer, both timed with `performance.now()` in the same page.
//! A benchmark, not a test of behaviour: ignored by `cargo test`; `cargo xtask bench` runs it
//! (`--include-ignored --nocapture`) and reads its `BENCH_WASM {...}` line. It still checks
//! that every pass read the whole file and the right bytes.

#![cfg(target_arch = "wasm32")]

#[path = "../benches/workload/mod.rs"]
mod workload;

use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use workload::{last_chunk, machine, memcpy_pass, read_pass, source, CHUNK, FILE};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`, in milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[wasm_bindgen_test]
#[ignore = "a benchmark: cargo xtask bench runs it"]
fn dax_read_vs_memcpy_in_the_browser() {
    let e = machine(false);
    let src = source();
    let mut dst = vec![0u8; CHUNK as usize];
    // Warm up both paths, then interleave the timed passes so noise hits both alike.
    memcpy_pass(&src, &mut dst);
    assert_eq!(read_pass(&e, "d"), FILE);
    let (mut m, mut d) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        let t = performance_now();
        memcpy_pass(&src, &mut dst);
        m.push(performance_now() - t);
        let t = performance_now();
        let n = read_pass(&e, "d");
        d.push(performance_now() - t);
        assert_eq!(n, FILE, "a pass read the whole file");
    }
    assert_eq!(
        last_chunk(&e),
        src[(FILE - CHUNK) as usize..],
        "the bytes read are the file's"
    );
    let (m, d) = (median(m), median(d));
    assert!(m > 0.0 && d > 0.0, "performance.now() advanced");
    console_log!(
        "BENCH_WASM {{\"memcpy_ms\":{m:.3},\"dax_ms\":{d:.3},\"dax_read_vs_memcpy\":{:.4}}}",
        m / d
    );
}

/// Each race level explored to completion in the page, under 4.0 and under the fixed lock
/// policy, timed with `performance.now()` (the product's bar: under 100 ms each). Each is
/// explored once untimed first, so that the figure is the explorer's and not the browser's
/// compiling of the wasm. Prints `BENCH_WASM_LEVELS {...}`; checks that 4.0 is won and the
/// fixed policy is clean.
#[wasm_bindgen_test]
#[ignore = "a benchmark: cargo xtask bench runs it"]
fn levels_explored_in_the_browser() {
    use daxlab_core::engine::explore::{explore, Mode};
    use daxlab_core::lang::parse::parse;
    use daxlab_core::levels::LEVELS;
    use daxlab_core::state::Locking;
    let mut out = Vec::new();
    for l in &LEVELS {
        let mut ms = Vec::new();
        for locking in [Locking::V4_0, Locking::Fixed] {
            let s = parse(&l.program(locking)).expect("the level parses");
            explore(&s, Mode::Exhaustive { por: true }, usize::MAX).expect("explores");
            let t = performance_now();
            let r = explore(&s, Mode::Exhaustive { por: true }, usize::MAX).expect("explores");
            ms.push(performance_now() - t);
            assert!(r.complete, "{} explored to completion", l.id);
            assert_eq!(
                r.any_violation(),
                locking == Locking::V4_0,
                "{}: won under 4.0 only",
                l.id
            );
        }
        out.push(format!(
            "\"{}\":{{\"v4_0_ms\":{:.1},\"fixed_ms\":{:.1}}}",
            l.id, ms[0], ms[1]
        ));
    }
    console_log!("BENCH_WASM_LEVELS {{{}}}", out.join(","));
}
