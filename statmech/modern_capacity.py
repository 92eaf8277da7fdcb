"""Typical-pattern threshold alpha_1 of the binary LSE DAM from Monte Carlo, with a finite-size extrapolation.

Protocol (modern.md 3.2 and 8.1, montecarlo.md 7; the same fits as :mod:`statmech.capacity`): for each
size N and load alpha, ``samples`` independent disorder samples of K = e^{alpha N} uniform +-1
patterns. Criterion ``"stable"`` (the spec's choice): xi^1 is a single-flip fixed point of the T = 0
dynamics, DeltaE_i >= 0 at every site (equivalently min_i sigma_i h_i >= tanh lambda), decided exactly from
integer Hamming counts computed in O(N K) time without storing the patterns
(:func:`montecarlo.modern.hamming_site_counts`, :func:`montecarlo.modern.target_is_fixed_point`); criterion ``"retrieval"``: the T = 0 dynamics started
at xi^1 (optionally corrupted) ends at m >= 0.9 (:func:`montecarlo.modern.lse_retrieval`, patterns
stored). The success fraction p(alpha) is fitted with the logistic 1 / (1 + exp((alpha - alpha_1(N)) / w))
(binomial weights) and alpha_1(N) is extrapolated in the REM finite-size form (default, ``scale="rem"``)

    alpha_1(N) = alpha_1 + b e^{-kappa N} / N,   kappa = alpha_1 - (ln cosh 2 lambda - 2 ln cosh lambda),

and, for comparison, linearly in 1/N and 1/sqrt(N); every fit comes with its chi2. Theory:
alpha_1 = lambda - ln cosh lambda (0.5662 at lambda = 1). Derivation of the form: the criterion
compares the target weight e^{lambda N} with the noise Z = sum_{mu >= 2} e^{lambda N m_mu}, whose mean is
exactly (K - 1) cosh^N lambda (so alpha_1 = lambda - ln cosh lambda without any 1/N term) and whose
relative variance is Var Z / (E Z)^2 = (cosh 2 lambda / cosh^2 lambda)^N / K = e^{-kappa N} (kappa > 0 at
alpha_1: the noise is self-averaging there, not condensed). The median of ln Z lies below ln E Z by
about half that variance, so the success median crosses at alpha_1 + O(e^{-kappa N} / N).
(kappa = 0.1088 at lambda = 1: the approach is much slower than e^{-N} and faster than 1/N, which is
why a straight line in 1/N undershoots.)
"""
from __future__ import annotations

import math

import numpy as np

from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from .capacity import _check_alphas, brackets_half, extrapolate_threshold, fit_threshold
from .modern import binary_alpha_1

__all__ = ["mc_alpha_1", "success_fractions", "rem_gap"]

CRITERIA = ("softmax", "stable", "retrieval")


def _check_point(N, alphas, lam, samples, criterion, max_bytes):
    """Validate one size and its loads (the pattern memory included) before any work."""
    from montecarlo.modern import exponential_load_K
    criterion = check_choice("criterion", criterion, CRITERIA)
    N = check_integer("N", N, low=2, high=None if criterion == "retrieval" else 62)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    samples = check_integer("samples", samples, low=1)
    alphas = _check_alphas(alphas, 3)
    for a in alphas:
        exponential_load_K(N, a, max_bytes=max_bytes)
    return N, alphas, lam, samples, criterion


def success_fractions(N, alphas, lam=1.0, *, samples=100, seed=0, criterion="softmax", corruption=0.0,
                      threshold=0.9, max_sweeps=20, max_bytes=2 ** 30) -> np.ndarray:
    """Fraction of disorder samples that succeed at each load (independent samples per load)."""
    from montecarlo.modern import (
        exponential_load_K,
        hamming_site_counts,
        lse_retrieval,
        noise_to_target,
        target_is_fixed_point,
    )
    N, alphas, lam, samples, criterion = _check_point(N, alphas, lam, samples, criterion, max_bytes)
    out = np.empty(len(alphas))
    for k, a in enumerate(alphas):
        point = 1_000_000 * N + k
        if criterion in ("softmax", "stable"):
            K = exponential_load_K(N, a, max_bytes=max_bytes)
            counts = (hamming_site_counts(N, K, seed=seed, point=point, sample=d) for d in range(samples))
            if criterion == "softmax":
                ok = [noise_to_target(c, lam) < 1.0 for c in counts]
            else:
                ok = [target_is_fixed_point(c, lam) for c in counts]
            out[k] = np.mean(ok)
        else:
            out[k] = lse_retrieval(N, a, lam, samples=samples, corruption=corruption, threshold=threshold,
                                   max_sweeps=max_sweeps, seed=seed, point=point, max_bytes=max_bytes)["success"]
    return out


