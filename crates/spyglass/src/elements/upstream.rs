//! `lab`, `subject`, `session`: the upstream tables element-array-ephys's
//! `ephys_chronic` refers to, declared as element-lab 0.3 / element-animal 0.1 /
//! element-session 0.1 (`session_with_datetime`) and the element workflows declare
//! them: `SkullReference` (the workflows' Lookup in the lab schema, rows Bregma and
//! Lambda), `Subject` (element-animal's master table; its optional part tables,
//! which need the lab's Source/Protocol/User/Line/Strain lookups, are not declared
//! here) and `Session` with `SessionDirectory`.

use crate::kit::prelude::*;

/// The lab schema.
pub const LAB: &str = "lab";
/// The subject schema.
pub const SUBJECT_SCHEMA: &str = "subject";
/// The session schema.
pub const SESSION_SCHEMA: &str = "session";
/// `lab.SkullReference` (Lookup).
pub const SKULL_REFERENCE: &str = "lab.SkullReference";
/// `subject.Subject` (Manual).
pub const SUBJECT: &str = "subject.Subject";
/// `session.Session` (Manual).
pub const SESSION: &str = "session.Session";
/// `session.SessionDirectory` (Manual).
pub const SESSION_DIRECTORY: &str = "session.SessionDirectory";
/// The pipeline's name.
pub const NAME: &str = "element_upstream";

/// The element upstream pipeline.
pub struct ElementUpstream;

impl Pipeline for ElementUpstream {
    identity!(NAME);
    provides! {
        defaults: Defaults::rows(SKULL_REFERENCE, insert_defaults);
    }
    fn schemas(&self) -> Vec<Schema> {
        vec![
            Schema {
                name: LAB,
                tables: vec![TableSpec::new(
                    "SkullReference",
                    Tier::Lookup,
                    "skull_reference   : varchar(60)",
                )],
            },
            Schema {
                name: SUBJECT_SCHEMA,
                tables: vec![TableSpec::new(
                    "Subject",
                    Tier::Manual,
                    "subject                 : varchar(8)
---
subject_nickname=''     : varchar(64)
sex                     : enum('M', 'F', 'U')
subject_birth_date      : date
subject_description=''  : varchar(1024)",
                )],
            },
            Schema {
                name: SESSION_SCHEMA,
                tables: vec![
                    TableSpec::new(
                        "Session",
                        Tier::Manual,
                        "-> subject.Subject
session_datetime: datetime",
                    ),
                    TableSpec::new(
                        "SessionDirectory",
                        Tier::Manual,
                        "-> Session
---
session_dir: varchar(256) # Path to the data directory for a session",
                    ),
                ],
            },
        ]
    }
}

/// The workflows' SkullReference rows, Bregma and Lambda (skipping present ones).
pub fn insert_defaults(db: &Db) -> Result<usize> {
    crate::pipelines::declare(db, &[NAME])?;
    let rows: Vec<Row> = ["Bregma", "Lambda"]
        .iter()
        .map(|r| Row::from_pairs([("skull_reference", *r)]))
        .collect();
    let skip = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    Ok(db.insert(SKULL_REFERENCE, &rows, skip)? as usize)
}
