"""Sweep hooks of the families "modern" (binary/Gaussian/spherical LSE DAM, (lambda, alpha) plane) and
"modern_continuous" (fixed points of the softmax iteration, (lambda, separation) plane).

modern, method "theory" (REM analysis, modern.md 3.2): per point the noise free entropy
phi(alpha, lambda), the retrieval margin lambda - phi (target term e^{lambda N} against the noise sum
e^{N phi}: one-step retrieval iff > 0), the condensation flag of the noise REM and the phase; lines
alpha_1(lambda) and the condensation line alpha = I(q*(lambda)).
modern, method "mc" (binary only): :func:`montecarlo.modern.lse_retrieval` at every (N, lambda, alpha):
fraction of disorder samples retrieved by the T = 0 dynamics from xi^1 (corrupted by ``corruption``), and
the fraction where xi^1 is a single-flip fixed point, with binomial errors.
"""
from __future__ import annotations

import numpy as np

from hopfield.validation import ParameterError

__all__ = [
    "CONTINUOUS_CONVENTION",
    "MODERN_CONVENTION",
    "MODERN_INFO",
    "MODERN_MC_INFO",
    "MODERN_PHASES",
    "simulate",
    "solve",
    "solve_continuous",
    "trace",
    "trace_continuous",
    "validate",
    "validate_continuous",
]

MODERN_CONVENTION = ("E = -(1/lambda) ln sum_mu exp(lambda xi^mu . sigma), |xi|^2 = N (binary +-1, Gaussian, "
                     "spherical patterns), K = e^(alpha N); T = 0 dynamics: flip iff sigma_i h_i < tanh lambda, "
                     "h = X softmax(lambda X^T sigma)")
CONTINUOUS_CONVENTION = ("x <- X softmax(lambda X^T x) (Ramsauer Eq. 3, lambda = Ramsauer's beta), unit-norm "
                         "patterns in clusters of K/G with overlap 1 - s inside a cluster and 0 across (separation "
                         "Delta = s); started at x_1; 0.9-mass count k classifies the fixed point")

MODERN_PHASES = {0: "no_retrieval", 1: "retrieval", 2: "retrieval (condensed noise)",
                 3: "no_retrieval (condensed noise)"}

MODERN_INFO = {
    "phase": "0 no retrieval, 1 retrieval (noise REM uncondensed), 2 retrieval (noise condensed), "
             "3 no retrieval (noise condensed)",
    "phi": "noise free entropy phi = lim (1/N) ln sum_{mu>=2} e^(lambda xi^mu . xi^1)",
    "margin": "lambda - phi: log-ratio of target to noise softmax terms per neuron (retrieval iff > 0)",
    "m_one_step": "overlap with xi^1 after one update from xi^1: 1 in retrieval, else the noise overlap q",
    "q_noise": "overlap with xi^1 of the patterns that dominate the noise (q* or q_max when condensed)",
    "condensed": "1 if the noise REM is condensed (alpha below the condensation line)",
    "alpha_1": "typical-pattern threshold alpha_1(lambda) of the ensemble",
}

MODERN_MC_INFO = {
    "success": "fraction of disorder samples whose T = 0 dynamics from (corrupted) xi^1 ends at m >= threshold",
    "success_err": "binomial error of success",
    "stable": "fraction of samples where xi^1 is a single-flip fixed point (min_i sigma_i h_i >= tanh lambda)",
    "stable_err": "binomial error of stable",
    "concentrated": "fraction of samples where xi^1 holds more than half the softmax mass at sigma = xi^1 "
                    "(the one-step criterion of alpha_1)",
    "concentrated_err": "binomial error of concentrated",
    "m": "final overlap with xi^1 (mean over samples)",
    "m_err": "standard error of m",
    "max_other": "largest final overlap with another pattern (mean over samples)",
    "sweeps_used": "sweeps until a fixed point (mean)",
    "converged": "fraction of samples that reached a fixed point within the sweeps",
    "K": "number of stored patterns round(e^(alpha N))",
    "alpha_1": "theory: typical-pattern threshold alpha_1(lambda) (binary)",
}


# ----------------------------------------------------------------------------------- modern ----
def solve(sweep, values):
    from . import modern as sm
    ens = sweep["ensemble"]
    lams, alphas = values["lambda"], values["alpha"]
    shape = (lams.size, alphas.size)
    out = {k: np.empty(shape) for k in MODERN_INFO}
    for i, lam in enumerate(lams):
        a1, ac = sm.alpha_1(lam, ens), sm.condensation_alpha(lam, ens)
        q_star = sm._dominant_q(lam, ens)
        for j, a in enumerate(alphas):
            phi = sm.noise_free_energy(a, lam, ens)
            condensed = a < ac
            retrieval = lam > phi
            q = sm._q_max(a, ens) if condensed else q_star
            out["phi"][i, j] = phi
            out["margin"][i, j] = lam - phi
            out["q_noise"][i, j] = q
            out["m_one_step"][i, j] = 1.0 if retrieval else q
            out["condensed"][i, j] = float(condensed)
            out["alpha_1"][i, j] = a1
            out["phase"][i, j] = (1 if retrieval else 0) if not condensed else (2 if retrieval else 3)
    return out


