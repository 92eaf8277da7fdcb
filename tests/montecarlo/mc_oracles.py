"""Exact and theoretical oracles for the Monte Carlo tests (independent of the kernels)."""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import gammaln


def all_states(N):
    return np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int64)


def _eP(S, n, P):
    """e_P per pattern from p_odd = S, p_even = n (float; small N only)."""
    e = [np.ones_like(S, dtype=float)]
    for k in range(1, P + 1):
        acc = np.zeros_like(S, dtype=float)
        for j in range(1, k + 1):
            pj = S if j % 2 else n
            acc += (-1) ** (j - 1) * e[k - j] * pj
        e.append(acc / k)
    return e[P]


def enumerate_averages(patterns, P, T):
    """Exact Boltzmann averages over all 2^N states: <E/N>, <|m_1|>, <m_1^2>, <m_1>."""
    xi = np.asarray(patterns, dtype=np.int64)
    N, K = xi.shape
    states = all_states(N)
    S = states @ xi  # (2^N, K)
    n = np.count_nonzero(xi, axis=0).astype(float)
    E = -math.factorial(P) / (2.0 * N ** (P - 1)) * _eP(S.astype(float), n[None, :], P).sum(axis=1)
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    m1 = S[:, 0] / N
    return {"E": float(w @ E) / N, "abs_m": float(w @ np.abs(m1)), "m2": float(w @ m1 ** 2), "m": float(w @ m1)}


def curie_weiss_exact(N, P, T):
    """K = 1, +-1 pattern: exact <E/N>, <|m|>, <m^2> from the O(N) sum over S = N - 2k."""
    k = np.arange(N + 1)
    S = (N - 2 * k).astype(float)
    E = -math.factorial(P) / (2.0 * N ** (P - 1)) * _eP(S, float(N) * np.ones_like(S), P)
    logw = gammaln(N + 1) - gammaln(k + 1) - gammaln(N - k + 1) - E / T
    w = np.exp(logw - logw.max())
    w /= w.sum()
    m = S / N
    return {"E": float(w @ E) / N, "abs_m": float(w @ np.abs(m)), "m2": float(w @ m ** 2)}


def _gh(n=121):
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / w.sum()


def rs_pairwise(alpha, T, m0=1.0, q0=1.0, iters=20000, tol=1e-13):
    """AGS replica-symmetric retrieval solution (m, q, r) by damped iteration from the pattern."""
    z, w = _gh()
    beta = 1.0 / T
    m, q = m0, q0
    for _ in range(iters):
        r = q / (1.0 - beta * (1.0 - q)) ** 2
        t = np.tanh(beta * (m + np.sqrt(alpha * r) * z))
        m_new, q_new = float(w @ t), float(w @ t ** 2)
        if abs(m_new - m) + abs(q_new - q) < tol:
            m, q = m_new, q_new
            break
        m, q = 0.5 * (m + m_new), 0.5 * (q + q_new)
    return m, q


def rs_dense(P, alpha, T, m0=1.0, q0=1.0, iters=20000, tol=1e-13):
    """Dense RS retrieval (storage.md): g = beta (P/2) m^(P-1) + beta z sqrt(alpha P! P q^(P-1) / 4)."""
    z, w = _gh()
    beta = 1.0 / T
    m, q = m0, q0
    c = alpha * math.factorial(P) * P / 4.0
    for _ in range(iters):
        g = beta * (P / 2.0) * m ** (P - 1) + beta * z * np.sqrt(c * q ** (P - 1))
        t = np.tanh(g)
        m_new, q_new = float(w @ t), float(w @ t ** 2)
        if abs(m_new - m) + abs(q_new - q) < tol:
            m, q = m_new, q_new
            break
        m, q = 0.5 * (m + m_new), 0.5 * (q + q_new)
    return m, q


def rs_m_pairwise(alpha, T):
    """RS m of the retrieval branch from the package's solver (checked against :func:`rs_pairwise`,
    the independent damped iteration above, in test_mc_retrieval.py)."""
    from statmech.storage import solve_grid
    res = solve_grid(2, np.array([alpha]), np.array([T]))
    return float(res["m_retrieval"][0, 0]), "statmech.storage.solve_grid"


def chain_mean(arr):
    """Mean over independent chains of the time averages of ``arr`` (chains, sweeps), with its error from each
    chain's blocking error (montecarlo.measure.summarize_series): (mean, err)."""
    from montecarlo.measure import summarize_series
    summ = [summarize_series(a) for a in arr]
    return float(np.mean([s["mean"] for s in summ])), float(np.sqrt(np.sum([s["err"] ** 2 for s in summ]))) / len(summ)


def z_score(mc_mean, mc_err, exact):
    return (mc_mean - exact) / mc_err


def run_with_threads(script: str, threads: int) -> dict:
    """Run ``script`` in a fresh interpreter with NUMBA_NUM_THREADS = threads; its last stdout line is JSON."""
    import json
    import os
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
