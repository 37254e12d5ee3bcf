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
# Early in training both machines sit near the W ≈ 0 plateau (pseudo-likelihood ≈ ln ½), and
# when each leaves it varies from seed to seed by more than the machines differ: so each batch
# size is run for several seeds (each seed its own Monte Carlo data, rgsweep's training stream
# and BernoulliRBM's random_state) and the table gives means with their standard errors.
#
# Usage (from the repo root):  bash bench/rbm_vs_sklearn.sh [--json]
#   BATCHES="10 100"   batch sizes to compare (10 is BernoulliRBM's default)
#   SEEDS="1 2 3"      seeds per batch size
#   EPOCHS=5 LR=0.1    epochs and learning rate (0.1 is BernoulliRBM's default)
#   SAMPLES=20000      configurations
#   SCORE_ROWS=1000    held-out rows both pseudo-likelihoods are scored on (4000: ~3 min a model)
#   ORDER=shuffled     rows as BernoulliRBM gets them: shuffled (one seeded permutation, as
#                      rgsweep sees them) or chain (Monte Carlo order, the file's)
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
seeds=${SEEDS:-1 2 3}
score_rows=${SCORE_ROWS:-1000}
order=${ORDER:-shuffled}
epochs=${EPOCHS:-5}
lr=${LR:-0.1}
samples=${SAMPLES:-20000}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "installing scikit-learn into a throwaway venv"
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check scikit-learn
version=$("$work/venv/bin/python" -c 'import sklearn; print(sklearn.__version__)')

runs=()
for batch in $batches; do
  for seed in $seeds; do
    out="$work/b$batch-s$seed"
    log "batch $batch, seed $seed: rgsweep rbm"
    "$rgsweep" rbm --size 40 --temperature 2.450980392156863 --samples "$samples" --layers 400 \
      --epochs "$epochs" --batch "$batch" --learning-rate "$lr" --seed "$seed" --out "$out" --json >"$out.json"
    log "batch $batch, seed $seed: scikit-learn $version BernoulliRBM ($order rows)"
    "$work/venv/bin/python" bench/rbm_sklearn_peer.py "$out" 400 "$epochs" "$batch" "$lr" "$seed" "$score_rows" "$order" >"$out.peer.json"
    runs+=("$("$work/venv/bin/python" - "$out.json" "$out.peer.json" "$batch" "$seed" <<'PY'
import json, sys
ours, peer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
layer = ours["layers"][0]
print(json.dumps({
    "batch": int(sys.argv[3]),
    "seed": int(sys.argv[4]),
    "rgsweep_samples_per_second": layer["samples_per_second"],
    "sklearn_samples_per_second": peer["sklearn_samples_per_second"],
    "speedup": layer["samples_per_second"] / peer["sklearn_samples_per_second"],
    "rgsweep_pseudo_likelihood": peer["rgsweep_pseudo_likelihood_numpy"],
    "sklearn_pseudo_likelihood": peer["sklearn_pseudo_likelihood"],
}))
PY
)")
    log "${runs[-1]}"
  done
done

# Per batch size: means over seeds with standard errors.
summary=$(printf '%s\n' "${runs[@]}" | "$work/venv/bin/python" -c '
import json, math, sys
runs = [json.loads(l) for l in sys.stdin]
def mean_err(xs):
    m = sum(xs) / len(xs)
    e = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs)) if len(xs) > 1 else float("nan")
    return m, e
rows = []
for batch in sorted({r["batch"] for r in runs}):
    rs = [r for r in runs if r["batch"] == batch]
    row = {"batch": batch, "seeds": len(rs)}
    for key in ("rgsweep_samples_per_second", "sklearn_samples_per_second", "speedup",
                "rgsweep_pseudo_likelihood", "sklearn_pseudo_likelihood"):
        row[key], row[key + "_err"] = mean_err([r[key] for r in rs])
    rows.append(row)
print(json.dumps({"rows": rows, "runs": runs}))
')

if [[ $json == 1 ]]; then
  echo "$summary" | "$work/venv/bin/python" -c 'import json,sys; d=json.load(sys.stdin); d.update({"sklearn": "'"$version"'", "epochs": '"$epochs"', "learning_rate": '"$lr"', "order": "'"$order"'", "score_rows": '"$score_rows"'}); print(json.dumps(d))'
else
  echo "1600 -> 400 PCD-1, $epochs epochs, learning rate $lr, scikit-learn $version ($order rows), PL on $score_rows held-out rows"
  echo "$summary" | "$work/venv/bin/python" -c '
import json, sys
print("{:>6} {:>5} {:>14} {:>14} {:>12} {:>17} {:>17}".format("batch", "seeds", "rgsweep/s", "sklearn/s", "speed-up", "PL rgsweep", "PL sklearn"))
for r in json.load(sys.stdin)["rows"]:
    f = lambda k, p: "{:.{p}f}({:.{p}f})".format(r[k], r[k + "_err"], p=p)
    print("{:>6} {:>5} {:>14} {:>14} {:>11}x {:>17} {:>17}".format(r["batch"], r["seeds"], f("rgsweep_samples_per_second", 0),
          f("sklearn_samples_per_second", 0), f("speedup", 2), f("rgsweep_pseudo_likelihood", 4), f("sklearn_pseudo_likelihood", 4)))
'
fi
