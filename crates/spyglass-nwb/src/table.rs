//! DynamicTable (hdmf-common) in memory: columns with optional ragged indexes and
//! region targets, read generically from any table-like group (electrodes, units,
//! TimeIntervals, task tables, scratch tables) and written back by the writer.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::data::{Data, Values};
use crate::error::{NwbError, Result};

/// One column of a [`DynamicTable`].
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Column name (dataset name in the table group).
    pub name: String,
    /// The column's `description` attribute.
    pub description: String,
    /// `VectorData`, `DynamicTableRegion`, `TimeSeriesReferenceVectorData`, ...
    pub neurodata_type: String,
    /// The column dataset's `object_id` (empty when absent).
    pub object_id: String,
    /// The stored values (for a ragged column: all rows concatenated).
    pub data: Data,
    /// Cumulative end offsets of each row for a ragged column (`<name>_index`).
    pub index: Option<Vec<u64>>,
    /// Cumulative end offsets of the second level for a doubly ragged column (`<name>_index_index`).
    pub index2: Option<Vec<u64>>,
    /// For a `DynamicTableRegion`: path of the referenced table.
    pub table: Option<String>,
}

impl Column {
    /// True when rows have variable length (`<name>_index` present).
    pub fn is_ragged(&self) -> bool {
        self.index.is_some()
    }

    /// Number of rows of the column.
    pub fn num_rows(&self) -> usize {
        match (&self.index2, &self.index) {
            (Some(i2), _) => i2.len(),
            (None, Some(i)) => i.len(),
            (None, None) => self
                .data
                .shape
                .first()
                .copied()
                .unwrap_or(self.data.values.len()),
        }
    }

    /// Element range of row `row` in the flat data of a (singly) ragged column.
    pub fn row_range(&self, row: usize) -> Option<Range<usize>> {
        let idx = self.index.as_ref()?;
        let end = *idx.get(row)? as usize;
        let start = if row == 0 {
            0
        } else {
            *idx.get(row - 1)? as usize
        };
        (start <= end).then_some(start..end)
    }

    /// Splits flat values by the ragged index (one `Values` per row).
    pub fn ragged_rows(&self) -> Option<Vec<Values>> {
        let idx = self.index.as_ref()?;
        let stride: usize = self.data.shape.iter().skip(1).product::<usize>().max(1);
        let mut out = Vec::with_capacity(idx.len());
        for r in 0..idx.len() {
            let rr = self.row_range(r)?;
            out.push(self.data.values.slice(rr.start * stride..rr.end * stride));
        }
        Some(out)
    }
}

/// A DynamicTable read from (or to be written to) an NWB file.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicTable {
    /// The file the table was read from (empty for tables built in memory).
    pub file: PathBuf,
    /// Table name (last path component).
    pub name: String,
    /// HDF5 path of the table group.
    pub path: String,
    /// `DynamicTable`, `TimeIntervals`, `Units`, `ElectrodesTable`, ...
    pub neurodata_type: String,
    /// Namespace of the type (`core`, `hdmf-common`, ...).
    pub namespace: String,
    /// The table group's `object_id`.
    pub object_id: String,
    /// The table's `description` attribute.
    pub description: String,
    /// Column order as stored in `colnames`.
    pub colnames: Vec<String>,
    /// Row ids (`id` dataset).
    pub ids: Vec<i64>,
    /// The columns, in `colnames` order.
    pub columns: Vec<Column>,
}

