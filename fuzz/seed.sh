#!/bin/sh
# Builds the seed corpus of every target in fuzz/corpus/<target>/ (not
# committed: libFuzzer grows it). An input is base 0xFF live 0xFF new
# default, as fuzz_targets/common.rs splits it. Seeds: the real-world
# configs of hook/tests/fixtures/real (base, base with an admin edit, new
# default) and small hand-made files that reach what the fixtures do not:
# a version key, comments above keys, BOM, CRLF, nesting, YAML anchors and
# aliases, TOML inline tables and arrays of tables, JSON nesting, INI
# sections before and after the global keys.
set -eu
cd "$(dirname "$0")"
real=../hook/tests/fixtures/real
ff=$(printf '\377')
put() { # target name base live new
	mkdir -p "corpus/$1"
	printf '%s%s%s%s%s' "$3" "$ff" "$4" "$ff" "$5" >"corpus/$1/$2"
}
fixture() { # target dir ext
	b=$(cat "$real/$2/base.$3")
	d=$(cat "$real/$2/default.$3")
	put "$1" real "$b" "$b" "$d"
	put "$1" real-edit "$b" "$(printf '%s\n# admin\n' "$b")" "$d"
}
fixture merge_yaml livekit-yaml yaml
fixture merge_toml frps-toml toml
fixture merge_json cinny-json json
fixture merge_env openim-dotenv-env env
fixture merge_ini pgbouncer-ini ini
fixture merge_text livekit-yaml yaml

put merge_yaml small 'version: 1
# port
port: 80
a:
  b: x
' 'version: 1
port: 81 # mine
a:
  b: y
' 'version: 2
# the port
port: 80
a:
  b: x
  c: [1, 2]
'
put merge_yaml alias 'base: &b {x: 1, y: [a, b]}
other: *b
list:
  - &i item
  - *i
' "$(printf '\357\273\277version: 1\r\nk: |\r\n  text\r\n')" 'version: 2
m: {a: {b: {c: [[1], {d: 2}]}}}
'
put merge_toml small 'version = 1
# port
port = 80
[a]
b = "x"
' 'version = 1
port = 81 # mine
[a]
b = "y"
t = { x = 1, y = [1, 2] }
' 'version = 2
port = 80
[a]
b = "x"
[[srv]]
n = 1
[[srv]]
n = 2
'
put merge_json small '{"version": 1, "port": 80, "a": {"b": "x"}}' '{
  "version": 1,
  "port": 81,
  "a": {"b": "y", "l": [1, {"c": null}]}
}' '{"version": 2, "port": 80, "a": {"b": "x", "n": true}}'
put merge_env small '# port
VERSION=1
PORT=80
' 'VERSION=1
PORT=81 # mine
export NAME="a b"
' "$(printf 'VERSION=2\r\nPORT=80\r\nQ='"'"'x'"'"'\r\n')"
put merge_ini small 'version = 1
[a]
; port
port = 80
' 'version = 1
[a]
port = 81
[b]
k = v
' 'version = 2
[a]
port = 80
# new
new = 1
'
put merge_text small 'one
two
three
' 'one
two mine
three
' 'zero
one
two
three
four
'
