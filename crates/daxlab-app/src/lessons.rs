//! The lessons: one per part of `Documentation/filesystems/dax.txt` (Linux 4.0), each a short
//! explanation, a scenario to start from and a goal the sandbox checks. No DOM here.

use crate::boundary::{Run, Seek, Snapshot};

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
    /// Whether a run achieves the task (given the machine at its end).
    pub check: fn(&Run, &Snapshot) -> bool,
    /// The step that matters: the lesson opens there.
    pub focus: Focus,
    /// Where to look at that step.
    pub look: &'static str,
}

/// A step of a run, named by the command it belongs to and what happens in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Focus {
    /// The command, by how its text starts.
    pub command: &'static str,
    /// The first step of the command that does this (`None`: its first step).
    pub seek: Option<Seek>,
}

impl Focus {
    /// The step in `run`, if the command ran.
    pub fn step(&self, run: &Run) -> Option<u32> {
        let r = run
            .results
            .iter()
            .filter(|r| r.command.starts_with(self.command))
            .min_by_key(|r| r.start)?;
        let Some(seek) = self.seek else {
            return Some(r.start);
        };
        match run.seek(seek, r.start.saturating_sub(1), true) {
            Some(s) if s <= r.step => Some(s),
            _ => Some(r.start),
        }
    }
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
        check: |run, snap| {
            dax_mounts(snap).iter().any(|m| {
                let c = snap.by_mount.iter().find(|x| &x.path == m).map(|x| x.counters).unwrap_or_default();
                c.copies_avoided > 0 && c.pagecache_pages == 0
            }) && run.results.iter().any(|r| r.ok() && r.command.starts_with("read d"))
        },
        focus: Focus { command: "read p", seek: Some(Seek::Copy) },
        look: "This step is the read on the page-cache mount. Look at the copy arrows: each page is copied twice, device → page cache, then page cache → user; the page-cache grid of /mnt/pc/file holds every page. Press ] for the next copy.",
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
        check: |run, _| {
            run.results.iter().any(|r| r.command.starts_with("mount") && r.message.as_deref().is_some_and(|v| v.contains("dax")) && r.errno.is_some())
        },
        focus: Focus { command: "mount", seek: None },
        look: "This step starts the mount. Its result says ok, and /proc/mounts under Block devices shows rw,relatime,dax. The command reference under the console lists mkfs's bs= and the device kinds.",
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
        check: |run, _| {
            run.results.iter().any(|r| r.command.starts_with("direct_access") && r.errno == Some("EINVAL"))
        },
        focus: Focus { command: "direct_access pmem0", seek: None },
        look: "This step calls brd's direct_access. The results list gives the pfn, the kernel address and the length: 4096, one page, although 1M was asked for. The next results are axonram's (the rest of the device) and the disk's (-EOPNOTSUPP).",
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
        check: |run, snap| {
            run.called.contains("ext2_dax_mkwrite")
                && snap.vmas.iter().any(|v| {
                    v.ptes.cells.iter().any(|c| c.first == 0 && c.kind == crate::boundary::cells::Kind::PteDevice)
                })
        },
        focus: Focus { command: "load m", seek: Some(Seek::Fault) },
        look: "This step is the read fault of load m 0 16: dax_fault finds a hole and maps the zeroed hole page read-only. Look at page 0 of mapping m in the process view (a hole page, H) and at the call graph.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::{run, ViewOptions};

    fn reached(i: usize, scenario: &str) -> bool {
        let r = run(scenario).expect("valid scenario");
        assert!(r
            .results
            .iter()
            .all(|r| !r.command.starts_with("expect") || r.ok()));
        (LESSONS[i].check)(&r, &r.view(r.total, &ViewOptions::default()).machine)
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
    fn each_lesson_opens_at_a_step_that_shows_its_point() {
        for l in &LESSONS {
            let r = run(l.scenario).expect("valid");
            let step = l
                .focus
                .step(&r)
                .unwrap_or_else(|| panic!("{}: no focus step", l.id));
            let v = r.view(step, &ViewOptions::default());
            let running = r.running_at(step);
            assert!(
                r.results[running[0]].command.starts_with(l.focus.command),
                "{}: step {step} is not in {}",
                l.id,
                l.focus.command
            );
            match l.focus.seek {
                Some(Seek::Copy) => assert!(v.events.iter().any(|e| e.kind == "copy"), "{}", l.id),
                Some(Seek::Fault) => {
                    assert!(v.events.iter().any(|e| e.kind == "fault"), "{}", l.id)
                }
                _ => {}
            }
            assert!(step < r.total, "{}: not the last step", l.id);
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
