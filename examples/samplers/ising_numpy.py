#!/usr/bin/env python3
"""A registered external sampler for rgsweep: nearest-neighbour Ising model on a periodic
L^d lattice (d = 2 or 3), checkerboard Metropolis in numpy.

rgsweep's protocol (see worker/src/external.rs): one JSON object on stdin with the sampler's
name, its parameters, size, dim, replica, count, seed and output_dir; the program writes
output_dir/configurations.npy (count x L^d values of +-1, int8) and output_dir/energy.npy
(count integers, E = -J * sum over bonds of s_i s_j, so that the weight is exp(-E/T)).

Parameters it reads: T (required), J (default 1; an integer keeps energies integers),
thermalize (sweeps first, default 1000) and interval (sweeps between configurations,
default 1). Everything random comes from numpy's PCG64 seeded with the seed it is given, so the
same request gives the same bytes.

Register it on a worker:  rgsweep worker --sampler ising-numpy=examples/samplers/ising_numpy.py
"""
import json
import os
import sys

import numpy as np

VERSION = "ising_numpy 1"


def neighbours(s):
    return sum(np.roll(s, shift, axis) for axis in range(s.ndim) for shift in (1, -1))


def energy(s, coupling):
    bonds = sum((s * np.roll(s, 1, axis)).sum() for axis in range(s.ndim))
    return -coupling * int(bonds)


def main():
    if sys.argv[1:] == ["--version"]:
        print(VERSION)
        return
    request = json.load(sys.stdin)
    p = request["parameters"]
    temperature = float(p["T"])
    coupling = int(p.get("J", 1))
    thermalize = int(p.get("thermalize", 1000))
    interval = int(p.get("interval", 1))
    size, dim, count = request["size"], request["dim"], request["count"]
    if size % 2:
        # Checkerboard updates need two sublattices: an odd periodic side has none.
        sys.exit(f"ising_numpy: the checkerboard needs an even L, got {size}")
    rng = np.random.default_rng(request["seed"])
    shape = (size,) * dim
    s = rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)
    parity = np.indices(shape).sum(axis=0) % 2
    masks = [parity == 0, parity == 1]

    def sweep():
        for mask in masks:
            cost = 2 * coupling * s * neighbours(s)
            accept = rng.random(shape) < np.exp(-cost / temperature)
            s[mask & accept] *= -1

    for _ in range(thermalize):
        sweep()
    configurations = np.empty((count,) + shape, dtype=np.int8)
    energies = np.empty(count, dtype=np.int64)
    for k in range(count):
        for _ in range(interval):
            sweep()
        configurations[k] = s
        energies[k] = energy(s, coupling)
    out = request["output_dir"]
    np.save(os.path.join(out, "configurations.npy"), configurations)
    np.save(os.path.join(out, "energy.npy"), energies)


if __name__ == "__main__":
    main()
