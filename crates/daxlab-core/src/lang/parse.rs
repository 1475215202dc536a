//! The scenario language's parser: a tokenizer and a table of commands (the one list of
//! command words, with their syntax, a summary and an example, for the parser, the console's
//! completion and the reference on the page). Every error has its line and column and, where
//! a near word exists, a suggestion; an error at the end of a line says what could come next.

use std::rc::Rc;

use super::command::{BlockKind, Command, Expected, Item, Scenario, Stmt};
use super::data::{Data, Pattern};
use super::invariant::Invariant;
use crate::engine::trace::{Counters, Signal};
use crate::errno::Errno;
use crate::state::block_dev::DeviceKind;
use crate::state::fs::FsKind;
use crate::state::{Arch, Locking, OpenFlags};

/// What the parser wanted where it stopped: the console completes from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A command word.
    Command,
    /// One of these words.
    Words(&'static [&'static str]),
    /// A device name of the scenario.
    Device,
    /// A descriptor name of the scenario.
    Fd,
    /// A mapping name of the scenario.
    Map,
    /// A thread or process name of the scenario.
    Thread,
    /// A path (a mount point or a file).
    Path,
    /// `/dev/NAME` of a device of the scenario.
    DevPath,
    /// A number, size or data, or a new name: nothing to complete.
    Value,
}

/// An error in scenario text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, col {col}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
    /// What was expected, and a suggestion if there is one.
    pub message: String,
    /// What would be valid here.
    pub want: Option<Want>,
}

