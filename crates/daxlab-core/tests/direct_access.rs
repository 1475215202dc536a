//! `direct_access` of every device kind, the block layer's checks in order, and the mount
//! refusals of 4.0 ext2.

#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::run_ok;
use daxlab_core::errno::Errno;
use daxlab_core::run::run_text;
use daxlab_core::sim::Sim;
use daxlab_core::vfs;

fn value(text: &str) -> serde_json::Value {
    let r = run_ok(text);
    r.results.last().expect("a result").value.clone()
}

#[test]
fn brd_maps_exactly_one_page_and_contiguous_devices_the_rest_of_the_device() {
    let brd = value("device r brd size=16M\ndirect_access r sector=8 size=1M");
    assert_eq!(
        (brd["length"].as_u64(), brd["avail"].as_u64()),
        (Some(4096), Some(4096)),
        "brd_direct_access returns PAGE_SIZE"
    );
    for kind in ["axonram", "dcssblk"] {
        let v = value(&format!(
            "device x {kind} size=16M\ndirect_access x sector=8 size=1M"
        ));
        assert_eq!(v["length"], 1 << 20, "{kind}: clamped to size");
        assert_eq!(
            v["avail"],
            (16 << 20) - 4096,
            "{kind}: the driver reports the rest of the device"
        );
        let v = value(&format!(
            "device x {kind} size=16M\ndirect_access x sector=32760 size=4K"
        ));
        assert_eq!(
            (v["length"].as_u64(), v["avail"].as_u64()),
            (Some(4096), Some(4096)),
            "{kind}: the last page"
        );
    }
}

#[test]
fn the_sector_becomes_a_pfn_and_a_linear_map_address() {
    let v = value("device x axonram size=16M\ndirect_access x sector=16 size=4K");
    // Device memory is placed at 4 GiB: sector 16 is byte 8192, pfn 0x100002.
    assert_eq!(v["pfn"], 0x100002);
    assert_eq!(v["kaddr"], "0xffff880100002000");
}

#[test]
fn each_error_of_bdev_direct_access() {
    let cases = [
        (
            "device x disk size=16M\ndirect_access x sector=0 size=4K",
            "EOPNOTSUPP",
        ),
        (
            "device x window size=16M\ndirect_access x sector=0 size=4K",
            "EOPNOTSUPP",
        ),
        (
            "device x stall size=16M\ndirect_access x sector=0 size=4K",
            "EOPNOTSUPP",
        ),
        (
            "device x brd size=16M\ndirect_access x sector=32768 size=4K",
            "ERANGE",
        ),
        (
            "device x brd size=16M\ndirect_access x sector=32760 size=8K",
            "ERANGE",
        ),
        (
            "device x brd size=16M\ndirect_access x sector=1 size=4K",
            "EINVAL",
        ),
        (
            "device x axonram size=16M\ndirect_access x sector=4 size=512",
            "EINVAL",
        ),
    ];
    for (text, errno) in cases {
        let r = run_text(text);
        let last = r.results.last().expect("a result");
        assert_eq!(
            last.errno.map(|e| e.to_string()).as_deref(),
            Some(errno),
            "{text}"
        );
    }
}

#[test]
fn checks_run_in_the_4_0_order_range_before_alignment() {
    // Misaligned *and* out of range: -ERANGE, because the range check comes first.
    let r = run_text("device x brd size=16M\ndirect_access x sector=40001 size=4K");
    assert_eq!(r.results[1].errno, Some(Errno::ERANGE));
}

#[test]
fn brd_fails_with_enospc_when_no_page_can_be_allocated() {
    let mut sim = Sim::new(2 * 4096);
    let cx = sim.cx(daxlab_core::event::ThreadId(0));
    vfs::add_device(&cx, "r", daxlab_core::block_dev::DeviceKind::Brd, 1 << 20).expect("device");
    for (sector, want) in [(0, Ok(4096)), (8, Ok(4096)), (16, Err(Errno::ENOSPC))] {
        let cx = cx.clone();
        let got = sim.block_on(async move {
            vfs::direct_access(&cx, "r", sector, 4096)
                .await
                .map(|d| d.length)
        });
        assert_eq!(got, Some(want), "sector {sector}");
    }
}

#[test]
fn mount_refusals_and_proc_mounts() {
    let r = run_text("device x brd size=16M\nmkfs ext2 /dev/x bs=1024\nmount /dev/x /mnt -o dax");
    assert_eq!(r.results[2].errno, Some(Errno::EINVAL));
    assert_eq!(
        r.results[2].value,
        "EXT2-fs (x): error: unsupported blocksize for dax"
    );

    let r = run_text("device x disk size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o dax");
    assert_eq!(
        r.results[2].value,
        "EXT2-fs (x): error: device does not support dax"
    );

    let r = run_text("device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o dax,bogus");
    assert_eq!(r.results[2].errno, Some(Errno::EINVAL));

    let v = value(
        "device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o xip\ncat /proc/mounts",
    );
    assert_eq!(v, "/dev/x /mnt ext2 rw,relatime,dax 0 0\n");
    let r = run_ok("device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o xip");
    assert!(r
        .events
        .iter()
        .any(|e| e["text"] == "EXT2-fs (x): use dax instead of xip"));
}

#[test]
fn on_armv5_the_4_0_kernel_has_no_fs_dax_and_ignores_the_option() {
    let r = run_ok("arch armv5\ndevice x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o dax\ncat /proc/mounts");
    assert_eq!(
        r.results.last().expect("result").value,
        "/dev/x /mnt ext2 rw,relatime 0 0\n"
    );
    assert!(r
        .events
        .iter()
        .any(|e| e["text"] == "EXT2-fs (x): dax option not supported"));
}
