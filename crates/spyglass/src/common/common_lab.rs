//! `common_lab`: people and places. Institution, Lab, LabMember (+ LabMemberInfo)
//! and LabTeam (+ LabTeamMember); every experimenter of an ingested file becomes
//! a LabMember with a personal LabTeam, as in Spyglass.

use crate::error::{Error, Result};
use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_lab";
/// `LabMember` (Manual).
pub const LAB_MEMBER: &str = "common_lab.LabMember";
/// `LabMember.LabMemberInfo` (Part).
pub const LAB_MEMBER_INFO: &str = "common_lab.LabMember.LabMemberInfo";
/// `LabTeam` (Manual).
pub const LAB_TEAM: &str = "common_lab.LabTeam";
/// `LabTeam.LabTeamMember` (Part).
pub const LAB_TEAM_MEMBER: &str = "common_lab.LabTeam.LabTeamMember";
/// `Institution` (Manual).
pub const INSTITUTION: &str = "common_lab.Institution";
/// `Lab` (Manual).
pub const LAB: &str = "common_lab.Lab";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "LabMember",
            Tier::Manual,
            "lab_member_name : varchar(80)
---
first_name : varchar(200)
last_name : varchar(200)",
        )
        .part(
            "LabMemberInfo",
            "# a lab member's accounts
-> master
---
google_user_name : varchar(200)  # account allowed to curate
datajoint_user_name = \"\" : varchar(200)  # database account allowed to delete
admin = 0 : bool  # skips permission checks
unique index (datajoint_user_name)
unique index (google_user_name)",
        ),
        TableSpec::new(
            "LabTeam",
            Tier::Manual,
            "team_name : varchar(80)
---
team_description = \"\" : varchar(2000)",
        )
        .part(
            "LabTeamMember",
            "-> master
-> LabMember",
        ),
        TableSpec::new(
            "Institution",
            Tier::Manual,
            "institution_name : varchar(80)",
        ),
        TableSpec::new("Lab", Tier::Manual, "lab_name : varchar(80)"),
    ]
}

/// Splits an experimenter name into (full "First Last", first, last).
///
/// Accepts "First Last" (exactly one space) or "Last, First" (exactly one ", "),
/// as Spyglass's `decompose_name`; anything else is an error naming the name.
pub fn decompose_name(full_name: &str) -> Result<(String, String, String)> {
    let t = full_name.trim();
    let (first, last) = if t.matches(", ").count() == 1 {
        let (last, first) = t.split_once(", ").unwrap_or_default();
        (first, last)
    } else if t.matches(' ').count() == 1 {
        t.split_once(' ').unwrap_or_default()
    } else {
        return Err(Error::bad(
            "experimenter name",
            format!(
                "`{full_name}` has an unsupported format: write \"First Last\" or \"Last, First\""
            ),
        ));
    };
    if first.is_empty() || last.is_empty() {
        return Err(Error::bad(
            "experimenter name",
            format!("`{full_name}` needs both a first and a last name"),
        ));
    }
    Ok((
        format!("{first} {last}"),
        first.to_string(),
        last.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::decompose_name;

    #[test]
    fn names_decompose_like_spyglass() {
        let (full, first, last) = decompose_name("Doe, Jane").unwrap();
        assert_eq!(
            (full.as_str(), first.as_str(), last.as_str()),
            ("Jane Doe", "Jane", "Doe")
        );
        let (full, _, _) = decompose_name("Jane Doe").unwrap();
        assert_eq!(full, "Jane Doe");
        let (full, first, last) = decompose_name("Van Der Berg, Anna Maria").unwrap();
        assert_eq!(
            (full.as_str(), first.as_str(), last.as_str()),
            ("Anna Maria Van Der Berg", "Anna Maria", "Van Der Berg")
        );
        assert!(decompose_name("Jane Q Doe").is_err());
        assert!(decompose_name("Jane").is_err());
    }
}
