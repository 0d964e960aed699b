//! Table headings: attributes with their types, keys, defaults and comments; the
//! foreign keys (with renamed-key attribute maps) and indexes of a table; and the
//! catalog entry (`TableInfo`) the engine keeps for every declared table.

use crate::naming::{FullName, Tier};
use crate::types::AttrType;
use serde::{Deserialize, Serialize};

/// One attribute (column) of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// DataJoint type.
    pub ty: AttrType,
    /// Part of the primary key.
    pub in_key: bool,
    /// NULL allowed (declared `= null` or through a nullable foreign key).
    pub nullable: bool,
    /// Default as written in the definition (`"U"`, `0`, `CURRENT_TIMESTAMP`), if any.
    pub default: Option<String>,
    /// User comment (without the type marker).
    pub comment: String,
}

impl Attribute {
    /// True when an insert may omit this attribute.
    pub fn is_optional(&self) -> bool {
        self.nullable || self.default.is_some() || self.ty.is_auto_increment()
    }

    /// The column comment as stored in MySQL: type marker + user comment.
    pub fn sql_comment(&self) -> String {
        match self.ty.comment_marker() {
            Some(m) => format!("{m}{}", self.comment),
            None => self.comment.clone(),
        }
    }
}

/// The leading keyword of a default, upper-cased (`current_timestamp()` → `CURRENT_TIMESTAMP`).
pub fn default_keyword(d: &str) -> String {
    d.split('(')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase()
}

/// A default literal without its surrounding quotes.
pub fn unquote_default(d: &str) -> &str {
    let q = d.chars().next().unwrap_or(' ');
    if (q == '"' || q == '\'') && d.len() >= 2 && d.ends_with(q) {
        &d[1..d.len() - 1]
    } else {
        d
    }
}

/// A foreign key from a child table to a parent table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The referenced table.
    pub parent: FullName,
    /// (child attribute, parent attribute) pairs, in the parent's primary-key order.
    pub attr_map: Vec<(String, String)>,
    /// Declared `[nullable]`.
    pub nullable: bool,
    /// Declared `[unique]`.
    pub unique: bool,
}

impl ForeignKey {
    /// True when any attribute is renamed.
    pub fn is_aliased(&self) -> bool {
        self.attr_map.iter().any(|(c, p)| c != p)
    }

    /// Child-side attribute names.
    pub fn child_attrs(&self) -> impl Iterator<Item = &str> {
        self.attr_map.iter().map(|(c, _)| c.as_str())
    }
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// UNIQUE index.
    pub unique: bool,
    /// Indexed attributes, in order.
    pub attrs: Vec<String>,
}

/// The heading of a table: its attributes in declaration order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heading {
    /// Attributes, primary key first (in declaration order within each section).
    pub attributes: Vec<Attribute>,
}

impl Heading {
    /// Looks an attribute up by name.
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Primary-key attribute names in order.
    pub fn primary_key(&self) -> Vec<String> {
        self.attributes
            .iter()
            .filter(|a| a.in_key)
            .map(|a| a.name.clone())
            .collect()
    }

    /// All attribute names in order.
    pub fn names(&self) -> Vec<String> {
        self.attributes.iter().map(|a| a.name.clone()).collect()
    }
}

/// Everything the engine knows about one declared table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Schema and stored name.
    pub name: FullName,
    /// Tier (from the name).
    pub tier: Tier,
    /// Table comment.
    pub comment: String,
    /// Attributes.
    pub heading: Heading,
    /// Foreign keys in declaration order.
    pub foreign_keys: Vec<ForeignKey>,
    /// Secondary indexes (not including those implied by `[unique]` foreign keys).
    pub indexes: Vec<Index>,
}

impl TableInfo {
    /// Primary-key attribute names.
    pub fn primary_key(&self) -> Vec<String> {
        self.heading.primary_key()
    }

    /// True when this table is a part of a master.
    pub fn is_part(&self) -> bool {
        self.tier == Tier::Part
    }
}
