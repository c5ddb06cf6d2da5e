//! cxm's own reader of CSV text: only the columns a command needs, parsed
//! straight into typed columns, in blocks of whole records on every core.
//!
//! One thread reads the file a block at a time (8 MiB, grown for a longer
//! record) and cuts it after its last record (a line break with an even
//! number of quotes before it). Workers split each block into fields, skip
//! the fields no column reads, and parse the others where they lie:
//! timestamps to UTC microseconds, counts to integers, flags to booleans,
//! text into a string column. Blocks come back in file order as chunks of
//! the columns, so no full-height text column is ever held.
//!
//! The values are the ones polars' CSV reader gives (a property test holds
//! the two to each other): a field that starts with a quote is enclosed,
//! and in it every quote toggles the in-quotes state, so separators and
//! line breaks inside quotes are text; it loses its quotes, `""` inside
//! becomes `"`. Elsewhere a quote is text (`5" screen`). A `\r` ending a
//! field is dropped, a blank line (nothing but `\r`) is skipped, a short
//! record is padded with nulls and a long one cut. Blocks are split 64
//! bytes at a time as if every quote toggled, which is the same wherever
//! quotes enclose whole fields; a block where a quote opens inside an
//! unquoted field is noticed, and the file is then read again byte by byte
//! (polars' own line splitter toggles at every quote, and there splits
//! records apart or fails). The pass also finds what `check.rs` finds:
//! records whose field count differs from the header's, and the first byte
//! that is not UTF-8 in a column that is read.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use polars::prelude::*;

use super::check::{below, masks, prefix_xor};
use super::{ScanParse, UNPARSEABLE};
use crate::parse::timestamp::LastDay;
use crate::parse::values::{parse_bool, parse_int};
use crate::raw::Values;

/// Bytes read per block before it is cut after its last record.
const BLOCK: usize = 8 << 20;

/// A header position no column reads.
const NOT_READ: u32 = u32::MAX;

/// The span of a field a short record does not have (its value is null).
const MISSING: (u32, u32) = (u32::MAX, 0);

/// How one read column is parsed.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    /// Its index among the header's fields.
    pub(crate) field: usize,
    /// Its name in the frame.
    pub(crate) name: PlSmallStr,
    /// The parse, or `None` to keep the text.
    pub(crate) parse: Option<ScanParse>,
}

/// What the reader found in one file.
#[derive(Debug, Default)]
pub(crate) struct FileRead {
    /// The wanted columns, in the order asked, as many rows as data records.
    pub(crate) columns: Vec<Column>,
    /// Data records.
    pub(crate) rows: usize,
    /// Records (one-based, header excluded) whose field count differs from
    /// the header's, with their count.
    pub(crate) ragged: Vec<(u32, u32)>,
    /// The first byte that is not UTF-8 in a read column: (column index,
    /// one-based data row, the byte, its offset in the file).
    pub(crate) bad_byte: Option<(u32, u32, u8, u64)>,
}

/// The fixed facts every block is parsed with.
struct Plan<'a> {
    sep: u8,
    header_fields: u32,
    /// The header positions that are read, ascending.
    fields: Vec<usize>,
    /// For each header position, its index in `fields` ([`NOT_READ`] when
    /// no column reads it).
    field_slot: Vec<u32>,
    wanted: &'a [Wanted],
    /// Bytes per block before the cut.
    block: usize,
    /// Split by [`exact_ends`] instead of [`fast_ends`].
    exact: bool,
}

/// A block of whole records and where it starts in the file.
struct Block<'a> {
    index: usize,
    offset: u64,
    bytes: Cow<'a, [u8]>,
    /// Whether the text ends here (a last record without a line break).
    last: bool,
}

/// One block's columns and findings, rows numbered from 0 in the block.
struct Parsed {
    columns: Vec<Builder>,
    rows: u32,
    ragged: Vec<(u32, u32)>,
    bad_byte: Option<(u32, u32, u8, u64)>,
    /// Whether a quote inside an unquoted field made the fast split
    /// unreliable ([`fast_ends`]): the file is read again exactly.
    irregular: bool,
}

/// Opens a file's text anew (it is read twice when a quote is irregular).
pub(crate) type Open<'a> = &'a (dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Sync);

