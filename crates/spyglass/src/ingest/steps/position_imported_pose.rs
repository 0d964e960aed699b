//! Ingest step of `position_v1_imported_pose`: each ndx-pose PoseEstimation of the
//! file as an ImportedPose row with its body parts and valid times (G3, as
//! Spyglass's `populate_all_common` inserts ImportedPose).

use super::{Ctx, Mode};
use crate::common::common_interval::IntervalList;
use crate::error::Result;
use crate::position::imported_pose::{self as ip, ImportedPoseKey};
use spyglass_db::Value;

/// One ImportedPose row per PoseEstimation (a container the row cannot describe,
/// such as an ndx-pose 0.1 one without a Skeleton, is reported and skipped).
pub(super) fn imported_pose(cx: &mut Ctx) -> Result<()> {
    for pe in &cx.src.pose {
        let key = ImportedPoseKey {
            nwb_file_name: cx.nwb_file_name.clone(),
            interval_list_name: ip::interval_name(&pe.name),
        };
        let (valid, row, parts) = match ip::entries(&key, pe) {
            Ok(e) => e,
            Err(e) => {
                cx.warn(ip::IMPORTED_POSE, format!("not imported: {e}"));
                continue;
            }
        };
        let list = IntervalList::new(
            &key.nwb_file_name,
            &key.interval_list_name,
            valid.into_vec(),
        );
        cx.interval(list.with_pipeline(ip::PIPELINE), false)?;
        let interval = Value::from(key.interval_list_name.as_str());
        let mut master = cx.base();
        master.insert("interval_list_name".into(), interval.clone());
        master.insert("pose_object_id".into(), Value::from(row.pose_object_id));
        master.insert(
            "skeleton_object_id".into(),
            Value::from(row.skeleton_object_id),
        );
        cx.put(ip::IMPORTED_POSE, vec![master], Mode::Fresh)?;
        let parts = parts.into_iter().map(|p| {
            let mut r = cx.base();
            r.insert("interval_list_name".into(), interval.clone());
            r.insert("part_name".into(), Value::from(p.part_name));
            r.insert("part_object_id".into(), Value::from(p.part_object_id));
            r
        });
        let parts = parts.collect();
        cx.put(ip::IMPORTED_POSE_BODY_PART, parts, Mode::Fresh)?;
    }
    Ok(())
}
