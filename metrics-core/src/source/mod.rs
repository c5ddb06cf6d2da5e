//! Finding and scanning input files: one file, a glob, or a directory.
//!
//! Files of a glob or directory are read in lexicographic path order. Every
//! scan carries the file's index (`__file`); rows keep file order, so a row's
//! one-based data-row number within its file follows from its position
//! (no row-index column: asking polars for one makes the CSV reader count
//! lines in an extra pass).
//!
//! Directory walks never follow a symlinked directory and read each file
//! once (by canonical path). CSV files are read by cxm's own reader
//! (`source/reader.rs`): only the read fields are parsed, rows with the wrong
//! number of fields are reported with their row numbers whatever columns
//! are read, and only the columns cxm reads must be valid in the file's
//! encoding. Parquet files are read by projection, so a column that is
//! never read is never decoded.

mod check;
mod reader;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::PolarsContext;
use crate::mapping::Encoding;
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
    /// Parse text while reading (CSV only; see [`ScanParse`]). The reader
    /// parses each field where it lies, block by block on every core, and
    /// never holds the column's text in memory.
    pub scan: Option<ScanParse>,
    /// The one-based position of the column in the file, when the header
    /// names it more than once and the mapping picks one.
    pub position: Option<usize>,
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
    /// A key compared as text: `Int64` when every key of the file is a
    /// whole number in canonical form (`0`, `17`, not `017` or ` 17`, which
    /// stand for their text exactly), else the text.
    Id,
}

impl ScanParse {
    fn expr(&self, source: &str) -> Expr {
        let this = self.clone();
        let dtype = match self {
            Self::Bool => DataType::Int8,
            Self::Id => DataType::String,
            _ => DataType::Int64,
        };
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
                    Self::Id => c.clone(),
                };
                Ok(out.with_name(c.name().clone()))
            },
            move |_, f| Ok(Field::new(f.name().clone(), out_type.clone())),
        )
    }
}

/// The `delimiter` that means "runs of spaces and tabs" (`"whitespace"`
/// or `" "` in the config): each line is trimmed and split at every run.
pub const WHITESPACE: u8 = b' ';

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
    /// CSV field separator.
    pub delimiter: u8,
    /// CSV text encoding.
    pub encoding: Encoding,
    /// Remarks for meta (a header name that occurs twice, ...).
    pub notes: Vec<String>,
    /// Decompressed and decoded text per (file, encoding, whitespace
    /// mode), made once while the files are read and then let go
    /// ([`Source::forget_decoded`]).
    decoded: Arc<std::sync::Mutex<std::collections::HashMap<DecodedKey, Shared>>>,
}

/// What decoded text depends on: the file, the encoding, whitespace mode.
type DecodedKey = (PathBuf, Encoding, bool);

/// Decoded text shared between the header, the check pass and the scan.
#[derive(Debug, Clone)]
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A file's scan, its ragged rows (row, fields) and its header.
type Scanned = (LazyFrame, Vec<(u32, u32)>, Vec<String>);

/// Rows of a read that were not used: CSV rows with the wrong number of
/// fields, as (file index, one-based data row, fields found).
pub type Ragged = Vec<(u32, u32, u32)>;

/// How a file is compressed, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    /// A zip archive holding one data file (`tickets.csv.zip`).
    Zip,
    /// gzip (`tickets.csv.gz`).
    Gzip,
}

