//! Round trips `unpack(pack(v)) == v` over every dtype and many shapes, nested
//! containers, protocol choice, and the row-/column-major helpers (checked
//! against hand-derived layouts).

use chrono::{NaiveDate, NaiveTime};
use spyglass_blob::{
    needs_dj0, pack, pack_uncompressed, unpack, unpack_with, Array, ArrayData, BigInt, CellArray,
    Dtype, RecArray, StructArray, TimeUnit, UnpackOptions, Value,
};
use uuid::Uuid;

fn roundtrip(v: &Value) {
    let b = pack(v);
    let back = unpack(&b).unwrap_or_else(|e| panic!("{v:?}: {e}"));
    assert_eq!(format!("{back:?}"), format!("{v:?}"));
    assert_eq!(pack(&back), b);
    let u = pack_uncompressed(v);
    assert_eq!(format!("{:?}", unpack(&u).unwrap()), format!("{v:?}"));
}

const SHAPES: &[&[usize]] = &[
    &[],
    &[0],
    &[1],
    &[5],
    &[2, 3],
    &[1, 1],
    &[0, 4],
    &[3, 0],
    &[2, 3, 4],
    &[1, 2, 1, 3],
];

fn n_of(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn data_for(dtype: Dtype, n: usize) -> ArrayData {
    let k = 0..n;
    match dtype {
        Dtype::Bool => ArrayData::Bool(k.map(|i| i % 3 == 0).collect()),
        Dtype::Char => ArrayData::Char(k.map(|i| 0x41 + i as u16).collect()),
        Dtype::Object => ArrayData::Object(k.map(|i| Value::Int(i as i128)).collect()),
        Dtype::Float64 => ArrayData::Float64(k.map(|i| i as f64 * -1.25).collect()),
        Dtype::Float32 => ArrayData::Float32(k.map(|i| i as f32 * 0.5).collect()),
        Dtype::Int8 => ArrayData::Int8(k.map(|i| (i as i8).wrapping_mul(37)).collect()),
        Dtype::UInt8 => ArrayData::UInt8(k.map(|i| (i * 41) as u8).collect()),
        Dtype::Int16 => ArrayData::Int16(k.map(|i| -(i as i16) * 1000).collect()),
        Dtype::UInt16 => ArrayData::UInt16(k.map(|i| (i as u16).wrapping_mul(4099)).collect()),
        Dtype::Int32 => ArrayData::Int32(k.map(|i| i32::MIN + i as i32).collect()),
        Dtype::UInt32 => ArrayData::UInt32(k.map(|i| u32::MAX - i as u32).collect()),
        Dtype::Int64 => ArrayData::Int64(k.map(|i| i64::MAX - i as i64).collect()),
        Dtype::UInt64 => ArrayData::UInt64(k.map(|i| u64::MAX / (i as u64 + 1)).collect()),
        Dtype::DateTime64(u) => {
            ArrayData::DateTime64(u, k.map(|i| i as i64 * 1_000_003 - 7).collect())
        }
    }
}

const DTYPES: &[Dtype] = &[
    Dtype::Bool,
    Dtype::Char,
    Dtype::Object,
    Dtype::Float64,
    Dtype::Float32,
    Dtype::Int8,
    Dtype::UInt8,
    Dtype::Int16,
    Dtype::UInt16,
    Dtype::Int32,
    Dtype::UInt32,
    Dtype::Int64,
    Dtype::UInt64,
    Dtype::DateTime64(TimeUnit::Year),
    Dtype::DateTime64(TimeUnit::Week),
    Dtype::DateTime64(TimeUnit::Millisecond),
    Dtype::DateTime64(TimeUnit::Attosecond),
];

#[test]
fn every_dtype_and_shape() {
    for &dtype in DTYPES {
        for shape in SHAPES {
            let a = Array::new(shape.to_vec(), data_for(dtype, n_of(shape))).unwrap();
            assert_eq!(a.dtype(), dtype);
            roundtrip(&a.clone().into());
            if dtype.may_be_complex() {
                let c = Array::new_complex(
                    shape.to_vec(),
                    data_for(dtype, n_of(shape)),
                    data_for(dtype, n_of(shape)),
                )
                .unwrap();
                roundtrip(&c.into());
            }
        }
    }
}

#[test]
fn class_ids_and_item_sizes() {
    let expected = [
        (Dtype::Bool, 3, Some(1)),
        (Dtype::Char, 4, Some(2)),
        (Dtype::Object, 5, None),
        (Dtype::Float64, 6, Some(8)),
        (Dtype::Float32, 7, Some(4)),
        (Dtype::Int8, 8, Some(1)),
        (Dtype::UInt8, 9, Some(1)),
        (Dtype::Int16, 10, Some(2)),
        (Dtype::UInt16, 11, Some(2)),
        (Dtype::Int32, 12, Some(4)),
        (Dtype::UInt32, 13, Some(4)),
        (Dtype::Int64, 14, Some(8)),
        (Dtype::UInt64, 15, Some(8)),
        (Dtype::DateTime64(TimeUnit::Year), 65536, Some(8)),
        (Dtype::DateTime64(TimeUnit::Day), 65539, Some(8)),
        (Dtype::DateTime64(TimeUnit::Attosecond), 65548, Some(8)),
    ];
    for (d, id, size) in expected {
        assert_eq!(d.class_id(), id, "{d:?}");
        assert_eq!(Dtype::from_class_id(id), Some(d));
        assert_eq!(d.item_size(), size);
    }
    for id in [0, 1, 2, 16, 65549] {
        assert_eq!(Dtype::from_class_id(id), None);
    }
}

#[test]
fn row_major_helpers() {
    // numpy: np.arange(6).reshape(2, 3) -> column-major 0 3 1 4 2 5
    let a = Array::from_row_major(vec![2, 3], (0..6i64).collect()).unwrap();
    assert_eq!(a.as_slice::<i64>().unwrap(), &[0, 3, 1, 4, 2, 5]);
    assert_eq!(a.to_row_major::<i64>().unwrap(), (0..6).collect::<Vec<_>>());
    // np.arange(24).reshape(2, 3, 4): element [i, j, k] = 12i + 4j + k,
    // column-major position i + 2j + 6k
    let a = Array::from_row_major(vec![2, 3, 4], (0..24i32).collect()).unwrap();
    let col = a.as_slice::<i32>().unwrap();
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..4 {
                assert_eq!(col[i + 2 * j + 6 * k], (12 * i + 4 * j + k) as i32);
            }
        }
    }
    assert_eq!(
        a.to_row_major::<i32>().unwrap(),
        (0..24).collect::<Vec<_>>()
    );
    assert_eq!(a.row_major_data(), ArrayData::Int32((0..24).collect()));
    assert_eq!(a.to_f64_row_major().unwrap()[23], 23.0);
    assert!(a.to_row_major::<f64>().is_none());
    // wrong element count
    assert!(Array::from_row_major(vec![2, 2], vec![1.0f64; 3]).is_err());
    assert!(Array::new(vec![2], ArrayData::Float64(vec![])).is_err());
}

