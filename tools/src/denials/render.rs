//! Explanations as text for people, or as JSON for programs.

use serde_json::{json, Value};

use super::explain::Para;
use super::group::{Collector, Group};
use super::time::format_utc;

/// Text width for wrapped sentences.
const WIDTH: usize = 78;

/// Wraps `text` at [`WIDTH`] with `indent` before each line.
fn wrap(text: &str, indent: &str, out: &mut String) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > WIDTH {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
}

/// When and how often.
fn seen(g: &Group) -> String {
    let times = if g.count == 1 {
        "once".to_owned()
    } else {
        format!("{} times", g.count)
    };
    match (g.first, g.last) {
        (Some(a), Some(b)) if g.count > 1 && a != b => {
            format!("Seen {times}, from {} to {}.", format_utc(a), format_utc(b))
        }
        (Some(a), _) => format!("Seen {times}, at {}.", format_utc(a)),
        _ => format!("Seen {times} (the log gives no time)."),
    }
}

/// One group as text.
pub fn group_text(g: &Group) -> String {
    let mut out = String::new();
    wrap(&g.explanation.summary, "", &mut out);
    wrap(&seen(g), "  ", &mut out);
    for p in &g.explanation.text {
        match p {
            Para::Text(t) => wrap(t, "  ", &mut out),
            Para::Rule(r) | Para::Command(r) => {
                out.push_str("      ");
                out.push_str(r);
                out.push('\n');
            }
        }
    }
    for n in &g.notes {
        wrap(n, "  ", &mut out);
    }
    out
}

/// The closing lines: how much was read.
pub fn totals_text(c: &Collector<'_>) -> String {
    let mut out = String::new();
    let denials = c.groups.len();
    if denials == 0 {
        out.push_str("No AppArmor or seccomp denials found.\n");
    } else {
        out.push_str(&format!(
            "{denials} distinct denial{} ({} record{}).\n",
            if denials == 1 { "" } else { "s" },
            c.records,
            if c.records == 1 { "" } else { "s" }
        ));
    }
    if c.skipped > 0 {
        out.push_str(&format!(
            "Skipped {} line{} that could not be read as records (cut short or garbled):\n",
            c.skipped,
            if c.skipped == 1 { "" } else { "s" }
        ));
        for e in &c.skip_examples {
            out.push_str("  ");
            out.push_str(e);
            out.push('\n');
        }
    }
    out
}

/// All groups as text, then the totals.
pub fn text(c: &Collector<'_>) -> String {
    let mut out = String::new();
    for g in &c.groups {
        out.push_str(&group_text(g));
        out.push('\n');
    }
    out.push_str(&totals_text(c));
    out
}

/// One group as a JSON value.
pub fn group_json(g: &Group) -> Value {
    json!({
        "count": g.count,
        "first_seen": g.first.map(format_utc),
        "last_seen": g.last.map(format_utc),
        "record": g.record,
        "explanation": g.explanation,
        "notes": g.notes,
    })
}

/// Everything as one JSON document.
pub fn json(c: &Collector<'_>, warnings: &[String]) -> Value {
    json!({
        "denials": c.groups.iter().map(group_json).collect::<Vec<_>>(),
        "records": c.records,
        "duplicates": c.duplicates,
        "skipped": c.skipped,
        "skipped_examples": c.skip_examples,
        "other_lines": c.other,
        "warnings": warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping() {
        let mut out = String::new();
        wrap(&"word ".repeat(40), "  ", &mut out);
        assert!(out.lines().all(|l| l.len() <= WIDTH && l.starts_with("  word")));
        assert_eq!(out.lines().count(), 3);
    }
}