/// Where the CSV text comes from.
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    /// Decoded text in memory (blocks borrow it).
    Text(&'a [u8]),
    /// A file read as it is, a block at a time.
    Reader(Open<'a>),
}

/// Reads `wanted` from CSV text. The header is the first record;
/// `header_fields` its field count.
pub(crate) fn read(input: Input<'_>, sep: u8, header_fields: usize, wanted: &[Wanted]) -> std::io::Result<FileRead> {
    read_in_blocks(input, sep, header_fields, wanted, BLOCK)
}

/// [`read`] cutting blocks of about `block` bytes: split fast, and again
/// exactly when a block was irregular.
fn read_in_blocks(
    input: Input<'_>,
    sep: u8,
    header_fields: usize,
    wanted: &[Wanted],
    block: usize,
) -> std::io::Result<FileRead> {
    let mut fields: Vec<usize> = wanted.iter().map(|w| w.field).filter(|&f| f < header_fields).collect();
    fields.sort_unstable();
    fields.dedup();
    let mut field_slot = vec![NOT_READ; header_fields];
    for (i, &f) in fields.iter().enumerate() {
        field_slot[f] = i as u32;
    }
    let header_fields = u32::try_from(header_fields).unwrap_or(u32::MAX);
    let mut plan = Plan { sep, header_fields, fields, field_slot, wanted, block: block.max(1), exact: false };
    let (parsed, whole) = read_blocks(input, &plan)?;
    if whole && !parsed.iter().any(|(_, p)| p.irregular) {
        return Ok(assemble(parsed, wanted));
    }
    drop(parsed);
    plan.exact = true;
    Ok(assemble(read_blocks(input, &plan)?.0, wanted))
}

/// Blocks never grow past this many times [`Plan::block`] in the fast
/// split: a longer run without a record end means a stray quote (every
/// later line break looks quoted), and the file is split exactly instead
/// of buffering the rest of it.
const MAX_GROWTH: usize = 8;

/// Positions in a block are `u32`: a block this long is refused.
const MAX_BLOCK: usize = u32::MAX as usize - 1;

/// The error for a record longer than [`MAX_BLOCK`].
fn too_long() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "a record longer than 4 GiB (an unclosed quote?)")
}

/// Every block of `input`, parsed on all cores, in file order, and whether
/// the split reached the end (`false`: the fast split gave up on a stray
/// quote, see [`MAX_GROWTH`]).
fn read_blocks(input: Input<'_>, plan: &Plan<'_>) -> std::io::Result<(Vec<(usize, Parsed)>, bool)> {
    let workers = crate::cores().clamp(1, 8);
    let (to_workers, from_reader) = sync_channel::<Block<'_>>(workers * 2);
    let from_reader = Mutex::new(from_reader);
    let done: Mutex<Vec<(usize, Parsed)>> = Mutex::new(Vec::new());
    let spare: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let failed = std::sync::atomic::AtomicBool::new(false);
    let whole = std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| work(&from_reader, plan, &done, &spare, &failed));
        }
        let sent = match input {
            Input::Text(t) => split_text(t, &to_workers, plan),
            Input::Reader(open) => open().and_then(|r| split_reader(r, &to_workers, &spare, plan)),
        };
        drop(to_workers);
        sent
    })?;
    if failed.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(std::io::Error::other("cxm's CSV reader failed on a block of this file"));
    }
    let mut parsed = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    parsed.sort_unstable_by_key(|(i, _)| *i);
    Ok((parsed, whole))
}

/// A worker: parses blocks until the reader is done, handing back owned
/// buffers for reuse.
/// A block that fails (a panic, which no input should cause) sets `failed`;
/// the worker then drains the rest without parsing, so the reading thread
/// never waits on a full channel.
fn work(
    from_reader: &Mutex<Receiver<Block<'_>>>,
    plan: &Plan<'_>,
    done: &Mutex<Vec<(usize, Parsed)>>,
    spare: &Mutex<Vec<Vec<u8>>>,
    failed: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut scratch = Scratch::default();
    loop {
        let next = from_reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
        let Ok(block) = next else { return };
        if failed.load(Relaxed) {
            continue;
        }
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_block(&block, plan, &mut scratch)));
        let Ok(parsed) = parsed else {
            failed.store(true, Relaxed);
            continue;
        };
        done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((block.index, parsed));
        if let Cow::Owned(mut buf) = block.bytes {
            buf.clear();
            spare.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(buf);
        }
    }
}

/// The end of the header record (just after its line break), if it has
/// one. Blank lines before it are skipped, as the header is read.
fn header_end(text: &[u8], sep: u8) -> Option<usize> {
    let lead = text.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
    let mut first = None;
    exact_ends(&text[lead..], sep, |p, record_end| {
        if record_end {
            first = Some(lead + p + 1);
        }
        !record_end
    });
    first
}

