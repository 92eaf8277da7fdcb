"""Low-storage mean-field theory of multitasking (diluted-pattern) Hebbian networks.

Conventions (/work/shared/physics/multitasking.md): spins +-1, K patterns with i.i.d. entries
P(xi = 0) = d, P(xi = +-1) = (1-d)/2; J_ij = (1/N) sum_mu xi_i^mu xi_j^mu (1/N convention, reduces to
Hopfield at d = 0); Mattis overlaps m_mu = (1/N) sum_i xi_i^mu sigma_i, |m_mu| <= 1-d; T = 1/beta.
For the rescaled convention J = sum xi xi/(N(1-d)) divide every T and every m by (1-d)
(``hopfield.multitasking.to_rescaled``); dilution thresholds do not change.

Free energy per neuron, self-consistency and Hessian (exact average over the 3^K atoms of xi):

    f(m) = |m|^2/2 - T E_xi ln 2cosh(beta xi.m)
    m_mu = E_xi[xi^mu tanh(beta xi.m)]
    A_mu,nu = delta_mu,nu - beta E_xi[xi^mu xi^nu sech^2(beta xi.m)]    (Hessian of f)

A is the Jacobian of the gradient m - E[xi tanh]; Newton on the gradient is Newton on f, so it finds
every stationary point (minima and saddles); a state is *stable* (a local minimum of f, a physical
state) iff the smallest eigenvalue of A is > 0. The average uses the xi -> -xi symmetry (half of the
3^K atoms, weights doubled, plus the all-blank atom, which only adds T ln 2).

Multi-start: paramagnet, pure, symmetric k-mixtures (k = 2..K) and their perturbations, the T = 0
hierarchical ladder (1-d) d^(k-1), the K = 3 odd mixture-hierarchical family B (and a graded family
for other K), and seeded random starts; each start gets damped fixed-point iterations then Newton
with backtracking; states are deduplicated up to sign flips and permutations (key: sorted |m|,
descending) and ranked by f. The thermodynamic state is the stable state of lowest f.

T = 0 (T -> 0+) families and thresholds: ladder A m_k = (1-d) d^(k-1), existing for d < d_c(K)
(sum_{j=1}^{K-1} d^j = 1); the K = 3 family B; the K = 3 ground-state switch d* (|m_A| = |m_B|).
Finite-T lines: T_c = 1 - d; pure edge T_p(d) (K independent); symmetric K-mixture edges; hierarchical
cascade T_k(d); multicritical point (d, T) = (2/3, 1/3).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import brentq

from hopfield.validation import ParameterError, check_array_real, check_integer, check_real

__all__ = ["PHASES", "OBSERVABLE_INFO", "K_MAX", "MULTICRITICAL", "atoms", "rhs", "hessian", "free_energy",
           "solve_point", "stationary_states", "solve_grid", "classify", "pure_state", "symmetric_state",
           "pure_edge", "symmetric_edges", "cascade_temperature", "boundaries", "critical_dilution",
           "critical_dilutions", "ladder_T0", "family_B_T0", "rhs_T0", "ground_state_T0",
           "landau_coefficients", "SETTINGS", "LAWS", "c_law", "solve_learning_point"]

K_MAX = 10
MULTICRITICAL = (2.0 / 3.0, 1.0 / 3.0)   # (d, T): T_c = 1 - d meets the pure and symmetric edges
PHASES = {0: "paramagnet", 1: "pure", 2: "symmetric", 3: "symmetric_partial", 4: "hierarchical",
          5: "mixture_hierarchical", 6: "mixed", 7: "unresolved"}
_CODE = {v: k for k, v in PHASES.items()}

OBSERVABLE_INFO = {
    "f": "free energy per neuron of the thermodynamic state (stable state of lowest f); units of the coupling (same as T)",
    "phase": "int8 code of the thermodynamic state, see PHASES: 0 paramagnet (m = 0), 1 pure (one |m| > 0), "
             "2 symmetric (all K amplitudes equal: parallel retrieval), 3 symmetric_partial (k < K equal "
             "non-zero amplitudes), 4 hierarchical (distinct amplitudes, m1 >= sum of the others: ladder A), "
             "5 mixture_hierarchical (distinct, m1 < sum of the others: family B), 6 mixed (some but not all "
             "amplitudes tied, e.g. (a, a, b)), 7 unresolved (no stable converged state found)",
    "stability": "smallest eigenvalue of the Hessian A of f at the thermodynamic state (> 0: local minimum)",
    "residual": "max |m - E[xi tanh(beta xi.m)]| at the returned state",
    "converged": "Newton converged (residual <= 1e-10) and the state is stable; bool",
    "n_stable": "number of distinct stable states (up to sign flips and permutations) found by the multi-start",
}
for _k in range(1, K_MAX + 1):
    OBSERVABLE_INFO[f"m{_k}"] = (f"{_k}-th largest |m_mu| of the thermodynamic state (sorted descending); "
                                 "1/N convention, in [0, 1-d]; divide by (1-d) for the rescaled convention")

M_MIN = 1e-8        # amplitudes below this count as zero
TIE_REL = 1e-6      # relative tolerance for equal amplitudes
TOL = 1e-12         # Newton target on max|residual|
TOL_CONV = 1e-10    # converged if the final residual is below this
STAB_TOL = 1e-10    # stable iff the smallest Hessian eigenvalue exceeds this
_CHUNK = 4_000_000  # max (points x half-atoms x K) per vectorised block


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------
def _check_K(K):
    return check_integer("K", K, low=1, high=K_MAX)


def _check_d(d):
    return check_real("d", d, low=0.0, high=1.0, high_open=True)


def _check_T(T):
    return check_real("T", T, low=0.0, low_open=True)


def _check_1d(name, x, **kw):
    a = check_array_real(name, x, **kw)
    if a.ndim > 1:
        raise ParameterError(name, x, "a 1-D array")
    return np.atleast_1d(a)


# ----------------------------------------------------------------------------------------------
# the 3^K atoms
# ----------------------------------------------------------------------------------------------
_ATOMS = {}


def _half_atoms(K):
    """Atoms of xi in {-1,0,1}^K with first non-zero entry +1 (one of each +-xi pair), float (H, K),
    and their numbers of non-zero entries."""
    if K not in _ATOMS:
        xs = np.array(list(itertools.product((-1, 0, 1), repeat=K)), dtype=np.float64)
        nz = xs != 0
        first = np.argmax(nz, axis=1)
        keep = nz.any(axis=1) & (xs[np.arange(len(xs)), first] > 0)
        _ATOMS[K] = (np.ascontiguousarray(xs[keep]), nz[keep].sum(axis=1))
    return _ATOMS[K]


def atoms(K, d):
    """All 3^K atoms xi (float (3^K, K)) and their probabilities d^(#0) ((1-d)/2)^(#non-zero)."""
    K, d = _check_K(K), _check_d(d)
    xs = np.array(list(itertools.product((-1, 0, 1), repeat=K)), dtype=np.float64)
    n = (xs != 0).sum(axis=1)
    return xs, d ** (K - n) * ((1 - d) / 2) ** n


def _half_weights(K, d):
    """Doubled probabilities of the half atoms, shape d.shape + (H,); and the all-blank weight d^K."""
    _, n = _half_atoms(K)
    d = np.asarray(d, dtype=np.float64)[..., None]
    return 2.0 * d ** (K - n) * ((1.0 - d) / 2.0) ** n, d[..., 0] ** K


def _chunks(B, H, K):
    step = max(1, _CHUNK // max(1, H * K))
    for s in range(0, B, step):
        yield slice(s, min(B, s + step))


def _eval(m, beta, w, want_A=True):
    """Batch: m (B, K), beta (B,), w (B, H) -> F = E[xi tanh] (B, K) and A (B, K, K) (or None)."""
    B, K = m.shape
    xs, _ = _half_atoms(K)
    F = np.empty_like(m)
    A = np.empty((B, K, K)) if want_A else None
    eye = np.eye(K)
    for sl in _chunks(B, xs.shape[0], K):
        t = np.tanh(beta[sl, None] * (m[sl] @ xs.T))
        F[sl] = (w[sl] * t) @ xs
        if want_A:
            g = w[sl] * (1.0 - t * t)
            A[sl] = eye - beta[sl, None, None] * ((xs.T[None, :, :] * g[:, None, :]) @ xs)
    return F, A


def _free_energy(m, beta, w, w0):
    K = m.shape[1]
    xs, _ = _half_atoms(K)
    out = np.empty(m.shape[0])
    for sl in _chunks(m.shape[0], xs.shape[0], 1):
        a = np.abs(beta[sl, None] * (m[sl] @ xs.T))
        lc = a + np.log1p(np.exp(-2.0 * a))        # ln 2cosh(x) = |x| + ln(1 + e^{-2|x|})
        out[sl] = 0.5 * (m[sl] ** 2).sum(axis=1) - ((w[sl] * lc).sum(axis=1) + w0[sl] * math.log(2.0)) / beta[sl]
    return out


def _prep(m, d, T):
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    K = _check_K(m.shape[1])
    d = np.broadcast_to(np.asarray(d, dtype=np.float64), m.shape[:1])
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), m.shape[:1])
    w, w0 = _half_weights(K, d)
    return m, K, 1.0 / T, w, w0


