//! Damaged blobs: every one returns a `BlobError` that says what is wrong and
//! where, and nothing panics or allocates from a bogus length.

use crate::common;

use common::hex;
use spyglass_blob::{pack, unpack, unpack_with, Array, BlobError, UnpackOptions, Value, MAX_DEPTH};

fn err(bytes: &[u8]) -> BlobError {
    match unpack(bytes) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn msg(bytes: &[u8]) -> String {
    err(bytes).to_string()
}

fn u64le(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

#[test]
fn truncated_float() {
    let e = err(&hex("646a30000d0000"));
    assert_eq!(
        e,
        BlobError::Truncated {
            what: "float",
            offset: 5,
            needed: 8,
            available: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "truncated blob: float at offset 5 needs 8 bytes but only 2 remain"
    );
}

#[test]
fn every_prefix_of_valid_blobs_is_an_error() {
    let values: Vec<Value> = vec![
        Value::dict([
            ("a", Value::from(vec![1.0, 2.0])),
            ("b", Value::from("text")),
        ]),
        Array::from_row_major(vec![2, 3], vec![1i16, 2, 3, 4, 5, 6])
            .unwrap()
            .into(),
        Value::List(vec![
            Value::None,
            Value::Int(1 << 80),
            Value::Decimal("1.5".into()),
        ]),
        Value::from(vec![0.0f64; 1000]), // compressed
    ];
    for v in values {
        let b = pack(&v);
        for cut in 0..b.len() {
            let r = unpack(&b[..cut]);
            assert!(
                r.is_err(),
                "prefix of {cut}/{} bytes decoded: {r:?}",
                b.len()
            );
        }
        assert_eq!(unpack(&b).unwrap(), v);
    }
}

#[test]
fn wrong_header() {
    assert_eq!(
        msg(b"xyz\0\xff"),
        "not a DataJoint blob: protocol header \"xyz\" (expected \"mYm\" or \"dj0\")"
    );
    assert!(matches!(err(b""), BlobError::BadProtocol { .. }));
    assert!(matches!(err(b"mYm"), BlobError::BadProtocol { .. }));
    assert!(matches!(err(b"dj1\0\xff"), BlobError::BadProtocol { .. }));
}

#[test]
fn unknown_code() {
    let e = err(&hex("646a300007"));
    assert_eq!(
        e,
        BlobError::UnknownCode {
            code: 7,
            printable: '\u{7}',
            offset: 4
        }
    );
    assert!(
        e.to_string().contains("unknown data structure code 0x07"),
        "{e}"
    );
    // nested: second element of a list
    let mut b = hex("646a3000020200000000000000");
    b.extend(u64le(1));
    b.push(0xFF);
    b.extend(u64le(1));
    b.push(b'Z');
    let e = err(&b);
    assert_eq!(
        e,
        BlobError::UnknownCode {
            code: b'Z',
            printable: 'Z',
            offset: 30
        }
    );
}

#[test]
fn sparse_is_refused() {
    let e = err(b"mYm\0P\x00\x00");
    assert_eq!(e, BlobError::Sparse { offset: 4 });
    assert_eq!(
        e.to_string(),
        "sparse array (code 'P') at offset 4 is not supported"
    );
}

#[test]
fn bogus_huge_lengths() {
    // list claiming 2^60 elements
    let mut b = b"dj0\0\x02".to_vec();
    b.extend(u64le(1 << 60));
    let e = err(&b);
    assert_eq!(
        e,
        BlobError::BadLength {
            what: "sequence length",
            value: 1 << 60,
            offset: 5,
            available: 0
        }
    );
    // string of u64::MAX bytes
    let mut b = b"dj0\0\x05".to_vec();
    b.extend(u64le(u64::MAX));
    b.extend(b"abc");
    assert!(msg(&b).contains("bogus string length 18446744073709551615 at offset 5"));
    // array whose shape would need terabytes
    let mut b = b"mYm\0A".to_vec();
    b.extend(u64le(2));
    b.extend(u64le(1 << 20));
    b.extend(u64le(1 << 20));
    b.extend(6u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    b.extend([0u8; 16]);
    let e = err(&b);
    assert!(
        matches!(
            e,
            BlobError::Truncated {
                what: "array data",
                offset: 37,
                ..
            }
        ),
        "{e}"
    );
    // shape whose element count overflows
    let mut b = b"mYm\0A".to_vec();
    b.extend(u64le(2));
    b.extend(u64le(u64::MAX));
    b.extend(u64le(u64::MAX));
    b.extend(6u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    assert!(matches!(err(&b), BlobError::Invalid { what: "shape", .. }));
    // ndim larger than the blob
    let mut b = b"mYm\0A".to_vec();
    b.extend(u64le(1 << 40));
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            what: "array ndim",
            ..
        }
    ));
    // dict, cell, struct and object-array counts
    let mut b = b"dj0\0\x04".to_vec();
    b.extend(u64le(1 << 62));
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            what: "dict length",
            ..
        }
    ));
    let mut b = b"mYm\0C".to_vec();
    b.extend(u64le(1));
    b.extend(u64le(1 << 50));
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            what: "cell element count",
            ..
        }
    ));
    let mut b = b"mYm\0S".to_vec();
    b.extend(u64le(1));
    b.extend(u64le(1 << 50));
    b.extend(1u32.to_le_bytes());
    b.extend(b"a\0");
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            what: "struct value count",
            ..
        }
    ));
    let mut b = b"dj0\0A".to_vec();
    b.extend(u64le(1));
    b.extend(u64le(1 << 50));
    b.extend(5u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            what: "object array element count",
            ..
        }
    ));
}

