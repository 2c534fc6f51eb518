//! Turning a parsed policy into BPF programs with libseccomp.
//!
//! Two filters are built, as snapd does since it learnt explicit denials:
//!
//! * the allow filter: default `ERRNO(EPERM)` (or `LOG` in complain mode),
//!   one `ALLOW` rule per allow line;
//! * the deny filter: default `ALLOW`, one `ERRNO(EACCES)` rule per `~` line.
//!
//! The launcher loads both; the kernel applies the most restrictive result,
//! so an explicit denial wins wherever the allow filter would allow. The
//! different errno tells the two kinds of refusal apart.
//!
//! The legacy `.bin` format holds the allow program only, so a policy with
//! `~` lines cannot be compiled to it.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::thread;

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use policy_cache::{Policy, Program, Which};

use super::arch;
use super::parse::{ArgCondition, Comparison, Kind, Operand, Rule, Source};
use super::users::IdResolver;
use super::Error;

/// The errno for calls the allow filter does not list.
pub const ERRNO_IMPLICIT_DENIAL: i32 = libc::EPERM;
/// The errno for calls a `~` line denies.
pub const ERRNO_EXPLICIT_DENIAL: i32 = libc::EACCES;

/// The output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Header, allow program, deny program (snapd 2.63 and later).
    Bin2,
    /// The allow program alone, or the text `@unrestricted` (older snapd).
    Bin,
}

/// How to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub format: Format,
    /// The architecture added next to the native one, if any.
    pub secondary_arch: Option<ScmpArch>,
}

impl Options {
    /// Options for filters that run on this host.
    pub fn for_host(format: Format) -> Self {
        Options {
            format,
            secondary_arch: arch::host_secondary_arch(),
        }
    }
}

/// A line whose system call libseccomp does not know on this architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub line: usize,
    pub syscall: String,
}

/// The libseccomp filters built from a policy, ready to be exported.
pub struct Build {
    /// `None` for an unrestricted policy.
    filters: Option<Filters>,
    /// Rules skipped because their system call is unknown here.
    pub ignored: Vec<Ignored>,
    /// Complain mode was asked for but the kernel cannot log, so the allow
    /// filter allows everything and holds no rules. The deny program still
    /// holds the `~` rules (snapd adds no rules at all in this case; keeping
    /// explicit denials is the safer reading of complain mode).
    pub complain_without_log: bool,
}

struct Filters {
    allow: ScmpFilterContext,
    /// `None` in the `.bin` format.
    deny: Option<ScmpFilterContext>,
}

/// Whether the running kernel (and libseccomp) support the `LOG` action.
pub fn log_action_supported() -> bool {
    ScmpFilterContext::new(ScmpAction::Log).is_ok()
}

fn new_filter(action: ScmpAction, secondary: Option<ScmpArch>, which: Which) -> Result<ScmpFilterContext, Error> {
    let mut ctx = ScmpFilterContext::new(action).map_err(|source| Error::Seccomp {
        what: format!("create the {which} filter"),
        source,
    })?;
    add_arch(&mut ctx, secondary, which)?;
    Ok(ctx)
}

fn add_arch(ctx: &mut ScmpFilterContext, arch: Option<ScmpArch>, which: Which) -> Result<(), Error> {
    let Some(arch) = arch else {
        return Ok(());
    };
    let err = |source| Error::Seccomp {
        what: format!("add architecture {arch:?} to the {which} filter"),
        source,
    };
    if !ctx.is_arch_present(arch).map_err(err)? {
        ctx.add_arch(arch).map_err(err)?;
    }
    Ok(())
}

/// Builds the filters for a parsed policy.
pub fn build(source: &Source, options: &Options, ids: &mut IdResolver) -> Result<Build, Error> {
    if source.unrestricted {
        return Ok(Build {
            filters: None,
            ignored: Vec::new(),
            complain_without_log: false,
        });
    }
    if options.format == Format::Bin {
        if let Some(rule) = source.denials().next() {
            return Err(Error::DenialNeedsBin2 { line: rule.line });
        }
    }

    let secondary = options.secondary_arch;
    let mut complain_without_log = false;
    let mut allow = if source.complain {
        match new_filter(ScmpAction::Log, secondary, Which::Allow) {
            Ok(ctx) => ctx,
            Err(e) => {
                log::debug!("the log action is unavailable ({e}); complain mode allows everything");
                complain_without_log = true;
                new_filter(ScmpAction::Allow, secondary, Which::Allow)?
            }
        }
    } else {
        new_filter(ScmpAction::Errno(ERRNO_IMPLICIT_DENIAL), secondary, Which::Allow)?
    };
    let mut deny = match options.format {
        Format::Bin2 => Some(new_filter(ScmpAction::Allow, secondary, Which::Deny)?),
        Format::Bin => None,
    };

    let mut ignored = Vec::new();
    for rule in &source.rules {
        let Ok(syscall) = ScmpSyscall::from_name(&rule.syscall) else {
            log::debug!(
                "line {}: ignoring {:?}: no such system call on this architecture",
                rule.line,
                rule.syscall
            );
            ignored.push(Ignored {
                line: rule.line,
                syscall: rule.syscall.clone(),
            });
            continue;
        };
        let (ctx, action) = match rule.kind {
            // A default-allow filter takes no allow rules (libseccomp refuses
            // a rule whose action is the default).
            Kind::Allow if complain_without_log => continue,
            Kind::Allow => (&mut allow, ScmpAction::Allow),
            Kind::Deny => match deny.as_mut() {
                Some(deny) => (deny, ScmpAction::Errno(ERRNO_EXPLICIT_DENIAL)),
                None => return Err(Error::DenialNeedsBin2 { line: rule.line }),
            },
        };
        let conditions = conditions(rule, ids)?;
        add_rule(ctx, action, syscall, &conditions).map_err(|source| Error::Seccomp {
            what: format!("add the rule of line {}", rule.line),
            source,
        })?;
    }
    Ok(Build {
        filters: Some(Filters { allow, deny }),
        ignored,
        complain_without_log,
    })
}