def rhs(m, d, T):
    """E_xi[xi tanh(beta xi.m)] for m of shape (K,) or (B, K); d, T scalars or (B,)."""
    mm, K, beta, w, _ = _prep(m, d, T)
    F, _ = _eval(mm, beta, w, want_A=False)
    return F.reshape(np.shape(m))


def hessian(m, d, T):
    """Hessian A of f (K, K) (or (B, K, K))."""
    mm, K, beta, w, _ = _prep(m, d, T)
    _, A = _eval(mm, beta, w)
    return A if np.ndim(m) == 2 else A[0]


def free_energy(m, d, T):
    """f(m) = |m|^2/2 - T E ln 2cosh(beta xi.m) (per neuron), any m (not only stationary)."""
    mm, K, beta, w, w0 = _prep(m, d, T)
    f = _free_energy(mm, beta, w, w0)
    return f if np.ndim(m) == 2 else float(f[0])


def landau_coefficients(d, T):
    """Coefficients of f - (-T ln 2) = a |m|^2 + b sum m^4 + c (sum m^2)^2 + O(m^6):
    a = (1 - beta(1-d))/2, b = beta^3 (1-d)(3d-2)/12 (cubic anisotropy), c = beta^3 (1-d)^2/4."""
    d, T = _check_d(d), _check_T(T)
    b = 1.0 / T
    return 0.5 * (1 - b * (1 - d)), b ** 3 * (1 - d) * (3 * d - 2) / 12.0, b ** 3 * (1 - d) ** 2 / 4.0


