#!/usr/bin/env bash
# bench/mcising.sh: side-by-side speed check of rgsweep against mcising 1.1.0.
#
# What it measures: nanoseconds per spin update for the 2D Ising model
# (square lattice, J = 1, h = 0) at T_c = 2.269185, on L = 256 (mcising also
# on L = 64):
#   * Metropolis:    wall time / (sweeps * L*L)
#   * Swendsen-Wang: wall time / (sweeps * L*L), i.e. ns per spin per sweep
# and it prints mcising / rgsweep for each algorithm (the speed-up), plus the
# headline: our multispin Metropolis against mcising's Metropolis (goal >= 16x).
#
# Why mcising: it is a published Ising Monte Carlo package (PyPI) whose hot loop
# is compiled Rust, so it is a fair peer for our samplers, unlike pure-Python
# code. Its Wolff "sweep" is a single cluster, so Wolff is not compared. The two
# sides run one after the other; mcising's sweeps are single-threaded. On a
# busy machine the numbers are noisy: run it when nothing else is compiling.
#
# Usage (from the repo root):  bash bench/mcising.sh [--json]
#   --json            print one JSON object instead of the table
#   RGSWEEP=path      binary to compare (default target/release/rgsweep, which
#                     is built with `cargo build --release` if it is missing)
#   MCISING_SECONDS=s target length of each mcising timing (default 1.5)
#   PYTHON=python3    interpreter for the throwaway venv (needs >= 3.10)
# mcising is installed into a temporary venv that is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

json=()
for arg in "$@"; do
  case $arg in
    --json) json=(--json) ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "mcising.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
log() { echo "mcising.sh: $*" >&2; }

rgsweep=${RGSWEEP:-target/release/rgsweep}
if [[ ! -x $rgsweep ]]; then
  if [[ -n ${RGSWEEP:-} ]]; then log "RGSWEEP=$rgsweep is not executable"; exit 1; fi
  log "building $rgsweep"
  cargo build --release >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "installing mcising 1.1.0 into a throwaway venv"
"${PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
  'mcising==1.1.0' 'numpy>=2' >&2

log "timing rgsweep ($rgsweep bench --json --model ising2d --size 256)"
"$rgsweep" bench --json --model ising2d --size 256 >"$tmp/rgsweep.json"

"$tmp/venv/bin/python" bench/mcising_peer.py --rgsweep-json "$tmp/rgsweep.json" \
  --size 256 --extra-size 64 --seconds "${MCISING_SECONDS:-1.5}" "${json[@]}"
