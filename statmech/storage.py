"""Replica-symmetric (RS) theory of Hebbian storage, vectorised over (alpha, T) grids.

Conventions (/work/shared/physics/storage.md): spins +-1, H = -(N/2) sum_mu m_mu^P with distinct
indices, K = alpha N^(P-1) patterns, T = 1/beta, one condensed pattern with Mattis overlap m,
Edwards-Anderson parameter q. All averages are over z ~ N(0, 1) (``statmech.quadrature``).

P = 2 (Amit-Gutfreund-Sompolinsky), free energy per neuron

    f = alpha/2 + m^2/2 + (alpha/(2 beta)) [ln D - beta q / D] + (alpha beta/2) r (1 - q)
        - (1/beta) E_z ln 2cosh(beta (m + sqrt(alpha r) z)),          D = 1 - beta (1 - q),

    m = E_z tanh(g),  q = E_z tanh^2(g),  g = beta (m + sqrt(alpha r) z),  r = q / D^2.

Dense P >= 3 (K = alpha N^(P-1), no reaction term; glassy part = P-spin glass, J^2 = alpha P!/2)

    -beta f = ln 2 + E_z ln cosh(g) - beta (P-1)/2 m^P + (beta^2 alpha P!/8)(1 - P q^(P-1) + (P-1) q^P)
    g = beta (P/2) m^(P-1) + beta z sqrt(alpha P! P q^(P-1) / 4),   m = E_z tanh(g),  q = E_z tanh^2(g).

For P >= 3 the spin-glass side is only approximate in RS: the true spin-glass transition and the
low-temperature glass need one step of replica-symmetry breaking (1RSB spec). The RS spin-glass
solution, its fold and the RS transition f_SG = f_para are reported as such.

Both cases are written as one field X = beta (a(m) + sqrt(v(q)) z) ~ N(beta a, beta^2 v):

    P = 2:  a = m,             v = alpha q / D^2
    P >= 3: a = (P/2) m^(P-1), v = alpha P! P q^(P-1) / 4

and solved by Newton on R(m, q) = (E tanh X - m, E tanh^2 X - q) with the analytic Jacobian
(Stein's lemma, d/d(var) E F(X) = E F''(X)/2):

    dM/dm = beta a' E[1-t^2]        dM/dq = -beta^2 v' E[t(1-t^2)]
    dQ/dm = 2 beta a' E[t(1-t^2)]   dQ/dq =  beta^2 v' E[(1-t^2)(1-3t^2)]

Stability: ``stability_<branch>`` is the largest real part of the eigenvalues of this Jacobian of
the fixed-point map (m, q) -> (M, Q) at the solution (full 2x2, also for the spin glass where m = 0
is imposed). Values < 1 mean a locally attracting fixed point; the retrieval branch ends at a fold
(spinodal) where this eigenvalue reaches 1 and it meets the unstable partner solution (> 1). For
the paramagnet at P = 2 the q-eigenvalue is alpha beta^2/(1-beta)^2, which crosses 1 at
T_g = 1 + sqrt(alpha).

Which state is thermodynamic. In the n -> 0 replica limit the glassy saddle points *maximise* f
in q (Jensen: the quenched f is >= the annealed f, and the annealed f is the paramagnetic one),
while the m direction is a genuine minimisation. So the m = 0 "background" state is the existing
m = 0 solution with the larger f (spin glass where it exists and f_SG >= f_para; for P = 2 the
RS paramagnet exists only for T > 1 at alpha > 0, where D > 0), and the retrieval state is the
thermodynamic one where f_R < f_background (AGS T_c). Taking the literal minimum would pick the
paramagnet whose f -> -infinity as T -> 0 for P >= 3 (negative entropy), which is unphysical.

Implementation. Newton runs in a numba kernel (``_newton_kernel``), one point at a time, with
the quadrature of ``statmech.quadrature`` evaluated per point (``tanh_moments_point``: one
exponential per node); ``_newton_numpy`` is the same algorithm in numpy (reference, tests).
``solve_grid`` marches in T (Python) and hands each temperature's starts to the kernel.
Phase boundaries (``boundaries``) are traced as alpha(T) polylines, re-entrance included.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf   # scipy.optimize is imported where used: 0.6 s, paid by every MC worker

from hopfield.validation import ParameterError, check_array_real, check_integer, check_real
from numba import njit

from statmech.conventions import P_MAX
from statmech.newton import damped_newton_2x2
from statmech.quadrature import kernel_tables, lncosh_average, tanh_moments, tanh_moments_point

__all__ = ["PHASES", "UNRESOLVED", "BRANCHES", "OBSERVABLE_INFO", "solve_grid", "boundaries", "capacity",
           "solve_T0", "free_energy", "alpha_of_y", "thermodynamic_capacity"]

#: phase codes; UNRESOLVED (-1): the solver found no m = 0 state (or, P = 2, no spin glass below
#: T_g = 1 + sqrt(alpha) where it must exist), so the thermodynamic state is unknown (m, q, f NaN)
UNRESOLVED = -1
PHASES = {UNRESOLVED: "unresolved", 0: "paramagnet", 1: "spin_glass", 2: "mixed", 3: "retrieval"}
BRANCHES = ("retrieval", "spin_glass", "paramagnet")

#: a retrieval solution needs m > M_MIN, a spin-glass solution q > Q_MIN (else it is the m = 0 / q = 0 one)
M_MIN = 1e-6
Q_MIN = 1e-6
TOL = 1e-12
MAXITER = 50
_LAMBDAS = np.array([0.5, 0.25, 0.1, 0.03, 0.01, 0.001])   # backtracking steps after a failed full step
_RETRY_STAB = 0.5     # warm-start failures with previous stability below this are retried cold
_NEAR_FOLD = 0.8     # previous stability above this: a failed predictor means the fold was passed
_MAX_DAMPED = 2      # warm starts: more damped Newton steps than this = beyond a fold
_N_PRE = 12          # plain map iterations used only to build a cold starting point for Newton

OBSERVABLE_INFO = {}
for _b, _txt in (("retrieval", "retrieval branch (m > 0)"),
                 ("spin_glass", "spin-glass branch (m = 0, q > 0; RS approximation for P >= 3)"),
                 ("paramagnet", "paramagnetic branch (m = q = 0)")):
    OBSERVABLE_INFO.update({
        f"m_{_b}": f"Mattis overlap m with the condensed pattern, {_txt}; dimensionless in [0, 1]; NaN where the branch does not exist",
        f"q_{_b}": f"Edwards-Anderson order parameter q = E tanh^2, {_txt}; dimensionless in [0, 1]; NaN where absent",
        f"r_{_b}": f"AGS noise parameter r = q/(1-beta(1-q))^2, {_txt}; dimensionless; NaN for P >= 3 or where absent",
        f"f_{_b}": f"RS free energy per neuron f, {_txt}; units of the coupling (same as T); NaN where absent",
        f"residual_{_b}": f"max |residual| of the saddle-point equations (m, q) at the returned point, {_txt}",
        f"converged_{_b}": f"Newton converged to residual <= tol, {_txt}; bool",
        f"iterations_{_b}": f"Newton iterations used (last attempt), {_txt}; int",
        f"stability_{_b}": f"largest real eigenvalue of the Jacobian of the fixed-point map (m,q)->(E tanh, E tanh^2); < 1 locally stable; {_txt}",
        f"exists_{_b}": f"the branch exists here (converged, and m > {M_MIN:g} for retrieval / q > {Q_MIN:g} for spin glass; RS paramagnet needs 1-beta > 0 at P = 2, alpha > 0), {_txt}; bool",
    })
OBSERVABLE_INFO.update({
    "m": "Mattis overlap of the thermodynamic state (see phase); dimensionless",
    "q": "Edwards-Anderson parameter of the thermodynamic state; dimensionless",
    "f": "free energy per neuron of the thermodynamic state (retrieval if f_R < f of the m = 0 state, "
         "else the m = 0 state with the larger f: spin glass or paramagnet); units of the coupling",
    "phase": "int8 phase code: 0 paramagnet, 1 spin_glass, 2 mixed (retrieval exists but metastable), 3 retrieval (thermodynamic), "
             "-1 unresolved (no m = 0 state found, or P = 2 below T_g = 1 + sqrt(alpha) without the spin glass; m, q, f NaN)",
})


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------
def _check_P(P) -> int:
    return check_integer("P", P, low=2, high=P_MAX)


def _check_alpha_array(alpha) -> np.ndarray:
    a = check_array_real("alpha", alpha, low=0.0)
    if a.ndim > 1:
        raise ParameterError("alpha", alpha, "a 1-D array of values alpha >= 0")
    return np.atleast_1d(a)


def _check_T_array(T) -> np.ndarray:
    t = check_array_real("T", T, low=0.0, low_open=True)
    if t.ndim > 1:
        raise ParameterError("T", T, "a 1-D array of values T > 0")
    return np.atleast_1d(t)


# ----------------------------------------------------------------------------------------------
# the field X = beta (a(m) + sqrt(v(q)) z) and the equations
# ----------------------------------------------------------------------------------------------
def _field(P, alpha, beta, m, q):
    """mu = beta a, sigma = beta sqrt(v), a'(m), v'(q), feasibility mask (|m| <= 1, 0 <= q <= 1,
    and for P = 2 with alpha > 0: D = 1 - beta(1-q) > 0)."""
    ok = (np.abs(m) <= 1.0) & (np.abs(q - 0.5) <= 0.5)
    if P == 2:
        D = 1.0 - beta * (1.0 - q)
        bad_D = D <= 0.0
        if bad_D.any():
            ok &= ~bad_D | (alpha == 0)
            D = np.where(bad_D, 1.0, D)
        qa = alpha * q
        v = qa / (D * D)
        dv = alpha * (D - 2.0 * beta * q) / (D * D * D)
        a, da = m, 1.0
    else:
        c = alpha * (math.factorial(P) * P / 4.0)
        qs = np.clip(q, 0.0, 1.0)
        v = c * qs ** (P - 1)
        dv = c * (P - 1) * qs ** (P - 2)
        a = 0.5 * P * m ** (P - 1)
        da = 0.5 * P * (P - 1) * m ** (P - 2)
    if not ok.all():
        v = np.where(ok, v, 0.0)
    return beta * a, beta * np.sqrt(np.maximum(v, 0.0)), da, dv, ok


def _equations(P, alpha, beta, m, q):
    """Residuals (Rm, Rq), Jacobian of the map (Jmm, Jmq, Jqm, Jqq) and feasibility; infeasible
    points get infinite residuals."""
    mu, sig, da, dv, ok = _field(P, alpha, beta, m, q)
    t1, d1, d2, d3 = tanh_moments(mu, sig)
    Rm = t1 - m
    Rq = (1.0 - d1) - q
    bd = beta * da
    b2 = beta * beta * dv
    J = (bd * d1, -b2 * d2, 2.0 * bd * d2, b2 * d3)
    if not ok.all():
        Rm[~ok] = np.inf
        Rq[~ok] = np.inf
    return Rm, Rq, J, ok


def _largest_eig(J):
    Jmm, Jmq, Jqm, Jqq = J
    half = 0.5 * (Jmm + Jqq)
    disc = half ** 2 - (Jmm * Jqq - Jmq * Jqm)
    return half + np.sqrt(np.maximum(disc, 0.0))


def free_energy(P, alpha, T, m, q, r=None):
    """RS free energy per neuron f(m, q[, r]) (module docstring), vectorised; for P = 2 r
    defaults to its saddle value q / (1 - beta(1-q))^2. f is stationary in (m, q, r) exactly at
    solutions of the saddle-point equations. NaN where undefined (P = 2 with 1 - beta(1-q) <= 0
    and alpha > 0). At alpha = 0 the glassy terms vanish identically.
    Domain: alpha >= 0, T > 0, -1 <= m <= 1, 0 <= q <= 1, r >= 0."""
    P = _check_P(P)
    alpha = check_array_real("alpha", alpha, low=0.0)
    T = check_array_real("T", T, low=0.0, low_open=True)
    m = check_array_real("m", m, low=-1.0, high=1.0)
    q = check_array_real("q", q, low=0.0, high=1.0)
    r = None if r is None else check_array_real("r", r, low=0.0)
    return _free_energy(P, alpha, T, m, q, r)


def _free_energy(P, alpha, T, m, q, r=None):
    """``free_energy`` without the input checks (internal, vectorised callers)."""
    alpha, T, m, q = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (alpha, T, m, q)))
    beta = 1.0 / T
    if P == 2:
        D = 1.0 - beta * (1.0 - q)
        good = (D > 0) | (alpha == 0)
        Ds = np.where(D > 0, D, 1.0)
        if r is None:
            r = q / Ds ** 2
        r = np.broadcast_to(np.asarray(r, dtype=np.float64), m.shape)
        glass = np.where(alpha > 0, alpha / (2 * beta) * (np.log(Ds) - beta * q / Ds)
                         + 0.5 * alpha * beta * r * (1 - q), 0.0)
        lnc = lncosh_average(beta * m, beta * np.sqrt(np.maximum(alpha * r, 0.0)))
        f = alpha / 2 + m ** 2 / 2 + glass - lnc / beta
        return np.where(good, f, np.nan)
    c = alpha * math.factorial(P) * P / 4.0
    lnc = lncosh_average(beta * 0.5 * P * m ** (P - 1), beta * np.sqrt(c * np.clip(q, 0, 1) ** (P - 1)))
    h = 1 - P * q ** (P - 1) + (P - 1) * q ** P
    mbf = lnc - beta * (P - 1) / 2 * m ** P + beta ** 2 * alpha * math.factorial(P) / 8 * h
    return -mbf / beta


# ----------------------------------------------------------------------------------------------
# Newton with backtracking line search (numpy reference via statmech.newton.damped_newton_2x2;
# the compiled kernel follows)
# ----------------------------------------------------------------------------------------------
def _newton_numpy(P, alpha, beta, m, q, fix_m, tol=TOL, maxiter=MAXITER, max_damped=None):
    """Solve R(m, q) = 0 at many points at once (1-D arrays). ``fix_m`` points keep m fixed
    (spin glass: m = 0 by symmetry) and solve for q alone. Newton step from the analytic
    Jacobian; step length by Deuflhard's natural monotonicity test (the simplified Newton
    correction |A^-1 R(x + lam dx)| with the old A = J - 1 must be <= (1 - lam/2)|dx|; affine
    invariant, so the stiff q-equation does not block good m-steps), trying lam = 1 and then
    1/2 ... 1/1000 in one batch; a point whose line
    search fails is stopped with converged = False, and so is a point collapsing onto the
    m = 0 (q = 0 for the spin glass) solution, which is not on the branch sought, or one whose
    residual did not halve within 5 iterations (stagnation: no root nearby), or (warm starts,
    ``max_damped`` given) one that needed more than ``max_damped`` damped steps: from a start
    next to the solution Newton takes full steps, and repeated damping means the start sits
    beyond a fold, where there is no root to find. Returns m, q, residual (max norm),
    converged, iterations, stability (largest eigenvalue of the map's Jacobian)."""
    def equations(idx, mt, qt):
        if idx is None:
            return _equations(P, alpha, beta, mt, qt) + (None,)
        return _equations(P, alpha[idx], beta[idx], mt, qt) + (None,)

    m, q, _, res, conv, its, J = damped_newton_2x2(equations, m, q, fix_m, tol, maxiter, _LAMBDAS, max_damped,
                                                   x_floor=1e-3 * M_MIN, y_floor=1e-3 * Q_MIN)
    return m, q, res, conv, its, _largest_eig(J)


# ----------------------------------------------------------------------------------------------
# compiled Newton (one point at a time, the same algorithm as _newton_numpy)
# ----------------------------------------------------------------------------------------------
@njit(cache=True)
def _field_point(P, cP, alpha, beta, m, q):
    """One point of ``_field``: (mu, sigma, a', v', ok); cP = P! P / 4."""
    ok = abs(m) <= 1.0 and abs(q - 0.5) <= 0.5
    if P == 2:
        D = 1.0 - beta * (1.0 - q)
        if D <= 0.0:
            if alpha != 0.0:
                ok = False
            D = 1.0
        v = alpha * q / (D * D)
        dv = alpha * (D - 2.0 * beta * q) / (D * D * D)
        a = m
        da = 1.0
    else:
        c = alpha * cP
        qs = min(max(q, 0.0), 1.0)
        v = c * qs ** (P - 1)
        dv = c * (P - 1) * qs ** (P - 2)
        a = 0.5 * P * m ** (P - 1)
        da = 0.5 * P * (P - 1) * m ** (P - 2)
    if not ok:
        v = 0.0
    return beta * a, beta * math.sqrt(max(v, 0.0)), da, dv, ok


@njit(cache=True)
def _eq_point(P, cP, alpha, beta, m, q, z, w, x, loc):
    """One point of ``_equations``: (ok, Rm, Rq, Jmm, Jmq, Jqm, Jqq)."""
    mu, sig, da, dv, ok = _field_point(P, cP, alpha, beta, m, q)
    t1, d1, d2, d3 = tanh_moments_point(mu, sig, z, w, x, loc)
    bd = beta * da
    b2 = beta * beta * dv
    Rm = t1 - m
    Rq = (1.0 - d1) - q
    if not ok:
        Rm = np.inf
        Rq = np.inf
    return ok, Rm, Rq, bd * d1, -b2 * d2, 2.0 * bd * d2, b2 * d3


@njit(cache=True)
def _newton_kernel(P, cP, alpha, beta, m_in, q_in, fix_m, tol, maxiter, max_damped, lambdas,
                   z, w, x, loc, m_min, q_min):
    n = m_in.size
    m_out = np.empty(n)
    q_out = np.empty(n)
    res_out = np.empty(n)
    conv_out = np.zeros(n, dtype=np.bool_)
    its_out = np.zeros(n, dtype=np.int64)
    stab_out = np.empty(n)
    for i in range(n):
        a = alpha[i]
        b = beta[i]
        fx = fix_m[i]
        m = m_in[i]
        q = q_in[i]
        ok, Rm, Rq, j11, j12, j21, j22 = _eq_point(P, cP, a, b, m, q, z, w, x, loc)
        if fx:
            Rm = 0.0
        res = max(abs(Rm), abs(Rq))
        conv = res <= tol
        dead = not ok
        its = 0
        res_ref = res
        damped = 0
        for it in range(maxiter):
            if conv or dead:
                break
            its += 1
            a11 = j11 - 1.0
            a22 = j22 - 1.0
            det = a11 * a22 - j12 * j21
            if fx:
                dm = 0.0
                dq = -Rq / a22
            else:
                dm = (Rq * j12 - Rm * a22) / det
                dq = (Rm * j21 - Rq * a11) / det
            if not (np.isfinite(dm) and np.isfinite(dq)):
                dead = True
                break
            norm0 = dm * dm + dq * dq
            took = False
            for kl in range(lambdas.size + 1):
                lt = 1.0 if kl == 0 else lambdas[kl - 1]
                mt = m + lt * dm
                qt = q + lt * dq
                okt, rmt, rqt, t11, t12, t21, t22 = _eq_point(P, cP, a, b, mt, qt, z, w, x, loc)
                if fx:
                    rmt = 0.0
                    bm = 0.0
                    bq = -rqt / a22
                else:
                    bm = (rqt * j12 - rmt * a22) / det
                    bq = (rmt * j21 - rqt * a11) / det
                acc = okt and ((bm * bm + bq * bq <= (1.0 - 0.5 * lt) ** 2 * norm0)
                               or (max(abs(rmt), abs(rqt)) <= tol))
                if acc:
                    if kl > 0:
                        damped += 1
                    m, q, Rm, Rq = mt, qt, rmt, rqt
                    j11, j12, j21, j22 = t11, t12, t21, t22
                    took = True
                    break
            if not took:
                dead = True
            res = max(abs(Rm), abs(Rq))
            conv = res <= tol
            if not conv:
                if fx:
                    if q < 1e-3 * q_min:
                        dead = True
                elif abs(m) < 1e-3 * m_min:
                    dead = True
                if max_damped >= 0 and damped > max_damped:
                    dead = True
            if it % 5 == 4:
                if res > 0.5 * res_ref and not conv:
                    dead = True
                res_ref = res
        half = 0.5 * (j11 + j22)
        disc = half * half - (j11 * j22 - j12 * j21)
        m_out[i] = m
        q_out[i] = q
        res_out[i] = res
        conv_out[i] = conv
        its_out[i] = its
        stab_out[i] = half + math.sqrt(max(disc, 0.0))
    return m_out, q_out, res_out, conv_out, its_out, stab_out


def _newton(P, alpha, beta, m, q, fix_m, tol=TOL, maxiter=MAXITER, max_damped=None):
    """Newton on R(m, q) = 0 at many points (1-D arrays): the algorithm of ``_newton_numpy``
    (which documents it), compiled with numba and run one point at a time (identical steps; the
    quadrature differs only in rounding, d1 = E sech^2 being summed directly)."""
    m, q, alpha, beta = (np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(m)))
                         for v in (m, q, alpha, beta))
    fix_m = np.ascontiguousarray(np.broadcast_to(np.asarray(fix_m, dtype=np.bool_), m.shape))
    z, w, x, loc = kernel_tables()
    return _newton_kernel(P, math.factorial(P) * P / 4.0, alpha, beta, m, q, fix_m, float(tol), int(maxiter),
                          -1 if max_damped is None else int(max_damped), _LAMBDAS, z, w, x, loc,
                          M_MIN, Q_MIN)