# ----------------------------------------------------------------------------------------------
# batched Newton
# ----------------------------------------------------------------------------------------------
_LAMBDAS = (1.0, 0.5, 0.25, 0.1, 0.03)


def _solve_batch(m0, beta, w, n_pre=30, maxiter=60, tol=TOL, ev=None):
    """Damped fixed-point iterations (m <- (m + F)/2), then Newton with backtracking on max|R|.
    ``ev(x, sel, want_A) -> (F, A)`` evaluates the map F and A = I - dF/dm at rows ``sel``
    (default: the storage equations with inverse temperatures beta and atom weights w).
    Returns m, residual, iterations."""
    if ev is None:
        def ev(x, sel, want_A=True):
            return _eval(x, beta[sel], w[sel], want_A)
    allr = np.arange(np.shape(m0)[0])
    m = np.array(m0, dtype=np.float64, copy=True)
    for _ in range(n_pre):
        F, _ = ev(m, allr, False)
        m = 0.5 * (m + F)
    its = np.zeros(m.shape[0], dtype=np.int64)
    F, A = ev(m, allr, True)
    R = F - m
    res = np.abs(R).max(axis=1)
    for _ in range(maxiter):
        act = np.nonzero(res > tol)[0]
        if act.size == 0:
            break
        its[act] += 1
        try:
            step = np.linalg.solve(A[act], R[act][..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = (np.linalg.pinv(A[act]) @ R[act][..., None])[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        todo = np.ones(act.size, dtype=bool)
        for lam in _LAMBDAS:
            idx = np.nonzero(todo)[0]
            if idx.size == 0:
                break
            pts = act[idx]
            trial = m[pts] + lam * step[idx]
            Ft, _ = ev(trial, pts, False)
            rt = np.abs(Ft - trial).max(axis=1)
            ok = rt < res[pts]
            m[pts[ok]] = trial[ok]
            todo[idx[ok]] = False
        stuck = act[todo]
        if stuck.size:      # no Newton step improved: one damped fixed-point step instead
            Fs, _ = ev(m[stuck], stuck, False)
            m[stuck] = 0.5 * (m[stuck] + Fs)
        F, A2 = ev(m[act], act, True)
        A[act] = A2
        R[act] = F - m[act]
        res[act] = np.abs(R[act]).max(axis=1)
    return m, res, its


# ----------------------------------------------------------------------------------------------
# starts, classification, deduplication
# ----------------------------------------------------------------------------------------------
def _starts(K, d, n_random=6, seed=0):
    """Multi-start set (S, K) for one dilution d (amplitudes at the T = 0 scale 1-d)."""
    a = 1.0 - d
    S = [np.zeros(K)]
    e = np.zeros(K)
    e[0] = a
    S.append(e)
    for k in range(2, K + 1):                       # symmetric k-mixtures
        v = np.zeros(K)
        v[:k] = a * (1 - d ** k) / k if d > 0 else a / math.sqrt(k)
        S.append(v)
        v2 = np.zeros(K)
        v2[:k] = a * 0.5
        S.append(v2)
    S.append(a * d ** np.arange(K))                 # ladder A
    S.append(a * np.maximum(d, 0.3) ** np.arange(K))
    if K >= 3:                                      # family B (first three), graded family
        B = family_B_T0(d)
        v = np.zeros(K)
        v[:3] = B
        S.append(v)
    S.append(a * (1 - 0.5 * np.arange(K) / K))
    for k in range(2, K):                           # truncated ladders (k patterns switched on)
        for q in (d, 0.5):
            v = np.zeros(K)
            v[:k] = a * q ** np.arange(k)
            S.append(v)
    for k in range(2, K):                           # (a,..,a,b,0..): partly symmetric states
        v = np.zeros(K)
        v[:k] = a * 0.4
        v[k] = a * 0.2
        S.append(v)
    rng = np.random.default_rng(seed)
    for k in range(2, K + 1):                       # perturbed symmetric mixtures -> (a,a,b) states
        v = np.zeros(K)
        v[:k] = a * 0.5 * (1 + 0.2 * rng.standard_normal(k))
        S.append(v)
    for _ in range(n_random):
        S.append(a * rng.uniform(-1, 1, K))
    return np.array(S)


def _amplitudes(m):
    return -np.sort(-np.abs(np.asarray(m, dtype=np.float64)), axis=-1)


def classify(amps, K=None):
    """Phase code (see PHASES) of one sorted amplitude vector (descending |m|)."""
    a = np.asarray(amps, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return _CODE["unresolved"]
    K = a.size if K is None else K
    nz = a[a > M_MIN]
    k = nz.size
    if k == 0:
        return _CODE["paramagnet"]
    if k == 1:
        return _CODE["pure"]
    tol = TIE_REL * nz[0]
    gaps = nz[:-1] - nz[1:]
    if np.all(gaps <= tol):
        return _CODE["symmetric"] if k == K else _CODE["symmetric_partial"]
    if np.all(gaps > tol):
        return _CODE["hierarchical"] if nz[0] >= nz[1:].sum() - tol else _CODE["mixture_hierarchical"]
    return _CODE["mixed"]


def _dedup(amps, tol):
    """Indices of the distinct rows of amps (sorted |m|) within max-abs tolerance tol."""
    keep = []
    for i in range(amps.shape[0]):
        if not np.all(np.isfinite(amps[i])):
            continue
        if all(np.abs(amps[i] - amps[j]).max() > tol for j in keep):
            keep.append(i)
    return keep


# ----------------------------------------------------------------------------------------------
# multi-start with saddle descent
# ----------------------------------------------------------------------------------------------
KICK = 0.1          # saddle kick, in units of 1-d, along the most negative Hessian direction


def _multistart(K, d_pts, T_pts, n_random, seed, extra=None):
    """All candidate solutions for the points (d_pts[p], T_pts[p]), p = 0..P-1.

    Pass 1: the family / random starts of every point. Passes 2 and 3 (saddle descent): every converged
    unstable stationary point m found in the previous pass is kicked to m +- KICK (1-d) v (v: eigenvector of the
    smallest Hessian eigenvalue), one kick pair per distinct (point, amplitude) saddle, and solved
    again (damped iterations first, which descend). Returns dict of flat arrays: m, res, conv, lam
    (smallest eigenvalue), ev (all eigenvalues), f, owner (point index), its."""
    P = d_pts.size
    st = [_starts(K, d_pts[p], n_random, seed) for p in range(P)]
    if extra is not None:
        st = [np.vstack([x, extra]) for x in st]
    owner = np.concatenate([np.full(x.shape[0], p) for p, x in enumerate(st)])
    starts = np.concatenate(st)
    parts = []
    for rnd, n_pre in enumerate((30, 60, 60)):
        beta = 1.0 / T_pts[owner]
        w, w0 = _half_weights(K, d_pts[owner])
        m, res, its = _solve_batch(starts, beta, w, n_pre=n_pre)
        conv = res <= TOL_CONV
        _, A = _eval(m, beta, w)
        ev, vec = np.linalg.eigh(A)
        f = _free_energy(m, beta, w, w0)
        parts.append({"m": m, "res": res, "conv": conv, "lam": ev[:, 0], "ev": ev, "f": f, "owner": owner,
                      "its": its})
        if rnd == 2:
            break
        sad = np.nonzero(conv & (ev[:, 0] < -STAB_TOL))[0]
        if sad.size == 0:
            break
        key = np.column_stack([owner[sad], np.round(_amplitudes(m[sad]) * 1e7)])
        _, first = np.unique(key, axis=0, return_index=True)
        sad = sad[first]
        v = vec[sad, :, 0] * (KICK * (1.0 - d_pts[owner[sad]]))[:, None]
        starts = np.concatenate([m[sad] + v, m[sad] - v])
        owner = np.concatenate([owner[sad], owner[sad]])
    return {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}


# ----------------------------------------------------------------------------------------------
# single point: all stationary states
# ----------------------------------------------------------------------------------------------
def stationary_states(K, d, T, *, n_random=6, seed=0, extra_starts=None) -> list:
    """Every distinct stationary state found by the multi-start (with saddle descent) at (K, d, T),
    ranked by f.

    Each entry: dict with ``m`` (sorted |m| descending), ``m_raw`` (the solution as found),
    ``f``, ``eigenvalues`` (of the Hessian A, ascending), ``stable`` (smallest eigenvalue > 1e-10),
    ``phase`` (PHASES name), ``residual``, ``converged``. Only converged states are returned.
    """
    K, d, T = _check_K(K), _check_d(d), _check_T(T)
    n_random = check_integer("n_random", n_random, low=0)
    extra = None if extra_starts is None else np.asarray(extra_starts, dtype=np.float64).reshape(-1, K)
    c = _multistart(K, np.array([d]), np.array([T]), n_random, seed, extra)
    amps = _amplitudes(c["m"])
    idx = [i for i in _dedup(np.where(c["conv"][:, None], amps, np.nan), 1e-7) if c["conv"][i]]
    out = [{"m": amps[i], "m_raw": c["m"][i], "f": float(c["f"][i]), "eigenvalues": c["ev"][i],
            "stable": bool(c["lam"][i] > STAB_TOL), "phase": PHASES[classify(amps[i], K)],
            "residual": float(c["res"][i]), "converged": True, "iterations": int(c["its"][i])}
           for i in idx]
    out.sort(key=lambda s: s["f"])
    return out


def solve_point(K, d, T, **kw) -> dict:
    """Thermodynamic state at one point: the stable state of lowest f (``stationary_states``), plus
    ``stable_states`` (all stable ones, ranked by f)."""
    states = stationary_states(K, d, T, **kw)
    stable = [s for s in states if s["stable"]]
    best = stable[0] if stable else (states[0] if states else None)
    if best is None:
        return {"m": np.full(_check_K(K), np.nan), "f": np.nan, "phase": "unresolved", "stability": np.nan,
                "residual": np.nan, "converged": False, "stable_states": []}
    return {"m": best["m"], "f": best["f"], "phase": best["phase"] if stable else "unresolved",
            "stability": float(best["eigenvalues"][0]), "residual": best["residual"],
            "converged": bool(best["converged"] and stable), "stable_states": stable}


# ----------------------------------------------------------------------------------------------
# grid solver
# ----------------------------------------------------------------------------------------------
def solve_grid(K, d, T, *, P=2, n_random=4, seed=0) -> dict:
    """Thermodynamic state on the (d, T) grid: dict of arrays of shape (len(d), len(T)).

    Keys: "m1".."mK" (sorted |m|, descending), "f", "phase" (int8, PHASES), "stability" (smallest
    Hessian eigenvalue), "residual", "converged", "n_stable" (see OBSERVABLE_INFO), and "d", "T" (the
    axes). All starts of all points are solved in vectorised Newton calls (multi-start, then saddle
    descent); the thermodynamic state is the converged stable candidate of lowest f.
    """
    P = check_integer("P", P, low=2, high=2)
    K = _check_K(K)
    d = _check_1d("d", d, low=0.0, high=1.0, high_open=True)
    T = _check_1d("T", T, low=0.0, low_open=True)
    n_random = check_integer("n_random", n_random, low=0)
    nd, nT = d.size, T.size
    npt = nd * nT
    c = _multistart(K, np.repeat(d, nT), np.tile(T, nd), n_random, seed)
    own = c["owner"]
    ok = c["conv"] & (c["lam"] > STAB_TOL)
    # per point: the ok candidate of lowest f; else (flagged) the lowest-residual candidate
    fk = np.where(ok, c["f"], np.inf)
    order = np.lexsort((fk, own))
    first = np.ones(order.size, dtype=bool)
    first[1:] = own[order][1:] != own[order][:-1]
    best = np.full(npt, -1)
    best[own[order][first]] = order[first]
    anyok = np.zeros(npt, dtype=bool)
    anyok[own[ok]] = True
    order_r = np.lexsort((c["res"], own))
    first_r = np.ones(order_r.size, dtype=bool)
    first_r[1:] = own[order_r][1:] != own[order_r][:-1]
    best_r = np.full(npt, -1)
    best_r[own[order_r][first_r]] = order_r[first_r]
    flat = np.where(anyok, best, best_r)
    amps = _amplitudes(c["m"][flat])
    out = {"d": d, "T": T}
    for k in range(K):
        out[f"m{k + 1}"] = amps[:, k].reshape(nd, nT)
    out["f"] = c["f"][flat].reshape(nd, nT)
    out["stability"] = c["lam"][flat].reshape(nd, nT)
    out["residual"] = c["res"][flat].reshape(nd, nT)
    out["converged"] = (anyok & c["conv"][flat]).reshape(nd, nT)
    ph = np.array([classify(a, K) for a in amps], dtype=np.int8)
    ph[~anyok] = _CODE["unresolved"]
    out["phase"] = ph.reshape(nd, nT)
    nst = np.zeros(npt, dtype=np.int64)
    ampsall = _amplitudes(c["m"])
    for p in np.unique(own[ok]):
        sel = ok & (own == p)
        nst[p] = len(_dedup(ampsall[sel], 1e-7))
    out["n_stable"] = nst.reshape(nd, nT)
    return out


# ----------------------------------------------------------------------------------------------
# special states and lines
# ----------------------------------------------------------------------------------------------
def pure_state(d, T):
    """Pure state m = (1-d) tanh(beta m) (largest root; 0 for T >= 1-d) and its transverse Hessian
    eigenvalue lambda_perp = 1 - beta(1-d) + beta m^2 (K independent)."""
    d, T = _check_d(d), _check_T(T)
    a, b = 1.0 - d, 1.0 / T
    if b * a <= 1.0:
        m = 0.0
    else:
        lo = 1e-12 * a
        g = lambda x: a * math.tanh(b * x) - x   # noqa: E731
        m = brentq(g, lo, a, xtol=1e-15, rtol=1e-15) if g(lo) > 0 else 0.0
    return m, 1.0 - b * a + b * m * m


def symmetric_state(K, d, T):
    """Symmetric K-mixture m = a (1,..,1): a > 0 (0 above T_c) and the Hessian eigenvalues (ascending)."""
    K, d, T = _check_K(K), _check_d(d), _check_T(T)
    ones = np.ones((1, K))
    b = np.array([1.0 / T])
    w, _ = _half_weights(K, np.array([d]))

    def g(x):
        return _eval(x * ones, b, w, want_A=False)[0][0, 0] - x

    lo = 1e-9 * (1 - d)
    a = brentq(g, lo, 1 - d, xtol=1e-15, rtol=1e-15) if (1 / T) * (1 - d) > 1 and g(lo) > 0 else 0.0
    _, A = _eval(a * ones, b, w)
    return a, np.linalg.eigvalsh(A[0])


def _crossings(fun, T_hi, n=240, u_min=1e-9, T_lo=None):
    """Roots of fun(T) on (T_lo, T_hi): scan T = T_hi (1 - u), u geometric in [u_min, 1 - ...], refine by
    brentq (xtol 1e-10). Returns (roots, signs of fun just above each root)."""
    u = np.geomspace(u_min, 1.0 - (T_lo / T_hi if T_lo else 1e-4), n)
    Ts = T_hi * (1.0 - u)
    vals = np.array([fun(t) for t in Ts])
    roots, signs = [], []
    for i in range(n - 1):
        if np.isfinite(vals[i]) and np.isfinite(vals[i + 1]) and vals[i] * vals[i + 1] < 0:
            roots.append(brentq(fun, Ts[i + 1], Ts[i], xtol=1e-10, rtol=1e-12))
            signs.append(np.sign(vals[i]))
    return roots, signs


def pure_edge(d):
    """T_p(d): lower stability edge of the pure state (lambda_perp = 0), for 0 <= d <= 2/3 (K independent).
    T_p(0) = 0 (Hopfield: pure states stable at all T < 1); T_p(2/3) = 1/3 (multicritical point)."""
    d = _check_d(d)
    if d == 0.0:
        return 0.0
    if d >= 2.0 / 3.0:
        if abs(d - 2.0 / 3.0) < 1e-12:
            return 1.0 / 3.0
        raise ParameterError("d", d, "0 <= d <= 2/3 (the pure state is unstable just below T_c for d > 2/3)")
    roots, signs = _crossings(lambda t: pure_state(d, t)[1], 1.0 - d, u_min=1e-10)
    return float(max(r for r, s in zip(roots, signs) if s > 0))


def symmetric_edges(K, d):
    """Stability interval(s) of the symmetric K-mixture at dilution d: list of (T_low, T_high) with the
    state stable for T_low < T < T_high (T_high = 1 - d when it stays stable up to T_c). K >= 2."""
    K, d = _check_K(K), _check_d(d)
    if K < 2:
        raise ParameterError("K", K, "K >= 2 for a symmetric mixture")
    Tc = 1.0 - d
    fun = lambda t: symmetric_state(K, d, t)[1][0]   # noqa: E731
    roots, signs = _crossings(fun, Tc, n=160, u_min=1e-6)
    # walk down from T_c: the state is stable just below T_c iff the first scanned value is positive
    first = fun(Tc * (1 - 1e-6))
    out, hi = [], (Tc if first > 0 else None)
    for r, s in zip(roots, signs):
        if s > 0 and hi is not None:      # stable above r
            out.append((r, hi))
            hi = None
        elif s < 0:                       # stable below r
            hi = r
    if hi is not None:
        out.append((0.0, hi))
    return out


def _hier_state(kk, d, T, m0, n_pre=200):
    b = np.array([1.0 / T])
    w, _ = _half_weights(kk, np.array([d]))
    m, res, _ = _solve_batch(np.asarray(m0, float)[None], b, w, n_pre=n_pre, maxiter=60)
    return m[0], res[0]


def cascade_temperature(k, d, *, K=None):
    """T_k(d): onset of pattern k on the (k-1)-pattern hierarchical state,
    1 - beta(1-d) E[sech^2(beta sum_{j<k} m_j xi^j)] = 0. T_2 = T_p(d). NaN where the (k-1)-pattern
    hierarchical branch is not found (e.g. d beyond its range)."""
    k = check_integer("k", k, low=2, high=K_MAX)
    d = _check_d(d)
    if k == 2:
        return pure_edge(d) if d <= 2.0 / 3.0 else float("nan")
    T_hi = cascade_temperature(k - 1, d)
    if not np.isfinite(T_hi) or T_hi <= 0:
        return float("nan")
    kk = k - 1
    xs, _ = _half_atoms(kk)
    cache = {}

    def lam(t):
        key = round(t, 15)
        if key not in cache:
            # start from the nearest solved temperature (continuation), else from the T = 0 ladder
            good = [s for s in cache if np.isfinite(cache[s][0])]
            if good:
                tn = min(good, key=lambda s: abs(s - t))
                m0, n_pre = cache[tn][1], 5
            else:
                m0, n_pre = (1 - d) * d ** np.arange(kk), 200
            m, r = _hier_state(kk, d, t, m0, n_pre)
            a = _amplitudes(m)
            if r > TOL_CONV or a[-1] <= M_MIN or classify(a, kk) != _CODE["hierarchical"]:
                cache[key] = (np.nan, m0)
            else:
                w, _ = _half_weights(kk, np.array([d]))
                t2 = np.tanh((m @ xs.T) / t)
                s = (w[0] * (1 - t2 * t2)).sum() + d ** kk
                cache[key] = (1.0 - (1 - d) / t * s, m)
        return cache[key][0]

    # scan upward from low T (ladder start is valid there), then bracket the first sign change below T_hi
    Ts = np.linspace(T_hi * 1e-3, T_hi * (1 - 1e-4), 80)
    vals = np.array([lam(t) for t in Ts])
    for i in range(Ts.size - 1, 0, -1):
        if np.isfinite(vals[i]) and np.isfinite(vals[i - 1]) and vals[i] > 0 >= vals[i - 1]:
            return float(brentq(lam, Ts[i - 1], Ts[i], xtol=1e-10, rtol=1e-12))
    return float("nan")


def boundaries(K, *, points=61) -> dict:
    """Phase lines in the (d, T) plane: {name: {"d": array, "T": array}} (1/N convention).

    - "paramagnetic": T_c = 1 - d (all K).
    - "pure_edge": T_p(d), 0 <= d <= 2/3 (K >= 2; for K = 1 the pure state is the only state).
    - "symmetric_edge": lower stability edge of the symmetric K-mixture (K >= 2), d in [0.55, 0.98];
      "symmetric_upper_edge": its upper edge where it is below T_c (the pocket below d = 2/3).
    - "cascade_k", k = 3..K: onset temperature of pattern k on the hierarchical state (d <= 0.6).
    - "multicritical": the point (2/3, 1/3).
    Roots are located by bracketing then brentq (xtol 1e-10, well below the 1e-6 target).
    """
    K = _check_K(K)
    points = check_integer("points", points, low=2)
    dg = np.linspace(0.0, 1.0, points, endpoint=False)
    out = {"paramagnetic": {"d": dg, "T": 1.0 - dg},
           "multicritical": {"d": np.array([MULTICRITICAL[0]]), "T": np.array([MULTICRITICAL[1]])}}
    if K >= 2:
        dp = np.linspace(0.0, 2.0 / 3.0, points)
        out["pure_edge"] = {"d": dp, "T": np.array([pure_edge(x) for x in dp])}
        ds = np.linspace(0.55, 0.98, points)
        lo_d, lo_T, up_d, up_T = [], [], [], []
        for x in ds:
            for tl, th in symmetric_edges(K, x):
                lo_d.append(x)
                lo_T.append(tl)
                if th < 1.0 - x - 1e-9:
                    up_d.append(x)
                    up_T.append(th)
        out["symmetric_edge"] = {"d": np.array(lo_d), "T": np.array(lo_T)}
        out["symmetric_upper_edge"] = {"d": np.array(up_d), "T": np.array(up_T)}
    for k in range(3, K + 1):
        dc = np.linspace(0.01, 0.6, points)
        Tk = np.array([cascade_temperature(k, x) for x in dc])
        good = np.isfinite(Tk)
        out[f"cascade_{k}"] = {"d": dc[good], "T": Tk[good]}
    return out


# ----------------------------------------------------------------------------------------------
# T = 0
# ----------------------------------------------------------------------------------------------
def critical_dilution(K):
    """d_c(K): root of sum_{j=1}^{K-1} d^j = 1 in (1/2, 1) (T = 0 existence edge of ladder A);
    NaN for K <= 2 (the ladder exists for every d < 1)."""
    K = _check_K(K)
    if K <= 2:
        return float("nan")
    return float(brentq(lambda x: sum(x ** j for j in range(1, K)) - 1.0, 0.5, 1.0, xtol=1e-15, rtol=1e-15))


def ladder_T0(K, d) -> dict:
    """Hierarchical ladder A at T = 0+: m_k = (1-d) d^(k-1), f0 = -|m|^2/2, exists (= stable) iff
    m_k > sum_{j>k} m_j for all k (d < d_c(K))."""
    K, d = _check_K(K), _check_d(d)
    m = (1 - d) * d ** np.arange(K)
    tails = np.cumsum(m[::-1])[::-1]
    exists = bool(np.all(m[:-1] > tails[1:])) if K > 1 else True
    return {"m": m, "f0": -0.5 * float(m @ m), "exists": exists, "stable": exists}


def family_B_T0(d):
    """K = 3 odd mixture-hierarchical family B at T = 0+ (exists and stable for 0 < d < 1)."""
    d = _check_d(d)
    c = (1 - d) ** 2 / 2
    return (1 - d) * np.array([d * d + 2 * d * (1 - d) + c, d * d + d * (1 - d) + c, d * d + c])


def rhs_T0(m, d):
    """E_xi[xi sign(xi.m)] with sign(0) = 0 (the T = 0+ self-consistency)."""
    m = np.asarray(m, dtype=np.float64)
    xs, p = atoms(m.size, d)
    h = xs @ m
    s = np.where(np.abs(h) <= 1e-13 * max(1.0, np.abs(m).max()), 0.0, np.sign(h))
    return (p * s) @ xs


def ground_state_T0(d) -> dict:
    """K = 3 ground state at T = 0+: family A (when it exists) or B, by f0 = -|m|^2/2."""
    d = _check_d(d)
    A = ladder_T0(3, d)
    mB = family_B_T0(d)
    fB = -0.5 * float(mB @ mB)
    if A["exists"] and A["f0"] < fB:
        return {"family": "A", "m": A["m"], "f0": A["f0"]}
    return {"family": "B", "m": mB, "f0": fB}


def _d_star():
    g = lambda x: ladder_T0(3, x)["f0"] + 0.5 * float(family_B_T0(x) @ family_B_T0(x))   # noqa: E731
    return float(brentq(g, 0.3, 0.6, xtol=1e-15, rtol=1e-15))


def critical_dilutions(K) -> dict:
    """T = 0 thresholds: {"d_c": d_c(K) (NaN for K <= 2), "d_star": K = 3 ground-state switch A -> B
    (NaN for K != 3), "multicritical": 2/3 (finite-T pure/symmetric boundary at T_c, all K)}."""
    K = _check_K(K)
    return {"d_c": critical_dilution(K), "d_star": _d_star() if K == 3 else float("nan"),
            "multicritical": 2.0 / 3.0}


# ----------------------------------------------------------------------------------------------
# learning version (supervised = unsupervised in low storage; spec Section 6)
# ----------------------------------------------------------------------------------------------
SETTINGS = ("supervised", "unsupervised")
LAWS = ("binomial", "gaussian")


def c_law(*, M=None, r=None, rho=None, law="binomial", n_gauss=40):
    """Atoms (c, p) of c = chibar / r: exact finite-M law chibar = (2B - M)/M, B ~ Bin(M, (1+r)/2)
    ("binomial", needs M and r or rho), or c = 1 + sqrt(rho) Z (Gauss-Hermite, "gaussian", needs rho or
    (M, r)). E[c] = 1, E[c^2] = 1 + rho. Returns (c, p, rho)."""
    from scipy.stats import binom

    from hopfield.learning import resolve_quality
    from hopfield.validation import check_choice
    check_choice("law", law, LAWS)
    if law == "gaussian" and M is None:
        rho = check_real("rho", rho, low=0.0)
        r_ = None
    else:
        if M is None:
            raise ParameterError("M", M, "an integer M >= 1 for the binomial law")
        r_, rho, _ = resolve_quality(M, r, rho)
    if law == "binomial":
        B = np.arange(M + 1)
        return (2 * B - M) / (M * r_), binom.pmf(B, M, (1 + r_) / 2), rho
    # Gauss-Legendre with the normal density on [-9, z0] and [z0, 9], z0 = -1/sqrt(rho) (c = 0): the T -> 0
    # integrands jump at c = 0 (sign(c)), where a single Gauss-Hermite rule converges badly
    n = check_integer("n_gauss", n_gauss, low=2)
    x, v = np.polynomial.legendre.leggauss(n)
    z0 = -1.0 / math.sqrt(rho) if rho > 0 else -np.inf
    parts = [(-9.0, z0), (z0, 9.0)] if -9.0 < z0 else [(-9.0, 9.0)]
    z = np.concatenate([0.5 * (b - a) * x + 0.5 * (a + b) for a, b in parts])
    w = np.concatenate([0.5 * (b - a) * v for a, b in parts]) * np.exp(-0.5 * z * z)
    return 1.0 + math.sqrt(rho) * z, w / w.sum(), rho


def _learning_atoms(K, d, c, p):
    """Joint atoms of (xi, y = xi c) over K patterns: XI (A, K), Y (A, K), W (A,)."""
    vals = [(0.0, 0.0, d)] + [(s, s * ci, (1 - d) / 2 * pi) for s in (-1.0, 1.0) for ci, pi in zip(c, p) if pi > 0]
    x1 = np.array([v[0] for v in vals])
    y1 = np.array([v[1] for v in vals])
    w1 = np.array([v[2] for v in vals])
    idx = np.array(list(itertools.product(range(len(vals)), repeat=K)))
    return x1[idx], y1[idx], np.prod(w1[idx], axis=1)


def solve_learning_point(K, d, T, *, M=None, r=None, rho=None, law="binomial", setting="supervised",
                         n_random=4, seed=0) -> dict:
    """Low-storage learning equations (spec 6.2) at one point, multi-start, ranked by f:

        n_mu = E[xi^mu c^mu tanh(beta sum_nu n_nu xi^nu c^nu)] / (1+rho),   m_mu = E[xi^mu tanh(...)],
        f(n) = (1+rho)|n|^2/2 - T E ln 2cosh(beta n.(xi c)),   A = (1+rho) I - beta E[y y^T sech^2].

    ``setting``: "supervised" or "unsupervised" -- the same equations in low storage (spec 6.1: the
    unsupervised field equals the supervised one up to O(N^-1/2), see
    ``hopfield.multitasking.learning_local_fields``). Returns {"states": [...], "rho": rho} with each
    state: "m" (archetype overlaps, sorted |.|), "n", "f", "stable", "eigenvalues" (of A/(1+rho)), "residual".
    """
    from hopfield.validation import check_choice
    check_choice("setting", setting, SETTINGS)
    K, d, T = _check_K(K), _check_d(d), _check_T(T)
    if K > 3:
        raise ParameterError("K", K, "K <= 3 for the learning equations (atoms grow as (2M+3)^K)")
    c, p, rho = c_law(M=M, r=r, rho=rho, law=law)
    XI, Y, W = _learning_atoms(K, d, c, p)
    beta = 1.0 / T
    g = 1.0 + rho

    def ev(x, sel, want_A=True):
        t = np.tanh(beta * (x @ Y.T))
        F = (W * t) @ Y / g
        A = None
        if want_A:
            q = W * (1 - t * t)
            A = np.eye(K) - beta / g * ((Y.T[None] * q[:, None, :]) @ Y)
        return F, A

    starts = _starts(K, d, n_random, seed)
    n, res, _ = _solve_batch(starts, None, None, ev=ev)
    conv = res <= TOL_CONV
    amps = _amplitudes(n)
    out = []
    for i in _dedup(np.where(conv[:, None], amps, np.nan), 1e-7):
        t = np.tanh(beta * (Y @ n[i]))
        m = (W * t) @ XI
        _, A = ev(n[i][None], None, True)
        evs = np.linalg.eigvalsh(A[0])
        a = np.abs(beta * (Y @ n[i]))
        f = 0.5 * g * n[i] @ n[i] - (W @ (a + np.log1p(np.exp(-2 * a)))) / beta
        out.append({"m": -np.sort(-np.abs(m)), "n": amps[i], "f": float(f), "eigenvalues": evs,
                    "stable": bool(evs[0] > STAB_TOL), "residual": float(res[i])})
    out.sort(key=lambda s: s["f"])
    return {"states": out, "rho": rho, "setting": setting}
