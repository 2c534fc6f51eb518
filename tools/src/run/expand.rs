//! `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}` in snap.yaml
//! values, against the environment built so far (undefined is empty).

/// Expands the variables of `text` with `get`.
pub fn expand(text: &str, get: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let after = rest.get(at + 1..).unwrap_or("");
        if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                out.push_str(rest.get(at..).unwrap_or(""));
                return out;
            };
            let body = inner.get(..end).unwrap_or("");
            let value = if let Some((name, default)) = body.split_once(":-") {
                get(name).filter(|v| !v.is_empty()).unwrap_or_else(|| expand(default, get))
            } else if let Some((name, alt)) = body.split_once(":+") {
                if get(name).is_some_and(|v| !v.is_empty()) {
                    expand(alt, get)
                } else {
                    String::new()
                }
            } else {
                get(body).unwrap_or_default()
            };
            out.push_str(&value);
            rest = inner.get(end + 1..).unwrap_or("");
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&get(after.get(..len).unwrap_or("")).unwrap_or_default());
            }
            rest = after.get(len..).unwrap_or("");
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn expansions() {
        let env = |k: &str| match k {
            "SNAP" => Some("/snap/a/1".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let e = |t: &str| expand(t, &env);
        assert_eq!(e("$SNAP/bin:${SNAP}/usr"), "/snap/a/1/bin:/snap/a/1/usr");
        assert_eq!(e("x${NOPE}y$NOPE.z"), "xy.z");
        assert_eq!(e("${NOPE:-$SNAP/d}"), "/snap/a/1/d");
        assert_eq!(e("${EMPTY:-def}"), "def");
        assert_eq!(e("${SNAP:+set}${NOPE:+no}"), "set");
        assert_eq!(e("cost $5 and $"), "cost  and $");
        assert_eq!(e("${unclosed"), "${unclosed");
        assert_eq!(e("plain"), "plain");
    }
}