/// Just after the last line break of `buf` that ends a record, if any.
/// Fast: a line break with an even number of quotes before it (the rule of
/// [`fast_ends`]); exact: by [`exact_ends`].
fn last_record_end(buf: &[u8], plan: &Plan<'_>) -> Option<usize> {
    if plan.exact {
        let mut last = None;
        exact_ends(buf, plan.sep, |p, record_end| {
            if record_end {
                last = Some(p + 1);
            }
            true
        });
        return last;
    }
    let total = memchr::memchr_iter(b'"', buf).count();
    let mut after = 0usize;
    for i in (0..buf.len()).rev() {
        match buf[i] {
            b'"' => after += 1,
            b'\n' if (total - after).is_multiple_of(2) => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Blocks of in-memory text, borrowed.
fn split_text<'a>(text: &'a [u8], to: &SyncSender<Block<'a>>, plan: &Plan<'_>) -> std::io::Result<bool> {
    let Some(mut start) = header_end(text, plan.sep) else { return Ok(true) };
    let mut index = 0;
    while start < text.len() {
        let mut end = (start + plan.block).min(text.len());
        // A record longer than the block: grow the block until one ends.
        let cut = loop {
            if end == text.len() {
                break end;
            }
            if let Some(c) = last_record_end(&text[start..end], plan) {
                break start + c;
            }
            if !plan.exact && end - start >= MAX_GROWTH * plan.block {
                return Ok(false);
            }
            end = (start + 2 * (end - start)).min(text.len());
        };
        if cut - start > MAX_BLOCK {
            return Err(too_long());
        }
        let block =
            Block { index, offset: start as u64, bytes: Cow::Borrowed(&text[start..cut]), last: cut == text.len() };
        if to.send(block).is_err() {
            break;
        }
        index += 1;
        start = cut;
    }
    Ok(true)
}

/// Reads from `r` until `buf` holds `want` bytes or the text ends; the
/// bytes read (0 at the end). The buffer is not zeroed first.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<usize> {
    let need = want.saturating_sub(buf.len());
    buf.reserve_exact(need);
    r.take(need as u64).read_to_end(buf)
}

/// Blocks read from a file, each an owned buffer (reused once parsed).
fn split_reader(
    mut r: Box<dyn Read + Send>,
    to: &SyncSender<Block<'_>>,
    spare: &Mutex<Vec<Vec<u8>>>,
    plan: &Plan<'_>,
) -> std::io::Result<bool> {
    let mut buf = Vec::with_capacity(plan.block);
    // The header first: read until its record ends.
    let mut want = plan.block;
    let start = loop {
        let n = fill(&mut *r, &mut buf, want)?;
        if let Some(h) = header_end(&buf, plan.sep) {
            break h;
        }
        if n == 0 {
            return Ok(true);
        }
        if buf.len() > MAX_BLOCK {
            return Err(too_long());
        }
        want *= 2;
    };
    let mut carry = buf.split_off(start);
    let (mut index, mut offset) = (0usize, start as u64);
    loop {
        let mut block = spare.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop().unwrap_or_default();
        block.clear();
        block.extend_from_slice(&carry);
        let mut want = plan.block.max(carry.len() * 2);
        let (cut, last) = loop {
            let n = fill(&mut *r, &mut block, want)?;
            if n == 0 {
                break (block.len(), true);
            }
            if let Some(c) = last_record_end(&block, plan) {
                break (c, false);
            }
            if !plan.exact && block.len() >= MAX_GROWTH * plan.block {
                return Ok(false);
            }
            if block.len() > MAX_BLOCK {
                return Err(too_long());
            }
            want = block.len() * 2;
        };
        carry.clear();
        carry.extend_from_slice(&block[cut..]);
        block.truncate(cut);
        let len = block.len() as u64;
        if block.len() > MAX_BLOCK {
            return Err(too_long());
        }
        if !block.is_empty() && to.send(Block { index, offset, bytes: Cow::Owned(block), last }).is_err() {
            return Ok(true);
        }
        index += 1;
        offset += len;
        if last {
            return Ok(true);
        }
    }
}

/// A column being built from one block.
enum Builder {
    /// Microseconds or whole numbers, with the day of the last timestamp.
    Int(Values<i64>, LastDay),
    /// Flags as 1, 0 or -1.
    Flag(Values<i8>),
    /// Text.
    Text(StringChunkedBuilder),
    /// Keys while every one is a canonical whole number ([`canonical`]);
    /// text from the first that is not.
    Id(Values<i64>, PlSmallStr),
}

/// A key written as a whole number in canonical form (`0`, or up to 18
/// digits without a leading zero): its number, which stands for it
/// exactly, since two such texts are equal exactly when their numbers are.
fn canonical(b: &[u8]) -> Option<i64> {
    let ok = b == b"0" || (matches!(b.first(), Some(b'1'..=b'9')) && b.len() <= 18 && b.iter().all(u8::is_ascii_digit));
    ok.then(|| b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

impl Builder {
    fn new(w: &Wanted, rows: usize) -> Self {
        match w.parse {
            Some(ScanParse::Id) => Self::Id(Values::with_capacity(rows), w.name.clone()),
            Some(ScanParse::Bool) => Self::Flag(Values::with_capacity(rows)),
            Some(_) => Self::Int(Values::with_capacity(rows), LastDay::default()),
            None => Self::Text(StringChunkedBuilder::new(w.name.clone(), rows)),
        }
    }

    fn null(&mut self) {
        match self {
            Self::Int(v, _) | Self::Id(v, _) => v.push(None),
            Self::Flag(v) => v.push(None),
            Self::Text(b) => b.append_null(),
        }
    }

    /// An [`Builder::Id`] turned to text: the keys so far written back in
    /// their canonical form.
    fn ids_to_text(&mut self) {
        if let Self::Id(v, name) = self {
            let mut b = StringChunkedBuilder::new(name.clone(), v.len());
            v.iter().for_each(|n| b.append_option(n.map(|n| n.to_string())));
            *self = Self::Text(b);
        }
    }

    /// A field's bytes, when they are in the form most exports write
    /// (a `Z` timestamp, plain digits, `true`/`false`): parsed without
    /// going through text, with the value the text parse gives. `false`
    /// (nothing pushed) for anything else.
    fn push_common(&mut self, parse: Option<&ScanParse>, b: &[u8]) -> bool {
        let (values, value) = match (self, parse) {
            (Self::Int(v, day), Some(ScanParse::Timestamp(ts))) => (v, ts.parse_common_cached(b, day)),
            (Self::Int(v, _), _) => {
                let digits = !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit);
                (v, digits.then(|| b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))))
            }
            (Self::Id(v, _), _) => (v, canonical(b)),
            (Self::Flag(v), _) => {
                let flag = match b {
                    b"true" | b"1" => 1,
                    b"false" | b"0" => 0,
                    _ => return false,
                };
                v.push(Some(flag));
                return true;
            }
            (Self::Text(_), _) => return false,
        };
        if value.is_some() {
            values.push(value);
        }
        value.is_some()
    }

    /// One field's text (quotes removed), parsed as `parse` says.
    fn push(&mut self, parse: Option<&ScanParse>, text: &str) {
        if let Self::Id(v, _) = self {
            if let Some(n) = canonical(text.as_bytes()) {
                v.push(Some(n));
                return;
            }
            self.ids_to_text();
        }
        let t = text.trim();
        match self {
            Self::Text(b) => b.append_value(text),
            Self::Id(..) => {}
            Self::Int(v, _) => v.push((!t.is_empty()).then(|| match parse {
                Some(ScanParse::Timestamp(ts)) => ts.parse(t).unwrap_or(UNPARSEABLE),
                _ => parse_int(t).unwrap_or(UNPARSEABLE),
            })),
            Self::Flag(v) => v.push((!t.is_empty()).then(|| parse_bool(t).map_or(-1, i8::from))),
        }
    }

    fn finish(self, name: &PlSmallStr) -> Column {
        match self {
            Self::Int(v, _) | Self::Id(v, _) => v.into_column(name),
            Self::Flag(v) => v.into_column(name),
            Self::Text(b) => b.finish().into_column(),
        }
    }
}