@njit(cache=True)
def _cold_start_kernel(P, cP, alpha, beta, fix_m, n_pre, z, w, x, loc):
    n = alpha.size
    m_out = np.empty(n)
    q_out = np.empty(n)
    for i in range(n):
        m = 0.0 if fix_m[i] else 1.0
        q = 1.0
        floor = 0.0
        if P == 2 and alpha[i] > 0:
            floor = max(1.0 - 1.0 / beta[i], 0.0)
        for _ in range(n_pre):
            mu, sig, _, _, _ = _field_point(P, cP, alpha[i], beta[i], m, q)
            t1, d1, _, _ = tanh_moments_point(mu, sig, z, w, x, loc)
            mn = 0.0 if fix_m[i] else min(max(t1, 0.0), 1.0)
            qn = min(max(1.0 - d1, 0.0), 1.0)
            if P == 2 and qn <= floor:
                qn = 0.5 * (q + floor) + (1e-12 if floor > 0 else 0.0)
            m, q = mn, qn
        m_out[i] = m
        q_out[i] = q
    return m_out, q_out


def _cold_start(P, alpha, beta, fix_m, n_pre=_N_PRE):
    """Starting point for Newton: a few plain iterations of the map from (m, q) = (1, 1)
    (or (0, 1) for the spin glass). Plain iteration is used only to get close, never as the
    solver. Infeasible iterates (P = 2, 1 - beta(1-q) <= 0) are pulled back halfway.
    Compiled (``_cold_start_kernel``); ``_cold_start_numpy`` is the same in numpy."""
    alpha, beta = (np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(fix_m)))
                   for v in (alpha, beta))
    return _cold_start_kernel(P, math.factorial(P) * P / 4.0, alpha, beta,
                              np.ascontiguousarray(fix_m, dtype=np.bool_), int(n_pre), *kernel_tables())


