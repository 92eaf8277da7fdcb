"""Example-retrieval (memorisation) states of the unsupervised dense Hebbian network, low storage.

Spec: /work/shared/physics/learning.md, Section 3.5 ("competing example-retrieval states"); the
equations below are derived here [derived], checked by the tests listed at the end.

Model (K finite, one condensed archetype xi^1 with examples eta^a = eta^{1,a}, a = 1..M):

    H/N = -F(n),  F(n) = (1/(2 R^(P/2) M)) sum_a n_a^P,  n_a = (1/N) sum_i eta^a_i sigma_i,

(the other archetypes contribute o(1) at low load). Mean-field (large deviations) free energy over
the overlap vector n in R^M:

    Phi(n) = -F(n) - T s(n),   s(n) = inf_lambda { E ln 2cosh(lambda . eta) - lambda . n },

with the site average E over eta_i = chi_i xi_i; in the gauge xi_i = +1 the chi_a are i.i.d.
+-1 with P(+1) = (1+r)/2 (exact, finite M: no Gaussian approximation). Stationary points:

    n_a = E[ eta_a tanh(beta h) ],   h = sum_b F_b(n) eta_b,   F_b = c n_b^(P-1),  c = P/(2 R^(P/2) M),
    f   = (P-1) F(n) - T E ln 2cosh(beta h)            (uses sum_a n_a F_a = P F).

Example state: condensed on example 1, the M - 1 others equivalent: n_1 = n, n_a = n' (a >= 2).
With x = chi_1 and S' = sum_{a>=2} chi_a = 2B' - (M - 1), B' ~ Binomial(M - 1, (1+r)/2):

    h  = c (n^(P-1) x + n'^(P-1) S'),
    n  = E[x tanh(beta h)],   n' = E[S' tanh(beta h)]/(M - 1),
    m  = E tanh(beta h)  (archetype overlap),   q = E tanh^2(beta h),
    s  = (n + (M - 1) n')/(r M)  (signal overlap of statmech.learning),   n_gen = s/(1 + rho),

a sum over 2M nodes. The example-symmetric point n = n' = r s is the archetype (generalising)
state of statmech.learning with the binomial average (same equations).

Local stability: the Hessian of Phi is T C^-1 - D with C = E[eta eta^T sech^2(beta h)] and
D = diag(F_a') (F_a' = c (P-1) n_a^(P-2) >= 0), so the state is a local minimum iff every eigenvalue
of the Jacobian beta C D of the map n -> E[eta tanh(beta h)] is < 1 (they are real: beta C D is
similar to beta D^(1/2) C D^(1/2)). By the permutation symmetry of a >= 2 the M x M Jacobian splits
into (i) the 2 x 2 block on (n, n') (reduced map) and (ii) the modes antisymmetric among the
examples a >= 2 (multiplicity M - 2), eigenvalue

    lambda_anti = beta F'(n') (C_22 - C_23),   C_22 = E sech^2,
    C_23 = E[(S'^2 - (M - 1)) sech^2] / ((M - 1)(M - 2)).

``stability`` is the largest of these eigenvalues (< 1: locally stable). Directions towards the
other archetypes have D = 0 for P > 2 (stable); at P = 2 their eigenvalue is beta (1 - q) < 1
whenever the state exists, as for the Hopfield model (not computed).

T = 0 (closed form): sigma = eta^1 is a fixed point iff c > c r^(2P-2) (M - 1), i.e.
(M - 1) r^(2P-2) < 1; then n = 1, n' = r^2, m = r and the energy is

    e_ex = -(1 + (M - 1) r^(2P)) / (2 R^(P/2) M),

against -(kappa/2) s^P for the archetype state (kappa = (1+rho)^(-P/2)): memorisation wins at
T = 0 roughly when M r^P < 1 (learning.md 3.5).

Limits (tested): M = 1: R = 1, the example state is the storage retrieval state of eta^1
(n = m_storage, m = r n, f = f_storage); r -> 1 (rho -> 0 at fixed M): no distinct example state,
the equations fall onto the symmetric (archetype) solution. The reduced equations are checked
against a direct minimisation of Phi(n) over R^M with an exact 2^M enumeration of the site law
(:func:`phi_full`, small M).

A state counts as an example state ("exists") when Newton converged, n > M_MIN, n - n' > EX_MIN
(distinct from the example-symmetric state) and it is locally stable. Mixtures of several
examples are not considered.

Public API: solve_examples (grid rho x T), example_T0, free_energy_examples, phi_full,
example_lines (traced lines in the (rho, T) plane), OBSERVABLE_INFO.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.stats import binom

from hopfield.validation import ParameterError, check_array_real, check_integer, check_real
from statmech.newton import damped_newton_2x2
from statmech.storage import M_MIN, _largest_eig

__all__ = ["OBSERVABLE_INFO", "EX_MIN", "solve_examples", "example_T0", "free_energy_examples", "phi_full",
           "example_lines"]

EX_MIN = 1e-6           # n - n' above this: distinct from the example-symmetric state
TOL = 1e-12
MAXITER = 60
_N_ITER = 40            # plain map iterations from sigma = eta^1 before Newton (cold start)
_LAMBDAS = np.array([0.5, 0.25, 0.1, 0.03, 0.01])
_T_RES = 1e-9

OBSERVABLE_INFO = {
    "m_example": "example-retrieval state (unsupervised, low load): overlap with the archetype m = E tanh(beta h); "
                 "NaN where the state does not exist or is not computed (supervised, high load)",
    "n1_example": "example-retrieval state: overlap n = eta^{1,1}.sigma/N with the condensed example; NaN where absent",
    "n2_example": "example-retrieval state: overlap n' = eta^{1,a}.sigma/N with each other example a >= 2 of the "
                  "same archetype; NaN where absent",
    "s_example": "example-retrieval state: signal overlap s = (n + (M-1) n')/(r M); NaN where absent",
    "n_example": "example-retrieval state: generalised overlap s/(1+rho); NaN where absent",
    "q_example": "example-retrieval state: Edwards-Anderson q = E tanh^2(beta h); NaN where absent",
    "f_example": "example-retrieval state: free energy per neuron (exact finite-M site law); NaN where absent",
    "stability_example": "example-retrieval state: largest eigenvalue of the Jacobian of the M-example overlap map "
                         "(< 1 locally stable; includes the modes antisymmetric among the other examples)",
    "residual_example": "example-retrieval state: max |residual| of its two equations",
    "converged_example": "example-retrieval state: Newton converged; bool",
    "exists_example": "example-retrieval state exists here (converged, n - n' > EX_MIN, locally stable); bool",
}


# ----------------------------------------------------------------------------------------------
# per-point parameters (flattened points, each with its own r; exact 2M-node site law)
# ----------------------------------------------------------------------------------------------
class _ExParams:
    def __init__(self, P, rho, M):
        self.P, self.M = P, M
        rho = np.asarray(rho, dtype=np.float64)
        self.rho = rho
        self.r = 1.0 / np.sqrt(1.0 + rho * M)
        self.R = self.r ** 2 * (1.0 + rho)
        self.F0 = 1.0 / (2.0 * self.R ** (P / 2) * M)       # F = F0 sum_a n_a^P
        self.c = P * self.F0                                # F_a = c n_a^(P-1)
        k = np.arange(M)                                    # B' = 0..M-1
        p = 0.5 * (1.0 + self.r)
        wB = binom.pmf(k[None, :], M - 1, p[:, None])       # (n, M)
        self.X1 = np.repeat([1.0, -1.0], M)                 # nodes: x = chi_1, S' = 2B' - (M-1)
        self.SP = np.tile(2.0 * k - (M - 1), 2)
        self.W = np.concatenate([p[:, None] * wB, (1 - p)[:, None] * wB], axis=1)

    def sub(self, idx):
        new = object.__new__(_ExParams)
        new.__dict__.update(self.__dict__)
        for k in ("rho", "r", "R", "F0", "c", "W"):
            new.__dict__[k] = getattr(self, k)[idx]
        return new

    def field(self, beta, n2, n):
        return beta[:, None] * (self.c * n ** (self.P - 1))[:, None] * self.X1 + \
            beta[:, None] * (self.c * n2 ** (self.P - 1))[:, None] * self.SP

    def equations(self, beta, n2, n):
        """Residuals (N2 - n', N1 - n), Jacobian (dN2/dn', dN2/dn, dN1/dn', dN1/dn), feasibility, m, q,
        and the antisymmetric-mode eigenvalue."""
        P, M, W, X1, SP = self.P, self.M, self.W, self.X1, self.SP
        t = np.tanh(self.field(beta, n2, n))
        d = 1.0 - t * t
        N1 = (W * X1 * t).sum(1)
        m = (W * t).sum(1)
        q = 1.0 - (W * d).sum(1)
        dg1 = self.c * (P - 1) * n ** (P - 2)
        dg2 = self.c * (P - 1) * n2 ** (P - 2)
        C11 = (W * d).sum(1)
        if M > 1:
            N2 = (W * SP * t).sum(1) / (M - 1)
            X1S = (W * X1 * SP * d).sum(1)
            S2 = (W * SP * SP * d).sum(1)
            J = np.array([beta * dg2 * S2 / (M - 1), beta * dg1 * X1S / (M - 1), beta * dg2 * X1S, beta * dg1 * C11])
        else:
            N2 = np.zeros_like(n)
            J = np.array([np.zeros_like(n), np.zeros_like(n), np.zeros_like(n), beta * dg1 * C11])
        if M > 2:
            C23 = ((W * (SP * SP - (M - 1)) * d).sum(1)) / ((M - 1) * (M - 2))
            anti = beta * dg2 * (C11 - C23)
        else:
            anti = np.zeros_like(n)
        ok = (np.abs(n) <= 1 + 1e-12) & (np.abs(n2) <= 1 + 1e-12)
        return N2 - n2, N1 - n, J, ok, m, q, anti

    def free_energy(self, beta, n2, n):
        X = self.field(beta, n2, n)
        ax = np.abs(X)
        lnc = (self.W * (ax + np.log1p(np.exp(-2 * ax)))).sum(1)
        F = self.F0 * (n ** self.P + (self.M - 1) * n2 ** self.P)
        return (self.P - 1) * F - lnc / beta


def _check(P, M):
    P = check_integer("P", P, low=2)
    if P % 2:
        raise ParameterError("P", P, "an even integer >= 2")
    M = check_integer("M", M, low=1)
    return P, M


def check_span(span, name="span", high=None) -> tuple:
    """A plane-axis range (lo, hi) with 0 <= lo <= hi (and hi < high when given; lo = hi: one value);
    returns floats."""
    allowed = "a pair (lo, hi) with 0 <= lo <= hi" + (f" < {high:g}" if high is not None else "")
    try:
        lo, hi = span
    except (TypeError, ValueError):
        raise ParameterError(name, span, allowed) from None
    lo = check_real(name + "[0]", lo, low=0.0, high=high, high_open=True)
    hi = check_real(name + "[1]", hi, low=0.0, high=high, high_open=True)
    if lo > hi:
        raise ParameterError(name, span, allowed)
    return lo, hi


def _newton(ep, beta, n2, n, tol=TOL, maxiter=MAXITER, max_damped=None):
    fix = np.full(n.size, ep.M == 1)

    def equations(idx, xt, yt):
        e = ep if idx is None else ep.sub(idx)
        b = beta if idx is None else beta[idx]
        Rx, Ry, J, ok, m, _, _ = e.equations(b, xt, yt)
        return Rx, Ry, J, ok, m

    x, y, _, res, conv, its, _ = damped_newton_2x2(equations, n2, n, fix, tol, maxiter, _LAMBDAS, max_damped)
    return x, y, res, conv, its


def _cold(ep, beta, n_iter=_N_ITER):
    """Start at sigma = eta^1 (n = 1, n' = r^2) and run ``n_iter`` plain iterations of the map."""
    n, n2 = np.ones(beta.size), np.where(ep.M > 1, ep.r ** 2, 0.0)
    for _ in range(n_iter):
        Rx, Ry, *_ = ep.equations(beta, n2, n)
        n2, n = n2 + Rx, n + Ry
    return n2, n


def _solve(ep, beta, n2_0, n_0, tol=TOL, maxiter=MAXITER):
    """Warm start where (n2_0, n_0) is finite, else cold; a failed warm start is retried cold.
    Returns dict of per-point arrays (n2, n, res, conv, its, found, stab, m, q)."""
    k = beta.size
    out = {key: np.full(k, np.nan) for key in ("n2", "n", "res", "stab", "m", "q")}
    out["conv"], out["its"] = np.zeros(k, bool), np.zeros(k, np.int64)
    todo = np.ones(k, bool)
    warm = np.isfinite(n2_0) & np.isfinite(n_0)
    for attempt in ("warm", "cold"):
        sel = np.flatnonzero(todo & (warm if attempt == "warm" else True))
        if sel.size == 0:
            continue
        e = ep.sub(sel)
        if attempt == "warm":
            x0, y0 = n2_0[sel], n_0[sel]
        else:
            x0, y0 = _cold(e, beta[sel])
        x, y, res, conv, its = _newton(e, beta[sel], x0, y0, tol, maxiter, 4 if attempt == "warm" else None)
        _, _, J, _, m, q, anti = e.equations(beta[sel], x, y)
        stab = np.maximum(_largest_eig(J), anti)
        found = conv & (y > M_MIN) & (y - x > EX_MIN) & (stab < 1 + 1e-9)
        for key, val in (("n2", x), ("n", y), ("res", res), ("stab", stab), ("m", m), ("q", q), ("conv", conv),
                         ("its", its)):
            out[key][sel] = val
        todo[sel[found]] = False
    out["found"] = ~todo
    return out


def _arr(name, x, low, low_open=False):
    a = np.atleast_1d(check_array_real(name, x, low=low, low_open=low_open))
    if a.ndim != 1:
        raise ParameterError(name, x, "a 1-D array")
    return a


def solve_examples(P, *, rho, T, M, tol: float = TOL, maxiter: int = MAXITER) -> dict:
    """Example-retrieval state on the grid rho x T (module docstring), exact finite-M law.

    P even >= 2, M >= 1 examples per archetype, rho >= 0 (r = (1 + rho M)^(-1/2)), T > 0. March in
    T from low to high with warm starts (cold start from sigma = eta^1 where none). Returns arrays
    (len(rho), len(T)) with the keys of OBSERVABLE_INFO; NaN / False where the state does not exist.
    """
    P, M = _check(P, M)
    rho = _arr("rho", rho, 0.0)
    T = _arr("T", T, 0.0, low_open=True)
    tol = check_real("tol", tol, low=0.0, low_open=True)
    maxiter = check_integer("maxiter", maxiter, low=1)
    nR, nT = rho.size, T.size
    ep = _ExParams(P, rho, M)
    keys = ("n2", "n", "res", "stab", "m", "q")
    raw = {key: np.full((nR, nT), np.nan) for key in keys}
    conv, found = np.zeros((nR, nT), bool), np.zeros((nR, nT), bool)
    n2p, np_ = np.full(nR, np.nan), np.full(nR, np.nan)
    for j in np.argsort(T, kind="stable"):
        sol = _solve(ep, np.full(nR, 1.0 / T[j]), n2p, np_, tol, maxiter)
        for key in keys:
            raw[key][:, j] = sol[key]
        conv[:, j], found[:, j] = sol["conv"], sol["found"]
        n2p, np_ = np.where(sol["found"], sol["n2"], np.nan), np.where(sol["found"], sol["n"], np.nan)
    f = np.full((nR, nT), np.nan)
    for i in range(nR):
        e = found[i]
        if e.any():
            f[i, e] = ep.sub(np.full(e.sum(), i)).free_energy(1.0 / T[e], raw["n2"][i, e], raw["n"][i, e])
    r = ep.r[:, None]
    s = (raw["n"] + (M - 1) * np.where(M > 1, raw["n2"], 0.0)) / (r * M)
    nan = lambda a: np.where(found, a, np.nan)
    return {"m_example": nan(raw["m"]), "n1_example": nan(raw["n"]), "n2_example": nan(raw["n2"]) if M > 1 else
            np.full((nR, nT), np.nan), "s_example": nan(s), "n_example": nan(s / (1 + rho[:, None])),
            "q_example": nan(raw["q"]), "f_example": f, "stability_example": nan(raw["stab"]),
            "residual_example": raw["res"], "converged_example": conv, "exists_example": found}


def free_energy_examples(P, *, rho, T, M, n, n2):
    """f(n, n') = (P-1) F - T E ln 2cosh(beta h) of the reduced example ansatz (scalars or broadcastable
    arrays); stationary in (n, n') at solutions of the equations."""
    P, M = _check(P, M)
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (rho, T, n, n2)))
    shape = arrs[0].shape
    rh, t, nn, nn2 = (a.ravel() for a in arrs)
    _arr("rho", rh, 0.0)
    _arr("T", t, 0.0, low_open=True)
    check_array_real("n", nn, low=-1.0, high=1.0)      # overlaps with examples
    check_array_real("n2", nn2, low=-1.0, high=1.0)
    out = _ExParams(P, rh, M).free_energy(1.0 / t, nn2, nn)
    return out.reshape(shape) if shape else float(out[0])


