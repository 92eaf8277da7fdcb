"""Fixed points of the continuous modern Hopfield (softmax / attention) iteration (modern.md 1.4).

Iteration x <- X softmax(lambda X^T x) (Ramsauer et al., Eq. 3; lambda = their beta: the patterns here have
unit norm, M = 1) started at a stored pattern x_1, run to ||x^{t+1} - x^t|| < eps. The fixed point x* is
classified by k, the number of softmax entries p = softmax(lambda X^T x*) needed to hold ``MASS`` = 0.9
of the mass (Ramsauer's attention-head count, modern.md 1.4):

    single pattern   k = 1
    metastable       2 <= k <= K/2   (x* near the mean of the k averaged patterns: k is the subset size)
    global average   k > K/2         (Ramsauer's class I)

Pattern ensemble ("clusters"): K unit vectors in G clusters of n = K/G, exact geometry
x_mu = sqrt(1 - s) e_{g(mu)} + sqrt(s) e_{G + mu}: overlaps 1 - s inside a cluster and 0 across, so the
separation of every pattern is Delta = 1 - max_{nu != mu} x_mu . x_nu = s exactly (Ramsauer Eq. 5).
Ramsauer's conditions, as functions: the contraction condition lambda m_max^2 < 1 (Lemma A3, unique
global fixed point) with m_max^2 = 1 - (1 + (n - 1)(1 - s))/K, and the well-separation bound
Delta >= 2/(lambda K) + ln(2 (K - 1) K lambda M^2)/lambda (Lemmas A5-A7, a fixed point within
1/(lambda K M) of each pattern). By symmetry the iteration from x_1 keeps the weights in three values
(x_1, its n - 1 cluster mates, the K - n others): :func:`reduced_fixed_point` iterates that 3-variable
map, an independent check of the vector iteration.
"""
from __future__ import annotations

import math

import numpy as np

from hopfield.modern import ContinuousModernHopfield, softmax
from hopfield.validation import (
    ParameterError,
    check_array_real,
    check_integer,
    check_real,
)

__all__ = [
    "MASS",
    "OBSERVABLE_INFO",
    "PHASES",
    "classify",
    "classify_grid",
    "cluster_patterns",
    "contraction_lambda",
    "m_max_squared",
    "mass_count",
    "reduced_fixed_point",
    "well_separated_bound",
]

PHASES = {0: "global", 1: "metastable", 2: "single"}
MASS = 0.9

OBSERVABLE_INFO = {
    "phase": "fixed point reached from x_1: 0 global average (k > K/2), 1 metastable (2 <= k <= K/2), 2 single (k = 1)",
    "k": "number of patterns holding 0.9 of the softmax mass at the fixed point (size of the averaged subset)",
    "p_max": "largest softmax weight at the fixed point",
    "p_start": "softmax weight of the starting pattern x_1 at the fixed point",
    "distance": "||x* - x_1||",
    "steps": "iterations until ||x^(t+1) - x^t|| < eps",
    "residual": "last ||x^(t+1) - x^t||",
    "converged": "1 if the iteration met eps within max_steps",
    "contraction": "1 where lambda m_max^2 < 1 (Ramsauer Lemma A3: unique, global fixed point)",
    "well_separated": "1 where Delta = s >= 2/(lambda K) + ln(2 (K-1) K lambda)/lambda (Ramsauer Lemmas A5-A7)",
}


def _check(K, clusters, separation):
    K = check_integer("K", K, low=2)
    clusters = check_integer("clusters", clusters, low=1, high=K)
    if K % clusters or K // clusters < 2:
        raise ParameterError("clusters", clusters, f"a divisor of K = {K} with K / clusters >= 2")
    s = check_real("separation", separation, low=0.0, high=1.0, low_open=True)
    return K, clusters, s


