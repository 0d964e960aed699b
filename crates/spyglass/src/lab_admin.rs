//! Who may change who is who: once the lab has an admin (`LabMemberInfo.admin = 1`),
//! cautious delete is in force and the rows it trusts are admin-only. A non-admin may
//! not insert, update or delete `LabMember.LabMemberInfo` (the account of a member and
//! the admin flag), delete or update `LabTeam`, or change `LabTeam.LabTeamMember`,
//! except add a member to their own personal team (team name = member name), which
//! ingest does for every experimenter, as Spyglass does. Without this, a user could
//! delete their own `LabMemberInfo` and load it again with `admin = 1`, or join
//! another team and delete its sessions.
//!
//! The check runs inside cautious delete (for every table the cascade reaches) and, via
//! [`install_write_guard`], before every insert, update and delete made through a
//! [`Db`] (the `spyglass` command installs it).

use crate::cautious_delete::{current_user, is_admin, refuse};
use crate::common::common_lab::{LAB_MEMBER_INFO, LAB_TEAM, LAB_TEAM_MEMBER};
use crate::error::Result;
use crate::scope::ThreadScopes;
use spyglass_db::{Cond, Db, Row, TableInfo, Value, WriteKind};
use std::sync::Arc;

/// The threads running a delete cautious delete has already checked, kept on the
/// [`Db`] the delete runs on.
#[derive(Debug, Default)]
struct Checked(ThreadScopes);

/// True when the lab has at least one admin (cautious delete is in force).
pub fn in_force(db: &Db) -> Result<bool> {
    let Ok(info) = db.table(LAB_MEMBER_INFO) else {
        return Ok(false);
    };
    Ok(db.exists(&info.restrict(Cond::map([("admin", Value::Bool(true))]))?)?)
}

/// The lab tables whose changes are admin-only.
fn guarded(db: &Db, info: &TableInfo) -> Option<&'static str> {
    [LAB_MEMBER_INFO, LAB_TEAM, LAB_TEAM_MEMBER]
        .into_iter()
        .find(|t| db.table_info(t).is_ok_and(|i| i.name == info.name))
}

/// True for a write a non-admin may make to a guarded table: creating a team, and
/// adding a member to their own personal team.
fn harmless(table: &str, kind: WriteKind, rows: &[Row]) -> bool {
    match (table, kind) {
        (t, WriteKind::Insert) if t == LAB_TEAM => true,
        (t, WriteKind::Insert) if t == LAB_TEAM_MEMBER => rows.iter().all(|r| {
            let team = r.get("team_name").map(Value::python_str);
            team.is_some() && team == r.get("lab_member_name").map(Value::python_str)
        }),
        _ => false,
    }
}

/// Refuses a write of `rows` to a lab table by a non-admin while cautious delete is in
/// force (see the module doc). `configured` is the user on SQLite (`--user`).
pub fn check_write(
    db: &Db,
    info: &TableInfo,
    kind: WriteKind,
    rows: &[Row],
    configured: Option<&str>,
) -> Result<()> {
    let Some(table) = guarded(db, info) else {
        return Ok(());
    };
    if rows.is_empty() || harmless(table, kind, rows) {
        return Ok(());
    }
    let allowed = crate::export::without_logging(db, || {
        if !in_force(db)? {
            return Ok(None);
        }
        let user = current_user(db, configured)?;
        Ok((!is_admin(db, &user)?).then_some(user))
    })?;
    let Some(user) = allowed else {
        return Ok(());
    };
    let verb = match kind {
        WriteKind::Insert => "insert into",
        WriteKind::Update => "update",
        WriteKind::Delete => "delete from",
    };
    Err(refuse(
        table,
        Some(&user),
        format!(
            "user '{user}' may not {verb} {table}: lab members' accounts, the admin flag and \
         team membership are changed by an admin only (LabMemberInfo.admin = 1)"
        ),
    ))
}

/// Runs `f` (a delete cautious delete has checked) without asking `db`'s write guard
/// again, for the calling thread.
pub(crate) fn checked<T>(db: &Db, f: impl FnOnce() -> T) -> T {
    db.extension(Checked::default).0.enter(f)
}

/// Installs the check on every insert, update and delete made through `db` (the user
/// is `configured` on SQLite, else `$SPYGLASS_USER`/`$USER`; the account on MySQL).
pub fn install_write_guard(db: &Db, configured: Option<String>) {
    db.set_write_guard(Some(Arc::new(
        move |db: &Db, info: &TableInfo, kind: WriteKind, rows: &[Row]| {
            if db
                .existing_extension::<Checked>()
                .is_some_and(|c| c.0.inside())
            {
                return Ok(());
            }
            check_write(db, info, kind, rows, configured.as_deref()).map_err(|e| match e {
                crate::Error::Db(e) => e,
                crate::Error::PermissionDenied {
                    table,
                    user,
                    reason,
                } => spyglass_db::Error::PermissionDenied {
                    table,
                    user,
                    reason,
                },
                other => spyglass_db::Error::Refused(other.to_string()),
            })
        },
    )));
}
