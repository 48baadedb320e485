#!/bin/sh
# packwright packages itself: the static packwright-hook it ships (packages
# carry it into roots without a libc), the packwright binary, then every
# format into dist/. Extra arguments go to `packwright build`.
set -eu
cd "$(dirname "$0")/.."
sh packaging/build-hook.sh >/dev/null
cargo build --quiet --release --bin packwright
exec target/release/packwright build "$@"
