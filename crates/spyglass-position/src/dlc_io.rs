//! Readers for DeepLabCut result files: the `.csv` with its three header rows
//! (`scorer`, `bodyparts`, `coords`) and the `.h5` DLC writes with pandas
//! (`df.to_hdf(path, "df_with_missing", format="table")`).
//!
//! The pandas/PyTables "table" layout: a group (`/df_with_missing`) whose
//! attribute `pandas_type` is `frame_table`, holding a dataset `table` of
//! compound rows `{index: int64, values_block_0: float64[k], …}`. Each block's
//! column labels are the attribute `values_block_<i>_kind` of `table`, a
//! protocol-0 pickle of a list of label tuples (`(scorer, bodypart, coord)`),
//! which [`unpickle`] decodes. Other layouts (pandas "fixed" format, several
//! scorers, multi-animal files with an `individuals` level, non-integer frame
//! indices) are refused with an error naming the file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{PositionError, Result};

/// One body part's DLC columns.
#[derive(Debug, Clone, PartialEq)]
pub struct DlcBodyPart {
    /// Body part name.
    pub name: String,
    /// x (pixels).
    pub x: Vec<f64>,
    /// y (pixels).
    pub y: Vec<f64>,
    /// Likelihood.
    pub likelihood: Vec<f64>,
}

/// A single-animal DLC result table.
#[derive(Debug, Clone, PartialEq)]
pub struct DlcTable {
    /// The scorer (network) name, the top header level.
    pub scorer: String,
    /// Frame index of each row.
    pub frame_index: Vec<i64>,
    /// Body parts in the order of their first column.
    pub body_parts: Vec<DlcBodyPart>,
}

impl DlcTable {
    /// The body part called `name`.
    pub fn body_part(&self, name: &str) -> Result<&DlcBodyPart> {
        self.body_parts
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| PositionError::MissingBodyPart(name.to_string()))
    }
}

fn file_err(path: &Path, reason: impl Into<String>) -> PositionError {
    PositionError::DlcFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Builds the table from labelled columns `(scorer, bodypart, coord)` → values.
fn assemble(
    path: &Path,
    frame_index: Vec<i64>,
    columns: Vec<([String; 3], Vec<f64>)>,
) -> Result<DlcTable> {
    let mut scorers: Vec<&str> = columns.iter().map(|(l, _)| l[0].as_str()).collect();
    scorers.dedup();
    scorers.sort_unstable();
    scorers.dedup();
    if scorers.len() != 1 {
        return Err(file_err(
            path,
            format!("expected one scorer in the header, found {scorers:?}"),
        ));
    }
    let scorer = scorers[0].to_string();
    let mut order: Vec<String> = Vec::new();
    let mut parts: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for ([_, bp, coord], values) in columns {
        if values.len() != frame_index.len() {
            return Err(file_err(
                path,
                format!(
                    "column {bp}/{coord} has {} rows, the index {}",
                    values.len(),
                    frame_index.len()
                ),
            ));
        }
        if !order.contains(&bp) {
            order.push(bp.clone());
        }
        if parts
            .entry(bp.clone())
            .or_default()
            .insert(coord.clone(), values)
            .is_some()
        {
            return Err(file_err(path, format!("column {bp}/{coord} appears twice")));
        }
    }
    let mut body_parts = Vec::new();
    for name in order {
        let mut coords = parts.remove(&name).unwrap_or_default();
        let mut take = |c: &str| {
            coords
                .remove(c)
                .ok_or_else(|| file_err(path, format!("body part {name} has no `{c}` column")))
        };
        let (x, y, likelihood) = (take("x")?, take("y")?, take("likelihood")?);
        body_parts.push(DlcBodyPart {
            name,
            x,
            y,
            likelihood,
        });
    }
    Ok(DlcTable {
        scorer,
        frame_index,
        body_parts,
    })
}

/// Reads a DLC `.csv` (header rows `scorer`, `bodyparts`, `coords`; first column the frame index).
pub fn read_dlc_csv(path: &Path) -> Result<DlcTable> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| file_err(path, e.to_string()))?;
    let mut records = reader.records();
    let mut header = |label: &str| -> Result<Vec<String>> {
        let row = records
            .next()
            .ok_or_else(|| file_err(path, format!("missing the `{label}` header row")))?
            .map_err(|e| file_err(path, e.to_string()))?;
        let cells: Vec<String> = row.iter().map(str::to_string).collect();
        if cells.first().map(String::as_str) != Some(label) {
            let what = if cells.first().map(String::as_str) == Some("individuals") {
                "multi-animal DLC files (with an `individuals` header row) are not supported"
                    .to_string()
            } else {
                format!("expected header row `{label}`, found {:?}", cells.first())
            };
            return Err(file_err(path, what));
        }
        Ok(cells)
    };
    let scorer = header("scorer")?;
    let bodyparts = header("bodyparts")?;
    let coords = header("coords")?;
    let k = scorer.len();
    if k < 2 || bodyparts.len() != k || coords.len() != k {
        return Err(file_err(
            path,
            "header rows have different or too few columns",
        ));
    }
    let mut frame_index = Vec::new();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); k - 1];
    for (line, rec) in records.enumerate() {
        let rec = rec.map_err(|e| file_err(path, e.to_string()))?;
        if rec.len() != k {
            return Err(file_err(
                path,
                format!("data row {line} has {} cells, the header {k}", rec.len()),
            ));
        }
        let idx = rec[0].trim();
        frame_index.push(idx.parse::<i64>().map_err(|_| {
            file_err(
                path,
                format!("data row {line}: frame index {idx:?} is not an integer"),
            )
        })?);
        for (c, col) in values.iter_mut().enumerate() {
            let cell = rec[c + 1].trim();
            let v = if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
                f64::NAN
            } else {
                cell.parse::<f64>().map_err(|_| {
                    file_err(
                        path,
                        format!(
                            "data row {line}, column {}: {cell:?} is not a number",
                            c + 1
                        ),
                    )
                })?
            };
            col.push(v);
        }
    }
    let columns = (1..k)
        .map(|c| [scorer[c].clone(), bodyparts[c].clone(), coords[c].clone()])
        .zip(values)
        .collect();
    assemble(path, frame_index, columns)
}