def _cold_start_numpy(P, alpha, beta, fix_m, n_pre=_N_PRE):
    """numpy version of ``_cold_start`` (reference for the tests and the benchmark baseline)."""
    m = np.where(fix_m, 0.0, 1.0)
    q = np.ones_like(m)
    for _ in range(n_pre):
        mu, sig, _, _, ok = _field(P, alpha, beta, m, q)
        t1, d1, _, _ = tanh_moments(mu, sig)
        mn = np.where(fix_m, 0.0, np.clip(t1, 0.0, 1.0))
        qn = np.clip(1.0 - d1, 0.0, 1.0)
        if P == 2:
            floor = np.where(alpha > 0, np.maximum(1.0 - 1.0 / beta, 0.0), 0.0)
            qn = np.where(qn <= floor, 0.5 * (q + floor) + 1e-12 * (floor > 0), qn)
        m, q = mn, qn
    return m, q


def _solve_points(P, alpha, beta, m0, q0, fix_m, tol, maxiter, max_damped=_MAX_DAMPED):
    """Newton from the given starts; a NaN start means a cold start (``_cold_start``, then
    Newton without the damped-step limit). For even P the mirror solution -m is folded to m."""
    cold = ~(np.isfinite(m0) & np.isfinite(q0))
    m0, q0 = m0.copy(), q0.copy()
    out = [np.empty(m0.size), np.empty(m0.size), np.empty(m0.size), np.zeros(m0.size, bool),
           np.zeros(m0.size, np.int64), np.empty(m0.size)]
    for sel, md, is_cold in ((cold, None, True), (~cold, max_damped, False)):
        if not sel.any():
            continue
        if is_cold:
            m0[sel], q0[sel] = _cold_start(P, alpha[sel], beta[sel], fix_m[sel])
        part = _newton(P, alpha[sel], beta[sel], m0[sel], q0[sel], fix_m[sel], tol, maxiter, max_damped=md)
        for x, y in zip(out, part):
            x[sel] = y
    if P % 2 == 0:
        out[0] = np.abs(out[0])
    return out