def cluster_patterns(K, clusters, separation) -> np.ndarray:
    """Unit patterns (N, K), N = K + clusters, in ``clusters`` groups with separation Delta = s exactly."""
    K, G, s = _check(K, clusters, separation)
    n = K // G
    X = np.zeros((K + G, K))
    for mu in range(K):
        X[mu // n, mu] = math.sqrt(1.0 - s)
        X[G + mu, mu] = math.sqrt(s)
    return X


def m_max_squared(K, clusters, separation) -> float:
    """m_max^2 = max_i ||x_i - mean||^2 = 1 - (1 + (n - 1)(1 - s))/K for the cluster ensemble."""
    K, G, s = _check(K, clusters, separation)
    return 1.0 - (1.0 + (K // G - 1) * (1.0 - s)) / K


def contraction_lambda(K, clusters, separation) -> float:
    """lambda below which lambda m_max^2 < 1 (Ramsauer Lemma A3)."""
    return 1.0 / m_max_squared(K, clusters, separation)


def well_separated_bound(K, lam, M=1.0) -> float:
    """Ramsauer's separation needed for a fixed point near each pattern: 2/(lambda K) + ln(2 (K-1) K lambda M^2)/lambda."""
    K = check_integer("K", K, low=2)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    M = check_real("M", M, low=0.0, low_open=True)
    return 2.0 / (lam * K) + math.log(2.0 * (K - 1) * K * lam * M * M) / lam


def mass_count(p, mass=MASS) -> int:
    """Smallest number of entries of p (weights >= 0, not all 0) whose sum reaches ``mass`` of the total."""
    mass = check_real("mass", mass, low=0.0, high=1.0, low_open=True)
    q = np.sort(np.asarray(p, dtype=float).ravel())[::-1]
    if q.size == 0 or not np.all(np.isfinite(q)) or q[-1] < 0 or q[0] <= 0:
        raise ParameterError("p", p, "a non-empty array of finite weights >= 0, not all 0")
    return int(min(np.searchsorted(np.cumsum(q), mass * q.sum() * (1 - 1e-12)) + 1, q.size))


def _phase(k, K):
    return 2 if k == 1 else (0 if k > K / 2 else 1)


def classify(X, lam, start=0, eps=1e-10, max_steps=20000) -> dict:
    """Iterate from pattern ``start`` to a fixed point and classify it (module docstring)."""
    net = ContinuousModernHopfield(X, lam)
    start = check_integer("start", start, low=0, high=net.K - 1)
    x0 = net.X[:, start]
    x, steps, res, ok = net.retrieve(x0, eps=eps, max_steps=max_steps)
    p = softmax(net.lam * (net.X.T @ x))
    k = mass_count(p)
    return {"phase": _phase(k, net.K), "k": k, "p_max": float(p.max()), "p_start": float(p[start]),
            "distance": float(np.linalg.norm(x - x0)), "steps": steps, "residual": res, "converged": int(ok), "x": x}


def classify_grid(K, clusters, lams, separations, eps=1e-10, max_steps=20000) -> dict:
    """Every observable of :data:`OBSERVABLE_INFO` on the grid (lambda, separation); every input is
    validated before the first grid point."""
    lams = np.atleast_1d(check_array_real("lambda", lams, low=0.0, low_open=True))
    seps = np.atleast_1d(check_array_real("separation", separations, low=0.0, high=1.0, low_open=True))
    for s in seps:
        _check(K, clusters, s)
    check_real("eps", eps, low=0.0, low_open=True)
    check_integer("max_steps", max_steps, low=1)
    out = {k: np.empty((lams.size, seps.size)) for k in OBSERVABLE_INFO}
    for j, s in enumerate(seps):
        X = cluster_patterns(K, clusters, s)
        lc = contraction_lambda(K, clusters, s)
        for i, lam in enumerate(lams):
            r = classify(X, lam, eps=eps, max_steps=max_steps)
            for key in OBSERVABLE_INFO:
                if key in r:
                    out[key][i, j] = r[key]
            out["contraction"][i, j] = float(lam < lc)
            out["well_separated"][i, j] = float(s >= well_separated_bound(K, lam))
    return out


def reduced_fixed_point(K, clusters, separation, lam, eps=1e-13, max_steps=200000) -> dict:
    """The iteration from x_1 reduced by symmetry to the weights (a, b, c) on x_1, on each of its n - 1
    cluster mates and on each of the K - n others; logits lambda x_nu . x with x = X p from the Gram
    matrix, run until max(|a' - a|, |b' - b|, |c' - c|) < eps. Returns a, b, c, k (0.9-mass count), the
    phase, the steps taken and ``converged`` (False: max_steps reached first; a, b, c are the last iterate)."""
    K, G, s = _check(K, clusters, separation)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    eps = check_real("eps", eps, low=0.0, low_open=True)
    max_steps = check_integer("max_steps", max_steps, low=1)
    n = K // G
    a, b, c = 1.0, 0.0, 0.0            # x = x_1
    done = False
    steps = 0
    while steps < max_steps and not done:
        z1 = lam * (a + (1 - s) * (n - 1) * b)
        z2 = lam * ((1 - s) * a + b * (1 + (1 - s) * (n - 2)))
        z3 = lam * c * (1 + (1 - s) * (n - 1))
        zm = max(z1, z2, z3)
        e1, e2, e3 = math.exp(z1 - zm), math.exp(z2 - zm), math.exp(z3 - zm)
        tot = e1 + (n - 1) * e2 + (K - n) * e3
        na, nb, nc = e1 / tot, e2 / tot, e3 / tot
        done = max(abs(na - a), abs(nb - b), abs(nc - c)) < eps
        a, b, c = na, nb, nc
        steps += 1
    p = np.concatenate([[a], np.full(n - 1, b), np.full(K - n, c)])
    k = mass_count(p)
    return {"a": a, "b": b, "c": c, "k": k, "phase": _phase(k, K), "steps": steps, "converged": done}
