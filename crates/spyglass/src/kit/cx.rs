//! [`Cx`]: what a make's phases work with — the database and the directory layout;
//! [`Tables`]: typed fetch and insert, merge insert, IntervalList rows and analysis
//! file registration on any database handle; [`analysis_file`] writes one.

use crate::analysis::{AnalysisFile, PendingFile};
use crate::common::common_interval::{self as iv, IntervalList};
use crate::error::{Error, Result};
use crate::settings::Settings;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use spyglass_db::{Cond, Db, InsertOptions, Row, Value};
use spyglass_dsp::Intervals;
use spyglass_nwb::AnalysisFileWriter;
use std::path::Path;

/// A typed key as text for messages (`{"nwb_file_name":"a_.nwb",...}`).
pub fn key_text<K: Serialize>(key: &K) -> String {
    serde_json::to_string(key).unwrap_or_else(|e| format!("<key: {e}>"))
}

/// What a compute phase that wrote one analysis file hands to its insert phase:
/// the file (registered on insert) and the object id(s) in it.
pub type Written<T = String> = (PendingFile, T);

/// The database and the directory layout a make works with.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    /// The database.
    pub db: &'a Db,
    /// The directory layout.
    pub settings: &'a Settings,
}

/// The restriction to one session, the commonest key of all.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Session<'a> {
    /// The session.
    pub nwb_file_name: &'a str,
}

/// A key with more attributes, as one row: a part row is its master's key `With`
/// its own attributes (`With { key: &selection_key, attrs: electrode }`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct With<K, A> {
    /// The key's attributes.
    #[serde(flatten)]
    pub key: K,
    /// The other attributes.
    #[serde(flatten)]
    pub attrs: A,
}

/// A serializable struct (or map) as attribute/value pairs.
pub fn row_of<T: Serialize + ?Sized>(what: &str, item: &T) -> Result<Row> {
    match serde_json::to_value(item) {
        Ok(serde_json::Value::Object(map)) => Ok(Row::from_pairs(
            map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))),
        )),
        Ok(other) => Err(Error::internal(
            what,
            format!("a struct is needed, not {other}"),
        )),
        Err(e) => Err(Error::internal(what, e.to_string())),
    }
}

impl<'a> Cx<'a> {
    /// A context over `db` writing under `settings`.
    pub fn new(db: &'a Db, settings: &'a Settings) -> Cx<'a> {
        Cx { db, settings }
    }
}

/// Typed reads and writes on the database, for every pipeline: rows as structs,
/// restrictions as key structs, merge inserts, IntervalList rows, analysis files.
pub trait Tables {
    /// The database.
    fn db(&self) -> &Db;

    /// The rows of `table` matching every field of `restriction` (a key struct).
    fn rows<T: DeserializeOwned>(
        &self,
        table: &str,
        restriction: &(impl Serialize + ?Sized),
    ) -> Result<Vec<T>> {
        let db = self.db();
        let cond = Cond::from(&row_of(table, restriction)?);
        Ok(db.fetch_as(&db.table(table)?.restrict(cond)?)?)
    }

