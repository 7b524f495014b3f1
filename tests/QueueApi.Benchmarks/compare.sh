#!/usr/bin/env bash
# Before/after in one run on one machine: alternates two builds' benchmark binaries (hand-off, split, lifecycle,
# HTTP ingress) so a shared box's drift hits both alike; take the medians of the repeats.
#   BEFORE=/tmp/before tests/QueueApi.Benchmarks/compare.sh      (BEFORE: another checkout, built in Release)
# Environment: REPEATS (2), OUT (a new temporary folder), and the ingress knobs of ingress/run.sh.
# A BEFORE older than the engine redesign has no benchmark host: its QueueApi.dll maps /bench/echo itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
after=$(cd "$here/../.." && pwd)
before=${BEFORE:?set BEFORE to a built checkout to compare against}
repeats=${REPEATS:-2}
out=${OUT:-$(mktemp -d)}
bench_dir() { echo "$1/tests/QueueApi.Benchmarks/bin/Release/net10.0"; }
for i in $(seq 1 "$repeats"); do
  for side in before after; do
    root=$([ "$side" = before ] && echo "$before" || echo "$after")
    for mode in handoff split lifecycle; do
      (cd "$(bench_dir "$root")" && dotnet QueueApi.Benchmarks.dll "$mode") >"$out/$mode-$side-$i.txt" 2>&1
    done
    if [ -f "$root/tests/QueueApi.Benchmarks/IngressHost.cs" ]; then
      host=(HOST_DLL="$(bench_dir "$root")/QueueApi.Benchmarks.dll" HOST_ARGS=host)
    else
      host=(HOST_DLL="$root/src/QueueApi/bin/Release/net10.0/QueueApi.dll" HOST_ARGS=)
    fi
    env NO_BUILD=1 "${host[@]}" bash "$here/ingress/run.sh" >"$out/http-$side-$i.txt" 2>&1
  done
done
echo "results in $out"
