#!/usr/bin/env bash
# HTTP ingress benchmark: starts the built service once and runs wrk against it.
#   run.sh              single enqueue vs the bare /bench/echo, and batches of 100, in interleaved rounds
#   run.sh --overload   60 s above capacity: only 202/429, RSS flat, books balanced
#   run.sh --storage    durable (SQLite) against in-memory storage: single enqueues and batches of 100, three services
#                       (memory, SQLite, SQLite with PackIntake on), interleaved rounds; PAUSED=1 pauses their queues
#                       first (ingest alone) and starts the services afresh every round
#   run.sh --idempotency  single enqueue with a unique Idempotency-Key vs without one, in interleaved rounds
# Environment: ROUNDS (5), DURATION (s per route and round, 4), WARMUP (s per route, 8), OVERLOAD_DURATION (60),
# THREADS (1), CONNECTIONS (32), NO_BUILD=1, STORAGE (Memory|Sqlite, for --idempotency; Memory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mode=${1:-ingress}
duration=${DURATION:-4}
rounds=${ROUNDS:-5}
overload_duration=${OVERLOAD_DURATION:-60}
warmup=${WARMUP:-8}
threads=${THREADS:-1}
connections=${CONNECTIONS:-32}
work=$(mktemp -d)
pid=""
pid2=""

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk (or run .ci/install)" >&2; exit 2; }

cleanup() {
  local p
  for p in $pid2; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The service's own start-up plus the bare /bench/echo route, hosted by the benchmark program (IngressHost.cs).
if [ "${NO_BUILD:-0}" != 1 ]; then
  dotnet build "$root/tests/QueueApi.Benchmarks/QueueApi.Benchmarks.csproj" -c Release -v quiet -nologo >/dev/null
fi
dll=${HOST_DLL:-"$root/tests/QueueApi.Benchmarks/bin/Release/net10.0/QueueApi.Benchmarks.dll"}
host_args=${HOST_ARGS-host}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; exit 1
}

