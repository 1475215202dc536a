//! `direct_access` of every device kind, the block layer's checks in order, and the mount
//! refusals and messages of 4.0 ext2 and ext4.

#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{last_value, run_ok, texts};
use daxlab_core::engine::trace::Fail;
use daxlab_core::errno::Errno;
use daxlab_core::lang::outcome::Value;
use daxlab_core::lang::report::run_text;
use daxlab_core::state::block_dev::DirectAccess;

fn mapped(text: &str) -> DirectAccess {
    match last_value(&run_ok(text)) {
        Value::Mapped(d) => *d,
        v => panic!("{text}: {v:?}"),
    }
}

fn errno(text: &str, i: usize) -> Option<Errno> {
    match run_text(text).results[i].outcome.fail {
        Some(Fail::Errno(e)) => Some(e),
        _ => None,
    }
}

#[test]
fn brd_maps_exactly_one_page_and_contiguous_devices_the_rest_of_the_device() {
    let brd = mapped("device r brd size=16M\ndirect_access r sector=8 size=1M");
    assert_eq!(
        (brd.length, brd.avail),
        (4096, 4096),
        "brd_direct_access returns PAGE_SIZE"
    );
    let ax = mapped("device x axonram size=16M\ndirect_access x sector=8 size=1M");
    assert_eq!(ax.length, 1 << 20, "clamped to size");
    assert_eq!(
        ax.avail,
        (16 << 20) - 4096,
        "the driver reports the rest of the device"
    );
    // dcssblk's `end` is the segment's last byte: one byte short of the rest.
    let dc = mapped("device x dcssblk size=16M\ndirect_access x sector=8 size=1M");
    assert_eq!(dc.avail, (16 << 20) - 4096 - 1);
    let last = mapped("device x dcssblk size=16M\ndirect_access x sector=32760 size=4K");
    assert_eq!(
        (last.length, last.avail),
        (4095, 4095),
        "the last page offers 4095 bytes"
    );
    let last = mapped("device x axonram size=16M\ndirect_access x sector=32760 size=4K");
    assert_eq!((last.length, last.avail), (4096, 4096));
}

#[test]
fn the_sector_becomes_a_pfn_and_a_linear_map_address() {
    let d = mapped("device x axonram size=16M\ndirect_access x sector=16 size=4K");
    // Device memory is placed at 4 GiB: sector 16 is byte 8192, pfn 0x100002.
    assert_eq!(d.pfn.0, 0x100002);
    assert_eq!(d.kaddr, 0xffff_8801_0000_2000);
}

#[test]
fn each_error_of_bdev_direct_access() {
    let cases = [
        (
            "device x disk size=16M\ndirect_access x sector=0 size=4K",
            Errno::EOPNOTSUPP,
        ),
        (
            "device x window size=16M\ndirect_access x sector=0 size=4K",
            Errno::EOPNOTSUPP,
        ),
        (
            "device x stall size=16M\ndirect_access x sector=0 size=4K",
            Errno::EOPNOTSUPP,
        ),
        (
            "device x brd size=16M\ndirect_access x sector=32768 size=4K",
            Errno::ERANGE,
        ),
        (
            "device x brd size=16M\ndirect_access x sector=32760 size=8K",
            Errno::ERANGE,
        ),
        (
            "device x brd size=16M\ndirect_access x sector=1 size=4K",
            Errno::EINVAL,
        ),
        (
            "device x axonram size=16M\ndirect_access x sector=4 size=512",
            Errno::EINVAL,
        ),
        // brd has direct_access only with CONFIG_BLK_DEV_RAM_DAX, which needs FS_DAX.
        (
            "arch armv5\ndevice x brd size=16M\ndirect_access x sector=0 size=4K",
            Errno::EOPNOTSUPP,
        ),
    ];
    for (text, want) in cases {
        let r = run_text(text);
        assert_eq!(
            r.results.last().expect("result").outcome.fail,
            Some(Fail::Errno(want)),
            "{text}"
        );
    }
}

