"""mcising half of bench/mcising.sh: time mcising, compare with rgsweep's bench JSON.

Run inside the venv that bench/mcising.sh makes. It drives mcising's core
engine, ``mcising.IsingSimulation`` (what ``mcising.Simulation.run`` drives,
and what mcising's own benchmarks time), one ``sweep(n)`` call per timing, so
the config, progress-bar and measurement overhead of ``Simulation.run`` is
not counted. Each timing is one FFI call of about ``--seconds``; the best of
``--reps`` is kept. One mcising sweep is L*L attempted flips for Metropolis
and one full rebuild-and-flip of all clusters for Swendsen-Wang (checked from
its returned ``attempted`` counter).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

T_C = 2.269185
GOAL = 16.0
ALGORITHMS = {"metropolis": "metropolis", "swendsen-wang": "swendsen_wang"}  # ours -> mcising


def mcising_ns(algorithm: str, size: int, seconds: float, reps: int) -> float:
    """Best-of-reps ns per spin update of one mcising algorithm at T_c."""
    from mcising import IsingSimulation

    sim = IsingSimulation(size, 1.0, 0.0, 0.0, 0.0, 1, algorithm, "square")
    sites = size * size
    n = 8
    sim.sweep(n, temperature=T_C)  # warm-up: leave the random start, touch the memory
    while True:  # calibrate: double until one call takes >= 0.1 s
        start = time.perf_counter()
        sim.sweep(n, temperature=T_C)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.1:
            break
        n *= 2
    n = max(1, round(n * seconds / elapsed))
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        _, attempted, _ = sim.sweep(n, temperature=T_C)
        best = min(best, time.perf_counter() - start)
        if attempted != n * sites:
            sys.exit(f"mcising {algorithm}: {attempted} updates for {n} sweeps of {sites} spins")
    ns = best / (n * sites) * 1e9
    print(f"mcising_peer: mcising {algorithm:13} L={size:<4} {n:6} sweeps  {ns:7.2f} ns/spin",
          file=sys.stderr)
    return ns


def rgsweep_ns(rows: list[dict], algorithm: str, size: int) -> float | None:
    """ns_per_spin_update of one algorithm in rgsweep's bench output (best if repeated)."""
    ns = [r["ns_per_spin_update"] for r in rows
          if r.get("algorithm") == algorithm and r.get("size") == size
          and r.get("model", "ising2d") == "ising2d"]
    return min(ns) if ns else None


def ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num and den else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rgsweep-json", required=True, help="output of `rgsweep bench --json`")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--extra-size", type=int, action="append", default=[],
                    help="also time mcising (only) at this L")
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import mcising

    with open(args.rgsweep_json) as f:
        rows = json.load(f)
    L = args.size
    mc = {size: {ours: mcising_ns(theirs, size, args.seconds, args.reps)
                 for ours, theirs in ALGORITHMS.items()}
          for size in [L, *args.extra_size]}
    rg = {alg: rgsweep_ns(rows, alg, L) for alg in [*ALGORITHMS, "multispin"]}
    speedup = {alg: ratio(mc[L][alg], rg[alg]) for alg in ALGORITHMS}
    headline = ratio(mc[L]["metropolis"], rg["multispin"])

    if args.json:
        print(json.dumps({
            "model": "ising2d", "temperature": T_C, "size": L,
            "mcising_version": mcising.__version__,
            "mcising_ns_per_spin_update": {str(s): v for s, v in mc.items()},
            "rgsweep_ns_per_spin_update": rg,
            "speedup": speedup,
            "multispin_vs_mcising_metropolis": headline,
            "goal": GOAL,
            "goal_met": headline is not None and headline >= GOAL,
        }))
        return

    def fmt(v: float | None, spec: str, unit: str = "") -> str:
        return "n/a" if v is None else format(v, spec) + unit

    print(f"2D Ising, T = {T_C}, L = {L}: ns per spin update (lower is better)")
    print(f"{'algorithm':15} {'mcising':>9} {'rgsweep':>9} {'speed-up':>9}")
    for alg in ALGORITHMS:
        print(f"{alg:15} {mc[L][alg]:9.2f} {fmt(rg[alg], '9.2f'):>9} "
              f"{fmt(speedup[alg], '.1f', 'x'):>9}")
    verdict = "n/a" if headline is None else ("met" if headline >= GOAL else "NOT met")
    print(f"multispin vs mcising metropolis: {fmt(rg['multispin'], '.3f', ' ns')} -> "
          f"{fmt(headline, '.1f', 'x')} (goal >= {GOAL:g}x: {verdict})")
    for size in args.extra_size:
        print(f"mcising at L = {size}: " + ", ".join(
            f"{alg} {v:.2f} ns" for alg, v in mc[size].items()))


if __name__ == "__main__":
    main()