/// A command word with its syntax, for the parser, completion and the reference.
pub struct CommandSpec {
    /// The word.
    pub word: &'static str,
    /// Its arguments.
    pub syntax: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// An example line.
    pub example: &'static str,
    parse: fn(&mut Line<'_>) -> Result<Command, ParseError>,
}

/// Every command, in the order the reference lists them. Block words (`thread`, `process`,
/// `schedule`, `}`) are handled by [`parse`] itself and listed in [`BLOCK_WORDS`].
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        word: "kernel",
        syntax: "4.0",
        summary: "the kernel era (only Linux 4.0 is simulated); first if given",
        example: "kernel 4.0",
        parse: p_kernel,
    },
    CommandSpec {
        word: "arch",
        syntax: "x86_64|armv5|mips-r4k|sparc64 [pretend]",
        summary: "the CPU and its data cache; pretend builds FS_DAX where 4.0's Kconfig refuses it",
        example: "arch armv5 pretend",
        parse: p_arch,
    },
    CommandSpec {
        word: "locking",
        syntax: "4.0|none|fixed",
        summary:
            "the lock policy: 4.0's locks, none of the inode locks, or the later kernels' fixes",
        example: "locking fixed",
        parse: p_locking,
    },
    CommandSpec {
        word: "device",
        syntax: "NAME brd|axonram|dcssblk|window|stall|disk size=SIZE [pretend]",
        summary: "create a block device /dev/NAME",
        example: "device pmem0 brd size=64M",
        parse: p_device,
    },
    CommandSpec {
        word: "direct_access",
        syntax: "NAME sector=N size=SIZE",
        summary: "call the driver's direct_access: pfn, kernel address and length, or an errno",
        example: "direct_access pmem0 sector=8 size=4K",
        parse: p_direct_access,
    },
    CommandSpec {
        word: "mkfs",
        syntax: "ext2|ext4 /dev/NAME [bs=SIZE]",
        summary: "make a filesystem (block size 1K, 2K or 4K; DAX needs 4K)",
        example: "mkfs ext2 /dev/pmem0",
        parse: p_mkfs,
    },
    CommandSpec {
        word: "mount",
        syntax: "/dev/NAME /PATH [-o OPTIONS]",
        summary: "mount a filesystem; -o dax for direct access (xip is ext2's old name for it)",
        example: "mount /dev/pmem0 /mnt/dax -o dax",
        parse: p_mount,
    },
    CommandSpec {
        word: "umount",
        syntax: "/PATH",
        summary: "write back and unmount (refused while files are open or mapped)",
        example: "umount /mnt/dax",
        parse: p_umount,
    },
    CommandSpec {
        word: "cat",
        syntax: "/proc/mounts",
        summary: "show what is mounted, with its options",
        example: "cat /proc/mounts",
        parse: p_cat,
    },
    CommandSpec {
        word: "open",
        syntax: "FD /PATH [create] [trunc] [direct] [rdonly]",
        summary: "open a file as descriptor FD",
        example: "open f /mnt/dax/file create",
        parse: p_open,
    },
    CommandSpec {
        word: "close",
        syntax: "FD",
        summary: "close a descriptor",
        example: "close f",
        parse: p_close,
    },
    CommandSpec {
        word: "unlink",
        syntax: "/PATH",
        summary: "remove a name; the file goes when nothing has it open or mapped",
        example: "unlink /mnt/dax/file",
        parse: p_unlink,
    },
    CommandSpec {
        word: "read",
        syntax: "FD OFFSET LEN",
        summary: "read(2) into the thread's buffer; shows the bytes",
        example: "read f 0 4K",
        parse: p_read,
    },
    CommandSpec {
        word: "write",
        syntax: "FD OFFSET DATA",
        summary: "write(2) from the thread's buffer",
        example: "write f 0 \"hello\"",
        parse: p_write,
    },
    CommandSpec {
        word: "truncate",
        syntax: "FD SIZE",
        summary: "ftruncate(2)",
        example: "truncate f 4K",
        parse: p_truncate,
    },
    CommandSpec {
        word: "punch",
        syntax: "FD OFFSET LEN",
        summary: "fallocate(2) PUNCH_HOLE|KEEP_SIZE (ext4 only in 4.0)",
        example: "punch f 0 4K",
        parse: p_punch,
    },
    CommandSpec {
        word: "fsync",
        syntax: "FD",
        summary: "write the file's dirty pages back",
        example: "fsync f",
        parse: p_fsync,
    },
    CommandSpec {
        word: "sync",
        syntax: "",
        summary: "write every dirty page back",
        example: "sync",
        parse: p_sync,
    },
    CommandSpec {
        word: "drop_caches",
        syntax: "",
        summary: "sync, then evict every clean, unmapped, unlocked page-cache page",
        example: "drop_caches",
        parse: p_drop_caches,
    },
    CommandSpec {
        word: "blocks",
        syntax: "FD [unwritten|past_eof]",
        summary: "the file's allocated blocks (or only unwritten ones, or those past end of file)",
        example: "blocks f unwritten",
        parse: p_blocks,
    },
    CommandSpec {
        word: "mmap",
        syntax: "MAP FD OFFSET LEN shared|private r|rw",
        summary: "map a file into the process as MAP",
        example: "mmap m f 0 4K shared rw",
        parse: p_mmap,
    },
    CommandSpec {
        word: "munmap",
        syntax: "MAP",
        summary: "unmap a mapping",
        example: "munmap m",
        parse: p_munmap,
    },
    CommandSpec {
        word: "load",
        syntax: "MAP OFFSET LEN",
        summary: "the program loads through the mapping (faulting as needed)",
        example: "load m 0 5",
        parse: p_load,
    },
    CommandSpec {
        word: "store",
        syntax: "MAP OFFSET DATA",
        summary: "the program stores through the mapping",
        example: "store m 0 \"hi\"",
        parse: p_store,
    },
    CommandSpec {
        word: "odirect_from_map",
        syntax: "FD OFFSET MAP MAP_OFFSET LEN",
        summary: "an O_DIRECT write of FD whose user buffer is the mapping",
        example: "odirect_from_map g 0 m 0 4K",
        parse: p_odirect,
    },
    CommandSpec {
        word: "sendfile",
        syntax: "FD_OUT FD_IN OFFSET LEN",
        summary: "sendfile(2) from FD_IN to FD_OUT",
        example: "sendfile g f 0 4K",
        parse: p_sendfile,
    },
    CommandSpec {
        word: "splice",
        syntax: "FD_IN OFFSET LEN",
        summary: "splice(2) from a file into a pipe",
        example: "splice f 0 4K",
        parse: p_splice,
    },
    CommandSpec {
        word: "vmsplice",
        syntax: "MAP OFFSET LEN",
        summary: "vmsplice(2) of the mapping's pages into a pipe (pins them with get_user_pages)",
        example: "vmsplice m 0 4K",
        parse: p_vmsplice,
    },
    CommandSpec {
        word: "rdma_reg",
        syntax: "MAP OFFSET LEN",
        summary: "register the mapping for RDMA (ibv_reg_mr: pins its pages for writing)",
        example: "rdma_reg m 0 4K",
        parse: p_rdma_reg,
    },
    CommandSpec {
        word: "insmod",
        syntax: "/PATH",
        summary: "load a kernel module from a file (read into a vmalloc buffer, copied to RAM)",
        example: "insmod /mnt/dax/hello.ko",
        parse: p_insmod,
    },
    CommandSpec {
        word: "exec",
        syntax: "/PATH",
        summary: "run a program from a file: its text is mapped as `text` and fetched",
        example: "exec /mnt/dax/prog",
        parse: p_exec,
    },
    CommandSpec {
        word: "cache",
        syntax: "[MAP OFFSET LEN]",
        summary: "the data-cache lines holding the frames behind those bytes (all lines without arguments)",
        example: "cache m 0 64",
        parse: p_cache,
    },
    CommandSpec {
        word: "flush_dcache_page",
        syntax: "MAP OFFSET",
        summary: "write back and drop every cache line of the frame mapped there",
        example: "flush_dcache_page m 0",
        parse: p_flush_dcache_page,
    },
    CommandSpec {
        word: "expect",
        syntax: "COMMAND == RESULT | counter NAME [/MOUNT] == N | violation NAME | no violations",
        summary: "check a result, a counter or the invariants",
        example: "expect read f 0 5 == \"hello\"",
        parse: p_expect,
    },
];

