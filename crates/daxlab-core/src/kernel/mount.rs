//! Administration: block devices (`device`), `mkfs`, `mount` with the 4.0 refusals and
//! messages (`ext2_fill_super`, `ext4_fill_super`), `/proc/mounts`.

use std::rc::Rc;

use crate::engine::cx::Cx;
use crate::engine::trace::EventKind;
use crate::errno::Errno;
use crate::state::block_dev::{BlockDevice, DeviceConfig, DeviceKind, WINDOW_SIZE};
use crate::state::fs::{Filesystem, FsKind, Mount, MountOptions};
use crate::state::mem::{Pfn, PAGE_SIZE};
use crate::state::{DevId, FsId, Machine};

/// Why an administrative command was refused, with the kernel's own message where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{errno}: {message}")]
pub struct Refusal {
    /// The errno.
    pub errno: Errno,
    /// The kernel's message (`dmesg`), or what `mount(8)` says.
    pub message: Rc<str>,
}

fn refuse(errno: Errno, message: impl Into<String>) -> Refusal {
    Refusal {
        errno,
        message: message.into().into(),
    }
}

/// A kernel message: the `printk` event, and the text for the command's result.
fn printk(cx: &Cx, text: String) -> Rc<str> {
    let text: Rc<str> = text.into();
    cx.emit(EventKind::Printk { text: text.clone() });
    text
}

/// The largest device the model creates.
pub const MAX_DEVICE_SIZE: u64 = 1 << 40;

/// `device NAME KIND size=SIZE [pretend]`: register a block device.
pub fn add_device(
    cx: &Cx,
    name: &str,
    kind: DeviceKind,
    size: u64,
    pretend: bool,
) -> Result<(), Refusal> {
    if size > MAX_DEVICE_SIZE {
        return Err(refuse(
            Errno::EINVAL,
            "device size must be at most 1 TiB in the model",
        ));
    }
    if size < PAGE_SIZE || !size.is_multiple_of(PAGE_SIZE) {
        return Err(refuse(
            Errno::EINVAL,
            "device size must be a positive multiple of 4 KiB",
        ));
    }
    if pretend && !matches!(kind, DeviceKind::Window | DeviceKind::Stall) {
        return Err(refuse(
            Errno::EINVAL,
            "only window and stall devices can pretend to offer direct_access",
        ));
    }
    cx.with(|m| {
        if m.device_named(name).is_some() {
            return Err(refuse(Errno::EEXIST, format!("/dev/{name} exists")));
        }
        let base = m.next_device_phys;
        // CPU-addressable device memory is placed range after range, 1 GiB aligned.
        let span = match kind {
            DeviceKind::Axonram | DeviceKind::Dcssblk | DeviceKind::Stall => size,
            DeviceKind::Window => WINDOW_SIZE,
            DeviceKind::Brd | DeviceKind::Disk => 0,
        };
        m.next_device_phys += span.next_multiple_of(1 << 30);
        let id = DevId(m.devices.len() as u16);
        if span > 0 {
            m.mem
                .add_device_range(Pfn(base / PAGE_SIZE), span / PAGE_SIZE, id);
        }
        let config = DeviceConfig {
            fs_dax: m.config.fs_dax(),
            pretend,
        };
        m.devices
            .push(BlockDevice::new(id, name, kind, size, base, config));
        Ok(())
    })
}

/// `mkfs.ext2`/`mkfs.ext4`.
pub fn mkfs(cx: &Cx, kind: FsKind, dev: &str, block_size: u64) -> Result<(), Refusal> {
    cx.with(|m| {
        let d = m
            .device_named(dev)
            .ok_or_else(|| refuse(Errno::ENOENT, format!("/dev/{dev}: no such device")))?;
        if m.mounts.iter().any(|x| x.active && m.fs(x.fs).dev == d) {
            return Err(refuse(Errno::EBUSY, format!("/dev/{dev} is mounted")));
        }
        let size = m.device(d).driver.size();
        let existing = m.filesystems.iter().position(|f| f.dev == d);
        let id = FsId(existing.unwrap_or(m.filesystems.len()) as u16);
        let fs = Filesystem::mkfs(id, kind, d, size, block_size).map_err(|e| {
            refuse(
                e,
                format!("cannot make a filesystem with block size {block_size} on /dev/{dev}"),
            )
        })?;
        // A new filesystem replaces any old one on the device; its inodes go.
        match existing {
            Some(old) => {
                m.inodes.retain(|_, i| i.fs.0 as usize != old);
                m.filesystems[old] = fs;
            }
            None => m.filesystems.push(fs),
        }
        Ok(())
    })
}

