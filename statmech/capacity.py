"""Critical load from Monte Carlo at T = 0, with a finite-size extrapolation.

Protocol (montecarlo.md, Section 7): for each size N and load alpha, run the T = 0 dynamics
(flip iff DeltaE_i < 0, random ties) from the condensed pattern xi^1 in ``samples`` independent
disorder samples until a fixed point (no site with DeltaE_i < 0: ChainBatch.run_to_fixed_point) or
``max_sweeps``; a sample succeeds
when its final overlap m >= ``threshold``. The success fraction p(alpha) is fitted with the logistic
p = 1 / (1 + exp((alpha - alpha_c(N)) / w)) (binomial weights), and alpha_c(N) is extrapolated
linearly in 1/N (``scale="1/N"``) or 1/sqrt(N) to N -> infinity; both fits are returned with
their chi2, so the data say which finite-size form holds. A size whose fractions do not cross 1/2
inside the load window has no threshold there: its alpha_c is NaN, it is left out of the
extrapolation, and the result says ``converged = False``. (Measured for P = 2, N = 500..8000:
alpha_c(N) = 0.177, 0.163, 0.154, 0.151, 0.149; the 1/N line fits badly, the 1/sqrt(N) line
extrapolates to 0.139 +- 0.001, next to the RS value 0.1379.)
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

from hopfield.validation import ParameterError, check_integer, check_real

__all__ = ["success_fractions", "fit_threshold", "brackets_half", "extrapolate_threshold", "mc_capacity"]


def _final_overlaps(P, N, alpha, samples, seed, point, max_sweeps, chunk=4):
    from montecarlo import ChainBatch
    from montecarlo.api import storage_patterns
    pats = np.stack([storage_patterns(P, N, alpha, seed=seed, point=point, sample=d) for d in range(samples)])
    batch = ChainBatch(pats, P, [0.0], replicas=1, dynamics="zero", init="pattern", seed=seed, point=point)
    done, _ = batch.run_to_fixed_point(max_sweeps, chunk=chunk)   # exact check: no site with DeltaE_i < 0
    return batch.overlaps()[:, 0], done


def success_fractions(P, N, alphas, *, samples=32, seed=0, threshold=0.9, max_sweeps=100):
    """Fraction of samples whose T = 0 dynamics from xi^1 stays at m >= threshold, per alpha."""
    P = check_integer("P", P, 2)
    N = check_integer("N", N, P)
    samples = check_integer("samples", samples, 1)
    threshold = check_real("threshold", threshold, 0.0, 1.0)
    max_sweeps = check_integer("max_sweeps", max_sweeps, 1)
    alphas = _check_alphas(alphas)
    frac, m_mean = np.empty(len(alphas)), np.empty(len(alphas))
    for k, a in enumerate(alphas):
        m, _ = _final_overlaps(P, N, a, samples, seed, point=1_000_000 * N + k, max_sweeps=max_sweeps)
        frac[k] = np.mean(m >= threshold)
        m_mean[k] = m.mean()
    return frac, m_mean


def _check_alphas(alphas, n=1):
    a = np.asarray(alphas, dtype=float)
    if a.ndim != 1 or a.size < n or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError("alphas", a.tolist(), f"a list of >= {n} finite loads alpha > 0")
    return a


def brackets_half(fractions) -> bool:
    """Do success fractions cross 1/2 inside the window (max >= 1/2 >= min, not all equal)?"""
    f = np.asarray(fractions, float)
    return bool(f.max() >= 0.5 >= f.min() and f.max() > f.min())


def _logistic(a, ac, w):
    return 1.0 / (1.0 + np.exp((a - ac) / w))


def fit_threshold(alphas, fractions, samples):
    """Logistic fit p = 1 / (1 + exp((alpha - alpha_c) / w)) of success fractions (binomial weights).

    Returns (alpha_c, alpha_c_err, width); all three NaN when the fractions do not cross 1/2 inside
    the window (:func:`brackets_half`: the threshold lies outside it) or the fit does not converge.
    """
    alphas = _check_alphas(alphas, 3)
    samples = check_integer("samples", samples, 1)
    fractions = np.asarray(fractions, float)
    if fractions.shape != alphas.shape or not np.all((fractions >= 0) & (fractions <= 1)):
        raise ParameterError("fractions", fractions.tolist(), f"{alphas.size} success fractions in [0, 1]")
    if not brackets_half(fractions):
        return float("nan"), float("nan"), float("nan")
    # binomial error with a floor (1/(n+2) Laplace rule) so that fractions 0 and 1 carry weight
    p = (fractions * samples + 1) / (samples + 2)
    sigma = np.sqrt(p * (1 - p) / samples)
    i = int(np.argmin(np.abs(fractions - 0.5)))
    p0 = (alphas[i], max((alphas[-1] - alphas[0]) / 10, 1e-4))
    try:
        (ac, w), cov = curve_fit(_logistic, alphas, fractions, p0=p0, sigma=sigma, absolute_sigma=True,
                                 maxfev=10000)
    except RuntimeError:                                   # no convergence within maxfev
        return float("nan"), float("nan"), float("nan")
    err = float(np.sqrt(cov[0, 0]))
    if not np.isfinite(err):
        return float("nan"), float("nan"), float("nan")
    return float(ac), err, float(abs(w))


def extrapolate_threshold(Ns, alpha_c, alpha_c_err, scale="1/N", x=None):
    """Weighted linear fit alpha_c(N) = alpha_inf + b x, x = 1/N or 1/sqrt(N) (or the given x(N)).

    Returns (alpha_inf, alpha_inf_err, b, chi2); chi2 / (len(Ns) - 2) near 1 says the form fits.
    """
    Ns = np.asarray(Ns, float)
    if x is None:
        if scale not in ("1/N", "1/sqrt(N)"):
            raise ParameterError("scale", scale, "'1/N' or '1/sqrt(N)'")
        x = 1.0 / Ns if scale == "1/N" else 1.0 / np.sqrt(Ns)
    x = np.asarray(x, float)
    w = 1.0 / np.asarray(alpha_c_err, float) ** 2
    X = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    y = np.asarray(alpha_c, float)
    coef = cov @ (X.T @ (w * y))
    chi2 = float(np.sum(w * (y - X @ coef) ** 2))
    return float(coef[0]), float(np.sqrt(cov[0, 0])), float(coef[1]), chi2


def mc_capacity(P, Ns, alphas, *, samples=32, seed=0, threshold=0.9, max_sweeps=100, scale="1/N"):
    """The whole protocol: success fractions per N, alpha_c(N) with errors, extrapolation.

    ``converged``: every size has its threshold inside the load window (else the extrapolation uses
    the sizes that have one, and needs two of them)."""
    if scale not in ("1/N", "1/sqrt(N)"):
        raise ParameterError("scale", scale, "'1/N' or '1/sqrt(N)'")
    P = check_integer("P", P, 2)
    Ns = np.atleast_1d(np.asarray(Ns))
    if Ns.ndim != 1 or Ns.size == 0:
        raise ParameterError("Ns", Ns.tolist(), "a non-empty list of sizes N >= P")
    Ns = [check_integer("N", N, P) for N in Ns]
    alphas = _check_alphas(alphas, 3)
    samples = check_integer("samples", samples, 1)
    threshold = check_real("threshold", threshold, 0.0, 1.0)
    max_sweeps = check_integer("max_sweeps", max_sweeps, 1)
    rows = []
    for N in Ns:
        frac, m_mean = success_fractions(P, N, alphas, samples=samples, seed=seed, threshold=threshold,
                                         max_sweeps=max_sweeps)
        ac, err, w = fit_threshold(alphas, frac, samples)
        rows.append({"N": int(N), "fractions": frac.tolist(), "m_mean": m_mean.tolist(),
                     "alpha_c": ac, "alpha_c_err": err, "width": w})
    good = [r for r in rows if np.isfinite(r["alpha_c"])]
    out = {"P": P, "alphas": list(map(float, alphas)), "samples": samples, "threshold": threshold, "sizes": rows,
           "converged": len(good) == len(rows)}
    if len(good) >= 2:
        fits = {}
        for sc in ("1/N", "1/sqrt(N)"):
            a_inf, a_err, slope, chi2 = extrapolate_threshold(
                [r["N"] for r in good], [r["alpha_c"] for r in good], [r["alpha_c_err"] for r in good], sc)
            fits[sc] = {"alpha_c_inf": a_inf, "alpha_c_inf_err": a_err, "slope": slope, "chi2": chi2,
                        "dof": len(good) - 2}
        out["extrapolations"] = fits
        out.update(fits[scale], scale=scale)
    return out
