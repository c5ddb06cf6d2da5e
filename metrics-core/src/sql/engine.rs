//! Runs cxm's SQL in process on Apache DataFusion (feature `datafusion`):
//! the same query `cxm sql --dialect datafusion` prints, over Parquet or
//! CSV files registered as the tables it names, with the result handed
//! back as a polars frame so that it renders like any cxm section.
//!
//! DataFusion plans and runs the query on every core; cxm only lays out
//! the periods (in the SQL) and converts the result's columns: integers to
//! `Int64`, decimals and floats to `Float64`, text to `String`, dates to
//! `Date`, timestamps to UTC microsecond `Datetime`. A column of any other
//! type is an error naming it.

use std::path::PathBuf;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType as ArrowType, Date32Type, Float64Type, Int64Type, TimeUnit as Unit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use polars::prelude::*;

use crate::{Error, Result};

/// A file (or folder of files of one format) registered as a table.
#[derive(Debug, Clone)]
pub struct EngineTable {
    /// The name the SQL uses (`tickets`, `subscriptions`, ...).
    pub name: String,
    /// A Parquet or CSV file, or a folder of files of one format (not its
    /// subfolders).
    pub path: PathBuf,
    /// The CSV field separator (`b','` for most files).
    pub delimiter: u8,
}

/// Runs `sql` on DataFusion with `tables` registered: Parquet files (by
/// extension `.parquet` or `.pq`, any case) keep their types; CSV files
/// are read with a header and the types DataFusion infers. Returns the
/// result as a frame, in the query's column and row order.
///
/// # Errors
/// A table that cannot be registered, a query DataFusion rejects or fails
/// to run, or a result column of a type cxm does not render.
pub fn run_datafusion(sql: &str, tables: &[EngineTable]) -> Result<DataFrame> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| engine_error("starting DataFusion", &e))?;
    let batches = runtime.block_on(async {
        let ctx = SessionContext::new();
        for t in tables {
            register(&ctx, t).await?;
        }
        let df = ctx.sql(sql).await.map_err(|e| engine_error("planning the query", &e))?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await.map_err(|e| engine_error("running the query", &e))?;
        Ok::<_, Error>((schema, batches))
    })?;
    to_frame(&batches.0, &batches.1).map_err(|e| e.into_error("datafusion"))
}

/// Registers one table, by its files' format. A file is read whatever
/// its extension's case (DataFusion otherwise selects files by an exact
/// extension); a folder's files are chosen by the extension of its first
/// file, in name order, that is Parquet or CSV.
async fn register(ctx: &SessionContext, t: &EngineTable) -> Result<()> {
    let path = t.path.to_string_lossy().into_owned();
    let unreadable = |e: &dyn std::fmt::Display| engine_error(&format!("{path}: registering it as `{}`", t.name), e);
    let ext = data_extension(&t.path).ok_or_else(|| unreadable(&"no .parquet, .pq or .csv file"))?;
    let ext = format!(".{ext}");
    let done = if ext.eq_ignore_ascii_case(".parquet") || ext.eq_ignore_ascii_case(".pq") {
        ctx.register_parquet(t.name.as_str(), &path, ParquetReadOptions::default().file_extension(&ext)).await
    } else {
        let options = CsvReadOptions::new()
            .has_header(true)
            .delimiter(t.delimiter)
            .file_extension(&ext)
            // Quoted line breaks in values (free-text fields) must not split
            // the scan.
            .newlines_in_values(true);
        ctx.register_csv(t.name.as_str(), &path, options).await
    };
    done.map_err(|e| unreadable(&e))
}

/// The extension (as written) of a data file: the file's own, or that of
/// the first Parquet or CSV file of a folder in name order.
pub(super) fn data_extension(path: &std::path::Path) -> Option<String> {
    let ext = |p: &std::path::Path| p.extension().map(|e| e.to_string_lossy().into_owned());
    if !path.is_dir() {
        return ext(path);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path).ok()?.flatten().map(|e| e.path()).collect();
    files.sort();
    files.iter().filter_map(|f| ext(f)).find(|e| ["parquet", "pq", "csv"].iter().any(|d| e.eq_ignore_ascii_case(d)))
}

fn engine_error(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::from(crate::error::ErrorKind::Engine { engine: "datafusion".into(), reason: format!("{what}: {e}") })
}

/// Why a result cannot be rendered (a column's type, a cast), for any
/// engine: the caller names the engine.
#[derive(Debug)]
pub(super) struct Unrendered(String);

impl Unrendered {
    /// The engine error it is, naming `engine`.
    pub(super) fn into_error(self, engine: &str) -> Error {
        Error::from(crate::error::ErrorKind::Engine { engine: engine.into(), reason: self.0 })
    }
}

