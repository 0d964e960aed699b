//! The published test vectors (datajoint-compat.md §8, from datajoint 0.14.9's
//! `pack(v, compress=False)`) and the MATLAB-written fixtures of datajoint's
//! `tests/test_blob_matlab.py` / `tests/test_blob.py`: each decodes to the
//! expected value and re-encodes to the same bytes.

use crate::common;

use chrono::{NaiveDate, NaiveTime};
use common::*;
use spyglass_blob::{
    pack, pack_uncompressed, unpack, unpack_with, Array, ArrayData, CellArray, Dtype, RecArray,
    StructArray, TimeUnit, UnpackOptions, Value,
};
use uuid::Uuid;

fn s(x: &str) -> Value {
    Value::Str(x.into())
}

fn int(x: i128) -> Value {
    Value::Int(x)
}

/// (description, expected value, published hex)
fn published() -> Vec<(&'static str, Value, &'static str)> {
    let date = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
    vec![
        ("None", Value::None, "646a3000ff"),
        ("True", Value::Bool(true), "646a30000b01"),
        ("False", Value::Bool(false), "646a30000b00"),
        ("0", int(0), "646a30000a010000"),
        ("1", int(1), "646a30000a010001"),
        ("-1", int(-1), "646a30000a0100ff"),
        ("128", int(128), "646a30000a02008000"),
        ("255", int(255), "646a30000a0200ff00"),
        ("-255", int(-255), "646a30000a020001ff"),
        ("2**70", int(1 << 70), "646a30000a0900000000000000000040"),
        ("7.0", Value::Float(7.0), "646a30000d0000000000001c40"),
        ("7j", Value::Complex(0.0, 7.0), "646a30000c00000000000000000000000000001c40"),
        ("'hi'", s("hi"), "646a30000502000000000000006869"),
        ("'é'", s("é"), "646a3000050200000000000000c3a9"),
        ("b'ab'", Value::Bytes(b"ab".to_vec()), "646a30000602000000000000006162"),
        ("[]", Value::List(vec![]), "646a3000020000000000000000"),
        ("{}", Value::Dict(vec![]), "646a3000040000000000000000"),
        (
            "[1,'a']",
            Value::List(vec![int(1), s("a")]),
            "646a300002020000000000000004000000000000000a0100010a0000000000000005010000000000000061",
        ),
        ("(1,)", Value::Tuple(vec![int(1)]), "646a300001010000000000000004000000000000000a010001"),
        ("{1}", Value::Set(vec![int(1)]), "646a300003010000000000000004000000000000000a010001"),
        (
            "{'a':1}",
            Value::dict([("a", 1)]),
            "646a30000401000000000000000a000000000000000501000000000000006104000000000000000a010001",
        ),
        (
            "{'x':1}",
            Value::dict([("x", 1)]),
            "646a30000401000000000000000a000000000000000501000000000000007804000000000000000a010001",
        ),
        (
            "{'a':{'b':[1.5]}}",
            Value::dict([("a", Value::dict([("b", Value::List(vec![Value::Float(1.5)]))]))]),
            "646a30000401000000000000000a00000000000000050100000000000000613d000000000000000401000000000000000a00000000000000050100000000000000621a0000000000000002010000000000000009000000000000000d000000000000f83f",
        ),
        ("Decimal('1.5')", Value::Decimal("1.5".into()), "646a3000640300000000000000312e35"),
        ("date(2020,1,2)", Value::Date(date), "646a300074a63a3401ffffffffffffffff"),
        (
            "datetime(2020,1,2,3,4,5,6)",
            Value::DateTime(date.and_time(NaiveTime::from_hms_micro_opt(3, 4, 5, 6).unwrap())),
            "646a300074a63a3401467b471407000000",
        ),
        (
            "time(3,4,5)",
            Value::Time(NaiveTime::from_hms_opt(3, 4, 5).unwrap()),
            "646a300074ffffffff407b471407000000",
        ),
        (
            "UUID('12345678-1234-5678-1234-567812345678')",
            Value::Uuid(Uuid::parse_str("12345678-1234-5678-1234-567812345678").unwrap()),
            "646a30007512345678123456781234567812345678",
        ),
        (
            "np.float64(2.5)",
            Array::scalar(2.5f64).into(),
            "646a300041000000000000000006000000000000000000000000000440",
        ),
        (
            "np.int64(5)",
            Array::scalar(5i64).into(),
            "646a30004100000000000000000e000000000000000500000000000000",
        ),
        (
            "np.array([1,2], int32)",
            Array::vector(vec![1i32, 2]).into(),
            "6d596d0041010000000000000002000000000000000c000000000000000100000002000000",
        ),
        (
            "np.array([1,2,3], uint8)",
            Array::vector(vec![1u8, 2, 3]).into(),
            "6d596d0041010000000000000003000000000000000900000000000000010203",
        ),
        (
            "np.array([[1,2],[3,4]], f8)",
            Array::from_row_major(vec![2, 2], vec![1.0f64, 2.0, 3.0, 4.0]).unwrap().into(),
            "6d596d00410200000000000000020000000000000002000000000000000600000000000000000000000000f03f000000000000084000000000000000400000000000001040",
        ),
        (
            "np.array([[1,2,3],[4,5,6]], int16)",
            Array::from_row_major(vec![2, 3], vec![1i16, 2, 3, 4, 5, 6]).unwrap().into(),
            "6d596d00410200000000000000020000000000000003000000000000000a00000000000000010004000200050003000600",
        ),
        (
            "np.arange(8.).reshape(2,2,2)",
            Array::from_row_major(vec![2, 2, 2], (0..8).map(f64::from).collect()).unwrap().into(),
            "6d596d0041030000000000000002000000000000000200000000000000020000000000000006000000000000000000000000000000000000000000104000000000000000400000000000001840000000000000f03f000000000000144000000000000008400000000000001c40",
        ),
        (
            "np.eye(2)",
            Array::from_row_major(vec![2, 2], vec![1.0f64, 0.0, 0.0, 1.0]).unwrap().into(),
            "6d596d00410200000000000000020000000000000002000000000000000600000000000000000000000000f03f00000000000000000000000000000000000000000000f03f",
        ),
        (
            "np.array([True,False])",
            Array::vector(vec![true, false]).into(),
            "6d596d00410100000000000000020000000000000003000000000000000100",
        ),
        (
            "np.array([1+2j])",
            Array::complex_from_row_major(vec![1], vec![(1.0f64, 2.0)]).unwrap().into(),
            "6d596d0041010000000000000001000000000000000600000001000000000000000000f03f0000000000000040",
        ),
        (
            "np.array(['ab'])",
            Array::strings(vec![1], vec!["ab"]).unwrap().into(),
            "646a3000410100000000000000010000000000000005000000000000000b000000000000000502000000000000006162",
        ),
        (
            "np.array('ab')",
            Array::strings(vec![], vec!["ab"]).unwrap().into(),
            "646a300041000000000000000005000000000000000b000000000000000502000000000000006162",
        ),
        (
            "np.datetime64('2020-01-02')",
            Array::datetime64(TimeUnit::Day, vec![], vec![18263]).unwrap().into(),
            "646a300041000000000000000003000100000000005747000000000000",
        ),
        (
            "recarray [(1.0, 2)] x:f8, y:i8",
            RecArray::new(vec![
                ("x".into(), Array::vector(vec![1.0f64]).into()),
                ("y".into(), Array::vector(vec![2i64]).into()),
            ])
            .unwrap()
            .into(),
            "646a300046020000007800790041010000000000000001000000000000000600000000000000000000000000f03f41010000000000000001000000000000000e000000000000000200000000000000",
        ),
    ]
}

