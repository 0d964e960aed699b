//! DataJoint's elements as the Brody lab runs them (spyglass-model.md §10): the
//! upstream tables of element-lab / element-animal / element-session that
//! element-array-ephys needs ([`upstream`]: `lab.SkullReference`, `subject.Subject`,
//! `session.Session`, `session.SessionDirectory`), and element-array-ephys 0.3.8's
//! `probe` and `ephys_chronic` schemas ([`ephys_chronic`]) with Kilosort-folder
//! ingestion. Schema names take the project's prefix (`custom.database.prefix` of
//! `dj_local_conf.json`, e.g. `bl_new_ephys`).
//!
//! These pipelines are opt-in (declared when used, not by `declare_all`): their class
//! names (Session, Subject, Probe, LFP) repeat Spyglass's.

crate::kit::family! {
    upstream => ElementUpstream,
    ephys_chronic => ElementEphysChronic,
}