/// The block words, with their syntax and summary (for the reference).
pub const BLOCK_WORDS: &[(&str, &str, &str)] = &[
    ("thread", "NAME { ... }", "commands a thread of the main process runs, concurrently with the other threads declared with it"),
    ("process", "NAME { ... }", "like thread, in a process of its own: its own mappings and page tables; it starts with the main process's descriptors"),
    ("schedule", "NAME NAME ...", "who runs each next step of the threads declared together; then the rest run in order"),
];

/// Every word a line can start with.
pub fn line_words() -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .map(|c| c.word)
        .chain(BLOCK_WORDS.iter().map(|(w, _, _)| *w))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    col: u32,
}

fn err(line: u32, col: u32, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        col,
        message: message.into(),
        want: None,
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The nearest candidate within two edits.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

fn unknown(line: u32, col: u32, what: &str, word: &str, candidates: &[&str]) -> ParseError {
    let mut m = format!("unknown {what} \"{word}\"");
    match suggest(word, candidates) {
        Some(s) => m.push_str(&format!("; did you mean \"{s}\"?")),
        None => m.push_str(&format!("; expected one of: {}", candidates.join(", "))),
    }
    err(line, col, m)
}

/// Split a line into tokens; `#` outside quotes starts a comment. Also returns the line's
/// text without the comment.
fn tokenize(line: u32, text: &str) -> Result<(Vec<Token>, String), ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            return Ok((
                out,
                chars[..i].iter().collect::<String>().trim().to_string(),
            ));
        }
        let col = i as u32 + 1;
        if c == '"' {
            let mut bytes = Vec::new();
            i += 1;
            loop {
                let Some(&c) = chars.get(i) else {
                    return Err(err(line, col, "unterminated string: expected a closing \""));
                };
                i += 1;
                match c {
                    '"' => break,
                    '\\' => {
                        let ecol = i as u32;
                        match chars.get(i) {
                            Some('n') => bytes.push(b'\n'),
                            Some('t') => bytes.push(b'\t'),
                            Some('\\') => bytes.push(b'\\'),
                            Some('"') => bytes.push(b'"'),
                            Some('x') => {
                                let hex: String = chars.iter().skip(i + 1).take(2).collect();
                                let v = u8::from_str_radix(&hex, 16)
                                    .ok()
                                    .filter(|_| hex.len() == 2)
                                    .ok_or_else(|| {
                                        err(
                                            line,
                                            ecol,
                                            "bad escape: expected \\x followed by two hex digits",
                                        )
                                    })?;
                                bytes.push(v);
                                i += 2;
                            }
                            _ => {
                                return Err(err(
                                    line,
                                    ecol,
                                    "bad escape: expected \\n, \\t, \\\\, \\\" or \\xNN",
                                ))
                            }
                        }
                        i += 1;
                    }
                    c => {
                        let mut b = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    }
                }
            }
            out.push(Token {
                tok: Tok::Str(bytes),
                col,
            });
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' && chars[i] != '#' {
            i += 1;
        }
        out.push(Token {
            tok: Tok::Word(chars[start..i].iter().collect()),
            col,
        });
    }
    Ok((out, text.trim().to_string()))
}

/// Parse a size or offset: decimal or `0x` hex, with an optional `K`, `M` or `G` suffix.
pub fn parse_size(s: &str) -> Option<u64> {
    let (num, mul) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1u64 << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let v = match num.strip_prefix("0x").or_else(|| num.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => num.parse().ok()?,
    };
    v.checked_mul(mul)
}

/// Largest data a single command may carry (keeps a typo like `len=900G` from exhausting
/// memory).
pub const MAX_DATA: u64 = 1 << 30;

/// The words of one line, being parsed.
pub struct Line<'a> {
    line: u32,
    toks: &'a [Token],
    pos: usize,
    end_col: u32,
}

