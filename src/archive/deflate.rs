//! Raw deflate pieces that splice into one stream, pigz's way, made by
//! libdeflate (which has no streaming API): each piece is compressed alone,
//! and all but the last are turned into non-final blocks ending on a byte
//! boundary by clearing the final block's BFINAL bit and appending an empty
//! stored block (the bytes zlib's sync flush writes). Finding that bit takes
//! a walk over the piece's blocks, skipping Huffman symbols without
//! producing output: a small fraction of the compression time.

use std::io;

fn bad(what: &str) -> io::Error {
    io::Error::other(format!(
        "libdeflate produced a deflate stream packwright cannot splice: {what}"
    ))
}

/// `input` as raw deflate at `level`: a whole stream when `last`, else
/// blocks without BFINAL that end on a byte boundary, to be followed by more.
pub fn piece(level: u32, input: &[u8], last: bool) -> io::Result<Vec<u8>> {
    let mut out = whole(level, input)?;
    if !last {
        let cut = last_block(&out)?;
        open(&mut out, cut);
    }
    Ok(out)
}

/// `input` as one whole raw deflate stream at `level` (its last block final).
pub fn whole(level: u32, input: &[u8]) -> io::Result<Vec<u8>> {
    let lvl = libdeflater::CompressionLvl::new(level.min(12) as i32)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    let mut c = libdeflater::Compressor::new(lvl);
    let mut out = vec![0; c.deflate_compress_bound(input.len()) + 8];
    let n = c
        .deflate_compress(input, &mut out)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    out.truncate(n);
    Ok(out)
}

/// Where a whole stream's final block starts and where the stream ends, in
/// bits: what it takes to make the stream continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    final_at: usize,
    end: usize,
}

impl Cut {
    /// The stream's length once `open` has made it non-final.
    pub fn open_len(self) -> usize {
        (self.end + 3).div_ceil(8) + 4
    }
}

/// Make a whole stream (`cut` from `last_block`) continue: clear its final
/// block's BFINAL bit and append an empty stored block, which ends on a
/// byte boundary.
pub fn open(out: &mut Vec<u8>, cut: Cut) {
    let Cut { final_at, end } = cut;
    out[final_at / 8] &= !(1 << (final_at % 8));
    // The stream ends at bit `end` of its last byte; the stored header's
    // three zero bits and the padding after them go from there, then LEN 0
    // and NLEN 0xffff.
    out.resize((end + 3).div_ceil(8), 0);
    out[end / 8] &= (1u8 << (end % 8)).wrapping_sub(1);
    out.extend_from_slice(&[0, 0, 0xff, 0xff]);
}

/// `data` as non-final stored blocks (RFC 1951 § 3.2.4), at a byte
/// boundary of a stream that continues: the bytes as they are, five more
/// per 65,535.
pub fn stored(out: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(0xffff) {
        let n = chunk.len() as u16;
        out.push(0);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// An LSB-first bit reader over a whole stream: a 64-bit buffer refilled a
/// word at a time, so the walk costs little beside the compression.
struct Bits<'a> {
    data: &'a [u8],
    /// The next byte of `data` not yet in `buf`.
    next: usize,
    buf: u64,
    cnt: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            next: 0,
            buf: 0,
            cnt: 0,
        }
    }

    /// Bits consumed so far.
    fn pos(&self) -> usize {
        self.next * 8 - self.cnt as usize
    }

    /// Drop `n` bits already in `buf` (the caller refilled).
    #[inline]
    fn skip(&mut self, n: u32) {
        self.buf >>= n;
        self.cnt -= n;
    }

    /// At least 56 bits in `buf` (zeros past the end, caught by `take`).
    fn refill(&mut self) {
        if let Some(w) = self.data.get(self.next..self.next + 8) {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            self.buf |= w << self.cnt;
            self.next += ((63 - self.cnt) / 8) as usize;
            self.cnt |= 56;
        } else {
            while self.cnt <= 56 {
                let byte = self.data.get(self.next).copied().unwrap_or(0);
                self.buf |= u64::from(byte) << self.cnt;
                self.next += 1;
                self.cnt += 8;
            }
        }
    }

    #[inline]
    fn peek(&mut self, n: u32) -> u32 {
        if self.cnt < n {
            self.refill();
        }
        (self.buf & ((1u64 << n) - 1)) as u32
    }

    #[inline]
    fn take(&mut self, n: u32) -> io::Result<u32> {
        let v = self.peek(n);
        self.skip(n);
        if self.pos() > self.data.len() * 8 {
            return Err(bad("it ends inside a block"));
        }
        Ok(v)
    }

    /// Continue reading at bit `pos` (past a stored block's bytes).
    fn seek(&mut self, pos: usize) -> io::Result<()> {
        if pos > self.data.len() * 8 {
            return Err(bad("a stored block runs past the end"));
        }
        self.next = pos / 8;
        self.buf = 0;
        self.cnt = 0;
        self.take((pos % 8) as u32).map(drop)
    }
}

