//! Cautious delete, as Spyglass's `CautiousDeleteMixin`: a delete that first checks
//! that the user may remove the rows, then deletes them with everything downstream
//! (the engine's cascade, masters dragged along with their parts) and logs the delete
//! to `common_usage.CautiousDelete`, all in one transaction.
//!
//! Permission, as Spyglass: an admin (`LabMember.LabMemberInfo.admin = 1` for the
//! user's `datajoint_user_name`, or `root` on MySQL) may delete anything. Otherwise
//! the restriction is cascaded up the foreign keys from the table to
//! `common_session.Session` (the engine's set-based `Db::cascade_up`, which the export
//! uses too: renamed keys followed, a master reaches Session through its part tables),
//! and every experimenter (`Session.Experimenter`) of those sessions must share a
//! `LabTeam` with the lab member the user maps to. One tightening over Spyglass: every
//! session owning a row the cascade deletes is checked too, wherever the delete starts
//! (the planned rows of each table are cascaded up to Session): a delete from
//! `Nwbfile`, `Probe`, `FirFilterParameters`, `AnalysisNwbfile` or `LabMember`, which
//! sit above Session, is checked against the sessions whose rows it would remove. A table with no path to Session, or
//! holding `lab_member_name` itself, whose cascade deletes no session, is deleted with
//! a warning. A refusal deletes and logs nothing. `force_permission` is Spyglass's `super_delete`: no check, logged
//! with the restriction prefixed by `Super delete: `.
//!
//! The user is the database account on MySQL (`CURRENT_USER()`, the part before `@`),
//! and on SQLite the configured name, else `$SPYGLASS_USER`, `$USER` or `$LOGNAME`.
//!
//! The log row: `dj_user`, `duration` (seconds, from the start of the call to the log
//! insert), `origin` (the full table name `` `schema`.`table` ``, as Spyglass logs it), `restriction` (the restriction as text, cut to
//! 255 characters ending in `…`), and `merge_deletes`, which Spyglass left for its old
//! merge-table cascade and we use for the rows removed per table: a blob dict
//! `{full table name (`schema`.`table`): rows}` that datajoint-python reads as a dict.

use crate::common::common_lab::{LAB_MEMBER_INFO, LAB_TEAM_MEMBER};
use crate::common::common_session::{SESSION, SESSION_EXPERIMENTER};
use crate::common::common_usage::{specs as usage_specs, CAUTIOUS_DELETE_DEFINITION};
use crate::common::common_usage::{CAUTIOUS_DELETE, SCHEMA as USAGE_SCHEMA};
use crate::error::{Error, Result};
use spyglass_db::delete::{DeleteOptions, DeletePlan};
use spyglass_db::dialect::Dialect;
use spyglass_db::{Cond, Db, FullName, Proj, Query, Row, TableInfo, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The attribute naming a lab member (LabMember's primary key).
const MEMBER_ATTR: &str = "lab_member_name";
/// Longest `restriction` the log holds.
const RESTRICTION_LEN: usize = 255;
/// Longest `origin` and `dj_user` the log holds.
const NAME_LEN: usize = 64;
/// Most sessions named in one message.
const SHOWN: usize = 10;

/// Options of [`cautious_delete`].
#[derive(Debug, Clone, Default)]
pub struct CautiousDeleteOptions {
    /// Check permission and plan, but delete and log nothing.
    pub dry_run: bool,
    /// Skip the permission check (Spyglass's `super_delete`); logged as "Super delete".
    pub force_permission: bool,
    /// The user name to use on SQLite (ignored there when empty; must match on MySQL).
    pub user: Option<String>,
    /// Keep the files of the external rows the delete removes (`--keep-files`).
    pub keep_files: bool,
}

/// How a delete was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The user is an admin.
    Admin,
    /// The user shares a team with every experimenter of the sessions.
    TeamMember,
    /// The table has no path to Session (or holds `lab_member_name`): allowed with a warning.
    NoSession,
    /// The check was skipped (`force_permission`).
    Forced,
    /// Nothing matched the restriction, so nothing was checked.
    NothingToDelete,
}

/// What a cautious delete did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct CautiousDeleteReport {
    /// The table deleted from.
    pub table: FullName,
    /// The user, when it was needed (permission check or log).
    pub user: Option<String>,
    /// How the delete was allowed.
    pub access: Access,
    /// Primary keys of the sessions the deleted rows belong to (when checked).
    pub sessions: Vec<Row>,
    /// The rows planned for deletion, per table.
    pub plan: DeletePlan,
    /// Rows deleted per table (empty for a dry run).
    pub deleted: Vec<(FullName, u64)>,
    /// Warnings to show the user.
    pub warnings: Vec<String>,
    /// A row was written to `common_usage.CautiousDelete`.
    pub logged: bool,
}

