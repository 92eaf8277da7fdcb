"""Sweep hooks of the families "modern" (binary/Gaussian/spherical LSE DAM, (lambda, alpha) plane at
fixed T, (alpha, T) plane at fixed lambda), "modern_continuous" (fixed points of the softmax
iteration, (lambda, separation) plane) and "modern_lsr" (Petrova et al.'s spherical LSR model: (alpha, T) plane
at fixed b, (b, alpha) plane at fixed T; theory in their Gaussian-overlap approximation, Monte Carlo by
:func:`montecarlo.modern.finite_t_retrieval` with kernel "lsr" at beta_net = b / N).

modern, method "theory" (REM analysis, modern.md 3.2): per point the noise free entropy
phi(alpha, lambda), the retrieval margin lambda - phi (target term e^{lambda N} against the noise sum
e^{N phi}: one-step retrieval iff > 0), the condensation flag of the noise REM and the phase; lines
alpha_1(lambda) and the condensation line alpha = I(q*(lambda)). At bath temperature T > 0 (binary and
spherical, modern.md 4.2-4.3) "retrieval" means a metastable retrieval basin, lambda m_eq(T) > phi
(m_eq = tanh(1/T) or phi_LSE(T)); lines: the spinodal alpha_sp(T; lambda) (ending at alpha_1 at T = 0),
the condensation line and, for the spherical ensemble, Petrova et al.'s Gaussian-overlap alpha_c(T)
(a labelled approximation, modern.md 8.2).
modern, method "mc": binary, T = 0 (dynamics "zero_T"): :func:`montecarlo.modern.lse_retrieval` at every
(N, lambda, alpha): fraction of disorder samples retrieved by the T = 0 dynamics from xi^1 (corrupted by
``corruption``), and the fraction where xi^1 is a single-flip fixed point, with binomial errors.
T > 0 (binary: heat bath or Metropolis; spherical: Metropolis on the sphere):
:func:`montecarlo.modern.finite_t_retrieval`, the fraction of chains started at xi^1 still in the
retrieval basin after ``sweeps`` sweeps (mean m over the last quarter >= threshold x m_eq(T)); spherical loads
beyond memory with ``approximation = "cone"`` (patterns with overlap >= ``phi_keep`` with the target kept) or
``"bulk"`` (none kept), the rest replaced by their annealed sum: labelled approximations (montecarlo.md 8).
Kramers caveat (modern.md 4.2): at finite N the basin survives beyond the spinodal for a while, and inside
it chains escape after ~ e^{N Delta f / T} sweeps; each point records the theory's Kramers exponent
N Delta f / T (Delta f: barrier of the landscape f(m) = -max(m, m_c) - T s(m)), so compare with a margin.
"""
from __future__ import annotations

import numpy as np

from hopfield.validation import ParameterError

__all__ = [
    "CONTINUOUS_CONVENTION",
    "LSR_CONVENTION",
    "LSR_INFO",
    "LSR_MC_INFO",
    "LSR_PHASES",
    "MODERN_CONVENTION",
    "MODERN_INFO",
    "MODERN_MC_INFO",
    "MODERN_PHASES",
    "simulate",
    "simulate_lsr",
    "solve",
    "solve_lsr",
    "solve_continuous",
    "trace",
    "trace_continuous",
    "trace_lsr",
    "validate",
    "validate_continuous",
    "validate_lsr",
]

MODERN_CONVENTION = ("E = -(1/lambda) ln sum_mu exp(lambda xi^mu . sigma), |xi|^2 = N (binary +-1, Gaussian, "
                     "spherical patterns), K = e^(alpha N); T = 0 dynamics: flip iff sigma_i h_i < tanh lambda, "
                     "h = X softmax(lambda X^T sigma); bath temperature T: Gibbs weight exp(-E/T), binary "
                     "sigma in {-1,+1}^N or spherical |x|^2 = N")