def _found(out, fix_m):
    m, q, _, conv, _, _ = out
    return conv & np.where(fix_m, q > Q_MIN, m > M_MIN)


# ----------------------------------------------------------------------------------------------
# grid solver
# ----------------------------------------------------------------------------------------------
def _paramagnet(P, alpha, T):
    """m = q = 0 branch: f (closed form), existence and stability; arrays shaped like alpha*T."""
    beta = 1.0 / T
    zero = np.zeros_like(alpha * T)
    if P == 2:
        exists = (T > 1.0) | (alpha == 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(alpha > 0, alpha / 2 + alpha / (2 * beta) * np.log(np.where(T > 1, 1 - beta, 1.0)), 0.0) \
                - np.log(2.0) / beta
    else:
        exists = np.ones(zero.shape, dtype=bool)
        f = -(np.log(2.0) + beta ** 2 * alpha * math.factorial(P) / 8) / beta
    f = np.where(exists, f, np.nan)
    a, b = (np.broadcast_to(x, zero.shape).ravel() for x in (alpha, beta))
    # at m = q = 0 the field is X = 0: E tanh = E t(1-t^2) = 0, E(1-t^2) = E(1-t^2)(1-3t^2) = 1
    mu, sig, da, dv, ok = _field(P, a, b, zero.ravel(), zero.ravel())
    J = (b * da, 0.0 * b, 0.0 * b, b * b * dv)
    stab = _largest_eig(J).reshape(zero.shape)
    res = np.where(ok, 0.0, np.inf).reshape(zero.shape)
    return f, exists, np.where(exists, stab, np.nan), np.where(exists, res, np.nan)


def _best_of(P, alpha2, T, fix_m, owner, m0, q0, tol, maxiter, n, max_damped=_MAX_DAMPED):
    """Run Newton on the candidate starts (``owner``: the stacked point index of each) in one
    vectorised call and scatter the results to arrays of length n."""
    m = np.full(n, np.nan)
    q, res, stab = m.copy(), m.copy(), m.copy()
    conv = np.zeros(n, dtype=bool)
    its = np.zeros(n, dtype=np.int64)
    if owner.size == 0:
        return m, q, res, conv, its, stab
    beta = np.full(owner.size, 1.0 / T)
    sol = _solve_points(P, alpha2[owner], beta, m0, q0, fix_m[owner], tol, maxiter, max_damped=max_damped)
    for arr, val in zip((m, q, res, conv, its, stab), sol):     # owners are unique
        arr[owner] = val
    return m, q, res, conv, its, stab


def _neighbour_of(found, status, a_order, nA):
    """For never-found stacked points (status 0) with an alpha-neighbour (in sorted alpha) in
    ``found``: arrays (point, neighbour); the lower neighbour is preferred."""
    return _neighbour_kernel(found, status.astype(np.int64), a_order.astype(np.int64), nA)


@njit(cache=True)
def _neighbour_kernel(found, status, a_order, nA):
    pts = np.empty(2 * nA, dtype=np.int64)
    nbs = np.empty(2 * nA, dtype=np.int64)
    n = 0
    for k in range(2):
        for half in range(2):            # all lower-neighbour pairs first, then the upper ones
            for j in range(nA):
                i = k * nA + a_order[j]
                if status[i] != 0 or found[i]:
                    continue
                lower = j > 0 and found[k * nA + a_order[j - 1]]
                if half == 0 and lower:
                    pts[n] = i
                    nbs[n] = k * nA + a_order[j - 1]
                    n += 1
                elif half == 1 and not lower and j < nA - 1 and found[k * nA + a_order[j + 1]]:
                    pts[n] = i
                    nbs[n] = k * nA + a_order[j + 1]
                    n += 1
    return pts[:n], nbs[:n]


def _march(P, alpha, Ts, tol, maxiter):
    """Retrieval and spin-glass branches on the grid alpha x Ts (Ts ascending), marching in T.

    Stacked problem: points 0..nA-1 retrieval, nA..2nA-1 spin glass (m = 0 imposed). Status per
    point: 0 never found, 1 found at the previous T, 2 found earlier and lost (passed its fold on
    this row; not attempted again). Candidate starts, all solved in one Newton call per column:
    status 1 -> secant predictor in (m, C = (1-q)/T) through the last two solutions (one
    solution: C held fixed), with Newton stopped after
    _MAX_DAMPED damped steps (the sign of a start beyond the fold); if that fails and the point
    was not close to its fold (stability < _NEAR_FOLD), the previous solution itself with twice
    that limit, in a second call;
    lowest T -> cold start; status 0 next to an alpha-neighbour that had the branch at the
    previous T -> that neighbour's solution (continuation in alpha, for branches appearing above
    the lowest T); any other never-found spin-glass point, and the retrieval point of a row
    where no branch was found yet -> cold start again at every T (a branch missed at an extreme
    lowest T, e.g. T ~ 1e-8 where 1 - q ~ T is not resolved, is found at the next; retrieval on
    rows that have a spin glass is not retried cold: that would cost a failed Newton per point
    beyond the capacity and per T). A status-1 point that fails all of them although it was far from its fold
    (stability < _RETRY_STAB at the previous T) is retried from a cold start; newly appeared
    points seed their never-found neighbours at the same T.
    Yields (column index, found, m, q, res, conv, its, stab) per column.
    """
    nA = alpha.size
    n = 2 * nA
    fix_m = np.concatenate([np.zeros(nA, dtype=bool), np.ones(nA, dtype=bool)])
    alpha2 = np.concatenate([alpha, alpha])
    a_order = np.argsort(alpha, kind="stable")
    m_prev = np.full(n, np.nan)
    q_prev, m_prev2, q_prev2, stab_prev = (m_prev.copy() for _ in range(4))
    status = np.zeros(n, dtype=np.int8)
    found = np.zeros(n, dtype=bool)
    qfloor = 0.0
    for jj, T in enumerate(Ts):
        if P == 2:
            qfloor = max(1.0 - T, 0.0)
        owner, m0, q0 = [], [], []
        alive = np.flatnonzero(status == 1)
        predicted = np.zeros(n, dtype=bool)
        if alive.size:
            # predict in (m, C) with C = (1 - q)/T, which stays finite as T -> 0 (at low T a
            # start at fixed q is far off: 1 - q ~ C T changes in proportion to T): secant
            # through the last two solutions where both exist, else C held fixed
            C1 = (1 - q_prev[alive]) / Ts[jj - 1]
            mp, Cp = m_prev[alive], C1
            if jj >= 2:
                w = (T - Ts[jj - 1]) / (Ts[jj - 1] - Ts[jj - 2])
                two = np.isfinite(m_prev2[alive])
                mp = np.where(two, mp + w * (mp - m_prev2[alive]), mp)
                Cp = np.where(two, C1 + w * (C1 - (1 - q_prev2[alive]) / Ts[jj - 2]), C1)
            qp = 1 - Cp * T
            good = np.isfinite(mp) & np.isfinite(qp) & (np.abs(mp) <= 1) & (qp <= 1) & (qp > qfloor) & (qp >= 0)
            mp = np.where(good, mp, m_prev[alive])
            qp = np.where(good, qp, q_prev[alive])
            predicted[alive[good]] = True
            owner.append(alive), m0.append(mp), q0.append(qp)
        if jj == 0:
            new = np.flatnonzero(status == 0)
            owner.append(new), m0.append(np.full(new.size, np.nan)), q0.append(np.full(new.size, np.nan))
        else:
            pts, nbs = _neighbour_of(found, status, a_order, nA)
            owner.append(pts), m0.append(m_prev[nbs]), q0.append(q_prev[nbs])
            # never-found spin-glass points, and both branches on rows where nothing was found
            # yet, without a neighbour start: cold start again (the lowest T may be too low to
            # resolve, e.g. 1 - q ~ T at T ~ 1e-8)
            empty = (status[:nA] == 0) & (status[nA:] == 0)
            cold = np.flatnonzero((status == 0) & (fix_m | np.concatenate([empty, empty])))
            cold = np.setdiff1d(cold, pts)
            owner.append(cold), m0.append(np.full(cold.size, np.nan)), q0.append(np.full(cold.size, np.nan))
        owner, m0, q0 = (np.concatenate(x) for x in (owner, m0, q0))
        sol = list(_best_of(P, alpha2, T, fix_m, owner, m0, q0, tol, maxiter, n))
        fnd = _found(sol, fix_m)
        # a failed predictor: retry from the previous solution itself
        retry = np.flatnonzero(predicted & ~fnd & (stab_prev < _NEAR_FOLD))
        if retry.size:
            again = _best_of(P, alpha2, T, fix_m, retry, m_prev[retry], q_prev[retry],
                             tol, maxiter, n, max_damped=2 * _MAX_DAMPED)
            got = _found(again, fix_m)
            for x, y in zip(sol, again):
                x[got] = y[got]
            fnd |= got
        # cold retry of unexpected losses (far from the fold)
        retry = np.flatnonzero((status == 1) & ~fnd & (stab_prev < _RETRY_STAB))
        if retry.size:
            again = _best_of(P, alpha2, T, fix_m, retry, np.full(retry.size, np.nan),
                             np.full(retry.size, np.nan), tol, maxiter, n)
            got = _found(again, fix_m)
            for x, y in zip(sol, again):
                x[got] = y[got]
            fnd |= got
        # newly appeared points seed their never-found neighbours at this T
        tried = np.zeros(n, dtype=bool)
        tried[owner] = True
        while True:
            pts, nbs = _neighbour_of(fnd & (status == 0), np.where(tried, 3, status), a_order, nA)
            if pts.size == 0:
                break
            tried[pts] = True
            again = _best_of(P, alpha2, T, fix_m, pts, sol[0][nbs], sol[1][nbs], tol, maxiter, n)
            got = _found(again, fix_m)
            for x, y in zip(sol, again):
                x[got] = y[got]
            if not got.any():
                break
            fnd |= got
        found = fnd
        status = np.where(found, 1, np.where(status >= 1, 2, 0)).astype(np.int8)
        m_prev2, q_prev2 = m_prev, q_prev
        m_prev = np.where(found, sol[0], np.nan)
        q_prev = np.where(found, sol[1], np.nan)
        stab_prev = np.where(found, sol[5], np.nan)
        yield jj, found, sol


def solve_grid(P, alpha, T, *, tol: float = TOL, maxiter: int = MAXITER) -> dict:
    """Solve the RS saddle-point equations on the grid alpha x T, all branches.

    Parameters: P >= 2 (integer), alpha (1-D, >= 0), T (1-D, > 0), tol (> 0, max-norm of the
    residual), maxiter (>= 1, Newton iterations per attempt).

    Method: march in T from low to high, all alpha and both branches in one (compiled) Newton
    call per temperature (see ``_march``): warm starts from a secant predictor along the alpha
    row, cold starts (a few plain map iterations from m = q = 1, or q = 1 for the spin glass)
    at the lowest T, continuation in alpha for branches that appear above the lowest T
    (reentrance). Once a branch has been found on an alpha row and then lost (it passed its
    fold), it is not attempted at higher T there: those points have converged = False,
    iterations = 0, residual = NaN (the flags say "not found", never a silent number).

    Returns a dict of arrays of shape (len(alpha), len(T)), see ``OBSERVABLE_INFO``: for b in
    BRANCHES: m_b, q_b, r_b, f_b, residual_b, converged_b, iterations_b, stability_b, exists_b;
    and m, q, f, phase (int8, codes in PHASES) of the thermodynamic state.
    """
    P = _check_P(P)
    alpha = _check_alpha_array(alpha)
    T = _check_T_array(T)
    tol = check_real("tol", tol, low=0.0, low_open=True)
    maxiter = check_integer("maxiter", maxiter, low=1)

    nA, nT = alpha.size, T.size
    order = np.argsort(T, kind="stable")
    shape = (nA, nT)
    out = {}
    for b in ("retrieval", "spin_glass"):
        for k in ("m", "q", "r", "f", "residual", "stability"):
            out[f"{k}_{b}"] = np.full(shape, np.nan)
        out[f"converged_{b}"] = np.zeros(shape, dtype=bool)
        out[f"iterations_{b}"] = np.zeros(shape, dtype=np.int64)
        out[f"exists_{b}"] = np.zeros(shape, dtype=bool)

    for jj, found, (m, q, res, conv, its, stab) in _march(P, alpha, T[order], tol, maxiter):
        j = order[jj]
        for k, b in enumerate(("retrieval", "spin_glass")):
            s = slice(k * nA, (k + 1) * nA)
            e = found[s]
            out[f"exists_{b}"][:, j] = e
            out[f"converged_{b}"][:, j] = conv[s]
            out[f"iterations_{b}"][:, j] = its[s]
            out[f"residual_{b}"][:, j] = res[s]
            out[f"m_{b}"][:, j] = np.where(e, m[s], np.nan)
            out[f"q_{b}"][:, j] = np.where(e, q[s], np.nan)
            out[f"stability_{b}"][:, j] = np.where(e, stab[s], np.nan)
    AA, TT = np.meshgrid(alpha, T, indexing="ij")
    for b in ("retrieval", "spin_glass"):
        e = out[f"exists_{b}"]
        mm = np.where(e, out[f"m_{b}"], 0.0)
        qq = np.where(e, out[f"q_{b}"], 0.0)
        out[f"f_{b}"][e] = _free_energy(P, AA[e], TT[e], mm[e], qq[e])
        if P == 2:
            D = 1 - (1 - qq) / TT
            out[f"r_{b}"] = np.where(e, qq / np.where(e, D, 1.0) ** 2, np.nan)
    f_p, e_p, st_p, res_p = _paramagnet(P, AA, TT)
    out.update({"m_paramagnet": np.where(e_p, 0.0, np.nan), "q_paramagnet": np.where(e_p, 0.0, np.nan),
                "r_paramagnet": np.where(e_p & (P == 2), 0.0, np.nan), "f_paramagnet": f_p,
                "residual_paramagnet": res_p, "converged_paramagnet": e_p.copy(),
                "iterations_paramagnet": np.zeros(shape, dtype=np.int64),
                "stability_paramagnet": st_p, "exists_paramagnet": e_p})
    out.update(_classify(out, _sg_required(P, AA, TT)))
    return out


def _background(f_sg, e_sg, f_p, e_p):
    """The m = 0 state: the existing one with the larger f (n -> 0: maximise over q)."""
    use_sg = e_sg & (~e_p | (np.where(e_sg, f_sg, -np.inf) >= np.where(e_p, f_p, -np.inf)))
    f_bg = np.where(use_sg, f_sg, np.where(e_p, f_p, np.nan))
    return use_sg, f_bg


def _sg_required(P, alpha, T):
    """Where the RS spin glass must exist: P = 2, alpha > 0, T below T_g = 1 + sqrt(alpha) (with a
    0.1 % margin, as q -> 0 at T_g and q < Q_MIN counts as absent). False for P >= 3."""
    alpha, T = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64), np.asarray(T, dtype=np.float64))
    if P != 2:
        return np.zeros(alpha.shape, dtype=bool)
    return (alpha > 0) & (T < (1 + np.sqrt(alpha)) * (1 - 1e-3))


