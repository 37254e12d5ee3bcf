#!/usr/bin/env bash
# bench/rsmine.sh: RSMI training speed and held-out MI of rgsweep against RSMI-NE
# (PyPI rsmine 0.3.0a1 on TensorFlow 2.15 CPU), on the same 2D Ising configurations.
#
# It copies the peer folder (shared/peers/rsmine: install.sh, gen_data.py, run_peer.py) into
# DIR, runs its install.sh (two venvs, TensorFlow is a few hundred MB; 2D Ising L = 64 data from
# mcising: 4000 training + 2000 held-out configurations per T), makes 2000 more configurations
# for rgsweep's validation set, and writes one .npy for rgsweep laid out as
#   [the peer's 4000 training configs | 1333 validation | first 1333 of the peer's held-out]
# (rgsweep holds out round(0.2 n) configurations twice from the end, so with n = 6666 both
# programs train on exactly the same 4000 configurations, 64,000 (V, E) pairs at stride 16).
# Then, one after the other, per geometry and repetition: run_peer.py, then rgsweep rsmi, both
# with batch 100, EPOCHS epochs (rgsweep with --patience 100000: no early stop), one hidden unit.
# No RSMI-NE code enters this repository; only the peer's own scripts are called.
#
# Usage: bash bench/rsmine.sh [DIR]
#   DIR         where the peer is copied and installed (default: a temporary directory, removed
#               on exit); a DIR that already holds venv/ and data/ is reused without reinstalling
#   PEER=path   peer folder (default: ../shared/peers/rsmine beside the repository)
#   RGSWEEP=path  binary (default: target/release/rgsweep after `cargo build --release`)
#   GEOMETRIES="2:2:4 4:2:10"  block:buffer:env list (default 2:2:4); REPS=2 EPOCHS=25
#   STRIDE=16 TEMP=2.269 PYTHON=python3 (3.9-3.11, for TensorFlow 2.15)
#   CRITIC_LAYERS=2 CRITIC_WIDTH=14 (rgsweep's critic; default: the peer's size)
# Read the numbers with care: 2 cores, and TensorFlow and rgsweep both slow down under load.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
peer=${PEER:-$repo/../shared/peers/rsmine}
geometries=${GEOMETRIES:-2:2:4} reps=${REPS:-2} epochs=${EPOCHS:-25} stride=${STRIDE:-16}
temp=${TEMP:-2.269}
# The same critic as the peer's driver (one hidden layer of 14, embedding 8); rgsweep's own
# default (two hidden layers of 32) is CRITIC_LAYERS=3 CRITIC_WIDTH=32.
critic_layers=${CRITIC_LAYERS:-2} critic_width=${CRITIC_WIDTH:-14}
log() { echo "rsmine.sh: $*" >&2; }
case ${1:-} in -h|--help) sed -n '2,24p' "$0"; exit 0 ;; esac

if [[ -n ${1:-} ]]; then dir=$(mkdir -p "$1" && cd "$1" && pwd)
else dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; fi

if [[ -n ${RGSWEEP:-} ]]; then rgsweep=$RGSWEEP
else log "cargo build --release"; (cd "$repo" && cargo build --release >&2)
  rgsweep=$repo/target/release/rgsweep; fi

if [[ ! -x $dir/venv/bin/python || ! -d $dir/data ]]; then
  log "copying $peer to $dir and running its install.sh (several minutes)"
  cp -r "$peer"/. "$dir"/ && chmod -R u+w "$dir"
  (cd "$dir" && bash install.sh >install.log 2>&1) || { log "install.sh failed, see $dir/install.log"; exit 1; }
fi
tf=$dir/venv/bin/python
if [[ ! -f $dir/data_val/ising2d_L64_T${temp}_val.npy ]]; then
  log "generating 2000 validation configurations for rgsweep"
  (cd "$dir" && DATA_DIR="$dir/data_val" venv_mc/bin/python gen_data.py 2000 64 778 _val >/dev/null)
fi
rgdata=$dir/rgsweep_L64_T${temp}.npy
"$tf" - "$dir" "$temp" "$rgdata" <<'EOF'
import sys, numpy as np
d, T, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
tr = np.load(f"{d}/data/ising2d_L64_T{T:.3f}.npy")
va = np.load(f"{d}/data_val/ising2d_L64_T{T:.3f}_val.npy")
te = np.load(f"{d}/data/ising2d_L64_T{T:.3f}_test.npy")
a = np.concatenate([tr, va[:1333], te[:1333]]).astype(np.int8)
assert len(tr) == 4000 and a.shape == (6666, 64, 64) and set(np.unique(a)) <= {-1, 1}
np.save(out, a)
EOF

rm -rf "$dir/bench"; mkdir -p "$dir/bench"
for g in $geometries; do
  IFS=: read -r b lb le <<<"$g"
  for r in $(seq 1 "$reps"); do
    tag=b${b}_LB${lb}_LE${le}_rep$r
    log "$tag: RSMI-NE (load $(cut -d' ' -f1 /proc/loadavg))"
    "$tf" "$dir/run_peer.py" --loader npy --data-dir "$dir/data" --temps "$temp" --block "$b" \
      --buffer "$lb" --env "$le" --hidden 1 --batch 100 --epochs "$epochs" --chop-stride "$stride" \
      --out "$dir/bench" --tag "$tag" >"$dir/bench/$tag.log" 2>&1
    log "$tag: rgsweep (load $(cut -d' ' -f1 /proc/loadavg))"
    "$rgsweep" rsmi --model ising2d --size 64 --temperature "$temp" --block "$b" --buffer "$lb" \
      --env "$le" --hidden 1 --samples-file "$rgdata" --batch 100 --epochs "$epochs" --patience 100000 \
      --stride "$stride" --critic-layers "$critic_layers" --critic-width "$critic_width" --embedding 8 \
      --json >"$dir/bench/rg_$tag.json"
  done
done

"$tf" - "$dir/bench" "$temp" $geometries <<'EOF'
import glob, json, sys
out, T = sys.argv[1], float(sys.argv[2])
print(f"T = {T}, batch 100; samples/s = (V, E) pairs per second of training")
print("| geometry | rep | RSMI-NE samples/s | rgsweep samples/s | rgsweep / RSMI-NE | RSMI-NE held-out MI (relaxed h; hard h) | rgsweep held-out MI | pairs/config (RSMI-NE, rgsweep) |")
print("|---|---|---|---|---|---|---|---|")
for g in sys.argv[3:]:
    b, lb, le = g.split(":")
    for f in sorted(glob.glob(f"{out}/rg_b{b}_LB{lb}_LE{le}_rep*.json")):
        tag = f.split("/rg_")[1][:-5]
        p = json.load(open(f"{out}/{tag}_T{T:.3f}.json"))
        r = json.load(open(f))
        sp, sr = p["samples_per_s_steady"], r["samples_per_second"]
        print(f"| {b}/{lb}/{le} | {tag.split('rep')[1]} | {sp:,.0f} | {sr:,.0f} | {sr / sp:.2f} | "
              f"{p['mi_heldout_relaxed']:.4f} ± {p['mi_heldout_relaxed_sem']:.4f}; {p['mi_heldout_hard_h']:.4f} | "
              f"{r['mi_nats']:.4f} ± {r['mi_err']:.4f} | {p['n_pairs'] // 4000}, {r['blocks_per_configuration']} |")
EOF
