//! Turning a parsed policy into BPF programs.
//!
//! Two filters are built, as snapd does since it learnt explicit denials:
//!
//! * the allow filter: default `ERRNO(EPERM)` (or `LOG` in complain mode),
//!   one `ALLOW` rule per allow line;
//! * the deny filter: default `ALLOW`, one `ERRNO(EACCES)` rule per `~` line
//!   (or the errno the line names, all the same for one system call).
//!
//! The launcher loads both; the kernel applies the most restrictive result,
//! so an explicit denial wins wherever the allow filter would allow. The
//! different errno tells the two kinds of refusal apart.
//!
//! The legacy `.bin` format holds the allow program only, so a policy with
//! `~` lines cannot be compiled to it.
//!
//! Two backends write the programs: our own generator ([`super::native`],
//! the default where it is available) and libseccomp
//! ([`super::via_libseccomp`]). Both give the same verdict for every call;
//! the tests check that over large tables of inputs.

use std::os::fd::AsFd;

use libseccomp::{ScmpArch, ScmpSyscall};
use policy_cache::{Policy, Program, Which};

use super::parse::{ArgCondition, Comparison, Kind, Operand, Rule, Source};
use super::users::IdResolver;
use super::{arch, native, syscalls, via_libseccomp, Error};

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

/// Which code writes the programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Our own generator.
    Native,
    /// libseccomp.
    Libseccomp,
}

/// How to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub format: Format,
    /// The architecture added next to the native one, if any.
    pub secondary_arch: Option<ScmpArch>,
    pub backend: Backend,
}

impl Options {
    /// Options for filters that run on this host. `.bin2` files are
    /// written by the native backend where it handles this host's
    /// architectures; legacy `.bin` files by libseccomp, so that they are
    /// the same bytes Debian's `snap-seccomp` writes.
    pub fn for_host(format: Format) -> Self {
        let options = Options::with_arches(format, arch::host_secondary_arch());
        match format {
            Format::Bin2 => options,
            Format::Bin => Options {
                backend: Backend::Libseccomp,
                ..options
            },
        }
    }

    /// Options for the native architecture and `secondary_arch`, with the
    /// best backend for them.
    pub fn with_arches(format: Format, secondary_arch: Option<ScmpArch>) -> Self {
        let backend = if native::supports(ScmpArch::native(), secondary_arch) {
            Backend::Native
        } else {
            Backend::Libseccomp
        };
        Options {
            format,
            secondary_arch,
            backend,
        }
    }
}

/// A line whose system call libseccomp does not know on this architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub line: usize,
    pub syscall: String,
}

/// A condition with its value resolved to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    /// Argument position, 0 to 5.
    pub index: u32,
    pub comparison: Comparison,
    pub datum: u64,
}

/// A rule ready for a backend: a known system call, numeric conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub line: usize,
    pub syscall: String,
    pub kind: Kind,
    pub conditions: Vec<Condition>,
    /// The errno of an explicit denial (see [`Resolved::errno`]).
    pub denial_errno: Option<i32>,
}

impl Resolved {
    /// The errno an explicit denial returns.
    pub fn errno(&self) -> i32 {
        self.denial_errno.unwrap_or(ERRNO_EXPLICIT_DENIAL)
    }

    /// What a filter returns when this rule matches: `ALLOW` for an allow
    /// rule, `ERRNO(errno)` for an explicit denial.
    pub fn action(&self) -> u32 {
        match self.kind {
            Kind::Allow => native::RET_ALLOW,
            Kind::Deny => native::RET_ERRNO | self.errno().unsigned_abs(),
        }
    }
}

/// What the filters do besides their rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Complain mode: the allow filter logs instead of refusing.
    pub complain: bool,
    /// Complain mode without the log action: the allow filter allows
    /// everything and holds no rules.
    pub complain_without_log: bool,
    /// Whether a deny filter is written (`.bin2`).
    pub with_deny: bool,
}

/// The programs built from a policy.
pub struct Build {
    /// `None` for an unrestricted policy.
    programs: Option<(Program, Option<Program>)>,
    rules: Vec<Resolved>,
    plan: Plan,
    secondary_arch: Option<ScmpArch>,
    /// Rules skipped because their system call is unknown here.
    pub ignored: Vec<Ignored>,
    /// Complain mode was asked for but the kernel cannot log, so the allow
    /// filter allows everything and holds no rules. The deny program still
    /// holds the `~` rules (snapd adds no rules at all in this case; keeping
    /// explicit denials is the safer reading of complain mode).
    pub complain_without_log: bool,
}

/// Whether the running kernel (and libseccomp) support the `LOG` action.
pub fn log_action_supported() -> bool {
    via_libseccomp::log_action_supported()
}