/// Codes up to this many bits decode with one lookup in a table small
/// enough for the L1 cache; longer (rare) codes take the canonical walk.
const FAST_BITS: u32 = 10;

/// A canonical Huffman code: a lookup table indexed by the next
/// `FAST_BITS` input bits (LSB first) giving (symbol, code length), and
/// the counts and sorted symbols the canonical walk needs for longer codes.
struct Table {
    max: u32,
    fast: u32,
    entries: Vec<(u16, u8)>,
    count: [u16; 16],
    sorted: Vec<u16>,
}

impl Table {
    fn new(lengths: &[u8]) -> io::Result<Table> {
        Table::with_fast(lengths, FAST_BITS)
    }

    fn with_fast(lengths: &[u8], fast_bits: u32) -> io::Result<Table> {
        let max = u32::from(*lengths.iter().max().unwrap_or(&0));
        let fast = max.min(fast_bits);
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut entries = vec![(u16::MAX, 0u8); 1 << fast];
        let mut sorted = Vec::with_capacity(lengths.len());
        for l in 1..16u8 {
            let syms = lengths.iter().enumerate().filter(|&(_, &x)| x == l);
            sorted.extend(syms.map(|(sym, _)| sym as u16));
        }
        for (sym, c, l) in canonical(lengths) {
            if u32::from(l) > fast {
                continue;
            }
            // Deflate sends codes MSB first: index by the reversed code.
            let mut i = (c.reverse_bits() >> (32 - u32::from(l))) as usize;
            while i < entries.len() {
                entries[i] = (sym, l);
                i += 1 << l;
            }
        }
        Ok(Table {
            max,
            fast,
            entries,
            count,
            sorted,
        })
    }

    #[inline]
    fn decode(&self, b: &mut Bits) -> io::Result<u16> {
        if self.max == 0 {
            return Err(bad("a symbol from an empty code"));
        }
        let (sym, len) = self.entries[b.peek(self.fast) as usize];
        if len != 0 {
            b.take(u32::from(len))?;
            return Ok(sym);
        }
        self.decode_long(b)
    }

    /// The canonical walk (as zlib's puff does it), one code bit at a time.
    fn decode_long(&self, b: &mut Bits) -> io::Result<u16> {
        let bits = b.peek(self.max);
        let (mut code, mut first, mut index) = (0u32, 0u32, 0u32);
        for len in 1..=self.max {
            code |= (bits >> (len - 1)) & 1;
            let n = u32::from(self.count[len as usize]);
            if code < first + n {
                b.take(len)?;
                return Ok(self.sorted[(index + code - first) as usize]);
            }
            index += n;
            first = (first + n) << 1;
            code <<= 1;
        }
        Err(bad("an unassigned code"))
    }
}

/// Each coded symbol with its canonical code and length (RFC 1951 § 3.2.2).
fn canonical(lengths: &[u8]) -> impl Iterator<Item = (u16, u32, u8)> + '_ {
    let mut count = [0u32; 16];
    for &l in lengths {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 16];
    let mut code = 0;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    lengths
        .iter()
        .enumerate()
        .filter(|(_, &l)| l != 0)
        .map(move |(sym, &l)| {
            let c = next[l as usize];
            next[l as usize] += 1;
            (sym as u16, c, l)
        })
}

