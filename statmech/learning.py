"""Replica-symmetric theory of dense Hebbian networks learning from examples.

Spec: /work/shared/physics/learning.md (conventions, Sections 3.1-3.6). Supervised and
unsupervised settings, even P >= 2, low storage (K finite, one condensed archetype) and high
storage (K = alpha N^(P-1); P = 2: K = alpha N, AGS type with reaction term).

Dataset: quality r, M examples per archetype, rho = (1 - r^2)/(M r^2), R = r^2 (1 + rho). The
archetype signal enters through u = etabar_i xi_i / r, E u = 1, E u^2 = 1 + rho, either

    average="gaussian":  u = 1 + sqrt(rho) Z   (large M; depends on rho only), or
    average="binomial":  u = (2B - M)/(r M), B ~ Binomial(M, (1+r)/2)   (exact, finite M).

Order parameters: s = (1/(rN)) sum_i etabar_i sigma_i (drives the field; s -> m as rho -> 0),
n = s/(1+rho) (the group's generalised overlap), Mattis overlap m with the archetype, EA q.
Signal factor kappa = (1+rho)^(-P/2) (Hamiltonian prefactor R^(P/2); unsupervised 1/(R^(P/2) M)).

Field X = beta (A u + sqrt(v) z), z ~ N(0,1), A = kappa (P/2) s^(P-1); saddle point

    s = E[u tanh X],  q = E tanh^2 X,  m = E tanh X            (exact, no Stein form iterated)

with the glassy variance v(q):
    low load:                 v = 0
    high load, P > 2:         v = alpha g c P q^(P-1) / 4        (c = P! distinct indices; Sec. 3.3)
    high load, P = 2 (AGS):   v = alpha p,  alpha p = alpha q sum_k w_k lam_k^2 / D_k^2,
                              D_k = 1 - beta lam_k (1 - q)
g = 1 supervised (etabar/sqrt(R) has unit per-site variance and only second moments enter the
distinct-index kernel); unsupervised g = [r^(2P) + (1 - r^(2P))/M] / R^P (Sec. 3.5: per archetype
the replica covariance is sum_ab (E eta^a eta^b)^P q^P / (M^2 R^P) with E eta^a eta^b = 1 (a = b),
r^2 (a != b), i.e. [M + M(M-1) r^(2P)] / (M^2 R^P) times that of one pattern; checked here: g = 1
at M = 1, g -> 1 as M -> infinity at fixed r). P = 2 modes: supervised one mode (w, lam) = (1, 1);
unsupervised (derived here, not in the spec): the M example overlaps of a non-condensed archetype
have covariance C_ab = delta_ab (1 - r^2) + r^2, eigenvalues 1 + (M-1) r^2 (once) and 1 - r^2
(M - 1 times), so each archetype acts as M Hopfield patterns with strengths lam = c_k/(R M):
(w, lam) = (1, 1) and (M - 1, (1 - r^2)/(R M)). Both tend to AGS as M -> infinity at fixed r.

Quenched pressure A = -beta f:
    P > 2 / low:  -beta f = E ln 2cosh X - beta kappa (P-1)/2 s^P
                            + (beta^2 alpha g c/8)(1 - P q^(P-1) + (P-1) q^P)
    P = 2 high:   f = kappa s^2/2 + alpha sum_k w_k h_k(q) + (beta/2) v (1 - q) - (1/beta) E ln 2cosh X,
                  h = lam/2 + (1/(2 beta)) [ln D - beta lam q / D]   (lam/2: J_ii = 0)
f is stationary in (s, q) exactly at the saddle point (tested by finite differences).

The Gaussian average is done in closed form: with u Gaussian, X ~ N(beta A, beta^2 (rho A^2 + v))
and E[u tanh X] = m + rho beta A E[1 - tanh^2 X] (Stein), so every average is one call of
``statmech.quadrature.tanh_moments``; the binomial average sums tanh_moments over the M + 1 values
of u with binomial weights.

Solver: vectorised Newton on (s, q) with the analytic Jacobian of the map (s, q) -> (S, Q);
``stability_<branch>`` is its largest real eigenvalue (< 1: locally attracting). Branches:
retrieval (s > 0), spin_glass (s = 0, q > 0; high load only), paramagnet (s = q = 0); phase
codes and the choice of the thermodynamic state as in ``statmech.storage`` (PHASES,
the m = 0 state with the larger f; retrieval thermodynamic where f_R is below it).

Big-data limit: rho -> 0 (M -> infinity at fixed r) gives statmech.storage exactly (kappa -> 1,
g -> 1, the second P = 2 mode drops out). The unsupervised theory is the example-symmetric
(generalising) branch; its stability towards example-antisymmetric perturbations (memorisation)
is reported as ``stability_examples_<branch>`` (``_Params.example_eig``). The example-retrieval
(memorisation) states themselves are solved in ``statmech.learning_examples`` (exact finite-M
law, low load); ``solve_grid`` adds their observables (``*_example``) and the phase code
EXAMPLE_PHASE = 4 where a single-example state has the lowest free energy (unsupervised, low load,
M given, M >= 2; PHASES_LEARNING).

Public API: solve_grid, solve_T0, free_energy, boundaries, capacity, gaussian_T0_overlap,
binomial_T0_overlap; OBSERVABLE_INFO documents every key of solve_grid.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import erf
from scipy.stats import binom

from hopfield.validation import ParameterError, check_array_real, check_choice, check_integer, check_real
from statmech.learning_examples import OBSERVABLE_INFO as _EX_INFO, check_span
from statmech.newton import damped_newton_2x2
from statmech.quadrature import lncosh_average, tanh_moments
from statmech.storage import M_MIN, PHASES, Q_MIN, _classify, _largest_eig

__all__ = ["PHASES", "PHASES_LEARNING", "EXAMPLE_PHASE", "BRANCHES", "SETTINGS", "OBSERVABLE_INFO", "solve_grid", "solve_T0", "free_energy",
           "boundaries", "capacity", "binomial_T0_overlap", "gaussian_T0_overlap"]

BRANCHES = ("retrieval", "spin_glass", "paramagnet")
EXAMPLE_PHASE = 4
PHASES_LEARNING = {**PHASES, EXAMPLE_PHASE: "example_retrieval"}
SETTINGS = ("supervised", "unsupervised")
LOADS = ("high", "low")
AVERAGES = ("gaussian", "binomial")
TOL = 1e-12
MAXITER = 60
_LAMBDAS = np.array([0.5, 0.25, 0.1, 0.03, 0.01])
_N_PRE = 12
_W_CUT = 1e-18        # binomial weights below this (for every rho of the grid) are dropped

OBSERVABLE_INFO = {}
for _b, _txt in (("retrieval", "retrieval branch (s > 0)"),
                 ("spin_glass", "spin-glass branch (s = 0, q > 0; high load only; RS approximation for P > 2)"),
                 ("paramagnet", "paramagnetic branch (s = q = 0)")):
    OBSERVABLE_INFO.update({
        f"m_{_b}": f"Mattis overlap with the archetype m = E tanh X, {_txt}; in [0, 1]; NaN where absent",
        f"s_{_b}": f"signal overlap s = (1/(rN)) sum etabar.sigma = E[u tanh X], {_txt}; in [0, sqrt(1+rho)]; NaN where absent",
        f"n_{_b}": f"generalised overlap n = s/(1+rho) (group normalisation), {_txt}; NaN where absent",
        f"q_{_b}": f"Edwards-Anderson parameter q = E tanh^2 X, {_txt}; NaN where absent",
        f"p_{_b}": f"AGS noise parameter p = v/alpha (P = 2 high load only, else NaN), {_txt}",
        f"f_{_b}": f"RS free energy per neuron f = -A/beta (A: quenched pressure), {_txt}; units of the coupling",
        f"residual_{_b}": f"max |residual| of the saddle-point equations (s, q), {_txt}",
        f"converged_{_b}": f"Newton converged to residual <= tol, {_txt}; bool",
        f"iterations_{_b}": f"Newton iterations used (last attempt), {_txt}; int",
        f"stability_{_b}": f"largest real eigenvalue of the Jacobian of the map (s,q)->(E u tanh X, E tanh^2 X); < 1 locally stable; {_txt}",
        f"stability_examples_{_b}": "unsupervised only (else NaN): eigenvalue of the example-antisymmetric modes of the map of the "
                                    f"M example overlaps at the example-symmetric point (> 1: unstable towards memorising examples; "
                                    f"NaN for M = 1), {_txt}",
        f"exists_{_b}": f"the branch exists here (converged, s > {M_MIN:g} and stability < 1 for retrieval, q > {Q_MIN:g} for the spin glass), {_txt}; bool",
    })
OBSERVABLE_INFO.update(_EX_INFO)
OBSERVABLE_INFO.update({
    "m": "Mattis overlap of the thermodynamic state (see phase)",
    "s": "signal overlap s of the thermodynamic state",
    "n": "generalised overlap n = s/(1+rho) of the thermodynamic state",
    "q": "Edwards-Anderson parameter of the thermodynamic state",
    "f": "free energy per neuron of the thermodynamic state (retrieval if f_R < f of the m = 0 state, else the m = 0 state "
         "with the larger f); units of the coupling",
    "phase": "int8 phase code (PHASES_LEARNING): 0 paramagnet, 1 spin_glass, 2 mixed (retrieval metastable), 3 retrieval, "
             "4 example_retrieval (unsupervised, low load, M >= 2: a single-example state has the lowest free energy)",
})


# ----------------------------------------------------------------------------------------------
# validation and per-point parameters
# ----------------------------------------------------------------------------------------------
def _arr(name, x, low, low_open=False):
    a = check_array_real(name, x, low=low, low_open=low_open)
    if a.ndim > 1:
        raise ParameterError(name, x, f"a 1-D array of values {name} {'>' if low_open else '>='} {low:g}")
    return np.atleast_1d(a)


def _check_common(setting, P, load, average, M, r, c):
    check_choice("setting", setting, SETTINGS)
    P = check_integer("P", P, low=2)
    if P % 2:
        raise ParameterError("P", P, "an even integer >= 2")
    check_choice("load", load, LOADS)
    check_choice("average", average, AVERAGES)
    if M is not None:
        M = check_integer("M", M, low=1)
    if r is not None:
        r = check_real("r", r, low=0.0, high=1.0, low_open=True, high_open=True)
        if M is not None:
            raise ParameterError("r", r, "None when M is given (r = (1 + rho M)^(-1/2) follows from rho and M)")
        if average == "binomial":
            raise ParameterError("r", r, "None for average='binomial' (give the integer M)")
    if average == "binomial" and M is None:
        raise ParameterError("M", M, "an integer M >= 1 for average='binomial'")
    if setting == "unsupervised" and load == "high" and M is None and r is None:
        raise ParameterError("M", M, "an integer M >= 1 (or r) for the unsupervised high-load theory")
    c = math.factorial(P) if c is None else check_real("c", c, low=0.0, low_open=True)
    return P, M, r, c


class _Params:
    """Per-point parameters over the flattened (alpha, rho) grid (alpha slow, rho fast)."""

    def __init__(self, setting, P, load, average, alpha, rho, M, r, c):
        self.P, self.load, self.average, self.setting = P, load, average, setting
        AA, RR = (x.ravel() for x in np.meshgrid(alpha, rho, indexing="ij"))
        if load == "low":
            AA = np.zeros_like(AA)
        self.alpha, self.rho = AA, RR
        self.kappa = (1.0 + RR) ** (-0.5 * P)
        if M is not None:
            rr = 1.0 / np.sqrt(1.0 + RR * M)
            MM = np.full(RR.shape, float(M))
        elif r is not None:
            rr = np.full(RR.shape, r)
            with np.errstate(divide="ignore"):
                MM = np.where(RR > 0, (1 - r * r) / np.where(RR > 0, RR, 1.0) / (r * r), np.inf)
        else:
            rr = MM = np.full(RR.shape, np.nan)
        self.r, self.M = rr, MM
        R = rr * rr * (1 + RR)
        high = load == "high"
        self.v_c = np.zeros_like(AA)            # P > 2: v = v_c q^(P-1)
        self.glass = np.zeros_like(AA)          # P > 2: beta^2 * glass * (1 - P q^(P-1) + (P-1) q^P)
        self.w = np.zeros((AA.size, 2))         # P = 2 modes
        self.lam = np.zeros((AA.size, 2))
        if high and P > 2:
            if setting == "supervised":
                g = np.ones_like(AA)
            else:
                r2P = rr ** (2 * P)
                g = np.where(np.isfinite(MM), (r2P + (1 - r2P) / MM) / R ** P, 1.0)
            self.v_c = AA * g * c * P / 4.0
            self.glass = AA * g * c / 8.0
        elif high:
            self.w[:, 0], self.lam[:, 0] = 1.0, 1.0
            if setting == "unsupervised":
                fin = np.isfinite(MM) & (RR > 0)
                self.w[:, 1] = np.where(fin, MM - 1.0, 0.0)
                self.lam[:, 1] = np.where(fin, (1 - rr * rr) / (R * np.where(fin, MM, 1.0)), 0.0)
        self.p2 = high and P == 2
        if average == "binomial":
            Mi = int(M)
            k = np.arange(Mi + 1)
            W = binom.pmf(k[None, :], Mi, 0.5 * (1 + rr[:, None]))
            keep = (W > _W_CUT).any(axis=0)
            self.U = (2.0 * k[keep][None, :] - Mi) / (rr[:, None] * Mi)
            self.W = W[:, keep] / W[:, keep].sum(axis=1, keepdims=True)
        self.keys = ["alpha", "rho", "kappa", "r", "M", "v_c", "glass", "w", "lam"] + (
            ["U", "W"] if average == "binomial" else [])

    def sub(self, idx):
        new = object.__new__(_Params)
        new.__dict__.update({k: v for k, v in self.__dict__.items()})
        for k in self.keys:
            new.__dict__[k] = getattr(self, k)[idx]
        return new

    def smax(self):
        return np.sqrt(1.0 + self.rho) * (1 + 1e-12)

    # ------------------------------------------------------------------ the equations
    def amplitude(self, s):
        P = self.P
        return self.kappa * 0.5 * P * s ** (P - 1), self.kappa * 0.5 * P * (P - 1) * s ** (P - 2)

    def variance(self, beta, q):
        """v(q), dv/dq, feasibility."""
        if self.p2:
            D = 1.0 - beta[:, None] * self.lam * (1.0 - q[:, None])
            ok = (D[:, 0] > 0) | (self.alpha == 0)
            Ds = np.where(D > 0, D, 1.0)
            wl2 = self.w * self.lam ** 2
            v = self.alpha * q * (wl2 / Ds ** 2).sum(axis=1)
            dv = self.alpha * (wl2 * (Ds - 2 * beta[:, None] * self.lam * q[:, None]) / Ds ** 3).sum(axis=1)
            return np.where(ok, np.maximum(v, 0.0), 0.0), dv, ok
        P = self.P
        qc = np.clip(q, 0.0, 1.0)
        return self.v_c * qc ** (P - 1), self.v_c * (P - 1) * qc ** (P - 2), np.ones(q.shape, bool)

    def moments(self, beta, A, v):
        """m, S, Q and the partials dS/dA, dS/dv, dQ/dA, dQ/dv for X = beta (A u + sqrt(v) z)."""
        b2 = beta * beta
        if self.average == "gaussian":
            rho = self.rho
            t1, d1, d2, d3 = tanh_moments(beta * A, beta * np.sqrt(rho * A * A + v))
            dQdA = 2 * beta * d2 + 2 * b2 * rho * A * d3
            dQdv = b2 * d3
            dT1dA = beta * d1 - 2 * b2 * rho * A * d2
            dSdA = dT1dA + rho * beta * d1 - rho * beta * A * dQdA
            dSdv = -b2 * d2 - rho * beta * A * dQdv
            return t1, t1 + rho * beta * A * d1, 1.0 - d1, dSdA, dSdv, dQdA, dQdv
        U, W = self.U, self.W
        mu = (beta * A)[:, None] * U
        if np.all(v == 0):
            t1 = np.tanh(mu)
            d1 = 1.0 - t1 * t1
            d2 = t1 * d1
            d3 = d1 * (1.0 - 3.0 * t1 * t1)
        else:
            t1, d1, d2, d3 = tanh_moments(mu, np.broadcast_to((beta * np.sqrt(v))[:, None], mu.shape))
        WU = W * U
        m = (W * t1).sum(1)
        return (m, (WU * t1).sum(1), 1.0 - (W * d1).sum(1), beta * (WU * U * d1).sum(1),
                -b2 * (WU * d2).sum(1), 2 * beta * (WU * d2).sum(1), b2 * (W * d3).sum(1))

    def example_eig(self, beta, s, q):
        """Unsupervised setting: eigenvalue of the example-antisymmetric modes (multiplicity M - 1)
        of the fixed-point map of the M example overlaps n_a = E[eta^a tanh X] of the condensed
        archetype, at the example-symmetric point n_a = r s (derived here):

            lambda_ex = beta A' / (r^2 (M - 1)) E[(1 - r^2 u^2) sech^2 X],   A' = dA/ds,

        (the symmetric mode is d S/d s). > 1: the generalising state is unstable towards
        memorising examples. NaN for the supervised setting or M = 1; 0 for M = infinity."""
        n = np.size(s)
        if self.setting != "unsupervised":
            return np.full(n, np.nan)
        A, dA = self.amplitude(s)
        v, _, _ = self.variance(beta, q)
        if self.average == "gaussian":
            rho = self.rho
            _, d1, d2, d3 = tanh_moments(beta * A, beta * np.sqrt(rho * A * A + v))
            # Stein on u = 1 + sqrt(rho) Z: E[u^2 F] = (1 + rho) E F + 2 rho beta A E F' + rho^2 beta^2 A^2 E F''
            u2 = (1 + rho) * d1 - 4 * rho * beta * A * d2 - 2 * rho ** 2 * beta ** 2 * A ** 2 * d3
        else:
            mu = (beta * A)[:, None] * self.U
            if np.all(v == 0):
                t = np.tanh(mu)
                dd = 1 - t * t
            else:
                dd = tanh_moments(mu, np.broadcast_to((beta * np.sqrt(v))[:, None], mu.shape))[1]
            d1 = (self.W * dd).sum(1)
            u2 = (self.W * self.U ** 2 * dd).sum(1)
        r2, M = self.r ** 2, self.M
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = beta * dA / (r2 * (M - 1)) * (d1 - r2 * u2)
        return np.where(M > 1, np.where(np.isfinite(M), lam, 0.0), np.nan)

    def equations(self, beta, s, q):
        """Residuals (S - s, Q - q), m, Jacobian (Jss, Jsq, Jqs, Jqq) of the map, feasibility."""
        A, dA = self.amplitude(s)
        v, dv, ok = self.variance(beta, q)
        ok = ok & (np.abs(s) <= self.smax()) & (np.abs(q - 0.5) <= 0.5)
        m, S, Q, dSdA, dSdv, dQdA, dQdv = self.moments(beta, A, v)
        J = np.array([dSdA * dA, dSdv * dv, dQdA * dA, dQdv * dv])
        Rs, Rq = S - s, Q - q
        Rs[~ok] = np.inf
        Rq[~ok] = np.inf
        return Rs, Rq, m, J, ok

    def lncosh(self, beta, A, v):
        if self.average == "gaussian":
            return lncosh_average(beta * A, beta * np.sqrt(self.rho * A * A + v))
        mu = (beta * A)[:, None] * self.U
        return (self.W * lncosh_average(mu, np.broadcast_to((beta * np.sqrt(v))[:, None], mu.shape))).sum(1)

    def free_energy(self, beta, s, q):
        P = self.P
        A, _ = self.amplitude(s)
        v, _, ok = self.variance(beta, q)
        lnc = self.lncosh(beta, A, v)
        if self.p2:
            lam = self.lam
            x = beta[:, None] * lam * (1 - q[:, None])
            y = beta[:, None] * lam * q[:, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                # h = lam/2 + (1/(2 beta)) [ln D - beta lam q / D], rewritten to stay accurate as lam -> 0
                h = (np.log1p(-x) + x - x * y / (1 - x)) / (2 * beta[:, None])
            hw = (self.w * np.where(self.w > 0, h, 0.0)).sum(1)
            hw = np.where(self.alpha > 0, hw, 0.0)           # alpha = 0: no glassy terms
            f = self.kappa * s * s / 2 + self.alpha * hw + 0.5 * beta * v * (1 - q) - lnc / beta
            return np.where(ok, f, np.nan)
        hq = 1 - P * q ** (P - 1) + (P - 1) * q ** P
        mbf = lnc - beta * self.kappa * (P - 1) / 2 * s ** P + beta * beta * self.glass * hq
        return -mbf / beta

    def paramagnet_f(self, beta):
        if self.p2:
            lam = self.lam
            bl = beta[:, None] * lam
            ok = (bl[:, 0] < 1) | (self.alpha == 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                h = (np.log1p(-np.where(bl < 1, bl, 0.0)) + bl) / (2 * beta[:, None])
            hw = np.where(self.alpha > 0, (self.w * np.where(self.w > 0, h, 0.0)).sum(1), 0.0)
            return np.where(ok, self.alpha * hw - math.log(2) / beta, np.nan), ok
        return -(math.log(2) + beta * beta * self.glass) / beta, np.ones(beta.shape, bool)


# ----------------------------------------------------------------------------------------------
# vectorised Newton (statmech.newton.damped_newton_2x2, shared with statmech.storage: analytic
# Jacobian, Deuflhard's natural monotonicity test for the step length, batched backtracking)
# ----------------------------------------------------------------------------------------------
def _newton(pp, beta, s, q, fix_s, tol, maxiter, max_damped=None):
    """Solve (S - s, Q - q) = 0 for ``pp`` (``fix_s`` points: s = 0, q alone) with
    ``damped_newton_2x2``. Returns s, q, m, residual, converged, iterations, stability."""
    def equations(idx, st, qt):
        if idx is None:
            Rs, Rq, m, J, ok = pp.equations(beta, st, qt)
        else:
            Rs, Rq, m, J, ok = pp.sub(idx).equations(beta[idx], st, qt)
        return Rs, Rq, J, ok, m

    s, q, m, res, conv, its, J = damped_newton_2x2(equations, s, q, fix_s, tol, maxiter, _LAMBDAS, max_damped,
                                                   x_floor=1e-3 * M_MIN, y_floor=1e-3 * Q_MIN)
    return s, q, m, res, conv, its, _largest_eig(J)


def _abs_u(pp):
    """E|u| (the T = 0 low-load s)."""
    if pp.average == "gaussian":
        rho = pp.rho
        with np.errstate(divide="ignore", invalid="ignore"):
            out = erf(1 / np.sqrt(2 * rho)) + np.sqrt(2 * rho / np.pi) * np.exp(-0.5 / rho)
        return np.where(rho > 0, out, 1.0)
    return (pp.W * np.abs(pp.U)).sum(1)


def _cold_start(pp, beta, fix_s, n_pre=_N_PRE):
    s = np.where(fix_s, 0.0, _abs_u(pp))
    q = np.ones_like(s)
    smax = pp.smax()
    for _ in range(n_pre):
        A, _ = pp.amplitude(s)
        v, _, _ = pp.variance(beta, q)
        _, S, Q, *_ = pp.moments(beta, A, v)
        sn = np.where(fix_s, 0.0, np.clip(S, 0.0, smax))
        qn = np.clip(Q, 0.0, 1.0)
        if pp.p2:
            floor = np.where(pp.alpha > 0, np.maximum(1.0 - 1.0 / beta, 0.0), 0.0)
            qn = np.where(qn <= floor, 0.5 * (q + floor) + 1e-12 * (floor > 0), qn)
        s, q = sn, qn
    return s, q


def _solve(pp, beta, s0, q0, fix_s, tol, maxiter, max_damped=None):
    """Newton from (s0, q0); NaN starts are cold starts. Returns s, q, m, res, conv, its, stab, found."""
    cold = ~(np.isfinite(s0) & np.isfinite(q0))
    s0, q0 = np.array(s0, dtype=float), np.array(q0, dtype=float)
    if cold.any():
        s0[cold], q0[cold] = _cold_start(pp.sub(cold), beta[cold], fix_s[cold])
    out = [np.empty(s0.size) for _ in range(4)] + [np.zeros(s0.size, bool), np.zeros(s0.size, np.int64),
                                                   np.empty(s0.size)]
    for sel, md in ((cold, None), (~cold, max_damped)):
        if sel.any():
            part = _newton(pp.sub(sel), beta[sel], s0[sel], q0[sel], fix_s[sel], tol, maxiter, md)
            for x, y in zip(out, part):
                x[sel] = y
    out[0] = np.abs(out[0])       # even P: the mirror solution -s is the same state
    out[2] = np.abs(out[2])
    return out + [_found(out, fix_s)]


def _found(out, fix_s):
    s, q, _, _, conv, _, stab = out
    return conv & np.where(fix_s, q > Q_MIN, (s > M_MIN) & (stab < 1.0 + 1e-9))


# ----------------------------------------------------------------------------------------------
# grid solver
# ----------------------------------------------------------------------------------------------
def _setup(setting, P, alpha, rho, T, M, load, average, r, c):
    P, M, r, c = _check_common(setting, P, load, average, M, r, c)
    alpha = _arr("alpha", alpha, 0.0)
    rho = _arr("rho", rho, 0.0)
    T = None if T is None else _arr("T", T, 0.0, low_open=True)
    return P, M, r, c, alpha, rho, T


def _neighbours(shape, nb):
    """Index pairs (point, neighbour) of the stacked (branch, alpha, rho) grid: nearest neighbours
    in alpha and in rho within each branch block."""
    nA, nR = shape
    g = np.arange(nA * nR).reshape(nA, nR)
    pairs = []
    for a, b in ((g[1:], g[:-1]), (g[:-1], g[1:]), (g[:, 1:], g[:, :-1]), (g[:, :-1], g[:, 1:])):
        pairs.append(np.stack([a.ravel(), b.ravel()]))
    pairs = np.concatenate(pairs, axis=1)
    n0 = nA * nR
    return np.concatenate([pairs + k * n0 for k in range(nb)], axis=1)


_N_SUB = 16          # sub-steps of the continuation retry when a warm start fails
_COLD_EVERY = 8      # never-found points get a cold start at every _COLD_EVERY-th temperature ...
_SMALL = 256         # ... or at every temperature when the stacked grid has at most _SMALL points


def _march(pp, Ts, branches, tol, maxiter, shape=None):
    """Branches on the flattened (alpha, rho) points x Ts (ascending): warm starts along T
    (predictor in (s, C = (1-q)/T), secant through the last two solutions); points that never
    had the branch get the solution of a grid neighbour (alpha or rho) found at the previous or
    the same temperature (continuation, for branches appearing above the lowest T), and a cold
    start at the lowest T and every _COLD_EVERY-th temperature (every temperature for grids of at
    most _SMALL stacked points); a failed warm start is retried from the previous solution, then
    by continuation in _N_SUB smaller temperature steps, then cold; no further attempts once a branch
    was found and lost (it passed its fold). Yields (j, sol) per temperature,
    sol = [s, q, m, res, conv, its, stab, found]."""
    n0 = pp.alpha.size
    shape = (n0, 1) if shape is None else shape
    nbr = _neighbours(shape, len(branches))
    nb = len(branches)
    n = n0 * nb
    fix_s = np.concatenate([np.full(n0, b == "spin_glass") for b in branches])
    ps = pp.sub(np.tile(np.arange(n0), nb))
    s1 = np.full(n, np.nan)
    q1, s2, q2, st1 = (s1.copy() for _ in range(4))
    status = np.zeros(n, np.int8)
    for j, T in enumerate(Ts):
        beta = np.full(n, 1.0 / T)
        s0, q0 = np.full(n, np.nan), np.full(n, np.nan)
        alive = status == 1
        if alive.any():
            C1 = (1 - q1) / Ts[j - 1]
            sp, Cp = s1.copy(), C1.copy()
            if j >= 2:
                w = (T - Ts[j - 1]) / (Ts[j - 1] - Ts[j - 2])
                two = np.isfinite(s2)
                sp = np.where(two, s1 + w * (s1 - s2), s1)
                Cp = np.where(two, C1 + w * (C1 - (1 - q2) / Ts[j - 2]), C1)
            qp = 1 - Cp * T
            good = np.isfinite(sp) & np.isfinite(qp) & (sp >= 0) & (qp <= 1) & (qp >= 0)
            if ps.p2:
                good &= qp > 1 - T
            s0 = np.where(alive, np.where(good, sp, s1), np.nan)
            q0 = np.where(alive, np.where(good, qp, q1), np.nan)
        never = status == 0
        if j % _COLD_EVERY == 0 or n <= _SMALL:
            tried = never | alive
        else:
            # continuation from a neighbour that had the branch at the previous temperature
            cand = nbr[:, never[nbr[0]] & (status[nbr[1]] == 1)]
            cand = cand[:, np.unique(cand[0], return_index=True)[1]]
            s0[cand[0]], q0[cand[0]] = s1[cand[1]], q1[cand[1]]
            tried = alive.copy()
            tried[cand[0]] = True
        idx = np.flatnonzero(tried)
        sol = [np.full(n, np.nan) for _ in range(4)] + [np.zeros(n, bool), np.zeros(n, np.int64),
                                                       np.full(n, np.nan), np.zeros(n, bool)]
        if idx.size:
            part = _solve(ps.sub(idx), beta[idx], s0[idx], q0[idx], fix_s[idx], tol, maxiter, max_damped=2)
            for x, y in zip(sol, part):
                x[idx] = y
        # newly found points seed their never-found neighbours at this temperature
        seen = tried.copy()
        while True:
            cand = nbr[:, never[nbr[0]] & ~seen[nbr[0]] & sol[7][nbr[1]] & never[nbr[1]]]
            if cand.shape[1] == 0:
                break
            cand = cand[:, np.unique(cand[0], return_index=True)[1]]
            seen[cand[0]] = True
            part = _solve(ps.sub(cand[0]), beta[cand[0]], sol[0][cand[1]], sol[1][cand[1]], fix_s[cand[0]],
                          tol, maxiter, max_damped=2)
            got = part[7]
            if not got.any():
                break
            for x, y in zip(sol, part):
                x[cand[0][got]] = y[got]
        for retry_from, limit in (("prev", 0.8), ("steps", 1.1), ("cold", 0.5)):
            rt = np.flatnonzero(alive & ~sol[7] & (st1 < limit))
            if rt.size == 0:
                continue
            if retry_from == "steps":
                # continuation in _N_SUB smaller temperature steps from the previous solution
                ss, qq = s1[rt].copy(), q1[rt].copy()
                live = np.ones(rt.size, bool)
                for Tk in np.linspace(Ts[j - 1], T, _N_SUB + 1)[1:]:
                    li = np.flatnonzero(live)
                    if li.size == 0:
                        break
                    part = _solve(ps.sub(rt[li]), np.full(li.size, 1.0 / Tk), ss[li], qq[li], fix_s[rt[li]],
                                  tol, maxiter, max_damped=2)
                    live[li[~part[7]]] = False
                    ss[li], qq[li] = part[0], part[1]
                got = np.flatnonzero(live)
                if got.size:
                    for x, y in zip(sol, part):
                        x[rt[got]] = y[np.searchsorted(li, got)]
                continue
            a0 = (s1[rt], q1[rt]) if retry_from == "prev" else (np.full(rt.size, np.nan),) * 2
            part = _solve(ps.sub(rt), beta[rt], a0[0], a0[1], fix_s[rt], tol, maxiter,
                          max_damped=4 if retry_from == "prev" else None)
            got = part[7]
            for x, y in zip(sol, part):
                x[rt[got]] = y[got]
        found = sol[7]
        status = np.where(found, 1, np.where(status >= 1, 2, 0)).astype(np.int8)
        s2, q2 = s1, q1
        s1 = np.where(found, sol[0], np.nan)
        q1 = np.where(found, sol[1], np.nan)
        st1 = np.where(found, sol[6], np.nan)
        yield j, sol


def solve_grid(setting, P, *, alpha, rho, T, M=None, load="high", average="gaussian", r=None, c=None,
               tol: float = TOL, maxiter: int = MAXITER) -> dict:
    """Solve the RS equations on the grid alpha x rho x T, all branches.

    setting: "supervised" | "unsupervised"; P: even >= 2; alpha (>= 0), rho (>= 0), T (> 0): 1-D
    arrays (length 1 allowed); M: examples per archetype (int; needed for average="binomial" and
    for the unsupervised high-load noise; r then follows as (1 + rho M)^(-1/2)); alternatively r
    (0 < r < 1, Gaussian average only; M = (1 - r^2)/(rho r^2)); load "high" (K = alpha N^(P-1))
    or "low" (K finite: alpha ignored, results repeated along the alpha axis); average "gaussian"
    (large M) or "binomial" (exact finite M); c: glassy constant (default P!, convention (A);
    c = 2 with alpha_C = alpha P!/2 is convention (C)); tol, maxiter: Newton controls.

    March in T from low to high (warm starts, ``_march``). Points where a branch is not found have
    exists = False, NaN values; ``converged`` and ``iterations`` say what the last attempt did.

    Returns arrays of shape (len(alpha), len(rho), len(T)): for b in BRANCHES m_b, s_b, n_b, q_b,
    p_b, f_b, residual_b, converged_b, iterations_b, stability_b, stability_examples_b, exists_b;
    the example-retrieval state (keys ``*_example`` of statmech.learning_examples; computed for the
    unsupervised setting at low load with M given, else NaN / False); and m, s, n, q, f, phase (int8,
    codes PHASES_LEARNING: those of statmech.storage.PHASES plus 4 = example retrieval, compared with
    the exact-law example state also when average="gaussian", see ``_add_examples``) of the
    thermodynamic state
    (OBSERVABLE_INFO). Metadata (setting, P, load, average, M, r, c) is not stored in the dict:
    the caller records it.
    """
    P, M, r, c, alpha, rho, T = _setup(setting, P, alpha, rho, T, M, load, average, r, c)
    tol = check_real("tol", tol, low=0.0, low_open=True)
    maxiter = check_integer("maxiter", maxiter, low=1)
    nA_full = alpha.size
    if load == "low":
        alpha = alpha[:1]
    pp = _Params(setting, P, load, average, alpha, rho, M, r, c)
    nA, nR, nT = alpha.size, rho.size, T.size
    n0 = nA * nR
    branches = ("retrieval", "spin_glass") if load == "high" else ("retrieval",)
    order = np.argsort(T, kind="stable")
    out = {}
    for b in BRANCHES:
        for k in ("m", "s", "n", "q", "p", "f", "residual", "stability", "stability_examples"):
            out[f"{k}_{b}"] = np.full((n0, nT), np.nan)
        out[f"converged_{b}"] = np.zeros((n0, nT), bool)
        out[f"iterations_{b}"] = np.zeros((n0, nT), np.int64)
        out[f"exists_{b}"] = np.zeros((n0, nT), bool)
    for jj, sol in _march(pp, T[order], branches, tol, maxiter, shape=(nA, nR)):
        j = order[jj]
        s, q, m, res, conv, its, stab, found = sol
        for k, b in enumerate(branches):
            sl = slice(k * n0, (k + 1) * n0)
            e = found[sl]
            out[f"exists_{b}"][:, j] = e
            out[f"converged_{b}"][:, j] = conv[sl]
            out[f"iterations_{b}"][:, j] = its[sl]
            out[f"residual_{b}"][:, j] = res[sl]
            for key, val in (("s", s), ("q", q), ("m", m), ("stability", stab)):
                out[f"{key}_{b}"][:, j] = np.where(e, val[sl], np.nan)
    idx = np.repeat(np.arange(n0), nT)
    beta = 1.0 / np.tile(T, n0)
    ppf = pp.sub(idx)
    rho_f = np.repeat(pp.rho, nT).reshape(n0, nT)
    for b in branches:
        e = out[f"exists_{b}"].ravel()
        if e.any():
            sub = ppf.sub(e)
            ss, qq = out[f"s_{b}"].ravel()[e], out[f"q_{b}"].ravel()[e]
            out[f"f_{b}"].ravel()[e] = sub.free_energy(beta[e], ss, qq)
            if pp.p2:
                out[f"p_{b}"].ravel()[e] = sub.variance(beta[e], qq)[0] / np.where(sub.alpha > 0, sub.alpha, np.nan)
            if setting == "unsupervised":
                out[f"stability_examples_{b}"].ravel()[e] = sub.example_eig(beta[e], ss, qq)
        out[f"n_{b}"] = out[f"s_{b}"] / (1 + rho_f)
    # paramagnet: closed form
    fP, eP = ppf.paramagnet_f(beta)
    z = np.zeros(idx.size)
    Rs, Rq, _, J, _ = ppf.equations(beta, z, z)
    eP = eP & np.isfinite(fP)
    for key, val in (("m", z), ("s", z), ("n", z), ("q", z), ("f", fP), ("stability", _largest_eig(J)),
                     ("residual", np.maximum(np.abs(Rs), np.abs(Rq)))):
        out[f"{key}_paramagnet"] = np.where(eP, val, np.nan).reshape(n0, nT)
    if pp.p2:
        out["p_paramagnet"] = np.where(eP, 0.0, np.nan).reshape(n0, nT)
    out["exists_paramagnet"] = eP.reshape(n0, nT)
    out["converged_paramagnet"] = eP.reshape(n0, nT).copy()
    glob = _classify(out)
    retr = glob["phase"] == 3
    glob["s"] = np.where(retr, out["s_retrieval"], np.where(np.isfinite(glob["f"]), 0.0, np.nan))
    glob["n"] = glob["s"] / (1 + rho_f)
    out.update(glob)
    _add_examples(out, setting, P, load, M, rho, T, nA)
    out = {k: v.reshape(nA, nR, nT) for k, v in out.items()}
    if nA_full != nA:
        out = {k: np.repeat(v, nA_full, axis=0) for k, v in out.items()}
    return out


def _add_examples(out, setting, P, load, M, rho, T, nA):
    """Example-retrieval state (statmech.learning_examples; unsupervised, low load, integer M): its
    observables, and phase EXAMPLE_PHASE where its free energy is below that of the thermodynamic
    state found above (m, s, n, q, f then describe the example state). NaN / False elsewhere.

    Mixed approximation with average="gaussian": the example state is always solved with the exact
    finite-M (binomial) law, while the generalising state it is compared with uses the Gaussian law
    of u, so the EXAMPLE_PHASE boundary is shifted by the Gaussian error of f (e.g. P = 4, M = 20:
    T = 0 crossing at rho = 0.16893 instead of the exact 0.16947). Use average="binomial" for the
    consistent exact-law comparison."""
    from statmech.learning_examples import OBSERVABLE_INFO as EX_INFO, solve_examples
    shape = out["phase"].shape
    if not (setting == "unsupervised" and load == "low" and M is not None):
        for k in EX_INFO:
            out[k] = np.zeros(shape, bool) if k.startswith(("exists", "converged")) else np.full(shape, np.nan)
        return
    ex = solve_examples(P, rho=rho, T=T, M=M)
    for k, v in ex.items():
        out[k] = np.tile(v, (nA, 1))
    win = out["exists_example"] & (out["f_example"] < np.where(np.isfinite(out["f"]), out["f"], np.inf)) & (M > 1)
    out["phase"] = np.where(win, EXAMPLE_PHASE, out["phase"]).astype(np.int8)
    for k in ("m", "s", "n", "q", "f"):
        out[k] = np.where(win, out[f"{k}_example"], out[k])


def free_energy(setting, P, *, alpha, rho, T, s, q, M=None, load="high", average="gaussian", r=None, c=None):
    """RS free energy per neuron f(s, q) (module docstring), for scalars or broadcastable arrays of
    alpha, rho, T, s, q; stationary in (s, q) at solutions of the saddle-point equations. NaN where
    undefined (P = 2 high load with 1 - beta(1-q) <= 0)."""
    P, M, r, c = _check_common(setting, P, load, average, M, r, c)
    arrs = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (alpha, rho, T, s, q)))
    shape = arrs[0].shape
    a, rh, t, s_, q_ = (x.ravel() for x in arrs)
    for name, x, lo in (("alpha", a, 0.0), ("rho", rh, 0.0)):
        _arr(name, x, lo)
    _arr("T", t, 0.0, low_open=True)
    check_array_real("q", q_, low=0.0, high=1.0)
    out = np.empty(a.size)
    for i in range(a.size):     # per point: parameters depend on (alpha, rho)
        pp = _Params(setting, P, load, average, a[i:i + 1], rh[i:i + 1], M, r, c)
        out[i] = pp.free_energy(np.array([1.0 / t[i]]), s_[i:i + 1], q_[i:i + 1])[0]
    return out.reshape(shape) if shape else float(out[0])


# ----------------------------------------------------------------------------------------------
# T = 0
# ----------------------------------------------------------------------------------------------
_SQ2PI = math.sqrt(2.0 / math.pi)


def gaussian_T0_overlap(rho):
    """Low-load T = 0 overlaps with the Gaussian average (Sec. 3.1): m = erf(1/sqrt(2 rho)),
    s = E|1 + sqrt(rho) Z| = m + sqrt(2 rho/pi) exp(-1/(2 rho)), n = s/(1+rho); any even P."""
    rho = _arr("rho", rho, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(rho > 0, erf(1 / np.sqrt(2 * rho)), 1.0)
        s = m + np.where(rho > 0, np.sqrt(2 * rho / np.pi) * np.exp(-0.5 / rho), 0.0)
    return {"m": m, "s": s, "n": s / (1 + rho)}


def binomial_T0_overlap(rho, M):
    """Low-load T = 0 overlaps with the exact finite-M law (Sec. 3.1): the state is
    sigma = sign(etabar) (ties at even M: sigma = +-1 at random, contributing 0), so
    m = P(B > M/2) - P(B < M/2), s = E|u| = E|2B - M|/(r M), B ~ Bin(M, (1+r)/2),
    r = (1 + rho M)^(-1/2); independent of P."""
    rho = _arr("rho", rho, 0.0)
    M = check_integer("M", M, low=1)
    k = np.arange(M + 1)
    r = 1 / np.sqrt(1 + rho * M)
    W = binom.pmf(k[None, :], M, 0.5 * (1 + r[:, None]))
    sg = np.sign(2 * k - M)
    m = W @ sg
    s = (W * np.abs(2 * k - M)[None, :]).sum(1) / (r * M)
    return {"m": m, "s": s, "n": s / (1 + rho)}


def _t0_stats(pp, s, C):
    """T = 0 averages at (s, C = beta(1 - q)): m, S = E[u sign-like], C_new = 2 E p_X(0), E|X|, V
    for X = A u + sqrt(V) z (V: glassy variance at q = 1; P = 2: alpha sum w lam^2/(1 - lam C)^2)."""
    A, _ = pp.amplitude(s)
    if pp.p2:
        V = pp.alpha * (pp.w * pp.lam ** 2 / (1 - pp.lam * C[:, None]) ** 2).sum(1)
    else:
        V = pp.v_c.copy()
    if pp.average == "gaussian":
        Wv = pp.rho * A * A + V
        sd = np.sqrt(Wv)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = A / (np.sqrt(2) * sd)
            m = np.where(sd > 0, erf(y), np.sign(A))
            Cn = np.where(sd > 0, _SQ2PI / sd * np.exp(-y * y), np.where(A == 0, np.inf, 0.0))
            ab = np.where(sd > 0, sd * _SQ2PI * np.exp(-y * y) + A * m, np.abs(A))
        S = m + pp.rho * A * np.where(np.isfinite(Cn), Cn, 0.0)
        return m, S, Cn, ab, V
    mu = A[:, None] * pp.U
    sd = np.sqrt(V)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = mu / (np.sqrt(2) * sd)
        e = np.where(sd > 0, erf(y), np.sign(mu))
        cn = np.where(sd > 0, _SQ2PI / sd * np.exp(-y * y), np.where(mu == 0, np.inf, 0.0))
        ab = np.where(sd > 0, sd * _SQ2PI * np.exp(-y * y) + mu * e, np.abs(mu))
    with np.errstate(invalid="ignore"):
        Cn = np.where(pp.W > 0, pp.W * cn, 0.0).sum(1)       # inf at a tie node u = 0 when V = 0
    return (pp.W * e).sum(1), (pp.W * pp.U * e).sum(1), Cn, (pp.W * ab).sum(1), V


def _t0_energy(pp, s, C, ab, V):
    P = pp.P
    plain = -ab + pp.kappa * (P - 1) / 2 * s ** P
    if pp.p2:
        with np.errstate(invalid="ignore", divide="ignore"):
            modes = -(pp.alpha * (pp.w * pp.lam ** 2 * C[:, None] / (2 * (1 - pp.lam * C[:, None]))).sum(1))
            full = modes + pp.kappa * s * s / 2 + V * C / 2 - ab
        return np.where(pp.alpha > 0, full, plain)          # alpha = 0: no glassy terms
    return plain


_C_GRID = np.concatenate([[0.0], np.geomspace(1e-4, 0.5, 40), np.linspace(0.5, 1 - 1e-9, 41)[1:]])


def _C_of_s(pp1, s, exact=True):
    """P = 2 high load: the smallest root C in [0, 1) of C = C_new(s, C), for an array s at one
    point (pp1). exact=False: linear interpolation on the C grid (scans only)."""
    s = np.atleast_1d(np.asarray(s, dtype=float))
    ns, nc = s.size, _C_GRID.size
    pg = pp1.sub(np.zeros(ns * nc, int))
    Cg = np.tile(_C_GRID, ns)
    G = (Cg - _t0_stats(pg, np.repeat(s, nc), Cg)[2]).reshape(ns, nc)
    out = np.full(ns, np.nan)
    for i in range(ns):
        if G[i, 0] >= 0:
            out[i] = 0.0
            continue
        k = np.flatnonzero((G[i, :-1] < 0) & (G[i, 1:] >= 0))
        if k.size == 0:
            continue
        k = k[0]
        a, b = _C_GRID[k], _C_GRID[k + 1]
        if exact:
            g = lambda C: C - _t0_stats(pp1, s[i:i + 1], np.array([C]))[2][0]
            out[i] = brentq(g, a, b, xtol=1e-15, rtol=1e-14)
        else:
            out[i] = a - G[i, k] * (b - a) / (G[i, k + 1] - G[i, k])
    return out


def _t0_F(pp1, s, exact=True):
    """F(s) = S(s) - s at T = 0 for one point (vector s) and the C used."""
    s = np.atleast_1d(np.asarray(s, dtype=float))
    if pp1.p2 and pp1.alpha[0] > 0:
        C = _C_of_s(pp1, s, exact)
    else:
        C = np.zeros(s.size)
    pg = pp1.sub(np.zeros(s.size, int))
    S = _t0_stats(pg, s, np.where(np.isfinite(C), C, 0.0))[1]
    return np.where(np.isfinite(C), S - s, -s), C


def _t0_scan(pp1):
    smax = float(pp1.smax()[0])
    grid = np.concatenate([np.geomspace(1e-4, 0.05, 20), np.linspace(0.05, smax, 300)[1:]])
    return grid, _t0_F(pp1, grid, exact=False)[0]


def _t0_point(pp1):
    """Largest root s of S(s) = s at T = 0 for one point; returns dict of scalars or None."""
    grid, vals = _t0_scan(pp1)
    k = np.flatnonzero((vals[:-1] > 0) & (vals[1:] <= 0))
    if k.size == 0:
        # the two roots may sit inside one grid cell next to the fold: maximise F there
        j = int(np.argmax(np.where(grid > 0.02, vals, -np.inf)))
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
        res = minimize_scalar(lambda x: -_t0_F(pp1, x)[0][0], bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-13})
        if -res.fun <= 0:
            return None
        a, b = res.x, hi
    else:
        k = k[-1]
        a, b = grid[k], grid[k + 1]
    F = lambda x: _t0_F(pp1, x)[0][0]
    if F(a) <= 0:
        return None
    s = brentq(F, a, b, xtol=1e-15, rtol=1e-14)
    C = _t0_F(pp1, s)[1]
    m, S, Cn, ab, V = _t0_stats(pp1, np.array([s]), C)
    Cq = C[0] if pp1.p2 and pp1.alpha[0] > 0 else Cn[0]
    return {"m": m[0], "s": s, "C": Cq, "e_retrieval": _t0_energy(pp1, np.array([s]), np.array([Cq]), ab, V)[0]}


def _t0_fmax(pp1):
    """max over s > 0.02 of F(s) = S(s) - s at T = 0 (>= 0 iff a retrieval solution exists)."""
    grid, vals = _t0_scan(pp1)
    vals = np.where(grid > 0.02, vals, -np.inf)
    j = int(np.argmax(vals))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    res = minimize_scalar(lambda x: -_t0_F(pp1, x)[0][0], bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-12})
    return max(-res.fun, vals[j])


def capacity(setting, P, *, rho, M=None, average="gaussian", r=None, c=None, xtol=1e-10):
    """T = 0 spinodal alpha_c(rho) (largest alpha with a retrieval solution, high load), located
    as the root of alpha -> max_s [S(s) - s] (fold tracking) with brentq; returns (alpha_c, m_c)
    arrays over rho (m_c: overlap at the fold)."""
    P, M, r, c, _, rho, _ = _setup(setting, P, [0.0], rho, None, M, "high", average, r, c)
    ac = np.full(rho.size, np.nan)
    mc = ac.copy()
    a_hi = 0.2 if P == 2 else 2.0 * math.factorial(P) / c * (0.2 if P == 4 else 0.5)
    for i, rh in enumerate(rho):
        g = lambda a: _t0_fmax(_Params(setting, P, "high", average, np.array([a]), np.array([rh]), M, r, c))
        hi = a_hi
        while g(hi) > 0:
            hi *= 2
        lo = hi
        while g(lo) <= 0 and lo > 1e-12:
            lo /= 4
        if g(lo) <= 0:
            continue
        ac[i] = brentq(g, lo, hi, xtol=xtol, rtol=1e-13)
        pp1 = _Params(setting, P, "high", average, np.array([ac[i]]), np.array([rh]), M, r, c)
        grid, vals = _t0_scan(pp1)
        j = int(np.argmax(np.where(grid > 0.02, vals, -np.inf)))
        lo_s, hi_s = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
        sx = minimize_scalar(lambda x: -_t0_F(pp1, x)[0][0], bounds=(lo_s, hi_s), method="bounded",
                             options={"xatol": 1e-12}).x
        mc[i] = _t0_stats(pp1, np.array([sx]), _t0_F(pp1, sx)[1])[0][0]
    return ac, mc


def solve_T0(setting, P, *, alpha, rho, M=None, load="high", average="gaussian", r=None, c=None) -> dict:
    """T = 0 limit (q -> 1, C = beta (1 - q) finite), arrays of shape (len(alpha), len(rho)).

    Low load (closed forms, any even P, both settings): Gaussian m = erf(1/sqrt(2 rho)),
    s = m + sqrt(2 rho/pi) e^(-1/(2 rho)); binomial m = P(B > M/2) - P(B < M/2), s = E|u|
    (``binomial_T0_overlap``); energy e = -kappa s^P / 2.
    High load: X = A u + sqrt(V) z, A = kappa (P/2) s^(P-1); m = E erf(A u/sqrt(2V)),
    s = E[u erf(A u/sqrt(2V))] (Gaussian: m = erf(A/sqrt(2W)), s = m + rho A C, W = rho A^2 + V),
    C = 2 E p_X(0); P > 2: V = alpha g c P/4; P = 2: V = alpha p, p = sum w lam^2/(1 - lam C)^2
    (supervised 1/(1 - C)^2, AGS). The largest root s is returned (exists = False beyond the
    capacity). Energies: P > 2 e = -E|X| + kappa (P-1)/2 s^P; P = 2
    e = kappa s^2/2 + V C/2 - E|X| - alpha sum w lam^2 C/(2(1 - lam C)); spin glass (s = 0):
    e_spin_glass, C_spin_glass (high load only).
    Keys: m, s, n, C, e_retrieval, exists, e_spin_glass, C_spin_glass.
    """
    P, M, r, c, alpha, rho, _ = _setup(setting, P, alpha, rho, None, M, load, average, r, c)
    pp = _Params(setting, P, load, average, alpha, rho, M, r, c)
    n0 = pp.alpha.size
    out = {k: np.full(n0, np.nan) for k in ("m", "s", "n", "C", "e_retrieval", "e_spin_glass", "C_spin_glass")}
    out["exists"] = np.zeros(n0, bool)
    if load == "low":
        d = gaussian_T0_overlap(pp.rho) if average == "gaussian" else binomial_T0_overlap(pp.rho, M)
        out["m"], out["s"] = d["m"], d["s"]
        out["e_retrieval"] = -pp.kappa * d["s"] ** P / 2
        out["C"] = _t0_stats(pp, d["s"], np.zeros(n0))[2]
        out["exists"][:] = True
    else:
        for i in range(n0):
            p1 = pp.sub([i])
            res = _t0_point(p1)
            if res is not None:
                for k, v in res.items():
                    out[k][i] = v
                out["exists"][i] = True
            # spin glass, s = 0
            if pp.p2:
                if p1.alpha[0] > 0:
                    C = _C_of_s(p1, 0.0)[0]
                    _, _, _, ab, V = _t0_stats(p1, np.zeros(1), np.array([C]))
                    out["C_spin_glass"][i] = C
                    out["e_spin_glass"][i] = _t0_energy(p1, np.zeros(1), np.array([C]), ab, V)[0]
            else:
                Sg = math.sqrt(p1.v_c[0])
                out["C_spin_glass"][i] = _SQ2PI / Sg if Sg > 0 else np.inf
                out["e_spin_glass"][i] = -Sg * _SQ2PI
    out["n"] = out["s"] / (1 + pp.rho)
    return {k: v.reshape(alpha.size, rho.size) for k, v in out.items()}


T0_INFO = {
    "m": "Mattis overlap with the archetype of the thermodynamic state at T = 0",
    "s": "overlap variable s of the retrieval state (0 otherwise)",
    "n": "overlap with the example mean, s / (1 + rho)",
    "C": "C = beta (1 - q), finite at T = 0 (retrieval state)",
    "f": "ground-state energy per neuron of the thermodynamic state (= f at T = 0)",
    "phase": "int8 phase code (PHASES_LEARNING) at T = 0: 1 spin_glass, 2 mixed (retrieval metastable), 3 retrieval",
    "m_retrieval": "m of the retrieval state (NaN where it does not exist)",
    "e_retrieval": "energy per neuron of the retrieval state",
    "e_spin_glass": "energy per neuron of the s = 0 (spin-glass) state, high load",
    "exists_retrieval": "True where a retrieval solution exists (alpha below alpha_c(rho))",
}


def solve_T0_grid(setting, P, *, alpha, rho, M=None, load="high", average="gaussian", r=None, c=None) -> dict:
    """The T = 0 limit (:func:`solve_T0`) as a grid record over alpha x rho (keys T0_INFO): retrieval where
    it exists and its energy is below the spin-glass one (phase 3), metastable retrieval (2), else the
    spin glass (1); at low load, or alpha = 0, retrieval is the ground state wherever it exists."""
    t0 = solve_T0(setting, P, alpha=alpha, rho=rho, M=M, load=load, average=average, r=r, c=c)
    ex = t0["exists"]
    e_sg = np.where(np.isfinite(t0["e_spin_glass"]), t0["e_spin_glass"], np.inf)
    glob = ex & (t0["e_retrieval"] <= e_sg)
    phase = np.where(ex, np.where(glob, 3, 2), 1).astype(np.int8)
    retr = phase == 3
    out = {"m": np.where(retr, t0["m"], 0.0), "s": np.where(retr, t0["s"], 0.0), "n": np.where(retr, t0["n"], 0.0),
           "C": np.where(retr, t0["C"], t0["C_spin_glass"]),
           "f": np.where(retr, t0["e_retrieval"], t0["e_spin_glass"]), "phase": phase,
           "m_retrieval": np.where(ex, t0["m"], np.nan), "e_retrieval": t0["e_retrieval"],
           "e_spin_glass": t0["e_spin_glass"], "exists_retrieval": ex}
    return out


# ----------------------------------------------------------------------------------------------
# boundaries
# ----------------------------------------------------------------------------------------------
_T_RES = 1e-9
_PLANES = (("rho", "T"), ("alpha", "T"), ("alpha", "rho"))


def _bg_f(pp, beta, q_sg, sg_ok):
    """f of the m = 0 state: the larger of f_SG (where found) and f_para (where it exists)."""
    f_sg = np.where(sg_ok, pp.free_energy(beta, np.zeros(beta.size), np.where(sg_ok, q_sg, 0.0)), -np.inf)
    fP, eP = pp.paramagnet_f(beta)
    return np.maximum(f_sg, np.where(eP & np.isfinite(fP), fP, -np.inf))


def _bisect(sub, a, b, state, pred):
    """Bisection in T between a (pred true, warm state there) and b (pred false), vectorised;
    a may lie above or below b. pred(sub, T, state) -> (ok, new_state)."""
    a, b = a.copy(), b.copy()
    state = {k: v.copy() for k, v in state.items()}
    while a.size and np.max(np.abs(b - a)) > _T_RES:
        mid = 0.5 * (a + b)
        ok, new = pred(sub, mid, state)
        a = np.where(ok, mid, a)
        b = np.where(ok, b, mid)
        for k in state:
            state[k] = np.where(ok & np.isfinite(new[k]), new[k], state[k])
    return 0.5 * (a + b)


def _pred_exists(tol, maxiter):
    def pred(sub, T, st):
        sol = _solve(sub, 1 / T, st["sR"], st["qR"], np.zeros(T.size, bool), tol, maxiter, max_damped=2)
        return sol[7], {"sR": sol[0], "qR": sol[1]}
    return pred


def _pred_thermo(tol, maxiter):
    def pred(sub, T, st):
        b = 1 / T
        nb = T.size
        solR = _solve(sub, b, st["sR"], st["qR"], np.zeros(nb, bool), tol, maxiter, max_damped=4)
        okS = np.isfinite(st["qS"])
        qS_new = np.full(nb, np.nan)
        if okS.any():
            solS = _solve(sub.sub(okS), b[okS], np.zeros(okS.sum()), st["qS"][okS], np.ones(okS.sum(), bool),
                          tol, maxiter, max_damped=4)
            qS_new[np.flatnonzero(okS)[solS[7]]] = solS[1][solS[7]]
        sgf = np.isfinite(qS_new)
        fr = sub.free_energy(b, np.where(solR[7], solR[0], 0.0), np.where(solR[7], solR[1], 0.0))
        fb = _bg_f(sub, b, np.where(sgf, qS_new, 0.0), sgf)
        ok = solR[7] & (fr < fb)
        return ok, {"sR": np.where(solR[7], solR[0], np.nan), "qR": np.where(solR[7], solR[1], np.nan),
                    "qS": qS_new}
    return pred


def _edges(mask, Ts):
    """Per row: (last index true followed by false), (first index true preceded by false)."""
    n, nT = mask.shape
    up, low = np.full(n, -1), np.full(n, -1)
    for i in range(n):
        k = np.flatnonzero(mask[i])
        if k.size == 0:
            continue
        if k[-1] + 1 < nT:
            up[i] = k[-1]
        if k[0] > 0:
            low[i] = k[0]
    return up, low


def _T_lines(pp, Ts, high, tol=TOL, maxiter=MAXITER):
    """Spinodal, thermodynamic and spin-glass temperatures at the points of pp (flattened line):
    upper edges (highest T where the retrieval exists / is thermodynamic) and, where the region
    is reentrant (it starts above the lowest scan T), lower edges ("..._low")."""
    n = pp.alpha.size
    nT = Ts.size
    rows = {k: np.full((n, nT), np.nan) for k in ("s", "q", "qS")}
    eR = np.zeros((n, nT), bool)
    eS = eR.copy()
    branches = ("retrieval", "spin_glass") if high else ("retrieval",)
    for j, sol in _march(pp, Ts, branches, tol, maxiter):
        found = sol[7]
        eR[:, j] = found[:n]
        rows["s"][:, j], rows["q"][:, j] = sol[0][:n], sol[1][:n]
        if high:
            eS[:, j] = found[n:]
            rows["qS"][:, j] = sol[1][n:]
    out = {}
    pe, pt = _pred_exists(tol, maxiter), _pred_thermo(tol, maxiter)

    def run(mask, pred, name, with_sg):
        up, low = _edges(mask, Ts)
        for key, k, step in ((name, up, 1), (name + "_low", low, -1)):
            res = np.full(n, np.nan)
            sel = np.flatnonzero(k >= 0)
            if sel.size:
                kk = k[sel]
                st = {"sR": rows["s"][sel, kk], "qR": rows["q"][sel, kk]}
                if with_sg:
                    st["qS"] = np.where(eS[sel, kk], rows["qS"][sel, kk], np.nan)
                res[sel] = _bisect(pp.sub(sel), Ts[kk], Ts[kk + step], st, pred)
            out[key] = res
        return up, low

    up_sp, _ = run(eR, pe, "retrieval_spinodal", False)
    # thermodynamic: f_R < f of the m = 0 state
    idx = np.arange(n)
    beta_g = np.tile(1 / Ts, n)
    ppg = pp.sub(np.repeat(idx, nT))
    er = eR.ravel()
    fR = np.where(er, ppg.free_energy(beta_g, np.where(er, rows["s"].ravel(), 0.0),
                                      np.where(er, rows["q"].ravel(), 0.0)), np.nan).reshape(n, nT)
    fB = _bg_f(ppg, beta_g, np.where(eS.ravel(), rows["qS"].ravel(), 0.0), eS.ravel()).reshape(n, nT)
    below = eR & (fR < fB)
    up, low = _edges(below, Ts)
    run(below, pt, "retrieval_thermodynamic", True)
    # where the retrieval state is thermodynamic right up to its fold (or down to its lower fold),
    # the line is the spinodal
    for key, k, step, sp in (("retrieval_thermodynamic", up, 1, "retrieval_spinodal"),
                             ("retrieval_thermodynamic_low", low, -1, "retrieval_spinodal_low")):
        sel = np.flatnonzero(k >= 0)
        fold = sel[~eR[sel, k[sel] + step]]
        out[key][fold] = out[sp][fold]
    if not high:
        return out
    # ---- spin-glass line
    if pp.p2:
        lo, hi = np.full(n, 1.0), np.full(n, 1.0 + 2 * np.sqrt(np.maximum(pp.alpha, 0)) + 1e-3)
        while np.max(hi - lo) > 1e-12:
            mid = 0.5 * (lo + hi)
            z = np.zeros(n)
            J = pp.equations(1 / mid, z, z)[3]
            up = J[3] > 1.0
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        out["spin_glass"] = 0.5 * (lo + hi)
    else:
        fPg = ppg.paramagnet_f(beta_g)[0].reshape(n, nT)
        fSg = np.where(eS.ravel(), ppg.free_energy(beta_g, np.zeros(n * nT), np.where(eS.ravel(), rows["qS"].ravel(), 0.0)),
                       -np.inf).reshape(n, nT)
        pred = eS & (fSg >= fPg)
        Tsg = np.full(n, np.nan)
        for i in range(n):
            k = np.flatnonzero(pred[i])
            if k.size == 0 or k[-1] + 1 >= nT:
                continue
            k = k[-1]
            lo, hi, q_lo = Ts[k], Ts[k + 1], rows["qS"][i, k]
            sub = pp.sub([i])
            while hi - lo > _T_RES:
                mid = 0.5 * (lo + hi)
                b = np.array([1 / mid])
                sol = _solve(sub, b, np.zeros(1), np.array([q_lo]), np.ones(1, bool), tol, maxiter, max_damped=4)
                ok = sol[7][0] and sub.free_energy(b, np.zeros(1), sol[1])[0] >= sub.paramagnet_f(b)[0][0]
                if ok:
                    lo, q_lo = mid, sol[1][0]
                else:
                    hi = mid
            Tsg[i] = 0.5 * (lo + hi)
        out["spin_glass"] = Tsg
    return out


def _alpha_T0_thermodynamic(setting, P, rh, M, average, r, c, a_c):
    """alpha where the T = 0 retrieval and spin-glass energies cross (below alpha_c), or NaN."""
    def d(a):
        g = solve_T0(setting, P, alpha=[a], rho=[rh], M=M, load="high", average=average, r=r, c=c)
        return g["e_retrieval"][0, 0] - g["e_spin_glass"][0, 0]
    lo, hi = a_c * 1e-6, a_c * (1 - 1e-7)
    try:
        dl, dh = d(lo), d(hi)
    except ValueError:
        return np.nan
    if not (np.isfinite(dl) and np.isfinite(dh)) or dl * dh > 0:
        return np.nan
    return brentq(d, lo, hi, xtol=1e-12, rtol=1e-12)


def _rho_T0_ends(setting, P, a, M, average, r, c, lo, hi):
    """High load, fixed alpha = a, T = 0: rho where alpha_c(rho) = a (spinodal end) and rho where
    the T = 0 retrieval and spin-glass energies cross (thermodynamic end), within [lo, hi]; NaN if
    the line does not reach T = 0 there."""
    cap = lambda rh: capacity(setting, P, rho=[rh], M=M, average=average, r=r, c=c)[0][0] - a
    ends = [np.nan, np.nan]
    try:
        c_lo, c_hi = cap(lo), cap(hi)
    except ParameterError:
        return ends
    if not (c_lo > 0 > c_hi):
        return ends
    ends[0] = brentq(cap, lo, hi, xtol=1e-10, rtol=1e-12)

    def d(rh):
        g = solve_T0(setting, P, alpha=[a], rho=[rh], M=M, load="high", average=average, r=r, c=c)
        return g["e_retrieval"][0, 0] - g["e_spin_glass"][0, 0]
    top = lo + (ends[0] - lo) * (1 - 1e-7)
    d_lo, d_top = d(lo), d(top)
    if np.isfinite(d_lo) and np.isfinite(d_top) and d_lo < 0 < d_top:
        ends[1] = brentq(d, lo, top, xtol=1e-10, rtol=1e-12)
    return ends


def boundaries(setting, P, *, plane, fixed=None, points=61, M=None, average="gaussian", load="high",
               r=None, c=None, span=None, T_max=None) -> dict:
    """Phase boundaries in one plane, located to 1e-9 in T (bisection on warm-started Newton
    solutions) and 1e-10 in alpha at T = 0 (brentq on the fold function max_s [S(s) - s]).

    plane: ("rho", "T") at fixed alpha (fixed={"alpha": a}; or load="low": no alpha),
           ("alpha", "T") at fixed rho (fixed={"rho": rho}), high load,
           ("alpha", "rho") at T = 0, high load (fixed ignored).
    points: number of values of the first axis, spread linearly over ``span`` (defaults:
    rho in [0, 2]; alpha in [0, 1.3 alpha_c(rho)]). T scan: 80 points up to T_max (default P/2*1.02,
    above which no retrieval exists, or 1 + 2 sqrt(alpha) + 0.05 for the P = 2 spin-glass line).

    Returns {name: {axis1: array, axis2: array}}, curves ordered along the line: the upper edge
    (highest T) in increasing axis-1 order, then, where the region is reentrant (P > 2 at high
    load: the retrieval region extends beyond alpha_c(T = 0) at intermediate T), its lower edge in
    decreasing order, then the T = 0 end; the nose between two axis-1 values is not resolved.
    Points where a line does not exist are left out. Lines:
      retrieval_spinodal       highest T with a stable retrieval solution (fold); in ("alpha","T")
                               it ends at (alpha_c(rho), 0), in ("rho","T") at high load at
                               (rho where alpha_c(rho) = alpha, 0) when inside the span; in
                               ("alpha","rho") it is alpha_c(rho);
      retrieval_thermodynamic  highest T with f_R < f of the m = 0 state (= spinodal where f_R
                               stays below up to the fold, e.g. continuous transitions); T = 0 end
                               where the retrieval and spin-glass energies cross;
      spin_glass               high load: P = 2 where the paramagnet's q-eigenvalue reaches 1
                               (supervised: 1 + sqrt(alpha), independent of rho); P > 2 the RS
                               f_SG = f_para line (RS approximation; 1RSB needed for the real one).
    """
    P, M, r, c = _check_common(setting, P, load, average, M, r, c)
    if not (isinstance(plane, (tuple, list)) and tuple(plane) in _PLANES):
        raise ParameterError("plane", plane, "one of " + ", ".join(map(str, _PLANES)))
    plane = tuple(plane)
    points = check_integer("points", points, low=2)
    if T_max is not None:
        T_max = check_real("T_max", T_max, low=0.0, low_open=True)
    fixed = {} if fixed is None else dict(fixed)
    if plane != ("rho", "T") and load != "high":
        raise ParameterError("load", load, "'high' in the plane " + str(plane))
    if plane == ("alpha", "rho"):
        rho = np.linspace(*((0.0, 2.0) if span is None else check_span(span)), points)
        ac, _ = capacity(setting, P, rho=rho, M=M, average=average, r=r, c=c)
        ath = np.array([_alpha_T0_thermodynamic(setting, P, rh, M, average, r, c, a) if np.isfinite(a) else np.nan
                        for rh, a in zip(rho, ac)])
        return {"retrieval_spinodal": _line("alpha", ac, "rho", rho),
                "retrieval_thermodynamic": _line("alpha", ath, "rho", rho)}
    if plane == ("rho", "T"):
        a = 0.0 if load == "low" else check_real("fixed['alpha']", fixed.get("alpha", None), low=0.0)
        ax = np.linspace(*((0.0, 2.0) if span is None else check_span(span)), points)
        pp = _Params(setting, P, load, average, np.array([a]), ax, M, r, c)
        amax = a
    else:
        rh = check_real("fixed['rho']", fixed.get("rho", None), low=0.0)
        if span is None:
            ac0 = capacity(setting, P, rho=[rh], M=M, average=average, r=r, c=c)[0][0]
            span = (0.0, 1.3 * ac0 if np.isfinite(ac0) else 0.1)
        ax = np.linspace(*check_span(span), points)
        pp = _Params(setting, P, load, average, ax, np.array([rh]), M, r, c)
        amax = ax.max()
    if T_max is None:
        T_max = 0.5 * P * 1.02 if P > 2 else 1.02
        if load == "high" and P == 2:
            T_max = max(T_max, 1 + 2 * math.sqrt(amax) + 0.05)
    T_max = check_real("T_max", T_max, low=0.0, low_open=True)
    Ts = np.unique(np.concatenate([np.geomspace(2e-3, 0.05, 10), np.linspace(0.05, T_max, 70)]))
    lines = _T_lines(pp, Ts, load == "high")
    out = {}
    rho_ends = None
    for name in ("retrieval_spinodal", "retrieval_thermodynamic", "spin_glass"):
        if name not in lines:
            continue
        x, t = ax, lines[name]
        if name + "_low" in lines:
            # reentrant part: the lower edge, traversed backwards, continues the line
            lo = lines[name + "_low"]
            ok = np.isfinite(lo)
            x, t = np.concatenate([x, ax[ok][::-1]]), np.concatenate([t, lo[ok][::-1]])
        if plane == ("rho", "T") and load == "high" and name != "spin_glass":
            if rho_ends is None:
                rho_ends = _rho_T0_ends(setting, P, a, M, average, r, c, ax.min(), ax.max())
            end = rho_ends[0] if name == "retrieval_spinodal" else rho_ends[1]
            if np.isfinite(end):
                x, t = np.append(x, end), np.append(t, 0.0)
        if plane == ("alpha", "T") and name != "spin_glass":
            ac0 = capacity(setting, P, rho=[rh], M=M, average=average, r=r, c=c)[0][0]
            end = ac0 if name == "retrieval_spinodal" else (
                _alpha_T0_thermodynamic(setting, P, rh, M, average, r, c, ac0) if np.isfinite(ac0) else np.nan)
            if np.isfinite(end):
                x, t = np.append(x, end), np.append(t, 0.0)
        out[name] = _line(plane[0], x, "T", t)
    return out


def _line(n1, x, n2, y):
    ok = np.isfinite(x) & np.isfinite(y)
    return {n1: x[ok], n2: y[ok]}
