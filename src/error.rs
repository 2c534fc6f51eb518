//! The launcher's one error type. Every message reads `cannot <what>[: <cause>]`.

use nix::errno::Errno;
use std::fmt;

/// What went wrong underneath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A system call failed.
    Errno(Errno),
    /// A check of ours failed; the text explains which.
    Text(String),
}

/// A failure, with the operation that failed and its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    what: String,
    cause: Option<Cause>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// `cannot <what>`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn new(what: impl Into<String>) -> Self {
        Error { what: what.into(), cause: None }
    }

    /// `cannot <what>: <strerror>`.
    pub fn errno(what: impl Into<String>, e: Errno) -> Self {
        Error { what: what.into(), cause: Some(Cause::Errno(e)) }
    }

    /// `cannot <what>: <why>`.
    pub fn because(what: impl Into<String>, why: impl Into<String>) -> Self {
        Error { what: what.into(), cause: Some(Cause::Text(why.into())) }
    }

    /// The errno behind this error, if a system call failed.
    pub fn errno_value(&self) -> Option<Errno> {
        match self.cause {
            Some(Cause::Errno(e)) => Some(e),
            _ => None,
        }
    }

    /// Adds a line of advice after the message.
    pub fn with_hint(self, hint: &str) -> Self {
        let cause = match self.cause {
            Some(Cause::Errno(e)) => Some(Cause::Text(format!("{}\n{hint}", e.desc()))),
            Some(Cause::Text(t)) => Some(Cause::Text(format!("{t}\n{hint}"))),
            None => Some(Cause::Text(hint.to_string())),
        };
        Error { what: self.what, cause }
    }

    /// Puts an outer operation in front: `cannot <outer>: <what>: <cause>`.
    pub fn within(self, outer: impl fmt::Display) -> Self {
        Error { what: format!("{outer}: {}", self.what), cause: self.cause }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {}", self.what)?;
        match &self.cause {
            Some(Cause::Errno(e)) => write!(f, ": {}", e.desc()),
            Some(Cause::Text(t)) => write!(f, ": {t}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// Adds the operation to a failed call's errno.
pub trait Context<T> {
    fn context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, Errno> {
    fn context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| Error::errno(what().to_string(), e))
    }
}

impl<T> Context<T> for std::result::Result<T, Error> {
    fn context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| e.within(what()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(Error::new("run").to_string(), "cannot run");
        assert_eq!(
            Error::errno("open /x", Errno::ENOENT).to_string(),
            "cannot open /x: No such file or directory"
        );
        assert_eq!(Error::because("use x", "it is odd").to_string(), "cannot use x: it is odd");
        let e: Result<()> = Err(Errno::EPERM).context(|| "mount");
        let e = e.context(|| "build the sandbox");
        assert_eq!(e, Err(Error::errno("build the sandbox: mount", Errno::EPERM)));
        assert_eq!(Error::errno("x", Errno::EACCES).errno_value(), Some(Errno::EACCES));
    }
}
