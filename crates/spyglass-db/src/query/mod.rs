//! The query algebra with DataJoint's semantics. A `Query` is a heading plus a body
//! (natural joins of tables and subqueries under an AND-list of restrictions, with
//! optional DISTINCT, GROUP BY and ORDER/LIMIT, or a union of queries). Operators
//! compose lazily — restriction, join, projection, aggregation, union, universal
//! sets, top — and `compile` turns the result into one SQL statement.

mod compile;
mod cond;
pub mod sqlcheck;

pub use compile::{sql_excerpt, Compiled};
pub use cond::Cond;
pub(crate) use cond::RCond;

use crate::error::{Error, Result};
use crate::heading::{Attribute, TableInfo};
use crate::naming::FullName;

/// One attribute of a query's heading.
#[derive(Debug, Clone, PartialEq)]
pub struct QAttr {
    /// Name in the result.
    pub name: String,
    /// Part of the result's primary key.
    pub in_key: bool,
    /// The table attribute it comes from (type, comment); None for computed values.
    pub source: Option<Attribute>,
    /// SQL expression over the body's columns, when not a plain column of that name.
    pub expr: Option<String>,
}

/// How a source joins the ones before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum JoinKind {
    Inner,
    Left,
}

/// A FROM item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    Table {
        name: FullName,
        columns: Vec<String>,
    },
    Sub(Box<Query>),
}

/// ORDER BY / LIMIT / OFFSET.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Top {
    /// Attributes with direction, e.g. `("dob", true)` for descending.
    pub order_by: Vec<(String, bool)>,
    /// Row limit.
    pub limit: Option<u64>,
    /// Rows skipped.
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Select {
    pub from: Vec<(JoinKind, Source)>,
    pub conds: Vec<RCond>,
    pub distinct: bool,
    pub group_by: Option<Vec<String>>,
    pub top: Option<Top>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Select(Select),
    Union(Vec<Query>),
}

/// A lazily composed relational query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(crate) heading: Vec<QAttr>,
    pub(crate) body: Body,
    pub(crate) label: String,
}

/// What a projection keeps, renames and computes.
#[derive(Debug, Clone, Default)]
pub struct Proj {
    keep: Vec<String>,
    keep_all: bool,
    exclude: Vec<String>,
    rename: Vec<(String, String)>,
    compute: Vec<(String, String)>,
}

impl Proj {
    /// Only the primary key (DataJoint's `proj()`).
    pub fn key() -> Proj {
        Proj::default()
    }

    /// Every attribute (DataJoint's `proj(...)`), to be trimmed with `exclude`.
    pub fn all() -> Proj {
        Proj {
            keep_all: true,
            ..Proj::default()
        }
    }

    /// Keeps a secondary attribute.
    pub fn keep(mut self, name: &str) -> Proj {
        self.keep.push(name.to_string());
        self
    }

    /// Keeps several secondary attributes.
    pub fn keep_many<S: AsRef<str>>(mut self, names: &[S]) -> Proj {
        self.keep
            .extend(names.iter().map(|n| n.as_ref().to_string()));
        self
    }

    /// Drops a secondary attribute (`'-attr'`).
    pub fn exclude(mut self, name: &str) -> Proj {
        self.exclude.push(name.to_string());
        self
    }

    /// Renames `old` to `new` (`new='old'`).
    pub fn rename(mut self, new: &str, old: &str) -> Proj {
        self.rename.push((new.to_string(), old.to_string()));
        self
    }

    /// Adds a computed attribute `new` from an SQL expression over the attributes.
    pub fn compute(mut self, new: &str, sql: &str) -> Proj {
        self.compute.push((new.to_string(), sql.to_string()));
        self
    }
}

impl Query {
    /// The query over a whole table.
    pub fn table(info: &TableInfo) -> Query {
        let heading = info
            .heading
            .attributes
            .iter()
            .map(|a| QAttr {
                name: a.name.clone(),
                in_key: a.in_key,
                source: Some(a.clone()),
                expr: None,
            })
            .collect();
        Query {
            heading,
            body: Body::Select(Select {
                from: vec![(
                    JoinKind::Inner,
                    Source::Table {
                        name: info.name.clone(),
                        columns: info.heading.names(),
                    },
                )],
                conds: Vec::new(),
                distinct: false,
                group_by: None,
                top: None,
            }),
            label: info.name.pretty(),
        }
    }

    /// The heading's attributes.
    pub fn heading(&self) -> &[QAttr] {
        &self.heading
    }

