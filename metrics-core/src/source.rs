//! Finding and scanning input files: one file, a glob, or a directory.
//!
//! Files of a glob or directory are read in lexicographic path order. Every
//! scan carries the file's index (`__file`); rows keep file order, so a row's
//! one-based data-row number within its file follows from its position
//! (no row-index column: asking polars for one makes the CSV reader count
//! lines in an extra pass).

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::PolarsContext;
use crate::parse::timestamp::TimestampParser;
use crate::parse::values::{parse_bool, parse_int};
use crate::{Error, Result};

/// Marks a text value that is not a timestamp in a column parsed during the
/// scan (null means empty). No real instant is this far in the past.
pub const UNPARSEABLE: i64 = i64::MIN;

/// One column to read: its source name, its canonical name, and for a
/// timestamp column of a CSV file the parser to run inside the scan.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The column in the file.
    pub source: String,
    /// The name it gets.
    pub canonical: String,
    /// Parse text while scanning (CSV only; see [`ScanParse`]). Parsing in
    /// the scan runs in polars' streaming engine, morsel by morsel on every
    /// core, and never holds the column's text in memory.
    pub scan: Option<ScanParse>,
}

/// How a CSV column is parsed during the scan.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ScanParse {
    /// To UTC microseconds (`Int64`; null for an empty value,
    /// [`UNPARSEABLE`] for a value that is not a timestamp).
    Timestamp(TimestampParser),
    /// To a whole number (`Int64`, whole decimals accepted; [`UNPARSEABLE`]
    /// for anything else).
    Int,
    /// To a boolean (`Int8`: 1, 0, or -1 for a value that is not one).
    Bool,
}

impl ScanParse {
    fn expr(&self, source: &str) -> Expr {
        let this = self.clone();
        let dtype = if matches!(self, Self::Bool) { DataType::Int8 } else { DataType::Int64 };
        let out_type = dtype.clone();
        col(source).map(
            move |c: Column| {
                let ca = c.str()?;
                let cells = ca.iter().map(|v| v.map(str::trim).filter(|v| !v.is_empty()));
                let out: Column = match &this {
                    Self::Timestamp(p) => cells
                        .map(|v| v.map(|v| p.parse(v).unwrap_or(UNPARSEABLE)))
                        .collect::<Int64Chunked>()
                        .into_column(),
                    Self::Int => cells
                        .map(|v| v.map(|v| parse_int(v).unwrap_or(UNPARSEABLE)))
                        .collect::<Int64Chunked>()
                        .into_column(),
                    Self::Bool => cells
                        .map(|v| v.map(|v| parse_bool(v).map_or(-1i8, i8::from)))
                        .collect::<Int8Chunked>()
                        .into_column(),
                };
                Ok(out.with_name(c.name().clone()))
            },
            move |_, f| Ok(Field::new(f.name().clone(), out_type.clone())),
        )
    }
}

/// Column holding the index of the file a row came from.
pub const FILE_COL: &str = "__file";

/// A file format cxm reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FileFormat {
    /// Comma-separated text with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// The files behind one input, resolved.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path, glob or directory as given.
    pub spec: String,
    /// The files, in read order.
    pub files: Vec<PathBuf>,
    /// Their format.
    pub format: FileFormat,
    /// Hive partition values per file (`key=value` path segments).
    pub partitions: Vec<Vec<(String, String)>>,
}

