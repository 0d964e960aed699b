//! External-store files carried along: before rows referencing `blob@store`,
//! `attach@store` or `filepath@store` hashes are inserted, the source schema's
//! `~external_<store>` rows are copied into the target schema's, and their files are
//! copied from the store's source folder to its target folder (temp name, then rename).

use super::plan::StorePair;
use crate::db::Db;
use crate::declare::ddl::external_table;
use crate::error::{Error, Result};
use crate::stores::{uuid_path, StoreConfig};
use crate::types::AttrType;
use crate::value::SqlValue;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Rows of `~external_<store>` per query.
const CHUNK: usize = 500;

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Copies a file to `dest` through a temporary name.
fn copy_file(from: &Path, dest: &Path) -> Result<()> {
    if let Some(d) = dest.parent() {
        std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
    }
    let tmp = dest.with_extension(format!("transfer-{}.tmp", std::process::id()));
    std::fs::copy(from, &tmp).map_err(|e| io(from, e))?;
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(dest, e)
    })
}

/// Where one stored object's file is, under a store folder.
fn object_path(
    location: &Path,
    schema: &str,
    ty: &AttrType,
    hash: &Uuid,
    attachment: Option<&str>,
    filepath: Option<&str>,
) -> Option<PathBuf> {
    let cfg = StoreConfig::local(location);
    match ty {
        AttrType::ExternalBlob(_) => Some(uuid_path(&cfg, schema, hash, "")),
        AttrType::ExternalAttach(_) => {
            Some(uuid_path(&cfg, schema, hash, &format!(".{}", attachment?)))
        }
        AttrType::Filepath(_) => Some(location.join(filepath?)),
        _ => None,
    }
}

/// Makes sure every hash is in the target's `~external_<store>` with its file;
/// returns the hashes that could not be carried, with the reason.
#[allow(clippy::too_many_arguments)]
pub(crate) fn carry(
    src: &Db,
    dst: &Db,
    src_schema: &str,
    dst_schema: &str,
    ty: &AttrType,
    pair: &StorePair,
    hashes: &HashSet<Vec<u8>>,
) -> Result<HashMap<Vec<u8>, String>> {
    let store = ty.store().unwrap_or_default();
    let mut failed = HashMap::new();
    if hashes.is_empty() {
        return Ok(failed);
    }
    dst.ensure_external_table(dst_schema, store)?;
    let dst_t = dst.dialect().table(&external_table(dst_schema, store));
    let src_t = src.dialect().table(&external_table(src_schema, store));
    let all: Vec<&Vec<u8>> = hashes.iter().collect();
    for chunk in all.chunks(CHUNK) {
        let marks = vec!["?"; chunk.len()].join(",");
        let params: Vec<SqlValue> = chunk
            .iter()
            .map(|h| SqlValue::Bytes((*h).clone()))
            .collect();
        let present: HashSet<Vec<u8>> = dst
            .query_raw(
                &format!("SELECT `hash` FROM {dst_t} WHERE `hash` IN ({marks})"),
                &params,
            )?
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(SqlValue::Bytes(b)) => Some(b),
                _ => None,
            })
            .collect();
        let need: Vec<SqlValue> = chunk
            .iter()
            .filter(|h| !present.contains(**h))
            .map(|h| SqlValue::Bytes((*h).clone()))
            .collect();
        if need.is_empty() {
            continue;
        }
        let marks = vec!["?"; need.len()].join(",");
        let rows = src.query_raw(
            &format!("SELECT `hash`,`size`,`attachment_name`,`filepath`,`contents_hash` FROM {src_t} WHERE `hash` IN ({marks})"),
            &need,
        )?;
        let mut found = HashSet::new();
        for r in rows {
            let SqlValue::Bytes(h) = &r[0] else { continue };
            let Ok(uuid) = Uuid::from_slice(h) else {
                continue;
            };
            found.insert(h.clone());
            let text = |v: &SqlValue| (*v != SqlValue::Null).then(|| v.to_text());
            let attachment = text(&r[2]);
            let filepath = text(&r[3]);
            let paths = (
                object_path(
                    &pair.source,
                    src_schema,
                    ty,
                    &uuid,
                    attachment.as_deref(),
                    filepath.as_deref(),
                ),
                object_path(
                    &pair.target,
                    dst_schema,
                    ty,
                    &uuid,
                    attachment.as_deref(),
                    filepath.as_deref(),
                ),
            );
            let (Some(from), Some(to)) = paths else {
                failed.insert(
                    h.clone(),
                    format!("{store}: external row {uuid} lacks its name"),
                );
                continue;
            };
            if !from.is_file() {
                failed.insert(
                    h.clone(),
                    format!("{store}: file {} is missing", from.display()),
                );
                continue;
            }
            let same = std::fs::metadata(&to)
                .ok()
                .zip(std::fs::metadata(&from).ok())
                .is_some_and(|(a, b)| a.len() == b.len());
            if !same {
                copy_file(&from, &to)?;
            }
            dst.execute(
                &format!("INSERT INTO {dst_t} (`hash`,`size`,`attachment_name`,`filepath`,`contents_hash`) VALUES (?,?,?,?,?)"),
                &r[..5],
            )?;
        }
        for h in need {
            if let SqlValue::Bytes(h) = h {
                if !found.contains(&h) && !failed.contains_key(&h) {
                    failed.insert(
                        h,
                        format!("{store}: the source has no external row for this hash"),
                    );
                }
            }
        }
    }
    Ok(failed)
}
