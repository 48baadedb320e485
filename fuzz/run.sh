#!/bin/sh
# Runs the targets one after the other for SECONDS each (default 600),
# seeded by seed.sh, with the dictionary of the target's format, and logs
# each to LOGDIR/fuzz-<target>.log (default: fuzz/). Usage:
#   fuzz/run.sh [SECONDS] [LOGDIR] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-600}
logs=${2:-.}
[ $# -gt 2 ] && shift 2 && targets=$* ||
	targets="merge_yaml merge_toml merge_json merge_env merge_ini merge_text"
./seed.sh
for t in $targets; do
	RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run -a "$t" "corpus/$t" -- \
		-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-max_len=65536 -dict="dict/${t#merge_}.dict" -print_final_stats=1 \
		>"$logs/fuzz-$t.log" 2>&1
	echo "$t exit $?" >>"$logs/fuzz-exit.log"
done
