//! The fingerprint of a make's inputs: a 128-bit XXH3 hash of their serde
//! serialization, fed to the hasher as tagged binary values (floats by their
//! bits, strings and sequences with their lengths, struct fields with their
//! names). It is compared only within one make (phase 1 against the re-read inside
//! the insert transaction), never stored, so it needs to be collision-resistant
//! for accidental changes only, and fast: the inputs can be megabytes of samples,
//! which a JSON text and an MD5 of it took tens of milliseconds to hash.

use serde::ser::{self, Serialize};
use std::fmt;
use twox_hash::XxHash3_128;

/// The fingerprint of `inputs` (16 bytes). Inputs that cannot be serialized get a
/// fingerprint that never compares equal to another.
pub fn fingerprint<T: Serialize + ?Sized>(inputs: &T) -> Vec<u8> {
    let mut h = Hashing {
        hasher: XxHash3_128::new(),
        buf: Vec::with_capacity(BUF),
    };
    match inputs.serialize(&mut h) {
        Ok(()) => {
            h.flush();
            h.hasher.finish_128().to_le_bytes().to_vec()
        }
        Err(e) => format!("unserializable: {e} {:?}", std::time::Instant::now()).into_bytes(),
    }
}

/// Bytes buffered before they are handed to the hasher.
const BUF: usize = 1 << 16;

/// Type tags, so that values of different shapes never hash alike.
mod tag {
    pub const BOOL: u8 = 1;
    pub const INT: u8 = 2;
    pub const UINT: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const CHAR: u8 = 5;
    pub const STR: u8 = 6;
    pub const BYTES: u8 = 7;
    pub const NONE: u8 = 8;
    pub const SOME: u8 = 9;
    pub const UNIT: u8 = 10;
    pub const VARIANT: u8 = 11;
    pub const OPEN: u8 = 12;
    pub const CLOSE: u8 = 13;
    pub const MAP: u8 = 14;
    pub const STRUCT: u8 = 15;
}

/// A serializer whose output is the hasher's input.
struct Hashing {
    hasher: XxHash3_128,
    buf: Vec<u8>,
}

