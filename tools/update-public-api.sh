#!/usr/bin/env bash
# Approves the public API the code now has: runs each project's public API test, which writes
# PublicApi/NAME.received.txt beside the approved PublicApi/NAME.txt when the two differ, and moves every such file
# over its approved one. Review the result with `git diff -- tests/*/PublicApi` and commit it with the change.
# This is the only way an approved file changes: the tests themselves never rewrite it.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=(tests/HeMif.Actors.Tests tests/HeMif.Transports.Tests tests/HeMif.Host.Tests)
rm -f tests/*/PublicApi/*.received.txt
for project in "${projects[@]}"; do
  log=$(mktemp)
  if dotnet test "$project" --filter "FullyQualifiedName~.PublicApiTests." >"$log" 2>&1; then
    echo "$project: the public API matches the approved file"
  elif ! ls "$project"/PublicApi/*.received.txt >/dev/null 2>&1; then
    # A failure that wrote no received file is not a public API difference (a build error, for example).
    cat "$log" >&2
    rm -f "$log"
    echo "$project: the public API test failed without writing a received file (see above)" >&2
    exit 1
  fi
  rm -f "$log"
done

updated=0
for received in tests/*/PublicApi/*.received.txt; do
  [ -e "$received" ] || continue
  approved="${received%.received.txt}.txt"
  mv "$received" "$approved"
  echo "updated $approved"
  updated=1
done
if [ "$updated" -eq 0 ]; then
  echo "no public API changed"
fi