/// Adds a rule exactly as written when libseccomp can, and otherwise lets
/// it adapt the rule to each architecture (for calls that are multiplexed
/// on some of them, like `socket` through `socketcall` on x86).
fn add_rule(
    ctx: &mut ScmpFilterContext,
    action: ScmpAction,
    syscall: ScmpSyscall,
    conditions: &[ScmpArgCompare],
) -> Result<(), libseccomp::error::SeccompError> {
    if ctx.add_rule_conditional_exact(action, syscall, conditions).is_ok() {
        return Ok(());
    }
    ctx.add_rule_conditional(action, syscall, conditions).map(|_| ())
}

fn conditions(rule: &Rule, ids: &mut IdResolver) -> Result<Vec<ScmpArgCompare>, Error> {
    rule.args.iter().map(|c| condition(c, rule.line, ids)).collect()
}

fn condition(c: &ArgCondition, line: usize, ids: &mut IdResolver) -> Result<ScmpArgCompare, Error> {
    let datum = match &c.operand {
        Operand::Value(v) => *v,
        Operand::User(name) => ids
            .uid(name)
            .map(u64::from)
            .map_err(|reason| Error::Line { line, reason })?,
        Operand::Group(name) => ids
            .gid(name)
            .map(u64::from)
            .map_err(|reason| Error::Line { line, reason })?,
    };
    let op = match c.comparison {
        Comparison::Equal => ScmpCompareOp::Equal,
        Comparison::NotEqual => ScmpCompareOp::NotEqual,
        Comparison::Less => ScmpCompareOp::Less,
        Comparison::LessOrEqual => ScmpCompareOp::LessOrEqual,
        Comparison::Greater => ScmpCompareOp::Greater,
        Comparison::GreaterOrEqual => ScmpCompareOp::GreaterEqual,
        Comparison::MaskedEqual(mask) => ScmpCompareOp::MaskedEqual(mask),
    };
    Ok(ScmpArgCompare::new(c.index, op, datum))
}

impl Build {
    /// Whether the policy loads no filter at all.
    pub fn is_unrestricted(&self) -> bool {
        self.filters.is_none()
    }

    /// Exports the filters as BPF programs.
    pub fn policy(&self) -> Result<Policy, Error> {
        let Some(filters) = &self.filters else {
            return Ok(Policy::Unrestricted);
        };
        let allow = export(&filters.allow, Which::Allow)?;
        let deny = filters.deny.as_ref().map(|d| export(d, Which::Deny)).transpose()?;
        Ok(Policy::Filtered { allow, deny })
    }

    /// Writes libseccomp's human-readable form of both filters (for
    /// debugging).
    pub fn write_pfc(&self, out: impl AsFd) -> Result<(), Error> {
        let Some(filters) = &self.filters else {
            return Ok(());
        };
        let fd = out.as_fd();
        for (which, ctx) in [
            (Which::Allow, Some(&filters.allow)),
            (Which::Deny, filters.deny.as_ref()),
        ] {
            if let Some(ctx) = ctx {
                ctx.export_pfc(fd).map_err(|source| Error::Seccomp {
                    what: format!("print the {which} filter"),
                    source,
                })?;
            }
        }
        Ok(())
    }
}

/// Exports one filter. libseccomp 2.5 only writes to a file descriptor, so
/// the program goes through a socket pair that a second thread drains (the
/// program may be larger than the socket buffer).
fn export(ctx: &ScmpFilterContext, which: Which) -> Result<Program, Error> {
    let io_err = |source| Error::Io {
        what: format!("export the {which} filter"),
        source,
    };
    let (mut reader, writer) = UnixStream::pair().map_err(io_err)?;
    let drain = thread::spawn(move || {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map(|_| bytes)
    });
    let exported = ctx.export_bpf(&writer);
    drop(writer);
    let read = drain.join().map_err(|_| Error::Io {
        what: format!("export the {which} filter"),
        source: std::io::Error::other("reader failed"),
    })?;
    exported.map_err(|source| Error::Seccomp {
        what: format!("export the {which} filter"),
        source,
    })?;
    let bytes = read.map_err(io_err)?;
    Program::from_bytes(which, &bytes).map_err(Error::Format)
}

/// Encodes a policy in the chosen format.
pub fn encode(policy: &Policy, format: Format) -> Result<Vec<u8>, Error> {
    match format {
        Format::Bin2 => policy_cache::encode_bin2(policy),
        Format::Bin => policy_cache::encode_bin(policy),
    }
    .map_err(Error::Format)
}