/// A field's value. An enclosed field (starting with a quote) loses its
/// opening quote and its closing one when it ends with a quote; inside,
/// `""` is one quote and a lone quote is dropped, as polars reads it. Any
/// other field is its text.
fn unquote(f: &[u8]) -> Cow<'_, [u8]> {
    let inner = match f {
        [b'"', inner @ .., b'"'] => inner,
        [b'"', rest @ ..] => rest,
        _ => return Cow::Borrowed(f),
    };
    if !inner.contains(&b'"') {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut lone = false;
    for &c in inner {
        if c == b'"' && !lone {
            lone = true;
        } else {
            out.push(c);
            lone = false;
        }
    }
    Cow::Owned(out)
}

/// Splits one block into records and fields and parses the wanted ones,
/// in two passes: the byte span of every read field of every record
/// ([`fast_ends`] 64 bytes at a time, or [`exact_ends`] byte by byte when
/// `exact`), then each column's values from its spans in one loop, so that
/// every value of a loop takes the same branch.
fn parse_block(block: &Block<'_>, plan: &Plan<'_>, scratch: &mut Scratch) -> Parsed {
    let bytes: &[u8] = &block.bytes;
    let Scratch { ends, split } = scratch;
    ends.at.clear();
    ends.records.clear();
    let mut irregular = false;
    if plan.exact {
        exact_ends(bytes, plan.sep, |p, record_end| {
            ends.push(p, record_end);
            true
        });
    } else {
        irregular = !fast_ends(bytes, plan.sep, |p, record_end| ends.push(p, record_end));
    }
    if irregular {
        return Parsed { columns: Vec::new(), rows: 0, ragged: Vec::new(), bad_byte: None, irregular };
    }
    if block.last {
        ends.close(bytes);
    }
    ends.split(bytes, plan, split);
    let ragged = std::mem::take(&mut split.ragged);
    let mut out = Parsed { columns: Vec::new(), rows: split.rows, ragged, bad_byte: None, irregular };
    for w in plan.wanted {
        let slot = plan.field_slot.get(w.field).copied().unwrap_or(NOT_READ);
        let Some(spans) = split.spans.get(slot as usize) else {
            // A column past the header's end: null in every record.
            let mut column = Builder::new(w, split.rows as usize);
            (0..split.rows).for_each(|_| column.null());
            out.columns.push(column);
            continue;
        };
        let mut column = Builder::new(w, spans.len());
        for (row, &(start, end)) in spans.iter().enumerate() {
            if (start, end) == MISSING {
                column.null();
                continue;
            }
            let raw = &bytes[start as usize..end as usize];
            if let Err(at) = column.value(w.parse.as_ref(), raw) {
                let offset = block.offset + (start as usize + at) as u64;
                if out.bad_byte.is_none_or(|b| offset < b.3) {
                    out.bad_byte = Some((w.field as u32, row as u32, raw[at], offset));
                }
            }
        }
        out.columns.push(column);
    }
    out
}

