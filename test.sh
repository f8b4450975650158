#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests over HTTP against real PostgreSQL
# (OPSMETER_TEST_DB if set, else Testcontainers when Docker answers, else a throw-away local cluster).
# Ends with the plain line "N passed, N failed" and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet test Opsmeter.sln -c Release --logger trx --results-directory "$results" "$@"
status=$?

read -r passed failed < <(cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*' |
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]);
         if (kv[1] == "passed") p += kv[2]; if (kv[1] == "failed") f += kv[2] } }
       END { print p + 0, f + 0 }')

# A build failure runs no test at all: count it as a failure so it cannot read as green.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi

echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
