//! The 4.0 races reproduce under their schedule and not when the threads run one after the
//! other.

#![cfg(not(target_arch = "wasm32"))]

mod common;
use daxlab_core::run::run_text;

fn scenario(name: &str) -> String {
    let path = format!(
        "{}/../../scenarios/races/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn without_schedule(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("schedule"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn result<'a>(r: &'a daxlab_core::run::Report, command: &str) -> &'a daxlab_core::run::CmdResult {
    r.results
        .iter()
        .find(|c| c.command == command)
        .unwrap_or_else(|| panic!("no result for {command}"))
}

#[test]
fn r1_two_write_faults_on_one_hole_lose_a_store() {
    let text = scenario("r1-two-write-faults.dax");
    let raced = run_text(&text);
    assert!(raced.ok, "{:#?}", raced.results);
    // The loser's clear_page() came after the winner's store.
    let clears = raced
        .events
        .iter()
        .filter(|e| e["kind"] == "zero" && e["func"] == "clear_page")
        .count();
    assert_eq!(
        clears, 2,
        "ext2 zeroes in get_block, then dax_insert_mapping zeroes again"
    );

    let sequential = run_text(&without_schedule(&text));
    let lost = result(&sequential, "expect load m 0 1 == \"\\x00\"");
    assert!(!lost.ok, "without the interleaving b's store survives");
    assert_eq!(lost.value["actual"]["hex"], "42"); // "B"
}

#[test]
fn r4_allocating_fault_against_truncate_sigbus_and_a_block_past_eof() {
    let text = scenario("r4-fault-vs-truncate.dax");
    let raced = run_text(&text);
    assert!(raced.ok, "{:#?}", raced.results);
    let blocks = result(&raced, "expect blocks f == 1");
    assert_eq!(blocks.value["actual"]["past_eof"], serde_json::json!([1]));
    assert!(raced
        .events
        .iter()
        .any(|e| e["kind"] == "return" && e["func"] == "dax_insert_mapping" && e["ret"] == "-EIO"));

    let sequential = run_text(&without_schedule(&text));
    let store = result(&sequential, "expect store m 4K \"A\" == SIGBUS");
    assert!(!store.ok, "run alone, the store succeeds");
    assert_eq!(
        result(&sequential, "expect blocks f == 1").value["actual"]["count"],
        0,
        "and truncate frees the block"
    );
}

#[test]
fn a_schedule_naming_a_thread_that_does_not_exist_is_an_error_with_position() {
    let r = run_text("thread a {\n  drop_caches\n}\nschedule a b");
    let e = r.error.expect("an error");
    assert_eq!((e.line, e.col), (4, 12));
    assert!(e.message.contains("unknown thread \"b\""), "{}", e.message);
}

#[test]
fn a_blocked_thread_in_a_schedule_is_skipped_with_an_event() {
    // a holds i_mutex across its write; b's write must wait for it.
    let text = "device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /m -o dax\nopen f /m/f create\n\
                thread a {\n  write f 0 fill=1 len=8K\n}\nthread b {\n  write f 0 fill=2 len=4K\n}\n\
                schedule a a b b b a\nexpect read f 0 1 == \"\\x02\"";
    let r = run_text(text);
    assert!(r.ok, "{:#?}", r.results);
    assert!(r
        .events
        .iter()
        .any(|e| e["kind"] == "wait" && e["thread"] == "b"));
    assert!(r.events.iter().any(|e| e["kind"] == "schedule"
        && e["text"]
            .as_str()
            .unwrap_or("")
            .contains("waiting for i_mutex")));
}
