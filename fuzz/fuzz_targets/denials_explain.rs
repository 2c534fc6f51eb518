//! Any bytes, as a log, through the whole of `confine denials`: parsing,
//! explaining, grouping and both renderings. Slower than `denials_parse`
//! (explaining asks the interface catalog); nothing may panic and every
//! line must be accounted for.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use confine_tools::denials::group::{Collector, Filter};
use confine_tools::denials::{render, Context};
use libfuzzer_sys::fuzz_target;

fn context() -> Option<&'static Context> {
    static CTX: OnceLock<Option<Context>> = OnceLock::new();
    CTX.get_or_init(|| Context::with_state(Err("fuzzing".into()), Path::new("/nonexistent")).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some(ctx) = context() else { return };
    let mut c = Collector::new(ctx, Filter::default());
    let mut lines = 0;
    for line in text.lines() {
        c.add_line(line);
        lines += 1;
    }
    let filtered = lines - (c.records + c.duplicates + c.skipped + c.other);
    assert_eq!(filtered, 0);
    let _ = render::text(&c);
    let _ = render::json(&c, &[]);
});