#[test]
fn checks_run_in_the_4_0_order_range_before_alignment() {
    // Misaligned *and* out of range: -ERANGE, because the range check comes first.
    assert_eq!(
        errno(
            "device x brd size=16M\ndirect_access x sector=40001 size=4K",
            1
        ),
        Some(Errno::ERANGE)
    );
}

#[test]
fn brd_fails_with_enospc_when_no_page_can_be_allocated() {
    use daxlab_core::engine::cx::{run_alone, Cx, World};
    use daxlab_core::engine::trace::TraceMode;
    use daxlab_core::kernel::{block_dev, mount};
    use daxlab_core::state::block_dev::DeviceKind;
    use daxlab_core::state::{DevId, Machine, Pid, Tid};
    use std::{cell::RefCell, rc::Rc};
    // A machine with two pages of RAM.
    let w = Rc::new(RefCell::new(World::new(
        Machine::new(2 * 4096),
        TraceMode::Off,
    )));
    let cx = Cx::new(w, Tid(0), Pid(0));
    mount::add_device(&cx, "r", DeviceKind::Brd, 1 << 20, false).expect("device");
    for (sector, want) in [(0, Ok(4096)), (8, Ok(4096)), (16, Err(Errno::ENOSPC))] {
        let got = run_alone(
            block_dev::bdev_direct_access(&cx, DevId(0), sector, 4096),
            100,
        )
        .expect("finishes")
        .map(|d| d.length);
        assert_eq!(got, want, "sector {sector}");
    }
}

#[test]
fn mount_refusals_and_proc_mounts() {
    let r = run_text("device x brd size=16M\nmkfs ext2 /dev/x bs=1024\nmount /dev/x /mnt -o dax");
    assert_eq!(r.results[2].outcome.fail, Some(Fail::Errno(Errno::EINVAL)));
    assert_eq!(
        r.results[2].outcome.message.as_deref(),
        Some("EXT2-fs (x): error: unsupported blocksize for dax")
    );

    let r = run_text("device x disk size=16M\nmkfs ext4 /dev/x\nmount /dev/x /mnt -o dax");
    assert_eq!(
        r.results[2].outcome.message.as_deref(),
        Some("EXT4-fs (x): error: device does not support dax")
    );

    let r = run_text("device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o dax,bogus");
    assert_eq!(r.results[2].outcome.fail, Some(Fail::Errno(Errno::EINVAL)));

    let r = run_ok(
        "device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o xip\ncat /proc/mounts",
    );
    assert_eq!(
        last_value(&r),
        &Value::Text("/dev/x /mnt ext2 rw,relatime,xip,dax 0 0\n".into())
    );
    assert!(texts(&r)
        .iter()
        .any(|t| t == "kernel: EXT2-fs (x): use dax instead of xip"));

    // ext4 has no xip option in 4.0.
    let r = run_text("device x brd size=16M\nmkfs ext4 /dev/x\nmount /dev/x /mnt -o xip");
    assert_eq!(r.results[2].outcome.fail, Some(Fail::Errno(Errno::EINVAL)));
}

#[test]
fn without_fs_dax_ext2_mounts_without_dax_and_ext4_refuses() {
    let r = run_ok("arch armv5\ndevice x axonram size=16M\nmkfs ext2 /dev/x\nmount /dev/x /mnt -o dax\ncat /proc/mounts");
    assert_eq!(
        last_value(&r),
        &Value::Text("/dev/x /mnt ext2 rw,relatime 0 0\n".into())
    );
    assert_eq!(
        r.results[3].outcome.message.as_deref(),
        Some("EXT2-fs (x): dax option not supported")
    );
    assert!(r.results[3].outcome.is_ok(), "ext2 mounts anyway");
    let r = run_text(
        "arch mips-r4k\ndevice x axonram size=16M\nmkfs ext4 /dev/x\nmount /dev/x /mnt -o dax",
    );
    assert_eq!(r.results[3].outcome.fail, Some(Fail::Errno(Errno::EINVAL)));
    assert_eq!(
        r.results[3].outcome.message.as_deref(),
        Some("EXT4-fs (x): dax option not supported")
    );
}
