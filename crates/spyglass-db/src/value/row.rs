//! `Row`: the values of one row in the order of a column list shared by all rows
//! of a fetch or insert; serializes as a JSON object.

use super::Value;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::sync::Arc;

/// Column names shared by the rows of one fetch or insert.
pub type Columns = Arc<[String]>;

/// One row: values in the order of a shared column list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Columns,
    values: Vec<Value>,
}

impl Row {
    /// Builds a row from shared column names and values of the same length.
    pub fn new(columns: Columns, values: Vec<Value>) -> Result<Row> {
        if columns.len() != values.len() {
            return Err(Error::Query(format!(
                "row has {} values for {} columns",
                values.len(),
                columns.len()
            )));
        }
        Ok(Row { columns, values })
    }

    /// Builds a row from (name, value) pairs.
    pub fn from_pairs<K: Into<String>, V: Into<Value>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Row {
        let (names, values): (Vec<String>, Vec<Value>) =
            pairs.into_iter().map(|(k, v)| (k.into(), v.into())).unzip();
        Row {
            columns: names.into(),
            values,
        }
    }

    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| &self.values[i])
    }

    /// Column names.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Values in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Consumes the row into its values.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns
            .iter()
            .map(String::as_str)
            .zip(self.values.iter())
    }

    /// A copy restricted to the named attributes (those present).
    pub fn project(&self, names: &[String]) -> Row {
        Row::from_pairs(
            names
                .iter()
                .filter_map(|n| self.get(n).map(|v| (n.clone(), v.clone()))),
        )
    }

    /// The row as an ordered map.
    pub fn to_map(&self) -> IndexMap<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// The row as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_string(), v.to_json()))
                .collect(),
        )
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.values.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, &v.to_json())?;
        }
        m.end()
    }
}
