//! The libseccomp backend: filters built and exported by libseccomp, as
//! snapd's `snap-seccomp` does. It is the reference the native generator is
//! checked against, the fallback for architectures the native generator
//! does not handle, and the source of the readable (PFC) debugging output.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::thread;

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use policy_cache::{Program, Which};

use super::compile::{Condition, Plan, Resolved, ERRNO_IMPLICIT_DENIAL};
use super::parse::{Comparison, Kind};
use super::Error;

/// The two libseccomp filters of a policy.
pub struct Filters {
    pub allow: ScmpFilterContext,
    /// `None` in the `.bin` format.
    pub deny: Option<ScmpFilterContext>,
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
    if let Some(arch) = secondary {
        let err = |source| Error::Seccomp {
            what: format!("add architecture {arch:?} to the {which} filter"),
            source,
        };
        if !ctx.is_arch_present(arch).map_err(err)? {
            ctx.add_arch(arch).map_err(err)?;
        }
    }
    Ok(ctx)
}

/// Builds both filters from resolved rules.
pub fn build(rules: &[Resolved], plan: &Plan, secondary: Option<ScmpArch>) -> Result<Filters, Error> {
    let allow_default = if plan.complain_without_log {
        ScmpAction::Allow
    } else if plan.complain {
        ScmpAction::Log
    } else {
        ScmpAction::Errno(ERRNO_IMPLICIT_DENIAL)
    };
    let mut allow = new_filter(allow_default, secondary, Which::Allow)?;
    let mut deny = if plan.with_deny {
        Some(new_filter(ScmpAction::Allow, secondary, Which::Deny)?)
    } else {
        None
    };
    for rule in rules {
        let (ctx, action) = match rule.kind {
            // A default-allow filter takes no allow rules (libseccomp refuses
            // a rule whose action is the default).
            Kind::Allow if plan.complain_without_log => continue,
            Kind::Allow => (&mut allow, ScmpAction::Allow),
            Kind::Deny => match deny.as_mut() {
                Some(deny) => (deny, ScmpAction::Errno(rule.errno())),
                None => return Err(Error::DenialNeedsBin2 { line: rule.line }),
            },
        };
        let syscall = ScmpSyscall::from_name(&rule.syscall).map_err(|source| Error::Seccomp {
            what: format!("resolve the system call of line {}", rule.line),
            source,
        })?;
        let conditions: Vec<ScmpArgCompare> = rule.conditions.iter().map(compare).collect();
        add_rule(ctx, action, syscall, &conditions).map_err(|source| Error::Seccomp {
            what: format!("add the rule of line {}", rule.line),
            source,
        })?;
    }
    Ok(Filters { allow, deny })
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

fn compare(c: &Condition) -> ScmpArgCompare {
    let op = match c.comparison {
        Comparison::Equal => ScmpCompareOp::Equal,
        Comparison::NotEqual => ScmpCompareOp::NotEqual,
        Comparison::Less => ScmpCompareOp::Less,
        Comparison::LessOrEqual => ScmpCompareOp::LessOrEqual,
        Comparison::Greater => ScmpCompareOp::Greater,
        Comparison::GreaterOrEqual => ScmpCompareOp::GreaterEqual,
        Comparison::MaskedEqual(mask) => ScmpCompareOp::MaskedEqual(mask),
    };
    ScmpArgCompare::new(c.index, op, c.datum)
}

impl Filters {
    /// Exports both programs.
    pub fn programs(&self) -> Result<(Program, Option<Program>), Error> {
        let allow = export(&self.allow, Which::Allow)?;
        let deny = self.deny.as_ref().map(|d| export(d, Which::Deny)).transpose()?;
        Ok((allow, deny))
    }

    /// Writes libseccomp's human-readable form of both filters.
    pub fn write_pfc(&self, out: impl AsFd) -> Result<(), Error> {
        let fd = out.as_fd();
        for (which, ctx) in [(Which::Allow, Some(&self.allow)), (Which::Deny, self.deny.as_ref())] {
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
