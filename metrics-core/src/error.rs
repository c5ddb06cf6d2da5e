//! The one error type of `metrics-core`.
//!
//! Every variant that concerns an input names the file, and where it can the
//! row, the column and the value that was found, so that a message can be
//! shown to a user as it is.

use std::path::PathBuf;

/// An error of `metrics-core`: what went wrong is its [`ErrorKind`]
/// (rust-csv's shape: one small type, the details boxed), and its message
/// names the file, row, column and value where there is one.
///
/// ```
/// use metrics_core::{Error, ErrorKind};
/// let e = metrics_core::report::parse_instant("yesterday", chrono_tz::UTC).unwrap_err();
/// assert!(matches!(e.kind(), ErrorKind::InvalidOption { .. }));
/// assert!(e.to_string().contains("yesterday"));
/// ```
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// An [`ErrorKind::InvalidOption`].
    pub(crate) fn invalid_option(key: &str, value: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        Self::from(ErrorKind::InvalidOption { key: key.to_owned(), value: value.to_string(), reason: reason.into() })
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self(Box::new(kind))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

/// The kinds of [`Error`]: everything that can stop a report from being
/// computed.
///
/// A bad *value* in a usable column is never an error: it is counted in the
/// data-quality section. These variants are for inputs that cannot be used at
/// all (a wrong mapping, a missing file, a column where nothing parses).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An input path, glob or directory matched no readable file.
    #[error("{}: no such file, glob match or directory", path.display())]
    NotFound {
        /// The path, glob or directory as given.
        path: PathBuf,
    },
    /// A file could not be opened or read.
    #[error("{}: cannot read: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system or reader said.
        reason: String,
    },
    /// A SQL engine that cxm runs (`--engine`) failed or rejected the query.
    #[error("{engine}: {reason}")]
    Engine {
        /// The engine (`datafusion`, ...).
        engine: String,
        /// What failed, and what the engine said.
        reason: String,
    },
    /// A file has no header, or a table has no data rows in any of its files.
    #[error("{}: {what}", path.display())]
    Empty {
        /// The file, glob or directory.
        path: PathBuf,
        /// `no header` or `no data rows`.
        what: String,
    },
    /// A required canonical column is neither present nor mapped.
    #[error(
        "{}: missing required column `{column}` for table {table} (found columns: {}){}",
        path.display(), found.join(", "), suggest.map(|p| format!("; the columns match the {0} preset", p.name())).unwrap_or_default()
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The canonical table (`tickets`, ...).
        table: String,
        /// The canonical column that is required.
        column: String,
        /// The columns the file has.
        found: Vec<String>,
        /// A preset whose columns the file matches, suggested in the message.
        suggest: Option<crate::preset::Preset>,
    },
    /// A mapping names a source column the file does not have.
    #[error(
        "{}: the mapping for `{canonical}` names column `{source_column}`, which is not in the file (found columns: {}){}",
        path.display(), found.join(", "), one_column_hint(found)
    )]
    MappedColumnMissing {
        /// The file.
        path: PathBuf,
        /// The canonical column being mapped.
        canonical: String,
        /// The source column named by the mapping.
        source_column: String,
        /// The columns the file has.
        found: Vec<String>,
    },
    /// A mapped column has non-empty values but not one of them parses:
    /// the mapping or its format is wrong, not a row.
    #[error(
        "{}, row {row}, column {column}: cannot parse {value:?} as {expected} (no value in this column parses; check the mapping's unit or format)",
        path.display()
    )]
    NothingParses {
        /// The file.
        path: PathBuf,
        /// The one-based data row of the first bad value (`file:row` for multi-file inputs).
        row: String,
        /// The source column.
        column: String,
        /// The first bad value.
        value: String,
        /// What the value should have been (`a timestamp`, `an integer`, ...).
        expected: String,
    },
    /// A column that is read has a type cxm cannot use (a Parquet list,
    /// binary, struct, ...).
    #[error("{}, column {column}: type {dtype} cannot be read as text, a number, a boolean or a timestamp", path.display())]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Its type as polars names it.
        dtype: String,
    },
    /// A column that is read holds bytes that are not valid in the file's
    /// encoding.
    #[error(
        "{}, row {row}, column {column}: byte 0x{byte:02X} at offset {offset} is not valid {encoding}; if the file is in another encoding, set `encoding = \"windows-1252\"` (or latin-1, utf-16) for this table",
        path.display()
    )]
    Encoding {
        /// The file.
        path: PathBuf,
        /// The one-based data row.
        row: u32,
        /// The column, as named in the header.
        column: String,
        /// The first invalid byte.
        byte: u8,
        /// Its offset in the file.
        offset: u64,
        /// The encoding the file was read in.
        encoding: String,
    },
    /// A column cxm reads appears more than once in the header.
    #[error(
        "{}: column `{column}` appears {} times in the header (positions {}); map one by position, e.g. `{canonical} = {{ column = \"{column}\", position = {} }}`",
        path.display(), positions.len(), positions.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and "), positions.first().copied().unwrap_or(1)
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The repeated header name.
        column: String,
        /// The canonical column it would feed.
        canonical: String,
        /// Its one-based positions.
        positions: Vec<usize>,
    },
    /// Every non-empty value of a timestamp column parses, but none falls in
    /// the valid years: the column's unit or format is wrong.
    #[error(
        "{}, row {row}, column {column}: {detail}",
        path.display()
    )]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// The one-based data row of the first value.
        row: String,
        /// The source column.
        column: String,
        /// The first value as written, what it reads as, the valid years,
        /// and which unit would fit.
        detail: String,
    },
    /// A section would have more periods than a report can hold.
    #[error(
        "{section}: {first} to {last} is more than {limit} {period} periods; check the timestamps' format or unit, the range (since, until), or choose a longer period"
    )]
    TooManyPeriods {
        /// The section.
        section: String,
        /// The first date.
        first: String,
        /// The last date.
        last: String,
        /// The period length.
        period: String,
        /// The limit.
        limit: usize,
    },
    /// Required columns are neither present nor mapped (the first file of
    /// an input): every one is named, with the closest header names.
    #[error("{0}")]
    MissingColumns(Box<Missing>),
    /// One data-quality reason excluded more than `max_excluded` of a
    /// table's rows: a wrong mapping, format or separator, not dirty data.
    #[error("{0}")]
    TooManyExcluded(Box<Excluded>),
    /// A command lacks the input table it needs (or every input): the
    /// caller says how to give it (the CLI names its flags and keys).
    #[error("no {} given", tables.join(" or "))]
    MissingInput {
        /// The inputs, any of which would do (`tickets`, `subscriptions`,
        /// `surveys`, `transactions`, `usage`).
        tables: Vec<String>,
    },
    /// Amounts in several currencies (or not the reporting one) and no
    /// rates table: the message says which; the caller says how to give
    /// a table with columns `currency`, `rate`.
    #[error("{0} (a table with columns currency, rate)")]
    NeedsRates(String),
    /// An option has a value the library cannot use (an unknown period or
    /// preset, a percentile outside (0, 100), a margin outside (0, 1]...).
    /// `key` is the option's name as the config spells it; the caller may
    /// add the flag that set it.
    #[error("{key} `{value}` {reason}")]
    InvalidOption {
        /// The option (`period`, `percentiles`, `gross_margin`, ...).
        key: String,
        /// The value given, as text.
        value: String,
        /// Why it is refused, with what is expected.
        reason: String,
    },
    /// A value in a small lookup input (the rates table) that makes the
    /// whole input unusable: named by file, row and column.
    #[error("{file} row {row}, column {column}: {value:?} {reason}")]
    BadValue {
        /// The file.
        file: String,
        /// The one-based data row.
        row: String,
        /// The column.
        column: String,
        /// The value found.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// An input was read but not one of its rows can be used (every row was
    /// excluded, for reasons counted in the data-quality findings).
    #[error("{table}: no usable row to report on")]
    NoUsableRows {
        /// The table (`subscriptions`, `transactions`, `surveys`).
        table: String,
    },
    /// A file the library would write already exists: nothing is overwritten.
    #[error("{}: already exists; nothing is overwritten (choose a new or empty folder)", path.display())]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// A bug in cxm or in a library it calls (a caught panic): the message
    /// says where; please report it.
    #[error("internal error while {0} (please report it)")]
    Internal(String),
    /// The configuration does not describe a usable report (a mapping names
    /// an unknown column, health has no components...): the message says
    /// which section and what to add.
    #[error("{0}")]
    Config(String),
    /// A `--by` dimension that no table of the command has.
    #[error("unknown dimension `{name}`: not a column of {tables}")]
    UnknownDimension {
        /// The dimension as given.
        name: String,
        /// The tables searched.
        tables: String,
    },
    /// polars failed while computing something.
    #[error("computing {what}: {source}")]
    Polars {
        /// What was being computed.
        what: String,
        /// The polars error.
        #[source]
        source: polars::error::PolarsError,
    },
    /// An I/O error while writing (demo data).
    #[error("{}: {source}", path.display())]
    Io {
        /// The path written.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The details of [`ErrorKind::MissingColumns`].
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    /// The file.
    pub path: PathBuf,
    /// The canonical table.
    pub table: String,
    /// The required canonical columns missing.
    pub columns: Vec<String>,
    /// The file's columns.
    pub found: Vec<String>,
    /// (canonical, closest header name) pairs.
    pub closest: Vec<(String, String)>,
    /// A preset whose columns the file matches.
    pub suggest: Option<crate::preset::Preset>,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.columns.iter().map(|c| format!("`{c}`")).collect();
        let s = if self.columns.len() == 1 { "" } else { "s" };
        write!(
            f,
            "{}: missing required column{s} {} for table {} (found columns: {})",
            self.path.display(),
            names.join(", "),
            self.table,
            self.found.join(", ")
        )?;
        f.write_str(one_column_hint(&self.found))?;
        if let Some(p) = self.suggest {
            write!(f, "; the columns match the {0} preset", p.name())?;
        }
        if !self.closest.is_empty() {
            let lines: Vec<String> = self.closest.iter().map(|(c, h)| format!("{c} = {h:?}")).collect();
            write!(f, "; closest header names, as config lines: [{}.columns] {}", self.table, lines.join(", "))?;
        }
        Ok(())
    }
}