/// A value of the pickle subset PyTables writes for pandas attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Pickled {
    /// `None`.
    None,
    /// An integer (or bool).
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Pickled>),
    /// A tuple.
    Tuple(Vec<Pickled>),
    /// A dict, in insertion order.
    Dict(Vec<(Pickled, Pickled)>),
}

/// Decodes a protocol-0 pickle made of lists, tuples, dicts, strings and numbers
/// (what PyTables writes for pandas' table attributes); anything else is an error.
pub fn unpickle(text: &[u8]) -> std::result::Result<Pickled, String> {
    enum Item {
        Mark,
        Val(Pickled),
    }
    let mut stack: Vec<Item> = Vec::new();
    let mut memo: BTreeMap<String, Pickled> = BTreeMap::new();
    let mut pos = 0;
    let raw_line = |pos: &mut usize| -> std::result::Result<&[u8], String> {
        let end = text[*pos..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated pickle line")?;
        let s = &text[*pos..*pos + end];
        *pos += end + 1;
        Ok(s)
    };
    let line = |pos: &mut usize| raw_line(pos).map(|b| String::from_utf8_lossy(b).into_owned());
    let pop_to_mark = |stack: &mut Vec<Item>| -> std::result::Result<Vec<Pickled>, String> {
        let mut items = Vec::new();
        loop {
            match stack.pop() {
                Some(Item::Mark) => break,
                Some(Item::Val(v)) => items.push(v),
                None => return Err("pickle: no mark".into()),
            }
        }
        items.reverse();
        Ok(items)
    };
    let top = |stack: &mut Vec<Item>| -> std::result::Result<Pickled, String> {
        match stack.pop() {
            Some(Item::Val(v)) => Ok(v),
            _ => Err("pickle: stack underflow".into()),
        }
    };
    while pos < text.len() {
        let op = text[pos];
        pos += 1;
        match op {
            b'(' => stack.push(Item::Mark),
            b'.' => return top(&mut stack),
            b'N' => stack.push(Item::Val(Pickled::None)),
            b'I' | b'L' => {
                let s = line(&mut pos)?;
                let s = s.trim_end_matches('L');
                let v = match s {
                    "01" => 1,
                    "00" => 0,
                    _ => s.parse::<i64>().map_err(|_| format!("pickle: bad int {s:?}"))?,
                };
                stack.push(Item::Val(Pickled::Int(v)));
            }
            b'F' => {
                let s = line(&mut pos)?;
                stack.push(Item::Val(Pickled::Float(s.parse().map_err(|_| format!("pickle: bad float {s:?}"))?)));
            }
            b'V' => {
                // raw-unicode-escape: characters up to U+00FF are single bytes
                let s: String = raw_line(&mut pos)?.iter().map(|&b| b as char).collect();
                stack.push(Item::Val(Pickled::Str(raw_unicode_unescape(&s)?)));
            }
            b'S' => {
                let s = line(&mut pos)?;
                let q = s.trim();
                let inner = q
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .or_else(|| q.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
                    .ok_or_else(|| format!("pickle: bad string {q:?}"))?;
                if inner.contains('\\') {
                    return Err(format!("pickle: escaped byte strings are not supported ({q:?})"));
                }
                stack.push(Item::Val(Pickled::Str(inner.to_string())));
            }
            b'l' => {
                let items = pop_to_mark(&mut stack)?;
                stack.push(Item::Val(Pickled::List(items)));
            }
            b't' => {
                let items = pop_to_mark(&mut stack)?;
                stack.push(Item::Val(Pickled::Tuple(items)));
            }
            b'd' => {
                let items = pop_to_mark(&mut stack)?;
                if items.len() % 2 != 0 {
                    return Err("pickle: odd dict items".into());
                }
                let mut it = items.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                stack.push(Item::Val(Pickled::Dict(pairs)));
            }
            b'a' => {
                let v = top(&mut stack)?;
                match stack.last_mut() {
                    Some(Item::Val(Pickled::List(l))) => l.push(v),
                    _ => return Err("pickle: append to a non-list".into()),
                }
            }
            b's' => {
                let v = top(&mut stack)?;
                let k = top(&mut stack)?;
                match stack.last_mut() {
                    Some(Item::Val(Pickled::Dict(d))) => d.push((k, v)),
                    _ => return Err("pickle: setitem on a non-dict".into()),
                }
            }
            b'p' => {
                let key = line(&mut pos)?;
                match stack.last() {
                    Some(Item::Val(v)) => {
                        memo.insert(key, v.clone());
                    }
                    _ => return Err("pickle: put without a value".into()),
                }
            }
            b'g' => {
                let key = line(&mut pos)?;
                let v = memo.get(&key).cloned().ok_or_else(|| format!("pickle: unknown memo {key}"))?;
                stack.push(Item::Val(v));
            }
            other => {
                return Err(format!(
                    "pickle opcode {:?} is not supported (only protocol-0 lists, tuples, dicts, strings, numbers)",
                    other as char
                ))
            }
        }
    }
    Err("pickle: no STOP opcode".into())
}

/// Python's `raw-unicode-escape` decoding (only `\uXXXX` and `\UXXXXXXXX` are escapes).
fn raw_unicode_unescape(s: &str) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('u') | Some('U')) {
            let n = if chars.next() == Some('u') { 4 } else { 8 };
            let hex: String = (0..n).filter_map(|_| chars.next()).collect();
            let code = u32::from_str_radix(&hex, 16)
                .map_err(|_| format!("pickle: bad escape \\u{hex}"))?;
            out.push(
                char::from_u32(code).ok_or_else(|| format!("pickle: bad code point {code:x}"))?,
            );
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn read_str_attr(loc: &hdf5::Location, name: &str) -> Option<String> {
    read_bytes_attr(loc, name).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A string attribute's bytes (fixed-length strings up to their first NUL).
fn read_bytes_attr(loc: &hdf5::Location, name: &str) -> Option<Vec<u8>> {
    use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
    let a = loc.attr(name).ok()?;
    let dt = a.dtype().ok()?;
    match dt.to_descriptor().ok()? {
        TypeDescriptor::VarLenUnicode => {
            Some(a.read_scalar::<VarLenUnicode>().ok()?.as_bytes().to_vec())
        }
        TypeDescriptor::VarLenAscii => {
            Some(a.read_scalar::<VarLenAscii>().ok()?.as_bytes().to_vec())
        }
        TypeDescriptor::FixedAscii(size) | TypeDescriptor::FixedUnicode(size) => {
            let mut buf = vec![0u8; size];
            let status = hdf5::sync::sync(|| unsafe {
                hdf5_sys::h5a::H5Aread(a.id(), dt.id(), buf.as_mut_ptr().cast())
            });
            (status >= 0).then(|| {
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                buf.truncate(end);
                buf
            })
        }
        _ => None,
    }
}

/// Reads a DLC `.h5` written by pandas in "table" format under `key` (DLC uses `df_with_missing`).
pub fn read_dlc_h5(path: &Path, key: &str) -> Result<DlcTable> {
    let file = hdf5::File::open(path).map_err(|e| file_err(path, e.to_string()))?;
    let group = file.group(key).map_err(|_| {
        file_err(
            path,
            format!("no group `{key}` (DLC writes its table under `df_with_missing`)"),
        )
    })?;
    let pandas_type = read_str_attr(&group, "pandas_type").unwrap_or_default();
    if pandas_type != "frame_table" {
        return Err(file_err(
            path,
            format!("`{key}` has pandas_type {pandas_type:?}; only pandas' table format (`frame_table`, as DLC writes it) is supported"),
        ));
    }
    let table = group
        .dataset("table")
        .map_err(|e| file_err(path, format!("{key}/table: {e}")))?;
    let index_kind = read_str_attr(&table, "index_kind").unwrap_or_default();
    if index_kind != "integer" {
        return Err(file_err(
            path,
            format!("frame index of kind {index_kind:?}; only an integer index is supported"),
        ));
    }
    let desc = table
        .dtype()
        .and_then(|d| d.to_descriptor())
        .map_err(|e| file_err(path, e.to_string()))?;
    let hdf5::types::TypeDescriptor::Compound(compound) = desc else {
        return Err(file_err(path, "the table is not a compound dataset"));
    };
    let n = table.shape().first().copied().unwrap_or(0);
    let mut frame_index = Vec::new();
    let mut columns = Vec::new();
    for field in &compound.fields {
        if field.name == "index" {
            frame_index = read_member(&table, "index", None, n)
                .map_err(|r| file_err(path, r))?
                .into_iter()
                .map(i64::from_ne_bytes)
                .collect();
            continue;
        }
        let Some(block) = field.name.strip_prefix("values_block_") else {
            return Err(file_err(
                path,
                format!(
                    "unexpected table column `{}` (data columns are not supported)",
                    field.name
                ),
            ));
        };
        let width = match &field.ty {
            hdf5::types::TypeDescriptor::FixedArray(inner, k)
                if matches!(**inner, hdf5::types::TypeDescriptor::Float(_)) =>
            {
                *k
            }
            hdf5::types::TypeDescriptor::Float(_) => 1,
            other => {
                return Err(file_err(
                    path,
                    format!("block {block} has type {other:?}; only float blocks are supported"),
                ))
            }
        };
        let kind =
            read_bytes_attr(&table, &format!("values_block_{block}_kind")).ok_or_else(|| {
                file_err(path, format!("missing attribute values_block_{block}_kind"))
            })?;
        let labels = block_labels(&kind)
            .map_err(|r| file_err(path, format!("values_block_{block}_kind: {r}")))?;
        if labels.len() != width {
            return Err(file_err(
                path,
                format!("block {block}: {} labels for {width} columns", labels.len()),
            ));
        }
        let flat: Vec<f64> = read_member(&table, &field.name, Some(width), n)
            .map_err(|r| file_err(path, r))?
            .into_iter()
            .map(f64::from_ne_bytes)
            .collect();
        for (c, label) in labels.into_iter().enumerate() {
            columns.push((label, (0..n).map(|r| flat[r * width + c]).collect()));
        }
    }
    if frame_index.len() != n {
        return Err(file_err(path, "the table has no `index` column"));
    }
    assemble(path, frame_index, columns)
}

/// Column labels of a block: a pickled list of 3-tuples of strings.
fn block_labels(kind: &[u8]) -> std::result::Result<Vec<[String; 3]>, String> {
    let Pickled::List(items) = unpickle(kind)? else {
        return Err("not a list".into());
    };
    items
        .into_iter()
        .map(|item| match item {
            Pickled::Tuple(t) if t.len() == 3 => {
                let mut s = t.into_iter().map(|v| match v {
                    Pickled::Str(s) => Ok(s),
                    other => Err(format!("label part {other:?} is not a string")),
                });
                Ok([
                    s.next().unwrap_or(Ok(String::new()))?,
                    s.next().unwrap_or(Ok(String::new()))?,
                    s.next().unwrap_or(Ok(String::new()))?,
                ])
            }
            Pickled::Tuple(t) if t.len() == 4 => Err(
                "multi-animal DLC files (an `individuals` column level) are not supported".into(),
            ),
            other => Err(format!(
                "column label {other:?} is not a (scorer, bodypart, coords) tuple"
            )),
        })
        .collect()
}

/// Reads one member of the compound table as native 8-byte values (`width`
/// float64 per row, or the int64 index when `width` is None), converted by HDF5.
fn read_member(
    table: &hdf5::Dataset,
    name: &str,
    width: Option<usize>,
    n: usize,
) -> std::result::Result<Vec<[u8; 8]>, String> {
    use hdf5::types::{CompoundField, CompoundType, FloatSize, IntSize, TypeDescriptor};
    use hdf5_sys::{h5d, h5p, h5s};
    let (ty, size) = match width {
        None => (TypeDescriptor::Integer(IntSize::U8), 8),
        Some(k) => (
            TypeDescriptor::FixedArray(Box::new(TypeDescriptor::Float(FloatSize::U8)), k),
            8 * k,
        ),
    };
    let mem = TypeDescriptor::Compound(CompoundType {
        fields: vec![CompoundField {
            name: name.to_string(),
            ty,
            offset: 0,
            index: 0,
        }],
        size,
    });
    let dtype = hdf5::Datatype::from_descriptor(&mem).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; size * n];
    if n > 0 {
        let status = hdf5::sync::sync(|| unsafe {
            h5d::H5Dread(
                table.id(),
                dtype.id(),
                h5s::H5S_ALL,
                h5s::H5S_ALL,
                h5p::H5P_DEFAULT,
                buf.as_mut_ptr().cast(),
            )
        });
        if status < 0 {
            return Err(format!("reading table column `{name}` failed"));
        }
    }
    Ok(buf
        .chunks_exact(8)
        .map(|b| b.try_into().unwrap_or([0; 8]))
        .collect())
}