const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Bit positions of the final block's header and of the stream's end.
pub fn last_block(data: &[u8]) -> io::Result<Cut> {
    let mut b = Bits::new(data);
    loop {
        let start = b.pos();
        let last = b.take(1)? == 1;
        match b.take(2)? {
            0 => {
                b.take(((8 - b.pos() % 8) % 8) as u32)?;
                let len = b.take(16)? as usize;
                b.take(16)?;
                b.seek(b.pos() + len * 8)?;
            }
            1 => {
                let mut l = [8u8; 288];
                l[144..256].fill(9);
                l[256..280].fill(7);
                codes(&mut b, &Skip::lit(&l)?, &Skip::dist(&[5; 30])?)?;
            }
            2 => {
                let (lit, dist) = dynamic_tables(&mut b)?;
                codes(&mut b, &lit, &dist)?;
            }
            _ => return Err(bad("a reserved block type")),
        }
        if last {
            return Ok(Cut {
                final_at: start,
                end: b.pos(),
            });
        }
    }
}

fn dynamic_tables(b: &mut Bits) -> io::Result<(Skip, Skip)> {
    const ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    let hlit = b.take(5)? as usize + 257;
    let hdist = b.take(5)? as usize + 1;
    let hclen = b.take(4)? as usize + 4;
    let mut cl = [0u8; 19];
    for &i in &ORDER[..hclen] {
        cl[i] = b.take(3)? as u8;
    }
    let clt = Table::new(&cl)?;
    let mut lengths = Vec::with_capacity(hlit + hdist);
    while lengths.len() < hlit + hdist {
        let sym = clt.decode(b)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (
                *lengths
                    .last()
                    .ok_or_else(|| bad("a repeat with nothing before"))?,
                3 + b.take(2)? as usize,
            ),
            17 => (0, 3 + b.take(3)? as usize),
            _ => (0, 11 + b.take(7)? as usize),
        };
        lengths.extend(std::iter::repeat_n(value, repeat));
    }
    if lengths.len() != hlit + hdist {
        return Err(bad("code lengths overrun"));
    }
    Ok((Skip::lit(&lengths[..hlit])?, Skip::dist(&lengths[hlit..])?))
}

/// What one lookup of the next `SKIP_BITS` bits says: how many bits the
/// symbols and their extra bits take (low 6 bits), and what they are.
const LITERAL: u16 = 0;
const LENGTH: u16 = 1 << 6;
const END: u16 = 2 << 6;
/// A code longer than `SKIP_BITS`, or a symbol deflate does not allow:
/// the canonical walk decides.
const SLOW: u16 = 3 << 6;

/// Bits a skip lookup takes: 4,096 two-byte entries stay in the L1 cache,
/// and two short literal codes often fit in one lookup.
const SKIP_BITS: u32 = 12;
const SKIP_MASK: u64 = (1 << SKIP_BITS) - 1;

/// A litlen or distance code as skip entries (a literal entry may be two
/// literals), with the canonical table for the rare slow case.
struct Skip {
    entries: Box<[u16; 1 << SKIP_BITS]>,
    slow: Table,
}

impl Skip {
    fn build(lengths: &[u8], pairs: bool, what: impl Fn(u16) -> u16) -> io::Result<Skip> {
        // The canonical walk only: the lookups are built here.
        let slow = Table::with_fast(lengths, 0)?;
        let mut single = [SLOW; 1 << SKIP_BITS];
        for (sym, code, len) in canonical(lengths) {
            if u32::from(len) > SKIP_BITS {
                continue;
            }
            // The kind, and the code's bits added to its extra bits.
            let e = match what(sym) {
                SLOW => SLOW,
                w => (w & SLOW) | ((w & 63) + u16::from(len)),
            };
            // Deflate sends codes MSB first: index by the reversed code.
            let mut i = (code.reverse_bits() >> (32 - u32::from(len))) as usize;
            while i < single.len() {
                single[i] = e;
                i += 1 << len;
            }
        }
        let mut entries = Box::new(single);
        if pairs {
            for (i, slot) in entries.iter_mut().enumerate() {
                let e = single[i];
                if e & SLOW != LITERAL {
                    continue;
                }
                // A second literal whose whole code is within the lookup
                // (a literal's bits are its code's: no extra bits).
                let e2 = single[i >> (e & 63)];
                if e2 & SLOW == LITERAL && (e & 63) + (e2 & 63) <= SKIP_BITS as u16 {
                    *slot = e + (e2 & 63);
                }
            }
        }
        Ok(Skip { entries, slow })
    }

    fn lit(lengths: &[u8]) -> io::Result<Skip> {
        Skip::build(lengths, true, |sym| match sym {
            0..=255 => LITERAL,
            256 => END,
            257..=285 => LENGTH | u16::from(LEN_EXTRA[sym as usize - 257]),
            _ => SLOW,
        })
    }