/// The first pass of [`parse_block`]: where every field of the block ends.
#[derive(Default)]
struct Ends {
    /// The position of each separator or line break that ends a field.
    at: Vec<u32>,
    /// The index in `at` of each record's last end (a line break).
    records: Vec<u32>,
}

impl Ends {
    /// A field ending at `p`, and its record with it when `record_end`.
    #[inline]
    fn push(&mut self, p: usize, record_end: bool) {
        // Blocks are at most `MAX_BLOCK` bytes: positions fit.
        self.at.push(p as u32);
        if record_end {
            self.records.push(self.at.len() as u32 - 1);
        }
    }

    /// Ends the text's last record when it has no line break: when it has
    /// a field end or a byte other than `\r` after the last record.
    fn close(&mut self, bytes: &[u8]) {
        let last_record = self.records.last().map_or(0, |&r| r as usize + 1);
        let start = last_record.checked_sub(1).map_or(0, |i| self.at[i] as usize + 1);
        if self.at.len() > last_record || bytes[start..].iter().any(|&b| b != b'\r') {
            self.push(bytes.len(), true);
        }
    }

    /// Each read field's span in every record: the bytes between the end
    /// before it (or the record's start) and its end; [`MISSING`] past a
    /// short record's end. Blank lines (nothing but `\r`) are no record;
    /// records whose field count differs from the header's are listed.
    fn split(&self, bytes: &[u8], plan: &Plan<'_>, out: &mut Split) {
        let rows = self.records.len();
        out.spans.resize_with(plan.fields.len(), Vec::new);
        for spans in &mut out.spans {
            spans.clear();
            spans.reserve(rows);
        }
        (out.rows, out.ragged) = (0, Vec::new());
        let (mut first, mut start) = (0usize, 0u32);
        for &last in &self.records {
            let ends = &self.at[first..=last as usize];
            first = last as usize + 1;
            let record_start = start;
            start = ends[ends.len() - 1] + 1;
            if ends.len() == 1 && bytes[record_start as usize..ends[0] as usize].iter().all(|&b| b == b'\r') {
                continue;
            }
            let fields = ends.len();
            for (spans, &f) in out.spans.iter_mut().zip(&plan.fields) {
                spans.push(match f {
                    0 => (record_start, ends[0]),
                    f if f < fields => (ends[f - 1] + 1, ends[f]),
                    _ => MISSING,
                });
            }
            if fields != plan.header_fields as usize {
                out.ragged.push((out.rows, u32::try_from(fields).unwrap_or(u32::MAX)));
            }
            out.rows += 1;
        }
    }
}

/// A worker's buffers, kept from block to block: fresh ones would be
/// mapped and faulted in for every block.
#[derive(Default)]
struct Scratch {
    ends: Ends,
    split: Split,
}

/// Where each read field lies, record by record.
#[derive(Default)]
struct Split {
    /// Per read field (as [`Plan::fields`]), each record's span, or
    /// [`MISSING`].
    spans: Vec<Vec<(u32, u32)>>,
    rows: u32,
    ragged: Vec<(u32, u32)>,
}

