//! Names as DataJoint 0.14 spells them: CamelCase class names to snake_case table
//! names and back, tier prefixes (`#`, `_`, `__`, `master__part`), and the
//! `schema.table` full name that identifies a table across schemas.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The tier of a table, encoded in its stored name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Entered by people or scripts; no prefix.
    Manual,
    /// Small reference tables with declared contents; prefix `#`.
    Lookup,
    /// Filled by `make` from outside data; prefix `_`.
    Imported,
    /// Filled by `make` from other tables; prefix `__`.
    Computed,
    /// Part of a master table; named `master__part`.
    Part,
}

impl Tier {
    /// The stored-name prefix of a master table of this tier.
    pub fn prefix(self) -> &'static str {
        match self {
            Tier::Manual | Tier::Part => "",
            Tier::Lookup => "#",
            Tier::Imported => "_",
            Tier::Computed => "__",
        }
    }

    /// Parses `manual`, `lookup`, `imported`, `computed` or `part` (any case).
    pub fn parse(s: &str) -> Result<Tier> {
        match s.to_ascii_lowercase().as_str() {
            "manual" => Ok(Tier::Manual),
            "lookup" => Ok(Tier::Lookup),
            "imported" => Ok(Tier::Imported),
            "computed" => Ok(Tier::Computed),
            "part" => Ok(Tier::Part),
            _ => Err(Error::Config(format!(
                "unknown tier `{s}` (expected manual, lookup, imported, computed or part)"
            ))),
        }
    }

    /// Infers the tier from a stored table name, as DataJoint does.
    pub fn of_table_name(name: &str) -> Option<Tier> {
        if name.starts_with('~') {
            return None;
        }
        let base = name.trim_start_matches(['#', '_']);
        if base.contains("__") {
            return Some(Tier::Part);
        }
        if name.starts_with("__") {
            Some(Tier::Computed)
        } else if name.starts_with('_') {
            Some(Tier::Imported)
        } else if name.starts_with('#') {
            Some(Tier::Lookup)
        } else {
            Some(Tier::Manual)
        }
    }

    /// Lower-case tier name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Manual => "manual",
            Tier::Lookup => "lookup",
            Tier::Imported => "imported",
            Tier::Computed => "computed",
            Tier::Part => "part",
        }
    }

    /// True for tiers whose rows are made by `populate`.
    pub fn is_auto(self) -> bool {
        matches!(self, Tier::Imported | Tier::Computed)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        let mut c = s.chars();
        let first = c.next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
        write!(f, "{first}{}", c.as_str())
    }
}

/// Checks a class name against DataJoint's `^[A-Z][A-Za-z0-9]*$`.
pub fn check_class_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::BadName {
            name: name.to_string(),
            reason: "class names are CamelCase: a capital letter, then letters and digits".into(),
        })
    }
}

/// `TableName` → `table_name`, `LFPV1` → `l_f_p_v1`, as DataJoint's `from_camel_case`.
pub fn to_snake_case(class_name: &str) -> Result<String> {
    check_class_name(class_name)?;
    let mut out = String::with_capacity(class_name.len() + 4);
    for (i, c) in class_name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `l_f_p_v1` → `LFPV1`, `table2_b` → `Table2B`, as DataJoint's `to_camel_case`.
pub fn to_camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper_next = true;
    for c in snake.chars() {
        if c.is_ascii_alphanumeric() {
            if upper_next {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper_next = false;
        } else {
            upper_next = true;
        }
    }
    out
}

/// The stored table name of a master class of a tier (`LFPV1`, Computed → `__l_f_p_v1`).
pub fn table_name(class_name: &str, tier: Tier) -> Result<String> {
    Ok(format!("{}{}", tier.prefix(), to_snake_case(class_name)?))
}

/// The stored name of a part table: `<master table>__<snake part>`.
pub fn part_table_name(master_table: &str, part_class: &str) -> Result<String> {
    Ok(format!("{master_table}__{}", to_snake_case(part_class)?))
}

/// The class name of a stored table name: `_session__experimenter` → `Session.Experimenter`.
pub fn class_name_of(table_name: &str) -> String {
    let base = table_name.trim_start_matches(['#', '_']);
    match base.split_once("__") {
        Some((m, p)) => format!("{}.{}", to_camel_case(m), to_camel_case(p)),
        None => to_camel_case(base),
    }
}

/// The master's stored name of a part table name (split at the last `__` after the prefix).
pub fn master_of(table_name: &str) -> Option<String> {
    let prefix_len = table_name.len() - table_name.trim_start_matches(['#', '_']).len();
    let base = &table_name[prefix_len..];
    base.rfind("__")
        .map(|i| table_name[..prefix_len + i].to_string())
}

/// A table's identity: schema (database) and stored table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FullName {
    /// Schema (MySQL database) name.
    pub schema: String,
    /// Stored table name, with tier prefix.
    pub table: String,
}

