#!/usr/bin/env bash
# bench/percolation.sh: side-by-side speed check of rgsweep's Newman-Ziff against cpyrcolate.
#
# What it measures: nanoseconds per occupied bond of one full Newman-Ziff run (every bond of
# an L x L periodic square lattice occupied in a random order, the observables recorded at
# every occupation number) with wrapping/spanning detection, at L = 256 and 1024:
#   * rgsweep: `rgsweep bench percolation` (wrapping along each axis by Machta's
#     displacements, largest cluster, sum of squared sizes, the size histogram); also its
#     sweep run (only the window around p_c recorded, the configuration before it filled in
#     memory order), for what a sweep actually spends;
#   * cpyrcolate (PyPI, C union-find on a NumPy edge list): compute_percolation_single on
#     the same torus, with and without its spanning-cluster detection (auxiliary boundary
#     nodes); the time includes its NumPy permutation, as a user of it pays.
# and prints cpyrcolate / rgsweep for each size. The goal of issue 16 is >= 10x.
#
# Usage (from the repo root):  bash bench/percolation.sh [--json]
#   RGSWEEP=path   binary to compare (default target/release/rgsweep, built if missing)
#   SIZES="256 1024"  lattice sizes;  RUNS=5  cpyrcolate repetitions (best kept)
#   PYTHON=python3 interpreter for the throwaway venv
# cpyrcolate is installed into a temporary venv that is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

json=0
for arg in "$@"; do
  case $arg in
    --json) json=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "percolation.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
log() { echo "percolation.sh: $*" >&2; }

rgsweep=${RGSWEEP:-target/release/rgsweep}
if [[ ! -x $rgsweep ]]; then
  if [[ -n ${RGSWEEP:-} ]]; then log "RGSWEEP=$rgsweep is not executable"; exit 1; fi
  log "building $rgsweep"
  cargo build --release >&2
fi
sizes=${SIZES:-"256 1024"}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "installing cpyrcolate into a throwaway venv"
"${PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check --no-input cpyrcolate numpy >&2

log "timing rgsweep"
"$rgsweep" bench percolation --json --kind bond --sizes "${sizes// /,}" >"$tmp/rgsweep.json"
log "timing cpyrcolate"
# shellcheck disable=SC2086
"$tmp/venv/bin/python" bench/percolation_peer.py $sizes --runs "${RUNS:-5}" >"$tmp/peer.jsonl"

"$tmp/venv/bin/python" - "$tmp/rgsweep.json" "$tmp/peer.jsonl" "$json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
peer = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
rows = []
for p in peer:
    full = next(r for r in ours if r["size"] == p["size"] and r["run"] == "full")
    window = next(r for r in ours if r["size"] == p["size"] and r["run"] == "window")
    rows.append({
        "size": p["size"],
        "rgsweep_full_ns_per_bond": full["ns_per_element"],
        "rgsweep_window_ns_per_bond": window["ns_per_element"],
        "cpyrcolate_ns_per_bond": p["ns_per_bond"],
        "cpyrcolate_spanning_ns_per_bond": p["spanning_ns_per_bond"],
        "speedup_full": p["spanning_ns_per_bond"] / full["ns_per_element"],
    })
if sys.argv[3] == "1":
    print(json.dumps(rows))
else:
    print(f"{'L':>6} {'rgsweep full':>14} {'rgsweep window':>15} {'cpyrcolate':>11} {'+spanning':>10} {'ratio':>7}")
    for r in rows:
        print(f"{r['size']:>6} {r['rgsweep_full_ns_per_bond']:>11.1f} ns {r['rgsweep_window_ns_per_bond']:>12.1f} ns "
              f"{r['cpyrcolate_ns_per_bond']:>8.1f} ns {r['cpyrcolate_spanning_ns_per_bond']:>7.1f} ns {r['speedup_full']:>6.2f}x")
    print("ratio: cpyrcolate with spanning detection / rgsweep full run with wrapping detection (goal >= 10x)")
PY