/// Calls `end(p, record_end)` (until it returns `false`) at every separator and line break of
/// `bytes` (whole records) that ends a field, by the rule of the module
/// doc: a field that starts with a quote is enclosed, and in it every
/// quote toggles the in-quotes state; elsewhere quotes are plain text.
fn exact_ends(bytes: &[u8], sep: u8, mut end: impl FnMut(usize, bool) -> bool) {
    let (mut at_start, mut enclosed, mut in_quotes) = (true, false, false);
    for (p, &b) in bytes.iter().enumerate() {
        if at_start {
            at_start = false;
            enclosed = b == b'"';
        }
        if enclosed && b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && (b == sep || b == b'\n') {
            if !end(p, b == b'\n') {
                return;
            }
            at_start = true;
        }
    }
}

/// [`exact_ends`] 64 bytes at a time: bit masks of quotes, separators and
/// line breaks, and the in-quotes state as the prefix XOR of the quotes,
/// which is the exact rule while every quote that opens a quoted run starts
/// a field or follows a closing quote. Returns `false` (having called `end`
/// for some fields) when a quote breaks that: the block must be read by
/// [`exact_ends`].
fn fast_ends(bytes: &[u8], sep: u8, mut end: impl FnMut(usize, bool)) -> bool {
    let mut in_quotes = false;
    // Whether the byte before the window ends a field (or starts the
    // block), and whether it is a closing quote.
    let (mut after_end, mut after_close) = (1u64, 0u64);
    let mut at = 0usize;
    while at < bytes.len() {
        let len = (bytes.len() - at).min(64);
        let [quote, newline, seps] = match bytes[at..].first_chunk::<64>() {
            Some(window) => masks(window, [b'"', b'\n', sep]),
            None => {
                let mut window = [0u8; 64];
                window[..len].copy_from_slice(&bytes[at..]);
                masks(&window, [b'"', b'\n', sep])
            }
        };
        let mut inside = prefix_xor(quote);
        if in_quotes {
            inside = !inside;
        }
        in_quotes = (inside >> (len - 1)) & 1 == 1;
        let valid = below(len as u32);
        let outside = !inside & valid;
        let ends = (newline | seps) & outside;
        let (open, close) = (quote & inside, quote & !inside & valid);
        let allowed = (ends << 1) | after_end | (close << 1) | after_close;
        if open & !allowed != 0 {
            return false;
        }
        (after_end, after_close) = (ends >> 63, close >> 63);
        let mut left = ends;
        while left != 0 {
            let p = at + left.trailing_zeros() as usize;
            left &= left - 1;
            end(p, bytes[p] == b'\n');
        }
        at += len;
    }
    true
}

impl Builder {
    /// One field's raw bytes (quotes and all, a final `\r` not yet
    /// dropped) into the column. `Err` with the position of the first byte
    /// that is not UTF-8 (the value is then null).
    fn value(&mut self, parse: Option<&ScanParse>, raw: &[u8]) -> std::result::Result<(), usize> {
        // A `\r` ending any field is dropped (polars does so; before a line
        // break it is half of a CRLF).
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // No search for quotes inside: the forms `push_common` reads have
        // none, so a field with one goes on to `unquote` below.
        let plain = match raw {
            [b'"', inner @ .., b'"'] => inner,
            _ => raw,
        };
        if self.push_common(parse, plain) {
            return Ok(());
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                self.null();
                return Err(e.valid_up_to());
            }
        };
        if raw.is_empty() {
            self.null();
        } else {
            let unquoted = unquote(text.as_bytes());
            // Removing ASCII quotes keeps UTF-8 valid.
            self.push(parse, std::str::from_utf8(&unquoted).unwrap_or_default());
        }
        Ok(())
    }
}

/// Appends a block's chunk to a column. Keys are numbers in some blocks
/// and text in others when a later block has a key that is not canonical:
/// the numbers are then written back as text (their canonical form is the
/// text they were read from). Otherwise the two have the same type.
fn append_chunk(c: &mut Column, chunk: Column) {
    let text = |c: &Column| c.cast(&DataType::String).unwrap_or_else(|_| c.clone());
    let chunk = match (c.dtype(), chunk.dtype()) {
        (DataType::String, DataType::Int64) => text(&chunk),
        (DataType::Int64, DataType::String) => {
            *c = text(c);
            chunk
        }
        _ => chunk,
    };
    let _ = c.append_owned(chunk);
}

