//! The DataJoint 0.14 definition grammar, line by line: table comment, attributes
//! (`name [= default] : type [# comment]`), the `---` divider, foreign keys
//! (`-> [nullable, unique] Parent.proj(new='old')`) and `[unique] index(...)`.
//! Produces a syntax tree; resolving parents and building the heading is `compile`.

use crate::error::{Error, Result};
use crate::types::AttrType;

/// A parsed definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// Table comment (first line starting with `#`).
    pub comment: String,
    /// Lines in order.
    pub items: Vec<Item>,
}

/// One meaningful line of a definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An attribute line.
    Attr(AttrDecl),
    /// A foreign-key line.
    ForeignKey(FkDecl),
    /// An index line.
    Index {
        /// 1-based line number.
        line: usize,
        /// `unique index`.
        unique: bool,
        /// Attribute names.
        attrs: Vec<String>,
    },
}

/// An attribute line.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    /// 1-based line number.
    pub line: usize,
    /// Above the divider.
    pub in_key: bool,
    /// Attribute name.
    pub name: String,
    /// Parsed type.
    pub ty: AttrType,
    /// Declared `= null`.
    pub nullable: bool,
    /// Non-null default as written.
    pub default: Option<String>,
    /// Comment.
    pub comment: String,
}

/// A foreign-key line.
#[derive(Debug, Clone, PartialEq)]
pub struct FkDecl {
    /// 1-based line number.
    pub line: usize,
    /// Above the divider.
    pub in_key: bool,
    /// `[nullable]`.
    pub nullable: bool,
    /// `[unique]`.
    pub unique: bool,
    /// Referenced table as written: `Class`, `schema.Class`, `Class.Part`, `master`.
    pub target: String,
    /// Renames from `.proj(new='old')`, as (new, old).
    pub renames: Vec<(String, String)>,
}

fn err(table: &str, line: usize, text: &str, message: impl AsRef<str>) -> Error {
    Error::definition(table, format!("line {line} `{text}`: {}", message.as_ref()))
}

/// Splits `s` at the first occurrence of `sep` that is outside quotes.
fn split_outside_quotes(s: &str, sep: char) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == sep => return Some((&s[..i], &s[i + c.len_utf8()..])),
            None => {}
        }
    }
    None
}

fn is_attr_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_lowercase())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

/// Parses a definition string for table `table` (named in errors).
pub fn parse(table: &str, definition: &str) -> Result<Definition> {
    let mut comment = String::new();
    let mut items = Vec::new();
    let mut in_key = true;
    let mut first = true;
    for (i, raw) in definition.trim().lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if first {
            first = false;
            if let Some(c) = line.strip_prefix('#') {
                let c = c.trim();
                if c.starts_with(':') {
                    return Err(err(
                        table,
                        line_no,
                        line,
                        "a table comment may not start with `:`",
                    ));
                }
                comment = c.to_string();
                continue;
            }
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("---") || line.starts_with("___") {
            in_key = false;
            continue;
        }
        if is_fk_line(line) {
            items.push(Item::ForeignKey(parse_fk(table, line_no, line, in_key)?));
            continue;
        }
        if is_index_line(line) {
            let (unique, attrs) = parse_index(table, line_no, line)?;
            items.push(Item::Index {
                line: line_no,
                unique,
                attrs,
            });
            continue;
        }
        items.push(Item::Attr(parse_attr(table, line_no, line, in_key)?));
    }
    Ok(Definition { comment, items })
}

fn is_fk_line(line: &str) -> bool {
    match line.find("->") {
        Some(pos) => !line[..pos].contains(['"', '\'', '#']),
        None => false,
    }
}

fn is_index_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("unique")
        .map(str::trim_start)
        .unwrap_or(&lower);
    let unique_prefix = lower.starts_with("unique") && rest.len() < lower.len();
    if unique_prefix && !lower["unique".len()..].starts_with(char::is_whitespace) {
        return false;
    }
    match rest.strip_prefix("index") {
        Some(after) => after.trim_start().starts_with('('),
        None => false,
    }
}