impl FullName {
    /// Builds a full name.
    pub fn new(schema: impl Into<String>, table: impl Into<String>) -> Self {
        FullName {
            schema: schema.into(),
            table: table.into(),
        }
    }

    /// The class name (`Session.Experimenter` for parts).
    pub fn class_name(&self) -> String {
        class_name_of(&self.table)
    }

    /// `schema.ClassName`, the form users type.
    pub fn pretty(&self) -> String {
        if self.table.starts_with('~') {
            // hidden tables (`~log`, `~jobs`, `~external_raw`) have no class name
            return format!("{}.{}", self.schema, self.table);
        }
        format!("{}.{}", self.schema, self.class_name())
    }

    /// The tier encoded in the name.
    pub fn tier(&self) -> Option<Tier> {
        Tier::of_table_name(&self.table)
    }

    /// The master's full name when this is a part table.
    pub fn master(&self) -> Option<FullName> {
        master_of(&self.table).map(|t| FullName::new(self.schema.clone(), t))
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`.`{}`", self.schema, self.table)
    }
}

/// Checks a schema name: lower-case letters, digits and underscores, starting with a letter.
pub fn check_schema_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(Error::BadName {
            name: name.to_string(),
            reason: "schema names are lower-case letters, digits and `_`, starting with a letter"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_to_snake_matches_datajoint() {
        for (c, s) in [
            ("TableName", "table_name"),
            ("ABC", "a_b_c"),
            ("Table2B", "table2_b"),
            ("LFPOutput", "l_f_p_output"),
            ("DIOEvents", "d_i_o_events"),
            ("TrodesPosV1", "trodes_pos_v1"),
            ("FirFilterParameters", "fir_filter_parameters"),
            ("LFPV1", "l_f_p_v1"),
        ] {
            assert_eq!(to_snake_case(c).unwrap(), s, "{c}");
            assert_eq!(to_camel_case(s), c, "{s}");
        }
        assert!(to_snake_case("lower").is_err());
        assert!(to_snake_case("Has_Underscore").is_err());
    }

    #[test]
    fn tiers_and_parts() {
        assert_eq!(table_name("LFPV1", Tier::Computed).unwrap(), "__l_f_p_v1");
        assert_eq!(
            table_name("BrainRegion", Tier::Lookup).unwrap(),
            "#brain_region"
        );
        assert_eq!(
            part_table_name("_session", "Experimenter").unwrap(),
            "_session__experimenter"
        );
        assert_eq!(
            Tier::of_table_name("_session__experimenter"),
            Some(Tier::Part)
        );
        assert_eq!(Tier::of_table_name("__l_f_p_v1"), Some(Tier::Computed));
        assert_eq!(Tier::of_table_name("#brain_region"), Some(Tier::Lookup));
        assert_eq!(Tier::of_table_name("interval_list"), Some(Tier::Manual));
        assert_eq!(Tier::of_table_name("~log"), None);
        assert_eq!(
            master_of("_session__experimenter").as_deref(),
            Some("_session")
        );
        assert_eq!(master_of("__l_f_p_v1"), None);
        assert_eq!(
            master_of("l_f_p_output__l_f_p_v1").as_deref(),
            Some("l_f_p_output")
        );
        assert_eq!(
            class_name_of("_session__experimenter"),
            "Session.Experimenter"
        );
        assert_eq!(class_name_of("#brain_region"), "BrainRegion");
    }
}
