#!/usr/bin/env bash
# The peer harness's four workloads against Mostrador, as the harness's README runs them for
# its peers; raw result lines go to $MOSTRADOR_PEER_HOME/results/*.jsonl.
#
#   bash bench/peer/run.sh                     # inputs + ingest api list search (about 15 min)
#   STEPS="ingest" bash bench/peer/run.sh      # a subset: inputs ingest api list search
#
# PY runs the harness (any Python with httpx); MOSTRADOR_PYTHON runs the product (default: PY).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER_BENCH="${PEER_BENCH_DIR:-/work/shared/peer-bench}"
PY="${PY:-python3}"
DATA="${MOSTRADOR_BENCH_CACHE:-/tmp/mostrador-bench}"
export MOSTRADOR_PEER_HOME="${MOSTRADOR_PEER_HOME:-$DATA/peer}"
RESULTS="$MOSTRADOR_PEER_HOME/results"
STEPS="${STEPS:-inputs ingest api list search}"
CORPUS="$DATA/corpus-5000-42"
PAYLOADS="$DATA/payloads-100000-7.jsonl"

want() { [[ " $STEPS " == *" $1 "* ]]; }
mkdir -p "$RESULTS"
cd "$PEER_BENCH"

if want inputs; then
  [ -f "$CORPUS/manifest.json" ] || "$PY" corpus.py --n 5000 --seed 42 --out "$CORPUS"
  [ -f "$PAYLOADS" ] || "$PY" payloads.py --n 100000 --seed 7 --out "$PAYLOADS"
fi

run() {  # name, then the workload and its arguments
  local name="$1"; shift
  echo "== $name ($(date -u +%H:%M:%S))" >&2
  local t0=$SECONDS rc=0
  timeout 900 "$PY" "$@" >"$RESULTS/$name.jsonl" 2>"$RESULTS/$name.log" || rc=$?
  printf '%s\t%s\n' "$((SECONDS - t0))" "$rc" >"$RESULTS/$name.wall"
  [ "$rc" = 0 ] || { echo "$name failed ($rc); see $RESULTS/$name.log" >&2; tail -5 "$RESULTS/$name.log" >&2; }
}

want ingest && run a_email_ingest workloads/ingest.py --adapter "$HERE" --corpus "$CORPUS" \
  --sizes 1000,5000 --repeats 3 --spool "$MOSTRADOR_PEER_HOME/spool"
want api && run b_api_create workloads/api_create.py --adapter "$HERE" --payloads "$PAYLOADS" \
  --levels 1:500,16:1500 --repeats 3
want list && run c_ticket_list workloads/ticket_list.py --adapter "$HERE" --payloads "$PAYLOADS" \
  --sizes 10000,100000
# re-uses the 100,000-conversation database the list step leaves
want search && run d_ticket_search workloads/search.py --adapter "$HERE" --payloads "$PAYLOADS" \
  --size 100000
echo "results in $RESULTS" >&2