def rem_gap(lam) -> float:
    """kappa = alpha_1 - (ln cosh 2 lambda - 2 ln cosh lambda): decay rate of the relative variance of the
    noise weight at the threshold (binary patterns), the finite-size scale of :func:`mc_alpha_1`."""
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    return binary_alpha_1(lam) - (math.log(math.cosh(2 * lam)) - 2 * math.log(math.cosh(lam)))


def mc_alpha_1(Ns, alphas, lam=1.0, *, samples=100, seed=0, criterion="softmax", scale="rem", **kwargs) -> dict:
    """The whole protocol: success fractions per N, logistic alpha_1(N) with errors, extrapolation.

    ``alphas``: one list of loads for every N, or a dict {N: list} (windows around each crossing).
    Returns the rows per N, the three extrapolations (alpha_1_inf, its error, slope, chi2, dof), the
    chosen one at the top level, and the theory value ``alpha_1_theory``. A row is ``bracketed`` when its
    fractions span 1/2 (max >= 1/2 >= min, not all equal) and ``converged`` when it is bracketed and the
    logistic fit gives a finite alpha_1(N) and error; otherwise its alpha_1 is NaN. The extrapolations use
    the converged rows (NaN with fewer than three); the top-level ``converged`` is True only when every
    row converged.
    """
    Ns = [check_integer("N", N, low=2) for N in Ns]
    if len(Ns) < 3 or len(set(Ns)) != len(Ns):
        raise ParameterError("Ns", list(Ns), "at least three distinct sizes (an extrapolation with a chi2)")
    check_choice("scale", scale, ("rem", "1/N", "1/sqrt(N)"))
    windows = {}
    for N in Ns:                          # every size and window before any work
        a = alphas[N] if isinstance(alphas, dict) else alphas
        windows[N] = _check_point(N, a, lam, samples, criterion, kwargs.get("max_bytes", 2 ** 30))[1]
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    rows = []
    for N in Ns:
        a = windows[N]
        frac = success_fractions(N, a, lam, samples=samples, seed=seed, criterion=criterion, **kwargs)
        ac, err, w = fit_threshold(a, frac, samples)          # NaN where not bracketed or not converged
        ok = math.isfinite(ac) and err > 0
        if not ok:
            ac = err = w = math.nan
        rows.append({"N": N, "alphas": a.tolist(), "fractions": frac.tolist(), "alpha_1": ac, "alpha_1_err": err,
                     "width": w, "bracketed": brackets_half(frac), "converged": ok})
    good = [r for r in rows if r["converged"]]
    out = {"lambda": lam, "criterion": criterion, "samples": samples, "sizes": rows,
           "alpha_1_theory": binary_alpha_1(lam), "converged": len(good) == len(rows)}
    fits = {}
    sizes = np.array([r["N"] for r in good], dtype=float)
    for sc in ("rem", "1/N", "1/sqrt(N)"):
        if len(good) < 3:
            fits[sc] = {"alpha_1_inf": math.nan, "alpha_1_inf_err": math.nan, "slope": math.nan, "chi2": math.nan,
                        "dof": len(good) - 2}
            continue
        x = np.exp(-rem_gap(lam) * sizes) / sizes if sc == "rem" else None
        a_inf, a_err, slope, chi2 = extrapolate_threshold(
            sizes, [r["alpha_1"] for r in good], [r["alpha_1_err"] for r in good], sc, x=x)
        fits[sc] = {"alpha_1_inf": a_inf, "alpha_1_inf_err": a_err, "slope": slope, "chi2": chi2,
                    "dof": len(good) - 2}
    out["extrapolations"] = fits
    out.update(fits[scale], scale=scale)
    return out