    /// The one row of `table` matching `key`; an error naming the table and key when
    /// there is none or more than one.
    fn row<T: DeserializeOwned>(&self, table: &str, key: &(impl Serialize + ?Sized)) -> Result<T> {
        let mut rows = self.rows(table, key)?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(Error::conflict(
                table,
                format!(
                    "{n} rows match {} (one expected)",
                    row_of(table, key)?.to_json()
                ),
            )),
        }
    }

    /// Inserts one row from a struct.
    fn put<T: Serialize>(&self, table: &str, row: &T) -> Result<()> {
        let one = std::slice::from_ref(row);
        self.db()
            .insert_serde(table, one, InsertOptions::default())?;
        Ok(())
    }

    /// Inserts rows from structs, skipping those whose key exists; returns how many
    /// were inserted.
    fn put_new<T: Serialize>(&self, table: &str, rows: &[T]) -> Result<u64> {
        let skip = InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        };
        Ok(self.db().insert_serde(table, rows, skip)?)
    }

    /// Inserts a master row and its part rows in one transaction, skipping rows
    /// whose key exists (a selection with its parts).
    fn put_new_with_parts<M: Serialize, P: Serialize>(
        &self,
        (master, row): (&str, &M),
        (part, parts): (&str, &[P]),
    ) -> Result<()> {
        crate::transaction(self.db(), || {
            self.put_new(master, std::slice::from_ref(row))?;
            self.put_new(part, parts)?;
            Ok(())
        })
    }

    /// Inserts a selection row of `table` (skipped when present), declaring the
    /// pipeline of the table's schema first.
    fn select_new<T: Serialize>(&self, table: &str, row: &T) -> Result<()> {
        crate::pipelines::declare(self.db(), &[table.split('.').next().unwrap_or(table)])?;
        self.put_new(table, std::slice::from_ref(row))?;
        Ok(())
    }

    /// Adds the row of a source table (by its key) to merge table `master`; returns
    /// its merge id.
    fn merge_add(&self, master: &str, source_key: &(impl Serialize + ?Sized)) -> Result<Value> {
        let db = self.db();
        let m = db.merge(master)?;
        let ids = Db::merge_insert(db, &m, &[row_of(master, source_key)?])?;
        let id = ids
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal(master, "no row was merged"))?;
        Ok(Value::Uuid(id))
    }

    /// Records an IntervalList row made by `pipeline`.
    fn interval_list(
        &self,
        nwb_file_name: &str,
        interval_list_name: &str,
        pipeline: &str,
        times: Intervals,
    ) -> Result<()> {
        iv::insert(
            self.db(),
            &IntervalList::new(nwb_file_name, interval_list_name, times.into_vec())
                .with_pipeline(pipeline),
            false,
        )?;
        Ok(())
    }

    /// Registers an analysis file written in a compute phase; returns its name.
    fn register(&self, file: PendingFile) -> Result<String> {
        file.register(self.db())
    }

    /// Registers the analysis file of `written` and inserts into `table` the row
    /// `row` makes of the file's name and the object ids.
    fn put_written<T, R: Serialize>(
        &self,
        table: &str,
        (file, ids): Written<T>,
        row: impl FnOnce(String, T) -> R,
    ) -> Result<()> {
        let analysis_file_name = self.register(file)?;
        self.put(table, &row(analysis_file_name, ids))
    }
}

impl Tables for Db {
    fn db(&self) -> &Db {
        self
    }
}

/// Writes an analysis file of session `nwb_file_name` from its `_` copy at `parent`
/// (compute phase, no database): `fill` adds the objects and returns what the caller
/// needs (object ids). The file is removed again unless [`Tables::register`] keeps it.
pub fn analysis_file<T>(
    settings: &Settings,
    nwb_file_name: &str,
    parent: &Path,
    description: &str,
    fill: impl FnOnce(&mut AnalysisFileWriter) -> Result<T>,
) -> Result<(PendingFile, T)> {
    analysis_file_beside(
        settings,
        nwb_file_name,
        parent,
        description,
        || Ok(()),
        |w, ()| fill(w),
    )
}

/// [`analysis_file`] with the new file's copy of the parent made on a second thread
/// while `work` (the make's reading and computing) runs on this one; `fill` then gets
/// `work`'s result. HDF5 calls take turns under the library's lock, so `work` gains
/// most when it only computes (read its input before). The file is removed if either
/// fails.
pub fn analysis_file_beside<U, T>(
    settings: &Settings,
    nwb_file_name: &str,
    parent: &Path,
    description: &str,
    work: impl FnOnce() -> Result<U>,
    fill: impl FnOnce(&mut AnalysisFileWriter, U) -> Result<T>,
) -> Result<(PendingFile, T)> {
    let full = |e| crate::analysis::explain_full_disk(settings, e);
    // `work` stays on this thread, whose allocator memory is warm
    let (created, worked) = std::thread::scope(|s| {
        let create = s.spawn(|| {
            let f = AnalysisFile::create_detached(settings, nwb_file_name, parent)?;
            let pending = PendingFile::new(&f, description);
            Ok::<_, Error>((f, pending))
        });
        let worked = work();
        let created = create
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (created, worked)
    });
    let (mut f, mut pending) = created.map_err(full)?;
    let out = fill(f.writer(), worked?).map_err(full)?;
    f.finish().map_err(full)?;
    pending.hash_ahead();
    Ok((pending, out))
}

/// Inserts a named parameter set stored as one blob of its JSON dict (Spyglass's
/// parameter lookups: the name attribute, then the blob attribute); with `skip`,
/// an existing name is left as it is. Returns the rows inserted (0 or 1).
pub fn insert_param_dict(
    db: &Db,
    table: &str,
    (name_attr, name): (&str, &str),
    blob_attr: &str,
    dict: &serde_json::Value,
    skip: bool,
) -> Result<u64> {
    let row = Row::from_pairs([
        (name_attr, Value::from(name)),
        (blob_attr, Value::from(spyglass_blob::from_json(dict))),
    ]);
    let opts = spyglass_db::InsertOptions {
        skip_duplicates: skip,
        ..Default::default()
    };
    Ok(db.insert1(table, row, opts)?)
}
