//! The launcher's command-line parser: NUL-separated arguments (the first
//! is argv[0], possibly missing). Never a panic; everything after the
//! security tag is kept verbatim, however it looks.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let argv: Vec<OsString> = if data.is_empty() { Vec::new() } else { data.split(|b| *b == 0).map(|a| OsString::from_vec(a.to_vec())).collect() };
    if let Ok(confine::args::Command::Launch(a)) = confine::args::parse(argv.clone()) {
        let n = argv.len();
        assert!(n >= 3, "a launch from {n} arguments");
        let tail = &argv[n - a.args.len()..];
        assert_eq!(tail, a.args.as_slice(), "the app's arguments were not kept verbatim");
        assert_eq!(argv[n - a.args.len() - 1], a.command);
        assert_eq!(argv[n - a.args.len() - 2], a.security_tag);
    }
});
