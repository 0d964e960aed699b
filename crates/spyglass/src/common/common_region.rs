//! `common_region`: brain regions, with `fetch_add` (get the id of a region by
//! name, adding it when new) as Spyglass's `BrainRegion.fetch_add`.
//! `fetch_add` assigns the next id itself, so that the id is known in the same
//! transaction on both backends.

use crate::error::Result;
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, TableSpec, Tier, Value};

/// Schema name.
pub const SCHEMA: &str = "common_region";
/// `BrainRegion` (Lookup).
pub const BRAIN_REGION: &str = "common_region.BrainRegion";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "BrainRegion",
        Tier::Lookup,
        "region_id : smallint auto_increment
---
region_name : varchar(200)  # the name of the brain region
subregion_name = NULL : varchar(200)  # subregion name
subsubregion_name = NULL : varchar(200)  # subregion within the subregion",
    )]
}

fn null_or_eq(attr: &str, v: Option<&str>) -> Cond {
    match v {
        Some(s) => Cond::map([(attr, s)]),
        None => Cond::Sql(format!("{attr} IS NULL")),
    }
}

/// The `region_id` of a (region, subregion, subsubregion) name triple, inserted when new.
pub fn fetch_add(
    db: &Db,
    region_name: &str,
    subregion_name: Option<&str>,
    subsubregion_name: Option<&str>,
) -> Result<i64> {
    let q = db.table(BRAIN_REGION)?.restrict(Cond::And(vec![
        Cond::map([("region_name", region_name)]),
        null_or_eq("subregion_name", subregion_name),
        null_or_eq("subsubregion_name", subsubregion_name),
    ]))?;
    let find = || -> Result<Option<i64>> {
        let rows = db.fetch_with(
            &q,
            &FetchSpec::attrs(&["region_id"]).order_by(&["region_id"]),
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.get("region_id"))
            .and_then(Value::as_i64))
    };
    if let Some(id) = find()? {
        return Ok(id);
    }
    let next = db
        .max_of(&db.table(BRAIN_REGION)?, "region_id")?
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        + 1;
    db.insert1(
        BRAIN_REGION,
        Row::from_pairs([
            ("region_id", Value::from(next)),
            ("region_name", Value::from(region_name)),
            ("subregion_name", Value::from(subregion_name)),
            ("subsubregion_name", Value::from(subsubregion_name)),
        ]),
        InsertOptions::default(),
    )?;
    find()?.ok_or_else(|| {
        crate::error::Error::internal(
            BRAIN_REGION,
            format!("region `{region_name}` was inserted but cannot be found"),
        )
    })
}