CONTINUOUS_CONVENTION = ("x <- X softmax(lambda X^T x) (Ramsauer Eq. 3, lambda = Ramsauer's beta), unit-norm "
                         "patterns in clusters of K/G with overlap 1 - s inside a cluster and 0 across (separation "
                         "Delta = s); started at x_1; 0.9-mass count k classifies the fixed point")

MODERN_PHASES = {0: "no_retrieval", 1: "retrieval", 2: "retrieval (condensed noise)",
                 3: "no_retrieval (condensed noise)"}

MODERN_INFO = {
    "phase": "0 no retrieval, 1 retrieval (noise REM uncondensed), 2 retrieval (noise condensed), "
             "3 no retrieval (noise condensed); at T > 0 retrieval = a metastable retrieval basin",
    "phi": "noise free entropy phi = lim (1/N) ln sum_{mu>=2} e^(lambda xi^mu . xi^1)",
    "margin": "lambda - phi: log-ratio of target to noise softmax terms per neuron (retrieval iff > 0)",
    "m_one_step": "overlap with xi^1 after one update from xi^1: 1 in retrieval, else the noise overlap q",
    "q_noise": "overlap with xi^1 of the patterns that dominate the noise (q* or q_max when condensed)",
    "condensed": "1 if the noise REM is condensed (alpha below the condensation line)",
    "alpha_1": "typical-pattern threshold alpha_1(lambda) of the ensemble",
    "m_eq": "retrieval minimum m_eq(T): tanh(1/T) (binary), phi_LSE(T) (spherical), 1 at T = 0",
    "cusp": "cusp m_c = phi / lambda of the landscape e(m) = -max(m, m_c); retrieval basin iff m_eq(T) > m_c",
    "alpha_sp": "spinodal load alpha_sp(T; lambda): retrieval basin metastable for alpha < alpha_sp (alpha_1 at T = 0)",
    "T_sp": "spinodal temperature T_sp(alpha, lambda): metastable for T < T_sp (NaN: none at any T)",
    "petrova_alpha_c": "spherical: Petrova et al. Gaussian-overlap alpha_c(T, lambda), a labelled approximation "
                       "(NaN for other ensembles)",
    "barrier": "free-energy barrier per neuron Delta f = f(m_c) - f(m_eq) of the retrieval basin (0 where it is gone; "
               "Kramers escape after ~ e^(N Delta f / T) sweeps)",
}

MODERN_MC_INFO = {
    "success": "T = 0: fraction of disorder samples whose T = 0 dynamics from (corrupted) xi^1 ends at "
               "m >= threshold; T > 0: fraction of chains started at xi^1 (one per sample) whose mean m over the "
               "last quarter of the sweeps is >= threshold x m_eq(T) (survival in the retrieval basin)",
    "success_err": "binomial error of success",
    "stable": "fraction of samples where xi^1 is a single-flip fixed point (DeltaE_i >= 0 at every site, exact sign; "
              "= min_i sigma_i h_i >= tanh lambda)",
    "stable_err": "binomial error of stable",
    "concentrated": "fraction of samples where xi^1 holds more than half the softmax mass at sigma = xi^1 "
                    "(the one-step criterion of alpha_1)",
    "concentrated_err": "binomial error of concentrated",
    "m": "final overlap with xi^1 (T > 0: mean over the last quarter of the sweeps), mean over samples",
    "m_err": "standard error of m",
    "max_other": "largest final overlap with another pattern (mean over samples)",
    "sweeps_used": "sweeps until a fixed point (mean)",
    "converged": "fraction of samples that reached a fixed point within the sweeps",
    "K": "number of stored patterns round(e^(alpha N)) (cone / bulk approximations: e^(alpha N), inf beyond 1e304)",
    "kept": "cone / bulk approximations: mean number of patterns kept explicitly besides the target (the rest is "
            "their annealed sum, a constant; montecarlo.modern.cone_patterns)",
    "alpha_1": "theory: typical-pattern threshold alpha_1(lambda) (binary)",
    "m_survivors": "T > 0: mean m over the last quarter, surviving chains only (NaN if none)",
    "m_survivors_err": "standard error of m_survivors over the surviving chains",
    "m_eq": "theory: retrieval minimum m_eq(T) (tanh(1/T) binary, phi_LSE(T) spherical)",
    "m_eq_N": "theory: <m> of the single-pattern Gibbs measure at this N (binary tanh(1/T); spherical "
              "I_{N/2}(N/T)/I_{N/2-1}(N/T)), the value of a surviving chain when the noise is negligible",
    "alpha_sp": "theory: spinodal load alpha_sp(T; lambda) of the ensemble",
    "T_sp": "theory: spinodal temperature T_sp(alpha, lambda) (NaN: no metastable retrieval)",
    "acceptance": "T > 0: mean acceptance rate",
    "barrier": "theory: free-energy barrier per neuron Delta f of the retrieval basin (0 outside the spinodal)",
    "kramers": "theory: Kramers exponent N Delta f / T (escape after ~ e^kramers sweeps; survival needs it >> 1)",
}


