//! MD5 of several contents at once, one per SIMD lane (multi-buffer MD5,
//! as isa-l's and minio's md5-simd do it). One MD5 stream is a chain of
//! dependent steps, so a core mostly waits on it; eight independent
//! streams side by side fill the vector units instead. deb's md5sums and
//! pacman's .MTREE need an md5 of every file, and it was the largest cost
//! of a deb built alone after zstd.
//!
//! The kernel runs eight lanes to a 256-bit register: in AVX-512 (VL)
//! instructions, where a rotate and each round function are one, in AVX2,
//! or as plain Rust over arrays elsewhere; the CPU picks at run time.

use super::digest::{self, Digesting, Sums, Want};
use std::io::{self, Read};

/// Contents hashed side by side.
pub const LANES: usize = 8;

/// A lane's state before its first block (RFC 1321 § 3.3).
pub const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

type V = [u32; LANES];

const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// The message word step `i` of 64 takes (RFC 1321 § 3.4).
const fn word(i: usize) -> usize {
    match i / 16 {
        0 => i,
        1 => (5 * i + 1) % 16,
        2 => (3 * i + 5) % 16,
        _ => (7 * i) % 16,
    }
}

/// Each round's four rotate amounts (RFC 1321 § 3.4).
const SHIFTS: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// One block of every lane through their states (`w`: word j of every
/// lane side by side).
type Kernel = fn(&mut [V; 4], &[V; 16]);

/// Run `data[l]` (whole 64-byte blocks, the same number in every lane)
/// through `states[l]`, for every lane.
pub fn blocks(states: &mut [[u32; 4]; LANES], data: [&[u8]; LANES]) {
    each_block(states, data, kernel())
}

/// The fastest kernel this CPU runs.
fn kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(k) = x86::avx512().or_else(x86::avx2) {
            return k;
        }
    }
    compress
}

fn each_block(states: &mut [[u32; 4]; LANES], data: [&[u8]; LANES], kernel: Kernel) {
    let n = data[0].len();
    assert!(
        n.is_multiple_of(64) && data.iter().all(|d| d.len() == n),
        "whole blocks, as many in every lane"
    );
    let mut s: [V; 4] = std::array::from_fn(|k| std::array::from_fn(|l| states[l][k]));
    let mut w = [[0u32; LANES]; 16];
    for at in (0..n).step_by(64) {
        // Word j of every lane side by side, so each step loads one vector.
        for (l, d) in data.iter().enumerate() {
            for (j, word) in d[at..at + 64].chunks_exact(4).enumerate() {
                w[j][l] = u32::from_le_bytes(word.try_into().expect("4 bytes"));
            }
        }
        kernel(&mut s, &w);
    }
    for (l, state) in states.iter_mut().enumerate() {
        *state = std::array::from_fn(|k| s[k][l]);
    }
}

