//! Ingest step of `common_sensors`: the analog sensor series as a SensorData row (G2).

use super::{Ctx, Mode};
use crate::common::common_sensors as sensors;
use crate::error::{Error, Result};
use spyglass_db::Value;

pub(super) fn sensor_data(cx: &mut Ctx) -> Result<()> {
    let Some(a) = cx.src.analog.clone() else {
        return Ok(());
    };
    let cols: Vec<&str> = a
        .description
        .split_whitespace()
        .filter(|c| *c != "time" && *c != "timestamps")
        .collect();
    if cols.len() != a.n_columns {
        return Err(Error::BadFile {
            path: cx.src.path.clone(),
            message: format!(
                "analog sensor series: its description names {} columns ({:?}) but the data has {}",
                cols.len(),
                cols,
                a.n_columns
            ),
        });
    }
    let Some(interval) = cx.raw_interval.clone() else {
        cx.warn(
            sensors::SENSOR_DATA,
            "sensor data needs the raw data valid times, and the file has no raw series; skipped",
        );
        return Ok(());
    };
    let mut r = cx.base();
    r.insert("sensor_data_object_id".into(), Value::from(a.object_id));
    r.insert("interval_list_name".into(), Value::from(interval));
    cx.put(sensors::SENSOR_DATA, vec![r], Mode::Fresh)?;
    Ok(())
}
