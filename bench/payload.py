#!/usr/bin/env python3
"""Deterministic benchmark payloads (same bytes on every machine and run).

    payload.py big DIR SIZE_MIB      8 ELF-like files, SIZE_MIB in total
    payload.py service DIR           a 40 MiB ELF-like binary + 1,500 text files

"ELF-like": machine-code-shaped tokens drawn from a skewed vocabulary, string
tables, zero padding and a share of incompressible bytes (embedded assets),
so zstd -3 shrinks it about as much as it shrinks real binaries (~40 %).
"""
import os
import random
import sys

MIB = 1 << 20


def corpus(rng, size):
    """`size` bytes of code-like data from a fixed token vocabulary."""
    vocab = [rng.randbytes(rng.randint(2, 7)) for _ in range(6000)]
    weights = [1.0 / (i + 1) ** 1.2 for i in range(len(vocab))]
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz_", k=rng.randint(3, 14)))
             for _ in range(3000)]
    out = bytearray()
    while len(out) < size:
        kind = rng.random()
        if kind < 0.78:
            out += b"".join(rng.choices(vocab, weights, k=4096))
        elif kind < 0.90:
            out += b"\0".join(rng.choices(words, k=600)) + b"\0"
        elif kind < 0.95:
            out += bytes(rng.randint(64, 4096))
        else:
            out += rng.randbytes(rng.randint(4096, 32768))
    return bytes(out[:size])


def elf_file(path, rng, base, size):
    """One file: slices of the shared corpus at random offsets, each XORed
    with its own byte (so slices do not repeat each other across a large
    compression window), with some fresh random bytes."""
    tables = [bytes(b ^ k for b in range(256)) for k in range(256)]
    with open(path, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01" + bytes(57))
        left = size - 64
        while left > 0:
            n = min(left, rng.randint(64 << 10, 1 << 20))
            if rng.random() < 0.06:
                f.write(rng.randbytes(n))
            else:
                at = rng.randrange(0, len(base) - n)
                f.write(base[at:at + n].translate(tables[rng.randrange(256)]))
            left -= n


def text_file(rng, words, n):
    lines = []
    size = 0
    while size < n:
        k = rng.randint(4, 14)
        line = " ".join(rng.choices(words, k=k))
        if rng.random() < 0.3:
            line = f"{rng.choice(words)} = \"{line}\""
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def main():
    what, root = sys.argv[1], sys.argv[2]
    rng = random.Random(14)
    base = corpus(rng, 24 * MIB)
    os.makedirs(root, exist_ok=True)
    if what == "big":
        total = int(sys.argv[3]) * MIB
        for i in range(8):
            elf_file(os.path.join(root, f"bin{i}"), rng, base, total // 8)
    elif what == "service":
        elf_file(os.path.join(root, "service"), rng, base, 40 * MIB)
        words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10)))
                 for _ in range(2000)]
        for i in range(1500):
            d = os.path.join(root, "share", f"d{i % 30:02}")
            os.makedirs(d, exist_ok=True)
            n = int(rng.paretovariate(1.2) * 1500)
            with open(os.path.join(d, f"f{i:04}.txt"), "wb") as f:
                f.write(text_file(rng, words, min(n, 256 << 10)))
    else:
        sys.exit(f"unknown payload {what}")


if __name__ == "__main__":
    main()
