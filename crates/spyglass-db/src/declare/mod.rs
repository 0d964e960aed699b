//! Declaring tables: parse a definition (`parse`), resolve its parents and build
//! the table's heading, foreign keys and indexes (`compile`), emit the DDL for a
//! dialect (`ddl`), print a definition back from a heading (`describe`), and
//! compare a definition with a table that already exists (`compat`).

pub mod compat;
pub mod ddl;
pub mod parse;

use crate::error::{Error, Result};
use crate::heading::{Attribute, ForeignKey, Heading, Index, TableInfo};
use crate::naming::{FullName, Tier};
pub use parse::{AttrDecl, Definition, FkDecl, Item};
use std::collections::HashMap;
use std::sync::Arc;

/// Resolves the table named in a foreign key line to its catalog entry.
pub trait ParentResolver {
    /// Looks up `target` (`Class`, `schema.Class`, `Class.Part`, `master`).
    fn resolve(&self, target: &str) -> Result<Arc<TableInfo>>;
}

impl<F: Fn(&str) -> Result<Arc<TableInfo>>> ParentResolver for F {
    fn resolve(&self, target: &str) -> Result<Arc<TableInfo>> {
        self(target)
    }
}

/// Compiles a definition into the catalog entry of table `name`.
pub fn compile(
    name: &FullName,
    tier: Tier,
    definition: &str,
    parents: &dyn ParentResolver,
) -> Result<TableInfo> {
    let pretty = name.pretty();
    if name.table.len() > 64 {
        return Err(Error::definition(
            &pretty,
            "table names are limited to 64 characters",
        ));
    }
    let def = parse::parse(&pretty, definition)?;
    let mut attributes: Vec<Attribute> = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut indexes = Vec::new();
    let mut explicit: HashMap<String, usize> = HashMap::new();
    for item in &def.items {
        match item {
            Item::Attr(a) => {
                if let Some(prev) = explicit.get(&a.name) {
                    return Err(Error::definition(
                        &pretty,
                        format!(
                            "line {}: attribute `{}` is already declared on line {prev}",
                            a.line, a.name
                        ),
                    ));
                }
                explicit.insert(a.name.clone(), a.line);
                if attributes.iter().any(|x| x.name == a.name) {
                    // introduced by an earlier foreign key: DataJoint skips it silently
                    continue;
                }
                attributes.push(Attribute {
                    name: a.name.clone(),
                    ty: a.ty.clone(),
                    in_key: a.in_key,
                    nullable: a.nullable,
                    default: a.default.clone(),
                    comment: a.comment.clone(),
                });
            }
            Item::ForeignKey(fk) => {
                let parent = parents.resolve(&fk.target).map_err(|e| match e {
                    Error::UnknownTable(_) => Error::UnknownParent {
                        table: pretty.clone(),
                        parent: fk.target.clone(),
                        hint: String::new(),
                    },
                    Error::UnknownParent { parent, hint, .. } => Error::UnknownParent {
                        table: pretty.clone(),
                        parent,
                        hint,
                    },
                    other => other,
                })?;
                let pk: Vec<&Attribute> = parent
                    .heading
                    .attributes
                    .iter()
                    .filter(|a| a.in_key)
                    .collect();
                // As DataJoint: the reference is the parent's projection, so renaming a
                // secondary attribute is allowed (Spyglass's DLCPosSelection renames
                // `analysis_file_name`) and, the foreign key being the primary key, ignored.
                for (new, old) in &fk.renames {
                    if !parent.heading.attributes.iter().any(|a| &a.name == old) {
                        return Err(Error::definition(
                            &pretty,
                            format!(
                                "line {}: `{old}` in {}.proj({new}='{old}') is not a primary-key attribute of {}",
                                fk.line,
                                fk.target,
                                parent.name.pretty()
                            ),
                        ));
                    }
                }
                let mut attr_map = Vec::new();
                for p in pk {
                    let child_name = fk
                        .renames
                        .iter()
                        .find(|(_, old)| old == &p.name)
                        .map(|(new, _)| new.clone())
                        .unwrap_or_else(|| p.name.clone());
                    if let Some(existing) = attributes.iter().find(|a| a.name == child_name) {
                        let strip = |t: &crate::types::AttrType| match t {
                            crate::types::AttrType::Int { size, unsigned, .. } => {
                                crate::types::AttrType::Int {
                                    size: *size,
                                    unsigned: *unsigned,
                                    auto_increment: false,
                                }
                            }
                            other => other.clone(),
                        };
                        if strip(&existing.ty) != strip(&p.ty) {
                            return Err(Error::definition(
                                &pretty,
                                format!(
                                    "line {}: `{child_name}` is already declared as {} but {} has it as {}",
                                    fk.line, existing.ty, parent.name.pretty(), p.ty
                                ),
                            ));
                        }
                    } else {
                        attributes.push(Attribute {
                            name: child_name.clone(),
                            // inherited keys are plain values here, never auto_increment
                            ty: match &p.ty {
                                crate::types::AttrType::Int { size, unsigned, .. } => {
                                    crate::types::AttrType::Int {
                                        size: *size,
                                        unsigned: *unsigned,
                                        auto_increment: false,
                                    }
                                }
                                other => other.clone(),
                            },
                            in_key: fk.in_key,
                            nullable: fk.nullable,
                            default: None,
                            comment: p.comment.clone(),
                        });
                    }
                    attr_map.push((child_name, p.name.clone()));
                }
                foreign_keys.push(ForeignKey {
                    parent: parent.name.clone(),
                    attr_map,
                    nullable: fk.nullable,
                    unique: fk.unique,
                });
            }
            Item::Index {
                line,
                unique,
                attrs,
            } => {
                indexes.push((
                    *line,
                    Index {
                        unique: *unique,
                        attrs: attrs.clone(),
                    },
                ));
            }
        }
    }
    for (line, idx) in &indexes {
        for a in &idx.attrs {
            if !attributes.iter().any(|x| &x.name == a) {
                return Err(Error::definition(
                    &pretty,
                    format!("line {line}: index names unknown attribute `{a}`"),
                ));
            }
        }
    }
    // primary key first, preserving declaration order within each section
    let (mut key, rest): (Vec<Attribute>, Vec<Attribute>) =
        attributes.into_iter().partition(|a| a.in_key);
    if key.is_empty() {
        return Err(Error::definition(
            &pretty,
            "a table must have a primary key (attributes above `---`)",
        ));
    }
    let autos = key.iter().filter(|a| a.ty.is_auto_increment()).count();
    if autos > 1 {
        return Err(Error::definition(
            &pretty,
            "only one auto_increment attribute is allowed",
        ));
    }
    key.extend(rest);
    Ok(TableInfo {
        name: name.clone(),
        tier,
        comment: def.comment,
        heading: Heading { attributes: key },
        foreign_keys,
        indexes: indexes.into_iter().map(|(_, i)| i).collect(),
    })
}