impl DynamicTable {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The column named `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn col(&self, name: &str) -> Result<&Column> {
        self.column(name).ok_or_else(|| {
            NwbError::missing(&self.file, &format!("{}/{name}", self.path), "column")
        })
    }

    fn bad(&self, name: &str, msg: &str) -> NwbError {
        NwbError::invalid(&self.file, &format!("{}/{name}", self.path), msg)
    }

    /// A non-ragged numeric column as f64.
    pub fn f64_column(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.col(name)?;
        c.data
            .values
            .to_f64()
            .ok_or_else(|| self.bad(name, "column is not numeric"))
    }

    /// A non-ragged integral column as i64.
    pub fn i64_column(&self, name: &str) -> Result<Vec<i64>> {
        let c = self.col(name)?;
        c.data
            .values
            .to_i64()
            .ok_or_else(|| self.bad(name, "column is not integral"))
    }

    /// A non-ragged text column.
    pub fn text_column(&self, name: &str) -> Result<Vec<String>> {
        let c = self.col(name)?;
        c.data
            .values
            .as_text()
            .map(<[String]>::to_vec)
            .ok_or_else(|| self.bad(name, "column is not text"))
    }

    /// A boolean column (also accepts 0/1 integers and "True"/"False" text).
    pub fn bool_column(&self, name: &str) -> Result<Vec<bool>> {
        let c = self.col(name)?;
        match &c.data.values {
            Values::Bool(v) => Ok(v.clone()),
            Values::Int(v) => Ok(v.iter().map(|&x| x != 0).collect()),
            Values::UInt(v) => Ok(v.iter().map(|&x| x != 0).collect()),
            Values::Text(v) => v
                .iter()
                .map(|s| match s.to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(self.bad(name, "text is not True/False")),
                })
                .collect(),
            _ => Err(self.bad(name, "column is not boolean")),
        }
    }

    /// An object-reference column, resolved to target paths.
    pub fn reference_column(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.col(name)?;
        c.data
            .values
            .as_references()
            .map(<[Option<String>]>::to_vec)
            .ok_or_else(|| self.bad(name, "not references"))
    }

    /// A ragged numeric column as one `Vec<f64>` per row.
    pub fn ragged_f64(&self, name: &str) -> Result<Vec<Vec<f64>>> {
        let c = self.col(name)?;
        let rows = c
            .ragged_rows()
            .ok_or_else(|| self.bad(name, "column is not ragged"))?;
        rows.iter()
            .map(|v| {
                v.to_f64()
                    .ok_or_else(|| self.bad(name, "column is not numeric"))
            })
            .collect()
    }

    /// A ragged integral column as one `Vec<i64>` per row.
    pub fn ragged_i64(&self, name: &str) -> Result<Vec<Vec<i64>>> {
        let c = self.col(name)?;
        let rows = c
            .ragged_rows()
            .ok_or_else(|| self.bad(name, "column is not ragged"))?;
        rows.iter()
            .map(|v| {
                v.to_i64()
                    .ok_or_else(|| self.bad(name, "column is not integral"))
            })
            .collect()
    }

    /// A ragged text column as one `Vec<String>` per row.
    pub fn ragged_text(&self, name: &str) -> Result<Vec<Vec<String>>> {
        let c = self.col(name)?;
        let rows = c
            .ragged_rows()
            .ok_or_else(|| self.bad(name, "column is not ragged"))?;
        rows.iter()
            .map(|v| {
                v.as_text()
                    .map(<[String]>::to_vec)
                    .ok_or_else(|| self.bad(name, "not text"))
            })
            .collect()
    }

    /// Integer values per row whether the column is ragged or scalar per row.
    pub fn i64_lists(&self, name: &str) -> Result<Vec<Vec<i64>>> {
        let c = self.col(name)?;
        if c.is_ragged() {
            self.ragged_i64(name)
        } else {
            Ok(self
                .i64_column(name)?
                .into_iter()
                .map(|x| vec![x])
                .collect())
        }
    }
}

/// Validates cumulative end offsets against the data length.
pub(crate) fn check_index(file: &Path, object: &str, ends: &[u64], data_len: usize) -> Result<()> {
    let mut prev = 0u64;
    for &e in ends {
        if e < prev {
            return Err(NwbError::invalid(
                file,
                object,
                "ragged index is not non-decreasing",
            ));
        }
        prev = e;
    }
    if prev as usize > data_len || prev > usize::MAX as u64 {
        return Err(NwbError::invalid(
            file,
            object,
            format!("ragged index ends at {prev} but the data has {data_len} rows"),
        ));
    }
    Ok(())
}