fn parse_index(table: &str, line_no: usize, line: &str) -> Result<(bool, Vec<String>)> {
    let lower = line.to_ascii_lowercase();
    let unique = lower.starts_with("unique");
    let open = line
        .find('(')
        .ok_or_else(|| err(table, line_no, line, "expected `index(attr, ...)`"))?;
    let inner = line[open + 1..]
        .trim_end()
        .strip_suffix(')')
        .ok_or_else(|| err(table, line_no, line, "index is missing its closing `)`"))?;
    let attrs: Vec<String> = inner
        .split(',')
        .map(|a| a.trim().trim_matches('`').to_string())
        .collect();
    if attrs.iter().any(|a| !is_attr_name(a)) {
        return Err(err(
            table,
            line_no,
            line,
            "index lists must name attributes: `index(a, b)`",
        ));
    }
    Ok((unique, attrs))
}

fn parse_attr(table: &str, line_no: usize, line: &str, in_key: bool) -> Result<AttrDecl> {
    let (head, ty_and_comment) = split_outside_quotes(line, ':').ok_or_else(|| {
        if line.matches('"').count() % 2 == 1 || line.matches('\'').count() % 2 == 1 {
            err(table, line_no, line, "unterminated string")
        } else {
            err(
                table,
                line_no,
                line,
                "expected `name [= default] : type [# comment]` (missing `:`)",
            )
        }
    })?;
    let (name, default) = match split_outside_quotes(head, '=') {
        Some((n, d)) => (n.trim(), Some(d.trim())),
        None => (head.trim(), None),
    };
    if !is_attr_name(name) {
        return Err(err(
            table,
            line_no,
            line,
            format!("invalid attribute name `{name}` (lower case letters, digits and `_`, starting with a letter)"),
        ));
    }
    let ty_and_comment = ty_and_comment.trim();
    let (ty_text, comment) = if ty_and_comment.starts_with('<') {
        let close = ty_and_comment
            .find('>')
            .ok_or_else(|| err(table, line_no, line, "unterminated adapter type `<...>`"))?;
        let rest = ty_and_comment[close + 1..].trim();
        let comment = match rest.strip_prefix('#') {
            Some(c) => c.trim(),
            None if rest.is_empty() => "",
            None => return Err(err(table, line_no, line, "unexpected text after the type")),
        };
        (&ty_and_comment[..=close], comment)
    } else {
        match split_outside_quotes(ty_and_comment, '#') {
            Some((t, c)) => (t.trim(), c.trim()),
            None => (ty_and_comment, ""),
        }
    };
    let ty = AttrType::parse(ty_text).map_err(|_| {
        err(
            table,
            line_no,
            line,
            format!("unsupported attribute type `{ty_text}`"),
        )
    })?;
    if comment.starts_with(':') {
        return Err(err(
            table,
            line_no,
            line,
            "an attribute comment may not start with `:`",
        ));
    }
    let mut nullable = false;
    let mut default_out = None;
    if let Some(d) = default {
        if d.is_empty() {
            return Err(err(table, line_no, line, "empty default after `=`"));
        }
        if d.eq_ignore_ascii_case("null") {
            if in_key {
                return Err(err(
                    table,
                    line_no,
                    line,
                    "a primary-key attribute cannot be nullable",
                ));
            }
            nullable = true;
        } else {
            if ty.only_null_default() {
                return Err(err(
                    table,
                    line_no,
                    line,
                    format!("`{ty_text}` attributes accept only `null` as a default"),
                ));
            }
            let quoted = (d.starts_with('"') && d.ends_with('"') && d.len() >= 2)
                || (d.starts_with('\'') && d.ends_with('\'') && d.len() >= 2);
            if (d.starts_with('"') || d.starts_with('\'')) && !quoted {
                return Err(err(
                    table,
                    line_no,
                    line,
                    format!("unterminated string in default `{d}`"),
                ));
            }
            default_out = Some(d.to_string());
        }
    }
    if in_key && ty.forbidden_in_key() {
        return Err(err(
            table,
            line_no,
            line,
            format!("`{ty_text}` attributes cannot be in the primary key"),
        ));
    }
    if ty.is_auto_increment() && !in_key {
        return Err(err(
            table,
            line_no,
            line,
            "auto_increment is allowed only in the primary key",
        ));
    }
    Ok(AttrDecl {
        line: line_no,
        in_key,
        name: name.to_string(),
        ty,
        nullable,
        default: default_out,
        comment: comment.to_string(),
    })
}

