//! Same scenario, same schedule, same trace: every scenario in the repository, run twice.

#![cfg(not(target_arch = "wasm32"))]

use daxlab_core::run::run_text;

fn scenarios() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir)
            .expect("scenarios directory")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "dax") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
        &mut v,
    );
    v.sort();
    v
}

#[test]
fn every_scenario_gives_identical_json_twice_and_passes_its_expects() {
    let all = scenarios();
    assert!(all.len() >= 3, "found {all:?}");
    for p in all {
        let text = std::fs::read_to_string(&p).expect("read scenario");
        let a = run_text(&text);
        let b = run_text(&text);
        assert!(
            a.ok,
            "{}: {:?} {:#?}",
            p.display(),
            a.error,
            a.results.iter().filter(|c| !c.ok).collect::<Vec<_>>()
        );
        assert!(!a.events.is_empty(), "{}: no events", p.display());
        assert_eq!(
            a.to_json(),
            b.to_json(),
            "{} is not deterministic",
            p.display()
        );
    }
}

#[test]
fn running_in_slices_gives_the_same_trace_as_running_in_one_go() {
    for p in scenarios() {
        let text = std::fs::read_to_string(&p).expect("read scenario");
        let s = daxlab_core::scenario::parse(&text).expect("valid scenario");
        let whole = daxlab_core::run::run(&s, None)
            .expect("runs")
            .report()
            .to_json();
        let mut e = daxlab_core::run::Execution::new(&s).expect("runs");
        let mut slices = 0;
        while !e.advance(7) {
            slices += 1;
        }
        assert!(slices > 1, "{}: ran in {slices} slices", p.display());
        assert_eq!(e.into_run().report().to_json(), whole, "{}", p.display());
    }
}