#[test]
fn published_vectors_decode_and_reencode() {
    for (what, value, hx) in published() {
        let bytes = hex(hx);
        let decoded = unpack(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(decoded, value, "{what}: decoded value");
        assert_eq!(
            to_hex(&pack_uncompressed(&value)),
            hx,
            "{what}: uncompressed bytes"
        );
        // all of these are short, so `pack` must not compress them
        assert_eq!(to_hex(&pack(&value)), hx, "{what}: pack");
    }
}

#[test]
fn nan_vector() {
    let bytes = hex("646a30000d000000000000f87f");
    match unpack(&bytes).unwrap() {
        Value::Float(f) => assert!(f.is_nan()),
        other => panic!("expected a float, got {other:?}"),
    }
    assert_eq!(pack(&Value::Float(f64::NAN)), bytes);
}

#[test]
fn zeros_1000_compressed_vector() {
    let published = hex(
        "5a4c313233005d1f000000000000789cedc5410d00200c04b02324f8420622e61b193c165cb49fd6a9ec917667bf02000000000000007c0f4e240267",
    );
    assert_eq!(published.len(), 60);
    let value: Value = vec![0.0f64; 1000].into();
    assert_eq!(pack_uncompressed(&value).len(), 0x1f5d);
    assert_eq!(
        to_hex(&pack(&value)),
        to_hex(&published),
        "compressed bytes"
    );
    assert_eq!(unpack(&published).unwrap(), value);
}

#[test]
fn zeros_100_is_not_compressed() {
    let value: Value = vec![0.0f64; 100].into();
    let packed = pack(&value);
    assert_eq!(packed.len(), 829);
    assert!(packed.starts_with(b"mYm\0A"));
}

// ---- MATLAB-written fixtures (datajoint tests/test_blob_matlab.py) ----

/// `magic(n)` for n = 3 and 5, row-major (MATLAB's documented values).
fn magic(n: usize) -> Array {
    let rows: Vec<f64> = match n {
        3 => vec![8., 1., 6., 3., 5., 7., 4., 9., 2.],
        _ => vec![
            17., 24., 1., 8., 15., 23., 5., 7., 14., 16., 4., 6., 13., 20., 22., 10., 12., 19.,
            21., 3., 11., 18., 25., 2., 9.,
        ],
    };
    Array::from_row_major(vec![n, n], rows).unwrap()
}

fn matlab_scalar(x: f64) -> Value {
    Array::from_col_major(vec![1, 1], vec![x]).unwrap().into()
}

/// Decodes a fixture, checks the value, and checks that re-encoding reproduces it.
fn check_fixture(hx: &str, expected: &Value) {
    let bytes = hex(hx);
    let v = unpack(&bytes).unwrap();
    assert_eq!(&v, expected);
    assert_eq!(pack(&v), bytes, "re-encoding differs");
}

#[test]
fn matlab_char_string() {
    // datajoint-python reads this as array(['character string']) and would re-pack
    // it as a dj0 object array; we keep the char class, so our bytes match MATLAB's.
    check_fixture(MATLAB_STRING, &Array::char_row("character string").into());
    let v = unpack(&hex(MATLAB_STRING)).unwrap();
    assert_eq!(v.text().as_deref(), Some("character string"));
    let sq = unpack_with(
        &hex(MATLAB_STRING),
        UnpackOptions {
            squeeze: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(sq, s("character string"));
}

#[test]
fn matlab_vector() {
    let expected: Vec<f64> = (0..12).map(|i| f64::from(1 + 15 * i)).collect();
    check_fixture(
        MATLAB_VECTOR,
        &Array::from_row_major(vec![1, 12], expected.clone())
            .unwrap()
            .into(),
    );
    let sq = unpack_with(
        &hex(MATLAB_VECTOR),
        UnpackOptions {
            squeeze: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(sq, Value::from(expected));
}

#[test]
fn matlab_cell_of_strings() {
    let expected = CellArray::row(vec![
        Array::char_row("string1").into(),
        Array::char_row("string2").into(),
    ]);
    check_fixture(MATLAB_CELL, &expected.into());
    let sq = unpack_with(
        &hex(MATLAB_CELL),
        UnpackOptions {
            squeeze: true,
            ..Default::default()
        },
    )
    .unwrap();
    let c = sq.as_cell().unwrap();
    assert_eq!(c.shape(), &[2]);
    assert_eq!(c.elements(), &[s("string1"), s("string2")]);
}

#[test]
fn matlab_struct_array() {
    // struct('a', {1,2}, 'b', {struct('c', magic(3)), struct('C', magic(5))})
    let b0 = StructArray::scalar(vec![("c", magic(3).into())]).unwrap();
    let b1 = StructArray::scalar(vec![("C", magic(5).into())]).unwrap();
    let expected = StructArray::new(
        vec![1, 2],
        vec!["a".into(), "b".into()],
        vec![matlab_scalar(1.0), b0.into(), matlab_scalar(2.0), b1.into()],
    )
    .unwrap();
    check_fixture(MATLAB_STRUCT, &expected.clone().into());
    let v = unpack(&hex(MATLAB_STRUCT)).unwrap();
    let st = v.as_struct().unwrap();
    let inner = st.get(1, "b").unwrap().as_struct().unwrap();
    assert_eq!(
        inner.get(0, "C").unwrap().array_shape(),
        Some(&[5usize, 5][..])
    );

    let sq = unpack_with(
        &hex(MATLAB_STRUCT),
        UnpackOptions {
            squeeze: true,
            ..Default::default()
        },
    )
    .unwrap();
    let st = sq.as_struct().unwrap();
    assert_eq!(st.shape(), &[2]);
    assert_eq!(st.get(0, "a"), Some(&Value::Float(1.0)));
    assert_eq!(st.get(1, "a"), Some(&Value::Float(2.0)));
}

#[test]
fn matlab_3d_double_and_uint8() {
    let data: Vec<f64> = (1..=24).map(f64::from).collect();
    check_fixture(
        MATLAB_3D_DOUBLE,
        &Array::from_col_major(vec![2, 3, 4], data).unwrap().into(),
    );
    let data: Vec<u8> = (1..=24).collect();
    check_fixture(
        MATLAB_3D_UINT8,
        &Array::from_col_major(vec![2, 3, 4], data).unwrap().into(),
    );
    // reshape(1:24, [2,3,4]) is column-major: element (0, 1, 0) is 3
    let v = unpack(&hex(MATLAB_3D_UINT8)).unwrap();
    let rm = v.to_row_major::<u8>().unwrap();
    assert_eq!(&rm[..4], &[1, 7, 13, 19]);
}

#[test]
fn matlab_3d_complex_fft() {
    // expected: fftn(reshape(1:24, [2,3,4])), computed here by a direct DFT
    let shape = [2usize, 3, 4];
    let x = |i: usize, j: usize, k: usize| (1 + i + 2 * j + 6 * k) as f64;
    let mut re = Vec::new();
    let mut im = Vec::new();
    for k2 in 0..4 {
        for j2 in 0..3 {
            for i2 in 0..2 {
                let (mut sr, mut si) = (0.0f64, 0.0f64);
                for k in 0..4 {
                    for j in 0..3 {
                        for i in 0..2 {
                            let ph = -2.0
                                * std::f64::consts::PI
                                * ((i * i2) as f64 / 2.0
                                    + (j * j2) as f64 / 3.0
                                    + (k * k2) as f64 / 4.0);
                            sr += x(i, j, k) * ph.cos();
                            si += x(i, j, k) * ph.sin();
                        }
                    }
                }
                re.push(sr);
                im.push(si);
            }
        }
    }
    let bytes = hex(MATLAB_3D_COMPLEX);
    let v = unpack(&bytes).unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.shape(), &shape);
    assert_eq!(a.dtype(), Dtype::Float64);
    let (got_re, got_im) = match (a.data(), a.imag()) {
        (ArrayData::Float64(r), Some(ArrayData::Float64(i))) => (r.clone(), i.clone()),
        other => panic!("not complex float64: {other:?}"),
    };
    for n in 0..24 {
        assert!(
            (got_re[n] - re[n]).abs() < 1e-9,
            "re[{n}] {} vs {}",
            got_re[n],
            re[n]
        );
        assert!(
            (got_im[n] - im[n]).abs() < 1e-9,
            "im[{n}] {} vs {}",
            got_im[n],
            im[n]
        );
    }
    assert_eq!(pack(&v), bytes);
}

#[test]
fn matlab_32bit_dims_struct() {
    let bytes = hex(MATLAB_32BIT_STRUCT);
    let opts = UnpackOptions {
        use_32bit_dims: true,
        ..Default::default()
    };
    let v = unpack_with(&bytes, opts).unwrap();
    let st = v.as_struct().unwrap();
    assert_eq!(st.shape(), &[1, 1]);
    assert_eq!(st.fields(), &["hits", "sides", "tasks", "stage"]);
    let hits = st.get(0, "hits").unwrap().as_array().unwrap();
    assert_eq!(hits.shape(), &[1, 7]);
    let h = hits.as_slice::<f64>().unwrap();
    assert!(h[0].is_nan() && h[6].is_nan());
    assert_eq!(&h[1..6], &[1.0, 1.0, 0.0, 1.0, 0.0]);
    assert_eq!(
        st.get(0, "sides").unwrap().text().as_deref(),
        Some("llllrrl")
    );
    assert_eq!(
        st.get(0, "tasks").unwrap().text().as_deref(),
        Some("ddddddd")
    );
    assert_eq!(
        st.get(0, "stage").unwrap().text().as_deref(),
        Some("Stage 10")
    );
    // The 64-bit reader must refuse it rather than misread it.
    assert!(unpack(&bytes).is_err());
    // Our writer only writes 64-bit dims (as datajoint-python does), so the re-encoding
    // is the 64-bit form of the same value, which round-trips.
    let again = pack(&v);
    assert_ne!(again, bytes);
    let back = unpack(&again).unwrap();
    assert_eq!(pack(&back), again);
}