/// The batches as one frame with the schema's columns.
pub(super) fn to_frame(
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
) -> std::result::Result<DataFrame, Unrendered> {
    let height = batches.iter().map(RecordBatch::num_rows).sum();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (k, field) in schema.fields().iter().enumerate() {
        let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(k).as_ref()).collect();
        columns.push(to_column(field.name(), field.data_type(), &arrays)?);
    }
    DataFrame::new(height, columns).map_err(|e| Unrendered(e.to_string()))
}

/// One result column: its chunks cast to the type cxm keeps, then copied.
fn to_column(name: &str, dtype: &ArrowType, arrays: &[&dyn Array]) -> std::result::Result<Column, Unrendered> {
    let to = |t: ArrowType| -> std::result::Result<Vec<datafusion::arrow::array::ArrayRef>, Unrendered> {
        arrays.iter().map(|a| cast(*a, &t).map_err(|e| Unrendered(format!("result column {name}: {e}")))).collect()
    };
    let col = match dtype {
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::Int32
        | ArrowType::Int64
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::UInt32
        | ArrowType::UInt64 => {
            let chunks = to(ArrowType::Int64)?;
            let values = chunks.iter().flat_map(|a| a.as_primitive::<Int64Type>().iter());
            Int64Chunked::from_iter_options(name.into(), values).into_column()
        }
        ArrowType::Float16
        | ArrowType::Float32
        | ArrowType::Float64
        | ArrowType::Decimal32(..)
        | ArrowType::Decimal64(..)
        | ArrowType::Decimal128(..)
        | ArrowType::Decimal256(..) => {
            let chunks = to(ArrowType::Float64)?;
            let values = chunks.iter().flat_map(|a| a.as_primitive::<Float64Type>().iter());
            Float64Chunked::from_iter_options(name.into(), values).into_column()
        }
        ArrowType::Boolean => {
            let values = arrays.iter().flat_map(|a| a.as_boolean().iter());
            BooleanChunked::from_iter_options(name.into(), values).into_column()
        }
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
            let chunks = to(ArrowType::Utf8)?;
            let values = chunks.iter().flat_map(|a| a.as_string::<i32>().iter());
            StringChunked::from_iter_options(name.into(), values).into_column()
        }
        ArrowType::Date32 | ArrowType::Date64 => {
            let chunks = to(ArrowType::Date32)?;
            let values = chunks.iter().flat_map(|a| a.as_primitive::<Date32Type>().iter());
            Int32Chunked::from_iter_options(name.into(), values).into_date().into_column()
        }
        ArrowType::Timestamp(_, _) => {
            let chunks = to(ArrowType::Timestamp(Unit::Microsecond, Some("UTC".into())))?;
            let values = chunks
                .iter()
                .flat_map(|a| a.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>().iter());
            Int64Chunked::from_iter_options(name.into(), values)
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_column()
        }
        ArrowType::Null => Column::full_null(name.into(), arrays.iter().map(|a| a.len()).sum(), &DataType::Int64),
        other => return Err(Unrendered(format!("result column {name}: type {other} is not rendered"))),
    };
    Ok(col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_a_query_over_a_csv_table_and_converts_its_types() {
        let dir = tempfile::tempdir().unwrap();
        // An upper-case extension and `;`: read as the table says.
        let path = dir.path().join("t.CSV");
        std::fs::write(&path, "k;x\na;1\nb;2\nb;4\n").unwrap();
        let tables = [EngineTable { name: "t".into(), path, delimiter: b';' }];
        let sql = "SELECT k, CAST(sum(x) AS BIGINT) AS n, avg(x) AS mean, count(*) > 1 AS many, \
                   DATE '2026-01-02' AS d, CAST(NULL AS DOUBLE) AS nothing FROM t GROUP BY k ORDER BY k";
        let df = run_datafusion(sql, &tables).unwrap();
        assert_eq!(
            df.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>(),
            ["k", "n", "mean", "many", "d", "nothing"]
        );
        assert_eq!(df.column("k").unwrap().str().unwrap().iter().collect::<Vec<_>>(), [Some("a"), Some("b")]);
        assert_eq!(df.column("n").unwrap().i64().unwrap().iter().collect::<Vec<_>>(), [Some(1), Some(6)]);
        assert_eq!(df.column("mean").unwrap().f64().unwrap().iter().collect::<Vec<_>>(), [Some(1.0), Some(3.0)]);
        assert_eq!(df.column("many").unwrap().bool().unwrap().iter().collect::<Vec<_>>(), [Some(false), Some(true)]);
        assert_eq!(df.column("d").unwrap().dtype(), &DataType::Date);
        assert_eq!(df.column("nothing").unwrap().null_count(), 2);
    }

    #[test]
    fn a_query_the_engine_rejects_is_an_error_naming_it() {
        let e = run_datafusion("SELECT nope FROM missing", &[]).unwrap_err();
        assert!(e.to_string().contains("datafusion"), "{e}");
    }
}