impl<'a> Line<'a> {
    fn col(&self) -> u32 {
        self.toks.get(self.pos).map_or(self.end_col, |t| t.col)
    }
    fn err(&self, m: impl Into<String>) -> ParseError {
        err(self.line, self.col(), m)
    }
    /// An error for a missing or wrong token, saying what would be valid there.
    fn wanted(&self, m: impl Into<String>, want: Want) -> ParseError {
        ParseError {
            want: Some(want),
            ..self.err(m)
        }
    }
    fn peek_word(&self) -> Option<&'a str> {
        match self.toks.get(self.pos) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w.as_str()),
            _ => None,
        }
    }
    fn word(&mut self, what: &str, want: Want) -> Result<&'a str, ParseError> {
        match self.toks.get(self.pos) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => {
                self.pos += 1;
                Ok(w.as_str())
            }
            Some(_) => Err(self.err(format!("expected {what}, found a quoted string"))),
            None => Err(self.wanted(format!("expected {what}"), want)),
        }
    }
    /// One of `choices` (word, value).
    fn choice<T: Copy>(
        &mut self,
        what: &str,
        words: &'static [&'static str],
        choices: &[(&str, T)],
    ) -> Result<T, ParseError> {
        let c = self.col();
        let w = self.word(what, Want::Words(words))?;
        match choices.iter().find(|(n, _)| *n == w) {
            Some((_, v)) => Ok(*v),
            None => Err(ParseError {
                want: Some(Want::Words(words)),
                ..unknown(self.line, c, what, w, words)
            }),
        }
    }
    fn name(&mut self, what: &str, want: Want) -> Result<Rc<str>, ParseError> {
        let col = self.col();
        let w = self.word(what, want)?;
        let ok = w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(err(
                self.line,
                col,
                format!("expected {what} (a name like [a-z][a-z0-9_]*), found \"{w}\""),
            ));
        }
        Ok(Rc::from(w))
    }
    fn path(&mut self, what: &str) -> Result<Rc<str>, ParseError> {
        let col = self.col();
        let w = self.word(what, Want::Path)?;
        if !w.starts_with('/') || w.len() < 2 || w.ends_with('/') || w.contains("//") {
            return Err(err(
                self.line,
                col,
                format!("expected {what} (an absolute path like /mnt/dax), found \"{w}\""),
            ));
        }
        Ok(Rc::from(w))
    }
    fn dev(&mut self) -> Result<Rc<str>, ParseError> {
        let col = self.col();
        let w = self.word("a device path /dev/NAME", Want::DevPath)?;
        w.strip_prefix("/dev/")
            .filter(|n| !n.is_empty())
            .map(Rc::from)
            .ok_or_else(|| {
                err(
                    self.line,
                    col,
                    format!("expected a device path /dev/NAME, found \"{w}\""),
                )
            })
    }
    fn size(&mut self, what: &str) -> Result<u64, ParseError> {
        let col = self.col();
        let w = self.word(what, Want::Value)?;
        parse_size(w).ok_or_else(|| {
            err(
                self.line,
                col,
                format!("expected {what} (like 4096, 0x1000, 4K, 1M), found \"{w}\""),
            )
        })
    }
    fn key(&mut self, key: &str, what: &str) -> Result<u64, ParseError> {
        let col = self.col();
        let w = self.word(&format!("{key}={what}"), Want::Value)?;
        let v = w
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .ok_or_else(|| {
                err(
                    self.line,
                    col,
                    format!("expected {key}={what}, found \"{w}\""),
                )
            })?;
        parse_size(v).ok_or_else(|| {
            err(
                self.line,
                col + key.len() as u32 + 1,
                format!("expected {what} after {key}=, found \"{v}\""),
            )
        })
    }
    fn flag(&mut self, word: &str) -> bool {
        if self.peek_word() == Some(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn data(&mut self) -> Result<Data, ParseError> {
        let col = self.col();
        match self.toks.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Str(b)) => {
                self.pos += 1;
                Ok(Data::bytes(b))
            }
            Some(Tok::Word(w)) if w.starts_with("fill=") || w.starts_with("pattern=") => {
                self.pos += 1;
                let len_col = self.col();
                let len = self.key("len", "SIZE")?;
                if len > MAX_DATA {
                    return Err(err(
                        self.line,
                        len_col,
                        format!("data too large: at most {} MiB per command", MAX_DATA >> 20),
                    ));
                }
                if let Some(v) = w.strip_prefix("fill=") {
                    let b = parse_size(v).filter(|b| *b <= 0xff).ok_or_else(|| {
                        err(
                            self.line,
                            col + 5,
                            format!("expected a byte value (0..255, e.g. 0xab) after fill=, found \"{v}\""),
                        )
                    })?;
                    Ok(Data::Fill { byte: b as u8, len })
                } else {
                    let name = &w["pattern=".len()..];
                    let names: Vec<&str> = Pattern::ALL.iter().map(|(n, _)| *n).collect();
                    let pattern = Pattern::ALL
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, p)| *p)
                        .ok_or_else(|| unknown(self.line, col + 8, "pattern", name, &names))?;
                    Ok(Data::Pattern { pattern, len })
                }
            }
            _ => Err(self.wanted(
                "expected data: a quoted string, fill=0xNN len=SIZE or pattern=NAME len=SIZE",
                Want::Value,
            )),
        }
    }
    fn done(&self) -> Result<(), ParseError> {
        match self.toks.get(self.pos) {
            None => Ok(()),
            Some(t) => Err(err(self.line, t.col, "unexpected extra argument")),
        }
    }
    fn at_eq(&self) -> bool {
        self.peek_word() == Some("==")
    }
}

