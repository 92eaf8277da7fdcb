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

Learning version (spec Section 6; supervised = unsupervised in low storage): ``learning_states``,
``solve_learning_grid`` (any K <= 10 with the Gaussian law of c = chibar/r; exact binomial law while the
joint atoms stay few), ``learning_boundaries`` in the (d, T), (rho, T) and (d, rho) planes, the
multicritical dilution d_mc(rho) = 1 - E c^4 / (3 (1+rho)^2) (Gaussian: 2 / (3 (1+rho)^2)), and the
hierarchical cascade T_k(d, rho) (``learning_cascade_temperatures``: the storage cascade on the learning
equations; T_k(d, 0) = T_k(d)).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import brentq

from hopfield.validation import ParameterError, check_array_real, check_integer, check_real

from .learning_examples import check_span

__all__ = ["PHASES", "OBSERVABLE_INFO", "K_MAX", "MULTICRITICAL", "atoms", "rhs", "hessian", "free_energy",
           "solve_point", "stationary_states", "solve_grid", "classify", "pure_state", "symmetric_state",
           "pure_edge", "symmetric_edges", "cascade_temperature", "boundaries", "critical_dilution",
           "critical_dilutions", "ladder_T0", "family_B_T0", "rhs_T0", "ground_state_T0",
           "landau_coefficients", "SETTINGS", "LAWS", "c_law", "solve_learning_point", "AVERAGES",
           "gaussian_moments", "learning_states", "solve_learning_grid", "landau_dilution", "learning_pure_state",
           "learning_symmetric_state", "learning_pure_edge", "learning_symmetric_edges", "learning_boundaries",
           "learning_cascade_temperatures", "learning_cascade_temperature", "LEARNING_LINES"]

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
    OBSERVABLE_INFO[f"n{_k}"] = (f"learning version (rho > 0): {_k}-th largest |n_mu| (overlap with the example "
                                 "means, n = E[xi c tanh]/(1+rho)) of the thermodynamic state")

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
    """Validated (m (B, K), K, beta, half-atom weights, blank weight): 0 <= d < 1, T > 0 (scalars or (B,))."""
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    K = _check_K(m.shape[1])
    d = np.broadcast_to(check_array_real("d", d, low=0.0, high=1.0, high_open=True), m.shape[:1])
    T = np.broadcast_to(check_array_real("T", T, low=0.0, low_open=True), m.shape[:1])
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


def _multistart(K, d_pts, T_pts, n_random, seed, extra=None, backend=None):
    """All candidate solutions for the points (d_pts[p], T_pts[p]), p = 0..P-1.

    Pass 1: the family / random starts of every point. Passes 2 and 3 (saddle descent): every converged
    unstable stationary point m found in the previous pass is kicked to m +- KICK (1-d) v (v: eigenvector of the
    smallest Hessian eigenvalue), one kick pair per distinct (point, amplitude) saddle, and solved
    again (damped iterations first, which descend). ``backend(owner) -> (ev, fe, mo)`` gives the map and
    Hessian, the free energy and the archetype overlaps for rows of points ``owner`` (default: the storage
    equations; see ``_learning_backend``). Returns dict of flat arrays: m (the solved order parameters),
    mo (archetype overlaps; = m for storage), res, conv, lam (smallest eigenvalue), ev (all eigenvalues), f,
    owner (point index), its."""
    if backend is None:
        backend = _storage_backend(K, d_pts, T_pts)
    P = d_pts.size
    st = [_starts(K, d_pts[p], n_random, seed) for p in range(P)]
    if extra is not None:
        st = [np.vstack([x, extra]) for x in st]
    owner = np.concatenate([np.full(x.shape[0], p) for p, x in enumerate(st)])
    starts = np.concatenate(st)
    parts = []
    for rnd, n_pre in enumerate((30, 60, 60)):
        ev_, fe_, mo_ = backend(owner)
        m, res, its = _solve_batch(starts, None, None, n_pre=n_pre, ev=ev_)
        conv = res <= TOL_CONV
        _, A = ev_(m, np.arange(m.shape[0]), True)
        ev, vec = np.linalg.eigh(A)
        f = fe_(m)
        parts.append({"m": m, "mo": mo_(m), "res": res, "conv": conv, "lam": ev[:, 0], "ev": ev, "f": f,
                      "owner": owner, "its": its})
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


def _storage_backend(K, d_pts, T_pts):
    """Storage equations for rows of points: (ev, fe, mo) factory, see ``_multistart``."""
    def make(owner):
        beta = 1.0 / T_pts[owner]
        w, w0 = _half_weights(K, d_pts[owner])

        def ev(x, sel, want_A=True):
            return _eval(x, beta[sel], w[sel], want_A)
        return ev, (lambda x: _free_energy(x, beta, w, w0)), (lambda x: x)
    return make


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
    extra = None
    if extra_starts is not None:
        extra = np.asarray(extra_starts, dtype=np.float64)
        if extra.ndim > 2 or extra.size == 0 or extra.size % K or not np.all(np.isfinite(extra)):
            raise ParameterError("extra_starts", extra_starts, f"finite starting states of K = {K} overlaps, "
                                 f"shape ({K},) or (n, {K})")
        extra = extra.reshape(-1, K)
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
    out = {"d": d, "T": T}
    out.update({k: v.reshape(nd, nT) for k, v in _grid_summary(c, K, npt).items()})
    return out


