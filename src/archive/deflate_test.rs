use super::*;
use std::io::Read;

fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::new();
    let mut x = seed;
    while v.len() < n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        match (v.len() / 50_000) % 3 {
            0 => v.extend_from_slice(format!("line {} of text\n", x % 1000).as_bytes()),
            1 => v.extend_from_slice(&x.to_le_bytes()),
            _ => v.push((x >> 60) as u8),
        }
    }
    v.truncate(n);
    v
}

#[test]
fn pieces_splice_into_one_stream() {
    for level in [0, 1, 6, 9, 12] {
        for sizes in [
            vec![0],
            vec![1, 0],
            vec![300_000, 1 << 20, 5],
            vec![1 << 20, 0],
            vec![7, 8, 9, 0, 200_000],
        ] {
            let mut all = Vec::new();
            let mut z = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let d = data(n, i as u64 + 3);
                z.extend(piece(level, &d, i + 1 == sizes.len()).unwrap());
                all.extend(d);
            }
            let mut back = Vec::new();
            flate2::read::DeflateDecoder::new(&z[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == all, "level {level} sizes {sizes:?}");
        }
    }
}
#[test]
fn streams_with_codes_longer_than_a_lookup_splice_too() {
    // Bytes from a geometric distribution (byte k half as likely as
    // k - 1) give litlen codes up to 15 bits, past the 12-bit lookups
    // and the pairs of literals, and matches at every distance.
    let mut x: u64 = 5;
    let mut d = Vec::new();
    while d.len() < 600_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        let k = (x >> 20).trailing_zeros().min(40) as u8;
        d.push(b'a' + k);
        if x.is_multiple_of(97) && d.len() > 40_000 {
            let back = (x >> 40) as usize % 32_000 + 1;
            for _ in 0..3 + (x >> 8) % 250 {
                d.push(d[d.len() - back]);
            }
        }
    }
    for level in [1, 6, 12] {
        let mut z = piece(level, &d, false).unwrap();
        z.extend(piece(level, b"end", true).unwrap());
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&z[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(
            back.len() == d.len() + 3 && back[..d.len()] == d[..],
            "level {level}"
        );
    }
}

#[test]
fn long_codes_decode_as_short_ones_do() {
    // A code with lengths 1..=15 (and two of 15 to complete it): the
    // canonical walk must give what the one-lookup table gives.
    let mut lengths: Vec<u8> = (1..=15).collect();
    lengths.push(15);
    // Canonical codes, sent MSB first into an LSB-first stream.
    let (mut bits, mut n, mut code) = (0u128, 0u32, 0u32);
    // One code of each length 1..=14 and two of 15: RFC 1951's
    // next_code is (previous + count of the previous length) << 1.
    let mut next = [0u32; 16];
    for (l, slot) in next.iter_mut().enumerate().skip(2) {
        code = (code + u32::from(l > 1)) << 1;
        *slot = code;
    }
    let mut codes = vec![];
    for &l in &lengths {
        codes.push((next[l as usize], l));
        next[l as usize] += 1;
    }
    let order = [15usize, 0, 7, 14, 3, 12, 1, 13];
    for &sym in &order {
        let (c, l) = codes[sym];
        for i in (0..l).rev() {
            bits |= u128::from((c >> i) & 1) << n;
            n += 1;
        }
    }
    let data = bits.to_le_bytes();
    for fast in [1, 4, 10, 15] {
        let t = Table::with_fast(&lengths, fast).unwrap();
        let mut b = Bits::new(&data);
        let got: Vec<u16> = order.iter().map(|_| t.decode(&mut b).unwrap()).collect();
        let want: Vec<u16> = order.iter().map(|&s| s as u16).collect();
        assert_eq!(got, want, "fast bits {fast}");
        assert_eq!(b.pos(), n as usize);
    }
}
