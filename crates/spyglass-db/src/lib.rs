//! spyglass-db: a relational pipeline engine in the DataJoint 0.14 model.
//!
//! Tables are declared in DataJoint's definition language, arranged in tiers and
//! linked by foreign keys; rows are inserted and queried with DataJoint's small
//! relational algebra; blobs are DataJoint blobs. The same engine runs on an
//! embedded SQLite file and on MySQL/MariaDB with DataJoint's exact layout.
//!
//! ```no_run
//! use spyglass_db::{Db, TableSpec, Tier, Row, Cond, Value};
//! let db = Db::open("sqlite:///demo.db")?;
//! db.declare("lab", &TableSpec::new("Mouse", Tier::Manual, "mouse_id : int\n---\nsex : enum('M','F')"))?;
//! db.insert("lab.Mouse", &[Row::from_pairs([("mouse_id", Value::from(1)), ("sex", Value::from("F"))])], Default::default())?;
//! let females = db.table("lab.Mouse")?.restrict(Cond::map([("sex", "F")]))?;
//! assert_eq!(db.count(&females)?, 1);
//! # Ok::<(), spyglass_db::Error>(())
//! ```

pub mod backend;
pub mod catalog;
pub mod config;
pub mod dburl;
pub mod declare;
pub mod delete;
pub mod diagram;
pub mod dialect;
pub mod error;
pub mod fetch;
pub mod fingerprint;
pub mod graph;
pub mod hash;
pub mod heading;
pub mod insert;
pub mod jobs;
pub mod merge;
pub mod naming;
pub mod populate;
pub mod query;
pub mod references;
pub mod slice;
pub mod stores;
pub mod transfer;
pub mod types;
pub mod value;

mod db;

pub use db::{
    Db, Declared, FetchObserver, PartSpec, TableSpec, WriteGuard, WriteKind, LOG_VERSION,
};
pub use error::{Error, Result};
pub use fetch::FetchSpec;
pub use hash::{key_hash, key_hash_uuid};
pub use heading::{Attribute, ForeignKey, Heading, TableInfo};
pub use insert::InsertOptions;
pub use naming::{FullName, Tier};
pub use query::{Cond, Proj, Query};
pub use types::AttrType;
pub use value::{Row, SqlValue, Value};