#[test]
fn compressed_header_lies_about_length() {
    let good = pack(&Value::from(vec![0.0f64; 1000]));
    // claims 2^62 bytes: refused before decompressing (deflate expands at most 1032:1)
    let mut b = good.clone();
    b[6..14].copy_from_slice(&u64le(1 << 62));
    let e = err(&b);
    assert_eq!(
        e.to_string(),
        "bogus decompressed length (beyond deflate's 1032:1 limit) 4611686018427387904 at offset 6: only 46 bytes remain"
    );
    let mut b = good.clone();
    b[6..14].copy_from_slice(&u64le(u64::MAX));
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            value: u64::MAX,
            ..
        }
    ));
    // plausible but one byte too many
    let mut b = good.clone();
    b[6..14].copy_from_slice(&u64le(8030));
    let e = err(&b);
    assert_eq!(
        e,
        BlobError::DecompressedLength {
            expected: 8030,
            actual: 8029
        }
    );
    assert_eq!(
        e.to_string(),
        "compressed blob header says 8030 bytes but the stream decompresses to 8029"
    );
    // claims fewer bytes than the stream holds
    let mut b = good.clone();
    b[6..14].copy_from_slice(&u64le(100));
    assert!(matches!(
        err(&b),
        BlobError::DecompressedLength { expected: 100, .. }
    ));
    // header cut short
    assert!(matches!(
        err(b"ZL123\0\x01\x02"),
        BlobError::Truncated {
            what: "compressed-length header",
            ..
        }
    ));
}

#[test]
fn bad_zlib() {
    let mut b = b"ZL123\0".to_vec();
    b.extend(u64le(2000));
    b.extend(b"this is not a zlib stream at all");
    let e = err(&b);
    assert!(matches!(e, BlobError::Zlib(_)), "{e}");
    assert!(
        e.to_string()
            .starts_with("bad zlib stream in compressed blob"),
        "{e}"
    );

    let good = pack(&Value::from(vec![0.0f64; 1000]));
    let e = err(&good[..good.len() - 5]);
    assert!(e.to_string().contains("truncated"), "{e}");

    let mut b = good.clone();
    b.extend(b"junk");
    assert_eq!(
        err(&b).to_string(),
        "bad zlib stream in compressed blob: 4 trailing bytes after the end of the zlib stream"
    );
}

#[test]
fn trailing_garbage() {
    let mut b = pack(&Value::from(7.0));
    b.extend(b"xx");
    assert_eq!(
        err(&b),
        BlobError::Trailing {
            offset: 13,
            count: 2
        }
    );
    assert_eq!(
        msg(&b),
        "2 trailing bytes after the top-level item (from offset 13)"
    );
}

#[test]
fn item_length_mismatch() {
    // [None] with the element's length prefix saying 2 instead of 1
    let mut b = hex("646a30000201000000000000000200000000000000ff");
    b.push(0xFF);
    assert_eq!(
        err(&b),
        BlobError::ItemLength {
            offset: 13,
            declared: 2,
            used: 1
        }
    );
    // declared longer than what remains
    let b = hex("646a30000201000000000000000900000000000000ff");
    assert!(matches!(
        err(&b),
        BlobError::BadLength {
            what: "item length",
            ..
        }
    ));
}