/// The file's columns from its blocks' chunks, rows numbered from 1.
fn assemble(parsed: Vec<(usize, Parsed)>, wanted: &[Wanted]) -> FileRead {
    let mut out = FileRead::default();
    let mut columns: Vec<Option<Column>> = vec![None; wanted.len()];
    for (_, p) in parsed {
        let base = u32::try_from(out.rows).unwrap_or(u32::MAX);
        out.ragged.extend(p.ragged.iter().map(|&(r, n)| (base.saturating_add(r + 1), n)));
        if out.bad_byte.is_none() {
            out.bad_byte = p.bad_byte.map(|(f, r, b, o)| (f, base.saturating_add(r + 1), b, o));
        }
        out.rows += p.rows as usize;
        for ((c, b), w) in columns.iter_mut().zip(p.columns).zip(wanted) {
            let chunk = b.finish(&w.name);
            match c {
                Some(c) => append_chunk(c, chunk),
                None => *c = Some(chunk),
            }
        }
    }
    out.columns =
        columns.into_iter().zip(wanted).map(|(c, w)| c.unwrap_or_else(|| Builder::new(w, 0).finish(&w.name))).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::timestamp::{TimestampFormat, TimestampParser};

    fn wanted() -> Vec<Wanted> {
        let ts = ScanParse::Timestamp(TimestampParser::new(TimestampFormat::Auto, chrono_tz::Tz::UTC));
        [
            (0, None),
            (1, Some(ScanParse::Int)),
            (2, Some(ts)),
            (1, Some(ScanParse::Bool)),
            (3, None),
            (1, Some(ScanParse::Id)),
        ]
        .into_iter()
        .enumerate()
        .map(|(k, (field, parse))| Wanted { field, name: format!("c{k}").into(), parse })
        .collect()
    }

    fn frame(r: &FileRead) -> DataFrame {
        DataFrame::new(r.rows, r.columns.clone()).unwrap()
    }

    #[test]
    fn parses_the_fields_it_reads_and_notes_ragged_records() {
        let text =
            "a,b,c,d\n x ,\"7\",1970-01-01T00:00:01Z,\"q\"\"q\"\r\n,,,\n\n1,yes,nope\n2,0,,d,e\n\"multi\nline\",1.0,,z";
        let r = read(Input::Text(text.as_bytes()), b',', 4, &wanted()).unwrap();
        // The blank line is skipped: `1,yes,nope` is row 3.
        assert_eq!(r.rows, 5);
        assert_eq!(r.ragged, [(3, 3), (4, 5)]);
        let df = frame(&r);
        let text =
            |c: &str| df.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_owned)).collect::<Vec<_>>();
        assert_eq!(
            text("c0"),
            [Some(" x ".into()), None, Some("1".into()), Some("2".into()), Some("multi\nline".into())]
        );
        assert_eq!(text("c4"), [Some("q\"q".into()), None, None, Some("d".into()), Some("z".into())]);
        let ints: Vec<Option<i64>> = df.column("c1").unwrap().i64().unwrap().iter().collect();
        assert_eq!(ints, [Some(7), None, Some(UNPARSEABLE), Some(0), Some(1)]);
        let ts: Vec<Option<i64>> = df.column("c2").unwrap().i64().unwrap().iter().collect();
        assert_eq!(ts, [Some(1_000_000), None, Some(UNPARSEABLE), None, None]);
        let flags: Vec<Option<i8>> = df.column("c3").unwrap().i8().unwrap().iter().collect();
        assert_eq!(flags, [Some(-1), None, Some(1), Some(0), Some(-1)]);
    }

    #[test]
    fn keys_are_numbers_while_every_one_is_canonical() {
        let w = vec![Wanted { field: 0, name: "id".into(), parse: Some(ScanParse::Id) }];
        let ids = |text: &str, block: usize| {
            let r = read_in_blocks(Input::Text(text.as_bytes()), b',', 1, &w, block).unwrap();
            r.columns[0].clone()
        };
        let c = ids("id\n7\n\"12\"\n\n0\n\n", BLOCK);
        assert_eq!(c.dtype(), &DataType::Int64);
        assert_eq!(c.i64().unwrap().iter().collect::<Vec<_>>(), [Some(7), Some(12), Some(0)]);
        // `007` and ` 7` are other keys than `7`: the column is text, and
        // the numbers read before are written back as they were.
        for block in [1, 4, BLOCK] {
            let c = ids("id\n7\n12\n007\n 7\n\"\"\n9\n", block);
            assert_eq!(c.dtype(), &DataType::String);
            let got: Vec<Option<&str>> = c.str().unwrap().iter().collect();
            assert_eq!(got, [Some("7"), Some("12"), Some("007"), Some(" 7"), Some(""), Some("9")]);
        }
    }

    #[test]
    fn blank_lines_before_the_header_are_skipped() {
        let w = vec![Wanted { field: 1, name: "s".into(), parse: None }];
        for text in ["\n\r\nid,status\n1,open\n", "\r\n\nid,status\n1,open"] {
            let r = read(Input::Text(text.as_bytes()), b',', 2, &w).unwrap();
            assert_eq!((r.rows, r.ragged.len()), (1, 0), "{text:?}");
            assert_eq!(r.columns[0].str().unwrap().get(0), Some("open"));
        }
    }

    #[test]
    fn a_stray_quote_does_not_hold_the_rest_of_the_file() {
        // `5" screen` is text; with 4-byte blocks the fast split would see
        // every later line break as quoted and grow the block to the end:
        // it gives up after MAX_GROWTH blocks and the file is split exactly.
        let mut text = String::from("id,what\n1,5\" screen\n");
        for i in 2..=200 {
            text.push_str(&format!("{i},ok\n"));
        }
        let w = vec![Wanted { field: 1, name: "w".into(), parse: None }];
        let bytes = text.clone().into_bytes();
        let open = || -> std::io::Result<Box<dyn Read + Send>> { Ok(Box::new(std::io::Cursor::new(bytes.clone()))) };
        for input in [Input::Text(text.as_bytes()), Input::Reader(&open)] {
            let r = read_in_blocks(input, b',', 2, &w, 4).unwrap();
            assert_eq!((r.rows, r.ragged.len()), (200, 0));
            let c = r.columns[0].str().unwrap();
            assert_eq!((c.get(0), c.get(199)), (Some("5\" screen"), Some("ok")));
        }
    }

    #[test]
    fn the_first_invalid_byte_of_a_read_column_is_found() {
        let bytes = b"id,name,x\n1,ok,\xff\n2,caf\xe9,\n3,\xff,\n".to_vec();
        let w = vec![Wanted { field: 1, name: "n".into(), parse: None }];
        let r = read(Input::Text(&bytes), b',', 3, &w).unwrap();
        assert_eq!(r.bad_byte, Some((1, 2, 0xe9, 22)));
        let w = vec![Wanted { field: 0, name: "n".into(), parse: None }];
        assert_eq!(read(Input::Text(&bytes), b',', 3, &w).unwrap().bad_byte, None);
    }

    #[test]
    fn quotes_inside_unquoted_fields_are_text() {
        // A quote only opens a quoted run at the start of a field: `x"y`
        // is text, and the line break after it ends the record. An enclosed
        // field that goes on after its closing quote keeps the rest.
        let text = "a,b,c,d\nx\"y,1,,\n\"ab\"c,2,,\"say \"\"hi\"\"\"\n\"multi\nline\",3,,\n";
        for block in [1, 5, BLOCK] {
            let r = read_in_blocks(Input::Text(text.as_bytes()), b',', 4, &wanted(), block).unwrap();
            assert_eq!((r.rows, r.ragged.clone()), (3, vec![]));
            let df = frame(&r);
            let col =
                |c: &str| df.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_owned)).collect::<Vec<_>>();
            assert_eq!(col("c0"), [Some("x\"y".into()), Some("abc".into()), Some("multi\nline".into())]);
            assert_eq!(col("c4"), [None, Some("say \"hi\"".into()), None]);
            let ints: Vec<Option<i64>> = df.column("c1").unwrap().i64().unwrap().iter().collect();
            assert_eq!(ints, [Some(1), Some(2), Some(3)]);
        }
    }

    proptest::proptest! {
        /// Blocks of any size, cut from memory or from a reader, give the
        /// same columns and findings as one block.
        #[test]
        fn any_block_size_reads_the_same(
            cells in proptest::collection::vec(
                proptest::sample::select(vec!["a", "", "\"x,y\"", "\"q\"\"q\"", "\"open\nline\"", "1", "\r", "\"\"", "yes", "x\"y", "\"ab\"c,d\""]),
                0..60,
            ),
            breaks in proptest::collection::vec(0usize..5, 0..60),
            block in 1usize..40,
        ) {
            let mut text = String::from("h1,h2,h3,h4\n");
            for (i, c) in cells.iter().enumerate() {
                text.push_str(c);
                text.push(if breaks.get(i) == Some(&0) { '\n' } else { ',' });
            }
            let whole = read_in_blocks(Input::Text(text.as_bytes()), b',', 4, &wanted(), usize::MAX / 2).unwrap();
            let small = read_in_blocks(Input::Text(text.as_bytes()), b',', 4, &wanted(), block).unwrap();
            let bytes = text.clone().into_bytes();
            let open = || -> std::io::Result<Box<dyn Read + Send>> { Ok(Box::new(std::io::Cursor::new(bytes.clone()))) };
            let streamed = read_in_blocks(Input::Reader(&open), b',', 4, &wanted(), block).unwrap();
            for other in [&small, &streamed] {
                proptest::prop_assert!(frame(&whole).equals_missing(&frame(other)));
                proptest::prop_assert_eq!(&whole.ragged, &other.ragged);
            }
        }
    }
}