# ----------------------------------------------------------------------------------- modern ----
def solve(sweep, values):
    """Per (lambda, alpha, T): REM noise phi, margin, condensation; at T > 0 the metastability of the
    retrieval basin, lambda m_eq(T) > phi (T = 0: lambda > phi, one-step retrieval)."""
    from . import modern as sm
    ens = sweep["ensemble"]
    lams, alphas, Ts = values["lambda"], values["alpha"], values["T"]
    shape = (lams.size, alphas.size, Ts.size)
    out = {k: np.empty(shape) for k in MODERN_INFO}
    finite_t = ens in sm.FINITE_T_ENSEMBLES
    for i, lam in enumerate(lams):
        a1, ac = sm.alpha_1(lam, ens), sm.condensation_alpha(lam, ens)
        q_star = sm._dominant_q(lam, ens)
        for j, a in enumerate(alphas):
            phi = sm.noise_free_energy(a, lam, ens)
            condensed = a < ac
            q = sm._q_max(a, ens) if condensed else q_star
            t_sp = sm.spinodal_T(a, lam, ens) if finite_t else np.nan
            for k, T in enumerate(Ts):
                m_eq = sm.retrieval_overlap(T, ens) if finite_t else 1.0
                retrieval = lam > phi if T == 0.0 else lam * m_eq > phi
                at = (i, j, k)
                out["phi"][at] = phi
                out["margin"][at] = lam - phi
                out["q_noise"][at] = q
                out["m_one_step"][at] = 1.0 if lam > phi else q
                out["condensed"][at] = float(condensed)
                out["alpha_1"][at] = a1
                out["phase"][at] = (1 if retrieval else 0) if not condensed else (2 if retrieval else 3)
                out["m_eq"][at] = m_eq if finite_t else np.nan
                out["cusp"][at] = phi / lam
                out["alpha_sp"][at] = sm.spinodal_alpha(T, lam, ens) if finite_t else (a1 if T == 0 else np.nan)
                out["T_sp"][at] = t_sp
                out["petrova_alpha_c"][at] = sm.petrova_alpha_c(T, lam) if ens == "spherical" else np.nan
                out["barrier"][at] = sm.retrieval_barrier(a, T, lam, ens) if finite_t else np.nan
    return out


def _plane(sweep):
    """("lambda", "alpha") when the sweep has grids in both (lines at its first T), else ("alpha", "T")
    (lines at its first lambda), the order of the family's planes."""
    return ("lambda", "alpha") if {"lambda", "alpha"} <= set(sweep["dims"]) else ("alpha", "T")