#[test]
fn invalid_contents() {
    // invalid UTF-8 in a string
    let mut b = b"dj0\0\x05".to_vec();
    b.extend(u64le(2));
    b.extend([0xC3, 0x28]);
    let e = err(&b);
    assert!(
        matches!(
            e,
            BlobError::Invalid {
                what: "string",
                offset: 13,
                ..
            }
        ),
        "{e}"
    );
    // month 13
    let mut b = b"dj0\0t".to_vec();
    b.extend(20201301i32.to_le_bytes());
    b.extend((-1i64).to_le_bytes());
    assert_eq!(
        msg(&b),
        "invalid date at offset 5: 20201301 is not a valid YYYYMMDD date"
    );
    // 25 o'clock
    let mut b = b"dj0\0t".to_vec();
    b.extend((-1i32).to_le_bytes());
    b.extend(250_000_000_000i64.to_le_bytes());
    assert!(matches!(err(&b), BlobError::Invalid { what: "time", .. }));
    // decimal that is not a number
    let mut b = b"dj0\0d".to_vec();
    b.extend(u64le(3));
    b.extend(b"1x5");
    assert!(msg(&b).contains("\"1x5\" is not a decimal number"));
    // field name without NUL
    let mut b = b"dj0\0F".to_vec();
    b.extend(1u32.to_le_bytes());
    b.extend(b"abc");
    assert!(matches!(
        err(&b),
        BlobError::BadLength { .. } | BlobError::Invalid { .. }
    ));
    // record field that is not an array
    let mut b = b"dj0\0F".to_vec();
    b.extend(1u32.to_le_bytes());
    b.extend(b"x\0\xff");
    assert!(msg(&b).contains("field \"x\" is a None, not an array"));
    // datetime64 flagged complex
    let mut b = b"dj0\0A".to_vec();
    b.extend(u64le(0));
    b.extend(65539u32.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend([0u8; 16]);
    assert!(msg(&b).contains("datetime64 array flagged complex"));
}

#[test]
fn unsupported_class_ids() {
    for id in [0u32, 1, 2, 16, 17, 99, 65549, u32::MAX] {
        let mut b = b"mYm\0A".to_vec();
        b.extend(u64le(1));
        b.extend(u64le(1));
        b.extend(id.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend([0u8; 8]);
        assert_eq!(
            err(&b),
            BlobError::UnsupportedClass {
                class_id: id,
                offset: 21
            }
        );
    }
}

#[test]
fn nesting_limit() {
    // MAX_DEPTH + 1 nested lists
    let mut v = Value::None;
    for _ in 0..MAX_DEPTH {
        v = Value::List(vec![v]);
    }
    let b = pack(&v);
    let e = err(&b);
    assert!(
        matches!(
            e,
            BlobError::TooDeep {
                limit: MAX_DEPTH,
                ..
            }
        ),
        "{e}"
    );
    // one level less decodes
    let mut v = Value::None;
    for _ in 0..MAX_DEPTH - 1 {
        v = Value::List(vec![v]);
    }
    // on a default-sized (2 MiB) test thread
    assert!(unpack(&pack(&v)).is_ok());
}

#[test]
fn legacy_32bit_mode_rejects_64bit_blobs_cleanly() {
    let b = pack(&Value::dict([("a", Value::from(vec![1.0, 2.0]))]));
    let r = unpack_with(
        &b,
        UnpackOptions {
            use_32bit_dims: true,
            squeeze: false,
        },
    );
    assert!(r.is_err());
}

/// Deterministic corruption: flipping, inserting and deleting bytes of valid blobs never panics.
#[test]
fn corrupted_blobs_never_panic() {
    let values: Vec<Value> = vec![
        Value::dict([
            ("x", Value::from(vec![1.0, 2.0, 3.0])),
            ("s", Value::from("hello")),
            ("n", Value::List(vec![Value::Int(-5), Value::Bool(true), Value::None])),
        ]),
        Array::strings(vec![2, 2], vec!["a", "bb", "ccc", ""]).unwrap().into(),
        Array::from_row_major(vec![2, 2], vec![1u32, 2, 3, 4]).unwrap().into(),
        spyglass_blob::unpack(&hex("6D596D00430200000000000000010000000000000002000000000000002F0000000000000041020000000000000001000000000000000700000000000000040000000000000073007400720069006E00670031002F0000000000000041020000000000000001000000000000000700000000000000040000000000000073007400720069006E0067003200")).unwrap(),
    ];
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for v in &values {
        let good = pack(v);
        for _ in 0..3000 {
            let mut b = good.clone();
            let pos = (next() % b.len() as u64) as usize;
            match next() % 4 {
                0 => b[pos] ^= 1 << (next() % 8),
                1 => b[pos] = next() as u8,
                2 => b.insert(pos, next() as u8),
                _ => {
                    b.remove(pos);
                }
            }
            let both = [
                unpack(&b),
                unpack_with(
                    &b,
                    UnpackOptions {
                        squeeze: true,
                        use_32bit_dims: false,
                    },
                ),
            ];
            errors += both.iter().filter(|r| r.is_err()).count();
        }
    }
    assert!(errors > 0);
}