const ARCH_WORDS: &[&str] = &["x86_64", "armv5", "mips-r4k", "sparc64"];
const LOCKING_WORDS: &[&str] = &["4.0", "none", "fixed"];
const KIND_WORDS: &[&str] = &["brd", "axonram", "dcssblk", "window", "stall", "disk"];
const FS_WORDS: &[&str] = &["ext2", "ext4"];
const SHARE_WORDS: &[&str] = &["shared", "private"];
const PROT_WORDS: &[&str] = &["r", "rw"];
const OPEN_WORDS: &[&str] = &["create", "trunc", "direct", "rdonly"];

fn p_kernel(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let c = l.col();
    match l.word("an era: 4.0", Want::Words(&["4.0"]))? {
        "4.0" => Ok(Command::Kernel),
        "modern" => Err(err(
            l.line,
            c,
            "kernel \"modern\" is not simulated yet; this version models Linux 4.0 only",
        )),
        w => Err(unknown(l.line, c, "kernel era", w, &["4.0", "modern"])),
    }
}

fn p_arch(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let arch = l.choice("architecture", ARCH_WORDS, &Arch::ALL)?;
    let pretend = l.flag("pretend");
    Ok(Command::Arch { arch, pretend })
}

fn p_locking(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Locking(l.choice(
        "lock policy",
        LOCKING_WORDS,
        &Locking::ALL,
    )?))
}

fn p_device(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let name = l.name("a device name", Want::Value)?;
    let kinds: Vec<(&str, DeviceKind)> = DeviceKind::ALL.iter().map(|(n, k, _)| (*n, *k)).collect();
    let kind = l.choice("device kind", KIND_WORDS, &kinds)?;
    let size = l.key("size", "SIZE")?;
    let pretend = l.flag("pretend");
    Ok(Command::Device {
        name,
        kind,
        size,
        pretend,
    })
}

fn p_direct_access(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let dev = l.name("a device name", Want::Device)?;
    let sector = l.key("sector", "N")?;
    let size = l.key("size", "SIZE")?;
    Ok(Command::DirectAccess {
        dev,
        sector,
        size: size.min(i64::MAX as u64) as i64,
    })
}

fn p_mkfs(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let kind = l.choice("filesystem", FS_WORDS, &FsKind::ALL)?;
    let dev = l.dev()?;
    let bs = if l.peek_word().is_some_and(|w| w.starts_with("bs=")) {
        l.key("bs", "SIZE")?
    } else {
        4096
    };
    Ok(Command::Mkfs { kind, dev, bs })
}

fn p_mount(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let dev = l.dev()?;
    let path = l.path("a mount point")?;
    let opts = if l.flag("-o") {
        Rc::from(l.word(
            "mount options after -o, e.g. dax",
            Want::Words(&["dax", "xip", "ro"]),
        )?)
    } else {
        Rc::from("")
    };
    Ok(Command::Mount { dev, path, opts })
}

fn p_umount(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Umount {
        path: l.path("a mount point")?,
    })
}

fn p_cat(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let c = l.col();
    match l.word("/proc/mounts", Want::Words(&["/proc/mounts"]))? {
        "/proc/mounts" => Ok(Command::ProcMounts),
        w => Err(err(
            l.line,
            c,
            format!("only /proc/mounts can be shown, not \"{w}\""),
        )),
    }
}

fn p_open(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let fd = l.name("a descriptor name", Want::Value)?;
    let path = l.path("a file path")?;
    let mut flags = OpenFlags::default();
    while let Some(w) = l.peek_word() {
        if w == "==" {
            break;
        }
        let c = l.col();
        match w {
            "create" => flags.create = true,
            "trunc" => flags.trunc = true,
            "direct" => flags.direct = true,
            "rdonly" => flags.rdonly = true,
            _ => {
                return Err(ParseError {
                    want: Some(Want::Words(OPEN_WORDS)),
                    ..unknown(l.line, c, "open flag", w, OPEN_WORDS)
                })
            }
        }
        l.pos += 1;
    }
    Ok(Command::Open { fd, path, flags })
}

