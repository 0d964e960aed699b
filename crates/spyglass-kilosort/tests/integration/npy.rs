//! The NPY reader and writer against NumPy run in the test, and params.py / label files
//! against hand-written cases.

use spyglass_kilosort::{NpyArray, NpyData, ParamValue, Params, QualityLabel};

#[test]
fn reads_what_numpy_writes() {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path().to_str().unwrap();
    spyglass_testkit::run_python(
        r#"
import sys, numpy as np
d = sys.argv[1]
np.save(d + "/i64.npy", np.arange(6, dtype=np.int64).reshape(2, 3))
np.save(d + "/f32f.npy", np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)))
np.save(d + "/be.npy", np.array([1.5, -2.25, 3.0], dtype=">f8"))
np.save(d + "/u32.npy", np.array([[1], [4000000000]], dtype=np.uint32))
np.save(d + "/b.npy", np.array([True, False, True]))
np.save(d + "/obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
np.save(d + "/v2.npy", np.zeros((3,), dtype=[("a", "<i4")]))
"#,
        &[d],
    );
    let a = NpyArray::read(&dir.path().join("i64.npy")).unwrap();
    assert_eq!(a.shape, vec![2, 3]);
    assert_eq!(a.data, NpyData::I64((0..6).collect()));
    let f = NpyArray::read(&dir.path().join("f32f.npy")).unwrap();
    assert_eq!(f.shape, vec![2, 3, 4]);
    // the Fortran-ordered file comes back in C order
    assert_eq!(f.data, NpyData::F32((0..24).map(|x| x as f32).collect()));
    let be = NpyArray::read(&dir.path().join("be.npy")).unwrap();
    assert_eq!(be.data, NpyData::F64(vec![1.5, -2.25, 3.0]));
    let u = NpyArray::read(&dir.path().join("u32.npy")).unwrap();
    assert_eq!(u.to_i64("u32").unwrap(), vec![1, 4_000_000_000]);
    let b = NpyArray::read(&dir.path().join("b.npy")).unwrap();
    assert_eq!(b.data, NpyData::Bool(vec![true, false, true]));
    let e = NpyArray::read(&dir.path().join("obj.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("obj.npy") && e.contains("pickles"), "{e}");
    let e = NpyArray::read(&dir.path().join("v2.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("structured"), "{e}");
    std::fs::write(
        dir.path().join("short.npy"),
        &std::fs::read(dir.path().join("i64.npy")).unwrap()[..100],
    )
    .unwrap();
    let e = NpyArray::read(&dir.path().join("short.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn numpy_reads_what_we_write() {
    let dir = spyglass_testkit::scratch_dir();
    let p = dir.path().join("w.npy");
    NpyArray {
        shape: vec![2, 2],
        data: NpyData::F32(vec![1.0, 2.5, -3.0, 4.0]),
    }
    .write(&p)
    .unwrap();
    let q = dir.path().join("v.npy");
    NpyArray {
        shape: vec![3],
        data: NpyData::U64(vec![1, 2, u64::MAX]),
    }
    .write(&q)
    .unwrap();
    let out = spyglass_testkit::run_python(
        "import sys, numpy as np\na = np.load(sys.argv[1]); b = np.load(sys.argv[2])\nprint(a.dtype, a.shape, a.ravel().tolist(), b.dtype, b.tolist())",
        &[p.to_str().unwrap(), q.to_str().unwrap()],
    );
    assert_eq!(
        out.trim(),
        "float32 (2, 2) [1.0, 2.5, -3.0, 4.0] uint64 [1, 2, 18446744073709551615]"
    );
}

#[test]
fn params_py_is_read_not_run() {
    let p = Params::parse(
        "dat_path = r'rec.dat'\nn_channels_dat = 32\ndtype = 'int16'\noffset = 0\nsample_rate = 30000.0\nhp_filtered = True\n\n# c\n",
    )
    .unwrap();
    assert_eq!(
        p.get("dat_path"),
        Some(&ParamValue::Text("r'rec.dat'".into()))
    );
    assert_eq!(
        p.get("dat_path").and_then(ParamValue::unquoted),
        Some("rec.dat")
    );
    assert_eq!(p.get("dtype").and_then(ParamValue::unquoted), Some("int16"));
    assert_eq!(p.get("n_channels_dat"), Some(&ParamValue::Int(32)));
    assert_eq!(p.get("sample_rate"), Some(&ParamValue::Float(30000.0)));
    assert_eq!(p.get("hp_filtered"), Some(&ParamValue::Text("True".into())));
    // code is never executed: an import line is an error naming its line
    let e = Params::parse("a = 1\nimport os\n").unwrap_err();
    assert_eq!(e.0, 2);
    let back = Params::parse(&p.to_text()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn phy_labels_map_onto_the_vocabulary() {
    assert_eq!(
        QualityLabel::from_phy("unsorted"),
        Some(QualityLabel::NotAvailable)
    );
    assert_eq!(QualityLabel::from_phy("MUA"), Some(QualityLabel::Mua));
    assert_eq!(QualityLabel::from_phy("good"), Some(QualityLabel::Good));
    assert_eq!(QualityLabel::from_phy("great"), None);
    let dir = spyglass_testkit::scratch_dir();
    std::fs::write(
        dir.path().join("cluster_group.tsv"),
        "cluster_id\tgroup\n0\tgood\n1\tgreat\n",
    )
    .unwrap();
    let e = spyglass_kilosort::labels::read_labels(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cluster_group.tsv line 3") && e.contains("great"),
        "{e}"
    );
    std::fs::remove_file(dir.path().join("cluster_group.tsv")).unwrap();
    std::fs::write(dir.path().join("cluster_KSLabel.xlsx"), b"PK").unwrap();
    let e = spyglass_kilosort::labels::read_labels(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cluster_KSLabel.xlsx") && e.contains(".tsv"),
        "{e}"
    );
}
