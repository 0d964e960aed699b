//! Restriction conditions. `Cond` is what users write (a map of attribute values,
//! an SQL string, AND and OR lists, negation, another query); `resolve` checks it
//! against a query's heading with DataJoint's rules (unknown map keys are ignored,
//! an OR with a TRUE member is TRUE, an empty OR is FALSE, ...) and converts values
//! to bound parameters.

use super::{check_join_compatible, sqlcheck, Query};
use crate::error::Result;
use crate::value::{to_sql, Row, SqlValue, Value};

/// A restriction, as a user writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// Attribute = value for each pair; keys the query lacks are ignored.
    Map(Vec<(String, Value)>),
    /// Raw SQL over the query's attributes.
    Sql(String),
    /// All of the conditions.
    And(Vec<Cond>),
    /// Any of the conditions.
    Or(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
    /// Semijoin on the shared attributes of another query.
    Query(Box<Query>),
    /// Constant.
    Bool(bool),
}

impl Cond {
    /// A map condition from pairs.
    pub fn map<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Cond {
        Cond::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// An SQL condition.
    pub fn sql(s: impl Into<String>) -> Cond {
        Cond::Sql(s.into())
    }
}

impl std::ops::Not for Cond {
    type Output = Cond;

    /// Negation of this condition (`!cond`, or `cond.not()` with `std::ops::Not` in scope).
    fn not(self) -> Cond {
        Cond::Not(Box::new(self))
    }
}

impl From<&Row> for Cond {
    fn from(r: &Row) -> Cond {
        Cond::Map(r.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
}
impl From<Row> for Cond {
    fn from(r: Row) -> Cond {
        Cond::from(&r)
    }
}
impl From<&str> for Cond {
    fn from(s: &str) -> Cond {
        Cond::Sql(s.to_string())
    }
}
impl From<String> for Cond {
    fn from(s: String) -> Cond {
        Cond::Sql(s)
    }
}
impl From<&Query> for Cond {
    fn from(q: &Query) -> Cond {
        Cond::Query(Box::new(q.clone()))
    }
}
impl From<Query> for Cond {
    fn from(q: Query) -> Cond {
        Cond::Query(Box::new(q))
    }
}
impl From<bool> for Cond {
    fn from(b: bool) -> Cond {
        Cond::Bool(b)
    }
}

/// A resolved condition ready to compile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RCond {
    True,
    False,
    Eq(Vec<(String, SqlValue)>),
    Sql(String),
    And(Vec<RCond>),
    Or(Vec<RCond>),
    Not(Box<RCond>),
    In(Vec<String>, Box<Query>),
    Exists(Box<Query>),
}

/// Checks `cond` against the heading of `q` and binds its values.
pub(crate) fn resolve(cond: &Cond, q: &Query) -> Result<RCond> {
    Ok(match cond {
        Cond::Bool(true) => RCond::True,
        Cond::Bool(false) => RCond::False,
        Cond::Map(pairs) => {
            let mut eqs = Vec::new();
            for (k, v) in pairs {
                let Some(a) = q.attr(k) else { continue };
                let sv = match &a.source {
                    Some(src) => to_sql(src, &q.label, v)?,
                    None => generic_sql(v),
                };
                eqs.push((k.clone(), sv));
            }
            if eqs.is_empty() {
                RCond::True
            } else {
                RCond::Eq(eqs)
            }
        }
        Cond::Sql(s) => {
            let names: Vec<&str> = q.heading.iter().map(|a| a.name.as_str()).collect();
            sqlcheck::check_restriction(s, &names, &q.label)?;
            RCond::Sql(s.clone())
        }
        Cond::And(items) => {
            let mut out = Vec::new();
            for c in items {
                match resolve(c, q)? {
                    RCond::True => {}
                    RCond::False => return Ok(RCond::False),
                    r => out.push(r),
                }
            }
            match out.len() {
                0 => RCond::True,
                1 => out.pop().unwrap_or(RCond::True),
                _ => RCond::And(out),
            }
        }
        Cond::Or(items) => {
            let mut out = Vec::new();
            for c in items {
                match resolve(c, q)? {
                    RCond::True => return Ok(RCond::True),
                    RCond::False => {}
                    r => out.push(r),
                }
            }
            match out.len() {
                0 => RCond::False,
                1 => out.pop().unwrap_or(RCond::False),
                _ => RCond::Or(out),
            }
        }
        Cond::Not(inner) => match resolve(inner, q)? {
            RCond::True => RCond::False,
            RCond::False => RCond::True,
            RCond::Not(x) => *x,
            r => RCond::Not(Box::new(r)),
        },
        Cond::Query(other) => {
            check_join_compatible(q, other)?;
            let common: Vec<String> = q
                .heading
                .iter()
                .filter(|a| other.attr(&a.name).is_some())
                .map(|a| a.name.clone())
                .collect();
            if common.is_empty() {
                RCond::Exists(other.clone())
            } else {
                RCond::In(common, other.clone())
            }
        }
    })
}

/// Binds a value for a computed attribute of unknown type.
fn generic_sql(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Int(*b as i64),
        Value::Int(i) => SqlValue::Int(*i),
        Value::UInt(u) => SqlValue::UInt(*u),
        Value::Float(f) => SqlValue::Float(*f),
        Value::Bytes(b) => SqlValue::Bytes(b.clone()),
        Value::Uuid(u) => SqlValue::Bytes(u.as_bytes().to_vec()),
        other => SqlValue::Text(other.python_str()),
    }
}