/// `mount /dev/NAME /PATH -o OPTIONS` with the 4.0 checks of `ext2_fill_super` and
/// `ext4_fill_super`. Returns the kernel's messages.
pub fn mount(cx: &Cx, dev: &str, path: &str, opts: &str) -> Result<Vec<Rc<str>>, Refusal> {
    let found = cx.with(|m: &mut Machine| {
        let d = m.device_named(dev).ok_or_else(|| {
            refuse(
                Errno::ENOENT,
                format!("special device /dev/{dev} does not exist"),
            )
        })?;
        let fsi = m
            .filesystems
            .iter()
            .position(|f| f.dev == d)
            .ok_or_else(|| {
                refuse(
                    Errno::EINVAL,
                    format!("wrong fs type, bad option, bad superblock on /dev/{dev}"),
                )
            })?;
        if m.mounts.iter().any(|x| x.active && &*x.path == path) {
            return Err(refuse(
                Errno::EBUSY,
                format!("{path} is already a mount point"),
            ));
        }
        if m.mounts.iter().any(|x| x.active && x.fs.0 as usize == fsi) {
            return Err(refuse(
                Errno::EBUSY,
                format!("/dev/{dev} is already mounted"),
            ));
        }
        let f = &m.filesystems[fsi];
        Ok((
            FsId(fsi as u16),
            f.kind,
            f.block_size,
            m.device(d).driver.has_direct_access(),
            m.config.fs_dax(),
        ))
    })?;
    let (fs, kind, bs, has_da, fs_dax) = found;
    let tag = format!("{} ({dev})", kind.tag());
    let mut said = Vec::new();
    let mut opts = MountOptions::parse(opts).map_err(|o| {
        let m = printk(
            cx,
            format!("{tag}: Unrecognized mount option \"{o}\" or missing value"),
        );
        Refusal {
            errno: Errno::EINVAL,
            message: m,
        }
    })?;
    if opts.xip && kind == FsKind::Ext4 {
        // ext4 has no xip option in 4.0.
        let m = printk(
            cx,
            format!("{tag}: Unrecognized mount option \"xip\" or missing value"),
        );
        return Err(Refusal {
            errno: Errno::EINVAL,
            message: m,
        });
    }
    if opts.xip {
        said.push(printk(cx, format!("{tag}: use dax instead of xip")));
    }
    if opts.dax && !fs_dax {
        // Without CONFIG_FS_DAX (ARM, MIPS, SPARC in 4.0) the option is known but unsupported:
        // ext2 says so and mounts without it; ext4's handle_mount_opt fails the mount.
        let m = printk(cx, format!("{tag}: dax option not supported"));
        if kind == FsKind::Ext4 {
            return Err(Refusal {
                errno: Errno::EINVAL,
                message: m,
            });
        }
        said.push(m);
        opts.dax = false;
    }
    if opts.dax {
        if bs != PAGE_SIZE {
            let m = printk(cx, format!("{tag}: error: unsupported blocksize for dax"));
            return Err(Refusal {
                errno: Errno::EINVAL,
                message: m,
            });
        }
        if !has_da {
            let m = printk(cx, format!("{tag}: error: device does not support dax"));
            return Err(Refusal {
                errno: Errno::EINVAL,
                message: m,
            });
        }
    }
    cx.with(|m| {
        m.mounts.push(Mount {
            path: path.into(),
            fs,
            opts,
            active: true,
        })
    });
    Ok(said)
}

/// `/proc/mounts`.
pub fn proc_mounts(m: &Machine) -> String {
    let mut s = String::new();
    for mnt in m.mounts.iter().filter(|x| x.active) {
        let f = m.fs(mnt.fs);
        let mut o = String::from(if mnt.opts.ro { "ro" } else { "rw" });
        o.push_str(",relatime");
        if mnt.opts.xip {
            o.push_str(",xip");
        }
        if mnt.opts.dax {
            o.push_str(",dax");
        }
        s.push_str(&format!(
            "/dev/{} {} {} {} 0 0\n",
            m.device(f.dev).name,
            mnt.path,
            f.kind.name(),
            o
        ));
    }
    s
}
