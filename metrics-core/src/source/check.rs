//! One streaming pass over a CSV file's bytes before polars reads it:
//! the header, every row whose field count differs from the header's
//! (`ragged_row`), and the first invalid UTF-8 byte in each column.
//!
//! polars skips the fields after the last column it reads and pads short
//! rows with nulls, so on its own it would accept a shifted row in silence
//! (or reject it only when every column is read). This pass makes the
//! outcome the same whatever columns a command reads. After the header,
//! bytes are counted 64 at a time with bit masks (quotes, line breaks,
//! separators), the in-quotes state as a prefix XOR of the quote mask: the
//! same state machine as byte by byte, several times faster.

use std::io::Read;

/// What the pass found in one file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked {
    /// The header's fields (invalid UTF-8 replaced by U+FFFD).
    pub(crate) header: Vec<String>,
    /// Data rows (one-based, header excluded) whose field count differs
    /// from the header's, with their count.
    pub(crate) ragged: Vec<(u32, u32)>,
    /// The first invalid UTF-8 byte of each column that has one: (column
    /// index, one-based data row, the byte, its offset in the file).
    pub(crate) bad_bytes: Vec<(u32, u32, u8, u64)>,
}

/// The quote-aware field counter, fed line by line.
#[derive(Debug)]
struct Counter {
    sep: u8,
    in_quotes: bool,
    /// Separators seen in the current record.
    seps: u32,
    /// Whether the current record has any byte besides `\r`.
    content: bool,
    /// Records finished so far (the header is record 0).
    records: u32,
    header_fields: u32,
    header: Vec<u8>,
    out: Checked,
}

impl Counter {
    /// A counter before the first byte of a file.
    fn new(sep: u8) -> Self {
        Self {
            sep,
            in_quotes: false,
            seps: 0,
            content: false,
            records: 0,
            header_fields: 0,
            header: Vec::new(),
            out: Checked::default(),
        }
    }

    fn end_record(&mut self) {
        if self.records == 0 {
            self.header_fields = self.seps + 1;
        } else if self.content && self.seps + 1 != self.header_fields {
            self.out.ragged.push((self.records, self.seps + 1));
        }
        // A blank line is a record of empty values to polars (it counts
        // as missing_required, not ragged): numbered the same here.
        self.records += 1;
        self.seps = 0;
        self.content = false;
    }

    /// One byte through the state machine; `offset` is its file offset.
    fn byte(&mut self, b: u8) {
        if self.records == 0 && b != b'\n' {
            self.header.push(b);
        }
        match b {
            b'"' => {
                self.in_quotes = !self.in_quotes;
                self.content = true;
            }
            b'\n' if !self.in_quotes => self.end_record(),
            b'\r' if !self.in_quotes => {}
            _ if b == self.sep && !self.in_quotes => {
                self.seps += 1;
                self.content = true;
            }
            _ => self.content = true,
        }
    }

    /// A chunk of whole lines starting at file offset `base`.
    fn feed(&mut self, chunk: &[u8], base: u64, keep: &dyn Fn(u32) -> bool) {
        if std::str::from_utf8(chunk).is_err() {
            self.feed_bytes(chunk, base, keep);
            return;
        }
        // The header byte by byte (its text is kept), the rest 64 bytes at
        // a time: the two keep the same state, so either can stop anywhere.
        let mut i = 0;
        while self.records == 0 && i < chunk.len() {
            self.byte(chunk[i]);
            i += 1;
        }
        let mut blocks = chunk[i..].chunks_exact(64);
        for block in &mut blocks {
            let mut full = [0u8; 64];
            full.copy_from_slice(block);
            self.block(&full, 64);
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut padded = [0u8; 64];
            padded[..rest.len()].copy_from_slice(rest);
            self.block(&padded, rest.len());
        }
    }

