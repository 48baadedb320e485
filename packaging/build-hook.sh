#!/bin/sh
# Build packwright-hook as packages ship it: static (runs in an empty chroot),
# stripped, under 2 MiB. Usage: sh packaging/build-hook.sh
#   prints the path of the stripped binary (under $CARGO_TARGET_DIR, default target/).
# - crt-static: no ELF interpreter, no NSS (see README "packwright-hook").
# - pack-relative-relocs: the static-pie's relocations as RELR (glibc >= 2.36
#   applies them itself at start), about 60 KiB less than RELA.
# - icf=all: identical functions folded by the linker (rust-lld).
# - hook-no-unwind.ld: no unwind tables (panic=abort: nothing unwinds), about
#   200 KiB; a panic still prints its message, without a stack trace.
# - zstd for the hook only (CFLAGS for this target's C code): no forced
#   inlining, one Huffman decoder, no error strings, and only the fast and
#   dfast block compressors (snapshots use level 3, which is dfast; higher
#   levels would fall back to it). The packwright binary's zstd is untouched.
set -eu
target=$(rustc -vV | sed -n "s/^host: //p")
cflags="-DZSTD_NO_INLINE -DHUF_FORCE_DECOMPRESS_X1 -DZSTD_STRIP_ERROR_STRINGS"
for s in GREEDY LAZY LAZY2 BTLAZY2 BTOPT BTULTRA; do
    cflags="$cflags -DZSTD_EXCLUDE_${s}_BLOCK_COMPRESSOR"
done
here=$(cd "$(dirname "$0")" && pwd)
# The host's target (x86_64-unknown-linux-gnu here); its C flags variable.
cvar="CFLAGS_$(printf '%s' "$target" | tr -- '-.' '__')"
env RUSTFLAGS="-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs -C link-arg=-Wl,--icf=all -C link-arg=-Wl,--no-eh-frame-hdr -C link-arg=-Wl,-T,$here/hook-no-unwind.ld" \
"$cvar=$cflags" \
    cargo build --profile hook -p packwright-hook --bin packwright-hook --target "$target" >&2
bin="${CARGO_TARGET_DIR:-target}/$target/hook/packwright-hook"
strip "$bin"
echo "$bin"
