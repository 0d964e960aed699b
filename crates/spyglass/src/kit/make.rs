//! [`Make`]: a typed three-phase make, and [`Made`], its adapter to the engine.
//!
//! The key arrives as the table's key struct; the inputs read in phase 1 are a
//! serializable struct whose serialization the engine hashes into the fingerprint
//! it compares again inside the insert transaction (as datajoint-python's
//! `make_fetch` hash); phase 2 computes with no database; phase 3 inserts.

use super::cx::Cx;
use crate::error::{Error, Result};
use crate::settings::Settings;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spyglass_db::populate::{MakeResult, Maker, Tripartite, TripartiteMake};
use spyglass_db::{Db, Row};
use std::sync::Arc;

/// A table's make in three phases, with typed key, inputs and output.
pub trait Make: Send + Sync + 'static {
    /// The table (`schema.Class`), for messages.
    const TABLE: &'static str;
    /// The table's primary key.
    type Key: DeserializeOwned + Send;
    /// What phase 1 reads; its serialization is the fingerprint.
    type Inputs: Serialize + Send;
    /// What phase 2 produces.
    type Output: Send;

    /// Phase 1, outside any transaction: read the inputs.
    fn fetch(&self, cx: &Cx, key: &Self::Key) -> Result<Self::Inputs>;
    /// Phase 2, no database: compute (write files under `settings`).
    fn compute(
        &self,
        settings: &Settings,
        key: &Self::Key,
        inputs: Self::Inputs,
    ) -> Result<Self::Output>;
    /// Phase 3, in the key's transaction: register files and insert rows.
    fn insert(&self, cx: &Cx, key: &Self::Key, output: Self::Output) -> Result<()>;
}

/// A [`Make`] with the directory layout it writes into, as the engine runs it.
pub struct Made<M: Make> {
    make: M,
    settings: Settings,
}

impl<M: Make> Made<M> {
    /// The engine's maker for `make`, writing under `settings`.
    pub fn maker(make: M, settings: &Settings) -> Arc<dyn Maker> {
        Arc::new(Tripartite(Made {
            make,
            settings: settings.clone(),
        }))
    }

    fn key(key: &Row) -> Result<M::Key> {
        serde_json::from_value(key.to_json())
            .map_err(|e| Error::internal(M::TABLE, format!("key {}: {e}", key.to_json())))
    }
}

impl<M: Make> TripartiteMake for Made<M> {
    type Fetched = M::Inputs;
    type Computed = M::Output;

    fn make_fetch(&self, db: &Db, key: &Row) -> MakeResult<M::Inputs> {
        Ok(self
            .make
            .fetch(&Cx::new(db, &self.settings), &Self::key(key)?)?)
    }

    fn fingerprint(&self, fetched: &M::Inputs) -> Vec<u8> {
        spyglass_db::populate::fingerprint(fetched)
    }

    fn make_compute(&self, key: &Row, fetched: M::Inputs) -> MakeResult<M::Output> {
        Ok(self
            .make
            .compute(&self.settings, &Self::key(key)?, fetched)?)
    }

    fn make_insert(&self, db: &Db, key: &Row, computed: M::Output) -> MakeResult<()> {
        Ok(self
            .make
            .insert(&Cx::new(db, &self.settings), &Self::key(key)?, computed)?)
    }
}
