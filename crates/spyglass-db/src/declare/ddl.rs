//! DDL for a compiled table. MySQL gets DataJoint 0.14's exact statement (types,
//! `NOT NULL DEFAULT`, column comments with `:type:` markers, unnamed foreign keys
//! `ON UPDATE CASCADE ON DELETE RESTRICT`, table comment); SQLite gets the same
//! structure with its own types, CHECK constraints for enums and JSON, and indexes
//! as separate statements.

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::heading::{default_keyword, unquote_default, Attribute, TableInfo};
use crate::naming::FullName;
use crate::types::AttrType;

/// The name of the external-store tracking table of `store` in `schema`.
pub fn external_table(schema: &str, store: &str) -> FullName {
    FullName::new(schema, format!("~external_{store}"))
}

/// Whether a default is already a SQL expression or literal (DataJoint's rule).
fn default_is_sql(d: &str) -> bool {
    let head = default_keyword(d);
    d.starts_with('"') || d.starts_with('\'') || head == "CURRENT_TIMESTAMP" || head == "NULL"
}

fn mysql_column(a: &Attribute) -> String {
    let mut sql = format!("`{}` {}", a.name, a.ty.mysql_type());
    if a.ty.is_auto_increment() {
        sql.push_str(" auto_increment");
    }
    if a.nullable {
        sql.push_str(" DEFAULT NULL");
    } else {
        sql.push_str(" NOT NULL");
        if let Some(d) = &a.default {
            if default_is_sql(d) {
                sql.push_str(&format!(" DEFAULT {d}"));
            } else {
                sql.push_str(&format!(" DEFAULT \"{d}\""));
            }
        }
    }
    let comment = a.sql_comment();
    if !comment.is_empty() {
        sql.push_str(&format!(
            " COMMENT \"{}\"",
            comment.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    sql
}

fn sqlite_default(d: &str, ty: &AttrType) -> String {
    let head = default_keyword(d);
    if head == "CURRENT_TIMESTAMP" {
        return "CURRENT_TIMESTAMP".into();
    }
    let v = unquote_default(d);
    if ty.is_numeric() && v.parse::<f64>().is_ok() {
        return v.to_string();
    }
    Dialect::Sqlite.string_literal(v)
}

fn sqlite_column(a: &Attribute, inline_pk: bool) -> String {
    let mut sql = format!("`{}` {}", a.name, a.ty.sqlite_type());
    if inline_pk {
        sql.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if !a.nullable {
        sql.push_str(" NOT NULL");
        if let Some(d) = &a.default {
            sql.push_str(&format!(" DEFAULT {}", sqlite_default(d, &a.ty)));
        }
    }
    match &a.ty {
        AttrType::Enum(values) => {
            let list: Vec<String> = values
                .iter()
                .map(|v| Dialect::Sqlite.string_literal(v))
                .collect();
            sql.push_str(&format!(" CHECK (`{}` IN ({}))", a.name, list.join(",")));
        }
        AttrType::Json => sql.push_str(&format!(" CHECK (json_valid(`{}`))", a.name)),
        AttrType::Uuid => sql.push_str(&format!(" CHECK (length(`{}`) = 16)", a.name)),
        _ => {}
    }
    sql
}

/// The statements that create `info` in `dialect` (one CREATE TABLE, plus indexes on SQLite).
pub fn create_table(dialect: Dialect, info: &TableInfo) -> Result<Vec<String>> {
    let pk = info.primary_key();
    let auto: Vec<&Attribute> = info
        .heading
        .attributes
        .iter()
        .filter(|a| a.ty.is_auto_increment())
        .collect();
    let inline_pk = dialect == Dialect::Sqlite && !auto.is_empty();
    if inline_pk && pk.len() != 1 {
        return Err(Error::definition(
            info.name.pretty(),
            "on SQLite an auto_increment attribute must be the whole primary key",
        ));
    }
    let mut lines: Vec<String> = info
        .heading
        .attributes
        .iter()
        .map(|a| match dialect {
            Dialect::Mysql => mysql_column(a),
            Dialect::Sqlite => sqlite_column(a, inline_pk && a.ty.is_auto_increment()),
        })
        .collect();
    if !inline_pk {
        lines.push(format!("PRIMARY KEY ({})", dialect.ident_list(&pk)));
    }
    for fk in &info.foreign_keys {
        let child: Vec<&str> = fk.attr_map.iter().map(|(c, _)| c.as_str()).collect();
        let parent: Vec<&str> = fk.attr_map.iter().map(|(_, p)| p.as_str()).collect();
        lines.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE CASCADE ON DELETE RESTRICT",
            dialect.ident_list(&child),
            dialect.table(&fk.parent),
            dialect.ident_list(&parent)
        ));
    }
    for a in &info.heading.attributes {
        if let Some(store) = a.ty.store() {
            lines.push(format!(
                "FOREIGN KEY ({}) REFERENCES {} (`hash`) ON UPDATE RESTRICT ON DELETE RESTRICT",
                dialect.ident(&a.name),
                dialect.table(&external_table(&info.name.schema, store))
            ));
        }
    }
    let mut after = Vec::new();
    for fk in info.foreign_keys.iter().filter(|fk| fk.unique) {
        let child: Vec<&str> = fk.attr_map.iter().map(|(c, _)| c.as_str()).collect();
        match dialect {
            Dialect::Mysql => lines.push(format!("UNIQUE INDEX ({})", dialect.ident_list(&child))),
            Dialect::Sqlite => lines.push(format!("UNIQUE ({})", dialect.ident_list(&child))),
        }
    }
    for (i, idx) in info.indexes.iter().enumerate() {
        match dialect {
            Dialect::Mysql => lines.push(format!(
                "{}index ({})",
                if idx.unique { "unique " } else { "" },
                dialect.ident_list(&idx.attrs)
            )),
            Dialect::Sqlite => {
                if idx.unique {
                    lines.push(format!("UNIQUE ({})", dialect.ident_list(&idx.attrs)));
                } else {
                    after.push(format!(
                        "CREATE INDEX IF NOT EXISTS `{}.{}__idx{}` ON {} ({})",
                        info.name.schema,
                        info.name.table,
                        i,
                        dialect.table(&info.name),
                        dialect.ident_list(&idx.attrs)
                    ));
                }
            }
        }
    }
    let body = lines.join(",\n  ");
    let create = match dialect {
        Dialect::Mysql => format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {body}\n) ENGINE=InnoDB, COMMENT \"{}\"",
            dialect.table(&info.name),
            info.comment.replace('\\', "\\\\").replace('"', "\\\"")
        ),
        Dialect::Sqlite => format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {body}\n)",
            dialect.table(&info.name)
        ),
    };
    let mut out = vec![create];
    out.extend(after);
    Ok(out)
}
