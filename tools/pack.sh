#!/usr/bin/env bash
# Packs HeMif's libraries (HeMif.Actors, HeMif.Transports, HeMif.Host) and the hemif CLI as a .NET tool into
# artifacts/ (or $1), Release, deterministic, with XML docs, symbols (.snupkg), the README and the licence, then
# checks the tool: installs it from that folder into a temporary tool path and runs `hemif simulate wifi-broken`.
#   tools/pack.sh [OUTPUT_DIR]        pack and check
#   PACK_ONLY=1 tools/pack.sh          pack only
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-artifacts}")
repo=$(git remote get-url origin 2>/dev/null || echo "file://$PWD")
rm -rf "$out"
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for project in src/HeMif.Actors src/HeMif.Transports src/HeMif.Host examples/HeMif.Cli; do
  dotnet pack "$project" -c Release -o "$out" -p:RepositoryUrl="$repo" -p:ContinuousIntegrationBuild=true --nologo -v quiet
done
echo "packed into $out:"
ls -1 "$out"

[ "${PACK_ONLY:-}" = "1" ] && exit 0

tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
version=$(sed -n 's/.*<Version>\(.*\)<\/Version>.*/\1/p' Directory.Build.props | head -1)
dotnet tool install hemif --tool-path "$tools" --add-source "$out" ${version:+--version "$version"} >/dev/null
echo "installed the hemif tool from $out; running it once:"
"$tools/hemif" simulate wifi-broken --color never | tail -n 1
