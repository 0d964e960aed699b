//! Session groups: named sets of sessions for analyses that span sessions
//! (`SessionGroup` with a description, `SessionGroupSession` linking sessions).

use crate::common::common_session::{SESSION_GROUP, SESSION_GROUP_SESSION};
use crate::error::{Error, Result};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, Value};

/// A group with its sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionGroup {
    /// Group name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `nwb_file_name` of each member, ordered.
    pub sessions: Vec<String>,
}

fn group_cond(name: &str) -> Cond {
    Cond::map([("session_group_name", name)])
}

fn require_group(db: &Db, name: &str) -> Result<()> {
    if db.exists(&db.table(SESSION_GROUP)?.restrict(group_cond(name))?)? {
        Ok(())
    } else {
        Err(Error::missing(
            SESSION_GROUP,
            format!("session_group_name = `{name}`"),
        ))
    }
}

/// Adds a group.
pub fn add_group(db: &Db, name: &str, description: &str) -> Result<()> {
    db.insert1(
        SESSION_GROUP,
        Row::from_pairs([
            ("session_group_name", name),
            ("session_group_description", description),
        ]),
        InsertOptions::default(),
    )?;
    Ok(())
}

/// Replaces a group's description.
pub fn update_description(db: &Db, name: &str, description: &str) -> Result<()> {
    require_group(db, name)?;
    db.update1(
        SESSION_GROUP,
        &Row::from_pairs([
            ("session_group_name", name),
            ("session_group_description", description),
        ]),
    )?;
    Ok(())
}

/// Adds a session to a group (a no-op when it is already a member).
pub fn add_session(db: &Db, name: &str, nwb_file_name: &str) -> Result<()> {
    require_group(db, name)?;
    db.insert1(
        SESSION_GROUP_SESSION,
        Row::from_pairs([
            ("session_group_name", name),
            ("nwb_file_name", nwb_file_name),
        ]),
        InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        },
    )?;
    Ok(())
}

/// Removes a session from a group; returns whether it was a member.
pub fn remove_session(db: &Db, name: &str, nwb_file_name: &str) -> Result<bool> {
    let n = db.delete_rows(
        SESSION_GROUP_SESSION,
        Cond::map([
            ("session_group_name", name),
            ("nwb_file_name", nwb_file_name),
        ]),
    )?;
    Ok(n > 0)
}

/// Deletes a group and its memberships.
pub fn delete_group(db: &Db, name: &str) -> Result<()> {
    require_group(db, name)?;
    crate::transaction(db, || {
        let key = Cond::map([("session_group_name", name)]);
        db.delete_rows(SESSION_GROUP_SESSION, key.clone())?;
        db.delete_rows(SESSION_GROUP, key)?;
        Ok(())
    })
}

/// The sessions of a group, ordered.
pub fn group_sessions(db: &Db, name: &str) -> Result<Vec<String>> {
    require_group(db, name)?;
    let q = db
        .table(SESSION_GROUP_SESSION)?
        .restrict(group_cond(name))?;
    let rows = db.fetch_with(
        &q,
        &FetchSpec::attrs(&["nwb_file_name"]).order_by(&["nwb_file_name"]),
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get("nwb_file_name").and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

/// Every group with its sessions, ordered by name.
pub fn list_groups(db: &Db) -> Result<Vec<SessionGroup>> {
    let rows = db.fetch_with(
        &db.table(SESSION_GROUP)?,
        &FetchSpec::default().order_by(&["session_group_name"]),
    )?;
    let mut out = vec![];
    for r in rows {
        let name = r
            .get("session_group_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        out.push(SessionGroup {
            description: r
                .get("session_group_description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            sessions: group_sessions(db, &name)?,
            name,
        });
    }
    Ok(out)
}
