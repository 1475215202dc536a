//! The scenario language (console commands and `*.dax` files): a tokenizer and parser that
//! report every error with its line and column and, where a near word exists, a suggestion.

use serde::Serialize;

use crate::block_dev::DeviceKind;
use crate::fs::FsKind;
use crate::kernel::Arch;
use crate::vfs::OpenFlags;

/// An error in scenario text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}, col {col}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
    /// What was expected, and a suggestion if there is one.
    pub message: String,
}

/// Bytes a command writes or an expectation compares with.
pub type Data = Vec<u8>;

/// One command of the language. Fields are named as in the syntax on each variant.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `kernel 4.0`.
    Kernel,
    /// `arch NAME`.
    Arch(Arch),
    /// `device NAME KIND size=SIZE`.
    Device {
        name: String,
        kind: DeviceKind,
        size: u64,
    },
    /// `direct_access NAME sector=N size=SIZE`.
    DirectAccess { dev: String, sector: u64, size: i64 },
    /// `mkfs ext2|ext4 /dev/NAME [bs=SIZE]`.
    Mkfs { kind: FsKind, dev: String, bs: u64 },
    /// `mount /dev/NAME /PATH [-o OPTIONS]`.
    Mount {
        dev: String,
        path: String,
        opts: String,
    },
    /// `umount /PATH`.
    Umount { path: String },
    /// `cat /proc/mounts`.
    ProcMounts,
    /// `open FD /PATH [create] [trunc] [direct] [rdonly]`.
    Open {
        fd: String,
        path: String,
        flags: OpenFlags,
    },
    /// `close FD`.
    Close { fd: String },
    /// `unlink /PATH`.
    Unlink { path: String },
    /// `read FD OFFSET LEN`.
    Read { fd: String, off: u64, len: u64 },
    /// `write FD OFFSET DATA`.
    Write { fd: String, off: u64, data: Data },
    /// `truncate FD SIZE`.
    Truncate { fd: String, size: u64 },
    /// `fsync FD`.
    Fsync { fd: String },
    /// `blocks FD`: how many blocks the file has allocated (and which file blocks they are).
    Blocks { fd: String },
    /// `drop_caches`.
    DropCaches,
    /// `sync`: write back every dirty page-cache page.
    Sync,
    /// `mmap MAP FD OFFSET LEN shared|private r|rw`.
    Mmap {
        map: String,
        fd: String,
        off: u64,
        len: u64,
        shared: bool,
        writable: bool,
    },
    /// `munmap MAP`.
    Munmap { map: String },
    /// `load MAP OFFSET LEN`.
    Load { map: String, off: u64, len: u64 },
    /// `store MAP OFFSET DATA`.
    Store { map: String, off: u64, data: Data },
    /// `odirect_from_map FD OFFSET MAP MAP_OFFSET LEN`.
    OdirectFromMap {
        fd: String,
        off: u64,
        map: String,
        moff: u64,
        len: u64,
    },
    /// `expect COMMAND == RESULT`.
    Expect { cmd: Box<Command>, want: Expected },
    /// `expect counter NAME [/PATH] == N`.
    ExpectCounter {
        name: String,
        mount: Option<String>,
        want: u64,
    },
}

/// What an `expect` compares a result with.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Bytes (for `read`, `load`).
    Bytes(Data),
    /// A number (bytes written, length, address).
    Number(u64),
    /// An errno name, e.g. `ERANGE`.
    Errno(String),
    /// A signal name, e.g. `SIGBUS`.
    Signal(String),
    /// Plain success.
    Ok,
}

/// A command with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// 1-based line.
    pub line: u32,
    /// The command's text as written (without comment).
    pub text: String,
    /// The command.
    pub cmd: Command,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A command run by the main thread.
    Stmt(Stmt),
    /// `thread NAME { ... }`.
    Thread {
        /// Line of `thread`.
        line: u32,
        /// Thread name.
        name: String,
        /// Its commands.
        body: Vec<Stmt>,
    },
    /// `schedule NAME NAME ...`.
    Schedule {
        /// Line.
        line: u32,
        /// Who runs each step, with the column of each name.
        order: Vec<(String, u32)>,
    },
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    /// Items in order.
    pub items: Vec<Item>,
}

/// Every command word, for completion and suggestions.
pub const COMMANDS: [&str; 28] = [
    "kernel",
    "arch",
    "device",
    "direct_access",
    "mkfs",
    "mount",
    "umount",
    "cat",
    "open",
    "close",
    "unlink",
    "read",
    "write",
    "truncate",
    "fsync",
    "blocks",
    "drop_caches",
    "sync",
    "mmap",
    "munmap",
    "load",
    "store",
    "odirect_from_map",
    "thread",
    "schedule",
    "expect",
    "sendfile",
    "splice",
];

