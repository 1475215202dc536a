//! The lessons: one per part of `Documentation/filesystems/dax.txt` (Linux 4.0), each a short
//! explanation, a scenario to start from and a goal the sandbox checks. No DOM here.

use crate::boundary::{Session, Snapshot};

/// A lesson.
pub struct Lesson {
    /// Stable id (progress is stored under it).
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// The part of dax.txt it follows.
    pub section: &'static str,
    /// Which kernel it shows.
    pub era: &'static str,
    /// The explanation, paragraph by paragraph.
    pub text: &'static [&'static str],
    /// The scenario it loads.
    pub scenario: &'static str,
    /// The task, in one sentence.
    pub task: &'static str,
    /// Whether a run achieves the task.
    pub check: fn(&Session, &Snapshot) -> bool,
}

fn dax_mounts(snap: &Snapshot) -> Vec<String> {
    snap.proc_mounts
        .lines()
        .filter(|l| l.contains(",dax"))
        .filter_map(|l| l.split(' ').nth(1))
        .map(str::to_string)
        .collect()
}

/// The lessons in order.
pub const LESSONS: [Lesson; 4] = [
    Lesson {
        id: "motivation",
        title: "The page cache copies; DAX does not",
        section: "dax.txt, introduction (\"Motivation\")",
        era: "Linux 4.0",
        text: &[
            "A block device that is really memory (a RAM disk, a DDR bank, a hypervisor segment) still gets the page cache in front of it: a read() first copies the device's bytes into a page-cache page, then copies that page to the user. The data sits in RAM twice.",
            "With DAX, read() and write() copy straight between the user's buffer and the device (dax_do_io), and mmap maps the device's own page frames into the process. The scenario writes the same 64 KiB to a page-cache mount and to a DAX mount, then reads the page-cache copy back.",
        ],
        scenario: "# The same 64 KiB on a page-cache mount and on a DAX mount.\n\
device pc0 brd size=64M\ndevice dax0 brd size=64M\nmkfs ext2 /dev/pc0\nmkfs ext2 /dev/dax0\n\
mount /dev/pc0 /mnt/pc\nmount /dev/dax0 /mnt/dax -o dax\nopen p /mnt/pc/file create\nopen d /mnt/dax/file create\n\
write p 0 pattern=seq len=64K\nwrite d 0 pattern=seq len=64K\nfsync p\ndrop_caches\nread p 0 64K\n",
        task: "Read the file on the DAX mount too (read d 0 64K): its read must copy without any page-cache page.",
        check: |session, snap| {
            dax_mounts(snap).iter().any(|m| {
                let c = snap.by_mount.get(m).copied().unwrap_or_default();
                c.copies_avoided > 0 && c.pagecache_pages == 0
            }) && session.results.iter().any(|r| r.ok && r.command.starts_with("read d"))
        },
    },
    Lesson {
        id: "usage",
        title: "mount -o dax, and when the kernel refuses it",
        section: "dax.txt, \"Usage\"",
        era: "Linux 4.0",
        text: &[
            "A filesystem with DAX support is mounted with -o dax; /proc/mounts then shows dax among the options, and every regular file gets S_DAX in its inode flags.",
            "ext2 in 4.0 refuses the option when the filesystem's block size is not the page size (\"unsupported blocksize for dax\") and when the device has no direct_access (\"device does not support dax\").",
        ],
        scenario: "device pmem0 brd size=64M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /mnt/dax -o dax\ncat /proc/mounts\n",
        task: "Make the mount refuse -o dax: change the device or the mkfs so that ext2 says no.",
        check: |session, _| {
            session.results.iter().any(|r| r.command.starts_with("mount") && r.message.as_deref().is_some_and(|v| v.contains("dax")) && r.errno.is_some())
        },
    },
    Lesson {
        id: "block-drivers",
        title: "direct_access: from a sector to a page frame",
        section: "dax.txt, \"Implementation Tips for Block Driver Writers\"",
        era: "Linux 4.0",
        text: &[
            "A block driver offers DAX by implementing direct_access(bdev, sector, &kaddr, &pfn, size). The sector is in 512-byte units; the driver returns the page frame number and kernel address of that sector and how many bytes are contiguous from there.",
            "brd allocates its pages one at a time, so it only promises one page (4096). axonram and dcssblk are one contiguous range and return the rest of the device; the block layer clamps that to size. The block layer checks the range first (-ERANGE), then that the sector is page-aligned (-EINVAL). A disk has no direct_access at all (-EOPNOTSUPP).",
        ],
        scenario: "device pmem0 brd size=64M\ndevice bank axonram size=64M\ndevice sda disk size=64M\n\
direct_access pmem0 sector=8 size=1M\ndirect_access bank sector=8 size=1M\ndirect_access sda sector=8 size=4K\n",
        task: "Find a sector that direct_access refuses as misaligned (-EINVAL).",
        check: |session, _| {
            session.results.iter().any(|r| r.command.starts_with("direct_access") && r.errno == Some("EINVAL"))
        },
    },
    Lesson {
        id: "filesystems",
        title: "dax_fault: holes, hole pages and device pfns",
        section: "dax.txt, \"Implementation Tips for Filesystem Writers\"",
        era: "Linux 4.0",
        text: &[
            "A DAX filesystem's mmap sets VM_MIXEDMAP and sends faults to dax_fault with its get_block. A read fault on a hole maps a zeroed page-cache \"hole page\" read-only (4.0; later kernels map the shared zero page).",
            "A store to that hole page calls ->page_mkwrite, which is dax_mkwrite: get_block allocates the block (ext2 zeroes it first), the hole page is unmapped and dropped, and vm_insert_mixed maps the device's own page frame. Step through it and watch the PTE change its pfn.",
        ],
        scenario: "device pmem0 brd size=64M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /mnt/dax -o dax\n\
open f /mnt/dax/sparse create\ntruncate f 8K\nmmap m f 0 8K shared rw\nload m 0 16\n",
        task: "Store to the page you just loaded (store m 0 \"hi\") so that dax_mkwrite replaces the hole page with a device pfn.",
        check: |session, snap| {
            session.events.iter().any(|e| e.text == "ext2_dax_mkwrite() {")
                && snap.vmas.iter().any(|v| v.ptes.iter().any(|p| p.page == 0 && p.special))
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::{session, snapshot};

    fn reached(i: usize, scenario: &str) -> bool {
        let s = session(scenario).expect("valid scenario");
        assert!(s
            .results
            .iter()
            .all(|r| !r.command.starts_with("expect") || r.ok));
        (LESSONS[i].check)(&s, &snapshot(&s, s.total_steps))
    }

    /// What a learner would add to reach each goal.
    const SOLUTIONS: [&str; 4] = [
        "read d 0 64K\n",
        "", // replaced below: the lesson needs its mkfs changed, not a line added
        "direct_access pmem0 sector=3 size=4K\n",
        "store m 0 \"hi\"\n",
    ];

    #[test]
    fn no_lesson_is_done_by_its_own_scenario_and_each_is_reachable() {
        for (i, l) in LESSONS.iter().enumerate() {
            assert!(
                !reached(i, l.scenario),
                "{}: done before the learner did anything",
                l.id
            );
            let solved = if l.id == "usage" {
                l.scenario
                    .replace("mkfs ext2 /dev/pmem0", "mkfs ext2 /dev/pmem0 bs=1024")
            } else {
                format!("{}{}", l.scenario, SOLUTIONS[i])
            };
            assert!(
                reached(i, &solved),
                "{}: the intended solution does not reach the goal",
                l.id
            );
        }
    }

    #[test]
    fn the_usage_goal_accepts_either_refusal() {
        let disk = LESSONS[1]
            .scenario
            .replace("device pmem0 brd", "device pmem0 disk");
        assert!(reached(1, &disk));
    }
}
