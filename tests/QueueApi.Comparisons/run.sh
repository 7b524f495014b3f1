#!/usr/bin/env bash
# QueueApi against Hangfire and graphile-worker (docs/performance.md, "Against Hangfire and graphile-worker").
# Usage: tests/QueueApi.Comparisons/run.sh [sqlite|postgres|all] [rounds] [jobs]
# Builds the comparison (Release), installs graphile-worker into graphile/node_modules from its lock file on first
# use, and, unless QUEUEAPI_BENCH_POSTGRES names a server, starts a throwaway PostgreSQL cluster (.ci/postgres)
# and stops it at the end. Never run by .ci/run or `dotnet test`: it takes minutes and wants a quiet machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
what="${1:-all}"
rounds="${2:-3}"

dotnet build "$here/QueueApi.Comparisons.csproj" -c Release --nologo -v quiet >/dev/null
bench() { dotnet "$here/bin/Release/net10.0/QueueApi.Comparisons.dll" "$@"; }

if [ "$what" = sqlite ] || [ "$what" = all ]; then
  bench sqlite "$rounds" "${3:-1000}"
fi

if [ "$what" = postgres ] || [ "$what" = all ]; then
  if [ ! -d "$here/graphile/node_modules/graphile-worker" ]; then
    (cd "$here/graphile" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  started=""
  if [ -z "${QUEUEAPI_BENCH_POSTGRES:-}" ]; then
    bash "$root/.ci/postgres" start
    started=1
    trap 'bash "$root/.ci/postgres" stop' EXIT
    # shellcheck disable=SC1091
    . "$root/.ci/postgres.env"
    export QUEUEAPI_BENCH_POSTGRES="$QUEUEAPI_TEST_POSTGRES"
  fi
  bench postgres "$rounds" "${3:-5000}"
  if [ -n "$started" ]; then echo "(the cluster started for this run is stopped on exit)"; fi
fi
