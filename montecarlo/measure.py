"""Time-series analysis: blocking error bars, integrated autocorrelation time, burn-in detection.

- :func:`blocking_error`: Flyvbjerg-Petersen blocking; the block length doubles until the error of
  the mean reaches a plateau (the first level whose estimate is not exceeded by any later level by
  more than two of that level's standard errors).
- :func:`tau_int`: tau_int = 1/2 + sum_{t>=1} rho(t) with Sokal's self-consistent window
  (smallest W with W >= c tau_int(W), c = 6).
- :func:`detect_burn_in`: MSER (marginal standard error rule) on batch means of 5 sweeps, limited
  to the first half of the series.
- :func:`summarize_series`: the error bar reported for a series is the larger of the blocking error and
  sqrt(2 tau_int s^2 / n); a series shorter than ``MIN_TAUS`` tau_int is flagged ``too_short``.
"""
from __future__ import annotations

import numpy as np

from hopfield.validation import ParameterError, check_integer, check_real

__all__ = ["blocking_error", "tau_int", "detect_burn_in", "summarize_series", "combine_chains",
           "mattis_overlaps", "replica_overlap", "too_short", "MIN_TAUS"]

MIN_TAUS = 100
"""Shortest series, in integrated autocorrelation times, whose error bar is trusted. On AR(1) series
of known tau (tests/montecarlo/test_mc_measure.py) the error of :func:`summarize_series` has a median
of 0.81-0.93 of the true error at 40-80 tau (tau_int itself 0.70-0.87 of the true tau), 0.91-0.95 at
160 tau and 0.97-0.98 at 400 tau."""


def mattis_overlaps(spins, patterns) -> np.ndarray:
    """m_mu = xi^mu . sigma / N for one state (N,) or many (C, N); patterns (N, K). Returns (K,) or (C, K)."""
    s = np.asarray(spins)
    xi = np.asarray(patterns)
    if xi.ndim != 2 or s.shape[-1] != xi.shape[0]:
        n = xi.shape[0] if xi.ndim == 2 else "N"
        raise ParameterError("spins.shape", s.shape, f"(..., {n}) matching patterns (N, K)")
    return (s.astype(np.int64) @ xi.astype(np.int64)) / xi.shape[0]


def replica_overlap(spins_a, spins_b) -> np.ndarray:
    """q_ab = sigma^a . sigma^b / N (last axis), for replicas sharing the patterns."""
    a = np.asarray(spins_a)
    b = np.asarray(spins_b)
    if a.shape != b.shape or a.ndim < 1:
        raise ParameterError("spins_b.shape", b.shape, f"the shape of spins_a, {a.shape}")
    return (a.astype(np.int64) * b.astype(np.int64)).sum(axis=-1) / a.shape[-1]


def _series(x, name="x"):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ParameterError(name + ".ndim", a.ndim, "1 (a time series)")
    if not np.all(np.isfinite(a)):
        raise ParameterError(name, "non-finite entries", "finite values")
    return a


def blocking_error(x, min_blocks=16):
    """Error of the mean of a correlated series by blocking.

    Returns ``(mean, err, plateau)``. The plateau is the first level whose error is exceeded by no
    later level by more than two standard errors of that later level, sd = err / sqrt(2 (n_blocks - 1));
    ``plateau`` is False when none was reached before fewer than ``min_blocks`` blocks remained (the
    error is then the largest estimate seen, a lower bound in spirit: the run is too short). The
    plateau sets in at blocks a few tau long, where the block means are still correlated: on AR(1)
    series the error is 0.84-0.90 of the true one at n = 160-400 tau; :func:`summarize_series` takes
    the larger of this and the tau_int error.
    """
    a = _series(x)
    min_blocks = check_integer("min_blocks", min_blocks, low=2)
    n = a.size
    if n == 0:
        return float("nan"), float("nan"), False
    mean = float(a.mean())
    if n < 2:
        return mean, float("nan"), False
    errs, sds = [], []
    b = a.copy()
    while b.size >= min_blocks or not errs:
        nb = b.size
        if nb < 2:
            break
        e = float(b.std(ddof=1) / np.sqrt(nb))
        errs.append(e)
        sds.append(e / np.sqrt(2.0 * (nb - 1)))
        m = nb // 2
        b = 0.5 * (b[0:2 * m:2] + b[1:2 * m:2])
    errs = np.array(errs)
    sds = np.array(sds)
    for lvl in range(len(errs) - 1):
        later = errs[lvl + 1:]
        if np.all(later <= errs[lvl] + 2.0 * sds[lvl + 1:]) and lvl + 1 < len(errs):
            return mean, float(max(errs[lvl], errs[lvl + 1])), True
    return mean, float(errs.max()), False