/// Resolves the rules of a policy: unknown system calls are set aside,
/// user and group names become ids.
pub fn resolve(source: &Source, ids: &mut IdResolver) -> Result<(Vec<Resolved>, Vec<Ignored>), Error> {
    let mut rules = Vec::with_capacity(source.rules.len());
    let mut ignored = Vec::new();
    for rule in &source.rules {
        if !syscalls::is_listed(&rule.syscall) && ScmpSyscall::from_name(&rule.syscall).is_err() {
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
        }
        let resolved = Resolved {
            line: rule.line,
            syscall: rule.syscall.clone(),
            kind: rule.kind,
            conditions: conditions(rule, ids)?,
            denial_errno: rule.errno,
        };
        check_denial_errno(&rules, &resolved)?;
        rules.push(resolved);
    }
    Ok((rules, ignored))
}

/// The explicit denials of one system call all return the same errno (a
/// call matching two of them would otherwise depend on rule order).
fn check_denial_errno(earlier: &[Resolved], rule: &Resolved) -> Result<(), Error> {
    if rule.kind != Kind::Deny {
        return Ok(());
    }
    match earlier.iter().find(|r| r.kind == Kind::Deny && r.syscall == rule.syscall && r.errno() != rule.errno()) {
        Some(other) => Err(Error::Line {
            line: rule.line,
            reason: format!(
                "the explicit denials of {} must all use the same errno (line {} uses another)",
                rule.syscall, other.line
            ),
        }),
        None => Ok(()),
    }
}

fn conditions(rule: &Rule, ids: &mut IdResolver) -> Result<Vec<Condition>, Error> {
    rule.args.iter().map(|c| condition(c, rule.line, ids)).collect()
}

fn condition(c: &ArgCondition, line: usize, ids: &mut IdResolver) -> Result<Condition, Error> {
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
    Ok(Condition {
        index: c.index,
        comparison: c.comparison,
        datum,
    })
}

/// Builds the programs for a parsed policy.
pub fn build(source: &Source, options: &Options, ids: &mut IdResolver) -> Result<Build, Error> {
    let plan = Plan {
        complain: source.complain,
        complain_without_log: false,
        with_deny: options.format == Format::Bin2,
    };
    if source.unrestricted {
        return Ok(Build {
            programs: None,
            rules: Vec::new(),
            plan,
            secondary_arch: options.secondary_arch,
            ignored: Vec::new(),
            complain_without_log: false,
        });
    }
    if options.format == Format::Bin {
        if let Some(rule) = source.denials().next() {
            return Err(Error::DenialNeedsBin2 { line: rule.line });
        }
    }
    let complain_without_log = source.complain && !log_action_supported();
    if complain_without_log {
        log::debug!("the log action is unavailable; complain mode allows everything");
    }
    let plan = Plan {
        complain_without_log,
        ..plan
    };
    let (rules, ignored) = resolve(source, ids)?;
    let programs = match options.backend {
        Backend::Native => native_programs(&rules, &plan, options.secondary_arch)?,
        Backend::Libseccomp => via_libseccomp::build(&rules, &plan, options.secondary_arch)?.programs()?,
    };
    Ok(Build {
        programs: Some(programs),
        rules,
        plan,
        secondary_arch: options.secondary_arch,
        ignored,
        complain_without_log,
    })
}

fn native_programs(
    rules: &[Resolved],
    plan: &Plan,
    secondary: Option<ScmpArch>,
) -> Result<(Program, Option<Program>), Error> {
    let mut arches = vec![ScmpArch::native()];
    arches.extend(secondary);
    let (default, kept): (u32, &[Resolved]) = if plan.complain_without_log {
        (native::RET_ALLOW, &[])
    } else if plan.complain {
        (native::RET_LOG, rules)
    } else {
        (native::RET_ERRNO | ERRNO_IMPLICIT_DENIAL.unsigned_abs(), rules)
    };
    let allow = native::filter(kept, Kind::Allow, default, &arches, Which::Allow).map_err(Error::Generate)?;
    let deny = if plan.with_deny {
        Some(native::filter(rules, Kind::Deny, native::RET_ALLOW, &arches, Which::Deny).map_err(Error::Generate)?)
    } else {
        None
    };
    Ok((allow, deny))
}

impl Build {
    /// Whether the policy loads no filter at all.
    pub fn is_unrestricted(&self) -> bool {
        self.programs.is_none()
    }

    /// The compiled programs.
    pub fn policy(&self) -> Result<Policy, Error> {
        Ok(match &self.programs {
            None => Policy::Unrestricted,
            Some((allow, deny)) => Policy::Filtered {
                allow: allow.clone(),
                deny: deny.clone(),
            },
        })
    }

    /// Writes libseccomp's human-readable form of both filters (for
    /// debugging; built with libseccomp whichever backend compiled).
    pub fn write_pfc(&self, out: impl AsFd) -> Result<(), Error> {
        if self.programs.is_none() {
            return Ok(());
        }
        via_libseccomp::build(&self.rules, &self.plan, self.secondary_arch)?.write_pfc(out)
    }
}

/// Encodes a policy in the chosen format.
pub fn encode(policy: &Policy, format: Format) -> Result<Vec<u8>, Error> {
    match format {
        Format::Bin2 => policy_cache::encode_bin2(policy),
        Format::Bin => policy_cache::encode_bin(policy),
    }
    .map_err(Error::Format)
}
