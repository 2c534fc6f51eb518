//! The seccomp compiler: `.src` policy text to `.bin2`/`.bin` programs.
//!
//! The pieces, in the order they run:
//!
//! * [`parse`] reads the text into rules, without touching the system;
//! * [`compile`] resolves user and group names ([`users`]) and builds the
//!   allow and deny programs for the native and the secondary architecture
//!   ([`arch`]), with our own generator ([`native`], which uses [`asm`]) or
//!   with libseccomp ([`via_libseccomp`]);
//! * [`output`] writes the file atomically.
//!
//! [`version`] produces the fingerprint snapd embeds in every `.src`,
//! [`bpf`] runs compiled programs without the kernel, for tests and
//! diagnostics, and [`semantics`] says what a policy means straight from its
//! rules (the yardstick for both backends, and the answer to "which line
//! allows this call").

use std::fmt;
use std::io;
use std::path::Path;

use libseccomp::error::SeccompError;
use policy_cache::{FormatError, Policy};

pub mod arch;
pub mod asm;
pub mod bpf;
pub mod compile;
pub mod constants;
pub mod native;
pub mod output;
pub mod parse;
pub mod semantics;
pub mod syscalls;
pub mod users;
pub mod version;
pub mod via_libseccomp;

pub use compile::{Backend, Build, Format, Ignored, Options};
pub use users::IdResolver;

/// Everything that can go wrong while compiling. Every message starts with
/// "cannot".
#[derive(Debug)]
pub enum Error {
    /// A syntax error.
    Parse(parse::ParseError),
    /// A line that parsed but cannot be compiled (an unknown user, say).
    Line { line: usize, reason: String },
    /// A `~` line while compiling to the legacy `.bin` format.
    DenialNeedsBin2 { line: usize },
    /// Our generator could not write a program.
    Generate(String),
    /// libseccomp refused something.
    Seccomp { what: String, source: SeccompError },
    /// A program does not fit the file format.
    Format(FormatError),
    /// Reading or writing failed.
    Io { what: String, source: io::Error },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => e.fmt(f),
            Error::Line { line, reason } => write!(f, "cannot parse line {line}: {reason}"),
            Error::DenialNeedsBin2 { line } => write!(
                f,
                "cannot compile line {line} to the .bin format: explicit denials (~) need the .bin2 format"
            ),
            Error::Generate(reason) => f.write_str(reason),
            Error::Seccomp { what, source } => write!(f, "cannot {what}: {source}"),
            Error::Format(e) => write!(f, "cannot encode the policy: {e}"),
            Error::Io { what, source } => write!(f, "cannot {what}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Parse(e) => Some(e),
            Error::Seccomp { source, .. } => Some(source),
            Error::Format(e) => Some(e),
            Error::Io { source, .. } => Some(source),
            Error::Line { .. } | Error::DenialNeedsBin2 { .. } | Error::Generate(_) => None,
        }
    }
}

impl From<parse::ParseError> for Error {
    fn from(e: parse::ParseError) -> Self {
        Error::Parse(e)
    }
}

/// The result of compiling one policy text.
pub struct Compiled {
    /// The programs.
    pub policy: Policy,
    /// The encoded file content.
    pub bytes: Vec<u8>,
    /// The libseccomp filters, for debugging output.
    pub build: Build,
}

/// Parses and compiles a policy text into file content.
pub fn compile_text(text: &str, options: &Options, ids: &mut IdResolver) -> Result<Compiled, Error> {
    let source = parse::parse(text)?;
    let build = compile::build(&source, options, ids)?;
    let policy = build.policy()?;
    let bytes = compile::encode(&policy, options.format)?;
    Ok(Compiled { policy, bytes, build })
}

/// Reads `src`, compiles it and writes `out` atomically.
pub fn compile_file(src: &Path, out: &Path, options: &Options, ids: &mut IdResolver) -> Result<Compiled, Error> {
    let text = std::fs::read(src).map_err(|source| Error::Io {
        what: format!("read {}", src.display()),
        source,
    })?;
    let text = String::from_utf8(text).map_err(|_| Error::Io {
        what: format!("read {}", src.display()),
        source: io::Error::new(io::ErrorKind::InvalidData, "the policy is not UTF-8 text"),
    })?;
    let compiled = compile_text(&text, options, ids)?;
    output::write_atomically(out, &compiled.bytes).map_err(|source| Error::Io {
        what: format!("write {}", out.display()),
        source,
    })?;
    Ok(compiled)
}

/// Splits a compiled policy file (`.bin2`, or legacy `.bin`) into its raw
/// allow and deny programs; both are empty for an unrestricted policy and
/// the deny program is empty for a `.bin` file.
pub fn split_programs(file: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let policy = match policy_cache::parse_bin2(file) {
        Err(FormatError::BadMagic) | Err(FormatError::ShortHeader) => policy_cache::parse_bin(file),
        other => other,
    }
    .map_err(|e| Error::Io {
        what: "read the policy".into(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })?;
    Ok(match policy {
        Policy::Unrestricted => (Vec::new(), Vec::new()),
        Policy::Filtered { allow, deny } => (allow.to_bytes(), deny.map(|d| d.to_bytes()).unwrap_or_default()),
    })
}

#[cfg(test)]
mod tests;
