//! Compiles a query to one SQL statement with `?` placeholders and the list of
//! bound values, in the order the placeholders appear.

use super::{Body, JoinKind, Query, RCond, Select, Source};
use crate::dialect::Dialect;
use crate::value::SqlValue;

/// An SQL statement with its bound parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// SQL text.
    pub sql: String,
    /// Values for the `?` placeholders, in order.
    pub params: Vec<SqlValue>,
}

/// The first 300 characters of an SQL statement, for error messages.
pub fn sql_excerpt(sql: &str) -> String {
    if sql.chars().count() > 300 {
        format!("{}…", sql.chars().take(300).collect::<String>())
    } else {
        sql.to_string()
    }
}

struct Ctx {
    dialect: Dialect,
    params: Vec<SqlValue>,
    alias: usize,
    /// Write values as literals instead of `?` placeholders (for logged restrictions).
    inline: bool,
}

impl Ctx {
    fn alias(&mut self) -> String {
        self.alias += 1;
        format!("`$s{}`", self.alias)
    }
}

impl Query {
    /// The SELECT statement of this query.
    pub fn compile(&self, dialect: Dialect) -> Compiled {
        let mut ctx = Ctx {
            dialect,
            params: Vec::new(),
            alias: 0,
            inline: false,
        };
        let sql = compile_query(self, &mut ctx);
        Compiled {
            sql,
            params: ctx.params,
        }
    }

    /// `SELECT count(*)` over this query.
    pub fn compile_count(&self, dialect: Dialect) -> Compiled {
        let mut ctx = Ctx {
            dialect,
            params: Vec::new(),
            alias: 0,
            inline: false,
        };
        let inner = compile_query(self, &mut ctx);
        let a = ctx.alias();
        Compiled {
            sql: format!("SELECT count(*) FROM ({inner}) AS {a}"),
            params: ctx.params,
        }
    }

    /// `SELECT EXISTS(...)` over this query.
    pub fn compile_exists(&self, dialect: Dialect) -> Compiled {
        let mut ctx = Ctx {
            dialect,
            params: Vec::new(),
            alias: 0,
            inline: false,
        };
        let inner = compile_query(self, &mut ctx);
        Compiled {
            sql: format!("SELECT EXISTS({inner})"),
            params: ctx.params,
        }
    }
}

fn field(a: &super::QAttr, d: Dialect) -> String {
    match &a.expr {
        Some(e) => format!("{e} AS {}", d.ident(&a.name)),
        None => d.ident(&a.name),
    }
}

fn compile_query(q: &Query, ctx: &mut Ctx) -> String {
    match &q.body {
        Body::Select(s) => compile_select(q, s, ctx),
        Body::Union(parts) => {
            let mut pieces = Vec::new();
            for p in parts {
                let inner = compile_query(p, ctx);
                let alias = ctx.alias();
                let cols: Vec<String> = q
                    .heading
                    .iter()
                    .map(|a| match p.attr(&a.name) {
                        Some(_) => ctx.dialect.ident(&a.name),
                        None => format!("NULL AS {}", ctx.dialect.ident(&a.name)),
                    })
                    .collect();
                pieces.push(format!(
                    "SELECT {} FROM ({inner}) AS {alias}",
                    cols.join(",")
                ));
            }
            pieces.join(" UNION ")
        }
    }
}

fn compile_select(q: &Query, s: &Select, ctx: &mut Ctx) -> String {
    let d = ctx.dialect;
    let fields: Vec<String> = q.heading.iter().map(|a| field(a, d)).collect();
    let fields = if fields.is_empty() {
        "1 AS `$dummy`".to_string()
    } else {
        fields.join(",")
    };
    let mut sql = format!(
        "SELECT {}{fields} FROM ",
        if s.distinct { "DISTINCT " } else { "" }
    );
    for (i, (kind, src)) in s.from.iter().enumerate() {
        if i > 0 {
            sql.push_str(match kind {
                JoinKind::Inner => " NATURAL JOIN ",
                JoinKind::Left => " NATURAL LEFT JOIN ",
            });
        }
        match src {
            Source::Table { name, .. } => sql.push_str(&d.table(name)),
            Source::Sub(inner) => {
                let text = compile_query(inner, ctx);
                let alias = ctx.alias();
                sql.push_str(&format!("({text}) AS {alias}"));
            }
        }
    }
    if !s.conds.is_empty() {
        let conds: Vec<String> = s.conds.iter().map(|c| compile_cond(c, ctx)).collect();
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    if let Some(g) = &s.group_by {
        if !g.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&d.ident_list(g));
        }
    }
    if let Some(top) = &s.top {
        if !top.order_by.is_empty() {
            let items: Vec<String> = top
                .order_by
                .iter()
                .map(|(n, desc)| format!("{}{}", d.ident(n), if *desc { " DESC" } else { "" }))
                .collect();
            sql.push_str(" ORDER BY ");
            sql.push_str(&items.join(","));
        }
        match (top.limit, top.offset) {
            (Some(l), Some(o)) => sql.push_str(&format!(" LIMIT {l} OFFSET {o}")),
            (Some(l), None) => sql.push_str(&format!(" LIMIT {l}")),
            (None, Some(o)) => sql.push_str(&format!(" LIMIT {} OFFSET {o}", i64::MAX)),
            (None, None) => {}
        }
    }
    sql
}