    /// The state machine over the first `len` bytes of `b`, 64 at a time:
    /// bit masks of quotes, line breaks, separators and `\r` (eight bytes
    /// per word compare, no SIMD intrinsics), the in-quotes mask as the
    /// prefix XOR of the quotes, then one step per record end.
    fn block(&mut self, b: &[u8; 64], len: usize) {
        let [quote, newline, sep, cr] = masks(b, [b'"', b'\n', self.sep, b'\r']);
        let valid = below(len as u32);
        let mut inside = prefix_xor(quote);
        if self.in_quotes {
            inside = !inside;
        }
        self.in_quotes = (inside >> (len - 1)) & 1 == 1;
        let outside = !inside & valid;
        let ends = newline & outside;
        let seps = sep & outside;
        // As in `byte`: everything is content but a `\r` or a line break
        // outside quotes.
        let content = valid & !(cr & outside) & !ends;
        let (mut start, mut left) = (0u32, ends);
        while left != 0 {
            let end = left.trailing_zeros();
            let record = below(end) & !below(start);
            self.seps += (seps & record).count_ones();
            self.content |= content & record != 0;
            self.end_record();
            start = end + 1;
            left &= left - 1;
        }
        let tail = !below(start);
        self.seps += (seps & tail).count_ones();
        self.content |= content & tail != 0;
    }

    /// The state machine over every byte, noting invalid UTF-8 in columns
    /// that `keep` accepts.
    fn feed_bytes(&mut self, chunk: &[u8], base: u64, keep: &dyn Fn(u32) -> bool) {
        let mut bad = Vec::new();
        let mut rest = chunk;
        let mut at = 0usize;
        while let Err(e) = std::str::from_utf8(rest) {
            let pos = at + e.valid_up_to();
            bad.push(pos);
            let skip = e.error_len().unwrap_or(rest.len() - e.valid_up_to()).max(1);
            at = pos + skip;
            rest = &chunk[at.min(chunk.len())..];
        }
        let mut next_bad = bad.into_iter().peekable();
        for (i, &b) in chunk.iter().enumerate() {
            if next_bad.peek() == Some(&i) {
                next_bad.next();
                let field = self.seps;
                let known = self.out.bad_bytes.iter().any(|x| x.0 == field);
                if self.records > 0 && !known && keep(field) {
                    self.out.bad_bytes.push((field, self.records, b, base + i as u64));
                }
            }
            self.byte(b);
        }
    }

    fn finish(mut self) -> Checked {
        if self.content || self.seps > 0 || self.records == 0 {
            self.end_record();
        }
        let text = String::from_utf8_lossy(&self.header);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        self.out.header = parse_header(text, self.sep);
        self.out
    }
}

/// The header's fields: split at separators outside quotes, quotes removed
/// (`""` inside quotes is one `"`).
fn parse_header(text: &str, sep: u8) -> Vec<String> {
    let text = text.strip_suffix('\r').unwrap_or(text);
    let sep = char::from(sep);
    let mut out = vec![String::new()];
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().map(|f| f.push('"')).unwrap_or_default();
            }
            '"' => in_quotes = !in_quotes,
            c if c == sep && !in_quotes => out.push(String::new()),
            c => out.last_mut().map(|f| f.push(c)).unwrap_or_default(),
        }
    }
    out
}

/// Runs the pass over `reader` (UTF-8 bytes, or bytes that should be):
/// `keep` says which column indices are read, so that only their invalid
/// bytes are reported.
pub(crate) fn check(reader: impl Read, sep: u8, keep: &dyn Fn(u32) -> bool) -> std::io::Result<Checked> {
    check_in_chunks(reader, sep, keep, 8 << 20)
}

/// [`check`] reading `chunk` bytes at a time (the buffer grows for a longer
/// line).
fn check_in_chunks(
    mut reader: impl Read,
    sep: u8,
    keep: &dyn Fn(u32) -> bool,
    chunk: usize,
) -> std::io::Result<Checked> {
    let mut c = Counter::new(sep);
    let mut buf = vec![0u8; chunk.max(1)];
    let mut filled = 0usize;
    let mut base = 0u64;
    loop {
        let n = reader.read(&mut buf[filled..])?;
        filled += n;
        let done = n == 0;
        // Feed whole lines only, so a UTF-8 sequence is never split.
        let cut = if done { filled } else { buf[..filled].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) };
        if cut > 0 || done {
            c.feed(&buf[..cut], base, keep);
            base += cut as u64;
            buf.copy_within(cut..filled, 0);
            filled -= cut;
        }
        if done {
            break;
        }
        if filled == buf.len() {
            // A line longer than the buffer: grow it.
            buf.resize(buf.len() * 2, 0);
        }
    }
    Ok(c.finish())
}

