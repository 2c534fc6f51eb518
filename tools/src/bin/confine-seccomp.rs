//! `confine-seccomp`: compiles snapd's seccomp `.src` policies, with the
//! command line of `snap-seccomp`.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use confine_tools::seccomp::{self, version, Backend, Format, IdResolver, Options};

const USAGE: &str = "\
Usage:
  confine-seccomp compile [--format=bin2|bin] SRC OUT
  confine-seccomp compile [--format=bin2|bin] --backend=native|libseccomp SRC OUT
      Compile the seccomp policy SRC into OUT, written atomically (mode 0644).
      bin2 (the default): header, allow program and deny program.
      bin: the allow program alone, as snapd 2.62 and older read it; policies
      with explicit denials (~ lines) cannot be written in this format.
      The programs are written by our own generator (native, the default:
      several times faster than libseccomp, and exact where libseccomp 2.5
      miscompiles some argument rules) or by libseccomp (the same bytes
      snapd's snap-seccomp writes, for policies it can compile). Where the
      native generator does not handle the host's architectures, libseccomp
      is used.
  confine-seccomp dump FILE PREFIX
      Write the allow and deny programs of FILE to PREFIX.allow and PREFIX.deny.
  confine-seccomp version-info
      Print a line that changes whenever the compiler or libseccomp changes.
  confine-seccomp library-version
      Print the libseccomp version.
  confine-seccomp --help | --version

Environment:
  SNAP_SECCOMP_DEBUG=1  report ignored lines and print both filters in
                        libseccomp's readable form on standard output.
";

/// A failure: the one-line message (starting with "cannot").
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn debug_enabled() -> bool {
    matches!(
        std::env::var("SNAP_SECCOMP_DEBUG").as_deref(),
        Ok("1" | "t" | "T" | "true" | "TRUE" | "True")
    )
}

fn init_logging(debug: bool) {
    let level = if debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Warn
    };
    let _ = env_logger::Builder::new()
        .filter_level(level)
        .format(|out, record| {
            writeln!(
                out,
                "confine-seccomp: {}: {}",
                record.level().as_str().to_lowercase(),
                record.args()
            )
        })
        .try_init();
}

fn main() -> ExitCode {
    let debug = debug_enabled();
    init_logging(debug);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match run(&args, debug) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[OsString], debug: bool) -> Result<(), Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure("cannot run: no command given (see --help)".into()));
    };
    match command.to_str() {
        Some("compile") => compile(rest, debug),
        Some("dump") => dump(rest),
        Some("version-info") => {
            no_more_args("version-info", rest)?;
            println!("{}", version::version_info()?);
            Ok(())
        }
        Some("library-version") => {
            no_more_args("library-version", rest)?;
            println!("{}", version::library_version()?);
            Ok(())
        }
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some("--version") => {
            println!("confine-seccomp {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        _ => Err(Failure(format!(
            "cannot run: unknown command {:?} (see --help)",
            command.to_string_lossy()
        ))),
    }
}

fn no_more_args(command: &str, rest: &[OsString]) -> Result<(), Failure> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(Failure(format!(
            "cannot run {command}: unexpected argument {:?}",
            extra.to_string_lossy()
        ))),
    }
}

fn parse_format(value: &str) -> Result<Format, Failure> {
    match value {
        "bin2" => Ok(Format::Bin2),
        "bin" => Ok(Format::Bin),
        other => Err(Failure(format!(
            "cannot compile: unknown format {other:?} (expected bin2 or bin)"
        ))),
    }
}

fn parse_backend(value: &str) -> Result<Backend, Failure> {
    match value {
        "native" => Ok(Backend::Native),
        "libseccomp" => Ok(Backend::Libseccomp),
        other => Err(Failure(format!(
            "cannot compile: unknown backend {other:?} (expected native or libseccomp)"
        ))),
    }
}

/// `compile`'s arguments.
struct CompileArgs {
    format: Format,
    backend: Option<Backend>,
    src: PathBuf,
    out: PathBuf,
}

/// Splits `compile`'s arguments into the options and the two paths.
fn compile_args(args: &[OsString]) -> Result<CompileArgs, Failure> {
    let mut format = Format::Bin2;
    let mut backend = None;
    let mut paths = Vec::new();
    let mut options_done = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str();
        match text {
            Some("--") if !options_done => options_done = true,
            Some("--format") if !options_done => {
                let value = iter
                    .next()
                    .ok_or_else(|| Failure("cannot compile: --format needs a value".into()))?;
                format = parse_format(&value.to_string_lossy())?;
            }
            Some(t) if !options_done && t.starts_with("--format=") => {
                format = parse_format(t.trim_start_matches("--format="))?;
            }
            Some("--backend") if !options_done => {
                let value = iter
                    .next()
                    .ok_or_else(|| Failure("cannot compile: --backend needs a value".into()))?;
                backend = Some(parse_backend(&value.to_string_lossy())?);
            }
            Some(t) if !options_done && t.starts_with("--backend=") => {
                backend = Some(parse_backend(t.trim_start_matches("--backend="))?);
            }
            Some(t) if !options_done && t.starts_with('-') && t.len() > 1 => {
                return Err(Failure(format!("cannot compile: unknown option {t:?}")));
            }
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    match <[PathBuf; 2]>::try_from(paths) {
        Ok([src, out]) => Ok(CompileArgs {
            format,
            backend,
            src,
            out,
        }),
        Err(_) => Err(Failure(
            "cannot compile: need an input and an output file (see --help)".into(),
        )),
    }
}

fn compile(args: &[OsString], debug: bool) -> Result<(), Failure> {
    let CompileArgs {
        format,
        backend,
        src,
        out,
    } = compile_args(args)?;
    let mut options = Options::for_host(format);
    let native_here = seccomp::native::supports(libseccomp::ScmpArch::native(), options.secondary_arch);
    // Our exact generator unless asked otherwise (or unable).
    let backend = backend.unwrap_or(if native_here { Backend::Native } else { Backend::Libseccomp });
    if backend == Backend::Native && !native_here {
        return Err(Failure(
            "cannot compile: the native backend does not handle this architecture".into(),
        ));
    }
    options.backend = backend;
    let mut ids = IdResolver::system();
    let compiled = seccomp::compile_file(&src, &out, &options, &mut ids)?;
    if debug {
        let stdout = std::io::stdout();
        stdout
            .lock()
            .flush()
            .map_err(|e| Failure(format!("cannot write to standard output: {e}")))?;
        compiled.build.write_pfc(&stdout)?;
    }
    Ok(())
}

fn dump(args: &[OsString]) -> Result<(), Failure> {
    let [file, prefix] = args else {
        return Err(Failure("cannot dump: need a file and a prefix (see --help)".into()));
    };
    let file = PathBuf::from(file);
    let bytes = std::fs::read(&file).map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?;
    let (allow, deny) = seccomp::split_programs(&bytes)?;
    for (suffix, program) in [(".allow", allow), (".deny", deny)] {
        let mut path = prefix.clone();
        path.push(suffix);
        let path = PathBuf::from(path);
        seccomp::output::write_atomically(&path, &program)
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
