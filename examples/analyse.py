#!/usr/bin/env python3
"""Load an rgsweep output directory with numpy, pandas and matplotlib.

    python examples/analyse.py results/quickstart [--plot out.png]

Prints the finite-size-scaling summary, checks each Binder-cumulant curve, summarises any saved
configurations (save_samples = N: samples-L*-T*.npy) and RG flows (flows.csv), and with --plot
draws the Binder cumulants and |m| of the saved samples. Exits non-zero if a file is missing or
inconsistent, so it doubles as a check that the outputs load.
"""

import argparse
import json
import pathlib
import re
import sys

import numpy as np
import pandas as pd


def load(directory: pathlib.Path):
    observables = pd.read_csv(directory / "observables.csv")
    summary = json.loads((directory / "summary.json").read_text())
    samples = {}
    for path in sorted(directory.glob("samples-L*-T*.npy")):
        m = re.fullmatch(r"samples-L(\d+)-T([0-9.eE+-]+)\.npy", path.name)
        if m:
            samples[(int(m.group(1)), float(m.group(2)))] = np.load(path)
    flows = None
    if (directory / "flows.csv").exists():
        flows = pd.read_csv(directory / "flows.csv")
    return observables, summary, samples, flows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--plot", type=pathlib.Path, help="write a figure (PNG) here")
    args = parser.parse_args()
    observables, summary, samples, flows = load(args.directory)

    sweep = summary["sweep"]
    print(f"sweep {sweep['name']}: {sweep['model']}, L = {sweep['sizes']}, "
          f"{len(sweep['temperatures'])} temperatures, {len(observables)} points")
    fss = summary["fss"]
    for key in ("tc", "nu", "gamma_over_nu", "beta_over_nu"):
        est = fss.get(key)
        if isinstance(est, dict) and est.get("value") is not None:
            print(f"  {key:>14} = {est['value']:.5f} ± {est['error']:.5f}")

    # Every (size, temperature) of the sweep has one row, with finite observables.
    expected = len(sweep["sizes"]) * len(sweep["temperatures"])
    if len(observables) != expected:
        print(f"observables.csv has {len(observables)} rows, expected {expected}", file=sys.stderr)
        return 1
    for column in ("energy", "abs_m", "binder", "susceptibility"):
        if not np.isfinite(observables[column]).all():
            print(f"observables.csv: non-finite {column}", file=sys.stderr)
            return 1
    # The Binder cumulant lies in [0, 2/3] up to errors, for every size.
    for size, rows in observables.groupby("size"):
        u = rows.sort_values("temperature")["binder"].to_numpy()
        err = rows.sort_values("temperature")["binder_err"].to_numpy()
        if ((u < -5 * err) | (u > 2 / 3 + 5 * err)).any():
            print(f"L = {size}: Binder cumulant outside [0, 2/3]", file=sys.stderr)
            return 1

    if samples:
        n = sum(a.shape[0] for a in samples.values())
        print(f"  {len(samples)} sample files, {n} configurations")
        for (size, t), a in samples.items():
            if a.shape[1:] != (size,) * (a.ndim - 1):
                print(f"samples L={size} T={t}: shape {a.shape}", file=sys.stderr)
                return 1
        # |m| of the saved configurations against observables.csv, for the largest size.
        largest = max(size for size, _ in samples)
        for (size, t), a in sorted(samples.items()):
            if size != largest or sweep["model"] == "potts2d":
                continue
            m = np.abs(a.reshape(a.shape[0], -1).mean(axis=1)).mean()
            row = observables[(observables["size"] == size) & np.isclose(observables["temperature"], t)]
            print(f"  L = {size}, T = {t}: |m| of samples {m:.3f}, of the run {row['abs_m'].iloc[0]:.3f}")

    if flows is not None:
        nn = flows[flows["operator"] == "nn"]
        print(f"  flows: {nn['map'].nunique()} maps, levels 0–{nn['level'].max()}")
        for name, est in summary.get("rg", {}).items():
            tc = est["tc"]
            if tc.get("value") is not None:
                print(f"  {name:>10}: T_c = {tc['value']:.4f} ± {tc['error']:.4f}")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for size, rows in observables.groupby("size"):
            rows = rows.sort_values("temperature")
            axes[0].errorbar(rows["temperature"], rows["binder"], rows["binder_err"], label=f"L = {size}")
            axes[1].errorbar(rows["temperature"], rows["abs_m"], rows["abs_m_err"], label=f"L = {size}")
        axes[0].set(xlabel="T", ylabel="Binder cumulant $U_4$")
        axes[1].set(xlabel="T", ylabel=r"$\langle|m|\rangle$")
        for ax in axes:
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        print(f"  figure: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