/// The details of [`ErrorKind::TooManyExcluded`].
#[derive(Debug, Clone, PartialEq)]
pub struct Excluded {
    /// The input as given.
    pub path: String,
    /// The table.
    pub table: String,
    /// The finding.
    pub finding: crate::quality::QualityRow,
    /// The column as named in the file.
    pub source_column: String,
    /// Rows read from the table.
    pub rows: usize,
    /// The limit (a share of the rows).
    pub limit: f64,
}

impl std::fmt::Display for Excluded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = &self.finding;
        let share = q.count as f64 / self.rows.max(1) as f64;
        write!(
            f,
            "{}: {} of {} {} rows ({:.1}%) are {}",
            self.path,
            crate::parse::timestamp::thousands(usize::try_from(q.count).unwrap_or(usize::MAX)),
            crate::parse::timestamp::thousands(self.rows),
            self.table,
            share * 100.0,
            q.reason.name(),
        )?;
        if !q.column.is_empty() {
            write!(f, " in column {}", self.source_column)?;
        }
        let cause = match q.reason {
            crate::quality::Reason::MissingRequired => {
                "a column mapped to the wrong source, or one that is mostly empty"
            }
            crate::quality::Reason::RaggedRow => "a wrong separator or unquoted separators in values",
            _ => "a wrong mapping, format or separator, not dirty data",
        };
        write!(f, ", over the limit of {:.0}% (max_excluded): {cause}", self.limit * 100.0)?;
        if !q.first_values.is_empty() {
            let v: Vec<String> = q.first_values.iter().map(|v| format!("{v:?}")).collect();
            write!(f, "; first values {}", v.join(", "))?;
        }
        if let Some(h) = &q.hint {
            write!(f, "; {h}")?;
        }
        write!(f, " (raise max_excluded, 1 disables the check, or run `cxm validate` to see every finding)")
    }
}

/// The hint for a header read as one column: the file is probably
/// separated by something else.
fn one_column_hint(found: &[String]) -> &'static str {
    match found {
        [one] if one.trim().contains("  ") || one.trim().contains(' ') && one.split_whitespace().count() > 2 => {
            "; only one column found, with runs of spaces: set `delimiter = \"whitespace\"` for this table"
        }
        [one] if one.contains([';', '\t', '|', ' ']) => {
            "; only one column found: is the file separated by tabs, semicolons, `|` or spaces? set `delimiter` for this table"
        }
        _ => "",
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach what was being computed to a polars error.
pub(crate) trait PolarsContext<T> {
    /// Wrap the error in [`ErrorKind::Polars`].
    fn ctx(self, what: &str) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn ctx(self, what: &str) -> Result<T> {
        self.map_err(|source| Error::from(crate::error::ErrorKind::Polars { what: what.to_owned(), source }))
    }
}
