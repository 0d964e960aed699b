//! Checks a user's SQL restriction string before it is placed in a query: every bare
//! column name must be an attribute of the query's heading (so a typo gets an error
//! naming it), and the text may not escape its parentheses, start a comment, add a
//! statement, or carry `?` placeholders that would shift the bound parameters.

use crate::error::{Error, Result};

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "xor",
    "in",
    "is",
    "null",
    "like",
    "between",
    "true",
    "false",
    "regexp",
    "rlike",
    "div",
    "mod",
    "case",
    "when",
    "then",
    "else",
    "end",
    "as",
    "escape",
    "exists",
    "select",
    "from",
    "where",
    "distinct",
    "binary",
    "collate",
    "interval",
    "microsecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "current_timestamp",
    "current_date",
    "current_time",
    "glob",
    "unknown",
    "asc",
    "desc",
    "all",
    "any",
    "some",
    "unsigned",
    "signed",
    "integer",
    "char",
    "date",
    "datetime",
    "time",
    "decimal",
    "double",
    "float",
    "real",
    "text",
    "sounds",
    "limit",
    "offset",
    "group",
    "by",
    "order",
    "having",
    "join",
    "natural",
    "left",
    "on",
    "using",
    "union",
];

/// Validates `sql` against the attribute names of a heading.
///
/// `context` names the query in error messages.
pub fn check_restriction(sql: &str, attrs: &[&str], context: &str) -> Result<()> {
    let bad = |why: &str| Error::Query(format!("restriction \"{sql}\" on {context}: {why}"));
    let b = sql.as_bytes();
    let mut i = 0;
    let mut depth: i64 = 0;
    let mut has_select = false;
    let mut idents: Vec<String> = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' => {
                let q = c;
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(bad("unterminated string literal"));
                    }
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == q {
                        if i + 1 < b.len() && b[i + 1] == q {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            b'`' => {
                let start = i + 1;
                let end = sql[start..]
                    .find('`')
                    .map(|e| start + e)
                    .ok_or_else(|| bad("unterminated `identifier`"))?;
                let qualified =
                    (end + 1 < b.len() && b[end + 1] == b'.') || (i > 0 && b[i - 1] == b'.');
                if !qualified {
                    idents.push(sql[start..end].to_string());
                }
                i = end + 1;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(bad("unbalanced `)`"));
                }
                i += 1;
            }
            b';' => return Err(bad("`;` is not allowed: a restriction is one condition")),
            b'?' => return Err(bad("`?` placeholders are not allowed; write the value")),
            b'#' => return Err(bad("comments are not allowed")),
            b'-' if i + 1 < b.len() && b[i + 1] == b'-' => {
                return Err(bad("comments are not allowed"))
            }
            b'/' if i + 1 < b.len() && b[i + 1] == b'*' => {
                return Err(bad("comments are not allowed"))
            }
            b'0'..=b'9' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                let word = &sql[start..i];
                let mut j = i;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let is_call = j < b.len() && b[j] == b'(';
                let qualified =
                    (i < b.len() && b[i] == b'.') || (start > 0 && b[start - 1] == b'.');
                let lower = word.to_ascii_lowercase();
                if lower == "select" {
                    has_select = true;
                }
                // X'0A1B' and B'0101' are hexadecimal and bit literals, not columns
                let literal_prefix = (lower == "x" || lower == "b") && i < b.len() && b[i] == b'\'';
                if !is_call && !qualified && !literal_prefix && !KEYWORDS.contains(&lower.as_str())
                {
                    idents.push(word.to_string());
                }
            }
            b'@' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'@')
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    if depth != 0 {
        return Err(bad("unbalanced `(`"));
    }
    if sql.trim().is_empty() {
        return Err(bad("empty restriction"));
    }
    if has_select {
        // a subquery brings its own tables and columns; let the server check them
        return Ok(());
    }
    for id in idents {
        if !attrs.contains(&id.as_str()) {
            return Err(Error::UnknownAttribute {
                attribute: id,
                context: format!("restriction \"{sql}\" on {context}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: &[&str] = &["student_id", "first_name", "dob", "sex"];

    #[test]
    fn accepts_ordinary_restrictions() {
        for s in [
            "sex = 'F'",
            "sex=\"F\"",
            "first_name LIKE 'A%' AND student_id > 3",
            "dob BETWEEN '2000-01-01' AND '2001-01-01'",
            "`sex` IN ('M', 'F')",
            "year(dob) = 1999",
            "student_id % 2 = 0",
            "first_name = 'it''s'",
            "sex IS NOT NULL",
            "student_id in (select student_id from other)",
            "`student_id` IN (X'0A1B', x'ff')",
            "(`sex`,`dob`) IN (('F','2000-01-01'),('M','2001-02-03'))",
            "TRUE",
        ] {
            check_restriction(s, ATTRS, "t").unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }

    #[test]
    fn names_unknown_attributes() {
        let e = check_restriction("gender = 'F'", ATTRS, "univ.Student").unwrap_err();
        assert!(
            matches!(&e, Error::UnknownAttribute { attribute, .. } if attribute == "gender"),
            "{e}"
        );
        assert!(e.to_string().contains("univ.Student"));
        let e = check_restriction("`nope` > 1", ATTRS, "t").unwrap_err();
        assert!(e.to_string().contains("`nope`"));
    }

    #[test]
    fn refuses_escapes() {
        for s in [
            "sex='F'); DROP TABLE x; --",
            "1=1) OR (1=1",
            "sex = ?",
            "a # c",
            "(sex='F'",
            "x -- y",
            "",
            "'open",
        ] {
            assert!(check_restriction(s, ATTRS, "t").is_err(), "{s} accepted");
        }
    }
}