    fn dist(lengths: &[u8]) -> io::Result<Skip> {
        Skip::build(lengths, false, |sym| match DIST_EXTRA.get(sym as usize) {
            Some(&extra) => u16::from(extra),
            None => SLOW,
        })
    }

    #[inline]
    fn get(&self, b: &Bits) -> u16 {
        self.entries[(b.buf & SKIP_MASK) as usize]
    }
}

/// Skip one block's symbols up to and including end-of-block. While eight
/// bytes are left to load, each step refills without a branch and takes
/// one or two lookups (two literals, or a length and its distance: at most
/// 42 bits with their extra bits, within the 56 a refill leaves), with the
/// bit buffer in registers; the last bytes take the checked step.
fn codes(b: &mut Bits, lit: &Skip, dist: &Skip) -> io::Result<()> {
    let data = b.data;
    let (mut buf, mut cnt, mut next) = (b.buf, b.cnt, b.next);
    while let Some(w) = data.get(next..next + 8) {
        buf |= u64::from_le_bytes(w.try_into().expect("8 bytes")) << cnt;
        next += ((63 - cnt) / 8) as usize;
        cnt |= 56;
        let e = lit.entries[(buf & SKIP_MASK) as usize];
        let n = u32::from(e & 63);
        if e & SLOW == LITERAL {
            (buf, cnt) = (buf >> n, cnt - n);
            continue;
        }
        if e & SLOW == LENGTH {
            (buf, cnt) = (buf >> n, cnt - n);
            let d = dist.entries[(buf & SKIP_MASK) as usize];
            if d & SLOW == 0 {
                let m = u32::from(d & 63);
                (buf, cnt) = (buf >> m, cnt - m);
                continue;
            }
        }
        (b.buf, b.cnt, b.next) = (buf, cnt, next);
        match e & SLOW {
            LENGTH => slow_distance(b, dist)?,
            END => {
                b.skip(n);
                return Ok(());
            }
            _ => {
                if slow_symbol(b, lit, dist)? {
                    return Ok(());
                }
            }
        }
        (buf, cnt, next) = (b.buf, b.cnt, b.next);
    }
    (b.buf, b.cnt, b.next) = (buf, cnt, next);
    codes_checked(b, lit, dist)
}

/// `codes` near the end of the data: the refill and the position checked
/// at every step.
fn codes_checked(b: &mut Bits, lit: &Skip, dist: &Skip) -> io::Result<()> {
    loop {
        if b.cnt < 56 {
            b.refill();
            if b.next > b.data.len() + 8 {
                return Err(bad("it ends inside a block"));
            }
        }
        let e = lit.get(b);
        match e & SLOW {
            LITERAL => b.skip(u32::from(e & 63)),
            LENGTH => {
                b.skip(u32::from(e & 63));
                distance(b, dist)?;
            }
            END => b.skip(u32::from(e & 63)),
            _ => {
                if slow_symbol(b, lit, dist)? {
                    return Ok(());
                }
                continue;
            }
        }
        if b.pos() > b.data.len() * 8 {
            return Err(bad("it ends inside a block"));
        }
        if e & SLOW == END {
            return Ok(());
        }
    }
}

#[inline]
fn distance(b: &mut Bits, dist: &Skip) -> io::Result<()> {
    let d = dist.get(b);
    if d & SLOW == 0 {
        b.skip(u32::from(d & 63));
        return Ok(());
    }
    slow_distance(b, dist)
}

/// A litlen code longer than `SKIP_BITS`: true at end-of-block.
fn slow_symbol(b: &mut Bits, lit: &Skip, dist: &Skip) -> io::Result<bool> {
    let sym = lit.slow.decode(b)?;
    match sym {
        0..=255 => Ok(false),
        256 => Ok(true),
        257..=285 => {
            b.take(u32::from(LEN_EXTRA[sym as usize - 257]))?;
            slow_distance(b, dist).map(|_| false)
        }
        _ => Err(bad("a length code past 285")),
    }
}

fn slow_distance(b: &mut Bits, dist: &Skip) -> io::Result<()> {
    let d = dist.slow.decode(b)? as usize;
    let extra = DIST_EXTRA
        .get(d)
        .ok_or_else(|| bad("a distance code past 29"))?;
    b.take(u32::from(*extra)).map(drop)
}

#[cfg(test)]
#[path = "deflate_test.rs"]
mod tests;