def trace(sweep, names):
    """Lines of the (lambda, alpha) plane at the sweep's T, or of the (alpha, T) plane at its lambda."""
    from . import modern as sm
    ens, pts = sweep["ensemble"], sweep["boundary_points"]
    out = {}
    if _plane(sweep) == ("lambda", "alpha"):
        lam = np.atleast_1d(np.asarray(sweep["lambda"], dtype=float))
        grid = np.linspace(lam.min(), lam.max(), pts)
        T = float(np.atleast_1d(sweep["T"])[0])
        line = {"alpha_1": lambda x: sm.alpha_1(x, ens), "condensation": lambda x: sm.condensation_alpha(x, ens)}
        if T > 0:          # at T = 0 the spinodal is alpha_1
            line["spinodal"] = lambda x: sm.spinodal_alpha(T, x, ens)
        if ens == "spherical":
            line["petrova_alpha_c"] = lambda x: sm.petrova_alpha_c(T, x)
        return {name: {"lambda": grid, "alpha": np.array([line[name](x) for x in grid])}
                for name in names if name in line}
    lam = float(np.atleast_1d(sweep["lambda"])[0])
    T = np.linspace(0.0, float(np.max(sweep["T"])), pts)     # from T = 0, where the spinodal ends at alpha_1
    if "alpha_1" in names:
        out["alpha_1"] = {"alpha": np.array([sm.alpha_1(lam, ens)]), "T": np.zeros(1)}
    if "condensation" in names:       # the noise REM does not depend on T: a vertical line
        out["condensation"] = {"alpha": np.full(2, sm.condensation_alpha(lam, ens)), "T": T[[0, -1]]}
    if "spinodal" in names:
        out["spinodal"] = {"alpha": np.array([sm.spinodal_alpha(t, lam, ens) for t in T]), "T": T}
    if "petrova_alpha_c" in names and ens == "spherical":
        out["petrova_alpha_c"] = {"alpha": np.array([sm.petrova_alpha_c(t, lam) for t in T]), "T": T}
    return out


def _m_eq_N(N, T, ens):
    """<m> of the single-pattern Gibbs measure exp(N m / T) at this N: tanh(1/T) (independent Ising spins), or
    the von Mises-Fisher mean I_{N/2}(N/T)/I_{N/2-1}(N/T) on the sphere."""
    if ens == "binary":
        return float(np.tanh(1.0 / T))
    from scipy.special import ive
    return float(ive(N / 2, N / T) / ive(N / 2 - 1, N / T))


def simulate(sweep, point, index, seed):
    from . import modern as sm
    budget = point["max_memory_mb"] * 2 ** 20
    if sweep["dynamics"] == "zero_T":
        from montecarlo.modern import lse_retrieval
        raw = lse_retrieval(point["N"], point["alpha"], point["lambda"], samples=sweep["samples"],
                            corruption=point["corruption"], threshold=point["threshold"], max_sweeps=sweep["sweeps"],
                            schedule={"random": "permutation", "sequential": "systematic"}[sweep["schedule"]],
                            seed=seed, point=index, max_bytes=budget, backend=sweep.get("backend", "numba"))
        raw["alpha_1"] = sm.binary_alpha_1(point["lambda"])
        return raw
    from montecarlo.modern import finite_t_retrieval
    ens, lam, T, N = point["ensemble"], point["lambda"], point["T"], point["N"]
    m_eq = sm.retrieval_overlap(T, ens)
    raw = finite_t_retrieval(N, point["alpha"], lam, T, ensemble=ens, samples=sweep["samples"],
                             sweeps=sweep["sweeps"], threshold=point["threshold"] * m_eq,
                             dynamics=sweep["dynamics"],
                             schedule={"random": "random", "sequential": "systematic"}[sweep["schedule"]],
                             seed=seed, point=index, max_bytes=budget, backend=sweep.get("backend", "numba"),
                             approximation=point["approximation"], phi_keep=point["phi_keep"])
    barrier = sm.retrieval_barrier(point["alpha"], T, lam, ens)
    raw.update(m_eq=m_eq, m_eq_N=_m_eq_N(N, T, ens), alpha_sp=sm.spinodal_alpha(T, lam, ens),
               T_sp=sm.spinodal_T(point["alpha"], lam, ens), alpha_1=sm.alpha_1(lam, ens), barrier=barrier,
               kramers=N * barrier / T)
    return raw