fn fd(l: &mut Line<'_>) -> Result<Rc<str>, ParseError> {
    l.name("a descriptor name", Want::Fd)
}

fn map(l: &mut Line<'_>) -> Result<Rc<str>, ParseError> {
    l.name("a mapping name", Want::Map)
}

fn p_close(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Close { fd: fd(l)? })
}

fn p_unlink(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Unlink {
        path: l.path("a file path")?,
    })
}

fn p_read(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Read {
        fd: fd(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_write(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Write {
        fd: fd(l)?,
        off: l.size("an offset")?,
        data: l.data()?,
    })
}

fn p_truncate(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Truncate {
        fd: fd(l)?,
        size: l.size("a size")?,
    })
}

fn p_punch(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Punch {
        fd: fd(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_fsync(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Fsync { fd: fd(l)? })
}

fn p_sync(_: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Sync)
}

fn p_drop_caches(_: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::DropCaches)
}

fn p_blocks(l: &mut Line<'_>) -> Result<Command, ParseError> {
    const WORDS: &[&str] = &["unwritten", "past_eof"];
    let fd = fd(l)?;
    let only = if l.peek_word().is_some() && !l.at_eq() {
        l.choice("block kind", WORDS, &BlockKind::WORDS)?
    } else {
        BlockKind::All
    };
    Ok(Command::Blocks { fd, only })
}

fn p_mmap(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let map = l.name("a mapping name", Want::Value)?;
    let fd = fd(l)?;
    let off = l.size("an offset")?;
    let len = l.size("a length")?;
    let shared = l.choice(
        "mapping type",
        SHARE_WORDS,
        &[("shared", true), ("private", false)],
    )?;
    let writable = l.choice("protection", PROT_WORDS, &[("r", false), ("rw", true)])?;
    Ok(Command::Mmap {
        map,
        fd,
        off,
        len,
        shared,
        writable,
    })
}

fn p_munmap(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Munmap { map: map(l)? })
}