def example_T0(P, *, rho, M) -> dict:
    """T = 0 example state sigma = eta^1 (module docstring): n = 1, n' = r^2, m = r,
    e = -(1 + (M-1) r^(2P)) / (2 R^(P/2) M), where (M-1) r^(2P-2) < 1 (else NaN: sigma = eta^1 is not a
    fixed point); also e_archetype_bound = -(kappa/2) E|u|^P... not given: compare with statmech.learning."""
    P, M = _check(P, M)
    rho = _arr("rho", rho, 0.0)
    r = 1.0 / np.sqrt(1.0 + rho * M)
    R = r * r * (1 + rho)
    ok = (M - 1) * r ** (2 * P - 2) < 1
    e = -(1 + (M - 1) * r ** (2 * P)) / (2 * R ** (P / 2) * M)
    nan = lambda a: np.where(ok, a, np.nan)
    return {"n1": nan(np.ones_like(r)), "n2": nan(r * r), "m": nan(r), "e": nan(e), "exists": ok}


# ----------------------------------------------------------------------------------------------
# slow, obvious reference: Phi(n) over R^M with the 2^M site law enumerated
# ----------------------------------------------------------------------------------------------
def phi_full(P, r, M, T, lam):
    """Phi = -F(n) - T s(n) in the conjugate parametrisation: n(lambda) = E[eta tanh(lambda . eta)] maps
    R^M one-to-one onto the interior of the set of reachable overlaps, and s(n(lambda)) =
    E ln 2cosh(lambda . eta) - lambda . n(lambda) (the infimum of the module docstring is attained at
    lambda); eta in {+-1}^M with i.i.d. entries of mean r, the 2^M configurations enumerated (small M
    only). Returns (Phi, dPhi/dlambda, n); dPhi/dlambda = H (T lambda - F'(n)), H = E[eta eta^T sech^2]."""
    P, M = _check(P, M)
    if M > 12:
        raise ParameterError("M", M, "M <= 12 (2^M enumeration)")
    r = check_real("r", r, low=0.0, high=1.0, low_open=True)
    lam = np.asarray(lam, dtype=np.float64)
    R = r * r + (1 - r * r) / M
    F0 = 1.0 / (2 * R ** (P / 2) * M)
    eta = np.array(np.meshgrid(*([[1.0, -1.0]] * M), indexing="ij")).reshape(M, -1).T    # (2^M, M)
    w = np.prod(np.where(eta > 0, (1 + r) / 2, (1 - r) / 2), axis=1)
    x = eta @ lam
    ax = np.abs(x)
    t = np.tanh(x)
    n = eta.T @ (w * t)
    s = w @ (ax + np.log1p(np.exp(-2 * ax))) - lam @ n
    H = (eta * (w * (1 - t * t))[:, None]).T @ eta
    phi = -F0 * (n ** P).sum() - T * s
    return phi, H @ (T * lam - P * F0 * n ** (P - 1)), n