def _check_loads(sweep, ens):
    """Refuse, before any work, a load K = e^(alpha N) whose sample does not fit max_memory_mb."""
    from montecarlo.modern import (
        exponential_load_K,
        lse_point_bytes,
        spherical_point_bytes,
    )
    name = sweep["name"]
    budget = sweep["max_memory_mb"] * 2 ** 20
    per_entry = 1 if ens == "binary" else 8
    for N in np.atleast_1d(sweep["N"]):
        for a in np.atleast_1d(sweep["alpha"]):
            try:
                K = exponential_load_K(int(N), float(a), max_bytes=budget // per_entry)
            except ParameterError as err:
                raise ParameterError(f"{name}.alpha", float(a), f"{err.allowed} at N = {int(N)}") from None
            need = (lse_point_bytes if ens == "binary" else spherical_point_bytes)(int(N), K)
            if need > budget:
                raise ParameterError(f"{name}.alpha", float(a),
                                     f"a load that fits max_memory_mb = {sweep['max_memory_mb']} at N = {int(N)} "
                                     f"(K = e^(alpha N) = {K} needs {need / 2**20:.0f} MiB)")


def _check_cone(sweep):
    """Refuse, before any work, a cone whose expected kept patterns exceed max_memory_mb."""
    from montecarlo.modern import check_cone_memory
    name, budget = sweep["name"], sweep["max_memory_mb"] * 2 ** 20
    for N in np.atleast_1d(sweep["N"]):
        for a in np.atleast_1d(sweep["alpha"]):
            try:
                check_cone_memory(int(N), float(a), sweep["phi_keep"], budget)
            except ParameterError as err:
                raise ParameterError(f"{name}.phi_keep", sweep["phi_keep"], err.allowed) from None


def validate(sweep):
    from .modern import FINITE_T_ENSEMBLES
    name = sweep["name"]
    if sweep["method"] == "1rsb":
        raise ParameterError(f"{name}.method", "1rsb", "'theory' or 'mc' for model 'modern'")
    if sweep["approximation"] != "full" and (sweep["method"] != "mc" or sweep["ensemble"] != "spherical"):
        raise ParameterError(f"{name}.approximation", sweep["approximation"],
                             "'full' (the cone and bulk approximations are for method 'mc', ensemble 'spherical')")
    Ts = np.atleast_1d(np.asarray(sweep["T"], dtype=float))
    if np.any(Ts > 0) and sweep["ensemble"] not in FINITE_T_ENSEMBLES:
        raise ParameterError(f"{name}.T", sweep["T"], f"T = 0 for ensemble {sweep['ensemble']!r} (the finite-T "
                             "theory covers binary and spherical states)")
    if sweep["method"] != "mc":
        return
    zero = sweep["dynamics"] == "zero_T"
    fixed = {"replicas": 1, "tempering": False, "init": "pattern", "burn_in": "auto"}
    if zero:
        fixed.update(ensemble="binary")
    else:
        fixed.update(corruption=0.0)
        if sweep["ensemble"] == "spherical":
            fixed.update(dynamics="metropolis")
    for key, want in fixed.items():
        if sweep[key] != want:
            raise ParameterError(f"{name}.{key}", sweep[key], f"{want!r} for model 'modern', method 'mc' "
                                 f"({'T = 0' if zero else 'finite-T'} retrieval from the pattern, one chain per "
                                 "disorder sample" + ("" if zero else "; spherical states: Metropolis") + ")")
    if zero and np.any(Ts != 0):
        raise ParameterError(f"{name}.T", sweep["T"], "T = 0 for dynamics 'zero_T'")
    if not zero and np.any(Ts <= 0):
        raise ParameterError(f"{name}.dynamics", sweep["dynamics"], "'zero_T' at T = 0 (heat_bath and metropolis "
                             "need T > 0)")
    if sweep["ensemble"] not in FINITE_T_ENSEMBLES:
        raise ParameterError(f"{name}.ensemble", sweep["ensemble"], "'binary' or 'spherical' for method 'mc'")
    if sweep["samples"] < 2:
        raise ParameterError(f"{name}.samples", sweep["samples"], "samples >= 2 (a success fraction)")
    if not zero and sweep["sweeps"] < 4:
        raise ParameterError(f"{name}.sweeps", sweep["sweeps"], "sweeps >= 4 (m is averaged over the last quarter)")
    if sweep["approximation"] == "full":
        _check_loads(sweep, sweep["ensemble"])
    elif sweep["approximation"] == "cone":
        _check_cone(sweep)


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


# ------------------------------------------------------------------------------- modern_lsr ----
LSR_CONVENTION = ("Petrova et al.'s LSR (Epanechnikov) model on the sphere |x|^2 = |xi^mu|^2 = N: "
                  "H = -(1/beta_net) ln sum_mu max[eps, 1 - b (1 - phi^mu)], phi^mu = x . xi^mu / N, b = N beta_net, "
                  "K = e^(alpha N) uniform spherical patterns, Gibbs weight exp(-H/T); theory: Gaussian-overlap "
                  "approximation (modern.md 4.1), a labelled approximation")

LSR_PHASES = {0: "no_retrieval", 1: "retrieval", 2: "retrieval (below the support threshold)"}

LSR_INFO = {
    "phase": "Petrova et al.'s Gaussian-overlap theory (labelled approximation): 2 alpha < alpha_th (no spurious "
             "pattern reaches the kernel's support: retrieval at any T), 1 alpha < alpha_c(T), 0 otherwise",
    "alpha_th": "support threshold alpha_th(b) = (1/2)(1 - 1/b)^2 (0 for b <= 1)",
    "alpha_c": "retrieval boundary max(alpha_th, (1/2)[1 - f_ret(T)]^2) (labelled approximation)",
    "phi_ret": "retrieval alignment: the minimum over phi of u_LSR - T s, u_LSR = -(1/b) ln[1 - b(1 - phi)], "
               "s = (1/2) ln(1 - phi^2)",
    "f_ret": "u_LSR - T s at phi_ret",
    "T_max": "temperature above which only alpha < alpha_th retrieves (NaN for b <= 1)",
}

LSR_MC_INFO = {
    "success": "fraction of chains started at xi^1 (one per disorder sample, Metropolis on the sphere) whose mean "
               "phi over the last quarter of the sweeps is >= threshold x phi_ret(T, b)",
    "success_err": "binomial error of success",
    "m": "mean phi with xi^1 over the last quarter of the sweeps, mean over samples",
    "m_err": "standard error of m",
    "m_survivors": "mean m of the surviving chains (NaN if none)",
    "m_survivors_err": "standard error of m_survivors",
    "max_other": "largest final overlap with another pattern (mean over samples)",
    "acceptance": "mean Metropolis acceptance rate",
    "K": "number of stored patterns round(e^(alpha N))",
    "phi_ret": "theory: retrieval alignment phi_ret(T, b) (large N)",
    "alpha_th": "theory: support threshold alpha_th(b)",
    "alpha_c": "theory: Petrova et al.'s alpha_c(T, b) (labelled approximation)",
}


def _lsr_t_max(b):
    from . import modern as sm
    return sm.lsr_t_max(b) if b > 1.0 else np.nan


def solve_lsr(sweep, values):
    """Per (b, alpha, T): Petrova et al.'s retrieval alignment, f_ret, alpha_th, alpha_c and the phase."""
    from . import modern as sm
    bs, alphas, Ts = values["b"], values["alpha"], values["T"]
    shape = (bs.size, alphas.size, Ts.size)
    out = {k: np.empty(shape) for k in LSR_INFO}
    for i, b in enumerate(bs):
        ath, tmax = sm.lsr_alpha_th(b), _lsr_t_max(b)
        for k, T in enumerate(Ts):
            ac, phi, f = sm.lsr_alpha_c_petrova(T, b), sm.lsr_phi(T, b), sm.lsr_f_ret(T, b)
            for j, a in enumerate(alphas):
                at = (i, j, k)
                out["phase"][at] = 2 if a < ath else (1 if a < ac else 0)
                out["alpha_th"][at], out["alpha_c"][at], out["phi_ret"][at] = ath, ac, phi
                out["f_ret"][at], out["T_max"][at] = f, tmax
    return out


def trace_lsr(sweep, names):
    """Lines alpha_c (Petrova) and alpha_th: in the (b, alpha) plane at the sweep's first T when b and alpha are
    both grids, else in the (alpha, T) plane at its first b."""
    from . import modern as sm
    pts = sweep["boundary_points"]
    out = {}
    if {"b", "alpha"} <= set(sweep["dims"]):
        b = np.atleast_1d(np.asarray(sweep["b"], dtype=float))
        grid = np.linspace(b.min(), b.max(), pts)
        T = float(np.atleast_1d(sweep["T"])[0])
        line = {"petrova_alpha_c": lambda x: sm.lsr_alpha_c_petrova(T, x), "alpha_th": sm.lsr_alpha_th}
        return {name: {"b": grid, "alpha": np.array([line[name](x) for x in grid])} for name in names if name in line}
    b = float(np.atleast_1d(sweep["b"])[0])
    T = np.linspace(0.0, float(np.max(sweep["T"])), pts)
    if "petrova_alpha_c" in names:
        out["petrova_alpha_c"] = {"alpha": np.array([sm.lsr_alpha_c_petrova(t, b) for t in T]), "T": T}
    if "alpha_th" in names:
        out["alpha_th"] = {"alpha": np.full(2, sm.lsr_alpha_th(b)), "T": T[[0, -1]]}
    return out


def simulate_lsr(sweep, point, index, seed):
    """finite_t_retrieval of the spherical LSR model at beta_net = b / N (b fixed across N, as in the theory)."""
    from montecarlo.modern import finite_t_retrieval

    from . import modern as sm
    N, b, T = point["N"], point["b"], point["T"]
    phi = sm.lsr_phi(T, b)
    raw = finite_t_retrieval(N, point["alpha"], b / N, T, ensemble="spherical", kernel="lsr", eps=point["eps"],
                             samples=sweep["samples"], sweeps=sweep["sweeps"], threshold=point["threshold"] * phi,
                             dynamics="metropolis", schedule="random", seed=seed, point=index,
                             max_bytes=point["max_memory_mb"] * 2 ** 20, backend=sweep.get("backend", "numba"))
    raw.update(phi_ret=phi, alpha_th=sm.lsr_alpha_th(b), alpha_c=sm.lsr_alpha_c_petrova(T, b))
    return raw


def validate_lsr(sweep):
    name = sweep["name"]
    if sweep["method"] == "1rsb":
        raise ParameterError(f"{name}.method", "1rsb", "'theory' or 'mc' for model 'modern_lsr'")
    if sweep["method"] != "mc":
        return
    fixed = {"dynamics": "metropolis", "replicas": 1, "tempering": False, "init": "pattern", "burn_in": "auto"}
    for key, want in fixed.items():
        if sweep[key] != want:
            raise ParameterError(f"{name}.{key}", sweep[key], f"{want!r} for model 'modern_lsr', method 'mc' "
                                 "(Metropolis on the sphere from the pattern, one chain per disorder sample)")
    if np.any(np.atleast_1d(np.asarray(sweep["T"], dtype=float)) <= 0):
        raise ParameterError(f"{name}.T", sweep["T"], "T > 0 for method 'mc' (Metropolis)")
    if sweep["samples"] < 2:
        raise ParameterError(f"{name}.samples", sweep["samples"], "samples >= 2 (a success fraction)")
    if sweep["sweeps"] < 4:
        raise ParameterError(f"{name}.sweeps", sweep["sweeps"], "sweeps >= 4 (m is averaged over the last quarter)")
    _check_loads(sweep, "spherical")