/// Prints a definition back from a catalog entry, as DataJoint's `describe()`.
///
/// `class_of` gives the name to print for a parent (e.g. `Session` or `common.Session`).
pub fn describe(info: &TableInfo, class_of: &dyn Fn(&FullName) -> String) -> String {
    let mut out = String::new();
    if !info.comment.is_empty() {
        out.push_str(&format!("# {}\n", info.comment));
    }
    let mut printed_fk = vec![false; info.foreign_keys.len()];
    let mut covered: Vec<&str> = Vec::new();
    let mut in_key = true;
    let master = info.name.master();
    for attr in &info.heading.attributes {
        if in_key && !attr.in_key {
            out.push_str("---\n");
            in_key = false;
        }
        if covered.contains(&attr.name.as_str()) {
            continue;
        }
        if let Some((i, fk)) = info
            .foreign_keys
            .iter()
            .enumerate()
            .find(|(i, fk)| !printed_fk[*i] && fk.attr_map.iter().any(|(c, _)| c == &attr.name))
        {
            printed_fk[i] = true;
            let mut opts = Vec::new();
            if fk.nullable {
                opts.push("nullable");
            }
            if fk.unique {
                opts.push("unique");
            }
            let opts = if opts.is_empty() {
                String::new()
            } else {
                format!("[{}] ", opts.join(", "))
            };
            let target = if Some(&fk.parent) == master.as_ref() {
                "master".to_string()
            } else {
                class_of(&fk.parent)
            };
            let renames: Vec<String> = fk
                .attr_map
                .iter()
                .filter(|(c, p)| c != p)
                .map(|(c, p)| format!("{c}='{p}'"))
                .collect();
            let proj = if renames.is_empty() {
                String::new()
            } else {
                format!(".proj({})", renames.join(", "))
            };
            out.push_str(&format!("-> {opts}{target}{proj}\n"));
            covered.extend(fk.attr_map.iter().map(|(c, _)| c.as_str()));
            continue;
        }
        let default = if attr.nullable {
            " = null".to_string()
        } else {
            attr.default
                .as_ref()
                .map(|d| format!(" = {d}"))
                .unwrap_or_default()
        };
        let comment = if attr.comment.is_empty() {
            String::new()
        } else {
            format!(" # {}", attr.comment)
        };
        out.push_str(&format!("{}{default} : {}{comment}\n", attr.name, attr.ty));
    }
    if in_key {
        out.push_str("---\n");
    }
    // foreign keys whose attributes were all declared explicitly before them
    for (i, fk) in info.foreign_keys.iter().enumerate() {
        if !printed_fk[i] {
            out.push_str(&format!("-> {}\n", class_of(&fk.parent)));
        }
    }
    for idx in &info.indexes {
        out.push_str(&format!(
            "{}index ({})\n",
            if idx.unique { "unique " } else { "" },
            idx.attrs.join(", ")
        ));
    }
    out
}

/// A line diff of two texts: lines only in `old` start with `- `, only in `new` with `+ `.
pub fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // longest common subsequence table
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    out
}
