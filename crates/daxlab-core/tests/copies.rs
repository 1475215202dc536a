//! Copy accounting, exactly as the kernel paths copy: the page cache copies twice, DAX once,
//! loads through a DAX mapping never.

#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{by_func, cost, run_ok, TWO_MOUNTS};

const PAGES: u64 = 16;
const BYTES: u64 = PAGES * 4096;

/// Both files hold 16 pages of data, written back, with the page cache emptied.
fn written() -> String {
    format!("{TWO_MOUNTS}\nwrite p 0 pattern=seq len=64K\nwrite d 0 pattern=seq len=64K\nfsync p\ndrop_caches")
}

#[test]
fn reading_16_pages_costs_32_copies_through_the_page_cache_and_16_through_dax() {
    let pc = cost(&written(), "read p 0 64K", "/mnt/pc");
    assert_eq!((pc.copies, pc.bytes_copied), (2 * PAGES, 2 * BYTES));
    assert_eq!(pc.pagecache_pages, PAGES);
    assert_eq!(pc.copies_avoided, 0);

    let dax = cost(&written(), "read d 0 64K", "/mnt/dax");
    assert_eq!((dax.copies, dax.bytes_copied), (PAGES, BYTES));
    assert_eq!(dax.copies_avoided, PAGES);
    assert_eq!(dax.pagecache_pages, 0);
}

#[test]
fn writing_16_pages_costs_32_copies_through_the_page_cache_with_writeback_and_16_through_dax() {
    let setup = format!("{TWO_MOUNTS}\ntruncate p 64K\ntruncate d 64K");
    let pc = cost(&setup, "write p 0 pattern=seq len=64K\nfsync p", "/mnt/pc");
    assert_eq!((pc.copies, pc.bytes_copied), (2 * PAGES, 2 * BYTES));
    let dax = cost(&setup, "write d 0 pattern=seq len=64K\nfsync d", "/mnt/dax");
    assert_eq!((dax.copies, dax.bytes_copied), (PAGES, BYTES));
    assert_eq!(dax.copies_avoided, PAGES);
}

#[test]
fn loads_through_a_dax_mapping_copy_nothing_and_page_cache_mapping_reads_each_page_once() {
    let map = "mmap mp p 0 64K shared r\nmmap md d 0 64K shared r";
    let setup = format!("{}\n{map}", written());
    let dax = cost(&setup, "load md 0 64K", "/mnt/dax");
    assert_eq!(dax.copies, 0);
    assert_eq!(dax.bytes_copied, 0);
    assert_eq!(
        dax.copies_avoided, PAGES,
        "each fault maps the device frame instead of reading it"
    );
    assert_eq!((dax.faults_minor, dax.faults_major), (PAGES, 0));

    let pc = cost(&setup, "load mp 0 64K", "/mnt/pc");
    assert_eq!(
        (pc.copies, pc.bytes_copied),
        (PAGES, BYTES),
        "device to page cache, once per page"
    );
    assert_eq!((pc.faults_minor, pc.faults_major), (0, PAGES));
}

#[test]
fn loaded_bytes_are_the_written_bytes_on_both_mounts() {
    let text = format!(
        "{}\nmmap mp p 0 64K shared r\nmmap md d 0 64K shared r\n\
         expect load mp 0 64K == pattern=seq len=64K\nexpect load md 0 64K == pattern=seq len=64K\n\
         expect read p 0 64K == pattern=seq len=64K\nexpect read d 0 64K == pattern=seq len=64K",
        written()
    );
    run_ok(&text);
}

#[test]
fn a_dax_read_of_a_hole_zeroes_the_user_buffer_without_touching_the_device() {
    let setup = format!("{TWO_MOUNTS}\ntruncate d 64K");
    let dax = cost(&setup, "expect read d 0 64K == fill=0 len=64K", "/mnt/dax");
    assert_eq!(dax.copies, 0);
    let r = run_ok(&format!("{setup}\nread d 0 64K"));
    assert_eq!(by_func(&r, "zero", "iov_iter_zero").len(), PAGES as usize);
    assert!(
        by_func(&r, "call", "bdev_direct_access").is_empty(),
        "a hole needs no direct_access"
    );
}
