//! Walking a YAML tree with the path of every value at hand, so that each
//! error names the field it is about (`apps.web.daemon`).

use std::collections::BTreeMap;

use serde_json::Value;
use yaml_rust2::Yaml;

use super::Error;

/// A value in the tree and where it is.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    pub path: &'a str,
    pub value: &'a Yaml,
}

/// The path of a child field.
pub fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Node<'a> {
    pub fn err<T>(&self, message: impl Into<String>) -> Result<T, Error> {
        Err(Error::field(self.path, message))
    }

    /// A scalar as text: strings as they are, numbers and booleans as YAML
    /// wrote them (`version: 1.0` is the text "1.0").
    pub fn text(&self) -> Result<String, Error> {
        match self.value {
            Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
            Yaml::Integer(i) => Ok(i.to_string()),
            Yaml::Boolean(b) => Ok(b.to_string()),
            _ => self.err("must be a string"),
        }
    }

    /// A mapping with string keys, in file order.
    pub fn entries(&self) -> Result<Vec<(String, &'a Yaml)>, Error> {
        match self.value {
            Yaml::Hash(h) => h
                .iter()
                .map(|(k, v)| match k {
                    Yaml::String(s) => Ok((s.clone(), v)),
                    Yaml::Integer(i) => Ok((i.to_string(), v)),
                    Yaml::Boolean(b) => Ok((b.to_string(), v)),
                    _ => Err(Error::field(self.path, "keys must be strings")),
                })
                .collect(),
            Yaml::Null => Ok(Vec::new()),
            _ => self.err("must be a map"),
        }
    }

    /// A list of strings; a missing value is empty.
    pub fn strings(&self) -> Result<Vec<String>, Error> {
        match self.value {
            Yaml::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let path = format!("{}[{i}]", self.path);
                    Node {
                        path: &path,
                        value: item,
                    }
                    .text()
                })
                .collect(),
            Yaml::Null => Ok(Vec::new()),
            _ => self.err("must be a list of strings"),
        }
    }

    /// A mapping of strings to strings, in file order.
    pub fn string_map(&self) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        for (key, value) in self.entries()? {
            let path = child(self.path, &key);
            out.push((key, Node { path: &path, value }.text()?));
        }
        Ok(out)
    }

    /// Any value, as JSON (for interface attributes).
    pub fn json(&self) -> Result<Value, Error> {
        Ok(match self.value {
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Real(s) => s
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(s.clone())),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Null => Value::Null,
            Yaml::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{}[{i}]", self.path);
                    out.push(
                        Node {
                            path: &path,
                            value: item,
                        }
                        .json()?,
                    );
                }
                Value::Array(out)
            }
            Yaml::Hash(_) => {
                let mut out = serde_json::Map::new();
                for (key, value) in self.entries()? {
                    let path = child(self.path, &key);
                    out.insert(key, Node { path: &path, value }.json()?);
                }
                Value::Object(out)
            }
            Yaml::Alias(_) | Yaml::BadValue => return self.err("aliases are not supported"),
        })
    }
}

/// Looks a key up in a list of entries.
pub fn get<'a>(entries: &[(String, &'a Yaml)], key: &str) -> Option<&'a Yaml> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// The attributes of a plug or slot, sorted by name.
pub type Attrs = BTreeMap<String, Value>;