/// Counter names `expect counter` accepts.
pub const COUNTERS: [&str; 7] = [
    "copies",
    "bytes_copied",
    "copies_avoided",
    "pagecache_pages",
    "faults_minor",
    "faults_major",
    "sim_ns",
];

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

/// Largest data a single command may carry (keeps a typo like `len=9G` from exhausting memory).
pub const MAX_DATA: u64 = 256 << 20;

/// The named byte patterns of `pattern=NAME`.
pub const PATTERNS: [&str; 2] = ["seq", "zero"];

struct Line<'a> {
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
    fn peek_word(&self) -> Option<&'a str> {
        match self.toks.get(self.pos) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w.as_str()),
            _ => None,
        }
    }
    fn word(&mut self, what: &str) -> Result<&'a str, ParseError> {
        match self.toks.get(self.pos) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => {
                self.pos += 1;
                Ok(w.as_str())
            }
            Some(_) => Err(self.err(format!("expected {what}, found a quoted string"))),
            None => Err(self.err(format!("expected {what}"))),
        }
    }
    fn name(&mut self, what: &str) -> Result<String, ParseError> {
        let col = self.col();
        let w = self.word(what)?;
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
        Ok(w.to_string())
    }
    fn path(&mut self, what: &str) -> Result<String, ParseError> {
        let col = self.col();
        let w = self.word(what)?;
        if !w.starts_with('/') || w.len() < 2 || w.ends_with('/') || w.contains("//") {
            return Err(err(
                self.line,
                col,
                format!("expected {what} (an absolute path like /mnt/dax), found \"{w}\""),
            ));
        }
        Ok(w.to_string())
    }
    fn dev(&mut self) -> Result<String, ParseError> {
        let col = self.col();
        let w = self.word("a device path /dev/NAME")?;
        w.strip_prefix("/dev/")
            .filter(|n| !n.is_empty())
            .map(str::to_string)
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
        let w = self.word(what)?;
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
        let w = self.word(&format!("{key}={what}"))?;
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
    fn data(&mut self) -> Result<Data, ParseError> {
        let col = self.col();
        match self.toks.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Str(b)) => {
                self.pos += 1;
                Ok(b.clone())
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
                        err(self.line, col + 5, format!("expected a byte value (0..255, e.g. 0xab) after fill=, found \"{v}\""))
                    })?;
                    Ok(vec![b as u8; len as usize])
                } else {
                    let name = &w["pattern=".len()..];
                    pattern(name, len)
                        .ok_or_else(|| unknown(self.line, col + 8, "pattern", name, &PATTERNS))
                }
            }
            _ => Err(self.err(
                "expected data: a quoted string, fill=0xNN len=SIZE or pattern=NAME len=SIZE",
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

/// Bytes of a named pattern.
pub fn pattern(name: &str, len: u64) -> Option<Data> {
    match name {
        "seq" => Some((0..len).map(|i| (i % 251) as u8).collect()),
        "zero" => Some(vec![0; len as usize]),
        _ => None,
    }
}

fn command(l: &mut Line<'_>) -> Result<Command, ParseError> {
    let col = l.col();
    let word = l.word("a command")?;
    let cmd = match word {
        "kernel" => {
            let c = l.col();
            match l.word("an era: 4.0 or modern")? {
                "4.0" => Command::Kernel,
                "modern" => return Err(err(
                    l.line,
                    c,
                    "kernel \"modern\" is not simulated yet; this version models Linux 4.0 only",
                )),
                w => return Err(unknown(l.line, c, "kernel era", w, &["4.0", "modern"])),
            }
        }
        "arch" => {
            let c = l.col();
            let w = l.word("an architecture")?;
            let names: Vec<&str> = Arch::ALL.iter().map(|(n, _)| *n).collect();
            match Arch::ALL.iter().find(|(n, _)| *n == w) {
                Some((_, a)) => Command::Arch(*a),
                None => return Err(unknown(l.line, c, "architecture", w, &names)),
            }
        }
        "device" => {
            let name = l.name("a device name")?;
            let c = l.col();
            let k = l.word("a device kind")?;
            let kinds: Vec<&str> = DeviceKind::ALL.iter().map(|(n, _)| *n).collect();
            let kind = DeviceKind::ALL
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, d)| *d)
                .ok_or_else(|| unknown(l.line, c, "device kind", k, &kinds))?;
            let size = l.key("size", "SIZE")?;
            Command::Device { name, kind, size }
        }
        "direct_access" => {
            let dev = l.name("a device name")?;
            let sector = l.key("sector", "N")?;
            let size = l.key("size", "SIZE")?;
            Command::DirectAccess {
                dev,
                sector,
                size: size.min(i64::MAX as u64) as i64,
            }
        }
        "mkfs" => {
            let c = l.col();
            let kind = match l.word("a filesystem: ext2 or ext4")? {
                "ext2" => FsKind::Ext2,
                "ext4" => FsKind::Ext4,
                w => return Err(unknown(l.line, c, "filesystem", w, &["ext2", "ext4"])),
            };
            let dev = l.dev()?;
            let bs = if l.peek_word().is_some_and(|w| w.starts_with("bs=")) {
                l.key("bs", "SIZE")?
            } else {
                4096
            };
            Command::Mkfs { kind, dev, bs }
        }
        "mount" => {
            let dev = l.dev()?;
            let path = l.path("a mount point")?;
            let opts = if l.peek_word() == Some("-o") {
                l.pos += 1;
                l.word("mount options after -o, e.g. dax")?.to_string()
            } else {
                String::new()
            };
            Command::Mount { dev, path, opts }
        }
        "umount" => Command::Umount {
            path: l.path("a mount point")?,
        },
        "cat" => {
            let c = l.col();
            match l.word("/proc/mounts")? {
                "/proc/mounts" => Command::ProcMounts,
                w => {
                    return Err(err(
                        l.line,
                        c,
                        format!("only /proc/mounts can be shown, not \"{w}\""),
                    ))
                }
            }
        }
        "open" => {
            let fd = l.name("a descriptor name")?;
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
                        return Err(unknown(
                            l.line,
                            c,
                            "open flag",
                            w,
                            &["create", "trunc", "direct", "rdonly"],
                        ))
                    }
                }
                l.pos += 1;
            }
            Command::Open { fd, path, flags }
        }
        "close" => Command::Close {
            fd: l.name("a descriptor name")?,
        },
        "unlink" => Command::Unlink {
            path: l.path("a file path")?,
        },
        "read" => Command::Read {
            fd: l.name("a descriptor name")?,
            off: l.size("an offset")?,
            len: l.size("a length")?,
        },
        "write" => Command::Write {
            fd: l.name("a descriptor name")?,
            off: l.size("an offset")?,
            data: l.data()?,
        },
        "truncate" => Command::Truncate {
            fd: l.name("a descriptor name")?,
            size: l.size("a size")?,
        },
        "fsync" => Command::Fsync {
            fd: l.name("a descriptor name")?,
        },
        "blocks" => Command::Blocks {
            fd: l.name("a descriptor name")?,
        },
        "drop_caches" => Command::DropCaches,
        "sync" => Command::Sync,
        "mmap" => {
            let map = l.name("a mapping name")?;
            let fd = l.name("a descriptor name")?;
            let off = l.size("an offset")?;
            let len = l.size("a length")?;
            let c = l.col();
            let shared = match l.word("shared or private")? {
                "shared" => true,
                "private" => false,
                w => {
                    return Err(unknown(
                        l.line,
                        c,
                        "mapping type",
                        w,
                        &["shared", "private"],
                    ))
                }
            };
            let c = l.col();
            let writable = match l.word("r or rw")? {
                "r" => false,
                "rw" => true,
                w => return Err(unknown(l.line, c, "protection", w, &["r", "rw"])),
            };
            Command::Mmap {
                map,
                fd,
                off,
                len,
                shared,
                writable,
            }
        }
        "munmap" => Command::Munmap {
            map: l.name("a mapping name")?,
        },
        "load" => Command::Load {
            map: l.name("a mapping name")?,
            off: l.size("an offset")?,
            len: l.size("a length")?,
        },
        "store" => Command::Store {
            map: l.name("a mapping name")?,
            off: l.size("an offset")?,
            data: l.data()?,
        },
        "odirect_from_map" => Command::OdirectFromMap {
            fd: l.name("a descriptor name")?,
            off: l.size("an offset")?,
            map: l.name("a mapping name")?,
            moff: l.size("a mapping offset")?,
            len: l.size("a length")?,
        },
        "sendfile" | "splice" => {
            return Err(err(
                l.line,
                col,
                format!(
                "\"{word}\" belongs to the shortcomings lab and is not simulated in this version"
            ),
            ))
        }
        "expect" => return expect(l),
        "thread" | "schedule" => {
            return Err(err(
                l.line,
                col,
                format!("\"{word}\" can only be used at the top level"),
            ))
        }
        w => return Err(unknown(l.line, col, "command", w, &COMMANDS)),
    };
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

