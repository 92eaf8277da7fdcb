"""RS storage solver: solve_grid (compiled Newton) against a per-point scipy.optimize.fsolve loop.

Like for like: both solve the retrieval (m, q) and spin-glass (q, m = 0) branches of the P = 2
(AGS) equations on the same 60 x 60 (alpha, T) grid, with the same quadrature rule (the
baseline evaluates the equations in numpy through ``statmech.storage._equations`` /
``statmech.quadrature.tanh_moments``, as a user would write them; solve_grid runs its Newton
in a numba kernel over points and the same nodes, ``quadrature.tanh_moments_point``, equal to
~1e-15), the same starting points (marching up in T along each alpha row with a secant
predictor, cold starts from the same few map iterations at the lowest T and as retries; the
baseline calls the same compiled ``storage._cold_start``, which only helps it), the same
acceptance rules, and tolerance 1e-12 (fsolve: xtol = 1e-12, analytic Jacobian supplied, which
only helps the baseline). The paramagnet is closed form in both.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import fsolve

from run import best_time
from statmech import storage as S

ALPHA = np.linspace(0.0, 0.16, 60)
TEMPS = np.linspace(0.02, 1.5, 60)
TOL = 1e-12


def _fsolve_point(P, a, T, m0, q0, fix_m):
    alpha, beta = np.array([a]), np.array([1.0 / T])

    def fun(x):
        m, q = (0.0, x[0]) if fix_m else (x[0], x[1])
        Rm, Rq, _, _ = S._equations(P, alpha, beta, np.array([m]), np.array([q]))
        return [Rq[0]] if fix_m else [Rm[0], Rq[0]]

    def jac(x):
        m, q = (0.0, x[0]) if fix_m else (x[0], x[1])
        _, _, J, _ = S._equations(P, alpha, beta, np.array([m]), np.array([q]))
        Jmm, Jmq, Jqm, Jqq = (j[0] for j in J)
        return [[Jqq - 1]] if fix_m else [[Jmm - 1, Jmq], [Jqm, Jqq - 1]]

    x0 = [q0] if fix_m else [m0, q0]
    with np.errstate(all="ignore"):
        x, info, ier, _ = fsolve(fun, x0, fprime=jac, xtol=TOL, full_output=True)
    m, q = (0.0, x[0]) if fix_m else (abs(x[0]), x[1])
    res = np.max(np.abs(fun(x))) if np.all(np.isfinite(x)) else np.inf
    ok = ier == 1 and res <= 1e3 * TOL and (q > S.Q_MIN if fix_m else m > S.M_MIN)
    return ok, m, q


def baseline_grid(P=2, alpha=ALPHA, T=TEMPS):
    """Per-point fsolve loop with the starts of solve_grid: march up in T along each alpha row;
    try the secant predictor in (m, C = (1-q)/T), then (away from a fold) the previous solution;
    a cold start at the lowest T and as a retry of a failed warm start far from a fold
    (stability at the previous T < 0.5); a branch lost on a row is not attempted again.
    (solve_grid's continuation in alpha, for reentrant branches, is not mirrored: it only adds
    work to ours.)"""
    found = np.zeros((2, alpha.size, T.size), dtype=bool)
    for k, fix_m in enumerate((False, True)):
        for i, a in enumerate(alpha):
            hist, gone, stab_prev = [], False, np.nan
            for j, t in enumerate(T):
                if gone or (j > 0 and not hist):
                    continue
                starts = []
                if hist:                 # predictor in (m, C = (1 - q)/T), as in solve_grid
                    _, m2, q2 = hist[-1]
                    C2 = (1 - q2) / T[j - 1]
                    mp, Cp = m2, C2
                    if len(hist) >= 2 and hist[-2][0] == j - 2:
                        _, m1, q1 = hist[-2]
                        w = (t - T[j - 1]) / (T[j - 1] - T[j - 2])
                        mp, Cp = m2 + w * (m2 - m1), C2 + w * (C2 - (1 - q1) / T[j - 2])
                    qp = 1 - Cp * t
                    if abs(mp) <= 1 and 0 <= qp <= 1 and qp > max(1 - t if P == 2 else 0.0, 0.0):
                        starts.append((mp, qp))
                    if stab_prev < S._NEAR_FOLD:
                        starts.append((m2, q2))
                if not hist or stab_prev < S._RETRY_STAB:
                    starts.append(tuple(x[0] for x in S._cold_start(P, np.array([a]), np.array([1 / t]),
                                                                    np.array([fix_m]))))
                for m0, q0 in starts:
                    ok, m, q = _fsolve_point(P, a, t, m0, q0, fix_m)
                    if ok:
                        break
                if ok:
                    hist.append((j, m, q))
                    _, _, J, _ = S._equations(P, np.array([a]), np.array([1 / t]), np.array([m]), np.array([q]))
                    stab_prev = S._largest_eig(J)[0]
                    found[k, i, j] = True
                elif hist:
                    gone = True
    return found


def rs_grid_vs_scipy(quick: bool) -> dict:
    ours = best_time(lambda: S.solve_grid(2, ALPHA, TEMPS), repeat=5 if quick else 9)
    found = {}
    base = best_time(lambda: found.update(f=baseline_grid()), repeat=1 if quick else 2)
    g = S.solve_grid(2, ALPHA, TEMPS)
    agree = np.mean([found["f"][k] == g[f"exists_{b}"] for k, b in enumerate(("retrieval", "spin_glass"))])
    return {"name": "rs_grid_vs_scipy", "ratio": base / ours, "ours_s": ours, "baseline_s": base,
            "note": f"P=2 60x60 retrieval+spin-glass, solve_grid (numba Newton) vs per-point numpy fsolve "
                    f"(same starts/quadrature/tol; branch flags agree on {100 * agree:.1f}% of points, "
                    f"fsolve misjudges some points within ~0.02 of T_g); ratio = baseline/ours, "
                    f"higher is better, target >= 30"}




def rsb_grid_vs_reference(quick: bool) -> dict:
    """statmech.rsb.solve_grid_1rsb: compiled kernels + sinh-mapped outer rule (default) against the
    numpy reference path (reference=True: uniform outer grid, numpy inner averages), same grid,
    same continuation, same tolerance; P = 2, alpha = (0.05, 0.1, 0.13) x T = (0.005, 0.01)."""
    from statmech import rsb as R
    A, T = [0.05, 0.1, 0.13], [0.005, 0.01]
    R.solve_grid_1rsb(2, [0.1], [0.01], ladder=1)            # compile / load the numba cache
    out = {}
    ours = best_time(lambda: out.update(fast=R.solve_grid_1rsb(2, A, T)), repeat=1 if quick else 3)
    base = best_time(lambda: out.update(ref=R.solve_grid_1rsb(2, A, T, reference=True)), repeat=1)
    f, r = out["fast"], out["ref"]
    df = max(float(np.nanmax(np.abs(f[f"f_{b}"] - r[f"f_{b}"]))) for b in ("retrieval", "spin_glass"))
    dx = max(float(np.nanmax(np.abs(f[f"x_{b}"] - r[f"x_{b}"]))) for b in ("retrieval", "spin_glass"))
    return {"name": "rsb_grid_vs_reference", "ratio": base / ours, "ours_s": ours, "baseline_s": base,
            "note": f"P=2 3x2 1RSB grid, compiled+sinh rule vs numpy reference; max |df| = {df:.1e}, "
                    f"max |dx| = {dx:.1e}; ratio = baseline/ours, higher is better, target >= 5"}


BENCHMARKS = [rs_grid_vs_scipy, rsb_grid_vs_reference]
