//! Cautious drop: dropping a table (with its parts and dependents) or a schema is
//! checked like a delete of all their rows, and logged. A non-admin may drop tables
//! whose rows all belong to sessions of their teams (found by cascading every row up
//! to `Session`, as cautious delete does); lab-member and team rows are admin-only
//! ([`crate::lab_admin`]). A drop that would leave a master's rows without their part
//! (a merge part such as `LFPOutput.LFPV1` when dropping `LFPV1`) is refused, as
//! datajoint-python refuses it: drop the master, or delete those rows first. The log
//! row goes to `common_usage.CautiousDelete` before the drop, with the restriction
//! `Drop: <tables>` and the rows per table in `merge_deletes`.

use crate::cautious_delete::{
    insert_log, log_table, permission_for_sessions, refuse, Access, CautiousDeleteOptions,
};
use crate::common::common_session::SESSION;
use crate::error::{Error, Result};
use spyglass_db::{Cond, Db, FullName, Query, WriteKind};
use std::time::Instant;

/// What a cautious drop did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct DropReport {
    /// Tables dropped (or to drop) with their row counts, parents first.
    pub tables: Vec<(FullName, u64)>,
    /// The user, when known.
    pub user: Option<String>,
    /// How the drop was allowed.
    pub access: Access,
    /// Warnings to show the user.
    pub warnings: Vec<String>,
    /// A row was written to `common_usage.CautiousDelete`.
    pub logged: bool,
}

/// The tables a drop of `table` (or of `schema`) removes, with their row counts,
/// refused when a master outside the drop would keep rows whose part is dropped.
pub fn plan_drop(
    db: &Db,
    table: Option<&str>,
    schema: Option<&str>,
) -> Result<Vec<(FullName, u64)>> {
    let plan = match (table, schema) {
        (_, Some(s)) => db.plan_drop_schema(s)?,
        (Some(t), None) => db.plan_drop_table(t)?,
        (None, None) => return Err(Error::bad("drop", "name a table or a schema to drop")),
    };
    let graph = db.graph()?;
    for (t, n) in &plan {
        let Some(master) = graph.master(t) else {
            continue;
        };
        if *n > 0 && !plan.iter().any(|(p, _)| p == &master) {
            return Err(refuse(
                &t.pretty(),
                None,
                format!(
                    "dropping {} would leave {} rows of {} without their part ({n} rows): \
                 drop {} itself, or delete those rows first (`spyglass delete {}` takes \
                 their {} rows with them)",
                    t.pretty(),
                    n,
                    master.pretty(),
                    master.pretty(),
                    t.pretty(),
                    master.pretty()
                ),
            ));
        }
    }
    Ok(plan)
}

/// Every `Session` row owning a row of the planned tables (key only), if any.
fn owning_sessions(db: &Db, plan: &[(FullName, u64)]) -> Result<Option<Query>> {
    let Ok(session) = db.table_info(SESSION) else {
        return Ok(None);
    };
    let graph = db.graph()?;
    let leaves: Vec<(FullName, Cond)> = plan
        .iter()
        .filter(|(t, n)| {
            *n > 0 && (t == &session.name || graph.ancestors(t).contains(&session.name))
        })
        .map(|(t, _)| (t.clone(), Cond::And(Vec::new())))
        .collect();
    drop(graph);
    if leaves.is_empty() {
        return Ok(None);
    }
    let slice = db.cascade_up(&leaves)?;
    crate::cautious_delete::sessions_of_slice(&slice, &session)
}

/// Checks, logs and (unless `opts.dry_run`) drops `table` or `schema`. Uses `opts.user`
/// (SQLite) and `opts.dry_run`; a drop is never forced past the check.
pub fn cautious_drop(
    db: &Db,
    table: Option<&str>,
    schema: Option<&str>,
    opts: &CautiousDeleteOptions,
) -> Result<DropReport> {
    let started = Instant::now();
    let plan = plan_drop(db, table, schema)?;
    let label = match (table, schema) {
        (_, Some(s)) => format!("schema {}", db.schema_name(s)),
        (Some(t), None) => db.table_info(t)?.name.pretty(),
        (None, None) => String::new(),
    };
    let sessions = owning_sessions(db, &plan)?;
    let permission = permission_for_sessions(db, sessions, opts.user.as_deref(), &label)?;
    // lab members' accounts and teams: admins only
    for (t, n) in &plan {
        if *n == 0 {
            continue;
        }
        let info = db.info(t)?;
        if [
            crate::common::common_lab::LAB_MEMBER_INFO,
            crate::common::common_lab::LAB_TEAM,
            crate::common::common_lab::LAB_TEAM_MEMBER,
        ]
        .iter()
        .any(|g| db.table_info(g).is_ok_and(|i| i.name == info.name))
        {
            let keys = db.fetch_keys(&db.query_of(t)?)?;
            crate::lab_admin::check_write(
                db,
                &info,
                WriteKind::Delete,
                &keys,
                opts.user.as_deref(),
            )?;
        }
    }
    let mut report = DropReport {
        tables: plan.clone(),
        user: permission.user,
        access: permission.access,
        warnings: permission.warnings,
        logged: false,
    };
    if opts.dry_run {
        return Ok(report);
    }
    let mut warnings = Vec::new();
    if let Some(log) = log_table(db, &mut warnings) {
        let user = match &report.user {
            Some(u) => u.clone(),
            None => crate::cautious_delete::current_user(db, opts.user.as_deref())?,
        };
        let names: Vec<String> = plan.iter().map(|(t, _)| t.pretty()).collect();
        insert_log(
            db,
            &log,
            &user,
            started.elapsed().as_secs_f64(),
            &label,
            &format!("Drop: {}", names.join(", ")),
            &plan,
        )?;
        report.user = Some(user);
        report.logged = true;
    }
    report.warnings.extend(warnings);
    crate::lab_admin::checked(db, || match schema {
        Some(s) => db.drop_schema(s),
        None => db.drop_tables(&plan),
    })?;
    Ok(report)
}