# start_service KEY=VALUE...: the service on a free loopback port, logging at Warning. BenchmarkEndpoints maps
# /bench/echo in builds from before the route moved to the benchmark's host (HOST_DLL=.../QueueApi.dll HOST_ARGS=).
start_service() {
  port=$(free_port)
  base="http://127.0.0.1:$port"
  (cd "$(dirname "$dll")" && exec env ASPNETCORE_ENVIRONMENT=Production \
    Logging__LogLevel__Default=Warning Logging__LogLevel__Microsoft.AspNetCore=Warning \
    QueueApi__Api__BenchmarkEndpoints=true "$@" \
    dotnet "$dll" $host_args --urls "$base" >>"$work/service.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 300); do
    if curl -fs "$base/health/ready" >/dev/null 2>&1; then return; fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/service.log" >&2; echo "the service exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "the service did not become ready in 30 s" >&2; exit 1
}

# bench NAME PATH SECONDS [BATCH]: one wrk run; leaves RESULT lines in $work/NAME.
bench() {
  local name=$1 path=$2 secs=$3 batch=${4:-0}
  BATCH=$batch wrk -t"$threads" -c"$connections" -d"${secs}s" --timeout 5s -s "$here/post.lua" "$base$path" >"$work/$name"
}

get() { grep "^RESULT $2 " "$work/$1" | awk '{print $3}' | head -1; }
status() { local v; v=$(get "$1" "status_$2"); echo "${v:-0}"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo "NOT met"; }

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ)"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ingress() {
  # In memory: this measures the HTTP skin against the bare route (--storage measures the durable store).
  start_service QueueApi__Storage__Provider=Memory QueueApi__Queues__default__Capacity=2000000 QueueApi__Queues__default__Workers=2 \
    QueueApi__Queues__default__Handler=log QueueApi__Api__MaxBatchBytes=1048576
  echo "service pid $pid on $base; wrk -t$threads -c$connections; $rounds rounds of ${duration}s per route"
  # Warm-up: JIT (tiering takes seconds; the enqueue path has the most code to tier up), connection pools, the
  # queue's first segments. Not counted.
  bench warm-echo /bench/echo "$warmup"; bench warm-single /queues/default/messages "$warmup"
  bench warm-batch /queues/default/messages/batch "$warmup" 100

  # Interleaved rounds: each round measures the bare limit and both enqueue routes back to back, so drift in a
  # shared machine's speed hits all three alike; the figures are the medians of the per-round ratios.
  local r e s b
  : >"$work/ratios"
  for r in $(seq 1 "$rounds"); do
    bench "echo$r" /bench/echo "$duration"
    bench "single$r" /queues/default/messages "$duration"
    bench "batch$r" /queues/default/messages/batch "$duration" 100
    e=$(calc %.1f "$(status "echo$r" 202) / $(get "echo$r" seconds)")
    s=$(calc %.1f "$(status "single$r" 202) / $(get "single$r" seconds)")
    b=$(calc %.1f "$(status "batch$r" 202) * 100 / $(get "batch$r" seconds)")
    echo "$e $s $b $(calc %.4f "$s / $e") $(calc %.4f "$b / $e")" >>"$work/ratios"
    echo "round $r: bare $e rps, single $s rps, batch $b msg/s"
  done

  local bare single batch_msgs r1 r2 other=0
  bare=$(awk '{print $1}' "$work/ratios" | median)
  single=$(awk '{print $2}' "$work/ratios" | median)
  batch_msgs=$(awk '{print $3}' "$work/ratios" | median)
  r1=$(awk '{print $4}' "$work/ratios" | median)
  r2=$(awk '{print $5}' "$work/ratios" | median)
  for r in $(seq 1 "$rounds"); do
    for n in echo single batch; do
      other=$(( other + $(get "$n$r" requests) - $(status "$n$r" 202) ))
    done
  done
  echo
  echo "## HTTP ingress (one process, wrk -t$threads -c$connections, $rounds interleaved rounds of ${duration} s per route)"
  echo
  machine
  echo
  echo "| figure | value | target | met |"
  echo "| --- | ---: | --- | --- |"
  echo "| bare POST /bench/echo, 202/s (median of rounds) | $bare | the limit | (info) |"
  echo "| single POST /queues/default/messages, 202/s (median) | $single | | (info) |"
  echo "| single / bare (median of per-round ratios) | $(calc %.3f "$r1")x | >= 0.9x | $(verdict "$r1 >= 0.9") |"
  echo "| batches of 100, messages/s (median) | $batch_msgs | | (info) |"
  echo "| batch messages/s / bare requests/s (median of per-round ratios) | $(calc %.2f "$r2")x | >= 25x | $(verdict "$r2 >= 25") |"
  echo "| p99 latency ms, round 1: bare / single / batch | $(get echo1 p99_ms) / $(get single1 p99_ms) / $(get batch1 p99_ms) | | (info) |"
  echo "| answers other than 202, all rounds | $other | 0 | $(verdict "$other == 0") |"
  echo
}