fn format_of(p: &Path) -> FileFormat {
    match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("parquet" | "pq") => FileFormat::Parquet,
        _ => FileFormat::Csv,
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
            Some("parquet" | "pq" | "csv")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

impl Source {
    /// Resolves a file, glob or directory. Errors when nothing matches.
    pub fn resolve(spec: &str) -> Result<Self> {
        let path = Path::new(spec);
        let not_found = || Error::NotFound { path: path.to_path_buf() };
        let mut files = Vec::new();
        let mut partitions = Vec::new();
        if path.is_dir() {
            walk(path, &mut files).map_err(|e| Error::Unreadable { path: path.into(), reason: e.to_string() })?;
            files.sort();
            for f in &files {
                let rel = f.strip_prefix(path).unwrap_or(f);
                let parts = rel
                    .components()
                    .filter_map(|c| c.as_os_str().to_str()?.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                    .collect();
                partitions.push(parts);
            }
        } else if spec.contains(['*', '?', '[']) {
            let paths = glob::glob(spec).map_err(|e| Error::Config(format!("{spec}: bad glob: {e}")))?;
            files = paths.filter_map(std::result::Result::ok).filter(|p| p.is_file()).collect();
            files.sort();
        } else if path.is_file() {
            files.push(path.to_path_buf());
        }
        if files.is_empty() {
            return Err(not_found());
        }
        partitions.resize(files.len(), Vec::new());
        let format = format_of(&files[0]);
        if let Some(other) = files.iter().find(|f| format_of(f) != format) {
            return Err(Error::Config(format!(
                "{spec}: mixes CSV and Parquet files ({} and {})",
                files[0].display(),
                other.display()
            )));
        }
        Ok(Self { spec: spec.to_owned(), files, format, partitions })
    }

    /// Whether the input spans several files (rows are then named `path:row`).
    pub fn is_multi(&self) -> bool {
        self.files.len() > 1
    }

    /// The label of a data row for data-quality findings.
    pub fn row_label(&self, file: u32, row: u32) -> String {
        if self.is_multi() { format!("{}:{row}", self.files[file as usize].display()) } else { row.to_string() }
    }

    /// The column names of one file (CSV header or Parquet schema), with
    /// hive partition keys appended.
    pub fn columns(&self, i: usize) -> Result<Vec<String>> {
        let file = &self.files[i];
        let unreadable = |reason: String| Error::Unreadable { path: file.clone(), reason };
        let mut cols: Vec<String> = match self.format {
            FileFormat::Csv => {
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_path(file)
                    .map_err(|e| unreadable(e.to_string()))?;
                let h = rdr.headers().map_err(|e| unreadable(e.to_string()))?;
                if h.is_empty() || (h.len() == 1 && h[0].is_empty()) {
                    return Err(Error::Empty { path: file.clone(), what: "no header row".into() });
                }
                h.iter().map(str::to_owned).collect()
            }
            FileFormat::Parquet => {
                let mut lf = self.scan_file(i, &[])?;
                lf.collect_schema()
                    .map_err(|e| unreadable(e.to_string()))?
                    .iter_names()
                    .filter(|n| !n.starts_with("__"))
                    .map(|n| n.to_string())
                    .collect()
            }
        };
        cols.extend(self.partitions[i].iter().map(|(k, _)| k.clone()));
        Ok(cols)
    }

    fn scan_file(&self, i: usize, select: &[Selected]) -> Result<LazyFrame> {
        let file = &self.files[i];
        let ppath = PlRefPath::new(file.to_string_lossy().as_ref());
        let lf = match self.format {
            FileFormat::Csv => {
                LazyCsvReader::new(ppath).with_has_header(true).with_infer_schema_length(Some(0)).finish()
            }
            FileFormat::Parquet => LazyFrame::scan_parquet(ppath, ScanArgsParquet::default()),
        }
        .map_err(|e| Error::Unreadable { path: file.clone(), reason: e.to_string() })?;
        if select.is_empty() {
            return Ok(lf);
        }
        let mut exprs = vec![lit(i as u32).alias(FILE_COL)];
        for sel in select {
            let (source, canonical) = (&sel.source, sel.canonical.as_str());
            match (self.partitions[i].iter().find(|(k, _)| k == source), &sel.scan) {
                (Some((_, v)), _) => exprs.push(lit(v.clone()).alias(canonical)),
                (None, Some(p)) if self.format == FileFormat::Csv => {
                    exprs.push(p.expr(source).alias(canonical));
                }
                (None, _) => exprs.push(col(source.as_str()).alias(canonical)),
            }
        }
        Ok(lf.select(exprs))
    }

    /// Reads the `(source, canonical)` columns of every file into one frame
    /// with `__file`, in file then row order, running polars' streaming engine. CSV values
    /// arrive as text (timestamps parsed in the scan when asked); Parquet
    /// values keep their types.
    pub fn read(&self, select: &[Selected]) -> Result<DataFrame> {
        let lfs = (0..self.files.len()).map(|i| self.scan_file(i, select)).collect::<Result<Vec<_>>>()?;
        let args = UnionArgs { to_supertypes: true, ..Default::default() };
        let lf = concat(lfs, args).ctx(&format!("reading {}", self.spec))?;
        lf.collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
            .map_err(|e| Error::Unreadable { path: self.spec.clone().into(), reason: e.to_string() })
    }
}

impl Source {
    /// The text of one CSV cell, for error messages about values that were
    /// parsed during the scan (only read on that error path).
    pub fn cell(&self, file: u32, row: u32, column: &str) -> Option<String> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_path(self.files.get(file as usize)?).ok()?;
        let idx = rdr.headers().ok()?.iter().position(|h| h == column)?;
        let record = rdr.records().nth(row.checked_sub(1)? as usize)?.ok()?;
        record.get(idx).map(str::to_owned)
    }
}
