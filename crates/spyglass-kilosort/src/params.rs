//! `params.py`, read as `key = value` lines and never executed: values that parse as an
//! integer or a float become numbers (as element-array-ephys's `convert_to_number`),
//! everything else stays text as written (`'int16'`, `r'rec.dat'`, `True`), as
//! element-array-ephys keeps it (its parameter-set hash depends on it);
//! [`ParamValue::unquoted`] reads a quoted string's contents.

use std::path::Path;

use crate::error::KilosortError;

/// One value of `params.py`.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A whole number.
    Int(i64),
    /// A real number (also `nan`, `inf`).
    Float(f64),
    /// Anything else, as written (`'int16'`, `r'rec.dat'`, `True`).
    Text(String),
}

impl ParamValue {
    /// The contents of a quoted string (`'x'`, `"x"`, `r'x'`), else the text as written;
    /// `None` for numbers.
    pub fn unquoted(&self) -> Option<&str> {
        let ParamValue::Text(v) = self else {
            return None;
        };
        let unq = v
            .strip_prefix(['r', 'R'])
            .filter(|s| s.starts_with(['\'', '"']))
            .unwrap_or(v);
        for q in ['\'', '"'] {
            if unq.len() >= 2 && unq.starts_with(q) && unq.ends_with(q) {
                return Some(&unq[1..unq.len() - 1]);
            }
        }
        Some(v)
    }

    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            ParamValue::Text(_) => None,
        }
    }
}

/// The entries of a `params.py`, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    /// `(key, value)` pairs.
    pub entries: Vec<(String, ParamValue)>,
}

impl Params {
    /// The value of `key`, the last one if repeated.
    pub fn get(&self, key: &str) -> Option<&ParamValue> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// `sample_rate` as a number, if present; an error if present but not a positive number.
    pub fn sample_rate(&self, path: &Path) -> Result<Option<f64>, KilosortError> {
        match self.get("sample_rate") {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(f) if f.is_finite() && f > 0.0 => Ok(Some(f)),
                _ => Err(KilosortError::Invalid {
                    what: path.display().to_string(),
                    detail: format!("sample_rate is {v:?}, not a positive number"),
                }),
            },
        }
    }

    /// Reads `params.py`. Blank lines and `#` comments are skipped; any other line without
    /// `=` is an error naming the file and line.
    pub fn read(path: &Path) -> Result<Params, KilosortError> {
        let text = std::fs::read_to_string(path).map_err(|e| KilosortError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::parse(&text).map_err(|(line, detail)| KilosortError::Text {
            path: path.to_path_buf(),
            line,
            detail,
        })
    }

    /// Parses the text of a `params.py`; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<Params, (usize, String)> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (k, v) = t
                .split_once('=')
                .ok_or_else(|| (i + 1, format!("not a `key = value` line: {t:?}")))?;
            let k = k.trim();
            if k.is_empty() || !k.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err((i + 1, format!("bad key {k:?}")));
            }
            entries.push((k.to_string(), convert(v.trim())));
        }
        Ok(Params { entries })
    }

    /// The text of a `params.py` holding these entries (numbers as Python literals,
    /// text as written).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.entries {
            let v = match v {
                ParamValue::Int(i) => i.to_string(),
                ParamValue::Float(f) if f.fract() == 0.0 && f.is_finite() => format!("{f:.1}"),
                ParamValue::Float(f) => format!("{f}"),
                ParamValue::Text(t) => t.clone(),
            };
            s.push_str(&format!("{k} = {v}\n"));
        }
        s
    }
}

fn convert(v: &str) -> ParamValue {
    if let Ok(i) = v.replace('_', "").parse::<i64>() {
        if !v.starts_with('_') && !v.ends_with('_') {
            return ParamValue::Int(i);
        }
    }
    let lower = v.to_ascii_lowercase();
    let float_like = v.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        || matches!(
            lower.trim_start_matches(['+', '-']),
            "nan" | "inf" | "infinity"
        );
    if float_like {
        if let Ok(f) = lower.parse::<f64>() {
            return ParamValue::Float(f);
        }
    }
    ParamValue::Text(v.to_string())
}
