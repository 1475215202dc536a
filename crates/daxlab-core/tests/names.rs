//! A kernel name is right for the path it labels: a run on ext4 alone never shows an `ext2_*`
//! function (ext4 has its own `get_block`, `direct_IO`, `setattr`, `fault`, `page_mkwrite`),
//! and one on ext2 alone never shows `ext4_*`.

#![cfg(not(target_arch = "wasm32"))]

use daxlab_core::engine::trace::EventKind;
use daxlab_core::lang::report::run_text;

/// Random and scripted scenarios over every path: each filesystem alone, page cache and DAX.
fn scenario(fs: &str) -> String {
    format!(
        "device d0 brd size=16M\nmkfs {fs} /dev/d0\nmount /dev/d0 /dax -o dax\n\
         device d1 brd size=16M\nmkfs {fs} /dev/d1\nmount /dev/d1 /pc\n\
         device d2 disk size=16M\nmkfs {fs} /dev/d2\nmount /dev/d2 /disk\n\
         open f /dax/f create\nopen g /pc/g create\nopen h /disk/h create direct\n\
         write f 100 fill=1 len=9000\nwrite g 100 fill=2 len=9000\nwrite h 0 fill=3 len=8K\n\
         truncate f 20K\nwrite f 12K fill=4 len=100\ntruncate h 24K\nwrite h 16K fill=5 len=4K\n\
         mmap m f 0 20K shared rw\nmmap n g 0 12K shared rw\nmmap p f 0 20K private rw\n\
         load m 0 10\nstore m 16K \"x\"\nload n 0 10\nstore n 100 \"y\"\nstore p 0 \"z\"\n\
         read f 0 20K\nread g 0 12K\nread h 0 24K\nfsync g\ndrop_caches\nread g 0 12K\n\
         truncate f 5000\ntruncate g 5000\ntruncate h 5000\nclose f\nunlink /dax/f\nmunmap m\nmunmap p\n"
    )
}

fn functions(text: &str) -> Vec<&'static str> {
    let r = run_text(text);
    assert!(r.error.is_none(), "{:?}", r.error);
    r.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Call { func } => Some(func),
            _ => None,
        })
        .collect()
}

#[test]
fn ext4_paths_name_ext4_functions_and_ext2_paths_ext2_ones() {
    for (fs, other) in [("ext4", "ext2_"), ("ext2", "ext4_")] {
        let f = functions(&scenario(fs));
        assert!(
            f.iter().any(|n| n.starts_with(&fs[..4])),
            "{fs}: no {fs} function at all"
        );
        let wrong: Vec<&&str> = f.iter().filter(|n| n.starts_with(other)).collect();
        assert!(wrong.is_empty(), "a run on {fs} calls {wrong:?}");
    }
}
