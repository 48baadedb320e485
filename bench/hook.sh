#!/bin/sh
# Size and speed of packwright-hook (issue #4, item 6):
#   - the static, stripped binary as packages build it (packaging/build-hook.sh, < 2 MiB)
#   - update of a 5,000-line YAML and TOML file (< 50 ms, whole process)
#   - check (< 10 ms, whole process)
# Usage: sh bench/hook.sh   (from the repository root; needs python3; builds with packaging/build-hook.sh)
set -eu
target=x86_64-unknown-linux-gnu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size_of() {
    size=$(stat -c %s "$1")
    echo "$1: $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB), $(file -b "$1" | grep -o 'static[a-z-]* linked\|dynamically linked'), $(file -b "$1" | grep -o 'not stripped\|stripped')"
}
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p packwright-hook --bin packwright-hook --target "$target" >/dev/null 2>&1
size_of "target/$target/release/packwright-hook"
bin=$(sh packaging/build-hook.sh 2>/dev/null)
size_of "$bin"
mkdir -p "$work/chroot"
cp "$bin" "$work/chroot/packwright-hook"
if chroot "$work/chroot" /packwright-hook --version >/dev/null 2>&1; then
    echo "$bin runs in an empty chroot"
else
    echo "$bin: empty-chroot check skipped or failed (needs root)"
fi
echo "timings below use $bin"
python3 - "$bin" "$work" <<'PY'
import os, statistics, subprocess, sys, time
bin, work = sys.argv[1], sys.argv[2]
SECTIONS, KEYS = 250, 9   # 250 sections x (header + comment + 9 keys x 2 lines) ~ 5,000 lines

def yaml(version, change=None, drop=None, add=None):
    out = [f"# generated benchmark config\nversion: {version}\n"]
    for s in range(SECTIONS):
        out.append(f"# section {s}\nsection{s}:\n")
        for k in range(KEYS):
            if drop and (s, k) in drop: continue
            v = (change or {}).get((s, k), f"value{s}x{k}")
            out.append(f"  # key {k} of section {s}\n  key{k}: {v}\n")
        for k, v in (add or {}).get(s, []):
            out.append(f"  {k}: {v}\n")
    return "".join(out)

def toml(version, change=None, drop=None, add=None):
    out = [f"# generated benchmark config\nversion = {version}\n"]
    for s in range(SECTIONS):
        out.append(f"\n[section{s}]\n")
        for k in range(KEYS):
            if drop and (s, k) in drop: continue
            v = (change or {}).get((s, k), f"value{s}x{k}")
            out.append(f"# key {k} of section {s}\nkey{k} = \"{v}\"\n")
        for k, v in (add or {}).get(s, []):
            out.append(f"{k} = \"{v}\"\n")
    return "".join(out)

# The admin changed 5% of the keys and added 25; upstream changed 5% (some the
# same), removed 25 and added 25 keys.
user = {(s, k): f"admin{s}x{k}" for s in range(0, SECTIONS, 2) for k in (1, 4)}
up = {(s, k): f"new{s}x{k}" for s in range(0, SECTIONS, 3) for k in (4, 7)}
user_add = {s: [("mine", f"m{s}")] for s in range(0, SECTIONS, 10)}
up_add = {s: [("fresh", f"f{s}")] for s in range(5, SECTIONS, 10)}
drop = {(s, 8) for s in range(0, SECTIONS, 10)}

import resource

def timed(args):
    """(wall ms, CPU ms) of one run; CPU time is steadier on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(args, capture_output=True)
    wall = (time.perf_counter() - t) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    if r.returncode != 0:
        sys.exit(f"failed: {args}\n{r.stderr.decode()}")
    return wall, cpu

def median_ms(args, n=21, setup=None):
    walls, cpus = [], []
    for _ in range(n):
        if setup:
            setup()
        w, c = timed(args)
        walls.append(w)
        cpus.append(c)
    return f"median {statistics.median(walls):.1f} ms wall, {statistics.median(cpus):.1f} ms CPU"

for ext, gen in (("yaml", yaml), ("toml", toml)):
    base, live, new = (os.path.join(work, f"{n}.{ext}") for n in ("base", "live", "new"))
    open(base, "w").write(gen(1))
    theirs = gen(2, up, drop, up_add)
    open(new, "w").write(theirs)
    ours = gen(1, user, None, user_add)
    lines = ours.count("\n")
    def restore():
        open(live, "w").write(ours)  # the admin's file again for every round
    args = [bin, "update", "--base", base, "--default", new, "--live", live, "--version-key", "version"]
    print(f"update {ext}: {lines} lines, {median_ms(args, setup=restore)} over 21 runs (whole process, incl. backup and fsync)")
    print(f"check {ext}: {median_ms([bin, 'check', '--live', live, '--expect', '2'])} on the merged {lines}-line file")

small = os.path.join(work, "config.yaml")
open(small, "w").write("version: 3\nserver:\n  address: 0.0.0.0:10001\n")
print(f"check yaml (3-line config): {median_ms([bin, 'check', '--live', small, '--expect', '3'])}")
PY
echo "merge only, in-process (no process start, no I/O):"
cargo bench -p packwright-hook --bench hook_merge 2>/dev/null | grep 'lines'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
