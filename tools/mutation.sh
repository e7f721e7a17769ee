#!/usr/bin/env bash
# Mutation testing of the decision core with Stryker.NET (docs/testing.md, "Mutation testing").
#
#   tools/mutation.sh                         every folder of the decision core, one Stryker run each (hours here)
#   tools/mutation.sh Race                    one folder of src/HeMif.Actors, with the tests of the same folder
#   tools/mutation.sh Race/RacePlanner.cs     one file, with the tests of its folder
#   tools/mutation.sh Race/RacePlanner.cs 'FullyQualifiedName~HeMif.Actors.Tests.Race.DualStackTests'
#                                             one file, with the tests a filter picks (dotnet test --filter syntax)
#
# Stryker (dotnet-stryker 5.1.0, a local tool in .config/dotnet-tools.json) changes one operator, condition, constant
# or statement of the code at a time ("a mutant") and runs the tests that cover it: a mutant no test fails on
# "survives", and each survivor is a behaviour no test pins. The report of each run goes to
# artifacts/mutation/NAME/reports/mutation-report.{html,json} (not committed); the script prints the score and every
# survivor (file:line, mutator, the mutated code) from the JSON.
# Stryker runs the test project once per mutant group: on two shared cores one file takes tens of minutes, so run the
# file you changed, with a filter for its tests. MUTATION_CONCURRENCY (default 1) sets Stryker's parallel test runners.
# Exit: 0 done (whatever the score), 1 Stryker failed, 2 usage, 3 a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The decision core (issue 17): the folders of src/HeMif.Actors whose code decides, with no I/O.
core="Race Filter Sort Planning Validate Remember Multipath"

usage() { echo "usage: tools/mutation.sh [FOLDER|FOLDER/FILE.cs [TEST-FILTER]]   (folders: $core)" >&2; exit 2; }
[ $# -le 2 ] || usage

dotnet tool restore >/dev/null || { echo "mutation: 'dotnet tool restore' failed: dotnet-stryker (.config/dotnet-tools.json) is missing" >&2; exit 3; }
command -v python3 >/dev/null || { echo "mutation: python3 is needed to summarise Stryker's JSON report" >&2; exit 3; }

# One Stryker run: $1 what to mutate (a folder or folder/file of src/HeMif.Actors), $2 the test filter.
run() {
  local what=$1 filter=$2 name glob
  [ -e "$root/src/HeMif.Actors/$what" ] || { echo "mutation: no src/HeMif.Actors/$what" >&2; exit 2; }
  if [ -d "$root/src/HeMif.Actors/$what" ]; then glob="**/$what/*.cs"; else glob="**/$what"; fi
  name=$(echo "$what" | tr '/' '-' | sed 's/\.cs$//')
  local out="$root/artifacts/mutation/$name"
  rm -rf "$out"
  mkdir -p "$out"
  echo "mutation: $what with the tests '$filter' (report: $out/reports/mutation-report.html)"
  (cd "$root/tests/HeMif.Actors.Tests" && dotnet dotnet-stryker \
      --project HeMif.Actors.csproj \
      --mutate "$glob" \
      --test-case-filter "$filter" \
      --concurrency "${MUTATION_CONCURRENCY:-1}" \
      --reporter Html --reporter Json --reporter Progress \
      --output "$out" \
      --skip-version-check >"$out/stryker.log" 2>&1) || {
    tail -30 "$out/stryker.log" >&2
    echo "mutation: Stryker failed on $what (log: $out/stryker.log)" >&2
    return 1
  }
  python3 - "$out/reports/mutation-report.json" "$what" <<'PY'
import json, sys
report, what = json.load(open(sys.argv[1])), sys.argv[2]
counts, survivors = {}, []
for path, f in sorted(report["files"].items()):
    lines = f["source"].splitlines()
    for m in f["mutants"]:
        counts[m["status"]] = counts.get(m["status"], 0) + 1
        if m["status"] in ("Survived", "NoCoverage"):
            line = m["location"]["start"]["line"]
            survivors.append((path.split("src/HeMif.Actors/")[-1], line, m["status"], m["mutatorName"], m.get("replacement", "").replace("\n", " ")[:100]))
detected = counts.get("Killed", 0) + counts.get("Timeout", 0)
valid = detected + counts.get("Survived", 0) + counts.get("NoCoverage", 0)
score = 100.0 * detected / valid if valid else 100.0
print(f"mutation: {what}: score {score:.1f} % ({detected} of {valid} mutants killed or timed out; "
      + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ")")
for s in survivors:
    print(f"  {s[0]}:{s[1]}  {s[2]}  {s[3]}: {s[4]}")
PY
}

status=0
if [ $# -eq 0 ]; then
  for folder in $core; do
    run "$folder" "FullyQualifiedName~HeMif.Actors.Tests.$folder" || status=1
  done
else
  folder=${1%%/*}
  run "$1" "${2:-FullyQualifiedName~HeMif.Actors.Tests.$folder}" || status=1
fi
exit $status