    /// Names of all attributes, in heading order.
    pub fn names(&self) -> Vec<String> {
        self.heading.iter().map(|a| a.name.clone()).collect()
    }

    /// Primary-key attribute names.
    pub fn primary_key(&self) -> Vec<String> {
        self.heading
            .iter()
            .filter(|a| a.in_key)
            .map(|a| a.name.clone())
            .collect()
    }

    /// The tables this query reads, in the order they appear.
    pub fn tables(&self) -> Vec<FullName> {
        fn walk(q: &Query, out: &mut Vec<FullName>) {
            match &q.body {
                Body::Select(s) => {
                    for (_, src) in &s.from {
                        match src {
                            Source::Table { name, .. } => {
                                if !out.contains(name) {
                                    out.push(name.clone())
                                }
                            }
                            Source::Sub(inner) => walk(inner, out),
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

    /// The label used in messages (the base table's `schema.Class`).
    pub fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&QAttr> {
        self.heading.iter().find(|a| a.name == name)
    }

    fn require(&self, name: &str) -> Result<&QAttr> {
        self.attr(name).ok_or_else(|| Error::UnknownAttribute {
            attribute: name.to_string(),
            context: self.label.clone(),
        })
    }

    /// A plain select: no computed/renamed attributes, DISTINCT, GROUP BY or top.
    fn is_plain(&self) -> bool {
        match &self.body {
            Body::Select(s) => {
                s.top.is_none()
                    && !s.distinct
                    && s.group_by.is_none()
                    && self.heading.iter().all(|a| a.expr.is_none())
            }
            Body::Union(_) => false,
        }
    }

    /// Plain, and its heading shows every column of its sources (safe to natural-join inline).
    fn is_inlinable(&self) -> bool {
        if !self.is_plain() {
            return false;
        }
        let Body::Select(s) = &self.body else {
            return false;
        };
        s.from.iter().all(|(_, src)| match src {
            Source::Table { columns, .. } => columns.iter().all(|c| self.attr(c).is_some()),
            Source::Sub(q) => q.heading.iter().all(|a| self.attr(&a.name).is_some()),
        })
    }

    /// Wraps the query as a subquery whose heading is plain columns.
    fn wrap(self) -> Query {
        let heading = self
            .heading
            .iter()
            .map(|a| QAttr {
                name: a.name.clone(),
                in_key: a.in_key,
                source: a.source.clone(),
                expr: None,
            })
            .collect();
        let label = self.label.clone();
        Query {
            heading,
            body: Body::Select(Select {
                from: vec![(JoinKind::Inner, Source::Sub(Box::new(self)))],
                conds: Vec::new(),
                distinct: false,
                group_by: None,
                top: None,
            }),
            label,
        }
    }

    fn select_mut(&mut self) -> &mut Select {
        match &mut self.body {
            Body::Select(s) => s,
            Body::Union(_) => unreachable!("callers wrap unions first"),
        }
    }

    /// Restricts to rows matching `cond` (`q & cond`).
    pub fn restrict(&self, cond: impl Into<Cond>) -> Result<Query> {
        let cond = cond.into();
        let mut q = if self.is_plain() {
            self.clone()
        } else {
            self.clone().wrap()
        };
        let r = cond::resolve(&cond, &q)?;
        match r {
            RCond::True => {}
            other => q.select_mut().conds.push(other),
        }
        Ok(q)
    }

    /// Removes rows matching `cond` (`q - cond`).
    pub fn exclude(&self, cond: impl Into<Cond>) -> Result<Query> {
        self.restrict(Cond::Not(Box::new(cond.into())))
    }

    /// Natural join (`a * b`).
    pub fn join(&self, other: &Query) -> Result<Query> {
        self.join_kind(other, JoinKind::Inner)
    }

    /// Natural left join: keeps rows of `self` without a match in `other`.
    pub fn join_left(&self, other: &Query) -> Result<Query> {
        self.join_kind(other, JoinKind::Left)
    }

    fn join_kind(&self, other: &Query, kind: JoinKind) -> Result<Query> {
        check_join_compatible(self, other)?;
        let a = if self.is_inlinable() {
            self.clone()
        } else {
            self.clone().wrap()
        };
        let own_tables: Vec<&FullName> = match &a.body {
            Body::Select(s) => s
                .from
                .iter()
                .filter_map(|(_, src)| match src {
                    Source::Table { name, .. } => Some(name),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let b_inline = other.is_inlinable()
            && match &other.body {
                Body::Select(s) => s.from.iter().all(|(k, src)| {
                    *k == JoinKind::Inner
                        && !matches!(src, Source::Table { name, .. } if own_tables.contains(&name))
                }) && (kind == JoinKind::Inner || s.conds.is_empty()),
                _ => false,
            };
        let b = if b_inline {
            other.clone()
        } else {
            other.clone().wrap()
        };
        let heading = join_heading(&a.heading, &b.heading);
        let label = a.label.clone();
        let (Body::Select(mut sa), Body::Select(sb)) = (a.body, b.body) else {
            return Err(Error::Query("internal: join of non-select bodies".into()));
        };
        let mut first = true;
        for (_, src) in sb.from {
            sa.from
                .push((if first { kind } else { JoinKind::Inner }, src));
            first = false;
        }
        sa.conds.extend(sb.conds);
        Ok(Query {
            heading,
            body: Body::Select(sa),
            label,
        })
    }

    /// Projection: keep, rename, compute and drop attributes; the primary key stays.
    pub fn proj(&self, spec: Proj) -> Result<Query> {
        for n in spec
            .keep
            .iter()
            .chain(&spec.exclude)
            .chain(spec.rename.iter().map(|(_, o)| o))
        {
            self.require(n)?;
        }
        let needs_wrap = match &self.body {
            Body::Select(s) => s.top.is_some() || s.distinct || s.group_by.is_some(),
            Body::Union(_) => true,
        } || (!spec.compute.is_empty()
            && self.heading.iter().any(|a| a.expr.is_some()));
        let base = if needs_wrap {
            self.clone().wrap()
        } else {
            self.clone()
        };
        let mut heading = Vec::new();
        for a in &base.heading {
            let renamed = spec
                .rename
                .iter()
                .find(|(_, old)| old == &a.name)
                .map(|(new, _)| new.clone());
            let keep = a.in_key
                || renamed.is_some()
                || ((spec.keep_all || spec.keep.contains(&a.name))
                    && !spec.exclude.contains(&a.name));
            if !keep {
                continue;
            }
            match renamed {
                Some(new) => heading.push(QAttr {
                    name: new,
                    in_key: a.in_key,
                    source: a.source.clone(),
                    expr: Some(a.expr.clone().unwrap_or_else(|| format!("`{}`", a.name))),
                }),
                None => heading.push(a.clone()),
            }
        }
        let names: Vec<&str> = base.heading.iter().map(|a| a.name.as_str()).collect();
        push_computed(&mut heading, &spec, &names, &base.label)?;
        let mut seen = std::collections::HashSet::new();
        for a in &heading {
            if !seen.insert(a.name.as_str()) {
                return Err(Error::Query(format!(
                    "projection of {} would have two attributes named `{}`",
                    base.label, a.name
                )));
            }
        }
        // primary key first
        heading.sort_by_key(|a| !a.in_key);
        Ok(Query {
            heading,
            body: base.body,
            label: base.label,
        })
    }

    /// Aggregation `self.aggr(other, ...)`: per row of `self`, computed values over
    /// the matching rows of `other` (`keep_all_rows` keeps rows with no match).
    pub fn aggr(&self, other: &Query, spec: Proj, keep_all_rows: bool) -> Result<Query> {
        for n in &spec.keep {
            self.require(n)?;
        }
        let joined = if keep_all_rows {
            self.join_left(other)?
        } else {
            self.join(other)?
        };
        let joined = if joined.is_plain() {
            joined
        } else {
            joined.wrap()
        };
        let mut heading: Vec<QAttr> = self
            .heading
            .iter()
            .filter(|a| a.in_key || spec.keep.contains(&a.name))
            .map(|a| QAttr {
                name: a.name.clone(),
                in_key: a.in_key,
                source: a.source.clone(),
                expr: None,
            })
            .collect();
        let group: Vec<String> = heading.iter().map(|a| a.name.clone()).collect();
        let names: Vec<&str> = joined.heading.iter().map(|a| a.name.as_str()).collect();
        push_computed(&mut heading, &spec, &names, &self.label)?;
        let label = self.label.clone();
        let Body::Select(mut s) = joined.body else {
            return Err(Error::Query("internal: aggregation over a union".into()));
        };
        s.group_by = Some(group);
        Ok(Query {
            heading,
            body: Body::Select(s),
            label,
        })
    }

    /// Union (`a + b`): both operands must have the same primary key and share no
    /// secondary attributes; missing secondaries are NULL.
    pub fn union(&self, other: &Query) -> Result<Query> {
        let mut pa = self.primary_key();
        let mut pb = other.primary_key();
        pa.sort();
        pb.sort();
        if pa != pb {
            return Err(Error::Query(format!(
                "union requires the same primary key: {} has ({}), {} has ({})",
                self.label,
                pa.join(", "),
                other.label,
                pb.join(", ")
            )));
        }
        let sec_a: Vec<&QAttr> = self.heading.iter().filter(|a| !a.in_key).collect();
        let sec_b: Vec<&QAttr> = other.heading.iter().filter(|a| !a.in_key).collect();
        if let Some(shared) = sec_a
            .iter()
            .find(|a| sec_b.iter().any(|b| b.name == a.name))
        {
            return Err(Error::Query(format!(
                "union operands {} and {} both have the secondary attribute `{}`",
                self.label, other.label, shared.name
            )));
        }
        if sec_a.is_empty() && sec_b.is_empty() {
            return Ok(Query {
                heading: self.heading.iter().map(plain).collect(),
                body: Body::Union(vec![self.clone(), other.clone()]),
                label: self.label.clone(),
            });
        }
        let left = self.join_left(other)?;
        let right = other.restrict(Cond::Not(Box::new(Cond::Query(Box::new(
            self.proj(Proj::key())?,
        )))))?;
        Ok(Query {
            heading: left.heading.iter().map(plain).collect(),
            body: Body::Union(vec![left, right]),
            label: self.label.clone(),
        })
    }

    /// An outer union over queries with the same primary key: attributes a part lacks are
    /// NULL (used by merge tables' views, whose parts come filled). An attribute takes
    /// its type from the first part where it is a table's column rather than computed.
    pub fn outer_union(parts: &[Query]) -> Result<Query> {
        let first = parts
            .first()
            .ok_or_else(|| Error::Query("union of no queries".into()))?;
        let mut heading: Vec<QAttr> = Vec::new();
        for q in parts {
            for a in &q.heading {
                match heading.iter_mut().find(|h| h.name == a.name) {
                    None => heading.push(plain(a)),
                    Some(h) if h.source.is_none() && a.source.is_some() => *h = plain(a),
                    Some(_) => {}
                }
            }
        }
        heading.sort_by_key(|a| !a.in_key);
        Ok(Query {
            heading,
            body: Body::Union(parts.to_vec()),
            label: first.label.clone(),
        })
    }

    /// ORDER BY / LIMIT / OFFSET (DataJoint's `dj.Top`); `order_by` entries are
    /// `"KEY"`, `"KEY DESC"`, `"attr"` or `"attr desc"`.
    pub fn top(&self, order_by: &[&str], limit: Option<u64>, offset: Option<u64>) -> Result<Query> {
        let order = self.parse_order(order_by)?;
        let mut q = match &self.body {
            Body::Select(s) if s.top.is_none() => self.clone(),
            _ => self.clone().wrap(),
        };
        q.select_mut().top = Some(Top {
            order_by: order,
            limit,
            offset,
        });
        Ok(q)
    }

    pub(crate) fn parse_order(&self, order_by: &[&str]) -> Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for item in order_by {
            let mut words = item.split_whitespace();
            let name = words.next().unwrap_or("");
            let desc = match words.next().map(|w| w.to_ascii_lowercase()) {
                None => false,
                Some(w) if w == "desc" => true,
                Some(w) if w == "asc" => false,
                Some(w) => {
                    return Err(Error::Query(format!(
                        "order_by `{item}`: expected ASC or DESC, got `{w}`"
                    )))
                }
            };
            if name == "KEY" {
                out.extend(self.primary_key().into_iter().map(|k| (k, desc)));
            } else {
                let name = name.trim_matches('`');
                self.require(name)?;
                out.push((name.to_string(), desc));
            }
        }
        Ok(out)
    }

    /// Promotes attributes into the primary key (`q * dj.U(...)`).
    pub fn promote(&self, attrs: &[&str]) -> Result<Query> {
        for a in attrs {
            self.require(a)?;
        }
        let mut q = self.clone();
        for a in &mut q.heading {
            if attrs.contains(&a.name.as_str()) {
                a.in_key = true;
            }
        }
        q.heading.sort_by_key(|a| !a.in_key);
        Ok(q)
    }

    /// Distinct values of `attrs` in this query, with those as the key (`dj.U(...) & q`).
    pub fn universal(&self, attrs: &[&str]) -> Result<Query> {
        if attrs.is_empty() {
            return Err(Error::Query(
                "dj.U() & q needs at least one attribute".into(),
            ));
        }
        for a in attrs {
            self.require(a)?;
        }
        let mut q = if self.is_plain() {
            self.clone()
        } else {
            self.clone().wrap()
        };
        q.heading = attrs
            .iter()
            .filter_map(|n| q.attr(n).cloned())
            .map(|mut a| {
                a.in_key = true;
                a
            })
            .collect();
        q.select_mut().distinct = true;
        Ok(q)
    }

    /// Aggregation grouped by `attrs` of this query (`dj.U(attrs).aggr(q, ...)`);
    /// with no attributes, one row over the whole query.
    pub fn group_by(&self, attrs: &[&str], spec: Proj) -> Result<Query> {
        for a in attrs {
            self.require(a)?;
        }
        let base = if self.is_plain() {
            self.clone()
        } else {
            self.clone().wrap()
        };
        let names: Vec<&str> = base.heading.iter().map(|a| a.name.as_str()).collect();
        let mut heading: Vec<QAttr> = attrs
            .iter()
            .filter_map(|n| base.attr(n).cloned())
            .map(|mut a| {
                a.in_key = true;
                a
            })
            .collect();
        push_computed(&mut heading, &spec, &names, &self.label)?;
        let label = base.label.clone();
        let Body::Select(mut s) = base.body else {
            return Err(Error::Query("internal: group over a union".into()));
        };
        s.group_by = Some(attrs.iter().map(|a| a.to_string()).collect());
        Ok(Query {
            heading,
            body: Body::Select(s),
            label,
        })
    }

    /// Keeps only the named attributes in the heading (for fetching a subset).
    pub(crate) fn select_attrs(&self, attrs: &[String]) -> Result<Query> {
        for a in attrs {
            self.require(a)?;
        }
        let mut q = self.clone();
        q.heading.retain(|a| attrs.contains(&a.name));
        q.heading
            .sort_by_key(|a| attrs.iter().position(|n| n == &a.name));
        Ok(q)
    }
}

/// Appends a projection's computed attributes, each checked against `names`.
fn push_computed(heading: &mut Vec<QAttr>, spec: &Proj, names: &[&str], label: &str) -> Result<()> {
    for (new, sql) in &spec.compute {
        sqlcheck::check_restriction(sql, names, label)?;
        heading.push(QAttr {
            name: new.clone(),
            in_key: false,
            source: None,
            expr: Some(sql.clone()),
        });
    }
    Ok(())
}

fn plain(a: &QAttr) -> QAttr {
    QAttr {
        name: a.name.clone(),
        in_key: a.in_key,
        source: a.source.clone(),
        expr: None,
    }
}

/// Errors when an attribute of the same name is secondary in both operands.
pub(crate) fn check_join_compatible(a: &Query, b: &Query) -> Result<()> {
    for x in &a.heading {
        if let Some(y) = b.attr(&x.name) {
            if !x.in_key && !y.in_key {
                return Err(Error::Query(format!(
                    "cannot join {} and {}: `{}` is a secondary attribute of both (project it away or rename it)",
                    a.label, b.label, x.name
                )));
            }
        }
    }
    Ok(())
}

fn join_heading(a: &[QAttr], b: &[QAttr]) -> Vec<QAttr> {
    let mut out: Vec<QAttr> = Vec::new();
    let has = |v: &Vec<QAttr>, n: &str| v.iter().any(|x| x.name == n);
    for x in a.iter().filter(|x| x.in_key) {
        out.push(plain(x));
    }
    for y in b.iter().filter(|y| y.in_key) {
        if !has(&out, &y.name) {
            out.push(plain(y));
        }
    }
    for x in a.iter().filter(|x| !x.in_key) {
        if !has(&out, &x.name) {
            out.push(plain(x));
        }
    }
    for y in b.iter().filter(|y| !y.in_key) {
        if !has(&out, &y.name) {
            out.push(plain(y));
        }
    }
    // an attribute that is secondary in one operand but key in the other joins the key
    for o in &mut out {
        if a.iter().chain(b).any(|x| x.name == o.name && x.in_key) {
            o.in_key = true;
        }
    }
    out.sort_by_key(|x| !x.in_key);
    out
}