def _classify(out, sg_required=None):
    """Thermodynamic state (module docstring). UNRESOLVED where no m = 0 state was found (the
    retrieval state cannot be compared with anything) or where ``sg_required`` (bool mask) but the
    spin glass was not found."""
    e_r = out["exists_retrieval"]
    use_sg, f_bg = _background(out["f_spin_glass"], out["exists_spin_glass"],
                               out["f_paramagnet"], out["exists_paramagnet"])
    e_bg = np.isfinite(f_bg)
    if sg_required is not None:
        e_bg &= ~sg_required | out["exists_spin_glass"]
    retr = e_r & e_bg & (out["f_retrieval"] < np.where(e_bg, f_bg, np.inf))
    phase = np.where(use_sg, 1, 0).astype(np.int8)
    phase[e_r & ~retr] = 2
    phase[retr] = 3
    phase[~e_bg] = UNRESOLVED
    m_bg = np.where(e_bg, 0.0, np.nan)
    q_bg = np.where(use_sg & e_bg, out["q_spin_glass"], np.where(e_bg, 0.0, np.nan))
    return {"phase": phase,
            "m": np.where(retr, out["m_retrieval"], m_bg),
            "q": np.where(retr, out["q_retrieval"], q_bg),
            "f": np.where(retr, out["f_retrieval"], np.where(e_bg, f_bg, np.nan))}


