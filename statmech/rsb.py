"""One-step replica-symmetry breaking (1RSB) for Hebbian storage, vectorised over (alpha, T) grids.

Conventions as ``statmech.storage`` (/work/shared/physics/storage.md): H = -(N/2) sum_mu m_mu^P with
distinct indices, K = alpha N^(P-1), T = 1/beta, one condensed pattern (Mattis overlap m).
1RSB ansatz: overlaps q1 inside blocks (of size x, the Parisi parameter), q0 between blocks,
0 <= q0 <= q1 <= 1, 0 < x <= 1. Gaussian variables z0 (outer), z1 (inner); for any function g

    <g>_x(z0) = E_z1[cosh^x(X) g(X)] / E_z1[cosh^x(X)],   X = beta h(z0, z1).

Dense P >= 3. The non-condensed patterns are a Gaussian P-spin glass with covariance
E[H(s)H(t)] = N xi(R), xi(q) = c q^P, c = alpha P!/4 (i.e. the P-spin model with J^2 = alpha P!/2 in
the standard normalisation E J^2 = J^2 P!/(2 N^(P-1))). Parisi (Guerra) 1RSB functional, derived here
from the general formula F = ln 2 + X_0 - (beta^2/2) sum_l m_l [theta(q_(l+1)) - theta(q_l)],
theta = q xi' - xi (this is the spec's section 4 with its c = alpha/P! replaced by the package's
c = alpha P!/4):

    -beta f = ln 2 - beta (P-1)/2 m^P + (1/x) E_z0 ln E_z1 cosh^x(X)
              + (beta^2 c/2)(1 - P q1^(P-1) + (P-1) q1^P) - (beta^2 c/2) x (P-1)(q1^P - q0^P)
    h = (P/2) m^(P-1) + sqrt(xi'(q0)) z0 + sqrt(xi'(q1) - xi'(q0)) z1,   xi'(q) = c P q^(P-1).

Pairwise P = 2 (Crisanti-Amit-Gutfreund 1RSB of the AGS free energy; the eigenvalues of the 1RSB
matrix 1 - beta Q give D1 = 1 - beta(1 - q1), D0 = D1 - beta x (q1 - q0)):

    f = alpha/2 + m^2/2 + (alpha/(2 beta)) [(1 - 1/x) ln D1 + (1/x) ln D0 - beta q0/D0]
        + (alpha beta/2) [r1 (1 - q1) + x (r1 q1 - r0 q0)] - (1/beta)[ln 2 + (1/x) E_z0 ln E_z1 cosh^x(X)]
    h = m + sqrt(alpha r0) z0 + sqrt(alpha (r1 - r0)) z1,
    r0 = q0/D0^2,  r1 = r0 + (q1 - q0)/(D0 D1).

Saddle point (both cases): m = E_z0 <tanh X>_x, q0 = E_z0 <tanh X>_x^2, q1 = E_z0 <tanh^2 X>_x and
df/dx = 0. The solver works in the variables (m, q0, C, mu) with C = beta (1 - q1) and mu = beta x,
which stay finite as T -> 0, and the residuals

    E<tanh> - m,   E<tanh>^2 - q0,   beta E<sech^2> - C,   (1/beta) df/dx  (= de/dmu at T = 0).

At x = 1 or q1 = q0 both functionals reduce exactly to the RS ones of ``statmech.storage``
(checked in the tests). x is fixed by stationarity; f is *maximal* there in the n -> 0 sense
(the Parisi functional -beta f is minimised over the order parameters q0, q1, x), while m is a
genuine minimisation. Admissible 1RSB solutions have 0 < x < 1 and q1 > q0; a stationary point with
x >= 1 is not admissible and the state is then the RS one (x = 1).

T = 0 (``solve_T0_1rsb``, ``capacity_1rsb``): q1 -> 1 with C finite, x -> 0 with mu = beta x finite;
cosh^x(beta h) -> exp(mu |h|) and the inner averages are closed forms in Phi (normal cdf):
E exp(mu|A + s z|) = e^(mu^2 s^2/2) [e^(mu A) Phi((A + mu s^2)/s) + e^(-mu A) Phi((-A + mu s^2)/s)].
The ground-state energies are

    P >= 3: e = (P-1)/2 m^P - (1/mu) E_z0 ln E_z1 e^(mu|h|) + (c mu/2)(P-1)(1 - q0^P)
    P = 2:  e = alpha/2 + m^2/2 + (alpha/(2 mu)) ln(D0/D1) - (alpha/2) q0/D0 + (alpha/2) r1 C
                + (alpha mu/2)(r1 - r0 q0) - (1/mu) E_z0 ln E_z1 e^(mu|h|),  D1 = 1 - C, D0 = 1 - C - mu(1 - q0).

Replicon (de Almeida-Thouless eigenvalue of the RS saddle point; sign: *negative = RS unstable*):

    P = 2:  lambda = 1 - alpha beta^2 E sech^4(beta(m + sqrt(alpha r) z)) / (1 - beta(1 - q))^2
    P >= 3: lambda = 1 - beta^2 xi''(q) E sech^4(beta h),  xi''(q) = c P (P-1) q^(P-2).

This is the condition at which the 1RSB solution branches off the RS one continuously (q1 - q0 -> 0),
checked in the tests. For P >= 3 the spin-glass 1RSB transition is discontinuous (q1 jumps), so the
replicon of the paramagnet (lambda = 1) does not locate it; ``solve_grid_1rsb`` follows the 1RSB branch
by continuation in T from the T = 0 solution instead.

Quadrature: outer E_z0 by the trapezoid rule on a uniform z0 grid on [-12, 12] whose spacing resolves
the width of the inner transition (sqrt(s1^2 + T^2)/s0 at finite T with OUTER_RESOLUTION points, never
below OUTER_MIN_SPACING; s1/s0 at T = 0), or Gauss-Hermite with ``n_outer`` nodes if given; the inner tilted average E_z1 cosh^x(X) g(X), X ~ N(mu_X, sigma^2): for
sigma <= 0.5 Gauss-Hermite (64 nodes) in log-sum-exp form; for sigma > 0.5 exactly the split rule of
``statmech.quadrature`` extended to the tilt: on X > 0, e^(x X) N(X; mu_X, sigma^2) =
e^(x mu_X + x^2 sigma^2/2) N(X; mu_X + x sigma^2, sigma^2) (similarly for X < 0), the asymptotic parts
(constants, |X|) integrate in closed form and the remainders, localised within |X| < 18, by
composite Gauss-Legendre panels.

Compiled path (default; ``reference=True`` selects the numpy code above, kept as the slow obvious
reference): the same inner rules in numba (``statmech.rsb_kernels``), and the outer average on a
per-point sinh-mapped rule concentrated at the inner transition z0 = -a/s0 (``rsb_kernels.sinh_rule``,
step OUTER_DT; at T = 0 step 1/resolution), ~10-100x fewer outer nodes than the uniform grid and
more accurate where s1, T << s0. Solutions agree with the reference to its quadrature accuracy
(x to ~1e-6, f to ~1e-15), tests/statmech/test_rsb_fast.py.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq, minimize_scalar, root
from scipy.special import log_ndtr, ndtr

from hopfield.validation import (
    ParameterError,
    check_array_real,
    check_integer,
    check_real,
)
from statmech import rsb_kernels as _K
from statmech import storage as _rs
from statmech.quadrature import gauss_hermite, tanh_moments

__all__ = ["PHASES", "BRANCHES", "OBSERVABLE_INFO", "solve_grid_1rsb", "replicon", "at_line",
           "capacity_1rsb", "solve_T0_1rsb", "free_energy_1rsb", "residuals_1rsb", "energy_T0_1rsb",
           "pspin_static_temperature", "replicon_1rsb", "replicon_1rsb_T0", "hard_soft_parts",
           "gaussian_layer_logdet", "BOUNDARIES_1RSB", "boundaries_1rsb"]

PHASES = _rs.PHASES
BRANCHES = ("retrieval", "spin_glass")
N_OUTER = None        # outer rule at finite T: None = adaptive trapezoid (below); an int = Gauss-Hermite nodes
OUTER_RESOLUTION = 6.0     # finite T: z0 grid points per width sqrt(s1^2 + T^2)/s0 of the inner transition
OUTER_MIN_SPACING = 0.01   # finite T: smallest z0 spacing (caps the cost; limits accuracy where s1, T << s0)
OUTER_DT = 1.0 / 8.0  # compiled path: step of the sinh-mapped outer rule (rsb_kernels.sinh_rule)
N_OUTER_T0 = 200      # outer Gauss-Hermite nodes (T = 0 closed-form inner averages)
_N_INNER = 64
_SIGMA_SWITCH = 0.5
_PANEL_EDGES = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0])
_N_GL = 12
TOL = 1e-10
MAXITER = 60
RSB_MIN = 1e-7        # q1 - q0 above this (and 0 < x < 1): a genuine 1RSB solution
_LN2 = math.log(2.0)

OBSERVABLE_INFO = {}
for _b, _txt in (("retrieval", "retrieval branch (m > 0)"),
                 ("spin_glass", "spin-glass branch (m = 0, q0 = 0)")):
    OBSERVABLE_INFO.update({
        f"m_{_b}": f"Mattis overlap m, {_txt}; dimensionless; NaN where absent",
        f"q0_{_b}": f"inter-block overlap q0 of the 1RSB ansatz (= q of RS where RS holds), {_txt}; dimensionless",
        f"q1_{_b}": f"intra-block overlap q1 >= q0 (= q0 where RS holds), {_txt}; dimensionless",
        f"x_{_b}": f"Parisi block parameter x in (0, 1] (1 where RS holds), {_txt}; dimensionless",
        f"f_{_b}": f"free energy per neuron (1RSB where rsb_b, else RS), {_txt}; units of the coupling",
        f"residual_{_b}": f"max |residual| of the 1RSB saddle-point equations in (m, q0, C, mu) (RS residual where RS holds), {_txt}",
        f"converged_{_b}": f"the returned solution converged (1RSB Newton, or the RS solver where RS holds), {_txt}; bool",
        f"iterations_{_b}": f"Newton iterations of the last 1RSB attempt (0: none, RS copied), {_txt}; int",
        f"exists_{_b}": f"the branch exists here (RS branch exists or a 1RSB solution was found), {_txt}; bool",
        f"rsb_{_b}": f"True where an admissible 1RSB solution (0 < x < 1, q1 - q0 > {RSB_MIN:g}, f_1RSB >= f_RS) is used, {_txt}; bool",
        f"stability_{_b}": f"replicon (AT eigenvalue) of the RS solution of this branch; < 0 means RS unstable, {_txt}",
        f"replicon_1rsb_{_b}": f"replicon of the q1 block of the reported state (replicon_1rsb where rsb_b, else the "
                               f"RS replicon); < 0 means unstable towards further breaking, {_txt}",
    })
OBSERVABLE_INFO.update({
    "m": "Mattis overlap of the thermodynamic state (see phase)",
    "f": "free energy per neuron of the thermodynamic state: retrieval if f_R < f of the m = 0 state, "
         "else the m = 0 state with the larger f (spin glass 1RSB/RS or paramagnet)",
    "phase": "int8 phase code as storage.PHASES: 0 paramagnet, 1 spin_glass, 2 mixed, 3 retrieval, -1 unresolved",
})


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------
def _check_P(P):
    return check_integer("P", P, low=2)


def _check_1d(name, v, low, low_open):
    a = check_array_real(name, v, low=low, low_open=low_open)
    if a.ndim > 1:
        raise ParameterError(name, v, f"a 1-D array of values {name} {'>' if low_open else '>='} {low:g}")
    return np.atleast_1d(a)


def _check_1rsb_point(alpha, T, m, q0, q1, x):
    """Order parameters of the finite-T functional: alpha >= 0, T > 0, m in [-1, 1], q0, q1 in [0, 1], x in (0, 1]."""
    return (check_array_real("alpha", alpha, low=0.0), check_array_real("T", T, low=0.0, low_open=True),
            check_array_real("m", m, low=-1.0, high=1.0), check_array_real("q0", q0, low=0.0, high=1.0),
            check_array_real("q1", q1, low=0.0, high=1.0),
            check_array_real("x", x, low=0.0, high=1.0, low_open=True))


def _check_T0_point(alpha, m, q0, C, mu, resolution):
    """Order parameters of the T = 0 functional: alpha >= 0, m in [-1, 1], q0 in [0, 1], C >= 0, mu > 0."""
    return (check_real("alpha", alpha, low=0.0), check_real("m", m, low=-1.0, high=1.0),
            check_real("q0", q0, low=0.0, high=1.0), check_real("C", C, low=0.0),
            check_real("mu", mu, low=0.0, low_open=True), check_real("resolution", resolution, low=1.0))


def _cP(P, alpha):
    """c of xi(q) = c q^P (P >= 3): alpha P!/4."""
    return alpha * math.factorial(P) / 4.0


# ----------------------------------------------------------------------------------------------
# inner tilted averages
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _panels():
    t, wt = np.polynomial.legendre.leggauss(_N_GL)
    xs, ws = [], []
    for a, b in zip(_PANEL_EDGES[:-1], _PANEL_EDGES[1:]):
        xs.append(0.5 * (b - a) * t + 0.5 * (a + b))
        ws.append(0.5 * (b - a) * wt)
    return np.concatenate(xs), np.concatenate(ws)


def _lncosh(X):
    a = np.abs(X)
    return a - _LN2 + np.log1p(np.exp(-2.0 * a))


def _inner(mu, sig, x):
    """Tilted averages over X ~ N(mu, sig^2) with weight cosh^x(X) (1-D arrays, equal length):
    returns (lnZ, <tanh>, <sech^2>, <ln cosh>) with lnZ = ln E[cosh^x X]."""
    n = mu.size
    lnZ, t1, s2, lc = (np.empty(n) for _ in range(4))
    smooth = sig <= _SIGMA_SWITCH
    if smooth.any():
        z, w = gauss_hermite(_N_INNER)
        X = mu[smooth, None] + sig[smooth, None] * z[None, :]
        L = _lncosh(X)
        e = x[smooth, None] * L
        mx = e.max(axis=1, keepdims=True)
        W = w[None, :] * np.exp(e - mx)
        Zs = W.sum(axis=1)
        lnZ[smooth] = mx[:, 0] + np.log(Zs)
        th = np.tanh(X)
        t1[smooth] = (W * th).sum(axis=1) / Zs
        s2[smooth] = (W / np.cosh(np.minimum(np.abs(X), 350.0)) ** 2).sum(axis=1) / Zs
        lc[smooth] = (W * L).sum(axis=1) / Zs
    sh = ~smooth
    if sh.any():
        m_, s_, x_ = mu[sh], sig[sh], x[sh]
        y, wy = _panels()                                   # y in (0, 18)
        ey = np.exp(-2.0 * y)
        lp = np.log1p(ey)                                   # ln(1 + e^{-2y})
        tha = (1.0 - ey) / (1.0 + ey)
        sech2 = 4.0 * ey / (1.0 + ey) ** 2
        c = np.exp(-x_ * _LN2)                              # 2^{-x}
        wx = c[:, None] * np.exp(x_[:, None] * lp[None, :])  # ((1 + e^{-2y})/2)^x, shape (k, ny)
        dw = c[:, None] * np.expm1(x_[:, None] * lp[None, :])   # wx - 2^{-x}
        res = []
        for sgn in (1.0, -1.0):
            # half X = sgn*y, y > 0: weight e^{x y} N(sgn*y; mu, s^2) = e^{L} N(y; nu, s^2)
            L = x_ * sgn * m_ + 0.5 * x_ * x_ * s_ * s_
            nu = sgn * m_ + x_ * s_ * s_
            u = nu / s_
            dens = np.exp(-0.5 * ((y[None, :] - nu[:, None]) / s_[:, None]) ** 2) * (wy / (math.sqrt(2 * math.pi)))[None, :] / s_[:, None]
            Phi = ndtr(u)
            phi = np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)
            I1 = c * Phi + (dens * dw).sum(axis=1)
            It = sgn * (c * Phi + (dens * (wx * tha[None, :] - c[:, None])).sum(axis=1))
            Is = (dens * (wx * sech2[None, :])).sum(axis=1)
            # ln cosh(y) = y - ln 2 + lp; asymptote 2^{-x}(y - ln 2), y-moment in closed form
            Il = c * (nu * Phi + s_ * phi - _LN2 * Phi) \
                + (dens * (dw * (y[None, :] - _LN2) + wx * lp[None, :])).sum(axis=1)
            res.append((L, I1, It, Is, Il))
        (Lp, I1p, Itp, Isp, Ilp), (Lm, I1m, Itm, Ism, Ilm) = res
        with np.errstate(divide="ignore"):
            ap = Lp + np.log(I1p)
            am = Lm + np.log(I1m)
        lz = np.logaddexp(ap, am)
        wp = np.exp(ap - lz)
        wm = np.exp(am - lz)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            rp = np.where(wp > 0, wp / I1p, 0.0)      # weight of the X > 0 half per unit I1p
            rm = np.where(wm > 0, wm / I1m, 0.0)
        lnZ[sh] = lz
        t1[sh] = Itp * rp + Itm * rm
        s2[sh] = Isp * rp + Ism * rm
        lc[sh] = Ilp * rp + Ilm * rm
    return lnZ, t1, s2, lc


# ----------------------------------------------------------------------------------------------
# finite-T functional and residuals
# ----------------------------------------------------------------------------------------------
def _fields(P, alpha, beta, m, q0, C, mu):
    """(a, s0, s1, q1, x, extra) with extra the P = 2 quantities (D0, D1, r0, r1); ok mask."""
    T = 1.0 / beta
    q1 = 1.0 - C * T
    x = mu * T
    ok = (np.abs(m) <= 1.0) & (q0 >= -1e-14) & (q1 <= 1.0) & (q1 >= q0 - 1e-14) & (x > 0) & (C >= 0)
    q0c = np.clip(q0, 0.0, 1.0)
    q1c = np.clip(q1, q0c, 1.0)
    if P == 2:
        D1 = 1.0 - C
        D0 = D1 - mu * (q1c - q0c)
        ok &= (D1 > 0) & (D0 > 0)
        D1s = np.where(ok, D1, 1.0)
        D0s = np.where(ok, D0, 1.0)
        r0 = q0c / D0s ** 2
        dr = (q1c - q0c) / (D0s * D1s)
        a = m
        s0 = np.sqrt(alpha * r0)
        s1 = np.sqrt(alpha * dr)
        extra = (D0s, D1s, r0, r0 + dr)
    else:
        c = _cP(P, alpha)
        a = 0.5 * P * m ** (P - 1)
        p0 = q0c ** (P - 1)
        p1 = q1c ** (P - 1)
        s0 = np.sqrt(c * P * p0)
        s1 = np.sqrt(np.maximum(c * P * (p1 - p0), 0.0))
        extra = None
    return a, s0, s1, q1c, x, extra, ok


def _outer(P, alpha, beta, m, q0, C, mu, n_outer, reference=False):
    a, s0, s1, q1, x, extra, ok = _fields(P, alpha, beta, m, q0, C, mu)
    if not reference:
        k = a.size
        f64 = lambda v: np.ascontiguousarray(np.broadcast_to(v, (k,)), dtype=np.float64)
        zh, wh = gauss_hermite(_N_INNER)
        y, wy = _panels()
        if isinstance(n_outer, (int, np.integer)):
            z, w = gauss_hermite(n_outer)
            E = _K.outer_averages(f64(beta), f64(a), f64(s0), f64(s1), f64(x), z, w, zh, wh, y, wy)
        else:
            E = _K.outer_averages_sinh(f64(beta), f64(a), f64(s0), f64(s1), f64(x), OUTER_DT, zh, wh, y, wy)
        return dict(a=a, s0=s0, s1=s1, q1=q1, x=x, extra=extra, ok=ok,
                    ElnZ=E[0], Et=E[1], Et2=E[2], Es=E[3], Elc=E[4], Es4=E[5])
    if isinstance(n_outer, float):
        z, w = _zgrid(n_outer)            # frozen spacing (Newton: smooth residuals for the FD Jacobian)
    elif n_outer is None:
        # trapezoid grid resolving the width of the inner transition in z0: sqrt(s1^2 + T^2)/s0
        with np.errstate(divide="ignore", invalid="ignore"):
            wid = np.sqrt(s1 ** 2 + 1.0 / beta ** 2) / s0
        wid = wid[np.isfinite(wid) & (s0 > 0)]
        if wid.size == 0:
            z, w = np.zeros(1), np.ones(1)
        else:
            z, w = _zgrid(float(np.clip(wid.min() / OUTER_RESOLUTION, OUTER_MIN_SPACING, 0.1)))
    else:
        z, w = gauss_hermite(n_outer)
    k = a.size
    MU = (beta[:, None] * (a[:, None] + s0[:, None] * z[None, :])).ravel()
    SG = np.repeat(beta * s1, z.size)
    XX = np.repeat(np.maximum(x, 1e-300), z.size)
    lnZ, t1, s2, lc = (v.reshape(k, z.size) for v in _inner(MU, SG, XX))
    E = lambda v: v @ w
    return dict(a=a, s0=s0, s1=s1, q1=q1, x=x, extra=extra, ok=ok,
                ElnZ=E(lnZ), Et=E(t1), Et2=E(t1 * t1), Es=E(s2), Elc=E(lc))


def _f_and_dfdx(P, alpha, beta, m, q0, C, mu, o):
    """f and (1/beta) df/dx from the outer averages o."""
    x, q1 = o["x"], o["q1"]
    xs = np.maximum(x, 1e-300)
    if P == 2:
        D0, D1, r0, r1 = o["extra"]
        f = (alpha / 2 + m * m / 2 + alpha / (2 * beta) * ((1 - 1 / xs) * np.log(D1) + np.log(D0) / xs - beta * q0 / D0)
             + alpha / 2 * r1 * C + alpha * mu / 2 * (r1 * q1 - r0 * q0) - (_LN2 + o["ElnZ"] / xs) / beta)
        dq = q1 - q0
        g = (alpha / 2 * ((np.log(D1) - np.log(D0)) / mu ** 2 - dq / (mu * D0) - q0 * dq / D0 ** 2)
             + alpha / 2 * (r1 * q1 - r0 * q0) + o["ElnZ"] / mu ** 2 - o["Elc"] / (beta * mu))
        return f, g
    c = _cP(P, alpha)
    hq = 1 - P * q1 ** (P - 1) + (P - 1) * q1 ** P
    dP = (P - 1) * (q1 ** P - q0 ** P)
    F = _LN2 - beta * (P - 1) / 2 * m ** P + o["ElnZ"] / xs + beta ** 2 * c / 2 * hq - beta ** 2 * c / 2 * xs * dP
    dF = -o["ElnZ"] / xs ** 2 + o["Elc"] / xs - beta ** 2 * c / 2 * dP
    return -F / beta, -dF / beta ** 2


def _residuals(P, alpha, beta, m, q0, C, mu, fix_m, fix_q0, n_outer=N_OUTER, reference=False):
    o = _outer(P, alpha, beta, m, q0, C, mu, n_outer, reference)
    f, g = _f_and_dfdx(P, alpha, beta, m, q0, C, mu, o)
    R = np.stack([np.where(fix_m, 0.0, o["Et"] - m), np.where(fix_q0, 0.0, o["Et2"] - q0),
                  beta * o["Es"] - C, g])
    R[:, ~o["ok"]] = np.inf
    return R, f


def residuals_1rsb(P, alpha, T, m, q0, q1, x, n_outer=N_OUTER, reference=False):
    """Residuals (E<tanh> - m, E<tanh>^2 - q0, E<tanh^2> - q1, (1/beta) df/dx) and f of the
    finite-T 1RSB functional at given order parameters (arrays broadcast); shape (4, ...) and (...).
    ``reference``: the numpy quadrature (uniform outer grid) instead of the compiled sinh rule."""
    P = _check_P(P)
    alpha, T, m, q0, q1, x = _check_1rsb_point(alpha, T, m, q0, q1, x)
    if n_outer is not None:
        n_outer = check_integer("n_outer", n_outer, low=1)
    return _residuals_1rsb(P, alpha, T, m, q0, q1, x, n_outer, reference)


def _residuals_1rsb(P, alpha, T, m, q0, q1, x, n_outer=N_OUTER, reference=False):
    alpha, T, m, q0, q1, x = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(alpha, T, m, q0, q1, x))
    shp = alpha.shape
    beta = 1.0 / T.ravel()
    C = (1 - q1.ravel()) * beta
    mu = x.ravel() * beta
    z = np.zeros(alpha.size, bool)
    R, f = _residuals(P, alpha.ravel(), beta, m.ravel(), q0.ravel(), C, mu, z, z, n_outer, reference)
    R[2] = R[2] / beta
    return R.reshape((4,) + shp), f.reshape(shp)


def free_energy_1rsb(P, alpha, T, m, q0, q1, x, n_outer=N_OUTER):
    """1RSB free energy per neuron at arbitrary order parameters (module docstring), vectorised;
    alpha >= 0, T > 0, m in [-1, 1], q0, q1 in [0, 1], x in (0, 1]."""
    return residuals_1rsb(P, alpha, T, m, q0, q1, x, n_outer)[1]


# ----------------------------------------------------------------------------------------------
# Newton (finite differences, vectorised)
# ----------------------------------------------------------------------------------------------
def _newton(P, alpha, beta, U, fix_m, fix_q0, tol=TOL, maxiter=MAXITER, n_outer=N_OUTER, reference=False):
    """Damped Newton on the 4 residuals in U = (m, q0, C, mu) (shape (4, n)); fixed components
    (m = 0 and/or q0 = 0 for the spin glass) are kept. A point collapsing onto q1 = q0 (the RS
    solution, which also solves the 1RSB equations) is stopped with converged = False.
    Returns U, residual, converged, iterations, f."""
    U = np.array(U, dtype=float)
    n = U.shape[1]
    if n_outer is None and reference:
        # freeze the outer grid for the whole solve (a spacing that changed with the iterate would
        # make the residuals piecewise and the finite-difference Jacobian noisy): half the spacing
        # the starting point asks for
        a_, s0_, s1_, *_ = _fields(P, alpha, beta, *U)
        with np.errstate(divide="ignore", invalid="ignore"):
            wid = np.sqrt(s1_ ** 2 + 1.0 / beta ** 2) / s0_
        wid = wid[np.isfinite(wid) & (s0_ > 0)]
        n_outer = 0.1 if wid.size == 0 else float(np.clip(0.5 * wid.min() / OUTER_RESOLUTION,
                                                          OUTER_MIN_SPACING, 0.1))
    R, f = _residuals(P, alpha, beta, *U, fix_m, fix_q0, n_outer, reference)
    res = np.max(np.abs(R), axis=0)
    conv = res <= tol
    dead = ~np.isfinite(res)
    its = np.zeros(n, int)
    free = np.stack([~fix_m, ~fix_q0, np.ones(n, bool), np.ones(n, bool)])
    for it in range(maxiter):
        act = np.flatnonzero(~conv & ~dead)
        if act.size == 0:
            break
        its[act] += 1
        Ua = U[:, act]
        h = 1e-7 * np.maximum(np.abs(Ua), 1e-3)
        J = np.empty((act.size, 4, 4))
        big = np.repeat(Ua[:, None, :], 4, axis=1)          # (4 comp, 4 pert, k)
        for j in range(4):
            big[j, j] += h[j]
        args = [np.tile(v[act], 4) for v in (alpha, beta)]
        Rp, _ = _residuals(P, args[0], args[1], *big.reshape(4, -1), np.tile(fix_m[act], 4),
                           np.tile(fix_q0[act], 4), n_outer, reference)
        Rp = Rp.reshape(4, 4, act.size)
        Ra = R[:, act]
        for j in range(4):
            J[:, :, j] = ((Rp[:, j, :] - Ra) / h[j]).T
        fr = free[:, act].T
        for i in range(4):                                   # fixed unknowns: identity rows/cols
            J[~fr[:, i], :, i] = 0.0
            J[~fr[:, i], i, :] = 0.0
            J[~fr[:, i], i, i] = 1.0
        rhs = np.where(fr, -Ra.T, 0.0)
        with np.errstate(all="ignore"):
            try:
                dU = np.linalg.solve(J, rhs[..., None])[..., 0].T
            except np.linalg.LinAlgError:
                dU = np.full((4, act.size), np.nan)
                for k in range(act.size):
                    try:
                        dU[:, k] = np.linalg.solve(J[k], rhs[k])
                    except np.linalg.LinAlgError:
                        pass
        bad = ~np.isfinite(dU).all(axis=0)
        dead[act[bad]] = True
        pending = np.flatnonzero(~bad)
        r0 = res[act]
        for lam in (1.0, 0.5, 0.25, 0.1, 0.03):
            if pending.size == 0:
                break
            idx = act[pending]
            Ut = U[:, idx] + lam * dU[:, pending]
            Rt, ft = _residuals(P, alpha[idx], beta[idx], *Ut, fix_m[idx], fix_q0[idx], n_outer, reference)
            rt = np.max(np.abs(Rt), axis=0)
            acc = np.isfinite(rt) & ((rt < (1 - 0.3 * lam) * r0[pending]) | (rt <= tol))
            ia = idx[acc]
            U[:, ia], R[:, ia], f[ia], res[ia] = Ut[:, acc], Rt[:, acc], ft[acc], rt[acc]
            pending = pending[~acc]
        dead[act[pending]] = True
        # collapse onto the trivial (RS) solution q1 = q0 of the 1RSB equations: not the branch sought
        collapsed = (1.0 - U[2] / beta) - U[1] < 0.1 * RSB_MIN
        conv = (res <= tol) & ~collapsed
        dead |= collapsed
    return U, res, conv, its, f


# ----------------------------------------------------------------------------------------------
# T = 0
# ----------------------------------------------------------------------------------------------
def _T0_inner(A, s, mu):
    """Closed-form inner averages at T = 0 over h = A + s z1 with weight e^(mu|h|):
    lnZ, <sign h>, <|h|>, density term 2 phi(A/s)/(s Z) (= lim beta <sech^2>)."""
    up = (A + mu * s * s) / s
    um = (-A + mu * s * s) / s
    lp = mu * A + log_ndtr(up)
    lm = -mu * A + log_ndtr(um)
    lz = np.logaddexp(lp, lm)
    sg = np.tanh(0.5 * (lp - lm))
    wp, wm = np.exp(lp - lz), np.exp(lm - lz)
    # <|h|>: (A + mu s^2) + s phi(up)/Phi(up) on the + side, similarly on the - side
    mills = lambda u: np.exp(-0.5 * u * u - log_ndtr(u)) / math.sqrt(2 * math.pi)
    ah = wp * (A + mu * s * s + s * mills(up)) + wm * (-A + mu * s * s + s * mills(um))
    lnZ = 0.5 * mu * mu * s * s + lz
    dens = 2.0 * np.exp(-0.5 * (A / s) ** 2 - lnZ) / (s * math.sqrt(2 * math.pi))
    return lnZ, sg, ah, dens


@lru_cache(maxsize=64)
def _zgrid(h):
    """Uniform grid z0 on [-12, 12] with spacing ~h and normal weights (trapezoid, normalised);
    exponentially accurate for integrands analytic in a strip of width >> h."""
    n = int(math.ceil(24.0 / h)) | 1
    z = np.linspace(-12.0, 12.0, n)
    w = np.exp(-0.5 * z * z)
    w /= w.sum()
    return z, w


def _spacing(s0, s, resolution):
    """z0 spacing resolving features of width s/s0 (T = 0) with ``resolution`` points per width."""
    if s0 <= 0:
        return 0.1
    return float(np.clip(s / s0 / resolution, 2e-4, 0.1))


def _T0_eval(P, alpha, m, q0, C, mu, resolution=8.0, reference=False):
    """T = 0 1RSB: energy e, residuals (E<sign> - m, E<sign>^2 - q0, E dens - C [P = 2], de/dmu).
    Outer average by the trapezoid rule on a z0 grid resolving the width s/s0 of the inner
    transition with ``resolution`` points (convergence checked in the tests)."""
    if P == 2:
        D1 = 1.0 - C
        D0 = D1 - mu * (1.0 - q0)
        if D1 <= 0 or D0 <= 0 or not (0 <= q0 < 1) or mu <= 0:
            return np.inf, np.full(4, np.inf)
        r0 = q0 / D0 ** 2
        r1 = r0 + (1 - q0) / (D0 * D1)
        s0 = math.sqrt(alpha * r0)
        s = math.sqrt(alpha * (r1 - r0))
        a0 = m
    else:
        if not (0 <= q0 < 1) or mu <= 0:
            return np.inf, np.full(4, np.inf)
        c = _cP(P, alpha)
        s0 = math.sqrt(c * P * q0 ** (P - 1))
        s = math.sqrt(c * P * (1 - q0 ** (P - 1)))
        a0 = 0.5 * P * m ** (P - 1)
    if reference:
        z, w = _zgrid(_spacing(s0, s, resolution))
        lnZ, sg, ah, dens = _T0_inner(a0 + s0 * z, s, mu)
        ElnZ, Esg, Esg2, Eah, Ed = lnZ @ w, sg @ w, (sg * sg) @ w, ah @ w, dens @ w
    else:
        ElnZ, Esg, Esg2, Eah, Ed = _K.t0_averages_sinh(float(a0), float(s0), float(s), float(mu), 1.0 / resolution)
    if P == 2:
        e = (alpha / 2 + m * m / 2 + alpha / (2 * mu) * math.log(D0 / D1) - alpha / 2 * q0 / D0
             + alpha / 2 * r1 * C + alpha * mu / 2 * (r1 - r0 * q0) - ElnZ / mu)
        de = (-alpha / (2 * mu ** 2) * math.log(D0 / D1) - alpha / (2 * mu) * (1 - q0) / D0
              - alpha / 2 * q0 * (1 - q0) / D0 ** 2 + alpha / 2 * (r1 - r0 * q0) + ElnZ / mu ** 2 - Eah / mu)
        return e, np.array([Esg - m, Esg2 - q0, Ed - C, de])
    e = (P - 1) / 2 * m ** P - ElnZ / mu + c * mu / 2 * (P - 1) * (1 - q0 ** P)
    de = ElnZ / mu ** 2 - Eah / mu + c / 2 * (P - 1) * (1 - q0 ** P)
    return e, np.array([Esg - m, Esg2 - q0, Ed - C, de])


def _T0_system(P, alpha, m, q0, C, mu, resolution, reference=False):
    """Residuals of the T = 0 system; P >= 3 has no C equation (C decouples, reported)."""
    e, r = _T0_eval(P, alpha, m, q0, C, mu, resolution, reference)
    if P == 2:
        return e, r
    return e, r[[0, 1, 3]]


def _T0_solve_point(P, alpha, guess, resolution=8.0, fix_m=None, reference=False):
    """Solve the T = 0 retrieval system at alpha from guess (m, q0, C, mu) (P >= 3: C ignored).
    With fix_m given, m is fixed and alpha is solved for instead (fold-regular parameterisation).
    Returns (m, q0, C, mu, alpha, e, success)."""
    m, q0, C, mu = guess
    sc = 1e3     # scale of the de/dmu residual (it is small, ~ the RSB correction)

    def unpack(v):
        if P == 2:
            a, qq, CC, mm = (v[0], v[1], v[2], v[3])
        else:
            a, qq, CC, mm = v[0], v[1], C, v[2]
        return a, qq, CC, mm

    def fun(v):
        a, qq, CC, mm = unpack(v)
        if fix_m is None:
            mval, aval = a, alpha
        else:
            mval, aval = fix_m, a
        if not (aval > 0 and 0 < qq < 1 and mm > 0):
            return np.full(v.size, 1e3)
        _, r = _T0_system(P, aval, mval, qq, CC, mm, resolution, reference)
        r = np.array(r, dtype=float)
        r[-1] *= sc
        return np.where(np.isfinite(r), r, 1e3)

    first = m if fix_m is None else alpha
    v0 = np.array([first, q0, C, mu] if P == 2 else [first, q0, mu])
    sol = root(fun, v0, method="hybr", options={"xtol": 1e-13})
    a, qq, CC, mm = unpack(sol.x)
    mval, aval = (a, alpha) if fix_m is None else (fix_m, a)
    e, r = _T0_eval(P, aval, mval, qq, CC, mm, resolution, reference)
    if P != 2:
        CC = r[2] + CC          # E dens
    ok = bool(np.all(np.abs(np.asarray(fun(sol.x))) < 1e-9)) and 0 < qq < 1 and mm > 0
    return mval, qq, CC, mm, aval, e, ok


def _rs_guess(P, alpha):
    t0 = _rs.solve_T0(P, alpha)
    return float(t0["m"][0]), float(t0["C"][0]), float(t0["e_retrieval"][0])


def energy_T0_1rsb(P, alpha, m, q0, C, mu, resolution=8.0):
    """T = 0 1RSB energy e(m, q0, C, mu) (module docstring; C is unused for P >= 3) and the
    residual vector (E<sign h> - m, E<sign h>^2 - q0, E density - C, de/dmu); alpha >= 0, m in [-1, 1],
    q0 in [0, 1], C >= 0, mu > 0 (inf where D0, D1 <= 0 or q0 = 1)."""
    P = _check_P(P)
    alpha, m, q0, C, mu, resolution = _check_T0_point(alpha, m, q0, C, mu, resolution)
    return _T0_eval(P, alpha, m, q0, C, mu, resolution)


def _sg_T0(P, alpha, resolution=8.0, reference=False):
    """T = 0 1RSB spin glass (m = q0 = 0): (C, mu, e). P >= 3: e(mu) = -ln2/mu - c mu/2 - ln Phi(mu s)/mu,
    s^2 = c P, maximised over mu. P = 2: C and mu from the C and de/dmu equations."""
    if alpha == 0:
        return np.nan, np.nan, 0.0
    if P >= 3:
        c = _cP(P, alpha)
        s = math.sqrt(c * P)
        e = lambda mu: -_LN2 / mu - c * mu / 2 - log_ndtr(mu * s) / mu
        de = lambda mu: _LN2 / mu ** 2 - c / 2 + log_ndtr(mu * s) / mu ** 2 \
            - s * math.exp(-0.5 * (mu * s) ** 2 - log_ndtr(mu * s)) / math.sqrt(2 * math.pi) / mu
        mu = brentq(de, 1e-3 / s, 1e3 / s, xtol=1e-14, rtol=1e-15)
        C = 2.0 / (s * math.sqrt(2 * math.pi)) / (2 * math.exp(0.5 * mu * mu * s * s) * ndtr(mu * s))
        return C, mu, e(mu)

    def fun(v):
        C, mu = v
        if not (0 < C < 1 and mu > 0 and 1 - C - mu > 0):
            return np.full(2, 1e3)
        _, r = _T0_eval(2, alpha, 0.0, 0.0, C, mu, resolution, reference)
        return np.array([r[2], 1e3 * r[3]])
    best = None
    for g in ((0.3, 0.3), (0.5, 0.2), (0.2, 0.5), (0.6, 0.1)):
        sol = root(fun, np.array(g), method="hybr", options={"xtol": 1e-13})
        if np.all(np.abs(fun(sol.x)) < 1e-9):
            best = sol.x
            break
    if best is None:
        return np.nan, np.nan, np.nan
    C, mu = best
    return C, mu, _T0_eval(2, alpha, 0.0, 0.0, C, mu, resolution, reference)[0]


def solve_T0_1rsb(P, alpha, resolution=8.0, *, reference=False) -> dict:
    """T = 0 1RSB solutions at the given loads (continuation in alpha from the smallest).

    Returns dict of arrays (len(alpha)): m, q0, C (= lim beta(1 - q1)), mu (= lim beta x), e_retrieval,
    exists (the retrieval 1RSB solution was found), e_retrieval_rs, and for the spin glass (m = q0 = 0)
    C_spin_glass, mu_spin_glass, e_spin_glass. ``resolution``: outer grid points per inner width."""
    P = _check_P(P)
    a_arr = np.atleast_1d(_check_1d("alpha", alpha, 0.0, False))
    resolution = check_real("resolution", resolution, low=1.0)
    n = a_arr.size
    keys = ("m", "q0", "C", "mu", "e_retrieval", "e_retrieval_rs", "C_spin_glass", "mu_spin_glass", "e_spin_glass")
    out = {k: np.full(n, np.nan) for k in keys}
    out["exists"] = np.zeros(n, bool)
    order = np.argsort(a_arr)
    prev = None
    for i in order:
        a = float(a_arr[i])
        out["C_spin_glass"][i], out["mu_spin_glass"][i], out["e_spin_glass"][i] = _sg_T0(P, a, resolution, reference)
        if a == 0:
            out["m"][i], out["q0"][i], out["C"][i], out["mu"][i] = 1.0, 1.0, 0.0, np.nan
            out["e_retrieval"][i] = out["e_retrieval_rs"][i] = -0.5 + (a / 2 if P == 2 else 0.0)
            out["exists"][i] = True
            continue
        mR, CR, eR = _rs_guess(P, a)
        out["e_retrieval_rs"][i] = eR
        guesses = []
        if prev is not None:
            guesses.append(prev)
        if np.isfinite(mR):
            guesses += [(mR, 1 - 1e-3, CR, 10.0), (mR, 0.99, CR, 10.0), (mR, 1 - 1e-4, CR, 50.0)]
        # every start is tried and the solution with the largest m kept: the stable (upper) branch of
        # the retrieval fold; a start may also land on the lower branch or on a near-RS solution
        # (q0 -> 1, mu -> inf, m -> m_RS, below the 1RSB m)
        for g in guesses:
            m, q0, C, mu, _, e, ok = _T0_solve_point(P, a, g, resolution, reference=reference)
            if ok and m > 0.1 and (not np.isfinite(eR) or e >= eR - 1e-9) and not m <= out["m"][i]:
                out["m"][i], out["q0"][i], out["C"][i], out["mu"][i], out["e_retrieval"][i] = m, q0, C, mu, e
                out["exists"][i] = True
        if out["exists"][i]:
            prev = (out["m"][i], out["q0"][i], out["C"][i], out["mu"][i])
    return out


def capacity_1rsb(P, resolution=8.0, return_details=False):
    """T = 0 storage capacity in 1RSB: the largest alpha at which the retrieval 1RSB solution (with
    mu = beta x fixed by de/dmu = 0) exists, and the overlap there. Computed as max over m of alpha(m),
    the load solving the T = 0 system at fixed m (regular at the fold).
    Returns (alpha_c, m_c) (and with return_details a dict with q0, C, mu, e)."""
    P = _check_P(P)
    resolution = check_real("resolution", resolution, low=1.0)
    ac_rs, m_rs = _rs.capacity(P)
    # a solution slightly inside, used as the seed for the fixed-m continuation
    a0 = 0.97 * ac_rs
    s = solve_T0_1rsb(P, [0.5 * ac_rs, 0.8 * ac_rs, a0], resolution)
    if not s["exists"][-1]:
        raise RuntimeError("no T = 0 1RSB retrieval solution found near the RS capacity")
    state = {"g": (s["m"][-1], s["q0"][-1], s["C"][-1], s["mu"][-1]), "a": a0}
    cache = {}

    def alpha_of_m(m):
        if m in cache:
            return cache[m]
        _, q0, C, mu = state["g"]
        mm, q0n, Cn, mun, a, e, ok = _T0_solve_point(P, state["a"], (m, q0, C, mu), resolution, fix_m=m)
        if ok:
            state["g"], state["a"] = (m, q0n, Cn, mun), a
            cache[m] = (a, q0n, Cn, mun, e)
        else:
            cache[m] = (np.nan, np.nan, np.nan, np.nan, np.nan)
        return cache[m]

    # walk m down from the seed's m until alpha(m) has passed its maximum, then refine
    m0 = s["m"][-1]
    ms = [m0]
    vals = [alpha_of_m(m0)[0]]
    step = 0.25 * (m0 - m_rs) if m0 > m_rs else 0.005
    step = max(step, 1e-3)
    while True:
        m = ms[-1] - step
        a = alpha_of_m(m)[0]
        if not np.isfinite(a):
            step *= 0.5
            if step < 1e-6:
                break
            continue
        ms.append(m)
        vals.append(a)
        if len(vals) >= 3 and vals[-1] < vals[-2]:
            break
    k = int(np.nanargmax(vals))
    lo, hi = ms[min(k + 1, len(ms) - 1)], ms[max(k - 1, 0)]
    # golden-section on alpha(m) (continuation state follows the evaluations)
    state["g"] = (ms[k],) + tuple(alpha_of_m(ms[k])[1:4])
    state["a"] = vals[k]
    r = minimize_scalar(lambda m: -alpha_of_m(float(m))[0], bounds=(lo, hi), method="bounded",
                        options={"xatol": 1e-9})
    m_c = float(r.x)
    a_c, q0, C, mu, e = alpha_of_m(m_c)
    if return_details:
        return float(a_c), m_c, {"q0": q0, "C": C, "mu": mu, "e": e}
    return float(a_c), m_c


def pspin_static_temperature(P, J=1.0, n_outer=N_OUTER):
    """Static (Kauzmann / 1RSB) transition T_s of the pure Ising P-spin glass H = -sum_{i1<..<iP} J_i s..s,
    E J_i^2 = J^2 P!/(2 N^(P-1)) (covariance N (J^2/2) R^P), from this module's 1RSB functional with
    m = q0 = 0 at x = 1: the temperature where a solution q1 > 0 of q1 = <tanh^2>_x with df/dx = 0 at
    x = 1 appears. In the package convention the glassy part of the dense storage model is this model
    with J^2 = alpha P!/2, so T_s(alpha) = sqrt(alpha P!/2) T_s(J = 1). Returns (T_s, q1)."""
    P = check_integer("P", P, low=3)
    J = check_real("J", J, low=0.0, low_open=True)
    alpha = 2.0 / math.factorial(P)        # J = 1 in package units
    one = np.ones(1, bool)

    def res(v):
        T, q1 = v
        if not (T > 0 and 0 < q1 < 1):
            return np.full(2, 1e3)
        b = 1.0 / T
        R, _ = _residuals(P, np.array([alpha]), np.array([b]), np.zeros(1), np.zeros(1),
                          np.array([b * (1 - q1)]), np.array([b]), one, one, n_outer)
        return np.array([R[2, 0] / b, R[3, 0]])
    best = None
    for g in ((0.65, 0.6), (0.62, 0.8), (0.6, 0.95), (0.7, 0.5)):
        sol = root(res, np.array(g), method="hybr", options={"xtol": 1e-13})
        if np.all(np.abs(res(sol.x)) < 1e-10) and sol.x[1] > 0.05:
            best = sol.x
            break
    if best is None:
        raise RuntimeError("T_s not found")
    return float(best[0] * J), float(best[1])


# ----------------------------------------------------------------------------------------------
# replicon and AT line
# ----------------------------------------------------------------------------------------------
def replicon(P, alpha, T, m, q, r=None):
    """Replicon (de Almeida-Thouless) eigenvalue of the RS saddle point (m, q[, r]), vectorised.

    Sign convention: lambda > 0 RS locally stable against replica-symmetry breaking, lambda < 0 RS
    unstable (the 1RSB solution branches off where lambda = 0).
      P = 2:  lambda = 1 - alpha beta^2 E sech^4(beta(m + sqrt(alpha r) z)) / (1 - beta(1-q))^2,
              r defaults to q/(1 - beta(1-q))^2 (AGS);
      P >= 3: lambda = 1 - beta^2 xi''(q) E sech^4(beta((P/2) m^(P-1) + sqrt(xi'(q)) z)),
              xi(q) = (alpha P!/4) q^P.
    NaN where undefined (P = 2 with 1 - beta(1-q) <= 0)."""
    P = _check_P(P)
    alpha = check_array_real("alpha", alpha, low=0.0)
    T = check_array_real("T", T, low=0.0, low_open=True)
    m = check_array_real("m", m, low=-1.0, high=1.0)
    q = check_array_real("q", q, low=0.0, high=1.0)
    if r is not None:
        r = check_array_real("r", r, low=0.0)
    alpha, T, m, q = np.broadcast_arrays(alpha, T, m, q)
    beta = 1.0 / T
    if P == 2:
        D = 1.0 - beta * (1.0 - q)
        Ds = np.where(D > 0, D, 1.0)
        rr = q / Ds ** 2 if r is None else np.broadcast_to(r, q.shape)
        mu, sig = beta * m, beta * np.sqrt(alpha * rr)
        pref = alpha * beta ** 2 / Ds ** 2
    else:
        c = _cP(P, alpha)
        mu = beta * 0.5 * P * m ** (P - 1)
        sig = beta * np.sqrt(c * P * q ** (P - 1))
        pref = beta ** 2 * c * P * (P - 1) * q ** (P - 2)
    _, d1, _, d3 = tanh_moments(mu.ravel(), sig.ravel())
    sech4 = ((d3 + 2.0 * d1) / 3.0).reshape(mu.shape)       # E (1-t^2)^2 from E s and E s(3s-2)
    lam = 1.0 - pref * sech4
    if P == 2:
        lam = np.where(D > 0, lam, np.nan)
    return lam if lam.ndim else float(lam)


def _rs_retrieval_replicon(P, alpha, T):
    g = _rs.solve_grid(P, [alpha], np.atleast_1d(T))
    e = g["exists_retrieval"][0]
    lam = np.full(e.shape, np.nan)
    if e.any():
        lam[e] = replicon(P, alpha, np.atleast_1d(T)[e], g["m_retrieval"][0][e], g["q_retrieval"][0][e])
    return lam


def at_line(P, alpha=None, *, xtol=1e-6):
    """de Almeida-Thouless line T_R(alpha) of the RS retrieval state: the temperature below which its
    replicon is negative. For each alpha (default: 12 values up to the RS capacity) the replicon is
    scanned on a T grid (RS retrieval solution from ``statmech.storage.solve_grid``), the sign change
    bracketed and refined by bisection to ``xtol`` in T. Returns (alpha_values, T_values) for the
    alphas where the line exists (retrieval exists and the replicon changes sign)."""
    P = _check_P(P)
    ac, _ = _rs.capacity(P)
    if alpha is None:
        alpha = np.linspace(ac / 12, ac * 0.999, 12)
    alpha = np.sort(_check_1d("alpha", alpha, 0.0, False))
    xtol = check_real("xtol", xtol, low=0.0, low_open=True)
    Ttop = 1.0 if P == 2 else 0.5 * P * 1.02
    Ts = np.unique(np.concatenate([np.geomspace(1e-4, 0.05, 40) * Ttop, np.linspace(0.05, 1.0, 60) * Ttop]))
    out_a, out_T = [], []
    for a in alpha:
        if a <= 0:
            continue
        lam = _rs_retrieval_replicon(P, float(a), Ts)
        neg = np.flatnonzero(lam < 0)
        if neg.size == 0 or neg[-1] + 1 >= Ts.size or not np.isfinite(lam[neg[-1] + 1]):
            continue
        lo, hi = Ts[neg[-1]], Ts[neg[-1] + 1]
        while hi - lo > xtol:
            mid = 0.5 * (lo + hi)
            v = _rs_retrieval_replicon(P, float(a), [mid])[0]
            if np.isfinite(v) and v < 0:
                lo = mid
            else:
                hi = mid
        out_a.append(float(a))
        out_T.append(0.5 * (lo + hi))
    return np.array(out_a), np.array(out_T)


# ----------------------------------------------------------------------------------------------
# grid solver
# ----------------------------------------------------------------------------------------------
def solve_grid_1rsb(P, alpha, T, *, tol=TOL, maxiter=MAXITER, ladder=40, reference=False) -> dict:
    """1RSB saddle points on the grid alpha x T for the retrieval and spin-glass branches.

    Method: the RS branches come from ``statmech.storage.solve_grid``. The 1RSB branches are followed
    by continuation in T along a ladder (the requested temperatures plus ``ladder`` equally spaced
    ones from min(T)/4 to max(T)), started from the T = 0 1RSB solution (``solve_T0_1rsb``) in the
    variables (m, q0, C = beta(1-q1), mu = beta x) that are smooth through T = 0; Newton with a
    finite-difference Jacobian and backtracking, warm-started from the previous ladder point (on
    failure retried with 2, 4 and 8 substeps from the previous ladder temperature). Once
    lost on a row (fold, or no convergence), a 1RSB branch is not attempted again at higher T there.
    At each grid point the 1RSB solution is used (rsb_b True) if it converged, is admissible
    (0 < x < 1, q1 - q0 > RSB_MIN; m > 1e-6 for retrieval) and f_1RSB >= f_RS (f is maximal over the
    Parisi parameters, and x = 1 is RS); otherwise the RS solution is reported with q0 = q1 = q, x = 1.

    Returns dict of arrays of shape (len(alpha), len(T)), see OBSERVABLE_INFO."""
    P = _check_P(P)
    alpha = _check_1d("alpha", alpha, 0.0, False)
    T = _check_1d("T", T, 0.0, True)
    tol = check_real("tol", tol, low=0.0, low_open=True)
    maxiter = check_integer("maxiter", maxiter, low=1)
    ladder = check_integer("ladder", ladder, low=0)
    nA, nT = alpha.size, T.size
    g = _rs.solve_grid(P, alpha, T)
    AA, TT = np.meshgrid(alpha, T, indexing="ij")
    out = {}
    for b in BRANCHES:
        e = g[f"exists_{b}"]
        q = g[f"q_{b}"]
        out[f"m_{b}"] = g[f"m_{b}"].copy()
        out[f"q0_{b}"] = q.copy()
        out[f"q1_{b}"] = q.copy()
        out[f"x_{b}"] = np.where(e, 1.0, np.nan)
        out[f"f_{b}"] = g[f"f_{b}"].copy()
        out[f"residual_{b}"] = g[f"residual_{b}"].copy()
        out[f"converged_{b}"] = g[f"converged_{b}"].copy()
        out[f"iterations_{b}"] = np.zeros((nA, nT), np.int64)
        out[f"exists_{b}"] = e.copy()
        out[f"rsb_{b}"] = np.zeros((nA, nT), bool)
        st = np.full((nA, nT), np.nan)
        if e.any():
            st[e] = replicon(P, AA[e], TT[e], out[f"m_{b}"][e], q[e])
        out[f"stability_{b}"] = st
    # --- 1RSB continuation ---
    t0 = solve_T0_1rsb(P, alpha, reference=reference)
    Tl = np.unique(np.concatenate([T, np.linspace(T.min() / 4, T.max(), ladder + 2)[:-1] if ladder else T]))
    a2 = np.concatenate([alpha, alpha])
    fix_m = np.r_[np.zeros(nA, bool), np.ones(nA, bool)]
    fix_q0 = fix_m.copy()
    U = np.stack([np.r_[t0["m"], np.zeros(nA)], np.r_[t0["q0"], np.zeros(nA)],
                  np.r_[t0["C"], t0["C_spin_glass"]], np.r_[t0["mu"], t0["mu_spin_glass"]]])
    alive = np.isfinite(U).all(axis=0) & (a2 > 0)
    if P >= 3:
        # C does not enter the T = 0 equations; reasonable start
        U[2] = np.where(np.isfinite(U[2]), U[2], 0.1)
    col = {float(t): j for j, t in enumerate(T)}
    T_prev = None
    for Tk in Tl:
        act = np.flatnonzero(alive)
        if act.size == 0:
            break
        beta = np.full(act.size, 1.0 / Tk)
        Un, res, conv, its, f = _newton(P, a2[act], beta, U[:, act], fix_m[act], fix_q0[act], tol, maxiter,
                                        reference=reference)
        ok = conv & np.isfinite(f)
        # failures: retry with 2, 4, 8 substeps from the previous ladder temperature (small steps
        # are needed near the continuous RS -> 1RSB bifurcation, where x is weakly determined)
        for nsub in ((2, 4, 8) if T_prev is not None else ()):
            bad = np.flatnonzero(~ok)
            if bad.size == 0:
                break
            ib = act[bad]
            Ub = U[:, ib].copy()
            okb = np.ones(bad.size, bool)
            for Ts in np.linspace(T_prev, Tk, nsub + 1)[1:]:
                live = np.flatnonzero(okb)
                if live.size == 0:
                    break
                r_ = _newton(P, a2[ib[live]], np.full(live.size, 1.0 / Ts), Ub[:, live], fix_m[ib[live]],
                             fix_q0[ib[live]], tol, maxiter, reference=reference)
                good_ = r_[2] & np.isfinite(r_[4])
                Ub[:, live[good_]] = r_[0][:, good_]
                okb[live[~good_]] = False
                if Ts == Tk:
                    sel = live[good_]
                    Un[:, bad[sel]], res[bad[sel]], conv[bad[sel]] = r_[0][:, good_], r_[1][good_], True
                    its[bad[sel]], f[bad[sel]] = r_[3][good_], r_[4][good_]
                    ok[bad[sel]] = True
        T_prev = Tk
        U[:, act[ok]] = Un[:, ok]
        alive[act[~ok]] = False
        j = col.get(float(Tk))
        if j is None:
            continue
        for k, i in enumerate(act):
            b = BRANCHES[int(fix_m[i])]
            ia = i % nA
            m, q0, C, mu = Un[:, k]
            q1, x = 1 - C * Tk, mu * Tk
            out[f"iterations_{b}"][ia, j] = its[k]
            good = ok[k] and 0 < x < 1 and q1 - q0 > RSB_MIN and (b == "spin_glass" or m > 1e-6)
            fRS = out[f"f_{b}"][ia, j] if out[f"exists_{b}"][ia, j] and not out[f"rsb_{b}"][ia, j] else -np.inf
            if b == "spin_glass" and g["exists_paramagnet"][ia, j]:
                fRS = max(fRS, g["f_paramagnet"][ia, j])
            if good and f[k] >= fRS - 1e-12:
                out[f"m_{b}"][ia, j], out[f"q0_{b}"][ia, j], out[f"q1_{b}"][ia, j] = m, q0, q1
                out[f"x_{b}"][ia, j], out[f"f_{b}"][ia, j], out[f"residual_{b}"][ia, j] = x, f[k], res[k]
                out[f"converged_{b}"][ia, j] = True
                out[f"exists_{b}"][ia, j] = True
                out[f"rsb_{b}"][ia, j] = True
    # --- replicon of the q1 block where the 1RSB solution is used (RS replicon elsewhere) ---
    for b in BRANCHES:
        lam = out[f"stability_{b}"].copy()
        use = out[f"rsb_{b}"]
        if use.any():
            lam[use] = replicon_1rsb(P, AA[use], TT[use], out[f"m_{b}"][use], out[f"q0_{b}"][use],
                                     out[f"q1_{b}"][use], out[f"x_{b}"][use])
        out[f"replicon_1rsb_{b}"] = lam
    # --- thermodynamic state: storage's rule (m = 0 state = the larger f of spin glass and paramagnet;
    #     unresolved where none was found) on the 1RSB branches and the RS paramagnet ---
    branches = {f"{k}_{b}": out[f"{k}_{b}"] for b in ("retrieval", "spin_glass") for k in ("exists", "f", "m")}
    branches.update(q_retrieval=out["q1_retrieval"], q_spin_glass=out["q1_spin_glass"],
                    exists_paramagnet=g["exists_paramagnet"], f_paramagnet=g["f_paramagnet"])
    cls = _rs._classify(branches, _rs._sg_required(P, AA, TT))
    out.update(phase=cls["phase"], m=cls["m"], f=cls["f"])
    return out


# ----------------------------------------------------------------------------------------------
# 1RSB replicon
# ----------------------------------------------------------------------------------------------
def replicon_1rsb(P, alpha, T, m, q0, q1, x):
    """Replicon of the innermost (q1) block of a 1RSB saddle point: the 1RSB generalisation of the
    AT eigenvalue (Gardner 1985 for the P-spin glass; Crisanti-Amit-Gutfreund for AGS), vectorised.
    Fluctuations that break replica symmetry *inside* the blocks of size x see the tilted measure
    <.>_x of the inner field, so the RS average E sech^4 becomes E_z0 <sech^4(X)>_x:

      P = 2:  lambda_1 = 1 - alpha beta^2 E_z0 <sech^4 X>_x / D1^2,   D1 = 1 - beta (1 - q1),
      P >= 3: lambda_1 = 1 - beta^2 xi''(q1) E_z0 <sech^4 X>_x,        xi''(q) = (alpha P!/4) P (P-1) q^(P-2),

    X = beta h as in the module docstring. Sign: negative = the 1RSB solution is unstable towards
    further breaking. At q1 = q0 (or at the x = 1 solution, where q1 = q0) it is the RS replicon
    ``replicon`` exactly (the inner variance vanishes and D1 = 1 - beta(1 - q)).
    NaN where the parameters are outside the admissible region (P = 2 with D1 or D0 <= 0)."""
    P = _check_P(P)
    alpha = check_array_real("alpha", alpha, low=0.0)
    T = check_array_real("T", T, low=0.0, low_open=True)
    m = check_array_real("m", m, low=-1.0, high=1.0)
    q0 = check_array_real("q0", q0, low=0.0, high=1.0)
    q1 = check_array_real("q1", q1, low=0.0, high=1.0)
    x = check_array_real("x", x, low=0.0, high=1.0, low_open=True)
    alpha, T, m, q0, q1, x = (np.asarray(v, float) for v in np.broadcast_arrays(alpha, T, m, q0, q1, x))
    shp = alpha.shape
    beta = 1.0 / T.ravel()
    C = (1 - q1.ravel()) * beta
    o = _outer(P, alpha.ravel(), beta, m.ravel(), q0.ravel(), C, x.ravel() * beta, None)
    if P == 2:
        D1 = 1.0 - C
        lam = 1.0 - alpha.ravel() * beta ** 2 * o["Es4"] / np.where(D1 > 0, D1, 1.0) ** 2
    else:
        c = _cP(P, alpha.ravel())
        lam = 1.0 - beta ** 2 * c * P * (P - 1) * o["q1"] ** (P - 2) * o["Es4"]
    lam = np.where(o["ok"], lam, np.nan).reshape(shp)
    return lam if lam.ndim else float(lam)


def replicon_1rsb_T0(P, alpha, m, q0, C, mu, resolution=8.0):
    """T -> 0 limit of T * lambda_1 (``replicon_1rsb``) on a T = 0 1RSB solution (m, q0, C, mu):
    beta <sech^4(beta h)> -> (4/3) delta(h) = (2/3) lim beta <sech^2(beta h)>, so

      P = 2:  T lambda_1 -> -(2/3) alpha E dens / (1 - C)^2,   P >= 3:  -(2/3) xi''(1) E dens,

    with E dens = E_z0 lim beta <sech^2> (= C on the P = 2 solution). Negative whenever the inner
    field has weight at h = 0: the T = 0 1RSB state is unstable towards further breaking (lambda_1 ->
    -infinity like -1/T)."""
    P = _check_P(P)
    alpha, m, q0, C, mu, resolution = _check_T0_point(alpha, m, q0, C, mu, resolution)
    _, r = _T0_eval(P, alpha, m, q0, C, mu, resolution)
    Ed = r[2] + C
    if P == 2:
        return -(2.0 / 3.0) * alpha * Ed / (1.0 - C) ** 2
    return -(2.0 / 3.0) * _cP(P, alpha) * P * (P - 1) * Ed


# ----------------------------------------------------------------------------------------------
# hard / soft decomposition
# ----------------------------------------------------------------------------------------------
def gaussian_layer_logdet(beta, q0, q1, x, n):
    """ln det(I_n - beta Q) for the n x n 1RSB Parisi matrix Q (Q_aa = 1, q1 inside blocks of
    size x, q0 between blocks), from its eigenvalues: D1 = 1 - beta(1 - q1) (multiplicity n - n/x),
    D0 = D1 - beta x (q1 - q0) (n/x - 1), D0 - n beta q0 (1). Valid for any real n (the replica
    continuation); checked against explicit matrices in the tests. beta >= 0, q0, q1 in [0, 1], block size
    x > 0 (an integer divisor of n for a matrix, in (0, 1] in the replica limit), n real."""
    beta = check_array_real("beta", beta, low=0.0)
    q0 = check_array_real("q0", q0, low=0.0, high=1.0)
    q1 = check_array_real("q1", q1, low=0.0, high=1.0)
    x = check_array_real("x", x, low=0.0, low_open=True)
    n = check_array_real("n", n)
    D1 = 1.0 - beta * (1.0 - q1)
    D0 = D1 - beta * x * (q1 - q0)
    return (n - n / x) * np.log(D1) + (n / x - 1.0) * np.log(D0) + np.log(D0 - n * beta * q0)


def hard_soft_parts(P, alpha, T, m, q0, q1, x):
    """The 1RSB (RS at x = 1 or q1 = q0) free energy split into a hard (Ising, SK-like) and a soft
    (Gaussian, "spherical") spin-glass part: f = f_self + f_hard + f_soft. Returns a dict of arrays
    (self, hard, soft, total); total is f from ``free_energy_1rsb`` (an independent code path).

    Derivation (P = 2). Write exp(beta N/2 sum_mu m_mu^2) = E_tau exp(sqrt(beta N) sum_mu m_mu tau_mu)
    with K = alpha N Gaussian "hidden" variables tau_mu (the bipartite, RBM-like form of the Hopfield
    model); f_self = alpha/2 is the removed diagonal. After the disorder average the replicated
    tau-layer is Gaussian: its integral gives (1/2) ln det(I - beta Q)^(-1) per hidden unit, with Q
    the overlap matrix of the Ising layer. In 1RSB, n -> 0 (``gaussian_layer_logdet``):

        f_soft = -(alpha/beta) lim (1/n) ln det(I - beta Q)^(-1/2)
               = (alpha/(2 beta)) [(1 - 1/x) ln D1 + (1/x) ln D0 - beta q0/D0]

    -- the free energy of a *soft* (Gaussian/spherical) spin glass, K = alpha N Gaussian spins in the
    field of the Ising layer. The Ising layer then sees Gaussian cavity fields of variances alpha r0,
    alpha (r1 - r0) (r the tau overlaps, conjugate to q): an SK-like *hard* spin glass

        f_hard = m^2/2 + (alpha beta/2)[r1 (1 - q1) + x (r1 q1 - r0 q0)] - (1/beta)[ln 2 + (1/x) E ln E cosh^x X].

    P >= 3. With K = alpha N^(P-1) the pattern noise is a Gaussian field with covariance N xi(R),
    xi(q) = (alpha P!/4) q^P: no Gaussian hidden layer and no r; the whole free energy is the hard
    P-spin (Guerra-Parisi) functional, written here for a general xi,

        -beta f_hard = ln 2 - beta (P-1)/2 m^P + (1/x) E ln E cosh^x X
                       + (beta^2/2)[xi(1) - xi(q1) - (1 - q1) xi'(q1)] - (beta^2/2) x [theta(q1) - theta(q0)],
        theta(q) = q xi'(q) - xi(q),

    and f_soft = f - f_hard = 0 (to rounding), f_self = 0."""
    P = _check_P(P)
    alpha, T, m, q0, q1, x = _check_1rsb_point(alpha, T, m, q0, q1, x)
    alpha, T, m, q0, q1, x = (np.asarray(v, float) for v in np.broadcast_arrays(alpha, T, m, q0, q1, x))
    shp = alpha.shape
    a_, T_, m_, q0_, q1_, x_ = (v.ravel() for v in (alpha, T, m, q0, q1, x))
    beta = 1.0 / T_
    total = _residuals_1rsb(P, a_, T_, m_, q0_, q1_, x_)[1]
    o = _outer(P, a_, beta, m_, q0_, (1 - q1_) * beta, x_ * beta, None)
    lnX = (_LN2 + o["ElnZ"] / x_) / beta
    if P == 2:
        D1 = 1.0 - beta * (1.0 - q1_)
        D0 = D1 - beta * x_ * (q1_ - q0_)
        r0 = q0_ / D0 ** 2
        r1 = r0 + (q1_ - q0_) / (D0 * D1)
        soft = a_ / (2 * beta) * ((1 - 1 / x_) * np.log(D1) + np.log(D0) / x_ - beta * q0_ / D0)
        hard = m_ ** 2 / 2 + a_ * beta / 2 * (r1 * (1 - q1_) + x_ * (r1 * q1_ - r0 * q0_)) - lnX
        self_ = a_ / 2
    else:
        c = _cP(P, a_)
        xi = lambda q: c * q ** P
        dxi = lambda q: c * P * q ** (P - 1)
        theta = lambda q: q * dxi(q) - xi(q)
        hard = ((P - 1) / 2 * m_ ** P - lnX
                - beta / 2 * (xi(1.0) - xi(q1_) - (1 - q1_) * dxi(q1_))
                + beta / 2 * x_ * (theta(q1_) - theta(q0_)))
        soft = total - hard
        self_ = np.zeros_like(a_)
    out = {"self": self_, "hard": hard, "soft": soft, "total": total}
    return {k: v.reshape(shp) for k, v in out.items()}


# ----------------------------------------------------------------------------------------------
# 1RSB lines
# ----------------------------------------------------------------------------------------------
BOUNDARIES_1RSB = ("retrieval_spinodal_1rsb", "spin_glass_1rsb")
T_TOP_RETRIEVAL_1RSB = 0.03     # P = 2: the 1RSB retrieval line is traced for T in [0, this] (T_AT(alpha_c) = 0.0195)


def _alpha_at_m(P, T, m, guess):
    """Finite-T 1RSB retrieval solution at fixed m with the load as unknown (fold-regular, as
    ``capacity_1rsb`` at T = 0): solves the 4 residuals for (alpha, q0, C, mu) from guess."""
    beta = np.array([1.0 / T])
    one = np.zeros(1, bool)

    def fun(v):
        a, q0, C, mu = v
        if not (a > 0 and 0 < q0 < 1 and C > 0 and mu > 0 and 1 - C * T > q0):
            return np.full(4, 1e3)
        R, _ = _residuals(P, np.array([a]), beta, np.array([m]), np.array([q0]), np.array([C]), np.array([mu]),
                          one, one)
        r = R[:, 0] * np.array([1.0, 1.0, T, 1e3])
        return np.where(np.isfinite(r), r, 1e3)
    sol = root(fun, np.asarray(guess, float), method="hybr", options={"xtol": 1e-12})
    ok = bool(np.all(np.abs(fun(sol.x)) < 1e-9))
    return (sol.x if ok else None)


def boundaries_1rsb(P, alpha=None, *, points=7, names=BOUNDARIES_1RSB):
    """1RSB lines of the hebbian family, as ``{name: (alpha_values, T_values)}``.

    * ``retrieval_spinodal_1rsb``, P = 2 only: alpha_c^1RSB(T), the largest load where the retrieval
      branch of ``solve_grid_1rsb`` (1RSB where its solution is admissible, else RS) exists, at
      ``points`` temperatures in [0, T_TOP_RETRIEVAL_1RSB] (near T = 0, below the AT line of the RS
      retrieval state, where 1RSB matters): T = 0 from ``capacity_1rsb``; at T > 0 the maximum over m
      of the load alpha(m) solving the finite-T 1RSB equations at fixed m (regular at the fold),
      continued in T from the T = 0 solution. The line stops where no admissible (x < 1) solution is found.
    * ``spin_glass_1rsb``, P >= 3: the static 1RSB spin-glass transition T_s(alpha) =
      sqrt(alpha P!/2) T_s(J = 1) (``pspin_static_temperature``; the m = 0 state is the pure P-spin
      glass with J^2 = alpha P!/2), at the given alphas (default: ``points`` values up to 2/P!).
      Compare with the RS paramagnet-spin-glass line (``statmech.storage.boundaries``).
    """
    P = _check_P(P)
    points = check_integer("points", points, low=2)
    out = {}
    if "spin_glass_1rsb" in names and P >= 3:
        if alpha is None:
            alpha = np.linspace(0.0, 2.0 / math.factorial(P), points)
        a = np.sort(_check_1d("alpha", alpha, 0.0, False))
        Ts, _ = pspin_static_temperature(P)
        out["spin_glass_1rsb"] = (a, np.sqrt(a * math.factorial(P) / 2.0) * Ts)
    if "retrieval_spinodal_1rsb" in names and P == 2:
        ac1, mc, d = capacity_1rsb(P, return_details=True)
        Ts = np.linspace(0.0, T_TOP_RETRIEVAL_1RSB, points)
        A = np.full(points, np.nan)
        A[0] = ac1
        state = np.array([ac1, d["q0"], d["C"], d["mu"]])
        for k, T in enumerate(Ts[1:], start=1):
            cache = {}

            def neg_alpha(m, T=T, state=state, cache=cache):
                v = _alpha_at_m(P, T, float(m), state)
                cache[float(m)] = v
                return -v[0] if v is not None else 0.0
            r = minimize_scalar(neg_alpha, bounds=(mc - 0.03, min(mc + 0.03, 0.999)), method="bounded",
                                options={"xatol": 1e-6})
            v = cache.get(float(r.x))
            if v is None or not (0 < v[3] * T < 1):        # no admissible 1RSB solution (x = mu T < 1)
                break
            A[k], mc, state = v[0], float(r.x), v
        ok = np.isfinite(A)
        out["retrieval_spinodal_1rsb"] = (A[ok], Ts[ok])
    return out