def _grid_summary(c, K, npt, learning=False):
    """Per point (flat, npt): the thermodynamic state among the candidates ``c`` of ``_multistart``: the
    converged stable candidate of lowest f, else (flagged unconverged, phase "unresolved") the candidate of
    lowest residual. Keys m1..mK (sorted archetype |m|), n1..nK (learning: sorted |n|), f, stability,
    residual, converged, phase, n_stable."""
    own = c["owner"]
    ok = c["conv"] & (c["lam"] > STAB_TOL)
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
    amps = _amplitudes(c["mo"][flat])
    out = {}
    for k in range(K):
        out[f"m{k + 1}"] = amps[:, k]
    if learning:
        namps = _amplitudes(c["m"][flat])
        for k in range(K):
            out[f"n{k + 1}"] = namps[:, k]
    out["f"] = c["f"][flat]
    out["stability"] = c["lam"][flat]
    out["residual"] = c["res"][flat]
    out["converged"] = anyok & c["conv"][flat]
    ph = np.array([classify(a, K) for a in amps], dtype=np.int8)
    ph[~anyok] = _CODE["unresolved"]
    out["phase"] = ph
    nst = np.zeros(npt, dtype=np.int64)
    ampsall = _amplitudes(c["m"])
    for p in np.unique(own[ok]):
        sel = ok & (own == p)
        nst[p] = len(_dedup(ampsall[sel], 1e-7))
    out["n_stable"] = nst
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


def _crossings(fun, T_hi, n=240, u_min=1e-9, T_lo=None, xtol=1e-10):
    """Roots of fun(T) on [T_lo, T_hi) (default T_lo = 1e-4 T_hi): scan T = T_hi (1 - u), u geometric in
    [u_min, 1 - T_lo/T_hi], refine by brentq (xtol). Returns (roots, signs of fun just above each root)."""
    T_lo = 1e-4 * T_hi if T_lo is None else T_lo
    u = np.geomspace(u_min, 1.0 - T_lo / T_hi, n)
    Ts = T_hi * (1.0 - u)
    vals = np.array([fun(t) for t in Ts])
    roots, signs = [], []
    for i in range(n - 1):
        if np.isfinite(vals[i]) and np.isfinite(vals[i + 1]) and vals[i] * vals[i + 1] < 0:
            roots.append(brentq(fun, Ts[i + 1], Ts[i], xtol=xtol, rtol=1e-12))
            signs.append(np.sign(vals[i]))
    return roots, signs


def pure_edge(d):
    """T_p(d): lower stability edge of the pure state (lambda_perp = 1 - beta(1-d) + beta m^2 = 0), for
    0 <= d <= 2/3 (K independent). T_p(0) = 0 (Hopfield: pure states stable at all T < 1); T_p(2/3) = 1/3
    (multicritical point). lambda_perp = 1 - beta(1-d)(d + (1-d) sech^2(beta m)), so T_p >= d(1-d), with
    equality up to O(e^(-2/d)) at small d: the scan goes down to d(1-d)/10 (brentq xtol 1e-8 of that).
    NaN if no edge is found."""
    d = _check_d(d)
    if d == 0.0:
        return 0.0
    if d >= 2.0 / 3.0:
        if abs(d - 2.0 / 3.0) < 1e-12:
            return 1.0 / 3.0
        raise ParameterError("d", d, "0 <= d <= 2/3 (the pure state is unstable just below T_c for d > 2/3)")
    T_lo = 0.1 * d * (1.0 - d)
    roots, signs = _crossings(lambda t: pure_state(d, t)[1], 1.0 - d, u_min=1e-10, T_lo=T_lo,
                              xtol=min(1e-10, 1e-8 * T_lo))
    up = [r for r, s in zip(roots, signs) if s > 0]
    return float(max(up)) if up else float("nan")


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


def solve_learning_point(K, d, T, *, M=None, r=None, rho=None, law="binomial", setting="supervised",
                         n_random=4, seed=0) -> dict:
    """Low-storage learning equations (spec 6.2) at one point, multi-start, ranked by f:

        n_mu = E[xi^mu c^mu tanh(beta sum_nu n_nu xi^nu c^nu)] / (1+rho),   m_mu = E[xi^mu tanh(...)],
        f(n) = (1+rho)|n|^2/2 - T E ln 2cosh(beta n.(xi c)),   A = (1+rho) I - beta E[y y^T sech^2].

    ``law``: "binomial" (exact finite-M law of c; needs M and r or rho) or "gaussian" (c = 1 + sqrt(rho) Z;
    rho, or M and r). ``setting``: "supervised" or "unsupervised" -- the same equations in low storage (spec
    6.1: the unsupervised field equals the supervised one up to O(N^-1/2), see
    ``hopfield.multitasking.learning_local_fields``). A thin wrapper of :func:`learning_states`. Returns
    {"states": [...], "rho": rho, "setting": setting} with each state: "m" (archetype overlaps, sorted |.|),
    "n", "f", "stable", "eigenvalues" (of A/(1+rho)), "residual".
    """
    from hopfield.learning import resolve_quality
    from hopfield.validation import check_choice
    check_choice("setting", setting, SETTINGS)
    check_choice("law", law, LAWS)
    if M is not None or law == "binomial":
        if M is None:
            raise ParameterError("M", M, "an integer M >= 1 for the binomial law")
        _, rho, _ = resolve_quality(M, r, rho)
    states = learning_states(K, d, T, rho=rho, M=M, average=law, setting=setting, n_random=n_random, seed=seed)
    return {"states": states, "rho": rho, "setting": setting}