/// The kernel in AVX2 and AVX-512 instructions, eight lanes to a register.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{word, Kernel, K, SHIFTS, V};
    use std::arch::x86_64::*;

    /// AVX-512 (VL): a rotate and each round function are one instruction.
    pub fn avx512() -> Option<Kernel> {
        let has = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl");
        // Safety: handed out only where the CPU has the features.
        has.then_some(|s, w| unsafe { compress512(s, w) })
    }

    pub fn avx2() -> Option<Kernel> {
        let has = std::arch::is_x86_feature_detected!("avx2");
        // Safety: as above.
        has.then_some(|s, w| unsafe { compress2(s, w) })
    }

    macro_rules! kernel {
        ($name:ident, $feature:literal, $rot:ident, $f:ident, $g:ident, $h:ident, $i:ident) => {
            #[target_feature(enable = $feature)]
            fn $name(s: &mut [V; 4], w: &[V; 16]) {
                let ld = |v: &V| unsafe { _mm256_loadu_si256(v.as_ptr().cast()) };
                let m: [__m256i; 16] = std::array::from_fn(|j| ld(&w[j]));
                let (mut a, mut b, mut c, mut d) = (ld(&s[0]), ld(&s[1]), ld(&s[2]), ld(&s[3]));
                let (a0, b0, c0, d0) = (a, b, c, d);
                macro_rules! step {
                    ($fun:ident, $x:ident, $y:ident, $z:ident, $u:ident, $k:expr, $j:expr, $r:expr) => {
                        let t = _mm256_add_epi32(_mm256_set1_epi32(K[$k] as i32), m[$j]);
                        let t = _mm256_add_epi32(_mm256_add_epi32($x, t), $fun($y, $z, $u));
                        $x = _mm256_add_epi32($rot!(t, $r), $y);
                    };
                }
                // Four steps from step `k` of round `r` (whose shifts are
                // constants, as the rotate instructions need).
                macro_rules! four {
                    ($fun:ident, $k:expr, $r:literal) => {
                        step!($fun, a, b, c, d, $k, word($k), SHIFTS[$r][0]);
                        step!($fun, d, a, b, c, $k + 1, word($k + 1), SHIFTS[$r][1]);
                        step!($fun, c, d, a, b, $k + 2, word($k + 2), SHIFTS[$r][2]);
                        step!($fun, b, c, d, a, $k + 3, word($k + 3), SHIFTS[$r][3]);
                    };
                }
                for k in [0, 4, 8, 12] {
                    four!($f, k, 0);
                }
                for k in [16, 20, 24, 28] {
                    four!($g, k, 1);
                }
                for k in [32, 36, 40, 44] {
                    four!($h, k, 2);
                }
                for k in [48, 52, 56, 60] {
                    four!($i, k, 3);
                }
                for (v, (x, x0)) in s.iter_mut().zip([(a, a0), (b, b0), (c, c0), (d, d0)]) {
                    unsafe { _mm256_storeu_si256(v.as_mut_ptr().cast(), _mm256_add_epi32(x, x0)) };
                }
            }
        };
    }

    macro_rules! rot2 {
        ($x:expr, $r:expr) => {
            _mm256_or_si256(
                _mm256_slli_epi32::<{ ($r) as i32 }>($x),
                _mm256_srli_epi32::<{ 32 - ($r) as i32 }>($x),
            )
        };
    }
    macro_rules! rot512 {
        ($x:expr, $r:expr) => {
            _mm256_rol_epi32::<{ ($r) as i32 }>($x)
        };
    }

    #[target_feature(enable = "avx2")]
    fn f2(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
    }
    #[target_feature(enable = "avx2")]
    fn g2(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)))
    }
    #[target_feature(enable = "avx2")]
    fn h2(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_xor_si256(_mm256_xor_si256(b, c), d)
    }
    #[target_feature(enable = "avx2")]
    fn i2(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        // c ^ (b | !d): !d as d ^ all ones.
        let not_d = _mm256_xor_si256(d, _mm256_set1_epi32(-1));
        _mm256_xor_si256(c, _mm256_or_si256(b, not_d))
    }
    kernel!(compress2, "avx2", rot2, f2, g2, h2, i2);

    // Truth tables over (b, c, d) as bits 2, 1, 0 of the index.
    #[target_feature(enable = "avx512f,avx512vl")]
    fn f512(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_ternarylogic_epi32::<0xca>(b, c, d)
    }
    #[target_feature(enable = "avx512f,avx512vl")]
    fn g512(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_ternarylogic_epi32::<0xe4>(b, c, d)
    }
    #[target_feature(enable = "avx512f,avx512vl")]
    fn h512(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_ternarylogic_epi32::<0x96>(b, c, d)
    }
    #[target_feature(enable = "avx512f,avx512vl")]
    fn i512(b: __m256i, c: __m256i, d: __m256i) -> __m256i {
        _mm256_ternarylogic_epi32::<0x39>(b, c, d)
    }
    kernel!(
        compress512,
        "avx2,avx512f,avx512vl",
        rot512,
        f512,
        g512,
        h512,
        i512
    );
}

