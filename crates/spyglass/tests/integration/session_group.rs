//! Session groups: add a group, add and remove sessions, list, update the description.

use crate::common;

use common::*;
use spyglass::session_group as sg;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};

#[test]
fn session_groups_collect_sessions() {
    let env = Env::new();
    let mut files = vec![];
    for k in 0..3 {
        let src = env.staging().join(format!("grp{k}.nwb"));
        let p = SyntheticParams {
            duration_s: 1.0,
            n_channels: 2,
            n_groups: 1,
            n_units: 0,
            seed: k,
            ..SyntheticParams::default()
        };
        write_session(&src, &p).unwrap();
        files.push(src);
    }
    assert!(env.insert(&files).iter().all(|r| r.is_ok()));
    sg::add_group(&env.db, "ca1 sleep", "sleep sessions").unwrap();
    assert!(sg::add_group(&env.db, "ca1 sleep", "again").is_err());
    sg::add_session(&env.db, "ca1 sleep", "grp0_.nwb").unwrap();
    sg::add_session(&env.db, "ca1 sleep", "grp2_.nwb").unwrap();
    sg::add_session(&env.db, "ca1 sleep", "grp2_.nwb").unwrap(); // already a member: no-op
    assert!(sg::add_session(&env.db, "ca1 sleep", "nosuch_.nwb").is_err());
    assert!(sg::add_session(&env.db, "no group", "grp0_.nwb")
        .unwrap_err()
        .to_string()
        .contains("no row with session_group_name = `no group`"));
    assert_eq!(
        sg::group_sessions(&env.db, "ca1 sleep").unwrap(),
        ["grp0_.nwb", "grp2_.nwb"]
    );
    sg::update_description(&env.db, "ca1 sleep", "all CA1 sleep").unwrap();
    sg::add_group(&env.db, "empty", "").unwrap();
    let groups = sg::list_groups(&env.db).unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        (
            groups[0].name.as_str(),
            groups[0].description.as_str(),
            groups[0].sessions.len()
        ),
        ("ca1 sleep", "all CA1 sleep", 2)
    );
    assert!(groups[1].sessions.is_empty());
    assert!(sg::remove_session(&env.db, "ca1 sleep", "grp0_.nwb").unwrap());
    assert!(!sg::remove_session(&env.db, "ca1 sleep", "grp0_.nwb").unwrap());
    assert_eq!(
        sg::group_sessions(&env.db, "ca1 sleep").unwrap(),
        ["grp2_.nwb"]
    );
    sg::delete_group(&env.db, "ca1 sleep").unwrap();
    assert_eq!(sg::list_groups(&env.db).unwrap().len(), 1);
    assert_eq!(env.count("common_session.SessionGroupSession"), 0);
    assert_eq!(env.count("common_session.Session"), 3);
}