# ----------------------------------------------------------------------------------------------
# T = 0
# ----------------------------------------------------------------------------------------------
def alpha_of_y(y):
    """AGS T = 0 retrieval curve: alpha(y) = (1/2)[erf(y)/y - (2/sqrt(pi)) exp(-y^2)]^2, with
    y = m / sqrt(2 alpha r), m = erf(y)."""
    y = np.asarray(y, dtype=np.float64)
    return 0.5 * (erf(y) / y - 2 / np.sqrt(np.pi) * np.exp(-y * y)) ** 2


def _y_c():
    from scipy.optimize import minimize_scalar
    res = minimize_scalar(lambda y: -alpha_of_y(y), bounds=(0.5, 3.0), method="bounded",
                          options={"xatol": 1e-12})
    return float(res.x)


def _dense_tangency(P):
    """Fold of m = erf(u), u = A m^(P-1) with A = (P/2)/sqrt(2 Sigma^2): (P-1) u (2/sqrt(pi)) e^{-u^2} = erf(u)."""
    from scipy.optimize import brentq
    g = lambda u: (P - 1) * u * 2 / np.sqrt(np.pi) * np.exp(-u * u) - erf(u)
    u = brentq(g, 1e-3, 10.0, xtol=1e-15, rtol=1e-15)
    m = erf(u)
    A = u / m ** (P - 1)
    return P / (2 * A * A * math.factorial(P)), m


def capacity(P) -> tuple[float, float]:
    """T = 0 storage capacity alpha_c(P) (largest alpha with an RS retrieval solution) and the
    overlap m_c there. P = 2: max_y alpha(y) (AGS, 0.1379, m = 0.967). P >= 3: tangency of
    m = erf((P/2) m^(P-1)/sqrt(2 Sigma^2)), Sigma^2 = alpha P! P/4 (alpha_c(3) = 0.1261,
    alpha_c(4) = 0.03298)."""
    P = _check_P(P)
    if P == 2:
        y = _y_c()
        return float(alpha_of_y(y)), float(erf(y))
    a, m = _dense_tangency(P)
    return float(a), float(m)


def solve_T0(P, alpha) -> dict:
    """T = 0 limit (q -> 1 with C = beta (1 - q) finite), vectorised over alpha (>= 0).

    P = 2: retrieval m = erf(y) with alpha(y) = alpha on the large-y branch, r = m^2/(2 alpha y^2),
    C = 1 - 1/sqrt(r); energy e = alpha/2 - m^2/2 - alpha r/2. Spin glass: C = 1/(1 + sqrt(pi alpha/2)),
    e = -1/pi - sqrt(2 alpha/pi).
    P >= 3: m = erf(y), y = (P/2) m^(P-1)/sqrt(2 Sigma^2), Sigma^2 = alpha P! P/4, largest root;
    C = sqrt(2/pi) e^{-y^2}/Sigma; e = -m^P/2 - Sigma sqrt(2/pi) e^{-y^2}. RS spin glass:
    e = -Sigma sqrt(2/pi), C = sqrt(2/pi)/Sigma.

    Returns dict of arrays: m, C, r (NaN for P >= 3), exists (bool), e_retrieval, e_spin_glass,
    C_spin_glass. Energies are f at T = 0 (units of the coupling).
    """
    from scipy.optimize import brentq
    P = _check_P(P)
    a_arr = _check_alpha_array(alpha)
    ac, _ = capacity(P)
    n = a_arr.size
    out = {k: np.full(n, np.nan) for k in ("m", "C", "r", "e_retrieval", "e_spin_glass", "C_spin_glass")}
    out["exists"] = np.zeros(n, dtype=bool)
    yc = _y_c() if P == 2 else None
    for i, a in enumerate(a_arr):
        if P == 2:
            out["e_spin_glass"][i] = -1 / np.pi - np.sqrt(2 * a / np.pi)
            out["C_spin_glass"][i] = 1 / (1 + np.sqrt(np.pi * a / 2))
            if a == 0:
                out["m"][i], out["C"][i], out["r"][i], out["e_retrieval"][i] = 1.0, 0.0, 1.0, -0.5
                out["exists"][i] = True
                continue
            if a > ac:
                continue
            hi = max(10.0, 4.0 / np.sqrt(a))
            y = brentq(lambda y: alpha_of_y(y) - a, yc, hi, xtol=1e-14, rtol=1e-15) if a < ac else yc
            m = erf(y)
            r = m * m / (2 * a * y * y)
            out["m"][i], out["r"][i], out["C"][i] = m, r, 1 - 1 / np.sqrt(r)
            out["e_retrieval"][i] = a / 2 - m * m / 2 - a * r / 2
            out["exists"][i] = True
        else:
            S = np.sqrt(a * math.factorial(P) * P / 4)
            out["e_spin_glass"][i] = -S * np.sqrt(2 / np.pi)
            out["C_spin_glass"][i] = np.sqrt(2 / np.pi) / S if S > 0 else np.inf
            if a == 0:
                out["m"][i], out["C"][i], out["e_retrieval"][i] = 1.0, 0.0, -0.5
                out["exists"][i] = True
                continue
            if a > ac:
                continue
            A = 0.5 * P / np.sqrt(2 * S * S)
            _, m_tan = _dense_tangency(P)
            F = lambda m: erf(A * m ** (P - 1)) - m
            m = brentq(F, m_tan, 1.0, xtol=1e-15, rtol=1e-15) if F(m_tan) > 0 else m_tan
            y = A * m ** (P - 1)
            out["m"][i], out["C"][i] = m, np.sqrt(2 / np.pi) * np.exp(-y * y) / S
            out["e_retrieval"][i] = -m ** P / 2 - S * np.sqrt(2 / np.pi) * np.exp(-y * y)
            out["exists"][i] = True
    return out


