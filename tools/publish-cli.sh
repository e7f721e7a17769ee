#!/usr/bin/env bash
# Publishes the hemif command line ReadyToRun for this machine's runtime identifier (framework-dependent): HeMif's,
# Akka's and the other libraries' code is compiled ahead of time, so a fresh process does not pay the JIT for it
# (README, "Cold start"). Apps get the same by setting <PublishReadyToRun>true</PublishReadyToRun> when they publish
# with a runtime identifier: it compiles every assembly the app ships, HeMif's included.
#   usage: tools/publish-cli.sh [OUTPUT_DIR]     (default artifacts/hemif-r2r); then: dotnet OUTPUT_DIR/hemif.dll ...
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/hemif-r2r}
rid=$(dotnet --info | awk -F': *' '/^ *RID:/ { print $2; exit }')
[ -n "$rid" ] || { echo "publish-cli.sh: could not read this machine's runtime identifier from 'dotnet --info'" >&2; exit 1; }
dotnet publish examples/HeMif.Cli -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$out" -v q --nologo
echo "$out/hemif.dll"