#[test]
fn interval_lists() {
    let v = Value::intervals(&[[0.0, 1.0], [5.0, 7.5]]);
    let a = v.as_array().unwrap();
    assert_eq!(a.shape(), &[2, 2]);
    // column-major: starts then stops
    assert_eq!(v.as_f64_slice().unwrap(), &[0.0, 5.0, 1.0, 7.5]);
    assert_eq!(v.as_intervals().unwrap(), vec![[0.0, 1.0], [5.0, 7.5]]);
    let w = Value::f64_array(vec![2, 2], vec![0.0, 1.0, 5.0, 7.5]).unwrap();
    assert_eq!(v, w);
    assert_eq!(
        spyglass_blob::unpack(&pack(&v))
            .unwrap()
            .as_intervals()
            .unwrap(),
        vec![[0.0, 1.0], [5.0, 7.5]]
    );
    assert!(Value::intervals(&[]).as_intervals().unwrap().is_empty());
    roundtrip(&v);
}

#[test]
fn python_scalars_and_containers() {
    let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let time = NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap();
    let values = vec![
        Value::None,
        Value::Bool(true),
        Value::Int(0),
        Value::Int(i128::MIN),
        Value::Int(i128::MAX),
        Value::BigInt(
            BigInt::from_le_bytes(&[0u8; 40].iter().copied().chain([1]).collect::<Vec<_>>())
                .unwrap(),
        ),
        Value::Float(-0.0),
        Value::Complex(f64::INFINITY, -1.0),
        Value::from("naïve ✓"),
        Value::Bytes((0..=255).collect()),
        Value::Decimal("-1.000E-7".into()),
        Value::Date(date),
        Value::Time(time),
        Value::DateTime(date.and_time(time)),
        Value::Uuid(Uuid::from_u128(0x0123456789abcdef0123456789abcdef)),
        Value::Tuple(vec![]),
        Value::Set(vec![Value::from("a"), Value::from(1)]),
        Value::Dict(vec![
            (
                Value::Tuple(vec![Value::from(1), Value::from(2)]),
                Value::from(vec![1.0, 2.0]),
            ),
            (Value::None, Value::List(vec![Value::Dict(vec![])])),
        ]),
        Value::List(vec![
            Value::from(vec![1u32, 2]),
            Value::Cell(CellArray::row(vec![
                Value::from(1.5),
                Array::char_row("x").into(),
            ])),
        ]),
    ];
    for v in &values {
        roundtrip(v);
    }
}