fn lower_ext(p: &Path) -> Option<String> {
    p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

fn compression_of(p: &Path) -> Compression {
    match lower_ext(p).as_deref() {
        Some("zip") => Compression::Zip,
        Some("gz") => Compression::Gzip,
        _ => Compression::None,
    }
}

/// The extension of the data inside: `csv` for `t.csv.gz`.
fn data_ext(p: &Path) -> Option<String> {
    match compression_of(p) {
        Compression::None => lower_ext(p),
        _ => p.file_stem().and_then(|s| lower_ext(Path::new(s))),
    }
}

fn format_of(p: &Path) -> FileFormat {
    match data_ext(p).as_deref() {
        Some("parquet" | "pq") => FileFormat::Parquet,
        _ => FileFormat::Csv,
    }
}

fn is_data_file(p: &Path) -> bool {
    match compression_of(p) {
        Compression::None => matches!(lower_ext(p).as_deref(), Some("parquet" | "pq" | "csv")),
        _ => matches!(data_ext(p).as_deref(), Some("csv")),
    }
}

/// The bytes of a compressed file's data: a zip's one data member (the
/// only file, or the only `.csv` among several), or a gzip stream.
fn decompress(file: &Path, how: Compression) -> Result<Vec<u8>> {
    let unreadable = |reason: String| Error::from(crate::error::ErrorKind::Unreadable { path: file.into(), reason });
    let f = std::fs::File::open(file).map_err(|e| unreadable(e.to_string()))?;
    let mut out = Vec::new();
    match how {
        Compression::None => {}
        Compression::Gzip => {
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(f), &mut out)
                .map_err(|e| unreadable(format!("not a gzip file: {e}")))?;
        }
        Compression::Zip => {
            let mut zip = ::zip::ZipArchive::new(f).map_err(|e| unreadable(format!("not a zip archive: {e}")))?;
            let names: Vec<String> = zip
                .file_names()
                .filter_map(std::result::Result::ok)
                .map(|n| n.into_owned())
                .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX"))
                .collect();
            let csv: Vec<&String> = names.iter().filter(|n| n.to_ascii_lowercase().ends_with(".csv")).collect();
            let name = match (names.len(), csv.len()) {
                (1, _) => names[0].clone(),
                (_, 1) => csv[0].clone(),
                _ => {
                    return Err(unreadable(format!(
                        "the archive holds {} files ({}); cxm reads an archive with one data file",
                        names.len(),
                        names.join(", ")
                    )));
                }
            };
            let mut member = zip.by_name(&name).map_err(|e| unreadable(e.to_string()))?;
            std::io::Read::read_to_end(&mut member, &mut out).map_err(|e| unreadable(format!("{name}: {e}")))?;
        }
    }
    Ok(out)
}

/// The encoding a byte-order mark announces, if any (UTF-16 only: a UTF-8
/// mark needs no decoding).
fn bom_encoding(bytes: &[u8]) -> Option<Encoding> {
    (bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])).then_some(Encoding::Utf16)
}