#[inline(always)]
fn lanes(f: impl Fn(usize) -> u32) -> V {
    let mut v = [0; LANES];
    for (l, x) in v.iter_mut().enumerate() {
        *x = f(l);
    }
    v
}

/// One step: `a = b + rotl(a + f(b, c, d) + k + w, s)`, in every lane.
#[inline(always)]
fn step(f: impl Fn(u32, u32, u32) -> u32, [a, b, c, d]: [V; 4], k: u32, w: &V, s: u32) -> V {
    lanes(|l| {
        let x = a[l]
            .wrapping_add(f(b[l], c[l], d[l]))
            .wrapping_add(k)
            .wrapping_add(w[l]);
        x.rotate_left(s).wrapping_add(b[l])
    })
}

/// RFC 1321's four round functions, in forms that need no NOT where they can.
#[inline(always)]
fn ff(b: u32, c: u32, d: u32) -> u32 {
    d ^ (b & (c ^ d))
}
#[inline(always)]
fn gg(b: u32, c: u32, d: u32) -> u32 {
    c ^ (d & (b ^ c))
}
#[inline(always)]
fn hh(b: u32, c: u32, d: u32) -> u32 {
    b ^ c ^ d
}
#[inline(always)]
fn ii(b: u32, c: u32, d: u32) -> u32 {
    c ^ (b | !d)
}

/// The 64 steps over one block of every lane (`w`: its 16 words).
#[inline(always)]
fn compress(s: &mut [V; 4], w: &[V; 16]) {
    let [mut a, mut b, mut c, mut d] = *s;
    // Four steps from step `i`, with the round's shifts `r`.
    macro_rules! four {
        ($f:ident, $i:expr, $r:expr) => {
            a = step($f, [a, b, c, d], K[$i], &w[word($i)], $r[0]);
            d = step($f, [d, a, b, c], K[$i + 1], &w[word($i + 1)], $r[1]);
            c = step($f, [c, d, a, b], K[$i + 2], &w[word($i + 2)], $r[2]);
            b = step($f, [b, c, d, a], K[$i + 3], &w[word($i + 3)], $r[3]);
        };
    }
    for i in [0, 4, 8, 12] {
        four!(ff, i, SHIFTS[0]);
    }
    for i in [16, 20, 24, 28] {
        four!(gg, i, SHIFTS[1]);
    }
    for i in [32, 36, 40, 44] {
        four!(hh, i, SHIFTS[2]);
    }
    for i in [48, 52, 56, 60] {
        four!(ii, i, SHIFTS[3]);
    }
    for (x, y) in s.iter_mut().zip([a, b, c, d]) {
        *x = lanes(|l| x[l].wrapping_add(y[l]));
    }
}

/// Finish one lane: its state after every whole block, the bytes left
/// (fewer than 64) and the content's length: the digest.
pub fn finish(mut state: [u32; 4], tail: &[u8], len: u64) -> [u8; 16] {
    assert!(tail.len() < 64, "a tail is less than a block");
    let mut last = [[0u8; 64]; 2];
    let flat = last.as_flattened_mut();
    flat[..tail.len()].copy_from_slice(tail);
    flat[tail.len()] = 0x80;
    let n = if tail.len() < 56 { 1 } else { 2 };
    flat[n * 64 - 8..n * 64].copy_from_slice(&(len.wrapping_mul(8)).to_le_bytes());
    md5::block_api::compress(&mut state, &last[..n]);
    let mut out = [0u8; 16];
    for (o, x) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&x.to_le_bytes());
    }
    out
}

/// Run whole blocks of one lane alone (a lane with no partners).
pub fn blocks_one(state: &mut [u32; 4], data: &[u8]) {
    let (blocks, rest) = data.as_chunks::<64>();
    assert!(rest.is_empty(), "whole blocks");
    md5::block_api::compress(state, blocks);
}