fn parse_fk(table: &str, line_no: usize, line: &str, in_key: bool) -> Result<FkDecl> {
    let pos = line.find("->").unwrap_or(0);
    if !line[..pos].trim().is_empty() {
        return Err(err(
            table,
            line_no,
            line,
            "the old `(new) -> Parent(old)` syntax is not supported; use `-> Parent.proj(new='old')`",
        ));
    }
    let mut rest = line[pos + 2..].trim();
    let mut nullable = false;
    let mut unique = false;
    if let Some(r) = rest.strip_prefix('[') {
        let close = r
            .find(']')
            .ok_or_else(|| err(table, line_no, line, "unterminated `[options]`"))?;
        for opt in r[..close].split(',') {
            match opt.trim().to_ascii_lowercase().as_str() {
                "nullable" => nullable = true,
                "unique" => unique = true,
                "" => {}
                other => {
                    return Err(err(
                        table,
                        line_no,
                        line,
                        format!(
                            "unknown foreign-key option `{other}` (expected nullable or unique)"
                        ),
                    ))
                }
            }
        }
        rest = r[close + 1..].trim();
    }
    if nullable && in_key {
        return Err(err(
            table,
            line_no,
            line,
            "a foreign key in the primary key cannot be nullable",
        ));
    }
    // a trailing comment is allowed and ignored, as DataJoint does
    // (Spyglass writes `-> Nwbfile  # name of the parent NWB file`)
    if let Some((before, _comment)) = split_outside_quotes(rest, '#') {
        rest = before.trim();
    }
    if rest.is_empty() {
        return Err(err(
            table,
            line_no,
            line,
            "missing the referenced table after `->`",
        ));
    }
    let (target, renames) = match rest.find(".proj(") {
        Some(p) => {
            let args = rest[p + ".proj(".len()..]
                .strip_suffix(')')
                .ok_or_else(|| err(table, line_no, line, "`.proj(` is missing its closing `)`"))?;
            (
                rest[..p].trim(),
                parse_proj_args(table, line_no, line, args)?,
            )
        }
        None => (rest, Vec::new()),
    };
    if !is_table_ref(target) {
        return Err(err(
            table,
            line_no,
            line,
            format!(
                "`{target}` is not a table reference; a foreign key names a table, optionally \
                 renamed with .proj(new='old') (restrictions are not allowed)"
            ),
        ));
    }
    Ok(FkDecl {
        line: line_no,
        in_key,
        nullable,
        unique,
        target: target.to_string(),
        renames,
    })
}

/// `Class`, `schema.Class`, `Class.Part`, `schema.Class.Part` or `master`.
fn is_table_ref(s: &str) -> bool {
    if s == "master" {
        return true;
    }
    let parts: Vec<&str> = s.split('.').collect();
    let class_ok = |p: &str| {
        let mut c = p.chars();
        matches!(c.next(), Some(ch) if ch.is_ascii_uppercase())
            && c.all(|ch| ch.is_ascii_alphanumeric())
    };
    let schema_ok = |p: &str| {
        let mut c = p.chars();
        matches!(c.next(), Some(ch) if ch.is_ascii_lowercase())
            && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
    };
    match parts.as_slice() {
        [c] => class_ok(c),
        [a, b] => (schema_ok(a) || class_ok(a)) && class_ok(b),
        [s, c, p] => schema_ok(s) && class_ok(c) && class_ok(p),
        _ => false,
    }
}

