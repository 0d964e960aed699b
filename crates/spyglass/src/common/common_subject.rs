//! `common_subject`: the animals. Sex is normalised to M / F / U as Spyglass does.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_subject";
/// `Subject` (Manual).
pub const SUBJECT: &str = "common_subject.Subject";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "Subject",
        Tier::Manual,
        "subject_id : varchar(80)
---
age = NULL : varchar(200)
description = NULL : varchar(2000)
genotype = NULL : varchar(2000)
sex = \"U\" : enum(\"M\", \"F\", \"U\")
species = NULL : varchar(200)",
    )]
}

/// `M`, `F` or `U` from the first letter of a sex field (anything else is `U`).
pub fn standardized_sex(sex: Option<&str>) -> &'static str {
    match sex
        .and_then(|s| s.trim().chars().next())
        .map(|c| c.to_ascii_uppercase())
    {
        Some('M') => "M",
        Some('F') => "F",
        _ => "U",
    }
}