fn p_load(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Load {
        map: map(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_store(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Store {
        map: map(l)?,
        off: l.size("an offset")?,
        data: l.data()?,
    })
}

fn p_odirect(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::OdirectFromMap {
        fd: fd(l)?,
        off: l.size("an offset")?,
        map: map(l)?,
        moff: l.size("a mapping offset")?,
        len: l.size("a length")?,
    })
}

fn p_sendfile(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Sendfile {
        out: fd(l)?,
        fd: fd(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_splice(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Splice {
        fd: fd(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_vmsplice(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Vmsplice {
        map: map(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_rdma_reg(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::RdmaReg {
        map: map(l)?,
        off: l.size("an offset")?,
        len: l.size("a length")?,
    })
}

fn p_insmod(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Insmod {
        path: l.path("a module file")?,
    })
}

fn p_exec(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::Exec {
        path: l.path("a program file")?,
    })
}

fn p_cache(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let range = if l.peek_word().is_some() && !l.at_eq() {
        Some((map(l)?, l.size("an offset")?, l.size("a length")?))
    } else {
        None
    };
    Ok(Command::Cache { range })
}

fn p_flush_dcache_page(l: &mut Line<'_>) -> Result<Command, ParseError> {
    Ok(Command::FlushDcachePage {
        map: map(l)?,
        off: l.size("an offset")?,
    })
}

fn p_expect(l: &mut Line<'_>) -> Result<Command, ParseError> {
    if l.flag("counter") {
        let c = l.col();
        let name = l.word("a counter name", Want::Words(Counters::NAMES))?;
        let Some(name) = Counters::NAMES.iter().find(|n| **n == name) else {
            return Err(unknown(l.line, c, "counter", name, Counters::NAMES));
        };
        let mount = if l.peek_word().is_some_and(|w| w.starts_with('/')) {
            Some(l.path("a mount point")?)
        } else {
            None
        };
        if !l.at_eq() {
            return Err(l.wanted("expected ==", Want::Words(&["=="])));
        }
        l.pos += 1;
        let want = l.size("a number")?;
        return Ok(Command::ExpectCounter { name, mount, want });
    }
    if l.flag("violation") {
        const NAMES: &[&str] = &[
            "store_lost",
            "stale_data_exposed",
            "block_past_eof",
            "freed_block_mapped",
            "deadlock",
        ];
        let inv = l.choice("invariant", NAMES, &Invariant::ALL)?;
        return Ok(Command::ExpectViolation(Some(inv)));
    }
    if l.flag("no") {
        let c = l.col();
        return match l.word("violations", Want::Words(&["violations"]))? {
            "violations" => Ok(Command::ExpectViolation(None)),
            w => Err(unknown(l.line, c, "word", w, &["violations"])),
        };
    }
    let c = l.col();
    if l.peek_word() == Some("expect") {
        return Err(err(l.line, c, "expect cannot be nested"));
    }
    let cmd = command(l)?;
    if !l.at_eq() {
        return Err(l.wanted("expected == and the result", Want::Words(&["=="])));
    }
    l.pos += 1;
    let c = l.col();
    let want = match l.toks.get(l.pos).map(|t| &t.tok) {
        Some(Tok::Str(_)) => Expected::Bytes(l.data()?),
        Some(Tok::Word(w)) if w.starts_with("fill=") || w.starts_with("pattern=") => {
            Expected::Bytes(l.data()?)
        }
        Some(Tok::Word(w)) => {
            let w = w.clone();
            l.pos += 1;
            if w == "ok" {
                Expected::Ok
            } else if let Some(s) = [Signal::Sigbus, Signal::Sigsegv]
                .into_iter()
                .find(|s| s.name() == w)
            {
                Expected::Signal(s)
            } else if let Some(e) = Errno::from_name(&w) {
                Expected::Errno(e)
            } else if w.starts_with('E') && w.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(err(l.line, c, format!("unknown errno \"{w}\"")));
            } else {
                Expected::Number(parse_size(&w).ok_or_else(|| {
                    err(
                        l.line,
                        c,
                        format!("expected a result: data, a number, ok, an errno (ERANGE) or a signal (SIGBUS); found \"{w}\""),
                    )
                })?)
            }
        }
        None => return Err(l.wanted("expected the result after ==", Want::Value)),
    };
    Ok(Command::Expect {
        cmd: Box::new(cmd),
        want,
    })
}

/// One command (its word and arguments).
fn command(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let col = l.col();
    let word = l.word("a command", Want::Command)?;
    if matches!(word, "thread" | "process" | "schedule") {
        return Err(err(
            l.line,
            col,
            format!("\"{word}\" can only be used at the top level"),
        ));
    }
    let Some(spec) = COMMANDS.iter().find(|c| c.word == word) else {
        let words: Vec<&str> = line_words().collect();
        return Err(ParseError {
            want: Some(Want::Command),
            ..unknown(l.line, col, "command", word, &words)
        });
    };
    let cmd = (spec.parse)(l)?;
    if matches!(cmd, Command::Read { len, .. } | Command::Load { len, .. } if len > MAX_DATA) {
        return Err(err(
            l.line,
            col,
            format!(
                "length too large: at most {} MiB per command",
                MAX_DATA >> 20
            ),
        ));
    }
    Ok(cmd)
}

/// Parse one console line as a command (no blocks).
pub fn parse_command(text: &str) -> Result<Command, ParseError> {
    let (toks, _) = tokenize(1, text)?;
    let mut l = Line {
        line: 1,
        toks: &toks,
        pos: 0,
        end_col: text.chars().count() as u32 + 1,
    };
    let cmd = command(&mut l)?;
    l.done()?;
    Ok(cmd)
}

/// Parse scenario text.
pub fn parse(text: &str) -> Result<Scenario, ParseError> {
    let mut items = Vec::new();
    let mut thread: Option<(u32, Rc<str>, bool, Vec<Stmt>)> = None;
    let mut seen_other = false;
    let mut seen_thread = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let (toks, text) = tokenize(line, raw)?;
        if toks.is_empty() {
            continue;
        }
        let mut l = Line {
            line,
            toks: &toks,
            pos: 0,
            end_col: raw.chars().count() as u32 + 1,
        };
        let first = l.peek_word();
        if first == Some("}") {
            l.pos += 1;
            l.done()?;
            let Some((tl, name, process, body)) = thread.take() else {
                return Err(err(
                    line,
                    toks[0].col,
                    "\"}\" without a thread block to close",
                ));
            };
            items.push(Item::Thread {
                line: tl,
                name,
                process,
                body: body.into(),
            });
            continue;
        }
        if let Some(kw @ ("thread" | "process")) = first {
            if thread.is_some() {
                return Err(err(
                    line,
                    toks[0].col,
                    "blocks cannot be nested: close the previous block with }",
                ));
            }
            l.pos += 1;
            let name = l.name(&format!("a {kw} name"), Want::Value)?;
            if &*name == "main" {
                return Err(err(
                    line,
                    toks[1].col,
                    "\"main\" names the main thread; choose another name",
                ));
            }
            if !l.flag("{") {
                return Err(l.wanted(
                    format!("expected {{ after the {kw} name"),
                    Want::Words(&["{"]),
                ));
            }
            l.done()?;
            let dup = items
                .iter()
                .any(|it| matches!(it, Item::Thread { name: n, .. } if *n == name));
            if dup {
                return Err(err(
                    line,
                    toks[1].col,
                    format!("\"{name}\" is already defined"),
                ));
            }
            thread = Some((line, name, kw == "process", Vec::new()));
            seen_other = true;
            seen_thread = true;
            continue;
        }
        if first == Some("schedule") {
            if thread.is_some() {
                return Err(err(
                    line,
                    toks[0].col,
                    "schedule belongs at the top level, after the thread blocks",
                ));
            }
            l.pos += 1;
            let mut order = Vec::new();
            while l.pos < toks.len() {
                let c = l.col();
                order.push((l.name("a thread name", Want::Thread)?, c));
            }
            if order.is_empty() {
                return Err(l.wanted("expected the thread names, one per step", Want::Thread));
            }
            items.push(Item::Schedule { line, order });
            seen_other = true;
            continue;
        }
        let cmd = command(&mut l)?;
        l.done()?;
        match (&cmd, thread.is_some()) {
            (Command::Kernel | Command::Arch { .. }, _) if seen_other || thread.is_some() => {
                return Err(err(
                    line,
                    toks[0].col,
                    "kernel and arch must come before every other command",
                ));
            }
            (Command::Locking(_), _) if seen_thread => {
                return Err(err(
                    line,
                    toks[0].col,
                    "locking must come before the first thread or process",
                ));
            }
            _ => {}
        }
        if !matches!(
            cmd,
            Command::Kernel | Command::Arch { .. } | Command::Locking(_)
        ) {
            seen_other = true;
        }
        let stmt = Stmt {
            line,
            text: Rc::from(text),
            cmd,
        };
        match &mut thread {
            Some((_, _, _, body)) => body.push(stmt),
            None => items.push(Item::Stmt(stmt)),
        }
    }
    if let Some((tl, name, _, _)) = thread {
        return Err(err(tl, 1, format!("\"{name}\" is not closed: expected }}")));
    }
    Ok(Scenario { items })
}

/// The names a scenario defines, for completing what [`Want`] asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioNames {
    /// Devices (`device NAME`).
    pub devices: Vec<Rc<str>>,
    /// Descriptors (`open FD`).
    pub fds: Vec<Rc<str>>,
    /// Mappings (`mmap MAP`).
    pub maps: Vec<Rc<str>>,
    /// Threads and processes.
    pub threads: Vec<Rc<str>>,
    /// Mount points and file paths.
    pub paths: Vec<Rc<str>>,
}

impl ScenarioNames {
    /// The names of `s`, each once, in the order they first appear.
    pub fn of(s: &Scenario) -> Self {
        fn add(v: &mut Vec<Rc<str>>, n: &Rc<str>) {
            if !v.contains(n) {
                v.push(n.clone());
            }
        }
        let mut n = ScenarioNames::default();
        for it in &s.items {
            if let Item::Thread { name, .. } = it {
                add(&mut n.threads, name);
            }
        }
        for (st, _) in s.stmts() {
            let mut cmd = &st.cmd;
            if let Command::Expect { cmd: inner, .. } = cmd {
                cmd = inner;
            }
            match cmd {
                Command::Device { name, .. } => add(&mut n.devices, name),
                Command::Mount { path, .. } => add(&mut n.paths, path),
                Command::Open { fd, path, .. } => {
                    add(&mut n.fds, fd);
                    add(&mut n.paths, path);
                }
                Command::Mmap { map, .. } => add(&mut n.maps, map),
                _ => {}
            }
        }
        n
    }

    /// The candidates for what `want` asks for.
    pub fn candidates(&self, want: Want) -> Vec<String> {
        let v = |x: &[Rc<str>]| x.iter().map(|s| s.to_string()).collect();
        match want {
            Want::Command => line_words().map(str::to_string).collect(),
            Want::Words(w) => w.iter().map(|s| s.to_string()).collect(),
            Want::Device => v(&self.devices),
            Want::DevPath => self.devices.iter().map(|d| format!("/dev/{d}")).collect(),
            Want::Fd => v(&self.fds),
            Want::Map => v(&self.maps),
            Want::Thread => v(&self.threads),
            Want::Path => v(&self.paths),
            Want::Value => Vec::new(),
        }
    }
}

/// What could come at the end of `line` (a console line being typed), given the scenario it
/// extends: the parser's own expectation there.
pub fn want_at_end(line: &str) -> Option<Want> {
    match parse_command(line) {
        Ok(_) => None,
        Err(e) => e
            .want
            .filter(|_| e.col as usize > line.trim_end().chars().count()),
    }
}
