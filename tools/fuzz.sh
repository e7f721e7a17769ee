#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser of outside input (docs/testing.md, "Fuzzing").
#
#   tools/fuzz.sh TARGET SECONDS      e.g. tools/fuzz.sh dns 600
#   tools/fuzz.sh all SECONDS         every target, SECONDS each (CI: .ci/run)
#   tools/fuzz.sh list                the targets
#
# Builds tests/HeMif.Fuzz, copies it to artifacts/fuzz/bin, instruments the copies of HeMif.Actors.dll and
# HeMif.Transports.dll with SharpFuzz (`dotnet sharpfuzz`, a local tool in .config/dotnet-tools.json), and runs
# AFL++'s afl-fuzz for SECONDS on the target's seeds and kept regressions (tests/HeMif.Fuzz/corpus/TARGET and
# regressions/TARGET). Findings go to artifacts/fuzz/findings/TARGET (not committed). Every crash is replayed
# in-process and printed with its exception, and the script exits 1. To keep one as a regression test: copy it to
# tests/HeMif.Fuzz/regressions/TARGET/ with a name that says what it is (FuzzCorpusTests replays that folder on every
# test run), fix the parser, add a unit test beside the parser's own, and commit them together.
#
# Without AFL++ (not installed, and not root to install it) the script says so and falls back to blind fuzzing in
# process: the same harness over the seeds and seeded random mutations of them (HeMif.Fuzz mutate; FUZZ_SEED, default
# 1, picks the mutations), findings in the same place. FUZZ_ENGINE=inprocess chooses the fallback on purpose.
# FUZZ_CONFIGURATION (default Debug: the build the tests already made) picks the build.
# Exit: 0 nothing found, 1 a finding (or afl-fuzz failed), 2 usage, 3 a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

