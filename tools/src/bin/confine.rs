#![forbid(unsafe_code)]
fn main() {
    eprintln!("cannot run: no subcommands yet");
    std::process::exit(1);
}
