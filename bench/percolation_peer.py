"""The peer side of bench/percolation.sh: one Newman-Ziff bond-percolation run on an L x L
periodic square lattice by the PyPI package cpyrcolate (C union-find on a NumPy edge list),
with and without its spanning-cluster detection; prints one JSON line per size.

usage: percolation_peer.py L [L ...] --runs R
"""
import json
import sys
import time

import numpy as np
import cpyrcolate


def torus(size):
    idx = np.arange(size * size, dtype=np.int64).reshape(size, size)
    right = np.stack([idx.ravel(), np.roll(idx, -1, axis=1).ravel()], axis=1)
    down = np.stack([idx.ravel(), np.roll(idx, -1, axis=0).ravel()], axis=1)
    edges = np.concatenate([right, down]).astype(np.int64)
    ys, xs = np.divmod(np.arange(size * size), size)
    coords = np.stack([xs / size, ys / size], axis=1).astype(np.float64)
    return edges, coords


def main():
    args = sys.argv[1:]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 5
    sizes = [int(a) for a in args if a.isdigit() and (args.index(a) == 0 or args[args.index(a) - 1] != "--runs")]
    for size in sizes:
        edges, coords = torus(size)
        out = {"size": size, "bonds": len(edges), "runs": runs}
        for spanning in (False, True):
            best = float("inf")
            for _ in range(runs):
                kw = {"spanning_cluster": True, "coords": coords, "axis": 0} if spanning else {}
                t = time.perf_counter()
                cpyrcolate.compute_percolation_single(edges, **kw)
                best = min(best, time.perf_counter() - t)
            out["spanning_ns_per_bond" if spanning else "ns_per_bond"] = best * 1e9 / len(edges)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
