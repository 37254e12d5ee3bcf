#!/usr/bin/env bash
# bench/rbm_vs_sklearn.sh: RBM training speed of `rgsweep rbm` against scikit-learn's
# BernoulliRBM, side by side in one run, on the same data and layer size, at equal settings.
#
# Data: 40x40 periodic 2D Ising at K = 0.408 (Mehta & Schwab's first layer, 1600 -> 400),
# 20,000 configurations by Wolff (rgsweep writes them; a fifth held out). Both machines are
# trained by PCD-1 with the same batch, learning rate and epochs; samples/s is training rows per
# second of training. Both are scored by one implementation of the exact pseudo-log-likelihood
# (every unit flipped in turn, nats per unit, on the held-out rows): the peer's numpy code in
# bench/rbm_sklearn_peer.py, which also scores rgsweep's saved weights (rgsweep's own number is
# printed beside it as a cross-check). rgsweep runs on one thread; numpy's OpenBLAS uses what
# it finds (2 threads here; OPENBLAS_NUM_THREADS=1 to pin it).
#
# Usage (from the repo root):  bash bench/rbm_vs_sklearn.sh [--json]
#   BATCHES="10 100"   batch sizes to compare (10 is BernoulliRBM's default)
#   EPOCHS=5 LR=0.1    epochs and learning rate (0.1 is BernoulliRBM's default)
#   SAMPLES=20000      configurations
#   RGSWEEP=path       binary (default target/release/rgsweep, built if missing)
#   PYTHON=python3     interpreter for the throwaway venv (removed on exit)
set -euo pipefail
cd "$(dirname "$0")/.."

json=0
for arg in "$@"; do
  case $arg in
    --json) json=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "rbm_vs_sklearn.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
log() { echo "rbm_vs_sklearn.sh: $*" >&2; }

rgsweep=${RGSWEEP:-target/release/rgsweep}
if [[ ! -x $rgsweep ]]; then
  if [[ -n ${RGSWEEP:-} ]]; then log "RGSWEEP=$rgsweep is not executable"; exit 1; fi
  log "building target/release/rgsweep"
  cargo build --release --quiet
fi
batches=${BATCHES:-10 100}
epochs=${EPOCHS:-5}
lr=${LR:-0.1}
samples=${SAMPLES:-20000}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "installing scikit-learn into a throwaway venv"
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check scikit-learn
version=$("$work/venv/bin/python" -c 'import sklearn; print(sklearn.__version__)')

rows=()
for batch in $batches; do
  out="$work/b$batch"
  log "batch $batch: rgsweep rbm"
  "$rgsweep" rbm --size 40 --temperature 2.450980392156863 --samples "$samples" --layers 400 \
    --epochs "$epochs" --batch "$batch" --learning-rate "$lr" --seed 1 --out "$out" --json >"$out.json"
  log "batch $batch: scikit-learn $version BernoulliRBM"
  "$work/venv/bin/python" bench/rbm_sklearn_peer.py "$out" 400 "$epochs" "$batch" "$lr" >"$out.peer.json"
  rows+=("$("$work/venv/bin/python" - "$out.json" "$out.peer.json" "$batch" <<'PY'
import json, sys
ours, peer, batch = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
layer = ours["layers"][0]
print(json.dumps({
    "batch": batch,
    "rgsweep_samples_per_second": layer["samples_per_second"],
    "sklearn_samples_per_second": peer["sklearn_samples_per_second"],
    "speedup": layer["samples_per_second"] / peer["sklearn_samples_per_second"],
    "rgsweep_pseudo_likelihood": peer["rgsweep_pseudo_likelihood_numpy"],
    "rgsweep_pseudo_likelihood_own": layer["pseudo_likelihood"],
    "sklearn_pseudo_likelihood": peer["sklearn_pseudo_likelihood"],
}))
PY
)")
  log "${rows[-1]}"
done

if [[ $json == 1 ]]; then
  printf '%s\n' "${rows[@]}" | "$work/venv/bin/python" -c 'import json,sys; print(json.dumps({"sklearn": "'"$version"'", "epochs": '"$epochs"', "learning_rate": '"$lr"', "rows": [json.loads(l) for l in sys.stdin]}))'
else
  echo "1600 -> 400 PCD-1, $epochs epochs, learning rate $lr, scikit-learn $version"
  printf '%s\n' "${rows[@]}" | "$work/venv/bin/python" -c '
import json, sys
print("{:>6} {:>10} {:>10} {:>9} {:>11} {:>11}".format("batch", "rgsweep/s", "sklearn/s", "speed-up", "PL rgsweep", "PL sklearn"))
for line in sys.stdin:
    r = json.loads(line)
    print("{:>6} {:>10.0f} {:>10.0f} {:>8.2f}x {:>11.4f} {:>11.4f}".format(r["batch"], r["rgsweep_samples_per_second"],
          r["sklearn_samples_per_second"], r["speedup"], r["rgsweep_pseudo_likelihood"], r["sklearn_pseudo_likelihood"]))
'
fi