def thermodynamic_capacity(P):
    """alpha where the T = 0 retrieval and (RS) spin-glass energies cross, i.e. the T = 0 end of
    the T_c line (0.05185 for P = 2, classic "0.051"; 0.08879 for P = 3, 0.01638 for P = 4),
    or None if they do not cross below alpha_c."""
    return _alpha_T0_thermodynamic(_check_P(P))


def _alpha_T0_thermodynamic(P):
    """alpha where the T = 0 retrieval and spin-glass energies cross (T_c -> 0), or None."""
    from scipy.optimize import brentq
    ac, _ = capacity(P)
    d = lambda a: solve_T0(P, a)["e_retrieval"][0] - solve_T0(P, a)["e_spin_glass"][0]
    lo, hi = 1e-9, ac * (1 - 1e-9)
    if d(lo) * d(hi) > 0:
        return None
    return brentq(d, lo, hi, xtol=1e-13, rtol=1e-14)


# ----------------------------------------------------------------------------------------------
# boundaries
# ----------------------------------------------------------------------------------------------
# boundaries
# ----------------------------------------------------------------------------------------------
_T_RES = 1e-8        # T bisection (P >= 3 spin-glass line) stops below this bracket width
_A_RES = 1e-11       # alpha bisection (retrieval lines) stops below this bracket width
_N_SCAN = 97         # alpha scan points (bracketing) of the retrieval lines, first pass
_N_SCAN2 = 25        # the same, second pass (the extent of the lines is known by then)
_N_SHAPE = 48        # first-pass temperatures (shape of a line, for the arclength spacing)


def _solve_at(P, alpha, T, m0, q0, fix_m):
    """Newton from the given starts at per-point temperatures T; returns (found, m, q, stab)."""
    sol = list(_newton(P, alpha, 1.0 / T, m0, q0, fix_m))
    if P % 2 == 0:
        sol[0] = np.abs(sol[0])
    return _found(sol, fix_m), sol[0], sol[1], sol[5]


def _f_background(P, alpha, T, q_sg, sg_ok):
    """f of the m = 0 state: max(f_SG where found, f_para where it exists) (module docstring)."""
    f_sg = np.where(sg_ok, _free_energy(P, alpha, T, 0.0 * alpha, np.where(sg_ok, q_sg, 0.0)), -np.inf)
    f_p, e_p, _, _ = _paramagnet(P, alpha, T)
    f_bg = np.maximum(f_sg, np.where(e_p, f_p, -np.inf))
    return np.where(np.isfinite(f_bg), f_bg, np.nan)


def _alpha0_tops(P):
    """Upper (alpha = 0) ends of the retrieval lines: (T_M(0), T_c(0)). P = 2: both 1 (continuous
    Curie-Weiss transition). P >= 3, m = tanh(beta (P/2) m^(P-1)): T_M(0) = max_m (P/2) m^(P-1) /
    atanh(m) (fold), T_c(0) where f_R = (P-1)/2 m^P - T ln 2cosh(beta (P/2) m^(P-1)) equals the
    paramagnet's -T ln 2 (first-order transition)."""
    from scipy.optimize import brentq, minimize_scalar
    if P == 2:
        return 1.0, 1.0
    h = lambda m: 0.5 * P * m ** (P - 1)
    r = minimize_scalar(lambda m: -h(m) / np.arctanh(m), bounds=(1e-3, 1 - 1e-12), method="bounded",
                        options={"xatol": 1e-13})
    m_t, T_M = float(r.x), float(-r.fun)

    def m_of(T):       # largest root, in (m_t, 1) below T_M
        return brentq(lambda m: np.tanh(h(m) / T) - m, m_t, 1 - 1e-16, xtol=1e-16, rtol=1e-15)

    def df(T):
        m = m_of(T)
        x = h(m) / T
        return 0.5 * (P - 1) * m ** P - T * (x + np.log1p(np.exp(-2 * x)) - np.log(2.0))   # f_R - f_para
    T_c = brentq(df, 0.2 * T_M, T_M * (1 - 1e-12), xtol=1e-15, rtol=1e-15)
    return T_M, T_c


def _line_predicate(P, kind, a, T, mR, qR, qS):
    """Is (a, T) inside the region bounded by the line? kind "spinodal": a stable retrieval
    solution exists; "thermodynamic": it exists and its f is below the m = 0 state's (f_R <
    f_background, as in ``solve_grid``'s phase 3). Newton warm-started from (mR, qR) and, for the
    spin glass, qS (NaN: cold start). Returns (inside, m, q, q_sg) with q_sg NaN where no SG."""
    n = a.size
    beta = 1.0 / T
    fix = np.zeros(n, dtype=bool)
    sol = _solve_points(P, a, beta, mR, qR, fix, TOL, MAXITER, max_damped=None)
    okR = _found(sol, fix) & (sol[5] < 1.0)
    if kind == "spinodal":
        return okR, sol[0], sol[1], qS
    fix = np.ones(n, dtype=bool)
    solS = _solve_points(P, a, beta, np.zeros(n), qS, fix, TOL, MAXITER, max_damped=None)
    okS = _found(solS, fix)
    fR = _free_energy(P, a, T, np.where(okR, sol[0], 0.0), np.where(okR, sol[1], 0.0))
    fB = _f_background(P, a, T, solS[1], okS)
    inside = okR & (~np.isfinite(fB) | (fR < np.where(np.isfinite(fB), fB, 0.0)))
    return inside, sol[0], sol[1], np.where(okS, solS[1], np.nan)


def _grid_predicate(g, kind):
    if kind == "spinodal":
        return g["exists_retrieval"] & (np.nan_to_num(g["stability_retrieval"], nan=2.0) < 1.0)
    return g["phase"] == 3


def _alpha_on_lines(P, kinds, Ts, a_hi, n_scan=_N_SCAN):
    """alpha(T) of the lines ``kinds`` (each with its own 1-D array of temperatures in Ts): the
    region inside the line is alpha < alpha(T) at each T (the retrieval lines are single-valued
    in T, re-entrance included). Bracket from one ``solve_grid`` scan on an alpha grid
    [0, a_hi] (grown if the region reaches a_hi), checked by a warm-started solve at the upper
    end (a scan false negative moves the bracket up), then bisection in alpha with warm starts
    from the inner end down to _A_RES. NaN where no bracket was found."""
    T_u, col = np.unique(np.concatenate(Ts), return_inverse=True)
    for _ in range(8):
        A = np.linspace(0.0, a_hi, n_scan)
        g = solve_grid(P, A, T_u)
        preds = [_grid_predicate(g, k) for k in kinds]
        if not any(p[-1].any() for p in preds):
            break
        a_hi *= 1.5
    out, start = [], 0
    da = A[1] - A[0]
    for kind, T, pred in zip(kinds, Ts, preds):
        cols = col[start:start + T.size]
        start += T.size
        p = pred[:, cols]
        k = np.argmin(p, axis=0)                 # first alpha outside
        good = p[0] & ~p.all(axis=0)
        lo_i = np.maximum(k - 1, 0)
        lo, hi = A[lo_i], A[k]
        mR, qR = g["m_retrieval"][lo_i, cols], g["q_retrieval"][lo_i, cols]
        qS = g["q_spin_glass"][lo_i, cols]
        act = np.flatnonzero(good)
        for _ in range(n_scan):                  # bracket check: is the outer end really outside?
            if act.size == 0:
                break
            ins, m, q, qs = _line_predicate(P, kind, hi[act], T[act], mR[act], qR[act], qS[act])
            qS[act] = np.where(np.isfinite(qs), qs, qS[act])
            act = act[ins]
            lo[act], mR[act], qR[act] = hi[act], m[ins], q[ins]
            hi[act] += da
        act = np.flatnonzero(good)
        while act.size:
            mid = 0.5 * (lo[act] + hi[act])
            ins, m, q, qs = _line_predicate(P, kind, mid, T[act], mR[act], qR[act], qS[act])
            i_in, i_out = act[ins], act[~ins]
            lo[i_in], mR[i_in], qR[i_in] = mid[ins], m[ins], q[ins]
            hi[i_out] = mid[~ins]
            qS[act] = np.where(np.isfinite(qs), qs, qS[act])     # any nearby SG solution: a warm start
            act = act[hi[act] - lo[act] > _A_RES]
        out.append(np.where(good, 0.5 * (lo + hi), np.nan))
    return out


