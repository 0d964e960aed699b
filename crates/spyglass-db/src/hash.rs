//! DataJoint's `key_hash`: the MD5 of Python `str()` of each key value, taken in the
//! order of the sorted attribute names and concatenated. Job reservations and
//! merge ids use it, so it must match datajoint-python exactly.

use crate::value::Row;
use md5::{Digest, Md5};
use uuid::Uuid;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(row: &Row) -> [u8; 16] {
    let mut pairs: Vec<(&str, String)> = row.iter().map(|(k, v)| (k, v.python_str())).collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Md5::new();
    for (_, s) in pairs {
        h.update(s.as_bytes());
    }
    h.finalize().into()
}

/// The 32-character hex key hash of a key row.
pub fn key_hash(key: &Row) -> String {
    hex(&digest(key))
}

/// The key hash as a UUID (how Spyglass merge ids store it).
pub fn key_hash_uuid(key: &Row) -> Uuid {
    Uuid::from_bytes(digest(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use chrono::NaiveDate;

    fn h(pairs: Vec<(&str, Value)>) -> String {
        key_hash(&Row::from_pairs(pairs))
    }

    /// Worked examples verified against datajoint-python 0.14 (datajoint-compat.md §6).
    #[test]
    fn matches_datajoint() {
        assert_eq!(
            h(vec![("subject_id", 1.into()), ("session_idx", 2.into())]),
            "3c59dc048e8850243be8079a5c74d079"
        );
        assert_eq!(
            h(vec![("subject_id", 1.into()), ("session_idx", 1.into())]),
            "6512bd43d9caa6e02c990b0a82652dca"
        );
        assert_eq!(
            h(vec![("subject_id", 1.into()), ("session_idx", 2.into())]
                .into_iter()
                .rev()
                .collect()),
            "3c59dc048e8850243be8079a5c74d079"
        );
        assert_eq!(
            h(vec![("subject_id", 2.into()), ("session_idx", 1.into())]),
            "c20ad4d76fe97759aa27a0c99bff6710"
        );
        assert_eq!(
            h(vec![
                ("nwb_file_name", "a_.nwb".into()),
                ("interval_list_name", "01_s1".into())
            ]),
            "28bbecd1bbdcd7d43f90a6a129067fd2"
        );
        assert_eq!(
            h(vec![("x", 0.1.into())]),
            "cb5ae17636e975f9bf71ddf5bc542075"
        );
        assert_eq!(
            h(vec![("x", 1.0.into())]),
            "e4c2e8edac362acab7123654b9e73432"
        );
        assert_eq!(h(vec![("x", 5.into())]), "e4da3b7fbbce2345d7772b0674a318d5");
        let d = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        assert_eq!(
            h(vec![("d", Value::Date(d))]),
            "c4fd92826c71506558e00039d0d98a10"
        );
        let dt = d.and_hms_opt(3, 4, 5).unwrap();
        assert_eq!(
            h(vec![("dt", Value::DateTime(dt))]),
            "d23f98ad15dfef1aa935b58bc59c4da0"
        );
        let u = Uuid::parse_str("12345678-1234-5678-1234-567812345678").unwrap();
        assert_eq!(
            h(vec![("u", Value::Uuid(u))]),
            "adf04bafbbee0bed921b2d11b97d98ec"
        );
        assert_eq!(
            h(vec![("dec", Value::Decimal("12.50".into()))]),
            "4bc129be882d904ee70110a444945e9a"
        );
    }
}
