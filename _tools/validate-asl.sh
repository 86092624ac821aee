#!/usr/bin/env bash
# validate-asl.sh [FILE...]
# Validates Step Functions definitions (default: every statemachine/*.asl.json)
# with the pinned asl-validator, after substituting ${Placeholders} with dummy
# values, and checks Retry BackoffRate >= 1 (which asl-validator misses).
# Prints one line per file and exits non-zero if any definition is bad.
set -euo pipefail

tools="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$tools")"

if [ ! -x "$tools/node_modules/.bin/asl-validator" ]; then
	(cd "$tools" && npm ci --silent --no-audit --no-fund)
fi

if [ "$#" -gt 0 ]; then
	files=("$@")
else
	shopt -s nullglob
	files=("$root"/statemachine/*.asl.json)
	shopt -u nullglob
fi
if [ "${#files[@]}" -eq 0 ]; then
	echo "validate-asl: no statemachine/*.asl.json definitions found"
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failed=0
for f in "${files[@]}"; do
	prepared="$tmp/$(basename "$f")"
	if ! node "$tools/prepare-asl.mjs" "$f" "$prepared"; then
		failed=1
		continue
	fi
	if report="$("$tools/node_modules/.bin/asl-validator" --json-path "$prepared" 2>&1)"; then
		echo "✓ $f is valid"
	else
		echo "✕ $f is invalid:"
		echo "$report" | sed -e "s|$prepared|$f|g" -e '/is invalid:$/d' -e 's/^/  /'
		failed=1
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "validate-asl: FAILED" >&2
fi
exit "$failed"