def trace(sweep, names):
    from . import modern as sm
    lam = np.atleast_1d(np.asarray(sweep["lambda"], dtype=float))
    grid = np.linspace(lam.min(), lam.max(), sweep["boundary_points"])
    line = {"alpha_1": sm.alpha_1, "condensation": sm.condensation_alpha}
    return {name: {"lambda": grid, "alpha": np.array([line[name](x, sweep["ensemble"]) for x in grid])}
            for name in names if name in line}


def simulate(sweep, point, index, seed):
    from montecarlo.modern import lse_retrieval

    from .modern import binary_alpha_1
    raw = lse_retrieval(point["N"], point["alpha"], point["lambda"], samples=sweep["samples"],
                        corruption=point["corruption"], threshold=point["threshold"], max_sweeps=sweep["sweeps"],
                        schedule={"random": "permutation", "sequential": "systematic"}[sweep["schedule"]],
                        seed=seed, point=index, max_bytes=point["max_memory_mb"] * 2 ** 20)
    raw["alpha_1"] = binary_alpha_1(point["lambda"])
    return raw


def validate(sweep):
    name = sweep["name"]
    if sweep["method"] == "1rsb":
        raise ParameterError(f"{name}.method", "1rsb", "'theory' or 'mc' for model 'modern'")
    if sweep["method"] != "mc":
        return
    from montecarlo.modern import exponential_load_K, lse_point_bytes
    fixed = {"ensemble": "binary", "dynamics": "zero_T", "replicas": 1, "tempering": False, "init": "pattern",
             "burn_in": "auto"}
    for key, want in fixed.items():
        if sweep[key] != want:
            raise ParameterError(f"{name}.{key}", sweep[key], f"{want!r} for model 'modern', method 'mc' "
                                 "(T = 0 retrieval from the pattern, one chain per disorder sample)")
    if sweep["samples"] < 2:
        raise ParameterError(f"{name}.samples", sweep["samples"], "samples >= 2 (a success fraction)")
    budget = sweep["max_memory_mb"] * 2 ** 20
    for N in np.atleast_1d(sweep["N"]):
        for a in np.atleast_1d(sweep["alpha"]):
            try:
                K = exponential_load_K(int(N), float(a), max_bytes=budget)
            except ParameterError as err:
                raise ParameterError(f"{name}.alpha", float(a), f"{err.allowed} at N = {int(N)}") from None
            need = lse_point_bytes(int(N), K)
            if need > budget:
                raise ParameterError(f"{name}.alpha", float(a),
                                     f"a load that fits max_memory_mb = {sweep['max_memory_mb']} at N = {int(N)} "
                                     f"(K = e^(alpha N) = {K} needs {need / 2**20:.0f} MiB)")


# ------------------------------------------------------------------------ modern_continuous ----
def solve_continuous(sweep, values):
    from .modern_continuous import classify_grid
    return classify_grid(sweep["K"], sweep["clusters"], values["lambda"], values["separation"], eps=sweep["eps"],
                         max_steps=sweep["max_steps"])


def trace_continuous(sweep, names):
    from .modern_continuous import contraction_lambda, well_separated_bound
    out = {}
    pts = sweep["boundary_points"]
    if "contraction" in names:
        s = np.atleast_1d(np.asarray(sweep["separation"], dtype=float))
        s = np.linspace(s.min(), s.max(), pts)
        out["contraction"] = {"lambda": np.array([contraction_lambda(sweep["K"], sweep["clusters"], x) for x in s]),
                              "separation": s}
    if "well_separated" in names:
        lam = np.atleast_1d(np.asarray(sweep["lambda"], dtype=float))
        lam = np.geomspace(lam.min(), lam.max(), pts)
        sep = np.array([well_separated_bound(sweep["K"], x) for x in lam])
        keep = sep <= 1.0
        out["well_separated"] = {"lambda": lam[keep], "separation": sep[keep]}
    return out


def validate_continuous(sweep):
    name = sweep["name"]
    if sweep["method"] != "theory":
        raise ParameterError(f"{name}.method", sweep["method"], "'theory' for model 'modern_continuous' "
                             "(a deterministic iteration)")
    K, G = sweep["K"], sweep["clusters"]
    if K % G or K // G < 2:
        raise ParameterError(f"{name}.clusters", G, f"a divisor of K = {K} with K / clusters >= 2")