fn parse_proj_args(
    table: &str,
    line_no: usize,
    line: &str,
    args: &str,
) -> Result<Vec<(String, String)>> {
    let mut renames = Vec::new();
    let mut rest = args.trim();
    while !rest.is_empty() {
        let (piece, tail) = split_outside_quotes(rest, ',').unwrap_or((rest, ""));
        rest = tail.trim();
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let unquote = |s: &str| -> Option<String> {
            let s = s.trim();
            let q = s.chars().next()?;
            if (q == '\'' || q == '"') && s.len() >= 2 && s.ends_with(q) {
                Some(s[1..s.len() - 1].trim().to_string())
            } else {
                None
            }
        };
        match split_outside_quotes(piece, '=') {
            Some((new, old)) => {
                let new = new.trim();
                let old = unquote(old).ok_or_else(|| {
                    err(
                        table,
                        line_no,
                        line,
                        format!("rename `{piece}` must be new_name='old_name'"),
                    )
                })?;
                if !is_attr_name(new) || !is_attr_name(&old) {
                    return Err(err(
                        table,
                        line_no,
                        line,
                        format!("rename `{piece}` must map attribute names: new_name='old_name'"),
                    ));
                }
                renames.push((new.to_string(), old));
            }
            None => {
                // positional attributes only choose what a projection keeps; for a
                // foreign key the referenced key is what matters, so they are ignored
                if unquote(piece).is_none() {
                    return Err(err(
                        table,
                        line_no,
                        line,
                        format!("cannot read `{piece}` in .proj(...)"),
                    ));
                }
            }
        }
    }
    Ok(renames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(def: &str) -> AttrDecl {
        match &parse("t", def).unwrap().items[0] {
            Item::Attr(a) => a.clone(),
            other => panic!("not an attribute: {other:?}"),
        }
    }

    #[test]
    fn table_comment_and_divider() {
        let d = parse("t", "# my table\nid : int\n---\nx : float # the x\n").unwrap();
        assert_eq!(d.comment, "my table");
        assert_eq!(d.items.len(), 2);
        let Item::Attr(a) = &d.items[0] else { panic!() };
        assert!(a.in_key);
        let Item::Attr(b) = &d.items[1] else { panic!() };
        assert!(!b.in_key);
        assert_eq!(b.comment, "the x");
    }

    #[test]
    fn comment_lines_and_blank_lines_are_ignored() {
        let d = parse("t", "id : int\n\n# a note\n  \n___\nv : int").unwrap();
        assert_eq!(d.items.len(), 2);
    }

    #[test]
    fn defaults() {
        let a = attr("---\nsex = \"U\" : enum('M','F','U') # sex");
        assert_eq!(a.default.as_deref(), Some("\"U\""));
        let a = attr("---\nnote = null : varchar(20)");
        assert!(a.nullable);
        assert_eq!(a.default, None);
        let a = attr("---\nnote = NULL : varchar(20)");
        assert!(a.nullable);
        let a = attr("---\nts = CURRENT_TIMESTAMP : timestamp");
        assert_eq!(a.default.as_deref(), Some("CURRENT_TIMESTAMP"));
        let a = attr("---\nw = 'a:b' : varchar(9) # colon inside quotes");
        assert_eq!(a.default.as_deref(), Some("'a:b'"));
        let a = attr("---\nn = 0 : int");
        assert_eq!(a.default.as_deref(), Some("0"));
    }

    #[test]
    fn comments_may_hold_hash_in_quotes() {
        let a = attr("---\nx = \"#1\" : varchar(4) # number sign");
        assert_eq!(a.default.as_deref(), Some("\"#1\""));
        assert_eq!(a.comment, "number sign");
    }

    #[test]
    fn adapter_types() {
        let a = attr("---\ng : <graph> # a graph");
        assert_eq!(a.ty, AttrType::Adapted("graph".into()));
        assert_eq!(a.comment, "a graph");
    }

    #[test]
    fn foreign_key_comments_are_ignored() {
        let d = parse(
            "t",
            "-> Session  # the session\n---\n-> [nullable] Lab # its lab\n",
        )
        .unwrap();
        let fks: Vec<(&str, bool)> = d
            .items
            .iter()
            .filter_map(|i| match i {
                Item::ForeignKey(f) => Some((f.target.as_str(), f.nullable)),
                _ => None,
            })
            .collect();
        assert_eq!(fks, [("Session", false), ("Lab", true)]);
    }

    #[test]
    fn foreign_keys() {
        let d = parse(
            "t",
            "-> Session\n-> [nullable, unique] common.Lab\n-> S.proj(s2='sid', i2=\"idx\")\n-> master\n-> Probe.Electrode\n-> PositionSource.SpatialSeries.proj('id')\n",
        );
        // nullable in PK is an error: check separately
        assert!(d.is_err());
        let d = parse(
            "t",
            "-> Session\n-> S.proj(s2='sid', i2=\"idx\")\n-> master\n-> Probe.Electrode\n-> PositionSource.SpatialSeries.proj('id')\n---\n-> [nullable, unique] common.Lab\n",
        )
        .unwrap();
        let fks: Vec<&FkDecl> = d
            .items
            .iter()
            .map(|i| match i {
                Item::ForeignKey(f) => f,
                _ => panic!(),
            })
            .collect();
        assert_eq!(fks[0].target, "Session");
        assert_eq!(
            fks[1].renames,
            vec![("s2".into(), "sid".into()), ("i2".into(), "idx".into())]
        );
        assert_eq!(fks[2].target, "master");
        assert_eq!(fks[3].target, "Probe.Electrode");
        assert_eq!(fks[4].target, "PositionSource.SpatialSeries");
        assert!(fks[4].renames.is_empty());
        assert!(fks[5].nullable && fks[5].unique && !fks[5].in_key);
        assert_eq!(fks[5].target, "common.Lab");
    }

    #[test]
    fn indexes() {
        let d = parse(
            "t",
            "id : int\n---\na : int\nb : int\nindex(a, b)\nunique index (b)\nUNIQUE INDEX(a)",
        )
        .unwrap();
        let idx: Vec<(bool, Vec<String>)> = d
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Index { unique, attrs, .. } => Some((*unique, attrs.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            idx,
            vec![
                (false, vec!["a".to_string(), "b".to_string()]),
                (true, vec!["b".to_string()]),
                (true, vec!["a".to_string()])
            ]
        );
    }

    fn fails(def: &str, needle: &str) {
        match parse("univ.T", def) {
            Ok(d) => panic!("`{def}` parsed: {d:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(needle), "message `{msg}` lacks `{needle}`");
                assert!(
                    msg.contains("univ.T"),
                    "message `{msg}` does not name the table"
                );
            }
        }
    }

    #[test]
    fn malformed_table_comment() {
        fails("# :uuid: nope\nid : int", "table comment");
    }
    #[test]
    fn malformed_missing_colon() {
        fails("id int", "missing `:`");
    }
    #[test]
    fn malformed_bad_name() {
        fails("Id : int", "invalid attribute name `Id`");
        fails("1d : int", "invalid attribute name");
    }
    #[test]
    fn malformed_bad_type() {
        fails("id : text", "unsupported attribute type `text`");
        fails("id : ", "unsupported attribute type");
    }
    #[test]
    fn malformed_nullable_key() {
        fails("id = null : int", "cannot be nullable");
    }
    #[test]
    fn malformed_blob_default() {
        fails("id : int\n---\nb = 5 : longblob", "accept only `null`");
    }
    #[test]
    fn malformed_blob_in_key() {
        fails("b : longblob", "cannot be in the primary key");
        fails("j : json", "cannot be in the primary key");
    }
    #[test]
    fn malformed_comment_marker() {
        fails("id : int # :uuid: sneaky", "may not start with `:`");
    }
    #[test]
    fn malformed_fk_option() {
        fails(
            "id : int\n---\n-> [optional] Parent",
            "unknown foreign-key option `optional`",
        );
    }
    #[test]
    fn malformed_fk_nullable_in_key() {
        fails("-> [nullable] Parent", "cannot be nullable");
    }
    #[test]
    fn malformed_fk_restriction() {
        fails("-> Parent & 'x=1'", "not a table reference");
    }
    #[test]
    fn malformed_fk_proj() {
        fails("-> Parent.proj(a=b)", "new_name='old_name'");
        fails("-> Parent.proj(a='b'", "closing `)`");
        fails("->", "missing the referenced table");
    }
    #[test]
    fn malformed_fk_old_syntax() {
        fails("(a) -> Parent(b)", "not supported");
    }
    #[test]
    fn malformed_index() {
        fails("id : int\nindex(a b)", "index lists");
        fails("id : int\nindex(a", "closing `)`");
    }
    #[test]
    fn malformed_default() {
        fails("id : int\n---\nx = \"abc : varchar(3)", "unterminated");
        fails("id : int\n---\nx = : int", "empty default");
    }
    #[test]
    fn malformed_auto_increment_secondary() {
        fails("id : int\n---\nn : int auto_increment", "auto_increment");
    }
}