idempotency() {
  # Keys expire after 10 s, so the benchmark also pays for pruning and its memory stays bounded.
  # STORAGE=Sqlite measures the durable store (its file in the run's temporary folder); Memory by default.
  start_service QueueApi__Storage__Provider="${STORAGE:-Memory}" QueueApi__Storage__Path="$work/queueapi.db" \
    QueueApi__Queues__default__Capacity=2000000 QueueApi__Queues__default__Workers=2 \
    QueueApi__Queues__default__Handler=log QueueApi__Queues__default__IdempotencyWindow=00:00:10
  echo "storage ${STORAGE:-Memory}; service pid $pid on $base; wrk -t$threads -c$connections; $rounds rounds of ${duration}s per variant"
  KEY_HEADER=X-Request-Key bench warm-plain /queues/default/messages "$warmup"
  KEY_HEADER=Idempotency-Key bench warm-keyed /queues/default/messages "$warmup"
  local r p k
  : >"$work/ratios"
  for r in $(seq 1 "$rounds"); do
    # Same client work both ways: a unique header per request; only its name differs.
    KEY_HEADER=X-Request-Key bench "plain$r" /queues/default/messages "$duration"
    KEY_HEADER=Idempotency-Key bench "keyed$r" /queues/default/messages "$duration"
    p=$(calc %.1f "$(status "plain$r" 202) / $(get "plain$r" seconds)")
    k=$(calc %.1f "$(status "keyed$r" 202) / $(get "keyed$r" seconds)")
    echo "$p $k $(calc %.4f "$p / $k")" >>"$work/ratios"
    echo "round $r: plain $p rps, keyed $k rps"
  done
  local plain keyed cost
  plain=$(awk '{print $1}' "$work/ratios" | median)
  keyed=$(awk '{print $2}' "$work/ratios" | median)
  cost=$(awk '{print $3}' "$work/ratios" | median)
  echo
  echo "## Idempotent enqueue cost (one process, wrk -t$threads -c$connections, $rounds interleaved rounds of ${duration} s)"
  echo
  machine
  echo
  echo "| figure | value | target | met |"
  echo "| --- | ---: | --- | --- |"
  echo "| single enqueue without a key, 202/s (median) | $plain | | (info) |"
  echo "| single enqueue with a unique Idempotency-Key, 202/s (median) | $keyed | | (info) |"
  echo "| time per keyed enqueue / per plain one (median of per-round ratios) | $(calc %.3f "$cost")x | <= 1.10x | $(verdict "$cost <= 1.10") |"
  echo
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

overload() {
  # A small queue behind a slow handler (demo, 2 ms per message), so wrk stays far above capacity.
  start_service QueueApi__Storage__Provider=Memory QueueApi__Queues__default__Capacity=5000 QueueApi__Queues__default__Workers=2 \
    QueueApi__Queues__default__Handler=demo QueueApi__Queues__default__CircuitBreaker__Enabled=false
  echo "service pid $pid on $base; overload for ${overload_duration}s"
  SLEEP_MS=2 BATCH=0 wrk -t"$threads" -c"$connections" -d"${overload_duration}s" --timeout 5s -s "$here/post.lua" \
    "$base/queues/default/messages" >"$work/overload" &
  local wrk_pid=$! samples=()
  while kill -0 "$wrk_pid" 2>/dev/null; do samples+=("$(rss_kb)"); sleep 1; done
  wait "$wrk_pid"

  # Let the queue drain (bounded), then read the books while nothing moves.
  local json depth inflight
  for _ in $(seq 1 120); do
    json=$(curl -fs "$base/queues/default")
    depth=$(echo "$json" | grep -o '"depth":[0-9]*' | cut -d: -f2)
    inflight=$(echo "$json" | grep -o '"inFlight":[0-9]*' | cut -d: -f2)
    [ "$depth" = 0 ] && [ "$inflight" = 0 ] && break
    sleep 0.5
  done
  json=$(curl -fs "$base/queues/default")
  local n=${#samples[@]} third first_max last_max growth ok202 n429 total other accepted balanced
  third=$(( n / 3 ))
  # Flat: the last third's peak within 10% of the middle third's (the first third is warm-up).
  first_max=$(printf '%s\n' "${samples[@]:$third:$third}" | sort -n | tail -1)
  last_max=$(printf '%s\n' "${samples[@]:$((2 * third))}" | sort -n | tail -1)
  growth=$(calc %.3f "$last_max / $first_max")
  ok202=$(status overload 202); n429=$(status overload 429); total=$(get overload requests)
  other=$(( total - ok202 - n429 ))
  accepted=$(echo "$json" | grep -o '"accepted":[0-9]*' | cut -d: -f2)
  balanced=$(echo "$json" | grep -o '"balanced":[a-z]*' | cut -d: -f2)
  echo
  echo "## Overload (${overload_duration} s above capacity, wrk -t$threads -c$connections)"
  echo
  machine
  echo
  echo "| figure | value | target | met |"
  echo "| --- | ---: | --- | --- |"
  echo "| answers: 202 / 429 / other | $ok202 / $n429 / $other | only 202 and 429 | $(verdict "$other == 0 && $n429 > 0") |"
  echo "| socket errors or timeouts | $(get overload socket_errors) | 0 | $(verdict "$(get overload socket_errors) == 0") |"
  echo "| RSS MiB: first / middle-third peak / last-third peak | $(calc %.1f "${samples[0]} / 1024") / $(calc %.1f "$first_max / 1024") / $(calc %.1f "$last_max / 1024") | last <= 1.10x middle | $(verdict "$growth <= 1.10") |"
  echo "| books: balanced | $balanced | true | $(verdict "\"$balanced\" == \"true\"") |"
  echo "| books: accepted vs 202 answers seen | $accepted vs $ok202 | equal | $(verdict "$accepted == $ok202") |"
  echo
  echo "counts: $(echo "$json" | grep -o '"counts":{[^}]*}')"
}

# start_three ROUND: memory, SQLite and SQLite with PackIntake off, each on fresh files; paused if PAUSED=1; warmed up.
start_three() {
  local queue="QueueApi__Queues__default__Capacity=${CAPACITY:-10000000} QueueApi__Queues__default__Workers=2 QueueApi__Queues__default__Handler=log QueueApi__Api__MaxBatchBytes=1048576 QueueApi__AdminApiKey=bench-key"
  # shellcheck disable=SC2086
  start_service QueueApi__Storage__Provider=Memory $queue
  mem=$base; pid2="$pid2 $pid"
  # shellcheck disable=SC2086
  start_service QueueApi__Storage__Provider=Sqlite QueueApi__Storage__Path="$work/queueapi-$1.db" $queue
  lite=$base; pid2="$pid2 $pid"
  # The same store with packed intake (PackIntake, opt-in), same run.
  # shellcheck disable=SC2086
  start_service QueueApi__Storage__Provider=Sqlite QueueApi__Storage__Path="$work/packed-$1.db" QueueApi__Storage__PackIntake=true $queue
  packed=$base; pid2="$pid2 $pid"; pid=""
  if [ "${PAUSED:-0}" = 1 ]; then
    for b in "$mem" "$lite" "$packed"; do curl -fs -X POST -H "X-Api-Key: bench-key" "$b/queues/default/pause" >/dev/null; done
  fi
  base=$mem; bench warm-ms /queues/default/messages "$warmup"; bench warm-mb /queues/default/messages/batch "$warmup" 100
  base=$lite; bench warm-ss /queues/default/messages "$warmup"; bench warm-sb /queues/default/messages/batch "$warmup" 100
  base=$packed; bench warm-ps /queues/default/messages "$warmup"; bench warm-pb /queues/default/messages/batch "$warmup" 100
}

stop_three() {
  local p
  for p in $pid2; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $pid2; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$p" 2>/dev/null || true; done
  pid2=""
  rm -f "$work"/*.db*
}

storage() {
  local mem lite packed what="workers running"
  # Paused, a queue only grows, and a process holding millions of messages slows with its heap: with PAUSED=1 every
  # round starts the three services afresh, so each round compares them at the same (small) backlog.
  [ "${PAUSED:-0}" = 1 ] && what="queues paused (ingest alone), fresh services every round"
  echo "$what; wrk -t$threads -c$connections; $rounds rounds of ${duration}s per route; warm-up ${warmup}s per route"
  start_three 0

  local r ms ss ps mb sb pb
  : >"$work/ratios"
  for r in $(seq 1 "$rounds"); do
    if [ "${PAUSED:-0}" = 1 ] && [ "$r" -gt 1 ]; then stop_three; start_three "$r"; fi
    base=$mem; bench "ms$r" /queues/default/messages "$duration"
    base=$lite; bench "ss$r" /queues/default/messages "$duration"
    base=$packed; bench "ps$r" /queues/default/messages "$duration"
    base=$mem; bench "mb$r" /queues/default/messages/batch "$duration" 100
    base=$lite; bench "sb$r" /queues/default/messages/batch "$duration" 100
    base=$packed; bench "pb$r" /queues/default/messages/batch "$duration" 100
    ms=$(calc %.1f "$(status "ms$r" 202) / $(get "ms$r" seconds)")
    ss=$(calc %.1f "$(status "ss$r" 202) / $(get "ss$r" seconds)")
    ps=$(calc %.1f "$(status "ps$r" 202) / $(get "ps$r" seconds)")
    mb=$(calc %.1f "$(status "mb$r" 202) * 100 / $(get "mb$r" seconds)")
    sb=$(calc %.1f "$(status "sb$r" 202) * 100 / $(get "sb$r" seconds)")
    pb=$(calc %.1f "$(status "pb$r" 202) * 100 / $(get "pb$r" seconds)")
    echo "$ms $ss $mb $sb $(calc %.4f "$ss / $ms") $(calc %.4f "$sb / $mb") $ps $pb $(calc %.4f "$ps / $ms") $(calc %.4f "$pb / $mb")" >>"$work/ratios"
    echo "round $r: single memory $ms rps, sqlite $ss, packed $ps; batch memory $mb msg/s, sqlite $sb, packed $pb"
  done

  local r1 r2 r3 r4 other=0
  r1=$(awk '{print $5}' "$work/ratios" | median)
  r2=$(awk '{print $6}' "$work/ratios" | median)
  r3=$(awk '{print $9}' "$work/ratios" | median)
  r4=$(awk '{print $10}' "$work/ratios" | median)
  for r in $(seq 1 "$rounds"); do
    for n in ms ss ps mb sb pb; do other=$(( other + $(get "$n$r" requests) - $(status "$n$r" 202) )); done
  done
  echo
  echo "## Durable storage (SQLite, synchronous Normal) against memory, HTTP ingress, $what (wrk -t$threads -c$connections, $rounds interleaved rounds of ${duration} s)"
  echo
  machine
  echo
  echo "| figure | memory | sqlite | sqlite / memory (median of rounds) | target | met | sqlite, PackIntake on | its ratio |"
  echo "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: |"
  echo "| single enqueue, 202/s | $(awk '{print $1}' "$work/ratios" | median) | $(awk '{print $2}' "$work/ratios" | median) | $(calc %.3f "$r1")x | >= 0.8x | $(verdict "$r1 >= 0.8") | $(awk '{print $7}' "$work/ratios" | median) | $(calc %.3f "$r3")x |"
  echo "| batches of 100, messages/s | $(awk '{print $3}' "$work/ratios" | median) | $(awk '{print $4}' "$work/ratios" | median) | $(calc %.3f "$r2")x | >= 0.8x | $(verdict "$r2 >= 0.8") | $(awk '{print $8}' "$work/ratios" | median) | $(calc %.3f "$r4")x |"
  echo "| answers other than 202, all rounds | | | $other | 0 | $(verdict "$other == 0") | | |"
  echo "| database file after the last round | | $(du -ch "$work"/queueapi-*.db* | tail -1 | cut -f1) | | (info) | | $(du -ch "$work"/packed-*.db* | tail -1 | cut -f1) | |"
  echo
}

case "$mode" in
  ingress | --ingress) ingress ;;
  overload | --overload) overload ;;
  storage | --storage) storage ;;
  idempotency | --idempotency) idempotency ;;
  *) echo "usage: $0 [--overload | --storage | --idempotency]" >&2; exit 2 ;;
esac