def _arclength_temperatures(a, T, n):
    """n - 2 temperatures equally spaced in arclength (alpha / max alpha, T / max T) along the
    polyline (a, T) (ordered along the line, T strictly decreasing)."""
    da = np.diff(a) / max(np.max(a), 1e-300)
    dT = np.diff(T) / np.max(T)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(da, dT))])
    return np.interp(np.linspace(0.0, s[-1], n)[1:-1], s, T)


def boundaries(P, alpha, *, points=None) -> dict:
    """Phase boundaries in the (alpha, T) plane.

    Returns {name: (alpha_values, T_values)}, each curve an ordered polyline along its line:
      "retrieval_spinodal": T_M, the fold beyond which the retrieval solution no longer exists
                      (a stable retrieval solution exists for alpha < alpha_M(T));
      "retrieval_thermodynamic": T_c, where f_retrieval = f of the m = 0 state (retrieval is the
                      thermodynamic state, ``solve_grid`` phase 3, for alpha < alpha_c(T)). For
                      P >= 3 the line turns back in alpha: retrieval beats the paramagnet at
                      intermediate T (upper branch) and loses to the RS spin glass at low T
                      (lower branch); both branches are on the curve;
      "spin_glass":   P = 2: T_g, where the paramagnet's q-eigenvalue alpha beta^2/(1-beta)^2
                      of the fixed-point map reaches 1: closed form 1 + sqrt(alpha); P >= 3: the RS transition f_SG(RS) = f_para (RS
                      approximation only: the real transition needs 1RSB), or the RS spin-glass
                      fold where that comes first (the m = 0 state switches there). Evaluated at
                      the given alpha values (sorted, increasing), where the line exists (P >= 3:
                      T_sg = c_P sqrt(alpha), exact scaling, see ``_spin_glass_line``).

    The two retrieval lines are traced as alpha(T), single-valued in T for the re-entrant
    spinodal near alpha_c (P = 2: alpha_M(T) exceeds alpha_c(T = 0) at small T > 0) and for
    both T_c branches at P >= 3. Each runs from its alpha = 0 end (P = 2: T = 1; P >= 3: the
    dense Curie-Weiss fold T_M(0) and first-order point T_c(0)) to its T = 0 end ((alpha_c, 0)
    from ``capacity``; (alpha where the T = 0 retrieval and spin-glass energies cross, 0), 0.05185
    for P = 2), with ``points`` points (default len(alpha), at least 3) equally spaced in
    arclength of (alpha / max alpha, T / T(alpha = 0)) (a first pass on _N_SHAPE temperatures
    gives the shape). At each interior point T is exact and alpha is located by bisection to
    1e-11 (see ``_alpha_on_lines``); the ends are exact.
    """
    P = _check_P(P)
    alpha = np.sort(_check_alpha_array(alpha))
    n = max(alpha.size, 3) if points is None else check_integer("points", points, low=3)
    tops = _alpha0_tops(P)
    ac, _ = capacity(P)
    a0 = _alpha_T0_thermodynamic(P)
    ends = (ac, ac if a0 is None else a0)
    kinds = ("spinodal", "thermodynamic")
    names = ("retrieval_spinodal", "retrieval_thermodynamic")
    u = np.linspace(0.0, 1.0, _N_SHAPE + 2)[1:-1]
    shape_T = [top * 0.5 * (1.0 + np.cos(np.pi * u)) for top in tops]      # descending, both ends dense
    shape_a = _alpha_on_lines(P, kinds, shape_T, 1.1 * ac)
    Ts = []
    for top, end, a1, T1 in zip(tops, ends, shape_a, shape_T):
        ok = np.isfinite(a1)
        Ts.append(_arclength_temperatures(np.r_[0.0, a1[ok], end], np.r_[top, T1[ok], 0.0], n))
    amax = np.nanmax(np.concatenate(shape_a + [np.array(ends)]))
    out = {}
    for name, top, end, T, a in zip(names, tops, ends, Ts, _alpha_on_lines(P, kinds, Ts, 1.1 * amax, _N_SCAN2)):
        ok = np.isfinite(a)
        out[name] = (np.r_[0.0, a[ok], end], np.r_[top, T[ok], 0.0])
    out["spin_glass"] = _spin_glass_line(P, alpha)
    return out


def _spin_glass_line(P, alpha):
    """P = 2: T_g = 1 + sqrt(alpha) (where the paramagnet's q-eigenvalue alpha beta^2/(1-beta)^2
    reaches 1). P >= 3: the m = 0 equations and beta (f_SG - f_para) depend on (beta, alpha) only
    through beta^2 alpha, so T_sg(alpha) = T_sg(a_ref) sqrt(alpha / a_ref) exactly; the line is
    computed once at a_ref = 2/P! (coupling J^2 = alpha P!/2 = 1, T_sg = O(1), inside the scan)
    and scaled (no alpha is dropped by the scan range). alpha = 0: no spin glass (dropped)."""
    if P == 2:
        return _curve(alpha, 1.0 + np.sqrt(alpha))
    a_ref = 2.0 / math.factorial(P)
    T_ref = _spin_glass_scan(P, np.array([a_ref]))[0]
    return _curve(alpha, np.where(alpha > 0, T_ref * np.sqrt(alpha / a_ref), np.nan))


def _spin_glass_scan(P, alpha):
    """P >= 3: T_sg per alpha by a scan on T <= 0.51 P and bisection; NaN where the predicate
    below is still true at the top of the scan (or never true)."""
    nA = alpha.size
    # predicate "RS spin glass exists and f_SG >= f_para": true at low T; T_sg is where it
    # turns false (the crossing, or the SG fold if f_SG stays above f_para up to the fold)
    Ts = np.unique(np.concatenate([np.geomspace(1e-3, 0.05, 12), np.linspace(0.05, 0.5 * P * 1.02, 90)]))
    g = solve_grid(P, alpha, Ts)
    eS = g["exists_spin_glass"]
    pred = eS & (np.where(eS, g["f_spin_glass"] - g["f_paramagnet"], -1.0) >= 0)
    T_sg = np.full(nA, np.nan)
    for i in range(nA):
        k = np.flatnonzero(pred[i])
        if k.size == 0 or k[-1] + 1 >= Ts.size:
            continue
        k = k[-1]
        lo, hi, q_lo = Ts[k], Ts[k + 1], g["q_spin_glass"][i, k]
        while hi - lo > _T_RES:
            mid = 0.5 * (lo + hi)
            ok, _, q, _ = _solve_at(P, alpha[i:i + 1], np.array([mid]), np.zeros(1), np.array([q_lo]), np.ones(1, bool))
            fS = _free_energy(P, alpha[i], mid, 0.0, q[0])
            fP = _paramagnet(P, np.array([alpha[i]]), np.array([mid]))[0][0]
            if ok[0] and fS >= fP:
                lo, q_lo = mid, q[0]
            else:
                hi = mid
        T_sg[i] = 0.5 * (lo + hi)
    return T_sg


def _curve(alpha, T):
    ok = np.isfinite(T)
    return alpha[ok], T[ok]