impl CautiousDeleteReport {
    /// Total rows deleted.
    pub fn total_deleted(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

/// The user a delete is attributed to: on MySQL the database account (`configured`,
/// when given, must match it); on SQLite `configured`, else `$SPYGLASS_USER`, `$USER`
/// or `$LOGNAME`.
pub fn current_user(db: &Db, configured: Option<&str>) -> Result<String> {
    let configured = configured.map(str::trim).filter(|c| !c.is_empty());
    match db.dialect() {
        Dialect::Mysql => {
            let account = db.current_account()?.unwrap_or_default();
            let user = match account.rsplit_once('@') {
                Some((u, _)) => u.to_string(),
                None => account.clone(),
            };
            if user.is_empty() {
                return Err(Error::bad(
                    "user",
                    "cannot tell who is deleting: this connection uses an anonymous MySQL account; connect as a named user",
                ));
            }
            if let Some(c) = configured {
                if c != user {
                    return Err(Error::bad("--user", format!(
                        "on MySQL the user is the database account `{user}`; a different user (`{c}`) cannot be given"
                    )));
                }
            }
            Ok(user)
        }
        Dialect::Sqlite => {
            if let Some(c) = configured {
                return Ok(c.to_string());
            }
            for var in ["SPYGLASS_USER", "USER", "LOGNAME"] {
                if let Ok(v) = std::env::var(var) {
                    if !v.trim().is_empty() {
                        return Ok(v.trim().to_string());
                    }
                }
            }
            Err(Error::bad(
                "user",
                "cannot tell who is deleting: pass --user NAME (the lab member's datajoint_user_name) or set SPYGLASS_USER",
            ))
        }
    }
}

/// True when `user` is an admin: `LabMemberInfo.admin = 1` for that `datajoint_user_name`,
/// or `root` on MySQL.
pub fn is_admin(db: &Db, user: &str) -> Result<bool> {
    if db.dialect() == Dialect::Mysql && user == "root" {
        return Ok(true);
    }
    let Ok(info) = db.table(LAB_MEMBER_INFO) else {
        return Ok(false);
    };
    let q = info.restrict(Cond::map([
        ("datajoint_user_name", Value::from(user)),
        ("admin", Value::Bool(true)),
    ]))?;
    Ok(db.exists(&q)?)
}

/// The `Session` rows the rows of `table` matching `cond` belong to (key only), found
/// by cascading the restriction up the foreign keys; `None` when the table has no
/// path to Session.
pub fn sessions_of(db: &Db, table: &str, cond: Cond) -> Result<Option<Query>> {
    sessions_above(db, &*db.table_info(table)?, cond)
}

fn sessions_above(db: &Db, info: &TableInfo, cond: Cond) -> Result<Option<Query>> {
    let Ok(session) = db.table_info(SESSION) else {
        return Ok(None);
    };
    // the engine's upward cascade (the export's): ancestors through renamed keys, parts
    // to masters and masters to all their parts; Session is in the slice only when a
    // path leads there
    let slice = db.cascade_up(&[(info.name.clone(), cond)])?;
    if !slice.tables.iter().any(|t| t.name == session.name) {
        return Ok(None);
    }
    let keys = Cond::Or(slice.keys(&session.name).iter().map(Cond::from).collect());
    Ok(Some(
        Query::table(&session).restrict(keys)?.proj(Proj::key())?,
    ))
}

/// Deletes the rows of `table` matching `cond` and everything depending on them, after
/// the permission check, logging to `common_usage.CautiousDelete` (see the module doc).
pub fn cautious_delete(
    db: &Db,
    table: &str,
    cond: Cond,
    opts: &CautiousDeleteOptions,
) -> Result<CautiousDeleteReport> {
    let started = Instant::now();
    let info = db.table_info(table)?;
    let mut warnings = Vec::new();
    let log_table = if opts.dry_run {
        None
    } else {
        log_table(db, &mut warnings)
    };
    let run = || -> Result<CautiousDeleteReport> {
        let plan = db.plan_delete(
            table,
            cond.clone(),
            DeleteOptions {
                keep_files: opts.keep_files,
                ..Default::default()
            },
        )?;
        let mut report = CautiousDeleteReport {
            table: info.name.clone(),
            user: None,
            access: Access::NothingToDelete,
            sessions: Vec::new(),
            plan,
            deleted: Vec::new(),
            warnings: warnings.clone(),
            logged: false,
        };
        if report.plan.total() == 0 {
            report
                .warnings
                .push(format!("{}: nothing to delete", info.name.pretty()));
            return Ok(report);
        }
        if opts.force_permission && !opts.dry_run {
            report.access = Access::Forced;
            report.warnings.push(format!(
                "bypassing the permission check on {} (super delete)",
                info.name.pretty()
            ));
        } else {
            match check_permission(db, &info, &cond, &report.plan, opts.user.as_deref()) {
                Ok(p) => {
                    report.access = p.access;
                    report.user = p.user;
                    report.sessions = p.sessions;
                    report.warnings.extend(p.warnings);
                }
                Err(e) if opts.force_permission && is_refusal(&e) => {
                    report.access = Access::Forced;
                    report.warnings.push(format!(
                        "without force_permission this delete would be refused: {e}"
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        // lab members' accounts, admin flags and teams: admins only, super delete or not
        for (t, keys) in &report.plan.tables {
            crate::lab_admin::check_write(
                db,
                &*db.info(t)?,
                spyglass_db::WriteKind::Delete,
                keys,
                opts.user.as_deref(),
            )?;
        }
        if opts.dry_run {
            return Ok(report);
        }
        // the log needs a user: know it before deleting anything
        let user = match (&log_table, &report.user) {
            (None, _) => None,
            (Some(_), Some(u)) => Some(u.clone()),
            (Some(_), None) => Some(current_user(db, opts.user.as_deref())?),
        };
        report.deleted = crate::lab_admin::checked(db, || db.execute_delete(&report.plan))?;
        if let (Some(log), Some(user)) = (&log_table, user) {
            let restriction = format!(
                "{}{}",
                if opts.force_permission {
                    "Super delete: "
                } else {
                    ""
                },
                restriction_text(&cond)
            );
            insert_log(
                db,
                log,
                &user,
                started.elapsed().as_secs_f64(),
                &info.name.to_string(),
                &restriction,
                &report.deleted,
            )?;
            report.user = Some(user);
            report.logged = true;
        }
        Ok(report)
    };
    if opts.dry_run {
        run()
    } else {
        crate::transaction(db, run)
    }
}

/// The permission decision for one delete.
pub(crate) struct Permission {
    pub(crate) access: Access,
    pub(crate) user: Option<String>,
    pub(crate) sessions: Vec<Row>,
    pub(crate) warnings: Vec<String>,
}

/// Whether the user ([`current_user`] of `configured`) may change the data of session
/// `nwb_file_name`, by cautious delete's rule (an admin, or a LabTeam shared with every
/// experimenter of the session); the user's name, or a permission refusal naming `what`.
pub fn check_session_write(
    db: &Db,
    nwb_file_name: &str,
    configured: Option<&str>,
    what: &str,
) -> Result<String> {
    let sessions = db
        .table(SESSION)?
        .restrict(Cond::map([("nwb_file_name", Value::from(nwb_file_name))]))?
        .proj(Proj::key())?;
    let p = permission_for_sessions(db, Some(sessions), configured, what)?;
    match p.user {
        Some(u) => Ok(u),
        None => current_user(db, configured),
    }
}

/// True for errors that are permission refusals (as opposed to database failures).
pub fn is_refusal(e: &Error) -> bool {
    e.is_refusal()
}

/// A permission refusal of an operation on `table` asked by `user`.
pub(crate) fn refuse(table: &str, user: Option<&str>, reason: String) -> Error {
    Error::PermissionDenied {
        table: table.to_string(),
        user: user.map(str::to_string),
        reason,
    }
}

fn check_permission(
    db: &Db,
    info: &TableInfo,
    cond: &Cond,
    plan: &DeletePlan,
    configured: Option<&str>,
) -> Result<Permission> {
    let table = info.name.pretty();
    let member_table = info.heading.get(MEMBER_ATTR).is_some();
    let above = if member_table {
        None
    } else {
        sessions_above(db, info, cond.clone())?
    };
    // sessions owning any row the cascade deletes (e.g. Electrode rows of a Probe,
    // LFPV1 rows of a filter, Session rows of an Nwbfile or LabMember)
    let deleted = planned_sessions(db, plan, &info.name, member_table)?;
    let sessions = match (above, deleted) {
        (Some(a), Some(b)) => Some(
            db.table(SESSION)?
                .restrict(Cond::Or(vec![Cond::from(a), Cond::from(b)]))?
                .proj(Proj::key())?,
        ),
        (a, b) => a.or(b),
    };
    permission_for_sessions(db, sessions, configured, &table)
}

/// The permission decision once the sessions are known: admins may do anything; with
/// no session, allowed with a warning; otherwise every experimenter of the sessions
/// must share a team with the user's lab member.
pub(crate) fn permission_for_sessions(
    db: &Db,
    sessions: Option<Query>,
    configured: Option<&str>,
    table: &str,
) -> Result<Permission> {
    let Some(sessions) = sessions else {
        // no session to check: allowed with a warning (admins need none)
        let user = current_user(db, configured).ok();
        let admin = match &user {
            Some(u) => is_admin(db, u)?,
            None => false,
        };
        let warnings = if admin {
            Vec::new()
        } else {
            vec![format!(
                "could not find a lab team associated with {table}: be careful not to delete others' data"
            )]
        };
        return Ok(Permission {
            access: if admin {
                Access::Admin
            } else {
                Access::NoSession
            },
            user,
            sessions: Vec::new(),
            warnings,
        });
    };
    let user = current_user(db, configured)?;
    if is_admin(db, &user)? {
        return Ok(Permission {
            access: Access::Admin,
            user: Some(user),
            sessions: Vec::new(),
            warnings: Vec::new(),
        });
    }
    let session_info = db.table_info(SESSION)?;
    let session_pk = session_info.primary_key();
    let pk: Vec<&str> = session_pk.iter().map(String::as_str).collect();
    let session_keys = db.fetch_keys(&sessions)?;
    let experimenters = db.table(SESSION_EXPERIMENTER)?;

    // every session needs an experimenter
    let missing = sessions.exclude(experimenters.universal(&pk)?)?;
    let missing = db.fetch_keys(&missing)?;
    if !missing.is_empty() {
        return Err(refuse(table, Some(&user), format!(
            "user '{user}' cannot delete from {table}: session(s) {} have no experimenter in {SESSION_EXPERIMENTER}; add one (or ask an admin)",
            show_keys(&missing)
        )));
    }

    // the lab member the user is
    let infos = db.table(LAB_MEMBER_INFO)?.restrict(Cond::map([(
        "datajoint_user_name",
        Value::from(user.as_str()),
    )]))?;
    let members: Vec<String> = db
        .fetch(&infos)?
        .iter()
        .filter_map(|r| r.get(MEMBER_ATTR).map(Value::python_str))
        .collect();
    let member = match members.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(refuse(table, Some(&user), format!(
                "user '{user}' is no lab member: {LAB_MEMBER_INFO} has no datajoint_user_name '{user}'; add one to delete from {table}"
            )))
        }
        many => {
            return Err(refuse(table, Some(&user), format!(
                "user '{user}' is the datajoint_user_name of {} lab members ({}) in {LAB_MEMBER_INFO}; keep exactly one",
                many.len(),
                many.join(", ")
            )))
        }
    };

    // the lab members sharing a team with the user
    let team_member = db.table(LAB_TEAM_MEMBER)?;
    let my_teams = team_member
        .restrict(Cond::map([(MEMBER_ATTR, Value::from(member.as_str()))]))?
        .universal(&["team_name"])?;
    let mates_q = team_member.restrict(my_teams)?.universal(&[MEMBER_ATTR])?;
    let mates: BTreeSet<String> = db
        .fetch(&mates_q)?
        .iter()
        .filter_map(|r| r.get(MEMBER_ATTR).map(Value::python_str))
        .collect();

    // every experimenter of the sessions must be one of them
    let pairs = db.fetch(&experimenters.restrict(&sessions)?)?;
    let mut outside: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for r in &pairs {
        let name = r
            .get(MEMBER_ATTR)
            .map(Value::python_str)
            .unwrap_or_default();
        if !mates.contains(&name) {
            outside
                .entry(name)
                .or_default()
                .push(r.project(&session_pk));
        }
    }
    if !outside.is_empty() {
        let who = outside
            .iter()
            .map(|(name, keys)| format!("'{name}' (session(s) {})", show_keys(keys)))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(refuse(table, Some(&user), format!(
            "user '{user}' (lab member '{member}') is not on a team with {who}, experimenter(s) of the sessions of the rows to delete from {table}"
        )));
    }
    Ok(Permission {
        access: Access::TeamMember,
        user: Some(user),
        sessions: session_keys,
        warnings: Vec::new(),
    })
}

/// The `Session` rows owning any row the plan deletes (key only), when there are any:
/// the Session rows it deletes, and the sessions above every other deleted row (found
/// by cascading the planned keys up), wherever the delete started. The starting
/// table's own rows are left out when it holds `lab_member_name` (`skip_start`).
pub(crate) fn planned_sessions(
    db: &Db,
    plan: &DeletePlan,
    start: &FullName,
    skip_start: bool,
) -> Result<Option<Query>> {
    let Ok(session) = db.table_info(SESSION) else {
        return Ok(None);
    };
    let graph = db.graph()?;
    let leaves: Vec<(FullName, Vec<Row>)> = plan
        .tables
        .iter()
        .filter(|(t, keys)| {
            !(keys.is_empty() || skip_start && t == start)
                && (t == &session.name || graph.ancestors(t).contains(&session.name))
        })
        .map(|(t, keys)| (t.clone(), keys.clone()))
        .collect();
    drop(graph);
    if leaves.is_empty() {
        return Ok(None);
    }
    let slice = db.cascade_up_keys(&leaves)?;
    sessions_of_slice(&slice, &session)
}

/// The keys of the `Session` rows a cascaded slice holds, as a query (none: `None`).
pub(crate) fn sessions_of_slice(
    slice: &spyglass_db::slice::Slice,
    session: &spyglass_db::TableInfo,
) -> Result<Option<Query>> {
    let keys = slice.keys(&session.name);
    if keys.is_empty() {
        return Ok(None);
    }
    let any = Cond::Or(keys.iter().map(Cond::from).collect());
    Ok(Some(
        Query::table(session).restrict(any)?.proj(Proj::key())?,
    ))
}

/// The log table, declaring it when the database has the other usage tables.
pub(crate) fn log_table(db: &Db, warnings: &mut Vec<String>) -> Option<FullName> {
    if let Ok(info) = db.table_info(CAUTIOUS_DELETE) {
        return Some(info.name.clone());
    }
    // a Spyglass database without the table (declared by an older version): add it
    if db.table_info(SESSION).is_err() {
        return None;
    }
    let declared = usage_specs()
        .into_iter()
        .find(|s| s.definition == CAUTIOUS_DELETE_DEFINITION)
        .map(|spec| db.declare(USAGE_SCHEMA, &spec));
    match declared {
        Some(Ok(_)) => db.table_info(CAUTIOUS_DELETE).ok().map(|i| i.name.clone()),
        Some(Err(e)) => {
            warnings.push(format!(
                "{CAUTIOUS_DELETE} could not be declared ({e}); this delete is not logged"
            ));
            None
        }
        None => None,
    }
}

/// Writes the log row (inside the delete's transaction).
pub(crate) fn insert_log(
    db: &Db,
    log: &FullName,
    user: &str,
    duration: f64,
    origin: &str,
    restriction: &str,
    deleted: &[(FullName, u64)],
) -> Result<()> {
    let counts = spyglass_blob::Value::Dict(
        deleted
            .iter()
            .map(|(t, n)| {
                (
                    spyglass_blob::Value::Str(t.to_string()),
                    spyglass_blob::Value::Int(*n as i128),
                )
            })
            .collect(),
    );
    let row = |restriction: String| {
        Row::from_pairs([
            ("dj_user", Value::from(truncate(user, NAME_LEN))),
            ("duration", Value::Float(duration)),
            ("origin", Value::from(truncate(origin, NAME_LEN))),
            ("restriction", Value::from(restriction)),
            ("merge_deletes", Value::from(counts.clone())),
        ])
    };
    let table = log.pretty();
    let first = db.insert1(
        &table,
        row(truncate(restriction, RESTRICTION_LEN)),
        Default::default(),
    );
    if first.is_ok() {
        return Ok(());
    }
    // a server whose character set cannot hold the text: fall back to ASCII, as
    // Spyglass falls back when the restriction does not fit
    let ascii: String = restriction
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect();
    let ascii = if ascii.chars().count() > RESTRICTION_LEN {
        format!(
            "{}...",
            ascii.chars().take(RESTRICTION_LEN - 3).collect::<String>()
        )
    } else {
        ascii
    };
    db.insert1(&table, row(ascii), Default::default())?;
    Ok(())
}

/// `s` cut to `max` characters, the last one `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

/// A restriction as text, in DataJoint's style (`None` when there is none).
pub fn restriction_text(cond: &Cond) -> String {
    let t = cond_text(cond);
    if t.is_empty() {
        "None".into()
    } else {
        t
    }
}

fn cond_text(cond: &Cond) -> String {
    match cond {
        Cond::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| match v {
                Value::Null => format!("(`{k}` IS NULL)"),
                Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_) => {
                    format!("(`{k}`={})", v.python_str())
                }
                other => format!("(`{k}`=\"{}\")", other.python_str()),
            })
            .collect::<Vec<_>>()
            .join(" AND "),
        Cond::Sql(s) => format!("({s})"),
        Cond::And(items) => items
            .iter()
            .map(cond_text)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" AND "),
        Cond::Or(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|c| match cond_text(c) {
                    t if t.is_empty() => "TRUE".to_string(),
                    t => t,
                })
                .collect();
            if parts.is_empty() {
                "FALSE".into()
            } else {
                format!("({})", parts.join(" OR "))
            }
        }
        Cond::Not(inner) => format!("NOT ({})", restriction_text(inner)),
        Cond::Query(q) => format!("(in {})", q.label()),
        Cond::Bool(true) => String::new(),
        Cond::Bool(false) => "FALSE".into(),
    }
}

/// Keys as `a, b, c` (single-attribute keys by value), at most [`SHOWN`] of them.
fn show_keys(keys: &[Row]) -> String {
    let one = |r: &Row| {
        if r.columns().len() == 1 {
            r.values()
                .first()
                .map(Value::python_str)
                .unwrap_or_default()
        } else {
            r.iter()
                .map(|(k, v)| format!("{k}={}", v.python_str()))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let mut out: Vec<String> = keys.iter().take(SHOWN).map(one).collect();
    if keys.len() > SHOWN {
        out.push(format!("and {} more", keys.len() - SHOWN));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_read_like_datajoint() {
        let c = Cond::And(vec![
            Cond::map([("nwb_file_name", Value::from("a_.nwb"))]),
            Cond::sql("rec_id > 1"),
        ]);
        assert_eq!(
            restriction_text(&c),
            "(`nwb_file_name`=\"a_.nwb\") AND (rec_id > 1)"
        );
        assert_eq!(restriction_text(&Cond::And(vec![])), "None");
        assert_eq!(
            restriction_text(&Cond::map([("rec_id", 3)])),
            "(`rec_id`=3)"
        );
    }

    #[test]
    fn long_text_is_cut_with_a_marker() {
        let s = "x".repeat(300);
        let t = truncate(&s, 255);
        assert_eq!(t.chars().count(), 255);
        assert!(t.ends_with("x…"));
        assert_eq!(truncate("short", 255), "short");
        assert_eq!(truncate(&"y".repeat(255), 255), "y".repeat(255));
    }
}
