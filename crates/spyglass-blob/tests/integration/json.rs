//! The JSON view (`Serialize for Value`) against hand-written expectations, and
//! `from_json` on documents. (datajoint-python cross-checks are in oracle.rs.)

use chrono::{NaiveDate, NaiveTime};
use serde_json::json;
use spyglass_blob::{
    datetime64_text, from_json, pack, unpack, Array, BigInt, CellArray, RecArray, StructArray,
    TimeUnit, Value,
};
use uuid::Uuid;

#[test]
fn scalars_and_containers() {
    let date = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
    let v = Value::dict([
        ("none", Value::None),
        ("bool", Value::Bool(true)),
        ("int", Value::Int(-3)),
        ("huge", Value::Int(1 << 100)),
        (
            "big",
            Value::BigInt(
                BigInt::from_le_bytes(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF])
                    .unwrap(),
            ),
        ),
        ("float", Value::Float(1.5)),
        ("nan", Value::Float(f64::NAN)),
        ("complex", Value::Complex(1.0, -2.0)),
        ("str", Value::from("é")),
        ("bytes", Value::Bytes(vec![0, 255])),
        ("decimal", Value::Decimal("1.50".into())),
        ("date", Value::Date(date)),
        (
            "time",
            Value::Time(NaiveTime::from_hms_micro_opt(3, 4, 5, 6).unwrap()),
        ),
        (
            "time0",
            Value::Time(NaiveTime::from_hms_opt(3, 4, 5).unwrap()),
        ),
        (
            "datetime",
            Value::DateTime(date.and_hms_opt(3, 4, 5).unwrap()),
        ),
        (
            "uuid",
            Value::Uuid(Uuid::from_u128(0x12345678123456781234567812345678)),
        ),
        (
            "tuple",
            Value::Tuple(vec![Value::from(1), Value::from("a")]),
        ),
        ("set", Value::Set(vec![Value::from(2)])),
        (
            "intkeys",
            Value::Dict(vec![(Value::from(1), Value::from("one"))]),
        ),
    ]);
    assert_eq!(
        v.to_json(),
        json!({
            "none": null,
            "bool": true,
            "int": -3,
            "huge": "1267650600228229401496703205376",
            "big": "-340282366920938463463374607431768211456",
            "float": 1.5,
            "nan": null,
            "complex": {"real": 1.0, "imag": -2.0},
            "str": "é",
            "bytes": [0, 255],
            "decimal": "1.50",
            "date": "2020-01-02",
            "time": "03:04:05.000006",
            "time0": "03:04:05",
            "datetime": "2020-01-02T03:04:05",
            "uuid": "12345678-1234-5678-1234-567812345678",
            "tuple": [1, "a"],
            "set": [2],
            "intkeys": [[1, "one"]],
        })
    );
    // key order follows the dict
    let text = serde_json::to_string(&Value::dict([("z", 1), ("a", 2)])).unwrap();
    assert_eq!(text, r#"{"z":1,"a":2}"#);
}