fn expect(l: &mut Line<'_>) -> Result<Command, ParseError> {
    if l.peek_word() == Some("counter") {
        l.pos += 1;
        let c = l.col();
        let name = l.word("a counter name")?;
        if !COUNTERS.contains(&name) {
            return Err(unknown(l.line, c, "counter", name, &COUNTERS));
        }
        let mount = if l.peek_word().is_some_and(|w| w.starts_with('/')) {
            Some(l.path("a mount point")?)
        } else {
            None
        };
        if !l.at_eq() {
            return Err(l.err("expected =="));
        }
        l.pos += 1;
        let want = l.size("a number")?;
        l.done()?;
        return Ok(Command::ExpectCounter {
            name: name.to_string(),
            mount,
            want,
        });
    }
    let c = l.col();
    if l.peek_word() == Some("expect") {
        return Err(err(l.line, c, "expect cannot be nested"));
    }
    let cmd = command(l)?;
    if !l.at_eq() {
        return Err(l.err("expected == and the result"));
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
            } else if w.starts_with("SIG") {
                Expected::Signal(w)
            } else if w.starts_with('E') && w.chars().all(|c| c.is_ascii_uppercase()) {
                Expected::Errno(w)
            } else {
                Expected::Number(parse_size(&w).ok_or_else(|| {
                    err(l.line, c, format!("expected a result: data, a number, ok, an errno (ERANGE) or a signal (SIGBUS); found \"{w}\""))
                })?)
            }
        }
        None => return Err(l.err("expected the result after ==")),
    };
    l.done()?;
    Ok(Command::Expect {
        cmd: Box::new(cmd),
        want,
    })
}