def tau_int(x, c=6.0):
    """Integrated autocorrelation time (in units of the sampling interval) and window: ``(tau, W)``.

    A constant series returns tau = 0.5.
    """
    a = _series(x)
    c = check_real("c", c, low=1.0)
    n = a.size
    if n < 4:
        return 0.5, 0
    d = a - a.mean()
    var = float(np.dot(d, d) / n)
    if var <= 0.0:
        return 0.5, 0
    m = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(d, m)
    acf = np.fft.irfft(f * np.conj(f), m)[:n] / (n * var)
    tau = 0.5
    for W in range(1, n):
        tau += acf[W]
        if W >= c * tau:
            return float(max(tau, 0.5)), W
    return float(max(tau, 0.5)), n - 1


def detect_burn_in(x, batch=5, tolerance=0.05):
    """Burn-in length (in samples) by MSER on batch means, searched over the first half of x.

    MSER(d) = var(y[d:]) / (n_b - d) on batch means y; the result is the smallest d whose MSER is
    within ``tolerance`` (relative) of the minimum, which avoids discarding data for noise alone.
    """
    a = _series(x)
    batch = check_integer("batch", batch, low=1)
    nb = a.size // batch
    if nb < 4:
        return 0
    y = a[: nb * batch].reshape(nb, batch).mean(axis=1)
    # MSER(d) = var(y[d:]) / (nb - d), d in [0, nb/2]
    vals = np.array([y[d:].var() / (nb - d) for d in range(0, nb // 2 + 1)])
    best = vals.min()
    d = int(np.argmax(vals <= best * (1.0 + tolerance) + 1e-300))
    return int(d * batch)


def too_short(n, tau) -> bool:
    """True when a series of ``n`` samples is shorter than ``MIN_TAUS`` integrated autocorrelation times."""
    return bool(n < MIN_TAUS * tau)


def summarize_series(x):
    """Mean, error of the mean, tau_int and sample count of one post-burn-in series.

    err = max(err_blocking, err_tau), err_tau = sqrt(2 tau_int s^2 / n) with s^2 the sample variance
    (ddof = 1): Var(mean) = 2 tau_int Var(x) / n for n >> tau. Also returned: both estimates,
    ``plateau`` (blocking) and ``too_short`` (n < MIN_TAUS tau_int, where both are biased low)."""
    a = _series(x)
    mean, err_b, plateau = blocking_error(a)
    tau, W = tau_int(a)
    n = int(a.size)
    err_t = float(np.sqrt(2.0 * tau * a.var(ddof=1) / n)) if n >= 2 else float("nan")
    err = max(err_b, err_t) if n >= 2 else err_b
    return {"mean": mean, "err": float(err), "err_blocking": err_b, "err_tau": err_t, "plateau": plateau,
            "tau": tau, "n": n, "too_short": too_short(n, tau)}


def combine_chains(summaries, groups=None):
    """Combine per-chain summaries into (mean, err, err_thermal, err_disorder).

    ``groups``: a disorder-sample label per summary (replicas of one sample share a label). Thermal
    error: chains are independent, so err_thermal = sqrt(sum err_c^2) / n_chains. Disorder error: the
    spread of the per-sample means over samples (standard error; NaN with one sample). The
    returned ``err`` is the disorder error when there are >= 2 samples (it contains the thermal noise),
    else the thermal error.
    """
    means = np.array([s["mean"] for s in summaries])
    errs = np.array([s["err"] for s in summaries])
    mean = float(means.mean())
    err_th = float(np.sqrt(np.nansum(errs ** 2)) / len(errs))
    if groups is None:
        groups = np.arange(len(summaries))
    groups = np.asarray(groups)
    labels = np.unique(groups)
    if labels.size >= 2:
        per = np.array([means[groups == g].mean() for g in labels])
        err_dis = float(per.std(ddof=1) / np.sqrt(labels.size))
        err = err_dis
    else:
        err_dis = float("nan")
        err = err_th
    return mean, float(err), err_th, err_dis
