//! External stores: filepath@, blob@ and attach@ attributes keep their payloads in
//! files and `~external_<store>` rows with DataJoint's hashes; fetch returns them and
//! refuses a managed file whose contents changed.

use crate::common::{filepath_table, fresh_db, row};
use md5::{Digest, Md5};
use spyglass_blob::{Array, Value as Blob};
use spyglass_db::stores::StoreConfig;
use spyglass_db::{Cond, InsertOptions, SqlValue, TableSpec, Tier, Value};

fn md5(b: &[u8]) -> Vec<u8> {
    let mut h = Md5::new();
    h.update(b);
    h.finalize().to_vec()
}

#[test]
fn external_attributes_round_trip() {
    let (db, dir) = fresh_db();
    let raw = dir.path().join("raw");
    let ext = dir.path().join("ext");
    std::fs::create_dir_all(raw.join("sub")).unwrap();
    db.set_store("raw", StoreConfig::local(&raw));
    db.set_store("ext", StoreConfig::local(&ext));
    db.declare(
        "files",
        &TableSpec::new("Doc", Tier::Manual, "doc_id : int\n---\npath : filepath@raw\ndata = null : blob@ext\nfile = null : attach@ext"),
    )
    .unwrap();
    let file = raw.join("sub/a.nwb");
    std::fs::write(&file, b"hello nwb").unwrap();
    let arr = Blob::Array(Array::vector(
        (0..2000).map(|i| i as f64).collect::<Vec<f64>>(),
    ));
    db.insert(
        "files.Doc",
        &[row(&[
            ("doc_id", 1.into()),
            ("path", file.display().to_string().into()),
            ("data", Value::from(arr.clone())),
            (
                "file",
                Value::Attach {
                    name: "notes.txt".into(),
                    data: b"some notes".to_vec(),
                },
            ),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    let r = db.fetch1(&db.table("files.Doc").unwrap()).unwrap();
    assert_eq!(
        r.get("path").unwrap().as_str(),
        Some(file.display().to_string().as_str())
    );
    assert_eq!(r.get("data").unwrap().as_blob(), Some(&arr));
    assert_eq!(
        r.get("file"),
        Some(&Value::Attach {
            name: "notes.txt".into(),
            data: b"some notes".to_vec()
        })
    );
    // DataJoint's layout: hash = md5(relative path), contents_hash = md5(file)
    let rows = db
        .query_raw(
            &format!(
                "SELECT `hash`,`size`,`filepath`,`contents_hash` FROM {}",
                db.dialect()
                    .table(&db.external_table(&db.schema_name("files"), "raw"))
            ),
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], SqlValue::Bytes(md5(b"sub/a.nwb")));
    assert_eq!(rows[0][1], SqlValue::Int(9));
    assert_eq!(rows[0][2], SqlValue::Text("sub/a.nwb".into()));
    assert_eq!(rows[0][3], SqlValue::Bytes(md5(b"hello nwb")));
    // the blob is stored under {location}/{schema}/{h0h1}/{h2h3}/{hex} as its packed bytes
    let packed = spyglass_blob::pack(&arr);
    let h: String = md5(&packed).iter().map(|b| format!("{b:02x}")).collect();
    let blob_file = ext
        .join(db.schema_name("files"))
        .join(&h[0..2])
        .join(&h[2..4])
        .join(&h);
    assert_eq!(std::fs::read(&blob_file).unwrap(), packed);
    // a changed file is refused on fetch
    std::fs::write(&file, b"hello NWB").unwrap();
    let e = db.fetch1(&db.table("files.Doc").unwrap()).unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    std::fs::write(&file, b"changed size").unwrap();
    let e = db.fetch1(&db.table("files.Doc").unwrap()).unwrap_err();
    assert!(e.to_string().contains("differs from the 9 bytes"), "{e}");
    // a path outside the stage is refused, and nothing is inserted
    let e = db
        .insert(
            "files.Doc",
            &[row(&[
                ("doc_id", 2.into()),
                ("path", "/etc/hostname".into()),
            ])],
            InsertOptions::default(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("not under the store's stage"), "{e}");
    assert_eq!(db.count(&db.table("files.Doc").unwrap()).unwrap(), 1);
    // deleting the row takes its external entries and, after the commit, their files
    db.delete("files.Doc", Cond::map([("doc_id", 1)]), Default::default())
        .unwrap();
    assert!(db
        .external_unused("files", "raw", false)
        .unwrap()
        .is_empty());
    assert!(db
        .external_unused("files", "ext", false)
        .unwrap()
        .is_empty());
    assert!(!blob_file.exists());
    assert!(!file.exists());
    for store in ["raw", "ext"] {
        let ext = db.external_table(&db.schema_name("files"), store);
        let n = db
            .query_raw(
                &format!("SELECT COUNT(*) FROM {}", db.dialect().table(&ext)),
                &[],
            )
            .unwrap();
        assert_eq!(n[0][0].to_text(), "0", "{store}");
    }
}

#[test]
fn unconfigured_store_is_a_clear_error() {
    let (db, _d) = fresh_db();
    db.declare(
        "files",
        &TableSpec::new(
            "Doc",
            Tier::Manual,
            "doc_id : int\n---\npath : filepath@nowhere",
        ),
    )
    .unwrap();
    let e = db
        .insert(
            "files.Doc",
            &[row(&[("doc_id", 1.into()), ("path", "x".into())])],
            InsertOptions::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("store `nowhere` is not configured"),
        "{e}"
    );
}

/// The `contents_hash` a `filepath` insert records for `db`'s Doc `doc_id`.
fn contents_hash(db: &spyglass_db::Db, doc_id: i64) -> SqlValue {
    let ext = db
        .dialect()
        .table(&db.external_table(&db.schema_name("files"), "raw"));
    let doc = db
        .dialect()
        .table(&db.table_info("files.Doc").unwrap().name);
    let rows = db
        .query_raw(
            &format!("SELECT x.`contents_hash` FROM {ext} x JOIN {doc} d ON d.`path` = x.`hash` WHERE d.`doc_id` = ?"),
            &[SqlValue::Int(doc_id)],
        )
        .unwrap();
    rows[0][0].clone()
}

#[test]
fn a_checksum_computed_ahead_is_used_only_for_the_unchanged_file() {
    use spyglass_db::stores::FileHashAhead;
    let (db, dir) = fresh_db();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    filepath_table(&db, &raw);
    let insert = |id: i64, path: &std::path::Path| {
        db.insert(
            "files.Doc",
            &[row(&[
                ("doc_id", id.into()),
                ("path", path.display().to_string().into()),
            ])],
            InsertOptions::default(),
        )
        .unwrap()
    };
    // hashed under its partial name, renamed (as an analysis file is published), inserted
    let partial = raw.join("a.nwb.partial");
    std::fs::write(&partial, b"finished contents").unwrap();
    let ahead = FileHashAhead::start(&partial);
    let done = raw.join("a.nwb");
    std::fs::rename(&partial, &done).unwrap();
    db.adopt_file_hash(ahead, &done);
    insert(1, &done);
    assert_eq!(
        contents_hash(&db, 1),
        SqlValue::Bytes(md5(b"finished contents"))
    );
    // changed after it was hashed: the hash ahead is dropped and the file read again
    let b = raw.join("b.nwb");
    std::fs::write(&b, b"first").unwrap();
    let ahead = FileHashAhead::start(&b);
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&b, b"second, longer").unwrap();
    db.adopt_file_hash(ahead, &b);
    insert(2, &b);
    assert_eq!(
        contents_hash(&db, 2),
        SqlValue::Bytes(md5(b"second, longer"))
    );
}
