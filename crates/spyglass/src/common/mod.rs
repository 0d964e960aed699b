//! The common schemas, one module per Spyglass module (`common_session.py` →
//! [`common_session`], ...). Schema names, class names and definitions follow
//! Spyglass, so that the stored tables (`common_session._session`,
//! `common_ephys._electrode`, `common_region.#brain_region`, ...) line up with a
//! lab's existing database. [`declare_common`] declares all of them, idempotently.

pub mod common_behav;
pub mod common_device;
pub mod common_dio;
pub mod common_ephys;
pub mod common_interval;
pub mod common_lab;
pub mod common_nwbfile;
pub mod common_region;
pub mod common_sensors;
pub mod common_session;
pub mod common_subject;
pub mod common_task;
pub mod common_usage;
pub mod ephys_series;
pub mod spikesorting_imported;

use crate::error::Result;
use spyglass_db::{Db, TableSpec};

/// Every common schema with its tables, in dependency order.
pub fn schemas() -> Vec<(&'static str, Vec<TableSpec>)> {
    vec![
        (common_nwbfile::SCHEMA, common_nwbfile::specs()),
        (common_lab::SCHEMA, common_lab::specs()),
        (common_subject::SCHEMA, common_subject::specs()),
        (common_device::SCHEMA, common_device::specs()),
        (common_region::SCHEMA, common_region::specs()),
        (common_session::SCHEMA, common_session::specs()),
        (common_interval::SCHEMA, common_interval::specs()),
        (common_ephys::SCHEMA, common_ephys::specs()),
        (common_task::SCHEMA, common_task::specs()),
        (common_behav::SCHEMA, common_behav::specs()),
        (common_dio::SCHEMA, common_dio::specs()),
        (common_sensors::SCHEMA, common_sensors::specs()),
        (common_usage::SCHEMA, common_usage::specs()),
        (crate::export::SCHEMA, crate::export::specs()),
    ]
}

/// Declares every common table (a no-op for tables that already exist with the same definition).
pub fn declare_common(db: &Db) -> Result<()> {
    crate::pipelines::declare(db, &["common"])
}

/// The `common` pipeline: Spyglass's common schemas, filled by ingestion.
pub struct Common;

impl crate::kit::Pipeline for Common {
    fn name(&self) -> &'static str {
        "common"
    }
    fn schemas(&self) -> Vec<crate::kit::Schema> {
        let mut all = schemas();
        all.push((ephys_series::SCHEMA, ephys_series::specs()));
        all.push((
            spikesorting_imported::SCHEMA,
            spikesorting_imported::specs(),
        ));
        all.into_iter()
            .map(|(name, tables)| crate::kit::Schema { name, tables })
            .collect()
    }
}

/// The full `schema.Class` (or `schema.Master.Part`) name of a common table given by
/// its Spyglass class name (`Session`, `Probe.Electrode`, ...), as `entries.yaml` names them.
pub fn resolve_class(class_name: &str) -> Option<String> {
    let class_name = class_name.trim();
    for (schema, specs) in schemas() {
        for s in &specs {
            if s.class_name == class_name {
                return Some(format!("{schema}.{}", s.class_name));
            }
            for p in &s.parts {
                if format!("{}.{}", s.class_name, p.class_name) == class_name {
                    return Some(format!("{schema}.{class_name}"));
                }
            }
        }
    }
    None
}
