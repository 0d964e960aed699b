//! `dandiset.yaml`: written when the folder has none; an existing one is checked for
//! the fields `dandi validate` requires.

use std::collections::BTreeMap;
use std::path::Path;

use super::organise::Indexed;
use super::report::problem;
use super::{DandiOptions, Rule};
use crate::error::{Error, Result};

/// The `dandiset.yaml` fields `dandi validate` requires.
#[derive(serde::Serialize, serde::Deserialize)]
struct DandisetYaml {
    identifier: String,
    name: String,
    description: String,
}

/// True for `DANDI:` followed by six digits.
pub(super) fn is_dandiset_identifier(s: &str) -> bool {
    s.strip_prefix("DANDI:")
        .is_some_and(|d| d.len() == 6 && d.chars().all(|c| c.is_ascii_digit()))
}

/// Writes `dandiset.yaml` unless one with the required fields exists; returns whether
/// it wrote, and the problems of an existing one.
pub(super) fn dandiset_yaml(
    out_dir: &Path,
    opts: &DandiOptions,
    problems: &mut Vec<Indexed>,
) -> Result<bool> {
    let path = out_dir.join("dandiset.yaml");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let parsed: std::result::Result<BTreeMap<String, serde_json::Value>, _> =
            serde_saphyr::from_str(&text);
        match parsed {
            Ok(map) => {
                for field in ["identifier", "name", "description"] {
                    let ok = map.get(field).is_some_and(|v| match v {
                        serde_json::Value::String(s) => !s.trim().is_empty(),
                        serde_json::Value::Null => false,
                        _ => true,
                    });
                    if !ok {
                        problems.push((
                            usize::MAX,
                            problem(
                                &path,
                                Rule::DandisetYaml,
                                None,
                                format!("the existing dandiset.yaml lacks `{field}`"),
                            ),
                        ));
                    }
                }
            }
            Err(e) => problems.push((
                usize::MAX,
                problem(
                    &path,
                    Rule::DandisetYaml,
                    None,
                    format!("the existing dandiset.yaml is not valid YAML: {e}"),
                ),
            )),
        }
        return Ok(false);
    }
    let yaml = serde_saphyr::to_string(&DandisetYaml {
        identifier: opts.identifier.clone(),
        name: opts.name.clone(),
        description: opts.description.clone(),
    })
    .map_err(|e| Error::internal("dandiset.yaml", e.to_string()))?;
    std::fs::write(&path, yaml).map_err(|e| Error::io(&path, e))?;
    Ok(true)
}