/// Bytes read from each content per round.
const CHUNK: usize = 256 << 10;

/// One content being read and hashed.
struct Lane {
    at: usize,
    raw: io::Take<Box<dyn Read + Send>>,
    size: u64,
    /// The digests other than md5, with the length read so far.
    rest: Digesting<io::Sink>,
    crc: crc32fast::Hasher,
    md5: [u32; 4],
    buf: Vec<u8>,
    len: usize,
}

impl Lane {
    /// Read the next chunk (short only at the content's end) and take
    /// every digest but md5 of it.
    fn fill(&mut self) -> io::Result<()> {
        self.len = 0;
        while self.len < CHUNK {
            match self.raw.read(&mut self.buf[self.len..]) {
                Ok(0) => break,
                Ok(k) => self.len += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let b = &self.buf[..self.len];
        self.rest.update(b);
        self.crc.update(b);
        Ok(())
    }

    /// The last chunk's md5 and every digest, or an error if the content
    /// was not `size` bytes.
    fn finish(mut self) -> io::Result<(Sums, u32)> {
        let whole = self.len / 64 * 64;
        blocks_one(&mut self.md5, &self.buf[..whole]);
        let (_, mut sums) = self.rest.finish();
        if sums.size != self.size {
            return Err(digest::changed());
        }
        sums.md5 = Some(finish(self.md5, &self.buf[whole..self.len], sums.size));
        Ok((sums, self.crc.finalize()))
    }
}

/// What `digest::sink(want).read_from(raw, size)` gives for each content
/// (its digests with the md5 `want` must ask for, and its CRC-32), read a
/// chunk of each in turn so that up to `LANES` md5s run side by side.
pub fn sums(
    contents: Vec<(Box<dyn Read + Send>, u64)>,
    want: Want,
) -> Vec<io::Result<(Sums, u32)>> {
    let rest = Want { md5: false, ..want };
    let mut out: Vec<Option<io::Result<(Sums, u32)>>> = contents.iter().map(|_| None).collect();
    let mut queue = contents.into_iter().enumerate();
    let mut lanes: Vec<Lane> = Vec::new();
    loop {
        while lanes.len() < LANES {
            let Some((at, (raw, size))) = queue.next() else {
                break;
            };
            lanes.push(Lane {
                at,
                raw: raw.take(size + 1),
                size,
                rest: digest::sink(rest),
                crc: crc32fast::Hasher::new(),
                md5: INIT,
                buf: vec![0; CHUNK],
                len: 0,
            });
        }
        if lanes.is_empty() {
            return out
                .into_iter()
                .map(|r| r.expect("every content finished"))
                .collect();
        }
        let mut done = Vec::new();
        for (i, lane) in lanes.iter_mut().enumerate() {
            if let Err(e) = lane.fill() {
                out[lane.at] = Some(Err(e));
                done.push(i);
            } else if lane.len < CHUNK {
                done.push(i);
            }
        }
        let full: Vec<usize> = (0..lanes.len()).filter(|i| !done.contains(i)).collect();
        md5_of_chunks(&mut lanes, &full);
        for i in done.into_iter().rev() {
            let lane = lanes.swap_remove(i);
            let at = lane.at;
            out[at].get_or_insert_with(|| lane.finish());
        }
    }
}

/// The md5 of each full lane's chunk: side by side when enough lanes are
/// full to pay for it (a lane alone is faster through the scalar code).
fn md5_of_chunks(lanes: &mut [Lane], full: &[usize]) {
    if full.len() < 3 {
        for &i in full {
            let lane = &mut lanes[i];
            blocks_one(&mut lane.md5, &lane.buf[..CHUNK]);
        }
        return;
    }
    let mut states = [INIT; LANES];
    for (s, &i) in states.iter_mut().zip(full) {
        *s = lanes[i].md5;
    }
    // Lanes without a content run over a full one's bytes, unread.
    let data = std::array::from_fn(|k| &lanes[full[k.min(full.len() - 1)]].buf[..CHUNK]);
    blocks(&mut states, data);
    for (s, &i) in states.iter().zip(full) {
        lanes[i].md5 = *s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn data(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    /// Each lane's digest, the blocks they share run by `kernel`.
    fn lanes_digest(contents: &[Vec<u8>], kernel: Kernel) -> Vec<[u8; 16]> {
        let shared = contents.iter().map(|c| c.len() / 64 * 64).min().unwrap();
        let mut states = [INIT; LANES];
        let mut at = 0;
        while at < shared {
            // Uneven rounds, as reads give them.
            let n = (shared - at).min(64 * (1 + at % 7));
            let data = std::array::from_fn(|l| &contents[l][at..at + n]);
            each_block(&mut states, data, kernel);
            at += n;
        }
        contents
            .iter()
            .zip(states)
            .map(|(c, mut s)| {
                let whole = c.len() / 64 * 64;
                blocks_one(&mut s, &c[shared..whole]);
                finish(s, &c[whole..], c.len() as u64)
            })
            .collect()
    }

    #[test]
    fn every_kernel_gives_each_lane_its_own_md5() {
        let lens = [0, 55, 56, 63, 64, 119, 120, 4096 + 17];
        let contents: Vec<Vec<u8>> = (0..LANES).map(|l| data(lens[l] + 3000, l as u32)).collect();
        let mut kernels: Vec<(&str, Kernel)> = vec![("portable", compress), ("chosen", kernel())];
        #[cfg(target_arch = "x86_64")]
        kernels.extend(
            [("avx2", x86::avx2()), ("avx512", x86::avx512())]
                .into_iter()
                .filter_map(|(n, k)| Some((n, k?))),
        );
        let want: Vec<[u8; 16]> = contents.iter().map(|c| Md5::digest(c).into()).collect();
        for (name, k) in kernels {
            assert_eq!(lanes_digest(&contents, k), want, "{name}");
        }
        // The short tails alone, through `finish`.
        for n in [0, 1, 55, 56, 57, 63] {
            let c = data(n, 9);
            let got = finish(INIT, &c, n as u64);
            assert_eq!(got, <[u8; 16]>::from(Md5::digest(&c)), "{n} bytes");
        }
    }

    /// Contents of every shape read side by side give what one read of
    /// each gives; one whose length is not the planned one fails alone.
    #[test]
    fn sums_side_by_side_are_each_contents_own() {
        let lens = [
            CHUNK * 3,
            CHUNK * 2 + 100,
            CHUNK,
            CHUNK - 1,
            0,
            63,
            CHUNK * 4 + 64,
            5000,
            CHUNK * 3 + 7,
            1,
            CHUNK * 2,
        ];
        let contents: Vec<Vec<u8>> = lens.iter().zip(0..).map(|(&n, i)| data(n, i)).collect();
        let want = Want::MD5_SHA256.and(Want::SHA1);
        let mut raws: Vec<(Box<dyn Read + Send>, u64)> = contents
            .iter()
            .map(|c| {
                (
                    Box::new(io::Cursor::new(c.clone())) as Box<dyn Read + Send>,
                    c.len() as u64,
                )
            })
            .collect();
        // The fourth says it is one byte longer than it is.
        raws[3].1 += 1;
        let got = sums(raws, want);
        for (i, (c, r)) in contents.iter().zip(got).enumerate() {
            if i == 3 {
                let e = r.unwrap_err();
                assert!(e.to_string().contains("changed"), "{e}");
                continue;
            }
            let mut one = digest::sink(want);
            let crc = one.read_from(&mut &c[..], c.len() as u64).unwrap();
            assert_eq!(r.unwrap(), (one.finish().1, crc), "content {i}");
        }
    }
}