# ----------------------------------------------------------------------------------------------
# lines in the (rho, T) plane at fixed M
# ----------------------------------------------------------------------------------------------
def _bisect(pred, a, b, state):
    """Per point: a (pred true) and b (pred false) in T; returns the crossing to _T_RES."""
    a, b = a.copy(), b.copy()
    state = {k: v.copy() for k, v in state.items()}
    while a.size and np.max(np.abs(b - a)) > _T_RES:
        mid = 0.5 * (a + b)
        ok, new = pred(mid, state)
        a, b = np.where(ok, mid, a), np.where(ok, b, mid)
        for k in state:
            state[k] = np.where(ok & np.isfinite(new[k]), new[k], state[k])
    return 0.5 * (a + b)


def example_lines(P, M, *, span=(0.0, 2.0), points=41, average="binomial", T_max=None) -> dict:
    """Lines of the example-retrieval state in the (rho, T) plane at fixed M (unsupervised, low load):

      example_spinodal       edge of the region where the example state exists (locally stable);
      example_thermodynamic  edge of the region where it is the global minimum: f_example below the free
                             energy of the archetype state (statmech.learning, ``average``) and of the
                             paramagnet (-T ln 2);
      example_instability    edge of the region where the archetype (generalising) state exists and is
                             unstable towards memorising (its ``stability_examples`` > 1, statmech.learning).

    Each line: the upper edge (highest T of the region) in increasing rho, then, where the region
    starts above the lowest scan T (reentrant), its lower edge in decreasing rho; the T = 0 end (closed forms, when inside the span) is
    put first when it lies below the first rho of the line, else last: example_spinodal at (M-1) r^(2P-2) = 1 (sigma = eta^1 stops
    being a T = 0 fixed point), example_thermodynamic where e_ex = -(kappa/2) s^P (s = E|u|).

    T is scanned on 80 values up to T_max (default 1.05 x the largest field scale
    (P/2) (1 + (M-1) r^(2P-2)) / (R^(P/2) M) over the span, above which no example state exists), then
    each edge is bisected to 1e-9. Returns {name: {"rho": array, "T": array}}; rho values where the
    line does not exist (e.g. no example state at any T) are left out.
    """
    from statmech import learning as L
    P, M = _check(P, M)
    points = check_integer("points", points, low=2)
    rho = np.linspace(*check_span(span), points)
    ep = _ExParams(P, rho, M)
    if T_max is None:
        scale = 0.5 * P * (1 + (M - 1) * ep.r ** (2 * P - 2)) / (ep.R ** (P / 2) * M)
        T_max = 1.05 * max(float(scale.max()), 0.5 * P)
    T_max = check_real("T_max", T_max, low=0.0, low_open=True)
    Ts = np.unique(np.concatenate([np.geomspace(2e-3, 0.05 * T_max, 10), np.linspace(0.05 * T_max, T_max, 70)]))
    ex = solve_examples(P, rho=rho, T=Ts, M=M)
    kw = dict(M=M, load="low", average=average)
    ar = L.solve_grid("unsupervised", P, alpha=[0.0], rho=rho, T=Ts, **kw)
    ar = {k: v[0] for k, v in ar.items()}
    pp = L._Params("unsupervised", P, "low", average, np.array([0.0]), rho, M, None, None)
    f_other = np.minimum(np.where(ar["exists_retrieval"], ar["f_retrieval"], np.inf), -Ts[None, :] * math.log(2))
    thermo = ex["exists_example"] & (ex["f_example"] < f_other)
    unst = ar["exists_retrieval"] & (ar["stability_examples_retrieval"] > 1)

    def ex_state(i, k):
        return {"n2": ex["n2_example"][i, k] if M > 1 else np.zeros(i.size), "n": ex["n1_example"][i, k]}

    def ar_state(i, k):
        e = ar["exists_retrieval"][i, k]
        return {"sR": np.where(e, ar["s_retrieval"][i, k], np.nan), "qR": np.where(e, ar["q_retrieval"][i, k], np.nan)}

    def trace(mask, make_pred, state):
        """Upper edges (last T in the region followed by one outside) in increasing rho, then the lower
        edges of reentrant regions (first T in the region above the lowest scan T) in decreasing rho."""
        xs, ts = [], []
        for upper in (True, False):
            i_all, k_all = [], []
            for i in range(points):
                k = np.flatnonzero(mask[i])
                if k.size and upper and k[-1] + 1 < Ts.size:
                    i_all.append(i), k_all.append(k[-1])
                elif k.size and not upper and k[0] > 0:
                    i_all.append(i), k_all.append(k[0])
            i, k = np.array(i_all, dtype=np.int64), np.array(k_all, dtype=np.int64)
            if i.size == 0:
                continue
            step = 1 if upper else -1
            T_edge = _bisect(make_pred(i), Ts[k], Ts[k + step], state(i, k))
            order = slice(None) if upper else slice(None, None, -1)
            xs.append(rho[i][order]), ts.append(T_edge[order])
        cat = lambda a: np.concatenate(a) if a else np.zeros(0)
        return {"rho": cat(xs), "T": cat(ts)}

    def pred_sp(i):
        sub = ep.sub(i)

        def pred(Tm, st):
            sol = _solve_warm_only(sub, 1 / Tm, st["n2"], st["n"])
            return sol["found"], {"n2": sol["n2"], "n": sol["n"]}
        return pred

    def pred_th(i):
        sub, psub = ep.sub(i), pp.sub(i)

        def pred(Tm, st):
            b = 1 / Tm
            sol = _solve_warm_only(sub, b, st["n2"], st["n"])
            fx = np.where(sol["found"], sub.free_energy(b, np.nan_to_num(sol["n2"]), np.nan_to_num(sol["n"])), np.inf)
            solR = L._solve(psub, b, st["sR"], st["qR"], np.zeros(b.size, bool), L.TOL, L.MAXITER, max_damped=4)
            fR = np.where(solR[7], psub.free_energy(b, np.where(solR[7], solR[0], 0.0),
                                                    np.where(solR[7], solR[1], 0.0)), np.inf)
            ok = sol["found"] & (fx < np.minimum(fR, -Tm * math.log(2)))
            return ok, {"n2": sol["n2"], "n": sol["n"], "sR": np.where(solR[7], solR[0], np.nan),
                        "qR": np.where(solR[7], solR[1], np.nan)}
        return pred

    def pred_un(i):
        psub = pp.sub(i)

        def pred(Tm, st):
            b = 1 / Tm
            solR = L._solve(psub, b, st["sR"], st["qR"], np.zeros(b.size, bool), L.TOL, L.MAXITER, max_damped=4)
            s_, q_ = np.where(solR[7], solR[0], 0.0), np.where(solR[7], solR[1], 0.0)
            lam = np.where(solR[7], psub.example_eig(b, s_, q_), -np.inf)
            return solR[7] & (lam > 1), {"sR": np.where(solR[7], solR[0], np.nan),
                                         "qR": np.where(solR[7], solR[1], np.nan)}
        return pred

    lines = {"example_spinodal": trace(ex["exists_example"], pred_sp, ex_state),
             "example_thermodynamic": trace(thermo, pred_th, lambda i, k: {**ex_state(i, k), **ar_state(i, k)}),
             "example_instability": trace(unst, pred_un, ar_state)}
    # T = 0 ends (closed forms): sigma = eta^1 stops being a fixed point at (M-1) r^(2P-2) = 1; it is the
    # ground state where e_ex < -(kappa/2) s^P of the archetype state (s = E|u|, statmech.learning)
    ends = {"example_spinodal": np.nan, "example_thermodynamic": np.nan}
    if M > 1:
        r0 = (M - 1.0) ** (-1.0 / (2 * P - 2))
        ends["example_spinodal"] = (1 - r0 * r0) / (M * r0 * r0)

        def gap(rh):
            e_ex = example_T0(P, rho=[rh], M=M)["e"][0]
            s0 = (L.binomial_T0_overlap([rh], M) if average == "binomial" else L.gaussian_T0_overlap([rh]))["s"][0]
            return e_ex + 0.5 * (1 + rh) ** (-P / 2) * s0 ** P
        lo, hi = ends["example_spinodal"] * (1 + 1e-9), rho[-1]
        if hi > lo and gap(lo) > 0 > gap(hi):
            ends["example_thermodynamic"] = brentq(gap, lo, hi, xtol=1e-12)
    for name, end in ends.items():
        if np.isfinite(end) and rho[0] <= end <= rho[-1]:
            x, t = lines[name]["rho"], lines[name]["T"]
            front = x.size == 0 or end <= x[0]           # the line starts at its T = 0 end (low rho)
            lines[name] = {"rho": np.concatenate([[end], x] if front else [x, [end]]),
                           "T": np.concatenate([[0.0], t] if front else [t, [0.0]])}
    return lines


def _solve_warm_only(ep, beta, n2, n):
    x, y, _, conv, _ = _newton(ep, beta, np.nan_to_num(n2), np.nan_to_num(n, nan=1.0), max_damped=4)
    _, _, J, _, _, _, anti = ep.equations(beta, x, y)
    stab = np.maximum(_largest_eig(J), anti)
    found = conv & np.isfinite(n) & (y > M_MIN) & (y - x > EX_MIN) & (stab < 1 + 1e-9)
    return {"n2": np.where(found, x, np.nan), "n": np.where(found, y, np.nan), "found": found}