# ----------------------------------------------------------------------------------------------
# learning version for any K <= 10: vectorised backends (Gaussian c for any K, exact binomial c for
# small atom sets), grid solver, lines. Spec Section 6.2 with c = chibar/r, E c = 1, E c^2 = 1 + rho:
#
#   n_mu = E[y_mu tanh(beta n.y)]/(1+rho),  y_mu = xi^mu c^mu;   m_mu = E[xi^mu tanh(beta n.y)];
#   f(n) = (1+rho)|n|^2/2 - T E ln 2cosh(beta n.y);   A/(1+rho) = I - beta E[y y^T sech^2(beta n.y)]/(1+rho).
#
# Gaussian c = 1 + sqrt(rho) Z (large M): given the blank pattern s = (xi^1..xi^K) in {-1,0,1}^K the
# field h = n.y is Gaussian, mean s.n, variance rho sum_nu s_nu^2 n_nu^2, and Gaussian integration by
# parts (E[Z g(h)] = E[dh/dZ g'(h)]) gives, with E_s the average over the 3^K atoms of s,
#
#   (1+rho) n_mu = E_s[s_mu <tanh>] + rho beta n_mu E_s[s_mu^2 <sech^2>],
#   E[y_mu y_nu G] = E_s[s_mu s_nu ((1 + rho delta_mu,nu) <G> + rho (s_mu n_mu + s_nu n_nu) <G'>
#                                   + rho^2 s_mu n_mu s_nu n_nu <G''>)],    G = sech^2(beta h),
#
# <.> the 1-D Gaussian average over h, done by Gauss-Hermite when beta*std <= 0.35 and otherwise by the
# closed forms of E sign(h), E|h| plus panels of Gauss-Legendre for the parts that decay as e^(-2 beta|h|)
# (accuracy ~1e-10 at any T). At rho = 0 the atoms' h are deterministic: the storage equations exactly.
# ----------------------------------------------------------------------------------------------
AVERAGES = ("gaussian", "binomial")
_GH_N = 24
_gz, _gw = np.polynomial.hermite_e.hermegauss(_GH_N)
_GH_Z, _GH_W = _gz, _gw / _gw.sum()
_PANEL_EDGES = (0.0, 1.0, 3.0, 7.0, 20.0)   # |beta h| panels (tails beyond 20 are < e^-40)
_lx, _lv = np.polynomial.legendre.leggauss(12)
_px = np.concatenate([0.5 * (b - a) * _lx + 0.5 * (a + b) for a, b in itertools.pairwise(_PANEL_EDGES)])
_pw = np.concatenate([0.5 * (b - a) * _lv for a, b in itertools.pairwise(_PANEL_EDGES)])
_PX, _PW = np.concatenate([-_px[::-1], _px]), np.concatenate([_pw[::-1], _pw])
_TAU_SPLIT = 0.35
_BINOMIAL_ATOMS_MAX = 200_000
_LEARN_CHUNK = 3_000_000


def gaussian_moments(mu, tau, what=("t", "s2", "ts2", "s2c", "L")):
    """For X ~ N(mu, tau^2) (arrays of one shape): E tanh X ("t"), E sech^2 X ("s2"), E tanh X sech^2 X
    ("ts2"), E sech^2 X (1 - 3 tanh^2 X) ("s2c"), E ln 2cosh X ("L"). Dict of arrays."""
    mu, tau = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(tau, dtype=np.float64))
    out = {k: np.empty(mu.shape) for k in what}
    lo = tau <= _TAU_SPLIT
    if lo.any():
        X = mu[lo][:, None] + tau[lo][:, None] * _GH_Z
        t = np.tanh(X)
        s2 = 1.0 - t * t
        for k in what:
            if k == "t":
                out[k][lo] = t @ _GH_W
            elif k == "s2":
                out[k][lo] = s2 @ _GH_W
            elif k == "ts2":
                out[k][lo] = (t * s2) @ _GH_W
            elif k == "s2c":
                out[k][lo] = (s2 * (1.0 - 3.0 * t * t)) @ _GH_W
            else:
                a = np.abs(X)
                out[k][lo] = (a + np.log1p(np.exp(-2.0 * a))) @ _GH_W
    hi = ~lo
    if hi.any():
        m, s = mu[hi], tau[hi]
        dens = np.exp(-0.5 * ((_PX - m[:, None]) / s[:, None]) ** 2) * (_PW / math.sqrt(2 * math.pi)) / s[:, None]
        e = np.exp(-2.0 * np.abs(_PX))
        t = np.tanh(_PX)
        s2 = 4.0 * e / (1.0 + e) ** 2
        from scipy.special import erf
        er = erf(m / (s * math.sqrt(2.0)))
        for k in what:
            if k == "t":                 # tanh = sign + (tanh - sign)
                out[k][hi] = er + dens @ (-np.sign(_PX) * 2.0 * e / (1.0 + e))
            elif k == "s2":
                out[k][hi] = dens @ s2
            elif k == "ts2":
                out[k][hi] = dens @ (t * s2)
            elif k == "s2c":
                out[k][hi] = dens @ (s2 * (1.0 - 3.0 * t * t))
            else:                        # ln 2cosh = |x| + ln(1 + e^-2|x|)
                eabs = s * math.sqrt(2.0 / math.pi) * np.exp(-0.5 * (m / s) ** 2) + m * er
                out[k][hi] = eabs + dens @ np.log1p(e)
    return out


def _check_average(average):
    from hopfield.validation import check_choice
    return check_choice("average", average, AVERAGES)


def _c_atoms(rho, M, average):
    """(c, p) of the binomial law at (M, rho) with negligible atoms (p < 1e-16 max p) dropped."""
    c, p, _ = c_law(M=M, rho=rho, law="binomial")
    keep = p > 1e-16 * p.max()
    return c[keep], p[keep] / p[keep].sum()