/// Bits `0..n` set (all for n >= 64).
pub(super) fn below(n: u32) -> u64 {
    if n >= 64 { !0 } else { (1u64 << n) - 1 }
}

/// Bit i set when an odd number of bits at or below i are set in `x`:
/// inside quotes, counting each quote as a toggle.
pub(super) fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// For each byte in `bytes`, the mask of the positions in `b` holding it.
/// On x86_64, 16 bytes per SSE2 compare (3.5 times the SWAR form's speed
/// measured here); elsewhere [`masks_swar`].
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(super) fn masks<const N: usize>(b: &[u8; 64], bytes: [u8; N]) -> [u64; N] {
    // SAFETY: SSE2 is part of the x86_64 baseline, so every CPU this code
    // runs on has it; the function reads only its arguments.
    unsafe { masks_sse2(b, bytes) }
}

/// [`masks`] with SSE2's byte compare and move-mask, 16 bytes at a time.
/// No pointer is read: each 16 bytes are loaded as two integers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn masks_sse2<const N: usize>(b: &[u8; 64], bytes: [u8; N]) -> [u64; N] {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8};
    let mut out = [0u64; N];
    let needles = bytes.map(|c| _mm_set1_epi8(c as i8));
    for (k, part) in b.chunks_exact(16).enumerate() {
        let word = |at: usize| {
            let mut le = [0u8; 8];
            le.copy_from_slice(&part[at..at + 8]);
            i64::from_le_bytes(le)
        };
        let v = _mm_set_epi64x(word(8), word(0));
        for (m, n) in out.iter_mut().zip(&needles) {
            // The move-mask fills the low 16 bits of the i32.
            let bits = u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, *n)) as u16);
            *m |= bits << (16 * k);
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) use masks_swar as masks;

/// [`masks`] eight bytes at a time in plain integer arithmetic (SWAR), for
/// targets without SSE2.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn masks_swar<const N: usize>(b: &[u8; 64], bytes: [u8; N]) -> [u64; N] {
    let mut out = [0u64; N];
    for (w, word) in b.chunks_exact(8).enumerate() {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let x = u64::from_le_bytes(le);
        for (m, &c) in out.iter_mut().zip(&bytes) {
            *m |= eq_bits(x, c) << (8 * w);
        }
    }
    out
}