/// Parse scenario text.
pub fn parse(text: &str) -> Result<Scenario, ParseError> {
    let mut items = Vec::new();
    let mut thread: Option<(u32, String, Vec<Stmt>)> = None;
    let mut seen_other = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let (toks, text) = tokenize(line, raw)?;
        if toks.is_empty() {
            continue;
        }
        let end_col = raw.chars().count() as u32 + 1;
        let mut l = Line {
            line,
            toks: &toks,
            pos: 0,
            end_col,
        };
        let first = l.peek_word();
        if first == Some("}") {
            l.pos += 1;
            l.done()?;
            let Some((tl, name, body)) = thread.take() else {
                return Err(err(
                    line,
                    toks[0].col,
                    "\"}\" without a thread block to close",
                ));
            };
            items.push(Item::Thread {
                line: tl,
                name,
                body,
            });
            continue;
        }
        if first == Some("thread") {
            if thread.is_some() {
                return Err(err(
                    line,
                    toks[0].col,
                    "threads cannot be nested: close the previous block with }",
                ));
            }
            l.pos += 1;
            let name = l.name("a thread name")?;
            if l.peek_word() != Some("{") {
                return Err(l.err("expected { after the thread name"));
            }
            l.pos += 1;
            l.done()?;
            let dup = items
                .iter()
                .any(|it| matches!(it, Item::Thread { name: n, .. } if *n == name));
            if dup {
                return Err(err(
                    line,
                    toks[1].col,
                    format!("thread \"{name}\" is already defined"),
                ));
            }
            thread = Some((line, name, Vec::new()));
            seen_other = true;
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
                order.push((l.name("a thread name")?, c));
            }
            if order.is_empty() {
                return Err(l.err("expected the thread names, one per step"));
            }
            items.push(Item::Schedule { line, order });
            seen_other = true;
            continue;
        }
        let cmd = command(&mut l)?;
        l.done()?;
        if let (Command::Kernel | Command::Arch(_), true) = (&cmd, seen_other || thread.is_some()) {
            return Err(err(
                line,
                toks[0].col,
                "kernel and arch must come before every other command",
            ));
        }
        if !matches!(cmd, Command::Kernel | Command::Arch(_)) {
            seen_other = true;
        }
        let stmt = Stmt { line, text, cmd };
        match &mut thread {
            Some((_, _, body)) => body.push(stmt),
            None => items.push(Item::Stmt(stmt)),
        }
    }
    if let Some((tl, name, _)) = thread {
        return Err(err(
            tl,
            1,
            format!("thread \"{name}\" is not closed: expected }}"),
        ));
    }
    Ok(Scenario { items })
}