#[test]
fn arrays_are_nested_row_major_lists() {
    let a = Value::f64_array(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    assert_eq!(a.to_json(), json!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
    let a: Value = Array::from_row_major(vec![2, 2, 2], (0..8u8).collect())
        .unwrap()
        .into();
    assert_eq!(a.to_json(), json!([[[0, 1], [2, 3]], [[4, 5], [6, 7]]]));
    assert_eq!(Value::from(Array::scalar(2.5f64)).to_json(), json!(2.5));
    assert_eq!(
        Value::from(vec![true, false]).to_json(),
        json!([true, false])
    );
    assert_eq!(Value::from(Vec::<f64>::new()).to_json(), json!([]));
    assert_eq!(
        Value::from(Array::from_row_major::<i32>(vec![0, 2], vec![]).unwrap()).to_json(),
        json!([])
    );
    assert_eq!(
        Value::from(Array::from_row_major::<i32>(vec![2, 0], vec![]).unwrap()).to_json(),
        json!([[], []])
    );
    let c = Array::complex_from_row_major(vec![1, 2], vec![(1.0f64, 2.0), (3.0, 4.0)]).unwrap();
    assert_eq!(
        Value::from(c).to_json(),
        json!([[{"real": 1.0, "imag": 2.0}, {"real": 3.0, "imag": 4.0}]])
    );
    assert_eq!(
        Value::from(Array::char_row("hello")).to_json(),
        json!("hello")
    );
    assert_eq!(
        Value::from(Array::strings(vec![2, 1], vec!["a", "b"]).unwrap()).to_json(),
        json!([["a"], ["b"]])
    );
    let dt = Array::datetime64(TimeUnit::Millisecond, vec![3], vec![1500, -1, i64::MIN]).unwrap();
    assert_eq!(
        Value::from(dt).to_json(),
        json!(["1970-01-01T00:00:01.500", "1969-12-31T23:59:59.999", null])
    );
}

#[test]
fn datetime64_text_matches_numpy() {
    // str(np.datetime64(t, unit)) for a few units
    let cases = [
        (TimeUnit::Year, 50, "2020"),
        (TimeUnit::Month, 601, "2020-02"),
        (TimeUnit::Week, 2609, "2020-01-02"),
        (TimeUnit::Day, 18263, "2020-01-02"),
        (TimeUnit::Hour, -1, "1969-12-31T23"),
        (TimeUnit::Minute, 61, "1970-01-01T01:01"),
        (TimeUnit::Second, 1_665_630_193, "2022-10-13T03:03:13"),
        (TimeUnit::Microsecond, 1, "1970-01-01T00:00:00.000001"),
        (TimeUnit::Nanosecond, -1, "1969-12-31T23:59:59.999999999"),
        (TimeUnit::Picosecond, 1, "1970-01-01T00:00:00.000000000001"),
        (
            TimeUnit::Attosecond,
            5,
            "1970-01-01T00:00:00.000000000000000005",
        ),
    ];
    for (unit, t, want) in cases {
        assert_eq!(
            datetime64_text(unit, t).as_deref(),
            Some(want),
            "{unit:?} {t}"
        );
    }
    assert_eq!(datetime64_text(TimeUnit::Day, i64::MIN), None);
}

#[test]
fn compound_json() {
    let st = StructArray::new(
        vec![1, 2],
        vec!["a".into(), "b".into()],
        vec![
            Value::from(1),
            Value::from("x"),
            Value::from(2),
            Value::None,
        ],
    )
    .unwrap();
    assert_eq!(
        Value::from(st).to_json(),
        json!([[{"a": 1, "b": "x"}, {"a": 2, "b": null}]])
    );
    let cell = CellArray::new(
        vec![2, 2],
        vec![
            Value::from(1),
            Value::from(2),
            Value::from(3),
            Value::from(4),
        ],
    )
    .unwrap();
    // column-major elements 1 2 3 4 -> rows [1, 3], [2, 4]
    assert_eq!(Value::from(cell).to_json(), json!([[1, 3], [2, 4]]));
    let rec = RecArray::new(vec![
        ("x".into(), Value::from(vec![1.0, 3.0])),
        ("y".into(), Value::from(vec![2i64, 4])),
    ])
    .unwrap();
    assert_eq!(
        Value::from(rec).to_json(),
        json!([{"x": 1.0, "y": 2}, {"x": 3.0, "y": 4}])
    );
}

#[test]
fn from_json_documents() {
    let doc = json!({"name": "lfp", "params": {"order": 4, "band": [0.5, 400.0], "ok": true, "none": null}, "big": 18446744073709551615u64});
    let v = from_json(&doc);
    assert_eq!(
        v,
        Value::dict([
            ("name", Value::from("lfp")),
            (
                "params",
                Value::dict([
                    ("order", Value::from(4)),
                    (
                        "band",
                        Value::List(vec![Value::Float(0.5), Value::Float(400.0)])
                    ),
                    ("ok", Value::Bool(true)),
                    ("none", Value::None),
                ]),
            ),
            ("big", Value::Int(u64::MAX as i128)),
        ])
    );
    // and back: JSON -> Value -> blob -> Value -> JSON
    let back = unpack(&pack(&v)).unwrap().to_json();
    assert_eq!(back, doc);
}