impl Hashing {
    fn put(&mut self, tag: u8, bytes: &[u8]) {
        if self.buf.len() + bytes.len() + 1 > BUF {
            self.flush();
        }
        self.buf.push(tag);
        if bytes.len() >= BUF {
            self.flush();
            self.hasher.write(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn text(&mut self, tag: u8, bytes: &[u8]) {
        self.put(tag, &(bytes.len() as u64).to_le_bytes());
        self.put(tag, bytes);
    }

    fn flush(&mut self) {
        self.hasher.write(&self.buf);
        self.buf.clear();
    }
}

/// Why inputs could not be serialized.
#[derive(Debug)]
pub struct Unserializable(String);

impl fmt::Display for Unserializable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unserializable {}

impl ser::Error for Unserializable {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Unserializable(msg.to_string())
    }
}

type Done = Result<(), Unserializable>;

impl<'a> ser::Serializer for &'a mut Hashing {
    type Ok = ();
    type Error = Unserializable;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Done {
        self.put(tag::BOOL, &[u8::from(v)]);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Done {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Done {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Done {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Done {
        self.put(tag::INT, &v.to_le_bytes());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Done {
        self.put(tag::INT, &v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Done {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Done {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Done {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Done {
        self.put(tag::UINT, &v.to_le_bytes());
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Done {
        self.put(tag::UINT, &v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Done {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Done {
        self.put(tag::FLOAT, &v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Done {
        self.put(tag::CHAR, &u32::from(v).to_le_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Done {
        self.text(tag::STR, v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Done {
        self.text(tag::BYTES, v);
        Ok(())
    }
    fn serialize_none(self) -> Done {
        self.put(tag::NONE, &[]);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Done {
        self.put(tag::SOME, &[]);
        v.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        self.put(tag::UNIT, &[]);
        Ok(())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Done {
        self.text(tag::UNIT, name.as_bytes());
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Done {
        self.text(tag::VARIANT, variant.as_bytes());
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Done {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Done {
        self.text(tag::VARIANT, variant.as_bytes());
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Unserializable> {
        self.put(tag::OPEN, &[]);
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Unserializable> {
        self.put(tag::OPEN, &[]);
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Unserializable> {
        self.put(tag::OPEN, &[]);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Unserializable> {
        self.text(tag::VARIANT, variant.as_bytes());
        self.put(tag::OPEN, &[]);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Unserializable> {
        self.put(tag::MAP, &[]);
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unserializable> {
        self.put(tag::STRUCT, &[]);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Unserializable> {
        self.text(tag::VARIANT, variant.as_bytes());
        self.put(tag::STRUCT, &[]);
        Ok(self)
    }
}

/// Sequences, tuples and their struct and variant forms: elements, then a close tag.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for &mut Hashing {
            type Ok = ();
            type Error = Unserializable;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
                v.serialize(&mut **self)
            }
            fn end(self) -> Done {
                self.put(tag::CLOSE, &[]);
                Ok(())
            }
        }
    )*};
}
elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Hashing {
    type Ok = ();
    type Error = Unserializable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Done {
        k.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
        v.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.put(tag::CLOSE, &[]);
        Ok(())
    }
}

/// Structs: each field's name and value, then a close tag.
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for &mut Hashing {
            type Ok = ();
            type Error = Unserializable;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, v: &T) -> Done {
                self.text(tag::STR, name.as_bytes());
                v.serialize(&mut **self)
            }
            fn end(self) -> Done {
                self.put(tag::CLOSE, &[]);
                Ok(())
            }
        }
    )*};
}
fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::fingerprint;
    use std::collections::BTreeMap;

    #[test]
    fn equal_inputs_agree_and_any_change_differs() {
        let a = (vec![1.0f64, 2.0, f64::NAN], "x".to_string(), Some(3i64));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_eq!(fingerprint(&a).len(), 16);
        let changes: Vec<Vec<u8>> = vec![
            fingerprint(&(
                vec![1.0f64, 2.0 + f64::EPSILON * 2.0, f64::NAN],
                "x",
                Some(3i64),
            )),
            fingerprint(&(vec![1.0f64, 2.0, f64::NAN], "y", Some(3i64))),
            fingerprint(&(vec![1.0f64, 2.0, f64::NAN], "x", None::<i64>)),
            fingerprint(&(vec![1.0f64, 2.0], "x", Some(3i64))),
            // a value moved between neighbouring strings must change the hash
            fingerprint(&("ab", "c")),
            fingerprint(&("a", "bc")),
            fingerprint(&(vec![0.0f64], -0.0f64)),
        ];
        for (i, c) in changes.iter().enumerate() {
            assert_ne!(c, &fingerprint(&a), "change {i}");
        }
        assert_ne!(changes[4], changes[5]);
        assert_ne!(fingerprint(&0.0f64), fingerprint(&-0.0f64));
    }

    #[test]
    fn long_strings_hash_as_their_bytes_in_order() {
        // longer than the buffer: written straight to the hasher, after what precedes it
        let long = "x".repeat(super::BUF + 10);
        let mut other = long.clone();
        other.replace_range(5..6, "y");
        assert_eq!(fingerprint(&(1i64, &long)), fingerprint(&(1i64, long.clone())));
        assert_ne!(fingerprint(&(1i64, &long)), fingerprint(&(1i64, &other)));
        assert_ne!(fingerprint(&(1i64, &long)), fingerprint(&(2i64, &long)));
    }

    #[test]
    fn maps_and_structs_hash_their_keys() {
        #[derive(serde::Serialize)]
        struct S {
            a: i64,
            b: i64,
        }
        #[derive(serde::Serialize)]
        struct T {
            a: i64,
            c: i64,
        }
        assert_ne!(
            fingerprint(&S { a: 1, b: 2 }),
            fingerprint(&T { a: 1, c: 2 })
        );
        let m1: BTreeMap<&str, i64> = [("a", 1), ("b", 2)].into();
        let m2: BTreeMap<&str, i64> = [("a", 1), ("c", 2)].into();
        assert_ne!(fingerprint(&m1), fingerprint(&m2));
    }
}