#[test]
fn big_integers() {
    // 2**200 and -(2**200): 201 bits -> 26 bytes
    let mut pos = vec![0u8; 25];
    pos.push(1);
    let p = BigInt::from_le_bytes(&pos).unwrap();
    assert_eq!(
        p.to_decimal_string(),
        "1606938044258990275541962092341162602522202993782792835301376"
    );
    let neg = BigInt::from_le_bytes(&[0u8; 25].iter().copied().chain([0xFF]).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(
        neg.to_decimal_string(),
        "-1606938044258990275541962092341162602522202993782792835301376"
    );
    // Python sizes -2**127 by its magnitude: 17 bytes
    let b = pack_uncompressed(&Value::Int(i128::MIN));
    assert_eq!(&b[4..7], &[0x0A, 17, 0]);
    // non-minimal input is normalised; values that fit decode as Int
    assert_eq!(
        Value::int_from_le_bytes(&[5, 0, 0, 0]).unwrap(),
        Value::Int(5)
    );
    assert_eq!(Value::int_from_le_bytes(&[]).unwrap(), Value::Int(0));
    assert_eq!(
        Value::int_from_le_bytes(&[0xFF; 30]).unwrap(),
        Value::Int(-1)
    );
    assert!(BigInt::from_le_bytes(&vec![0x11; 70_000]).is_err());
}

#[test]
fn compound_arrays() {
    let st = StructArray::new(
        vec![2, 1],
        vec!["a".into(), "bb".into()],
        vec![
            Value::from(vec![1.0]),
            Array::char_row("x").into(),
            Value::from(vec![2.0]),
            Value::None,
        ],
    )
    .unwrap();
    assert_eq!(st.get(1, "a"), Some(&Value::from(vec![2.0])));
    assert_eq!(st.get(1, "zz"), None);
    assert_eq!(st.get(2, "a"), None);
    roundtrip(&st.clone().into());
    assert!(needs_dj0(&st.into()), "None inside a struct forces dj0");
    assert!(StructArray::new(vec![2], vec!["a".into()], vec![Value::None]).is_err());
    assert!(StructArray::new(vec![1], vec!["a\0b".into()], vec![Value::None]).is_err());

    let empty_struct = StructArray::new(vec![0, 0], vec!["a".into()], vec![]).unwrap();
    roundtrip(&empty_struct.into());
    let no_fields = StructArray::new(vec![1, 1], vec![], vec![]).unwrap();
    roundtrip(&no_fields.into());

    let cell = CellArray::new(vec![0, 0], vec![]).unwrap();
    roundtrip(&cell.into());
    assert!(CellArray::new(vec![2, 2], vec![Value::None]).is_err());

    let rec = RecArray::new(vec![
        (
            "t".into(),
            Array::datetime64(TimeUnit::Second, vec![2], vec![0, 1])
                .unwrap()
                .into(),
        ),
        (
            "inner".into(),
            RecArray::new(vec![("z".into(), Value::from(vec![1u16, 2]))])
                .unwrap()
                .into(),
        ),
    ])
    .unwrap();
    assert_eq!(rec.shape(), &[2]);
    roundtrip(&rec.into());
    assert!(RecArray::new(vec![("x".into(), Value::None)]).is_err());
    roundtrip(&RecArray::new(vec![]).unwrap().into());
}

#[test]
fn protocol_choice() {
    let mym = |v: Value| {
        assert!(!needs_dj0(&v), "{v:?}");
        assert!(pack(&v).starts_with(b"mYm\0"), "{v:?}");
    };
    let dj0 = |v: Value| {
        assert!(needs_dj0(&v), "{v:?}");
        assert!(pack(&v).starts_with(b"dj0\0"), "{v:?}");
    };
    mym(Value::from(vec![1.0]));
    mym(Array::char_row("abc").into());
    mym(Array::new(vec![], ArrayData::Char(vec![65]))
        .unwrap()
        .into()); // 0-d char stays mYm
    mym(CellArray::row(vec![Value::from(vec![1i8]), CellArray::row(vec![]).into()]).into());
    mym(StructArray::scalar(vec![("a", Value::from(vec![true]))])
        .unwrap()
        .into());
    dj0(Array::scalar(1.0f64).into());
    dj0(Array::scalar(true).into());
    dj0(Array::strings(vec![0], Vec::<String>::new())
        .unwrap()
        .into());
    dj0(Array::datetime64(TimeUnit::Day, vec![1], vec![0])
        .unwrap()
        .into());
    dj0(CellArray::row(vec![Value::from(1.0)]).into());
    dj0(StructArray::scalar(vec![("a", Array::scalar(1u8).into())])
        .unwrap()
        .into());
    dj0(Value::Float(1.0));
    dj0(RecArray::new(vec![("a".into(), Value::from(vec![1.0]))])
        .unwrap()
        .into());
}

#[test]
fn squeeze_option() {
    let sq = UnpackOptions {
        squeeze: true,
        ..Default::default()
    };
    let cases: Vec<(Value, Value)> = vec![
        (Array::scalar(2.5f64).into(), Value::Float(2.5)),
        (Array::scalar(7u16).into(), Value::Int(7)),
        (Array::scalar(true).into(), Value::Bool(true)),
        (
            Array::new_complex(
                vec![1, 1],
                ArrayData::Float32(vec![1.0]),
                ArrayData::Float32(vec![2.0]),
            )
            .unwrap()
            .into(),
            Value::Complex(1.0, 2.0),
        ),
        (
            Array::strings(vec![], vec!["ab"]).unwrap().into(),
            Value::from("ab"),
        ),
        (
            Array::strings(vec![1], vec!["ab"]).unwrap().into(),
            Value::from("ab"),
        ),
        (Array::char_row("hey").into(), Value::from("hey")),
        (
            Array::from_row_major(vec![1, 3, 1], vec![1.0, 2.0, 3.0])
                .unwrap()
                .into(),
            Value::from(vec![1.0, 2.0, 3.0]),
        ),
        (
            Array::datetime64(TimeUnit::Day, vec![], vec![18263])
                .unwrap()
                .into(),
            Value::Date(NaiveDate::from_ymd_opt(2020, 1, 2).unwrap()),
        ),
        (
            Array::datetime64(TimeUnit::Millisecond, vec![1], vec![1500])
                .unwrap()
                .into(),
            Value::DateTime(
                NaiveDate::from_ymd_opt(1970, 1, 1)
                    .unwrap()
                    .and_hms_milli_opt(0, 0, 1, 500)
                    .unwrap(),
            ),
        ),
        (
            Array::datetime64(TimeUnit::Nanosecond, vec![], vec![5])
                .unwrap()
                .into(),
            Value::Int(5),
        ),
        (
            Array::datetime64(TimeUnit::Second, vec![], vec![i64::MIN])
                .unwrap()
                .into(),
            Value::None,
        ),
        (
            CellArray::row(vec![Value::from(1), Value::from(2)]).into(),
            CellArray::new(vec![2], vec![Value::from(1), Value::from(2)])
                .unwrap()
                .into(),
        ),
    ];
    for (v, want) in cases {
        assert_eq!(unpack_with(&pack(&v), sq).unwrap(), want, "{v:?}");
    }
}