/// Every file below `dir` (to `depth` levels; `None` = all) that `keep`
/// accepts. Symlinked directories are not followed; a symlinked file is
/// read; no file is listed twice (canonical paths in `seen`).
fn walk(
    dir: &Path,
    depth: Option<usize>,
    keep: &dyn Fn(&Path) -> bool,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if depth.is_none_or(|d| d > 1) {
                walk(&p, depth.map(|d| d - 1), keep, seen, out)?;
            }
        } else if (kind.is_file() || (kind.is_symlink() && p.is_file())) && keep(&p) {
            let canonical = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if seen.insert(canonical) {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// The files a glob matches, found by a walk from its literal prefix (so
/// the same symlink rules hold and `**` cannot loop).
fn glob_files(spec: &str) -> Result<Vec<PathBuf>> {
    let pattern = glob::Pattern::new(spec)
        .map_err(|e| Error::invalid_option("path", spec, format!("is not a valid glob: {e}")))?;
    let path = Path::new(spec);
    let mut base = PathBuf::new();
    let mut rest = 0;
    for c in path.components() {
        let text = c.as_os_str().to_string_lossy();
        if rest > 0 || text.contains(['*', '?', '[']) {
            rest += 1;
        } else {
            base.push(c);
        }
    }
    let depth = (!spec.contains("**")).then_some(rest);
    let opts = glob::MatchOptions { require_literal_separator: true, ..glob::MatchOptions::new() };
    let root = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base.clone() };
    let mut files = Vec::new();
    let keep = |p: &Path| {
        let p = if base.as_os_str().is_empty() { p.strip_prefix(".").unwrap_or(p) } else { p };
        pattern.matches_path_with(p, opts)
    };
    if root.is_dir() {
        walk(&root, depth, &keep, &mut HashSet::new(), &mut files).map_err(|e| {
            Error::from(crate::error::ErrorKind::Unreadable { path: root.clone(), reason: e.to_string() })
        })?;
    }
    Ok(files)
}

impl Source {
    /// Resolves a file, glob or directory. Errors when nothing matches.
    pub fn resolve(spec: &str) -> Result<Self> {
        let path = Path::new(spec);
        let not_found = || Error::from(crate::error::ErrorKind::NotFound { path: path.to_path_buf() });
        let mut files = Vec::new();
        let mut partitions = Vec::new();
        if path.is_dir() {
            walk(path, None, &is_data_file, &mut HashSet::new(), &mut files).map_err(|e| {
                Error::from(crate::error::ErrorKind::Unreadable { path: path.into(), reason: e.to_string() })
            })?;
            files.sort();
            for f in &files {
                let rel = f.strip_prefix(path).unwrap_or(f);
                let parts = rel
                    .components()
                    .filter_map(|c| c.as_os_str().to_str()?.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                    .collect();
                partitions.push(parts);
            }
        } else if path.is_file() {
            files.push(path.to_path_buf());
        } else if spec.contains(['*', '?', '[']) {
            files = glob_files(spec)?;
            files.sort();
        }
        if files.is_empty() {
            return Err(not_found());
        }
        partitions.resize(files.len(), Vec::new());
        let format = format_of(&files[0]);
        if let Some(other) = files.iter().find(|f| format_of(f) != format) {
            return Err(Error::from(crate::error::ErrorKind::Unreadable {
                path: spec.into(),
                reason: format!(
                    "mixes CSV and Parquet files ({} and {}); give one format per table",
                    files[0].display(),
                    other.display()
                ),
            }));
        }
        Ok(Self {
            spec: spec.to_owned(),
            files,
            format,
            partitions,
            delimiter: b',',
            encoding: Encoding::Utf8,
            notes: Vec::new(),
            decoded: Arc::default(),
        })
    }

    /// The separator the CSV parser sees: `,` for whitespace-separated
    /// text (normalised to commas when read), else the one given.
    fn sep(&self) -> u8 {
        if self.delimiter == WHITESPACE { b',' } else { self.delimiter }
    }

    /// The separator of the first file, guessed from its first lines as
    /// DuckDB's and xsv's sniffers do: of `,`, `;`, tab and `|`, the one
    /// that splits every line (outside quotes) into the same number of
    /// fields, the most fields winning; `,` when none does.
    pub fn sniff_delimiter(&self) -> u8 {
        if self.format != FileFormat::Csv {
            return b',';
        }
        let file = &self.files[0];
        let head = match self.decoded(file) {
            Ok(Some(text)) => text.as_ref()[..text.as_ref().len().min(64 << 10)].to_vec(),
            _ => {
                let mut buf = vec![0u8; 64 << 10];
                let n = std::fs::File::open(file).and_then(|mut f| std::io::Read::read(&mut f, &mut buf)).unwrap_or(0);
                buf.truncate(n);
                buf
            }
        };
        check::sniff(&head)
    }

    /// An in-memory table, labelled `label` in messages (typed columns,
    /// as from Parquet).
    pub fn in_memory(label: &str) -> Self {
        Self {
            spec: label.to_owned(),
            files: vec![PathBuf::from(label)],
            format: FileFormat::Parquet,
            partitions: vec![Vec::new()],
            delimiter: b',',
            encoding: Encoding::Utf8,
            notes: Vec::new(),
            decoded: Arc::default(),
        }
    }

    /// The same files read with another CSV separator and encoding.
    pub fn with_csv(mut self, delimiter: u8, encoding: Encoding) -> Self {
        self.delimiter = delimiter;
        self.encoding = encoding;
        self
    }

    /// Whether the input spans several files (rows are then named `path:row`).
    pub fn is_multi(&self) -> bool {
        self.files.len() > 1
    }

    /// The label of a data row for data-quality findings.
    pub fn row_label(&self, file: u32, row: u32) -> String {
        if self.is_multi() { format!("{}:{row}", self.files[file as usize].display()) } else { row.to_string() }
    }

    /// A CSV file's text as UTF-8: `None` when it is read from disk as it
    /// is (uncompressed UTF-8), else the whole text, decompressed and
    /// decoded (UTF-16 whenever it starts with a UTF-16 byte-order mark,
    /// else the configured encoding), made once for the header, the check
    /// pass and the scan.
    fn decoded(&self, file: &Path) -> Result<Option<Shared>> {
        let key = self.decoded_key(file);
        if let Some(text) = self.cache().get(&key) {
            return Ok(Some(text.clone()));
        }
        let Some(text) = self.decode(file)? else { return Ok(None) };
        let text = Shared(Arc::new(text));
        self.cache().insert(key, text.clone());
        Ok(Some(text))
    }

    /// The decoded text of `file`, taken out of the cache: moved, not
    /// copied, when nothing else holds it (the scan keeps it).
    fn take_decoded(&self, file: &Path, text: Shared) -> Vec<u8> {
        self.cache().remove(&self.decoded_key(file));
        Arc::try_unwrap(text.0).unwrap_or_else(|shared| (*shared).clone())
    }

    fn decoded_key(&self, file: &Path) -> DecodedKey {
        (file.to_path_buf(), self.encoding, self.delimiter == WHITESPACE)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<DecodedKey, Shared>> {
        self.decoded.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lets go of the decoded texts: the scans hold what they need.
    pub(crate) fn forget_decoded(&self) {
        self.cache().clear();
    }

    /// [`Self::decoded`], made anew.
    fn decode(&self, file: &Path) -> Result<Option<Vec<u8>>> {
        let how = compression_of(file);
        let raw = match how {
            Compression::None => None,
            _ => Some(decompress(file, how)?),
        };
        let enc = match &raw {
            Some(b) => bom_encoding(b).unwrap_or(self.encoding),
            None => {
                let mut head = [0u8; 2];
                let read = std::fs::File::open(file).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
                read.ok().and_then(|()| bom_encoding(&head)).unwrap_or(self.encoding)
            }
        };
        let raw = match (raw, self.delimiter == WHITESPACE) {
            (raw, false) => raw,
            (Some(b), true) => Some(b),
            (None, true) => Some(std::fs::read(file).map_err(|e| {
                Error::from(crate::error::ErrorKind::Unreadable { path: file.into(), reason: e.to_string() })
            })?),
        };
        let decoder = match enc {
            Encoding::Utf8 => return Ok(raw.map(|b| self.normalise_whitespace(b))),
            Encoding::Utf16 => encoding_rs::UTF_16LE,
            Encoding::Windows1252 | Encoding::Latin1 => encoding_rs::WINDOWS_1252,
        };
        let bytes = match raw {
            Some(b) => b,
            None => std::fs::read(file).map_err(|e| {
                Error::from(crate::error::ErrorKind::Unreadable { path: file.into(), reason: e.to_string() })
            })?,
        };
        // decode() follows a byte-order mark (UTF-16 BE or LE) over `decoder`.
        let (text, _, _) = decoder.decode(&bytes);
        Ok(Some(self.normalise_whitespace(text.into_owned().into_bytes())))
    }

    /// Whitespace-separated text as comma-separated: each line trimmed and
    /// split at runs of spaces and tabs (no quoting in this form).
    fn normalise_whitespace(&self, bytes: Vec<u8>) -> Vec<u8> {
        if self.delimiter != WHITESPACE {
            return bytes;
        }
        let mut out = Vec::with_capacity(bytes.len());
        for line in bytes.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let mut first = true;
            for field in line.split(|b| *b == b' ' || *b == b'\t').filter(|f| !f.is_empty()) {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(field);
                first = false;
            }
            out.push(b'\n');
        }
        while out.ends_with(b"\n\n") {
            out.pop();
        }
        out
    }

    /// A CSV file's header fields, in file order (duplicates kept).
    fn csv_header(&self, file: &Path) -> Result<Vec<String>> {
        let unreadable =
            |reason: String| Error::from(crate::error::ErrorKind::Unreadable { path: file.into(), reason });
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(true).delimiter(self.sep()).flexible(true);
        let h = match self.decoded(file)? {
            Some(text) => b.from_reader(text.as_ref()).byte_headers().cloned(),
            None => b.from_path(file).map_err(|e| unreadable(e.to_string()))?.byte_headers().cloned(),
        }
        .map_err(|e| unreadable(e.to_string()))?;
        let h: Vec<String> = h.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        if h.is_empty() || (h.len() == 1 && h[0].trim().is_empty()) {
            return Err(Error::from(crate::error::ErrorKind::Empty {
                path: file.into(),
                what: "no header row".into(),
            }));
        }
        Ok(h)
    }

    /// The column names of one file (CSV header or Parquet schema), with
    /// hive partition keys appended. A name can occur twice in a CSV header.
    pub fn columns(&self, i: usize) -> Result<Vec<String>> {
        let file = &self.files[i];
        let mut cols: Vec<String> = match self.format {
            FileFormat::Csv => self.csv_header(file)?,
            FileFormat::Parquet => {
                self.parquet_schema(i)?.iter_names().filter(|n| !n.starts_with("__")).map(|n| n.to_string()).collect()
            }
        };
        cols.extend(self.partitions[i].iter().map(|(k, _)| k.clone()));
        Ok(cols)
    }

    fn parquet_schema(&self, i: usize) -> Result<SchemaRef> {
        let file = &self.files[i];
        let unreadable =
            |reason: String| Error::from(crate::error::ErrorKind::Unreadable { path: file.clone(), reason });
        let ppath = PlRefPath::new(file.to_string_lossy().as_ref());
        let mut lf =
            LazyFrame::scan_parquet(ppath, ScanArgsParquet::default()).map_err(|e| unreadable(e.to_string()))?;
        // A schema polars cannot represent panics inside polars; it is an
        // unreadable file, not a crash.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lf.collect_schema()))
            .map_err(|_| unreadable("a column type polars cannot read".into()))?
            .map_err(|e| unreadable(e.to_string()))
    }

    /// Checks that every selected Parquet column has a type cxm can read.
    fn check_parquet_types(&self, i: usize, select: &[Selected], schema: &Schema) -> Result<()> {
        for sel in select {
            let Some(dtype) = schema.get(sel.source.as_str()) else { continue };
            let usable = dtype.is_primitive_numeric()
                || dtype.is_decimal()
                || matches!(
                    dtype,
                    DataType::String | DataType::Boolean | DataType::Date | DataType::Datetime(..) | DataType::Null
                )
                || dtype.is_categorical()
                || dtype.is_enum();
            if !usable {
                return Err(Error::from(crate::error::ErrorKind::UnsupportedType {
                    path: self.files[i].clone(),
                    column: sel.source.clone(),
                    dtype: dtype.to_string(),
                }));
            }
        }
        Ok(())
    }

    /// One CSV file, checked: its scan (columns named by position, `__cN`),
    /// and its ragged rows.
    fn scan_csv(&self, i: usize, select: &[Selected]) -> Result<Scanned> {
        let file = &self.files[i];
        let header = self.csv_header(file)?;
        let wanted: Vec<u32> =
            select.iter().filter_map(|s| position_of(&header, s)).filter_map(|p| u32::try_from(p).ok()).collect();
        let keep = |f: u32| wanted.contains(&f);
        let decoded = self.decoded(file)?;
        let checked = match &decoded {
            Some(text) => check::check(text.as_ref(), self.sep(), &keep),
            None => std::fs::File::open(file).and_then(|f| check::check(f, self.sep(), &keep)),
        }
        .map_err(|e| Error::from(crate::error::ErrorKind::Unreadable { path: file.clone(), reason: e.to_string() }))?;
        if let Some(&bad) = checked.bad_bytes.iter().min_by_key(|b| b.3) {
            return Err(self.encoding_error(file, &header, bad));
        }
        let schema: Schema =
            (0..header.len()).map(|k| Field::new(format!("__c{k}").into(), DataType::String)).collect();
        let reader = match decoded {
            Some(text) => {
                let bytes = self.take_decoded(file, text);
                LazyCsvReader::new_with_sources(ScanSources::Buffers(vec![bytes.into()].into()))
            }
            None => LazyCsvReader::new(PlRefPath::new(file.to_string_lossy().as_ref())),
        };
        let lf = reader
            .with_has_header(true)
            .with_schema(Some(Arc::new(schema)))
            .with_separator(self.sep())
            .with_encoding(CsvEncoding::LossyUtf8)
            .with_truncate_ragged_lines(true)
            .finish()
            .map_err(|e| {
                Error::from(crate::error::ErrorKind::Unreadable { path: file.clone(), reason: e.to_string() })
            })?;
        Ok((lf, checked.ragged, header))
    }

    fn scan_file(&self, i: usize, select: &[Selected]) -> Result<(LazyFrame, Vec<(u32, u32)>)> {
        let file = &self.files[i];
        let (lf, ragged, header) = match self.format {
            FileFormat::Csv => self.scan_csv(i, select)?,
            FileFormat::Parquet => {
                self.check_parquet_types(i, select, &*self.parquet_schema(i)?)?;
                let lf = LazyFrame::scan_parquet(
                    PlRefPath::new(file.to_string_lossy().as_ref()),
                    ScanArgsParquet::default(),
                )
                .map_err(|e| {
                    Error::from(crate::error::ErrorKind::Unreadable { path: file.clone(), reason: e.to_string() })
                })?;
                (lf, Vec::new(), Vec::new())
            }
        };
        let decimals: Vec<String> = match self.format {
            FileFormat::Parquet => {
                self.parquet_schema(i)?.iter().filter(|(_, d)| d.is_decimal()).map(|(n, _)| n.to_string()).collect()
            }
            FileFormat::Csv => Vec::new(),
        };
        let mut exprs = vec![lit(i as u32).alias(FILE_COL)];
        for sel in select {
            let canonical = sel.canonical.as_str();
            let source = match self.format {
                FileFormat::Csv => position_of(&header, sel).map(|p| format!("__c{p}")),
                FileFormat::Parquet => Some(sel.source.clone()),
            };
            match (self.partitions[i].iter().find(|(k, _)| *k == sel.source), source, &sel.scan) {
                (Some((_, v)), _, _) => exprs.push(lit(v.clone()).alias(canonical)),
                (None, Some(s), Some(p)) if self.format == FileFormat::Csv => exprs.push(p.expr(&s).alias(canonical)),
                (None, Some(s), _) => {
                    let c = col(s.as_str());
                    let c = if decimals.contains(&s) { c.cast(DataType::Float64) } else { c };
                    exprs.push(c.alias(canonical));
                }
                (None, None, _) => return Err(missing_column(file, sel, &header)),
            }
        }
        Ok((lf.select(exprs), ragged))
    }

    /// Reads the selected columns of every file into one frame with
    /// `__file`, in file then row order: CSV with cxm's reader, Parquet
    /// with polars' streaming engine. CSV values arrive as text (parsed
    /// while read when [`Selected::scan`] asks);
    /// Parquet values keep their types (decimals become floats). Also
    /// returns the CSV rows with the wrong number of fields: they are in the
    /// frame (padded or cut), and the caller excludes them.
    pub fn read(&self, select: &[Selected]) -> Result<(DataFrame, Ragged)> {
        if self.format == FileFormat::Csv {
            return self.read_csv(select);
        }
        self.read_scans(select)
    }

    /// [`Source::read`] of CSV files with cxm's own reader ([`reader`]):
    /// only the selected fields are parsed, straight into typed columns.
    fn read_csv(&self, select: &[Selected]) -> Result<(DataFrame, Ragged)> {
        let mut frames = Vec::with_capacity(self.files.len());
        let mut ragged = Ragged::new();
        for i in 0..self.files.len() {
            let (df, r) = self.read_csv_file(i, select)?;
            ragged.extend(r.into_iter().map(|(row, n)| (i as u32, row, n)));
            frames.push(df);
        }
        // Keys read as numbers in one file and as text in another are
        // text in all (a canonical number is the text it was read from).
        for sel in select.iter().filter(|s| matches!(s.scan, Some(ScanParse::Id))) {
            let name = sel.canonical.as_str();
            let is_text = |df: &DataFrame| df.column(name).is_ok_and(|c| c.dtype() == &DataType::String);
            if frames.iter().any(is_text) {
                for df in frames.iter_mut().filter(|df| !is_text(df)) {
                    let text = df.column(name).and_then(|c| c.cast(&DataType::String)).ctx(name)?;
                    df.with_column(text).ctx(name)?;
                }
            }
        }
        let mut frames = frames.into_iter();
        let mut frame = frames.next().unwrap_or_default();
        for df in frames {
            frame.vstack_mut_owned(df).ctx(&format!("reading {}", self.spec))?;
        }
        Ok((frame, ragged))
    }

    /// The error for a byte that is not valid in the encoding: (column
    /// index, one-based data row, the byte, its offset in the file).
    fn encoding_error(&self, file: &Path, header: &[String], (field, row, byte, offset): (u32, u32, u8, u64)) -> Error {
        Error::from(crate::error::ErrorKind::Encoding {
            path: file.to_path_buf(),
            row,
            column: header.get(field as usize).cloned().unwrap_or_default(),
            byte,
            offset,
            encoding: self.encoding.name().to_owned(),
        })
    }

    /// One CSV file's selected columns (with `__file`) and ragged rows.
    fn read_csv_file(&self, i: usize, select: &[Selected]) -> Result<(DataFrame, Vec<(u32, u32)>)> {
        let file = &self.files[i];
        let unreadable =
            |reason: String| Error::from(crate::error::ErrorKind::Unreadable { path: file.clone(), reason });
        let header = self.csv_header(file)?;
        let mut wanted = Vec::new();
        for sel in select {
            if self.partitions[i].iter().any(|(k, _)| *k == sel.source) {
                continue;
            }
            let Some(field) = position_of(&header, sel) else { return Err(missing_column(file, sel, &header)) };
            wanted.push(reader::Wanted { field, name: sel.canonical.as_str().into(), parse: sel.scan.clone() });
        }
        let decoded = self.decoded(file)?;
        let open = || -> std::io::Result<Box<dyn std::io::Read + Send>> { Ok(Box::new(std::fs::File::open(file)?)) };
        let input = match &decoded {
            Some(text) => reader::Input::Text(text.as_ref()),
            None => reader::Input::Reader(&open),
        };
        let read = reader::read(input, self.sep(), header.len(), &wanted).map_err(|e| unreadable(e.to_string()))?;
        drop(decoded);
        if let Some(bad) = read.bad_byte {
            return Err(self.encoding_error(file, &header, bad));
        }
        let mut read_columns = read.columns.into_iter();
        let mut columns = Vec::with_capacity(select.len() + 1);
        columns.push(Column::new_scalar(FILE_COL.into(), Scalar::from(i as u32), read.rows));
        for sel in select {
            match self.partitions[i].iter().find(|(k, _)| *k == sel.source) {
                Some((_, v)) => {
                    columns.push(StringChunked::full(sel.canonical.as_str().into(), v, read.rows).into_column());
                }
                None => columns.extend(read_columns.next()),
            }
        }
        let df = DataFrame::new(read.rows, columns).ctx(&format!("reading {}", file.display()))?;
        Ok((df, read.ragged))
    }

    /// [`Source::read`] through polars' scans (Parquet; CSV in tests, as
    /// the reference of [`reader`]).
    fn read_scans(&self, select: &[Selected]) -> Result<(DataFrame, Ragged)> {
        let mut lfs = Vec::with_capacity(self.files.len());
        let mut ragged = Ragged::new();
        for i in 0..self.files.len() {
            let (lf, r) = self.scan_file(i, select)?;
            lfs.push(lf);
            ragged.extend(r.into_iter().map(|(row, n)| (i as u32, row, n)));
        }
        let args = UnionArgs { to_supertypes: true, ..Default::default() };
        let lf = concat(lfs, args).ctx(&format!("reading {}", self.spec))?;
        let collected =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lf.collect_with_engine(Engine::Streaming)))
                .map_err(|_| {
                    Error::from(crate::error::ErrorKind::Unreadable {
                        path: self.spec.clone().into(),
                        reason: "polars failed while reading".into(),
                    })
                })?;
        let df = collected.map(|r| r.unwrap_single()).map_err(|e| {
            Error::from(crate::error::ErrorKind::Unreadable { path: self.spec.clone().into(), reason: e.to_string() })
        })?;
        Ok((df, ragged))
    }

    /// The text of CSV cells at (file, one-based data row) `at`, in the
    /// column at header position `index`, for findings about values parsed
    /// during the scan (which keep no text). Each file is read only up to
    /// its last row asked for; a cell that cannot be read is empty.
    pub fn cells(&self, at: &[(u32, u32)], index: usize) -> Vec<String> {
        let mut out = vec![String::new(); at.len()];
        for f in 0..self.files.len() as u32 {
            let mut wanted: Vec<(u32, usize)> =
                at.iter().enumerate().filter(|(_, (file, _))| *file == f).map(|(k, (_, row))| (*row, k)).collect();
            if wanted.is_empty() {
                continue;
            }
            wanted.sort_unstable();
            let path = &self.files[f as usize];
            let mut b = csv::ReaderBuilder::new();
            b.has_headers(true).delimiter(self.sep()).flexible(true);
            let records: Box<dyn Iterator<Item = csv::Result<csv::ByteRecord>>> = match self.decoded(path) {
                Ok(Some(text)) => Box::new(b.from_reader(std::io::Cursor::new(text)).into_byte_records()),
                Ok(None) => match b.from_path(path) {
                    Ok(r) => Box::new(r.into_byte_records()),
                    Err(_) => continue,
                },
                Err(_) => continue,
            };
            let mut next = wanted.iter().peekable();
            for (n, rec) in records.enumerate() {
                let row = u32::try_from(n + 1).unwrap_or(u32::MAX);
                while let Some(&&(r, k)) = next.peek() {
                    if r != row {
                        break;
                    }
                    if let Some(v) = rec.as_ref().ok().and_then(|rec| rec.get(index)) {
                        out[k] = String::from_utf8_lossy(v).into_owned();
                    }
                    next.next();
                }
                if next.peek().is_none() {
                    break;
                }
            }
        }
        out
    }

    /// The header position of a column in file `file`.
    pub fn column_index(&self, file: u32, column: &str, position: Option<usize>) -> Option<usize> {
        let header = self.csv_header(self.files.get(file as usize)?).ok()?;
        match position {
            Some(p) => p.checked_sub(1).filter(|p| *p < header.len()),
            None => header.iter().position(|h| h == column),
        }
    }
}

/// The error for a selected column that `file` (with `header`) lacks; the
/// caller names the table.
fn missing_column(file: &Path, sel: &Selected, header: &[String]) -> Error {
    Error::from(crate::error::ErrorKind::MissingColumn {
        path: file.to_path_buf(),
        table: String::new(),
        column: sel.source.clone(),
        found: header.to_vec(),
        suggest: None,
    })
}

/// The header position of a selected column: the one the mapping picks, or
/// the first with its name.
fn position_of(header: &[String], sel: &Selected) -> Option<usize> {
    match sel.position {
        Some(p) => p.checked_sub(1).filter(|p| *p < header.len()),
        None => header.iter().position(|h| *h == sel.source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// cxm's CSV reader gives the frame and the ragged rows that
        /// polars' CSV scan (after the check pass) gives, on text with
        /// quotes, doubled quotes, quoted line breaks, `\r`, and short or long
        /// records.
        #[test]
        fn the_csv_reader_agrees_with_polars_scan(
            cells in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "", "\"x,y\"", "\"q\"\"q\"", "\"open\nline\"", "1", " 2 ", "\r", "\"\"", "yes",
                    "1970-01-01T00:00:01Z", "\"7\"", "x\"y", "2.0", " ", "\"a\"\"\"",
                ]),
                0..60,
            ),
            breaks in proptest::collection::vec(0usize..5, 0..60),
            final_break in proptest::bool::ANY,
        ) {
            let mut text = String::from("h1,h2,h3,h4\n");
            for (i, c) in cells.iter().enumerate() {
                text.push_str(c);
                text.push(if breaks.get(i) == Some(&0) { '\n' } else { ',' });
            }
            if final_break {
                text.push('\n');
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.csv");
            std::fs::write(&path, &text).unwrap();
            let source = Source::resolve(path.to_str().unwrap()).unwrap();
            let ts = ScanParse::Timestamp(TimestampParser::new(
                crate::parse::timestamp::TimestampFormat::Auto,
                chrono_tz::Tz::UTC,
            ));
            let select: Vec<Selected> = [("h1", None), ("h2", Some(ScanParse::Int)), ("h3", Some(ts)), ("h2", Some(ScanParse::Bool)), ("h4", None)]
                .into_iter()
                .enumerate()
                .map(|(k, (s, scan))| Selected { source: s.into(), canonical: format!("c{k}"), scan, position: None })
                .collect();
            // polars reads a blank line as a record of nulls; the reader
            // skips it (its own tests hold that).
            let blank = text.split('\n').skip(1).collect::<Vec<_>>();
            let blank = blank.iter().take(blank.len().saturating_sub(1)).any(|l| l.chars().all(|c| c == '\r'))
                || blank.last().is_some_and(|l| !l.is_empty() && l.chars().all(|c| c == '\r'));
            proptest::prop_assume!(!blank);
            // Quotes that do not enclose a whole field.
            let irregular = cells.iter().any(|c| c.contains('"') && !(c.starts_with('"') && c.ends_with('"')));
            let (a, ra) = source.read_csv(&select).unwrap();
            // polars' line splitter and the check pass toggle at every
            // quote, its field splitter only in fields that start with one:
            // where a quote does not enclose a whole field, polars splits
            // records inconsistently or fails, and the reader's own tests
            // hold the values.
            if !irregular {
                let (b, rb) = source.read_scans(&select).unwrap();
                let rows = |d: &DataFrame| (0..d.height()).map(|i| format!("{:?}", d.get(i))).collect::<Vec<_>>();
                let (a, b) = (a.drop(FILE_COL).unwrap(), b.drop(FILE_COL).unwrap());
                proptest::prop_assert!(a.equals_missing(&b), "{text:?}\n{:?}\n{:?}", rows(&a), rows(&b));
                proptest::prop_assert_eq!(ra, rb);
            }
        }
    }

    #[test]
    fn keys_read_as_numbers_in_one_file_and_text_in_another_are_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "ticket_id\n1\n2\n").unwrap();
        std::fs::write(dir.path().join("b.csv"), "ticket_id\nT-9\n").unwrap();
        std::fs::write(dir.path().join("c.csv"), "ticket_id\n").unwrap();
        let source = Source::resolve(dir.path().to_str().unwrap()).unwrap();
        let select = [Selected {
            source: "ticket_id".into(),
            canonical: "ticket_id".into(),
            scan: Some(ScanParse::Id),
            position: None,
        }];
        let (df, ragged) = source.read(&select).unwrap();
        assert!(ragged.is_empty());
        let ids: Vec<Option<&str>> = df.column("ticket_id").unwrap().str().unwrap().iter().collect();
        assert_eq!(ids, [Some("1"), Some("2"), Some("T-9")]);
    }

    #[cfg(unix)]
    #[test]
    fn walks_never_loop_and_read_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a.csv"), "x\n1\n").unwrap();
        std::fs::write(d.join("sub/b.csv"), "x\n2\n").unwrap();
        std::os::unix::fs::symlink(".", d.join("l1")).unwrap();
        std::os::unix::fs::symlink(".", d.join("l2")).unwrap();
        std::os::unix::fs::symlink(d.join("a.csv"), d.join("sub/a-link.csv")).unwrap();
        let s = Source::resolve(d.to_str().unwrap()).unwrap();
        assert_eq!(s.files.len(), 2, "{:?}", s.files);
        let g = Source::resolve(&format!("{}/**/*.csv", d.display())).unwrap();
        assert_eq!(g.files.len(), 2, "{:?}", g.files);
        let one = Source::resolve(&format!("{}/*.csv", d.display())).unwrap();
        assert_eq!(one.files, vec![d.join("a.csv")]);
    }

    #[test]
    fn a_glob_matches_within_one_folder_level_per_star() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x/y")).unwrap();
        std::fs::write(dir.path().join("x/t-1.csv"), "a\n1\n").unwrap();
        std::fs::write(dir.path().join("x/y/t-2.csv"), "a\n1\n").unwrap();
        let g = Source::resolve(&format!("{}/x/t-*.csv", dir.path().display())).unwrap();
        assert_eq!(g.files.len(), 1);
        let g = Source::resolve(&format!("{}/x/*/t-*.csv", dir.path().display())).unwrap();
        assert_eq!(g.files, vec![dir.path().join("x/y/t-2.csv")]);
    }
}