def _gauss_backend(K, d_pts, T_pts, rho):
    xs, _ = _half_atoms(K)
    xs2 = xs * xs
    H = xs.shape[0]
    eye = np.eye(K)
    g = 1.0 + rho

    def make(owner):
        beta = 1.0 / T_pts[owner]
        w, w0 = _half_weights(K, d_pts[owner])

        def blocks(x, sel):
            step = max(1, _LEARN_CHUNK // (H * (_GH_N + _PX.size)))
            for s0 in range(0, x.shape[0], step):
                yield slice(s0, min(x.shape[0], s0 + step))

        def mom(x, rows, what):
            b = beta[rows][:, None]
            mu = b * (x @ xs.T)
            tau = b * np.sqrt(rho * ((x * x) @ xs2.T))
            return gaussian_moments(mu, tau, what)

        def ev(x, sel, want_A=True):
            sel = np.asarray(sel)
            F = np.empty_like(x)
            A = np.empty((x.shape[0], K, K)) if want_A else None
            for bl in blocks(x, sel):
                rows, xb = sel[bl], x[bl]
                wb, bb = w[rows], beta[rows]
                mo = mom(xb, rows, ("t", "s2", "ts2", "s2c") if want_A else ("t", "s2"))
                mvec = (wb * mo["t"]) @ xs
                D = (wb * mo["s2"]) @ xs2
                F[bl] = (mvec + rho * bb[:, None] * xb * D) / g
                if want_A:
                    G0 = wb * mo["s2"]
                    G1 = wb * (-2.0 * bb[:, None] * mo["ts2"])
                    G2 = wb * (-2.0 * bb[:, None] ** 2 * mo["s2c"])
                    C0 = (xs.T[None] * G0[:, None, :]) @ xs
                    Pm = (xs2.T[None] * G1[:, None, :]) @ xs          # P_mu,nu = E[s_mu^2 s_nu G']
                    Q = (xs2.T[None] * G2[:, None, :]) @ xs2
                    nP = xb[:, :, None] * Pm
                    E = (C0 + rho * D[:, :, None] * eye + rho * (nP + np.swapaxes(nP, 1, 2))
                         + rho ** 2 * xb[:, :, None] * xb[:, None, :] * Q)
                    A[bl] = eye - (bb / g)[:, None, None] * E
            return F, A

        def fe(x):
            out = np.empty(x.shape[0])
            rows = np.arange(x.shape[0])
            for bl in blocks(x, rows):
                L = mom(x[bl], rows[bl], ("L",))["L"]
                out[bl] = 0.5 * g * (x[bl] ** 2).sum(axis=1) - ((w[bl] * L).sum(axis=1)
                                                                + w0[bl] * math.log(2.0)) / beta[bl]
            return out

        def mo_(x):
            rows = np.arange(x.shape[0])
            out = np.empty_like(x)
            for bl in blocks(x, rows):
                out[bl] = (w[bl] * mom(x[bl], rows[bl], ("t",))["t"]) @ xs
            return out
        return ev, fe, mo_
    return make


def _check_binomial_atoms(K, rho, M):
    """The exact binomial average sums over (2L+1)^K joint atoms (L values of c): refuse more than
    _BINOMIAL_ATOMS_MAX. Returns the atoms (c, p) of c."""
    c, p = _c_atoms(rho, M, "binomial")
    L = c.size
    n_atoms = (2 * L + 1) ** K
    if n_atoms > _BINOMIAL_ATOMS_MAX:
        raise ParameterError("K", K, f"K with (2L+1)^K <= {_BINOMIAL_ATOMS_MAX} joint atoms for the exact binomial "
                                     f"average (here rho = {rho:g}: L = {L} values of c, {n_atoms} atoms); use "
                                     "average = 'gaussian'")
    return c, p


def _binomial_backend(K, d_pts, T_pts, rho, M):
    c, p = _check_binomial_atoms(K, rho, M)
    L = c.size
    x1 = np.concatenate([[0.0], -np.ones(L), np.ones(L)])
    y1 = np.concatenate([[0.0], -c, c])
    p1 = np.concatenate([[1.0], p, p])
    idx = np.array(list(itertools.product(range(2 * L + 1), repeat=K)))
    XI, Y, P1 = x1[idx], y1[idx], np.prod(p1[idx], axis=1)
    nz = np.count_nonzero(XI, axis=1)
    g = 1.0 + rho
    eye = np.eye(K)

    def make(owner):
        beta = 1.0 / T_pts[owner]
        d = d_pts[owner][:, None]
        W = d ** (K - nz) * ((1.0 - d) / 2.0) ** nz * P1

        def ev(x, sel, want_A=True):
            sel = np.asarray(sel)
            t = np.tanh(beta[sel, None] * (x @ Y.T))
            F = (W[sel] * t) @ Y / g
            A = None
            if want_A:
                q = W[sel] * (1.0 - t * t)
                A = eye - (beta[sel] / g)[:, None, None] * ((Y.T[None] * q[:, None, :]) @ Y)
            return F, A

        def fe(x):
            a = np.abs(beta[:, None] * (x @ Y.T))
            return 0.5 * g * (x ** 2).sum(axis=1) - (W * (a + np.log1p(np.exp(-2.0 * a)))).sum(axis=1) / beta

        def mo_(x):
            return (W * np.tanh(beta[:, None] * (x @ Y.T))) @ XI
        return ev, fe, mo_
    return make


def _learning_backend(K, d_pts, T_pts, rho, M, average):
    if rho == 0.0:          # c = 1 exactly (r = 1 for the binomial law): the storage equations
        return _storage_backend(K, d_pts, T_pts)
    if average == "binomial":
        return _binomial_backend(K, d_pts, T_pts, rho, M)
    return _gauss_backend(K, d_pts, T_pts, rho)


def _check_learning(rho, M, average, setting):
    from hopfield.validation import check_choice
    check_choice("setting", setting, SETTINGS)
    average = _check_average(average)
    rho = check_real("rho", rho, low=0.0)
    if average == "binomial":
        if M is None:
            raise ParameterError("M", M, "an integer M >= 1 for average = 'binomial'")
        M = check_integer("M", M, low=1)
    return rho, M, average


def learning_states(K, d, T, *, rho, M=None, average="gaussian", setting="supervised", n_random=6,
                    seed=0) -> list:
    """Every distinct stationary state of the low-storage learning equations at (K, d, T, rho), found by the
    multi-start with saddle descent, ranked by f. ``setting`` (supervised / unsupervised) does not enter: the
    two give identical low-storage equations (spec 6.1). Each entry: ``m`` (sorted archetype |m|), ``n``
    (sorted |n|), ``n_raw``, ``f``, ``eigenvalues`` (of A/(1+rho), ascending), ``stable``, ``phase``,
    ``residual``. Gaussian c for any K <= 10; exact binomial c (needs M) while (2L+1)^K <= 2e5."""
    K, d, T = _check_K(K), _check_d(d), _check_T(T)
    rho, M, average = _check_learning(rho, M, average, setting)
    n_random = check_integer("n_random", n_random, low=0)
    dd, TT = np.array([d]), np.array([T])
    c = _multistart(K, dd, TT, n_random, seed, backend=_learning_backend(K, dd, TT, rho, M, average))
    amps = _amplitudes(c["m"])
    idx = [i for i in _dedup(np.where(c["conv"][:, None], amps, np.nan), 1e-7) if c["conv"][i]]
    out = []
    for i in idx:
        ma = _amplitudes(c["mo"][i])
        out.append({"m": ma, "n": amps[i], "n_raw": c["m"][i], "f": float(c["f"][i]), "eigenvalues": c["ev"][i],
                    "stable": bool(c["lam"][i] > STAB_TOL), "phase": PHASES[classify(ma, K)],
                    "residual": float(c["res"][i])})
    out.sort(key=lambda s: s["f"])
    return out


def solve_learning_grid(K, d, rho, T, *, M=None, average="gaussian", setting="supervised", n_random=4,
                        seed=0) -> dict:
    """Thermodynamic state of the learning equations on the (d, rho, T) grid: arrays of shape
    (len(d), len(rho), len(T)) with the keys of :func:`solve_grid` plus n1..nK (sorted |n|). rho = 0 is
    the storage problem (exactly). Vectorised over (d, T) for each rho value."""
    K = _check_K(K)
    d = _check_1d("d", d, low=0.0, high=1.0, high_open=True)
    rho = _check_1d("rho", rho, low=0.0)
    T = _check_1d("T", T, low=0.0, low_open=True)
    for r_ in rho:
        _check_learning(r_, M, average, setting)
        if average == "binomial" and r_ > 0:
            _check_binomial_atoms(K, float(r_), M)      # every rho before any solve
    n_random = check_integer("n_random", n_random, low=0)
    nd, nT = d.size, T.size
    dp, Tp = np.repeat(d, nT), np.tile(T, nd)
    res = []
    for r_ in rho:
        c = _multistart(K, dp, Tp, n_random, seed, backend=_learning_backend(K, dp, Tp, float(r_), M, average))
        res.append(_grid_summary(c, K, nd * nT, learning=True))
    out = {"d": d, "rho": rho, "T": T}
    for k in res[0]:
        out[k] = np.stack([q[k].reshape(nd, nT) for q in res], axis=1)
    return out


def landau_dilution(rho, *, M=None, average="gaussian"):
    """Dilution of the multicritical point at given rho: just below T_c = 1 - d the pure state wins for
    d < d_mc and the symmetric K-mixture for d > d_mc, with d_mc = 1 - E[c^4] / (3 (1+rho)^2) (sign of the
    quartic anisotropy (1-d) E c^4 - 3 (1-d)^2 (1+rho)^2 of -E ln cosh). Gaussian c: E c^4 = 1 + 6 rho + 3 rho^2,
    d_mc = 2 / (3 (1+rho)^2); rho = 0: 2/3."""
    rho, M, average = _check_learning(rho, M, average, "supervised")
    if average == "gaussian":
        return 2.0 / (3.0 * (1.0 + rho) ** 2)
    c, p = _c_atoms(rho, M, average)
    return 1.0 - float(p @ c ** 4) / (3.0 * (1.0 + rho) ** 2)


def _learning_one(K, d, T, rho, M, average):
    ev, fe, mo = _learning_backend(K, np.array([d]), np.array([T]), rho, M, average)(np.zeros(1, dtype=int))
    return ev, fe, mo


def learning_pure_state(d, T, *, rho, M=None, average="gaussian"):
    """Pure state n = (n, 0, ..): largest root of n = E[y tanh(beta n y)]/(1+rho) (0 for T >= 1-d), its
    archetype overlap m and the transverse eigenvalue lambda_perp = 1 - beta (1-d) E[sech^2(beta n y)]
    (A/(1+rho) on the pure state; K independent). Returns (n, m, lambda_perp)."""
    d, T = _check_d(d), _check_T(T)
    rho, M, average = _check_learning(rho, M, average, "supervised")
    ev1, _, mo1 = _learning_one(1, d, T, rho, M, average)
    ev2, _, _ = _learning_one(2, d, T, rho, M, average)
    z = np.zeros(1, dtype=int)

    def gfun(x):
        return ev1(np.array([[x]]), z, False)[0][0, 0] - x
    lo, hi = 1e-12 * (1 - d), (1 - d) / math.sqrt(1 + rho) + 1e-12
    n = brentq(gfun, lo, hi, xtol=1e-15, rtol=1e-15) if T < 1 - d and gfun(lo) > 0 else 0.0
    A = ev2(np.array([[n, 0.0]]), z, True)[1][0]
    return n, float(mo1(np.array([[n]]))[0, 0]), float(A[1, 1])


def learning_symmetric_state(K, d, T, *, rho, M=None, average="gaussian"):
    """Symmetric K-mixture n = a (1,..,1) of the learning equations: (a, archetype overlap, eigenvalues of
    A/(1+rho) ascending)."""
    K, d, T = _check_K(K), _check_d(d), _check_T(T)
    rho, M, average = _check_learning(rho, M, average, "supervised")
    ev, _, mo = _learning_one(K, d, T, rho, M, average)
    z = np.zeros(1, dtype=int)
    ones = np.ones((1, K))

    def gfun(x):
        return ev(x * ones, z, False)[0][0, 0] - x
    lo, hi = 1e-9 * (1 - d), (1 - d) / math.sqrt(1 + rho) + 1e-12
    a = brentq(gfun, lo, hi, xtol=1e-15, rtol=1e-15) if T < 1 - d and gfun(lo) > 0 else 0.0
    A = ev(a * ones, z, True)[1][0]
    return a, float(mo(a * ones)[0, 0]), np.linalg.eigvalsh(A)


def learning_pure_edge(d, *, rho, M=None, average="gaussian"):
    """T_p(d, rho): lower stability edge of the pure state (lambda_perp = 0) for d < d_mc(rho); NaN for
    d >= d_mc(rho) (pure unstable just below T_c) or where no edge is found. rho = 0: :func:`pure_edge`;
    d = 0: 0. lambda_perp = 1 - beta(1-d)(d + (1-d) E_c sech^2(beta n c)), so any edge lies at T >= d(1-d):
    the scan goes down to d(1-d)/10."""
    d = _check_d(d)
    rho, M, average = _check_learning(rho, M, average, "supervised")
    if d == 0.0:
        return 0.0
    if d >= landau_dilution(rho, M=M, average=average):
        return float("nan")
    T_lo = 0.1 * d * (1.0 - d)
    roots, signs = _crossings(lambda t: learning_pure_state(d, t, rho=rho, M=M, average=average)[2], 1.0 - d,
                              n=120, u_min=1e-8, T_lo=T_lo, xtol=min(1e-10, 1e-8 * T_lo))
    up = [r for r, s in zip(roots, signs) if s > 0]
    return float(max(up)) if up else float("nan")


def learning_symmetric_edges(K, d, *, rho, M=None, average="gaussian"):
    """Stability interval(s) (T_low, T_high) of the symmetric K-mixture of the learning equations."""
    K, d = _check_K(K), _check_d(d)
    if K < 2:
        raise ParameterError("K", K, "K >= 2 for a symmetric mixture")
    rho, M, average = _check_learning(rho, M, average, "supervised")
    Tc = 1.0 - d
    def fun(t):
        return learning_symmetric_state(K, d, t, rho=rho, M=M, average=average)[2][0]
    roots, signs = _crossings(fun, Tc, n=100, u_min=1e-6)
    first = fun(Tc * (1 - 1e-6))
    out, hi = [], (Tc if first > 0 else None)
    for r, s in zip(roots, signs):
        if s > 0 and hi is not None:
            out.append((r, hi))
            hi = None
        elif s < 0:
            hi = r
    if hi is not None:
        out.append((0.0, hi))
    return out


_BRANCH = (_CODE["hierarchical"], _CODE["mixture_hierarchical"])


def learning_cascade_temperatures(K, d, *, rho, M=None, average="gaussian", with_states=False):
    """Hierarchical cascade of the learning equations at (d, rho): [T_2, .., T_K], T_k the temperature below
    which pattern k switches on along the (k-1)-pattern hierarchical branch n = (n_1..n_{k-1}, 0..):

        lambda_k(T) = 1 - beta (1-d) E_{xi,c}[sech^2(beta sum_{j<k} n_j xi^j c^j)] = 0

    (the diagonal entry of A/(1+rho) along a pattern absent from the state; y_k = xi^k c^k is independent of the
    field and E y_k^2 = (1-d)(1+rho)). T_2 = T_p(d, rho) (:func:`learning_pure_edge`). Branch k-1 is followed
    downwards from its birth at T_{k-1} (a pitchfork off the (k-2)-pattern state), the branch that carries the
    hierarchy also where the noisy amplitudes make the low-T landscape multi-valley: continuation on
    T = T_{k-1} (1 - u), u in [1e-4, 0.999] (99 points, geometric up to u = 0.1), brentq (xtol 1e-10) on the
    highest + -> - change of lambda_k. NaN from the first level whose branch ends (e.g. merges into a symmetric
    mixture, near d_mc(rho)) before pattern k appears. rho = 0: the storage :func:`cascade_temperature`.
    ``with_states``: also return the branch states n (raw, pattern order) at each T_k, k = 2..K."""
    K, d = _check_K(K), _check_d(d)
    rho, M, average = _check_learning(rho, M, average, "supervised")
    temps, states = [], []
    if K < 2:
        return (np.array(temps), states) if with_states else np.array(temps)
    T_hi = learning_pure_edge(d, rho=rho, M=M, average=average)
    state = None
    if np.isfinite(T_hi) and T_hi > 0:
        state = np.array([learning_pure_state(d, T_hi, rho=rho, M=M, average=average)[0]])
    temps.append(T_hi)
    states.append(state)
    dd, z = np.array([d]), np.zeros(1, dtype=int)
    for k in range(3, K + 1):
        if state is None or state[0] <= M_MIN:
            temps.append(float("nan"))
            states.append(None)
            state = None
            continue
        kk = k - 1
        Tbuf = np.array([T_hi])                      # backends read beta = 1/Tbuf[0] when made
        make_kk = _learning_backend(kk, dd, Tbuf, rho, M, average)
        make_k = _learning_backend(k, dd, Tbuf, rho, M, average)

        def branch(t, x0, n_pre=5, kk=kk, Tbuf=Tbuf, make_kk=make_kk, make_k=make_k):
            """(lambda_k, n) on the (k-1)-pattern branch at T = t, solved from x0, retried with the newest
            amplitude x0[-1] enlarged where Newton falls back onto the (k-2)-pattern saddle; NaN off the branch."""
            Tbuf[0] = t
            ev = make_kk(z)[0]
            for grow in (1.0, 1.5, 3.0, 10.0):
                start = np.array(x0, dtype=np.float64)
                start[-1] *= grow
                x, res, _ = _solve_batch(start[None], None, None, n_pre=n_pre, ev=ev)
                x = x[0]
                a = _amplitudes(x)
                if res[0] <= TOL_CONV and a[-1] > M_MIN and classify(a, kk) in _BRANCH:
                    A = make_k(z)[0](np.append(x, 0.0)[None], z, True)[1][0]
                    return float(A[-1, -1]), x
            return float("nan"), x

        # T = T_{k-1} (1 - u): geometric in u near the pitchfork (new amplitude ~ sqrt(u)), then linear
        Ts = T_hi * (1.0 - np.concatenate([np.geomspace(1e-4, 0.1, 20), np.linspace(0.1, 0.999, 80)[1:]]))
        # birth of the branch just below T_{k-1}: the (k-2)-pattern state plus a kick along pattern k-1,
        # the smallest converged new amplitude (kicks that fall back onto the saddle are discarded)
        born = [branch(Ts[0], np.append(state, a * (1 - d)), n_pre=30) for a in (1e-3, 1e-2, 0.03, 0.1, 0.3)]
        born = [b for b in born if np.isfinite(b[0])]
        root, x_root = float("nan"), None
        if born:
            lam_prev, x_prev = min(born, key=lambda b: abs(b[1][-1]))
            for i in range(1, Ts.size):
                lam_i, x_i = branch(Ts[i], x_prev)
                if not np.isfinite(lam_i):
                    break
                if lam_prev > 0 >= lam_i:
                    x_up = x_prev
                    root = float(brentq(lambda t, x_up=x_up: branch(t, x_up)[0], Ts[i], Ts[i - 1],
                                        xtol=1e-10, rtol=1e-12))
                    x_root = branch(root, x_up)[1]
                    break
                lam_prev, x_prev = lam_i, x_i
        temps.append(root)
        states.append(x_root)
        state, T_hi = x_root, root
    return (np.array(temps), states) if with_states else np.array(temps)


def learning_cascade_temperature(k, d, *, rho, M=None, average="gaussian"):
    """T_k(d, rho), k >= 2: onset of pattern k on the hierarchical branch of the learning equations
    (:func:`learning_cascade_temperatures`); T_2 = T_p(d, rho)."""
    k = check_integer("k", k, low=2, high=K_MAX)
    return float(learning_cascade_temperatures(k, d, rho=rho, M=M, average=average)[-1])


LEARNING_LINES = ("paramagnetic", "pure_edge", "symmetric_edge", "symmetric_upper_edge",
                  *(f"cascade_{k}" for k in range(3, K_MAX + 1)), "multicritical")


def learning_boundaries(K, *, plane=("d", "T"), fixed=None, points=31, span=None, M=None,
                        average="gaussian") -> dict:
    """Lines of the learning diagrams (1/(N r^2 (1+rho)) normalisation; supervised = unsupervised):

    - plane ("d", "T") at fixed rho: "paramagnetic" T_c = 1 - d, "pure_edge" T_p(d, rho) for d < d_mc(rho),
      "symmetric_edge" (lower edge of the symmetric K-mixture, K >= 2), "symmetric_upper_edge" (its upper
      edge where below T_c: the pocket below d_mc), "cascade_k" (k = 3..K: onset T_k(d, rho) of pattern k on
      the hierarchical branch, :func:`learning_cascade_temperatures`, for 0.01 <= d <= min(0.6, d_mc); points
      where the branch merges into a symmetric mixture before pattern k appears are left out),
      "multicritical" (d_mc(rho), 1 - d_mc). At rho = 0 these are the storage lines of :func:`boundaries`.
    - plane ("rho", "T") at fixed d: the same lines against rho (cascade_k where d < d_mc(rho)); "multicritical"
      where d = d_mc(rho), i.e. (rho_mc, 1 - d) (Gaussian: rho_mc = sqrt(2/(3d)) - 1).
    - plane ("d", "rho") at fixed T: "paramagnetic" d = 1 - T; "multicritical" the Landau line d_mc(rho)
      (its meaning: the pure/symmetric choice just below T_c); "pure_edge" the d where T_p(d, rho) = T.
    ``fixed`` (required, no other keys): {"rho": value} in ("d", "T"), {"d": value} in ("rho", "T"),
    {"T": value} or {"T": value, "rho_max": value} (default 1) in ("d", "rho"). ``span``: range (lo, hi) of
    the first plane axis, 0 <= lo <= hi (< 1 for d); default d in [0, 0.98], rho in [0, 1]; in ("d", "rho") the
    rho range is fixed["rho_max"] and span must be None.
    """
    K = _check_K(K)
    points = check_integer("points", points, low=2)
    planes = {("d", "T"): ({"rho"}, set()), ("rho", "T"): ({"d"}, set()), ("d", "rho"): ({"T"}, {"rho_max"})}
    plane = tuple(plane) if isinstance(plane, (tuple, list)) else plane
    if plane not in planes:
        raise ParameterError("plane", plane, "('d', 'T'), ('rho', 'T') or ('d', 'rho')")
    need, optional = planes[plane]
    fixed = {} if fixed is None else fixed
    if not isinstance(fixed, dict) or not need <= set(fixed) <= need | optional:
        allowed = " and ".join(f"'{k}'" for k in sorted(need)) + (
            "".join(f" (optional '{k}')" for k in sorted(optional)))
        raise ParameterError("fixed", fixed, f"a dict with key {allowed} in the plane {plane}")
    if plane == ("d", "rho") and span is not None:
        raise ParameterError("span", span, "None in the ('d', 'rho') plane (the rho range is fixed['rho_max'])")
    lo, hi = check_span(span, high=1.0 if plane[0] == "d" else None) if span is not None else (
        (0.0, 0.98) if plane[0] == "d" else (0.0, 1.0))

    def check_rhos(rhos, Kb):
        """M, average and every rho (and the binomial atom count at Kb patterns) before any solve."""
        for x in rhos:
            _check_learning(x, M, average, "supervised")
            if average == "binomial" and x > 0:
                _check_binomial_atoms(Kb, float(x), M)
        return rhos
    kw = {"M": M, "average": average}
    out = {}
    if plane == ("d", "T"):
        rho = check_real("fixed['rho']", fixed["rho"], low=0.0)
        check_rhos([rho], K)
        dg = np.linspace(lo, hi, points)
        out["paramagnetic"] = {"d": dg, "T": 1.0 - dg}
        dmc = landau_dilution(rho, **kw)
        out["multicritical"] = {"d": np.array([dmc]), "T": np.array([1.0 - dmc])}
        if K >= 2:
            dp = np.linspace(0.0, dmc, points)[:-1]
            Tp = np.array([learning_pure_edge(x, rho=rho, **kw) for x in dp])
            good = np.isfinite(Tp)
            out["pure_edge"] = {"d": np.append(dp[good], dmc), "T": np.append(Tp[good], 1 - dmc)}
            ds = np.linspace(max(0.5 * dmc, lo), 0.97, points)
            sd, sT, ud, uT = [], [], [], []
            for x in ds:
                for tl, th in learning_symmetric_edges(K, x, rho=rho, **kw):
                    if tl > 0:          # (0, T_high): stable down to T -> 0, no lower edge
                        sd.append(x)
                        sT.append(tl)
                    if th < 1.0 - x - 1e-9:
                        ud.append(x)
                        uT.append(th)
            out["symmetric_edge"] = {"d": np.array(sd), "T": np.array(sT)}
            out["symmetric_upper_edge"] = {"d": np.array(ud), "T": np.array(uT)}
        if K >= 3:
            dc = np.linspace(0.01, min(0.6, dmc), points)
            Tk = np.array([learning_cascade_temperatures(K, x, rho=rho, **kw)[1:] for x in dc])
            for k in range(3, K + 1):
                good = np.isfinite(Tk[:, k - 3])
                out[f"cascade_{k}"] = {"d": dc[good], "T": Tk[good, k - 3]}
        return out
    if plane == ("rho", "T"):
        d = check_real("fixed['d']", fixed["d"], low=0.0, high=1.0, high_open=True)
        rg = check_rhos(np.linspace(lo, hi, points), K)
        out["paramagnetic"] = {"rho": rg, "T": np.full(points, 1.0 - d)}
        dm = np.array([landau_dilution(x, **kw) for x in rg])
        inside = d < dm
        if K >= 2:
            Tp = np.array([learning_pure_edge(d, rho=x, **kw) if ok else np.nan for x, ok in zip(rg, inside)])
            good = np.isfinite(Tp)
            out["pure_edge"] = {"rho": rg[good], "T": Tp[good]}
            sr, sT = [], []
            for x in rg:
                for tl, _ in learning_symmetric_edges(K, d, rho=x, **kw):
                    if tl > 0:
                        sr.append(x)
                        sT.append(tl)
            out["symmetric_edge"] = {"rho": np.array(sr), "T": np.array(sT)}
        if K >= 3:
            Tk = np.array([learning_cascade_temperatures(K, d, rho=x, **kw)[1:] if ok else np.full(K - 2, np.nan)
                           for x, ok in zip(rg, inside)])
            for k in range(3, K + 1):
                good = np.isfinite(Tk[:, k - 3])
                out[f"cascade_{k}"] = {"rho": rg[good], "T": Tk[good, k - 3]}
        sw = np.nonzero(inside[:-1] != inside[1:])[0]
        rmc = [brentq(lambda x: landau_dilution(x, **kw) - d, rg[i], rg[i + 1]) for i in sw]
        out["multicritical"] = {"rho": np.array(rmc), "T": np.full(len(rmc), 1.0 - d)}
        if K >= 2 and len(rmc) == 1:    # the pure edge ends on T_c at the multicritical rho
            order = np.argsort(np.append(out["pure_edge"]["rho"], rmc[0]))
            out["pure_edge"] = {"rho": np.append(out["pure_edge"]["rho"], rmc[0])[order],
                                "T": np.append(out["pure_edge"]["T"], 1.0 - d)[order]}
        return out
    if plane == ("d", "rho"):
        T = check_real("fixed['T']", fixed["T"], low=0.0, low_open=True)
        rho_max = check_real("fixed['rho_max']", fixed.get("rho_max", 1.0), low=0.0, low_open=True)
        rg = check_rhos(np.linspace(0.0, rho_max, points), min(K, 2))
        if T < 1:
            out["paramagnetic"] = {"d": np.full(points, 1.0 - T), "rho": rg}
        out["multicritical"] = {"d": np.array([landau_dilution(x, **kw) for x in rg]), "rho": rg}
        if K >= 2:      # at fixed T: the d where lambda_perp(d, T, rho) = 0 on the pure state
            pd, pr = [], []
            for x in rg:
                hi_d = min(landau_dilution(x, **kw), 1.0 - T) * (1 - 1e-9)
                def lam(y, x=x):
                    return learning_pure_state(y, T, rho=x, **kw)[2]
                dg = np.linspace(1e-6, hi_d, 24)
                v = np.array([lam(y) for y in dg])
                for i in range(dg.size - 1):
                    if v[i] * v[i + 1] < 0:
                        pd.append(brentq(lam, dg[i], dg[i + 1], xtol=1e-10))
                        pr.append(x)
            out["pure_edge"] = {"d": np.array(pd), "rho": np.array(pr)}
    return out