fn compile_cond(c: &RCond, ctx: &mut Ctx) -> String {
    let d = ctx.dialect;
    match c {
        RCond::True => "(1=1)".into(),
        RCond::False => "(1=0)".into(),
        RCond::Eq(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| {
                    if *v == SqlValue::Null {
                        format!("{} IS NULL", d.ident(k))
                    } else if ctx.inline {
                        format!("{}={}", d.ident(k), crate::slice::sql_literal(d, v))
                    } else {
                        ctx.params.push(v.clone());
                        format!("{}=?", d.ident(k))
                    }
                })
                .collect();
            format!("({})", parts.join(" AND "))
        }
        RCond::Sql(s) => format!("({s})"),
        RCond::And(items) => {
            let parts: Vec<String> = items.iter().map(|i| compile_cond(i, ctx)).collect();
            format!("({})", parts.join(" AND "))
        }
        RCond::Or(items) => {
            let parts: Vec<String> = items.iter().map(|i| compile_cond(i, ctx)).collect();
            format!("({})", parts.join(" OR "))
        }
        RCond::Not(inner) => format!("(NOT {})", compile_cond(inner, ctx)),
        RCond::In(attrs, q) => {
            let inner = compile_query(q, ctx);
            let alias = ctx.alias();
            let cols = d.ident_list(attrs);
            let lhs = if attrs.len() == 1 {
                cols.clone()
            } else {
                format!("({cols})")
            };
            format!("({lhs} IN (SELECT {cols} FROM ({inner}) AS {alias}))")
        }
        RCond::Exists(q) => {
            let inner = compile_query(q, ctx);
            format!("(EXISTS ({inner}))")
        }
    }
}

impl Query {
    /// The WHERE text of a restriction of one whole table (no join, projection, grouping,
    /// limit or offset; an ORDER BY is fine), with values written as literals of `dialect`; `TRUE` when unrestricted.
    /// None for any other query and for restrictions by other queries.
    pub fn restriction_text(&self, dialect: Dialect) -> Option<String> {
        let Body::Select(s) = &self.body else {
            return None;
        };
        let single = matches!(s.from.as_slice(), [(_, Source::Table { .. })]);
        if !single
            || s.distinct
            || s.group_by.is_some()
            || s.top
                .as_ref()
                .is_some_and(|t| t.limit.is_some() || t.offset.is_some())
            || self.heading.iter().any(|a| a.expr.is_some())
        {
            return None;
        }
        if s.conds.is_empty() {
            return Some("TRUE".into());
        }
        if s.conds.iter().any(has_subquery) {
            return None;
        }
        let mut ctx = Ctx {
            dialect,
            params: Vec::new(),
            alias: 0,
            inline: true,
        };
        let parts: Vec<String> = s.conds.iter().map(|c| compile_cond(c, &mut ctx)).collect();
        Some(parts.join(" AND "))
    }

    /// The queries used inside restrictions (semijoins and antijoins), at any depth of
    /// this query's sources.
    pub fn condition_queries(&self) -> Vec<Query> {
        fn conds(c: &RCond, out: &mut Vec<Query>) {
            match c {
                RCond::And(items) | RCond::Or(items) => items.iter().for_each(|i| conds(i, out)),
                RCond::Not(inner) => conds(inner, out),
                RCond::In(_, q) | RCond::Exists(q) => out.push((**q).clone()),
                _ => {}
            }
        }
        fn walk(q: &Query, out: &mut Vec<Query>) {
            match &q.body {
                Body::Select(s) => {
                    s.conds.iter().for_each(|c| conds(c, out));
                    for (_, src) in &s.from {
                        if let Source::Sub(inner) = src {
                            walk(inner, out);
                        }
                    }
                }
                Body::Union(parts) => parts.iter().for_each(|p| walk(p, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}

/// True when a condition restricts by another query.
fn has_subquery(c: &RCond) -> bool {
    match c {
        RCond::In(..) | RCond::Exists(_) => true,
        RCond::And(items) | RCond::Or(items) => items.iter().any(has_subquery),
        RCond::Not(inner) => has_subquery(inner),
        _ => false,
    }
}