usage() { echo "usage: tools/fuzz.sh TARGET|all SECONDS | list" >&2; exit 2; }
[ $# -ge 1 ] || usage

out="$root/artifacts/fuzz"
bin="$out/bin"

config=${FUZZ_CONFIGURATION:-Debug}
engine=${FUZZ_ENGINE:-afl}
seed=${FUZZ_SEED:-1}

build() {
  rm -rf "$bin"
  mkdir -p "$bin"
  dotnet build "$root/tests/HeMif.Fuzz/HeMif.Fuzz.csproj" -c "$config" -nologo -v quiet >"$out/build.log" 2>&1 \
    || { cat "$out/build.log" >&2; echo "fuzz: the harness did not build" >&2; exit 1; }
  # A copy: the instrumented assemblies must never be the ones the tests load.
  cp -r "$root/tests/HeMif.Fuzz/bin/$config/net10.0/." "$bin/"
}

mkdir -p "$out"
if [ "$1" = "list" ]; then
  build
  dotnet "$bin/HeMif.Fuzz.dll" list
  exit 0
fi

[ $# -eq 2 ] || usage
target=$1
seconds=$2
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "fuzz: SECONDS must be a positive whole number, not '$seconds'" >&2; exit 2; }

build
# The list comes before instrumenting: instrumented code may only run under Fuzzer.Run, inside afl-fuzz.
targets=$(dotnet "$bin/HeMif.Fuzz.dll" list | awk '{print $1}')
if [ "$target" = "all" ]; then
  chosen=$targets
elif grep -qx -- "$target" <<<"$targets"; then
  chosen=$target
else
  echo "fuzz: no target '$target'; the targets are: $(echo $targets)" >&2
  exit 2
fi

# AFL++: installed when missing and we are root (as CI is); otherwise the in-process fallback, said plainly.
if [ "$engine" = "afl" ] && ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "fuzz: installing afl++"
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null || true
  fi
  if ! command -v afl-fuzz >/dev/null; then
    echo "fuzz: AFL++ is missing (Debian: sudo apt-get install afl++): fuzzing in process instead, blind (random mutations of the seeds, seed $seed), not coverage-guided"
    engine=inprocess
  fi
fi

status=0
if [ "$engine" = "inprocess" ]; then
  for t in $chosen; do
    findings="$out/findings/$t"
    rm -rf "$findings"
    mkdir -p "$findings"
    echo "fuzz: $t for ${seconds} s in process (seeds tests/HeMif.Fuzz/corpus/$t and regressions/$t, findings $findings)"
    dotnet "$bin/HeMif.Fuzz.dll" mutate "$t" "$seconds" "$seed" "$findings" \
      "$root/tests/HeMif.Fuzz/corpus/$t" "$root/tests/HeMif.Fuzz/regressions/$t" || status=1
  done
  exit $status
fi

dotnet tool restore >/dev/null || { echo "fuzz: 'dotnet tool restore' failed: SharpFuzz.CommandLine (.config/dotnet-tools.json) is missing" >&2; exit 3; }
# SharpFuzz rewrites the assemblies in place, adding AFL's coverage counters to every branch: in a second copy, as
# instrumented code crashes outside afl-fuzz, and findings are replayed with the plain one ($bin).
instrumented="$out/instrumented"
rm -rf "$instrumented"
cp -r "$bin" "$instrumented"
for assembly in HeMif.Actors HeMif.Transports; do
  dotnet sharpfuzz "$instrumented/$assembly.dll" >/dev/null
done

# The target is `dotnet`, not an AFL-compiled binary (SharpFuzz reports coverage itself); core dumps may go to a
# crash reporter here; there is no screen to draw on.
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1

for t in $chosen; do
  findings="$out/findings/$t"
  rm -rf "$findings"
  mkdir -p "$findings/in"
  cp "$root/tests/HeMif.Fuzz/corpus/$t"/* "$findings/in/"
  if [ -d "$root/tests/HeMif.Fuzz/regressions/$t" ]; then
    cp "$root/tests/HeMif.Fuzz/regressions/$t"/* "$findings/in/"
  fi
  echo "fuzz: $t for ${seconds} s under afl-fuzz (seeds tests/HeMif.Fuzz/corpus/$t and regressions/$t, findings $findings)"
  # -t: per input, in ms, generous for a loaded shared machine. A timeout kills the one dotnet process SharpFuzz runs
  # the inputs in, and with it the fork server: with "+" afl-fuzz chose 20 ms, and the run ended at the first GC pause.
  # -m none: the runtime reserves much virtual memory.
  afl-fuzz -i "$findings/in" -o "$findings" -V "$seconds" -t 10000 -m none \
    -- dotnet "$instrumented/HeMif.Fuzz.dll" run "$t" >"$findings/afl.log" 2>&1 || {
      tail -20 "$findings/afl.log" >&2
      echo "fuzz: afl-fuzz could not run $t (log: $findings/afl.log)" >&2
      status=1
      continue
    }
  stats="$findings/default/fuzzer_stats"
  execs=$(awk -F': ' '/^execs_done/{print $2}' "$stats" 2>/dev/null || echo "?")
  paths=$(awk -F': ' '/^corpus_count/{print $2}' "$stats" 2>/dev/null || echo "?")
  crashes=$(find "$findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
  hangs=$(find "$findings/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
  echo "fuzz: $t: $execs inputs run, $paths in the corpus, $crashes crashes, $hangs hangs"
  if [ "$crashes" -gt 0 ]; then
    status=1
    dotnet "$bin/HeMif.Fuzz.dll" replay "$t" "$findings/default/crashes" || true
  fi
  if [ "$hangs" -gt 0 ]; then
    # A hang under AFL is only a suspicion on a loaded machine: it counts if the input does not finish in-process
    # within a minute either.
    for h in "$findings"/default/hangs/id:*; do
      if ! timeout 60 dotnet "$bin/HeMif.Fuzz.dll" replay "$t" "$h" >/dev/null; then
        echo "fuzz: $t: $h hangs or fails in-process too" >&2
        status=1
      else
        echo "fuzz: $t: $h finished in-process (slow under AFL only)"
      fi
    done
  fi
done
exit $status
