"""The peer side of bench/rbm_vs_sklearn.sh: trains scikit-learn's BernoulliRBM on the rows
rgsweep wrote (train.npy), with rgsweep's layer size, batch, learning rate and epochs, and scores
both machines by the same exact pseudo-log-likelihood (every unit flipped in turn, nats per
unit) on the same held-out rows (the first SCORE_ROWS of them). Prints one JSON object.

The rows are in Monte Carlo chain order and BernoulliRBM does not shuffle: with ORDER=shuffled
it gets them in one random permutation (seeded), as rgsweep sees them (it reshuffles every
epoch); ORDER=chain keeps the file's order."""

import json
import sys
import time

import numpy as np
from sklearn.neural_network import BernoulliRBM


def softplus(x):
    return np.logaddexp(0.0, x)


def pseudo_likelihood(v, w, b, c):
    """Mean over rows and units of ln P(v_i | v_-i) for the RBM F(v) = -c.v - sum softplus(b + W v)."""
    v = v.astype(np.float64)
    w = w.astype(np.float64)
    x = v @ w.T + b
    base = softplus(x).sum(axis=1)
    total = 0.0
    for i in range(v.shape[1]):
        sign = 1.0 - 2.0 * v[:, i]
        flipped = softplus(x + sign[:, None] * w[:, i][None, :]).sum(axis=1)
        delta = -c[i] * sign - (flipped - base)
        total += -softplus(-delta).sum()
    return total / v.size


def main():
    out, hidden, epochs, batch, lr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    seed, score_rows, order = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
    train = np.load(f"{out}/train.npy").astype(np.float64)
    if order == "shuffled":
        train = train[np.random.default_rng(seed).permutation(train.shape[0])]
    elif order != "chain":
        sys.exit(f"rbm_sklearn_peer.py: ORDER is shuffled or chain, not {order!r}")
    heldout = np.load(f"{out}/heldout.npy")[:score_rows]
    rbm = BernoulliRBM(n_components=hidden, learning_rate=lr, batch_size=batch, n_iter=epochs, random_state=seed)
    t0 = time.perf_counter()
    rbm.fit(train)
    seconds = time.perf_counter() - t0
    # sklearn's batches cover every row (the last one short); rgsweep's are full batches only.
    theirs = pseudo_likelihood(heldout, rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_)
    ours = pseudo_likelihood(heldout, np.load(f"{out}/layer0_w.npy"), np.load(f"{out}/layer0_b.npy").astype(np.float64),
                             np.load(f"{out}/layer0_c.npy").astype(np.float64))
    print(json.dumps({
        "sklearn_samples_per_second": epochs * train.shape[0] / seconds,
        "sklearn_seconds": seconds,
        "sklearn_pseudo_likelihood": theirs,
        "rgsweep_pseudo_likelihood_numpy": ours,
    }))


if __name__ == "__main__":
    main()