/// The eight bits of the bytes of `x` equal to `c` (SWAR: a byte is zero
/// after the XOR exactly when its high bit stays clear in `t`).
fn eq_bits(x: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let y = x ^ (0x0101_0101_0101_0101 * u64::from(c));
    let t = ((y & LOW7).wrapping_add(LOW7)) | y;
    let zero = !t & 0x8080_8080_8080_8080;
    ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The separator of `,`, `;`, tab and `|` that splits the first lines
/// (outside quotes, at most 20) into the same number of fields, more than
/// one; of several, the one giving the most fields; `,` when none does.
pub(crate) fn sniff(head: &[u8]) -> u8 {
    let text = String::from_utf8_lossy(head);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(21).collect();
    // The last line of a cut buffer may be partial.
    if head.len() >= (64 << 10) && lines.len() > 1 {
        lines.pop();
    }
    let count = |line: &str, sep: char| {
        let mut in_quotes = false;
        line.chars()
            .filter(|&c| {
                if c == '"' {
                    in_quotes = !in_quotes;
                }
                c == sep && !in_quotes
            })
            .count()
    };
    let mut best = (b',', 0usize);
    for sep in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines.iter().map(|l| count(l, char::from(sep))).collect();
        let Some(&first) = counts.first() else { continue };
        if first > 0 && counts.iter().all(|&c| c == first) && first > best.1 {
            best = (sep, first);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Checked {
        check(text.as_bytes(), b',', &|_| true).unwrap()
    }

    #[test]
    fn counts_fields_outside_quotes() {
        let c = run("id,name,at\n1,\"a,b\",x\n2,c\n3,\"multi\nline\",y\n4,d,e,f\n\n5,g,h\n6,i");
        assert_eq!(c.header, ["id", "name", "at"]);
        // The blank line is row 5 (not ragged), so the last row is 7.
        assert_eq!(c.ragged, [(2, 2), (4, 4), (7, 2)]);
    }

    #[test]
    fn crlf_bom_and_quoted_header() {
        let c = run("\u{feff}\"a\",\"b \"\"x\"\"\"\r\n1,2\r\n3\r\n");
        assert_eq!(c.header, ["a", "b \"x\""]);
        assert_eq!(c.ragged, [(2, 1)]);
    }

    #[test]
    fn invalid_bytes_name_their_column_and_row() {
        let bytes = b"id,name\n1,ok\n2,caf\xe9\n3,\xff\n".to_vec();
        let c = check(&bytes[..], b',', &|f| f == 1).unwrap();
        assert_eq!(c.bad_bytes, [(1, 2, 0xe9, 18)]);
        let c = check(&bytes[..], b',', &|f| f == 0).unwrap();
        assert!(c.bad_bytes.is_empty());
    }

    #[test]
    fn sniffs_the_separator_that_splits_every_line_alike() {
        assert_eq!(sniff(b"a;b;c\n1;2;3\n4;5;6\n"), b';');
        assert_eq!(sniff(b"a\tb\n1\t2,5\n"), b'\t');
        assert_eq!(sniff(b"a,b\n\"x;y\",2\n"), b',');
        assert_eq!(sniff(b"a|b|c\n1|2|3\n"), b'|');
        assert_eq!(sniff(b"single\n1\n"), b',');
        // Commas in a decimal column do not win over a steady semicolon.
        assert_eq!(sniff(b"id;amount\n1;2,5\n2;3\n"), b';');
    }

    /// The byte-by-byte state machine alone, the definition the fast line
    /// paths must agree with.
    fn by_bytes(text: &[u8]) -> Checked {
        let mut c = Counter::new(b',');
        text.iter().for_each(|&b| c.byte(b));
        c.finish()
    }

    proptest::proptest! {
        #[test]
        fn line_paths_agree_with_the_state_machine(
            cells in proptest::collection::vec(
                proptest::sample::select(vec!["a", "", "\"x,y\"", "\"q\"\"q\"", "\"open\nline\"", "1", "\r", "\"\""]),
                0..40,
            ),
            breaks in proptest::collection::vec(0usize..6, 0..40),
        ) {
            let mut text = String::from("h1,h2,h3\n");
            for (i, c) in cells.iter().enumerate() {
                text.push_str(c);
                text.push(if breaks.get(i) == Some(&0) { '\n' } else { ',' });
            }
            let (fast, slow) = (run(&text), by_bytes(text.as_bytes()));
            proptest::prop_assert_eq!((&fast.header, &fast.ragged), (&slow.header, &slow.ragged));
            // Records cut by the end of a read buffer, anywhere.
            let small = check_in_chunks(text.as_bytes(), b',', &|_| true, breaks.len() % 17 + 1).unwrap();
            proptest::prop_assert_eq!((small.header, small.ragged), (slow.header, slow.ragged));
        }
    }

    proptest::proptest! {
        #[test]
        fn byte_masks_mark_exactly_the_equal_bytes(
            bytes in proptest::collection::vec(proptest::sample::select(vec![0u8, b'"', b'\n', b',', b'\r', 0x7F, 0x80, 0xFF, b'a']), 64),
            c in proptest::sample::select(vec![0u8, b'"', b'\n', b',', 0x80, 0xFF]),
        ) {
            let mut b = [0u8; 64];
            b.copy_from_slice(&bytes);
            let want = bytes.iter().enumerate().fold(0u64, |m, (i, x)| m | (u64::from(*x == c) << i));
            proptest::prop_assert_eq!(masks(&b, [c])[0], want);
            proptest::prop_assert_eq!(masks_swar(&b, [c])[0], want);
        }
    }

    #[test]
    fn other_separators() {
        let c = check("a;b\n1;2\n3\n".as_bytes(), b';', &|_| true).unwrap();
        assert_eq!((c.header.len(), c.ragged.clone()), (2, vec![(2, 1)]));
    }
}
