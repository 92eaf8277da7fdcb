"""Numba samplers for the binary LSE DAM and the polynomial DAM (montecarlo.md 2.5, 2.6; modern.md 6).

Per chain: spins int8 (N,), integer overlaps S_mu = xi^mu . sigma (int32 for LSE, int64 for the
polynomial DAM). LSE: float64 L = ln sum_mu e^{lambda S_mu} and weights w_mu = e^{lambda S_mu - L} are
recomputed from scratch from S after every accepted flip (so at least every sweep); the
disagreeing softmax mass D_i = sum_{xi_i^mu != sigma_i} w_mu and the agreeing mass A_i are summed
directly, DeltaE_i = -2 - (1/lambda) ln[D_i + e^{-4 lambda} A_i]. Polynomial: exact int64 numerators
sum_mu [F(S_mu - 2 sigma_i xi_i^mu) - F(S_mu)] while N^n < 2^63.

Chains run in parallel (prange); each uses its own xoshiro256** stream from
SeedSequence(seed, point, tag=0, chain), so results do not depend on the thread count. The retrieval
drivers (lse_retrieval, finite_t_retrieval) run the chains of many disorder samples in one call, each
on its own patterns (a stack (D, N, K); as many samples as max_bytes holds).
``backend="gpu"`` runs the same chains with montecarlo.gpu_modern (one warp per chain, the same draws).
Dynamics codes: 0 heat bath, 1 Metropolis, 2 T = 0 (flip iff DeltaE < 0; ties random or frozen; the float
DeltaE, so near-ties below its rounding go either way at large lambda; the stability of xi^1 is decided
exactly, :func:`target_is_fixed_point`).
Schedules (montecarlo.kernels.draw_order): random sites, a random permutation per sweep, systematic scan.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from hopfield.modern import _binary_patterns, _flip_coefficients, exp_polynomial_signs
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from . import gpu_modern
from .gpu_modern import backend_name
from .kernels import (
    SCHED_PERMUTATION,
    SCHED_RANDOM,
    SCHED_SEQUENTIAL,
    draw_order,
    heat_bath_flip,
    metropolis_flip,
    private_copy,
    write_back,
)
from .rng import next_u64, seed_sequence, stream_states, uniform

__all__ = [
    "DYNAMICS",
    "SCHEDULES",
    "exponential_load_K",
    "finite_t_retrieval",
    "hamming_masks",
    "hamming_site_counts",
    "lse_delta_energies",
    "lse_patterns",
    "lse_point_bytes",
    "lse_retrieval",
    "lse_run",
    "noise_to_target",
    "poly_delta_numerators",
    "poly_run",
    "spherical_patterns",
    "spherical_point_bytes",
    "SPHERICAL_KERNELS",
    "cone_patterns",
    "spherical_log_bulk",
    "spherical_run",
    "stability_margin",
    "target_is_fixed_point",
]

DYNAMICS = {"heat_bath": 0, "metropolis": 1, "zero": 2}
SCHEDULES = {"random": SCHED_RANDOM, "permutation": SCHED_PERMUTATION, "systematic": SCHED_SEQUENTIAL}


# ----------------------------------------------------------------------------------------------
# shared pieces
@njit(cache=True)
def _accept(dE, beta, dyn, ties_random, s0, s1, s2, s3):
    """Heat bath (0): u (1 + e^(beta dE)) < 1; Metropolis (1): dE <= 0 or u < e^(-beta dE) (u drawn either
    way); T = 0 (2): dE < 0, ties by u < 1/2 (or frozen). The exponentials through montecarlo.kernels'
    heat_bath_flip / metropolis_flip (exact decisions, libm exp only near the threshold)."""
    if dyn == 2:
        if dE < 0.0:
            return True, s0, s1, s2, s3
        if dE == 0.0 and ties_random:
            u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
            return u < 0.5, s0, s1, s2, s3
        return False, s0, s1, s2, s3
    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    x = beta * dE
    if dyn == 0:
        return heat_bath_flip(u, x), s0, s1, s2, s3
    if x <= 0.0:
        return True, s0, s1, s2, s3
    return metropolis_flip(u, -x), s0, s1, s2, s3


# ----------------------------------------------------------------------------------------------
# LSE
@njit(cache=True)
def _lse_refresh(S, lam, w):
    """Recompute w from S from scratch; return L (max-shifted)."""
    K = S.shape[0]
    m = S[0]
    for mu in range(1, K):
        if S[mu] > m:
            m = S[mu]
    tot = 0.0
    for mu in range(K):
        e = math.exp(lam * (S[mu] - m))
        w[mu] = e
        tot += e
    inv = 1.0 / tot
    for mu in range(K):
        w[mu] *= inv
    return lam * m + math.log(tot)


@njit(cache=True)
def _lse_delta(row, si, w, lam):
    K = w.shape[0]
    D = 0.0
    A = 0.0
    for mu in range(K):
        if row[mu] != si:
            D += w[mu]
        else:
            A += w[mu]
    lD = math.log(D) if D > 0.0 else -np.inf
    lA = math.log(A) - 4.0 * lam if A > 0.0 else -np.inf
    mx = max(lD, lA)
    if mx == -np.inf:
        return np.inf
    return -2.0 - (mx + math.log(math.exp(lD - mx) + math.exp(lA - mx))) / lam


@njit(cache=True)
def _lse_chain(pat, spins, S, w, st, lam, beta, dyn, schd, ties_random, nsweeps, target,
               m_out, e_out, mx_out, y_out, acc_out):
    N, K = pat.shape
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    order = np.empty(N, np.int64)
    # overlaps from scratch at the start
    for mu in range(K):
        S[mu] = 0
    for i in range(N):
        si = spins[i]
        for mu in range(K):
            S[mu] += pat[i, mu] * si
    L = _lse_refresh(S, lam, w)
    for sweep in range(nsweeps):
        s0, s1, s2, s3 = draw_order(order, N, schd, s0, s1, s2, s3)
        nacc = 0
        for t in range(N):
            i = order[t]
            si = spins[i]
            dE = _lse_delta(pat[i], si, w, lam)
            ok, s0, s1, s2, s3 = _accept(dE, beta, dyn, ties_random, s0, s1, s2, s3)
            if ok:
                for mu in range(K):
                    S[mu] -= 2 * si * pat[i, mu]
                spins[i] = -si
                L = _lse_refresh(S, lam, w)
                nacc += 1
        # measurements
        m_out[sweep] = S[target] / N
        e_out[sweep] = -L / lam
        best = -N - 1
        y = 0.0
        for mu in range(K):
            y += w[mu] * w[mu]
            if mu != target and S[mu] > best:
                best = S[mu]
        mx_out[sweep] = best / N if K > 1 else np.nan
        y_out[sweep] = y
        acc_out[sweep] = nacc / N
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3


@njit(parallel=True, cache=True)
def _lse_chains(pat, pidx, spins, S, W, rng, lam, betas, dyn, schd, ties_random, nsweeps, target,
                m_out, e_out, mx_out, y_out, acc_out):
    """Chains c in parallel, chain c on the patterns pat[pidx[c]] of a stack (D, N, K) (disorder samples)."""
    for c in prange(spins.shape[0]):
        sp, Sc, Wc = private_copy(spins[c]), private_copy(S[c]), private_copy(W[c])   # no false sharing
        _lse_chain(pat[pidx[c]], sp, Sc, Wc, rng[c], lam, betas[c], dyn, schd, ties_random, nsweeps,
                   target, m_out[c], e_out[c], mx_out[c], y_out[c], acc_out[c])
        write_back(spins[c], sp)
        write_back(S[c], Sc)
        write_back(W[c], Wc)


@njit(cache=True)
def _lse_all_deltas(pat, spins, lam):
    N, K = pat.shape
    S = np.zeros(K, np.int32)
    for i in range(N):
        for mu in range(K):
            S[mu] += pat[i, mu] * spins[i]
    w = np.empty(K)
    _lse_refresh(S, lam, w)
    out = np.empty(N)
    for i in range(N):
        out[i] = _lse_delta(pat[i], spins[i], w, lam)
    return out


def lse_delta_energies(patterns, lam, sigma) -> np.ndarray:
    """Kernel DeltaE_i for every site of one state (compare with hopfield.modern.LSEDAM.delta_energy)."""
    pat = _binary_patterns(patterns)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    s = _check_states(sigma, pat.shape[0], 1)[0]
    return _lse_all_deltas(pat, s, lam)


# ----------------------------------------------------------------------------------------------
# polynomial
@njit(cache=True)
def _F(x, n, rect):
    if rect and x < 0:
        return np.int64(0)
    r = np.int64(1)
    for _ in range(n):
        r *= x
    return r


@njit(cache=True)
def _poly_num(row, si, S, n, rect):
    num = np.int64(0)
    for mu in range(S.shape[0]):
        a = S[mu]
        num += _F(a - 2 * si * row[mu], n, rect) - _F(a, n, rect)
    return num


@njit(cache=True)
def _poly_chain(pat, spins, S, st, n, rect, inv_scale, beta, dyn, schd, ties_random, nsweeps, target,
                m_out, num_out, acc_out):
    N, K = pat.shape
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    order = np.empty(N, np.int64)
    for mu in range(K):
        S[mu] = 0
    for i in range(N):
        for mu in range(K):
            S[mu] += pat[i, mu] * spins[i]
    for sweep in range(nsweeps):
        s0, s1, s2, s3 = draw_order(order, N, schd, s0, s1, s2, s3)
        nacc = 0
        for t in range(N):
            i = order[t]
            si = np.int64(spins[i])
            num = _poly_num(pat[i], si, S, n, rect)
            dE = -num * inv_scale
            if dyn == 2:
                dE = -float(num)  # exact sign
            ok, s0, s1, s2, s3 = _accept(dE, beta, dyn, ties_random, s0, s1, s2, s3)
            if ok:
                for mu in range(K):
                    S[mu] -= 2 * si * pat[i, mu]
                spins[i] = -si
                nacc += 1
        tot = np.int64(0)
        for mu in range(K):
            tot += _F(S[mu], n, rect)
        m_out[sweep] = S[target] / N
        num_out[sweep] = tot
        acc_out[sweep] = nacc / N
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3


@njit(parallel=True, cache=True)
def _poly_chains(pat, spins, S, rng, n, rect, inv_scale, betas, dyn, schd, ties_random, nsweeps, target,
                 m_out, num_out, acc_out):
    for c in prange(spins.shape[0]):
        sp, Sc = private_copy(spins[c]), private_copy(S[c])   # no false sharing between chains
        _poly_chain(pat, sp, Sc, rng[c], n, rect, inv_scale, betas[c], dyn, schd, ties_random,
                    nsweeps, target, m_out[c], num_out[c], acc_out[c])
        write_back(spins[c], sp)
        write_back(S[c], Sc)


@njit(cache=True)
def _poly_all_nums(pat, spins, n, rect):
    N, K = pat.shape
    S = np.zeros(K, np.int64)
    for i in range(N):
        for mu in range(K):
            S[mu] += pat[i, mu] * spins[i]
    out = np.empty(N, np.int64)
    for i in range(N):
        out[i] = _poly_num(pat[i], np.int64(spins[i]), S, n, rect)
    return out


def _poly_check(N, K, n):
    # |F| <= N^n, so sums over mu of F and of F differences stay below 2 K N^n
    if 2 * K * N ** n >= 2 ** 63:
        raise ParameterError("2 K N^n", 2 * K * N ** n,
                             "2 K N^n < 2^63 (exact int64 kernel; float path not implemented)")


def poly_delta_numerators(patterns, n, sigma, rectified=False) -> np.ndarray:
    """Kernel numerators sum_mu [F(S_mu - 2 sigma_i xi_i^mu) - F(S_mu)] (DeltaE_i = -num / (2 N^(n-1)))."""
    pat = _binary_patterns(patterns)
    n = check_integer("n", n, low=2, high=30)
    _poly_check(pat.shape[0], pat.shape[1], n)
    s = _check_states(sigma, pat.shape[0], 1)[0]
    return _poly_all_nums(pat, s, n, bool(rectified))


# ----------------------------------------------------------------------------------------------
# drivers
MAX_PATTERN_BYTES = 2 ** 31


def exponential_load_K(N, alpha, max_bytes=MAX_PATTERN_BYTES) -> int:
    """K = round(e^{alpha N}) with the size guard: the int8 pattern array (N K bytes) must fit max_bytes."""
    N = check_integer("N", N, low=1)
    alpha = check_real("alpha", alpha, low=0.0)
    max_bytes = check_integer("max_bytes", max_bytes, low=1)
    logK = alpha * N
    if logK + math.log(N) > math.log(max_bytes):
        raise ParameterError("alpha", alpha, f"alpha N + ln N <= ln({max_bytes}) (int8 patterns N e^(alpha N) bytes; "
                             f"here {N * math.exp(logK):.3g} bytes)")
    return max(1, int(round(math.exp(logK))))


def _check_states(spins0, N, chains):
    s = np.asarray(spins0)
    if s.ndim == 1:
        s = np.broadcast_to(s, (chains, s.shape[0]))
    if s.shape != (chains, N):
        raise ParameterError("spins0.shape", s.shape, f"({N},) or ({chains}, {N})")
    if not np.isin(s, (-1, 1)).all():
        raise ParameterError("spins0", s[~np.isin(s, (-1, 1))].ravel()[0], "entries in {-1, +1}")
    return np.ascontiguousarray(s, dtype=np.int8).copy()


def _common(T, chains, sweeps, dynamics, schedule, ties, target, K):
    chains = check_integer("chains", chains, low=1)
    sweeps = check_integer("sweeps", sweeps, low=1)
    dyn = DYNAMICS[check_choice("dynamics", dynamics, tuple(DYNAMICS))]
    schd = SCHEDULES[check_choice("schedule", schedule, tuple(SCHEDULES))]
    ties = check_choice("ties", ties, ("random", "frozen"))
    target = check_integer("target", target, low=0, high=K - 1)
    Ts = np.atleast_1d(np.asarray(T, dtype=object))
    if Ts.size == 1:
        Ts = np.repeat(Ts, chains)
    if Ts.size != chains:
        raise ParameterError("T", list(Ts), f"a scalar or {chains} temperatures")
    if dyn == 2:
        for t in Ts:
            check_real("T", t, low=0.0)
        betas = np.full(chains, np.inf)
    else:
        betas = np.array([1.0 / check_real("T", t, low=0.0, low_open=True) for t in Ts])
    return chains, sweeps, dyn, schd, ties == "random", target, betas


def lse_run(patterns, lam, T, spins0, *, sweeps, chains=1, dynamics="heat_bath", schedule="random",
            ties="random", seed=0, point=0, target=0, backend="numba"):
    """Run ``chains`` independent LSE chains (shared patterns (N, K), T scalar or one per chain).

    ``backend="gpu"``: montecarlo.gpu_modern (one warp per chain; the same draws, DeltaE to rounding).

    Returns a dict: series m (own-pattern overlap S_target/N), E (energy, extensive), max_other
    (max_{mu != target} S_mu/N), Y (participation ratio), acceptance, each of shape (chains, sweeps),
    one value per sweep; final spins (chains, N) int8 and overlaps S (chains, K) int32; and labels.
    """
    backend = backend_name(backend)
    pat = _binary_patterns(patterns)
    N, K = pat.shape
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    chains, sweeps, dyn, schd, tr, target, betas = _common(T, chains, sweeps, dynamics, schedule, ties,
                                                           target, K)
    if N >= 2 ** 31:
        raise ParameterError("N", N, "N < 2^31")
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    spins = _check_states(spins0, N, chains)
    rng = stream_states(seed, point, range(chains), tag=0)
    out = _lse_batch(pat[None], np.zeros(chains, np.int64), spins, rng, lam, betas, dyn, schd, tr, sweeps,
                     target, backend)
    out.update(spins=spins, dynamics=dynamics, schedule=schedule, ties=ties, seed=seed, point=point,
               lam=lam, T=T, target=target, initial="given", backend=backend)
    return out


def _lse_batch(pats, pidx, spins, rng, lam, betas, dyn, schd, ties_random, sweeps, target, backend):
    """Chains c on the patterns pats[pidx[c]] of a stack (D, N, K) int8, in one parallel call (one warp per
    chain on the GPU); spins (C, N) and rng (C, 4) advance in place. Returns the records of lse_run and S."""
    C, K = spins.shape[0], pats.shape[2]
    S = np.zeros((C, K), np.int32)
    W = np.zeros((C, K), np.float64)
    out = {k: np.empty((C, sweeps)) for k in ("m", "E", "max_other", "Y", "acceptance")}
    run = gpu_modern.lse_chains if backend == "gpu" else _lse_chains
    run(pats, np.ascontiguousarray(pidx, np.int64), spins, S, W, rng, lam, betas, dyn, schd, ties_random, sweeps,
        target, out["m"], out["E"], out["max_other"], out["Y"], out["acceptance"])
    out["S"] = S
    return out


def _sample_batches(samples, need, max_bytes):
    """Disorder samples in groups of at most max_bytes // need (at least 1): their chains run in one call."""
    size = max(1, min(samples, max_bytes // max(1, need)))
    return [range(g, min(samples, g + size)) for g in range(0, samples, size)]


def _chain_stream(seed, point, d, call_point):
    """The stream of the chain of disorder sample d (its own seed, as lse_run(seed=chain seed, point=call_point))."""
    chain_seed = int(seed_sequence(seed, point, PATTERN_TAG + 1, d).generate_state(1)[0])
    return stream_states(chain_seed, call_point, range(1), tag=0)[0]


def poly_run(patterns, n, T, spins0, *, sweeps, rectified=False, chains=1, dynamics="heat_bath",
             schedule="random", ties="random", seed=0, point=0, target=0, backend="numba"):
    """Run polynomial-DAM chains, H_n = -(1/(2 N^(n-1))) sum_mu F(S_mu), with exact integer DeltaE.

    Returns a dict: m (S_target/N), E (energy), acceptance, shape (chains, sweeps); final spins and S.
    ``backend="gpu"``: montecarlo.gpu_modern (integer arithmetic: the CPU's trajectories up to exp in the
    acceptance).
    """
    backend = backend_name(backend)
    pat = _binary_patterns(patterns)
    N, K = pat.shape
    n = check_integer("n", n, low=2, high=30)
    _poly_check(N, K, n)
    if not isinstance(rectified, (bool, np.bool_)):
        raise ParameterError("rectified", rectified, "True or False")
    chains, sweeps, dyn, schd, tr, target, betas = _common(T, chains, sweeps, dynamics, schedule, ties,
                                                           target, K)
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    spins = _check_states(spins0, N, chains)
    S = np.zeros((chains, K), np.int64)
    rng = stream_states(seed, point, range(chains), tag=0)
    m = np.empty((chains, sweeps))
    num = np.empty((chains, sweeps), np.int64)
    acc = np.empty((chains, sweeps))
    scale = 2.0 * float(N) ** (n - 1)
    run = gpu_modern.poly_chains if backend == "gpu" else _poly_chains
    run(pat, spins, S, rng, n, bool(rectified), 1.0 / scale, betas, dyn, schd, tr, sweeps, target, m, num, acc)
    return dict(m=m, E=-num / scale, acceptance=acc, spins=spins, S=S, dynamics=dynamics, schedule=schedule,
                ties=ties, seed=seed, point=point, n=n, rectified=bool(rectified), T=T, target=target,
                backend=backend)


# ----------------------------------------------------------------------------------------------
# spherical LSE and LSR models, Metropolis on the sphere |x|^2 = N (montecarlo.md 2.7, modern.md 4.1)
SPHERICAL_KERNELS = {"lse": 0, "lsr": 1}   # the energy's kernel: exp(-beta_net d^2/2), or Epanechnikov


@njit(cache=True)
def _normals(s0, s1, s2, s3):
    """Two independent standard normals from two uniforms (Box-Muller: r cos(theta), r sin(theta))."""
    u1, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    u2, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    r = math.sqrt(-2.0 * math.log(1.0 - u1))
    t = 2.0 * math.pi * u2
    return r * math.cos(t), r * math.sin(t), s0, s1, s2, s3


@njit(cache=True)
def _sph_energy(X, x, lam, kern, eps, log_bulk, phi):
    """phi[mu] = xi^mu . x / N and the energy: LSE (kern 0) -(1/lambda) ln [C + sum_mu exp(lambda N phi^mu)] with
    ln C = log_bulk (-inf: no constant; the cone/bulk approximations); LSR (kern 1)
    -(1/lambda) ln sum_mu max[eps, 1 - b (1 - phi^mu)], b = N lambda (lambda = beta_net)."""
    N, K = X.shape
    for mu in range(K):
        phi[mu] = 0.0
    for i in range(N):
        xi = x[i]
        for mu in range(K):
            phi[mu] += X[i, mu] * xi
    for mu in range(K):
        phi[mu] /= N
    if kern == 1:
        b = lam * N
        tot = 0.0
        for mu in range(K):
            tot += max(eps, 1.0 - b * (1.0 - phi[mu]))
        return -math.log(tot) / lam
    m = log_bulk
    for mu in range(K):
        if lam * N * phi[mu] > m:
            m = lam * N * phi[mu]
    tot = math.exp(log_bulk - m)
    for mu in range(K):
        tot += math.exp(lam * N * phi[mu] - m)
    return -(m + math.log(tot)) / lam


@njit(cache=True)
def _sph_chain(X, x, st, lam, kern, eps, log_bulk, beta, step, nsteps, every, target, phi_out, e_out, acc_out):
    N, K = X.shape
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    phi = np.empty(K)
    phin = np.empty(K)
    y = np.empty(N)
    rootN = math.sqrt(N)
    E = _sph_energy(X, x, lam, kern, eps, log_bulk, phi)
    nacc = 0
    k = 0
    for t in range(nsteps):
        nrm = 0.0
        for i in range(0, N, 2):   # normals in pairs (the second of the last pair unused for odd N)
            g0, g1, s0, s1, s2, s3 = _normals(s0, s1, s2, s3)
            y[i] = x[i] + step * g0
            nrm += y[i] * y[i]
            if i + 1 < N:
                y[i + 1] = x[i + 1] + step * g1
                nrm += y[i + 1] * y[i + 1]
        f = rootN / math.sqrt(nrm)
        for i in range(N):
            y[i] *= f
        En = _sph_energy(X, y, lam, kern, eps, log_bulk, phin)
        dE = En - E
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        if dE <= 0.0 or u < math.exp(-beta * dE):
            for i in range(N):
                x[i] = y[i]
            for mu in range(K):
                phi[mu] = phin[mu]
            E = En
            nacc += 1
        if (t + 1) % every == 0:
            phi_out[k] = phi[target]
            e_out[k] = E
            acc_out[k] = nacc / every
            nacc = 0
            k += 1
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3


@njit(parallel=True, cache=True)
def _sph_chains(X, pidx, xs, rng, lam, kern, eps, log_bulk, betas, steps, nsteps, every, target, phi_out, e_out, acc_out):
    """Chains c in parallel, chain c on the patterns X[pidx[c]] of a stack (D, N, K) (disorder samples)."""
    for c in prange(xs.shape[0]):
        x = private_copy(xs[c])   # no false sharing between chains
        _sph_chain(X[pidx[c]], x, rng[c], lam, kern, eps, log_bulk[c], betas[c], steps[c], nsteps, every, target, phi_out[c],
                   e_out[c], acc_out[c])
        write_back(xs[c], x)


def spherical_run(patterns, lam, T, x0, *, steps, every=None, chains=1, step_size=None, seed=0, point=0,
                  target=0, kernel="lse", eps=1e-10, log_bulk=None, backend="numba"):
    """Spherical LSE model E = -(1/lambda) ln sum_mu exp(lambda N phi^mu), Metropolis on |x|^2 = N;
    ``kernel="lsr"``: Petrova et al.'s LSR (Epanechnikov) model E = -(1/lambda) ln sum_mu max[eps, 1 - b(1 - phi^mu)]
    with lambda = beta_net and b = N lambda (hopfield.modern.SphericalLSR; per neuron, one retrieved term gives
    u_LSR = -(1/b) ln[1 - b(1 - phi)]). Both: phi^mu = x . xi^mu / N, Boltzmann weight exp(-E / T).
    ``log_bulk`` (LSE only): ln C of a constant C added to the sum, standing for patterns not stored (the cone and
    bulk approximations of montecarlo.md 8, labelled as such: see :func:`cone_patterns`).

    Proposal x' = sqrt(N) (x + s g)/|x + s g|, g ~ N(0, I), s = 2.4 T / sqrt(N) by default (symmetric).
    Patterns (N, K) real (rescaled by the caller to |xi|^2 = N); x0 is projected onto the sphere.
    ``steps`` proposals per chain, one record every ``every`` proposals (default N). Returns a dict
    with phi (target alignment), E, acceptance of shape (chains, steps // every) and the final x.
    ``backend="gpu"``: montecarlo.gpu_modern (one warp per chain; the same draws, E to rounding).
    """
    backend = backend_name(backend)
    X = np.asarray(patterns, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ParameterError("patterns.shape", X.shape, "a finite 2-D real array (N, K)")
    N, K = X.shape
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    kern = SPHERICAL_KERNELS[check_choice("kernel", kernel, tuple(SPHERICAL_KERNELS))]
    eps = check_real("eps", eps, low=0.0, high=1.0, low_open=True, high_open=True)
    if log_bulk is not None:
        if kern != SPHERICAL_KERNELS["lse"]:
            raise ParameterError("log_bulk", log_bulk, "None for kernel 'lsr' (a bulk constant is an LSE approximation)")
        log_bulk = check_real("log_bulk", log_bulk)
    chains = check_integer("chains", chains, low=1)
    steps = check_integer("steps", steps, low=1)
    every = check_integer("every", N if every is None else every, low=1, high=steps)
    target = check_integer("target", target, low=0, high=K - 1)
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    Ts = np.atleast_1d(np.asarray(T, dtype=object))
    if Ts.size == 1:
        Ts = np.repeat(Ts, chains)
    if Ts.size != chains:
        raise ParameterError("T", list(Ts), f"a scalar or {chains} temperatures")
    Tv = np.array([check_real("T", t, low=0.0, low_open=True) for t in Ts])
    ss = None if step_size is None else np.full(chains, check_real("step_size", step_size, low=0.0, low_open=True))
    x = np.asarray(x0, dtype=np.float64)
    if x.ndim == 1:
        x = np.broadcast_to(x, (chains, N))
    if x.shape != (chains, N) or not np.isfinite(x).all() or (np.linalg.norm(x, axis=1) == 0).any():
        raise ParameterError("x0.shape", x.shape, f"nonzero finite ({N},) or ({chains}, {N})")
    rng = stream_states(seed, point, range(chains), tag=0)
    out = _sph_batch(np.ascontiguousarray(X)[None], np.zeros(chains, np.int64), x, rng, lam, Tv, ss, steps, every,
                     target, backend, kern, eps, log_bulk)
    out.update(lam=lam, T=T, seed=seed, point=point, target=target, kernel=kernel, eps=eps, log_bulk=log_bulk,
               backend=backend)
    return out


def _sph_batch(Xs, pidx, x0, rng, lam, Tv, ss, steps, every, target, backend, kern=0, eps=1e-10, log_bulk=None):
    """Spherical chains c on the patterns Xs[pidx[c]] of a stack (D, N, K), started at x0[c] projected on the
    sphere, in one parallel call (one warp per chain on the GPU); step sizes ss (None: 2.4 T / sqrt N);
    kern, eps, log_bulk (None, a number, or one per chain): the energy (SPHERICAL_KERNELS, :func:`_sph_energy`).
    Returns phi, E, acceptance (C, steps // every), the final x and the step sizes."""
    N = x0.shape[1]
    ss = 2.4 * Tv / math.sqrt(N) if ss is None else ss
    xs = np.ascontiguousarray(x0 * (math.sqrt(N) / np.linalg.norm(x0, axis=1))[:, None])
    nrec = steps // every
    phi, E, acc = (np.empty((x0.shape[0], nrec)) for _ in range(3))
    run = gpu_modern.spherical_chains if backend == "gpu" else _sph_chains
    lb = np.broadcast_to(np.asarray(-np.inf if log_bulk is None else log_bulk, np.float64), (x0.shape[0],))
    run(Xs, np.ascontiguousarray(pidx, np.int64), xs, rng, lam, kern, eps, np.ascontiguousarray(lb), 1.0 / Tv, ss,
        steps, every, target, phi, E, acc)
    return dict(phi=phi, E=E, acceptance=acc, x=xs, step_size=ss)


# ----------------------------------------------------------------------------------------------
# T = 0 retrieval of the binary LSE DAM at exponential load (modern.md 6, montecarlo.md 7)
PATTERN_TAG = 3        # stream family of disorder samples (as montecarlo.api.storage_patterns)
START_TAG = 2          # stream family of initial states (corrupted starts)


def lse_point_bytes(N, K, chains=1) -> int:
    """Memory of one disorder sample of :func:`lse_retrieval`: int8 patterns and their generation
    temporary (2 N K bytes) plus overlaps and weights per chain (12 K bytes) and a reserve of 12 K bytes
    (the stability counts of xi^1 take O(N^2))."""
    return 2 * N * K + 12 * K * (chains + 1)


def _check_pattern_bytes(N, K, need, max_bytes):
    """Refuse a pattern array of ``need`` bytes above max_bytes (the drivers' guard), before allocation."""
    max_bytes = check_integer("max_bytes", max_bytes, low=1)
    if need > max_bytes:
        raise ParameterError("K", K, f"a pattern array within max_bytes = {max_bytes} bytes (N = {N}: "
                             f"K <= {max_bytes // (need // K)}; here {need} bytes)")


def lse_patterns(N, K, *, seed=0, point=0, sample=0, max_bytes=MAX_PATTERN_BYTES) -> np.ndarray:
    """Uniform +-1 patterns (N, K) int8 of disorder sample ``sample``, SeedSequence((seed, point, 3, sample));
    N K bytes, refused above ``max_bytes``."""
    N = check_integer("N", N, low=1)
    K = check_integer("K", K, low=1)
    _check_pattern_bytes(N, K, N * K, max_bytes)
    gen = np.random.default_rng(seed_sequence(seed, point, PATTERN_TAG, sample))
    X = gen.integers(0, 2, size=(N, K), dtype=np.int8)
    X *= 2
    X -= 1
    return X


def lse_retrieval(N, alpha, lam, *, samples, corruption=0.0, threshold=0.9, max_sweeps=20,
                  schedule="permutation", seed=0, point=0, max_bytes=2 ** 30, backend="numba") -> dict:
    """Zero-temperature retrieval at load K = e^{alpha N} (binary LSE DAM, one chain per disorder sample).

    Each sample draws K patterns, starts at xi^1 with round(corruption N) random spins flipped and
    runs the T = 0 dynamics (flip iff DeltaE_i < 0, ties frozen) until a sweep without flips (a
    fixed point: the default schedule visits every site once per sweep) or ``max_sweeps``. It
    succeeds when the final m = xi^1 . sigma / N >= ``threshold``. Independently, ``stable`` says
    whether xi^1 itself is a single-flip fixed point (DeltaE_i >= 0 at every site, exact signs from integer
    Hamming counts: :func:`target_is_fixed_point`; modern.md 8.1), and
    ``concentrated`` whether xi^1 holds more than half of the softmax mass at sigma = xi^1 (the one-step
    criterion of alpha_1, modern.md 3.2).
    The memory of a sample (:func:`lse_point_bytes`) is checked against ``max_bytes`` before
    anything is allocated; the samples' chains run side by side, max_bytes // that many at a time (the same
    numbers as one chain per call). Errors are binomial, sqrt(p (1 - p) / samples). ``backend``: that of
    :func:`lse_run`.
    """
    backend = backend_name(backend)
    N = check_integer("N", N, low=2)
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    samples = check_integer("samples", samples, low=1)
    corruption = check_real("corruption", corruption, low=0.0, high=0.5, high_open=True)
    threshold = check_real("threshold", threshold, low=-1.0, high=1.0)
    max_sweeps = check_integer("max_sweeps", max_sweeps, low=1)
    check_choice("schedule", schedule, tuple(SCHEDULES))
    max_bytes = check_integer("max_bytes", max_bytes, low=1)
    K = exponential_load_K(N, alpha, max_bytes=max_bytes)
    need = lse_point_bytes(N, K)
    if need > max_bytes:
        raise ParameterError("alpha", alpha, f"a load whose sample fits in {max_bytes / 2**20:.0f} MiB "
                             f"(N = {N}, K = e^(alpha N) = {K} needs {need / 2**20:.0f} MiB)")
    flips = round(corruption * N)
    m_fin, other, used, conv, stable, conc = (np.empty(samples) for _ in range(6))
    _, _, dyn, schd, _, _, _ = _common(0.0, 1, 1, "zero", schedule, "frozen", 0, K)
    # the samples' chains run side by side (as many as max_bytes holds): 2 sweeps per call, each chain until a
    # sweep without flips or max_sweeps; the numbers are those of one lse_run per sample and call
    for group in _sample_batches(samples, need, max_bytes):
        X = np.empty((len(group), N, K), np.int8)
        s = np.empty((len(group), N), np.int8)
        for j, d in enumerate(group):
            X[j] = lse_patterns(N, K, seed=seed, point=point, sample=d, max_bytes=max_bytes)
            stable[d] = float(target_is_fixed_point(_pattern_site_counts(X[j]), lam))
            conc[d] = float(_noise_to_target(X[j], lam) < 1.0)
            s[j] = X[j, :, 0]
            if flips:
                gen = np.random.default_rng(seed_sequence(seed, point, START_TAG, d))
                s[j, gen.choice(N, flips, replace=False)] *= -1
        active = np.arange(len(group))
        done = 0
        while done < max_sweeps and active.size:
            n = min(2, max_sweeps - done)
            rng = np.array([_chain_stream(seed, point, group[j], done) for j in active])
            sa = s[active]
            run = _lse_batch(X, active, sa, rng, lam, np.full(active.size, np.inf), dyn, schd, False, n, 0, backend)
            s[active] = sa
            done += n
            fixed = run["acceptance"][:, -1] == 0.0
            for k, j in enumerate(active):
                if fixed[k] or done >= max_sweeps:
                    d = group[j]
                    m_fin[d] = run["m"][k, -1]
                    other[d] = run["max_other"][k, -1]
                    used[d] = done
                    conv[d] = float(fixed[k] and schedule != "random")
            active = active[~fixed]
    ok = m_fin >= threshold

    def binom(p):
        return float(math.sqrt(p * (1 - p) / samples))

    p, q, c = float(ok.mean()), float(stable.mean()), float(conc.mean())
    return {"success": p, "success_err": binom(p), "stable": q, "stable_err": binom(q),
            "concentrated": c, "concentrated_err": binom(c),
            "m": float(m_fin.mean()), "m_err": float(m_fin.std(ddof=1) / math.sqrt(samples)) if samples > 1 else math.nan,
            "max_other": float(np.nanmean(other)), "sweeps_used": float(used.mean()), "converged": float(conv.mean()),
            "K": K, "samples": samples}


@njit(cache=True)
def _noise_to_target(pat, lam):
    """sum_{mu >= 2} e^{lambda (S_mu - N)} at sigma = xi^1 (column 0 of pat)."""
    N, K = pat.shape
    A = 0.0
    for mu in range(1, K):
        S = 0
        for i in range(N):
            S += pat[i, mu] * pat[i, 0]
        A += math.exp(lam * (S - N))
    return A


# single-flip stability of xi^1 without storing the patterns (N <= 62) -------------------------
@njit(cache=True)
def _site_counts(N, n_other, st):
    """Counts c[i, h] of non-target patterns at Hamming distance h from xi^1 that disagree at site i,
    and n[h] of all of them; gauge xi^1 = (+1, .., +1), so a pattern is a uniform N-bit mask."""
    mask = (np.uint64(1) << np.uint64(N)) - np.uint64(1)
    c = np.zeros((N, N + 1), np.int64)
    n = np.zeros(N + 1, np.int64)
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    m1, m2, m4 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), np.uint64(0x0F0F0F0F0F0F0F0F)
    for _ in range(n_other):
        x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x &= mask
        v = x - ((x >> np.uint64(1)) & m1)              # popcount (SWAR): h = number of set bits
        v = (v & m2) + ((v >> np.uint64(2)) & m2)
        v = (v + (v >> np.uint64(4))) & m4
        h = np.int64((v * np.uint64(0x0101010101010101)) >> np.uint64(56))
        n[h] += 1
        for i in range(N):
            if (x >> np.uint64(i)) & np.uint64(1):
                c[i, h] += 1
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    return c, n


@njit(cache=True)
def _masks(N, n_other, st):
    mask = (np.uint64(1) << np.uint64(N)) - np.uint64(1)
    out = np.empty(n_other, np.uint64)
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    for k in range(n_other):
        x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        out[k] = x & mask
    return out


def _mask_stream(N, K, seed, point, sample):
    N = check_integer("N", N, low=1, high=62)
    K = check_integer("K", K, low=1)
    return N, K, stream_states(seed, point, [sample], tag=PATTERN_TAG)[0]


def hamming_site_counts(N, K, *, seed=0, point=0, sample=0):
    """(c, n): for the K - 1 random non-target patterns of one disorder sample, c[i, h] counts those at
    Hamming distance h from xi^1 that disagree with it at site i, n[h] all at distance h. O(N K)
    time, O(N^2) memory; the same stream as :func:`hamming_masks`."""
    N, K, st = _mask_stream(N, K, seed, point, sample)
    return _site_counts(N, K - 1, st)


def hamming_masks(N, K, *, seed=0, point=0, sample=0) -> np.ndarray:
    """The disagreement masks (bit i set: xi_i^mu != xi_i^1) behind :func:`hamming_site_counts` (for checks)."""
    N, K, st = _mask_stream(N, K, seed, point, sample)
    return _masks(N, K - 1, st)


def noise_to_target(counts, lam) -> float:
    """A = sum_{mu >= 2} e^{lambda (S_mu - N)} = sum_h n[h] e^{-2 lambda h} at sigma = xi^1: the softmax weight of
    the noise relative to the target. The target holds more than half the mass (one Ramsauer step from
    xi^1 is dominated by xi^1, the one-step criterion behind alpha_1, modern.md 3.2) iff A < 1."""
    _, n = counts
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    return float(n @ np.exp(-2.0 * lam * np.arange(n.shape[0])))


def stability_margin(counts, lam) -> float:
    """min_i sigma_i h_i at sigma = xi^1 from :func:`hamming_site_counts`: 1 - 2 max_i D_i with the
    disagreeing softmax mass D_i = sum_h c[i, h] e^{-2 lambda h} / (1 + sum_h n[h] e^{-2 lambda h})
    (S_mu - N = -2 h; target weight 1). xi^1 is a T = 0 fixed point iff the margin >= tanh lambda; a
    diagnostic only (margin - tanh lambda is lost to rounding at lambda >~ 8): decide with
    :func:`target_is_fixed_point`."""
    c, n = counts
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    w = np.exp(-2.0 * lam * np.arange(n.shape[0]))
    D = (c @ w) / (1.0 + n @ w)
    return float(1.0 - 2.0 * D.max())


def target_is_fixed_point(counts, lam) -> bool:
    """Is xi^1 a single-flip fixed point of the T = 0 dynamics (DeltaE_i >= 0 at every site, ties stable)?

    Exact at any lambda: with x = e^{-2 lambda}, sign(DeltaE_i) = sign(sum_j (a[i, j-1] - c[i, j]) x^j), a[i, h] =
    n[h] - c[i, h] + [h = 0] the patterns at Hamming distance h agreeing with xi^1 at site i (target
    included), c[i, h] those disagreeing (hopfield.modern.LSEDAM.flip_coefficients with levels l = h);
    signs by :func:`hopfield.modern.exp_polynomial_signs`."""
    c, n = counts
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    c = np.asarray(c, np.int64)
    a = np.asarray(n, np.int64)[None, :] - c
    a[:, 0] += 1
    return bool((exp_polynomial_signs(_flip_coefficients(a, c), lam) >= 0).all())


@njit(cache=True)
def _pattern_site_counts(pat):
    """(c, n) of :func:`hamming_site_counts` from stored patterns (N, K), relative to column 0 (xi^1)."""
    N, K = pat.shape
    c = np.zeros((N, N + 1), np.int64)
    n = np.zeros(N + 1, np.int64)
    for mu in range(1, K):
        h = 0
        for i in range(N):
            if pat[i, mu] != pat[i, 0]:
                h += 1
        n[h] += 1
        for i in range(N):
            if pat[i, mu] != pat[i, 0]:
                c[i, h] += 1
    return c, n


# ----------------------------------------------------------------------------------------------
# finite-T survival of the retrieval state at exponential load (modern.md 4.2, 4.3)
def spherical_point_bytes(N, K) -> int:
    """Memory of one spherical disorder sample of :func:`finite_t_retrieval`: float64 patterns (8 N K bytes),
    the Gaussian draw they are made from (8 N K) and the chain's two overlap vectors (16 K)."""
    return 16 * N * K + 16 * K


def spherical_patterns(N, K, *, seed=0, point=0, sample=0, max_bytes=MAX_PATTERN_BYTES) -> np.ndarray:
    """Patterns (N, K) float64 uniform on the sphere |xi|^2 = N (normalised Gaussian vectors), disorder sample
    ``sample``, SeedSequence((seed, point, 3, sample)); 8 N K bytes, refused above ``max_bytes``."""
    N = check_integer("N", N, low=2)
    K = check_integer("K", K, low=1)
    _check_pattern_bytes(N, K, 8 * N * K, max_bytes)
    X = np.random.default_rng(seed_sequence(seed, point, PATTERN_TAG, sample)).standard_normal((N, K))
    X *= math.sqrt(N) / np.sqrt(np.einsum("ik,ik->k", X, X))
    return X


def spherical_log_bulk(N, alpha, lam, phi_keep=1.0) -> float:
    """ln C_bulk = alpha N + ln integral_{-1}^{phi_keep} h_N(phi) e^{lambda N phi} dphi (montecarlo.md 8): the
    annealed sum over e^{alpha N} random spherical patterns of e^{lambda N phi}, over those with overlap
    phi < phi_keep with the state; h_N(phi) = (1 - phi^2)^((N-3)/2) / B((N-1)/2, 1/2) is the exact overlap density
    of a uniform pattern. By quadrature, shifted by the integrand's maximum (at phi_keep = 1 it equals the von
    Mises-Fisher normaliser ln[Gamma(N/2) (2/kappa)^(N/2-1) I_(N/2-1)(kappa)], kappa = lambda N: tested)."""
    from scipy.integrate import quad
    from scipy.optimize import brentq
    from scipy.special import betaln
    N = check_integer("N", N, low=3)
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    phi_keep = check_real("phi_keep", phi_keep, low=-1.0, high=1.0, low_open=True)
    kappa = lam * N
    a = 0.5 * (N - 3)
    # maximum of kappa phi + a ln(1 - phi^2): kappa (1 - phi^2) = 2 a phi, clipped to the range
    top = 2 * kappa / (2 * a + math.sqrt(4 * a * a + 4 * kappa * kappa)) if a > 0 else 1.0
    top = min(top, phi_keep)

    def logf(p):
        if a == 0.0:
            return kappa * p
        return kappa * p + a * math.log1p(-p * p) if abs(p) < 1.0 else -math.inf

    shift = logf(top)
    # the integrand is concentrated (width ~ N^-1/2, or ~ 1/N at an edge): integrate where it is above e^-60 of
    # its maximum (logf is concave, so that is one interval around top)
    lo, hi = -1.0, phi_keep
    if logf(-1.0 + 1e-15) - shift < -60.0:
        lo = brentq(lambda p: logf(p) - shift + 60.0, -1.0 + 1e-15, top, xtol=1e-15)
    if top < phi_keep and logf(min(phi_keep, 1.0 - 1e-15)) - shift < -60.0:
        hi = brentq(lambda p: logf(p) - shift + 60.0, top, min(phi_keep, 1.0 - 1e-15), xtol=1e-15)
    pts = [top] if lo < top < hi else None
    val = quad(lambda p: math.exp(logf(p) - shift), lo, hi, points=pts, limit=400, epsabs=0, epsrel=1e-11)[0]
    return float(alpha * N + shift + math.log(val) - betaln(0.5 * (N - 1), 0.5))


def cone_log_tail(N, phi_keep) -> float:
    """ln Pr(phi >= phi_keep) for the overlap phi of a uniform spherical pattern ((1 + phi)/2 ~ Beta((N-1)/2,
    (N-1)/2)); -inf at phi_keep = 1."""
    from scipy.stats import beta as beta_law
    if phi_keep >= 1.0:
        return -math.inf
    a = 0.5 * (N - 1)
    return float(beta_law.logsf(0.5 * (1.0 + phi_keep), a, a))


def check_cone_memory(N, alpha, phi_keep, max_bytes):
    """Refuse (ParameterError naming phi_keep) a cone whose expected kept patterns, e^(alpha N) Pr(phi >= phi_keep)
    at 16 N bytes each, exceed max_bytes; before anything is drawn."""
    if phi_keep >= 1.0:
        return
    log_tail = cone_log_tail(N, phi_keep)
    if not math.isfinite(log_tail) or alpha * N + log_tail > math.log(max_bytes / (16.0 * N)):
        raise ParameterError("phi_keep", phi_keep, f"a cone whose expected patterns (e^(alpha N + {log_tail:.4g}) "
                             f"at N = {N}, alpha = {alpha}) fit in {max_bytes} bytes (16 N each): raise phi_keep, "
                             "or use the bulk approximation")


def cone_patterns(N, alpha, lam, phi_keep=0.4, *, seed=0, point=0, sample=0, max_bytes=MAX_PATTERN_BYTES) -> dict:
    """The cone approximation of montecarlo.md 8 (an approximation, labelled as such; [code: epolyach/DenseAM-GPU]):
    of M = e^{alpha N} random spherical patterns keep explicitly only those with overlap phi >= phi_keep with the
    target; replace the rest by the constant ln C_bulk = :func:`spherical_log_bulk` (N, alpha, lambda, phi_keep),
    to be passed to :func:`spherical_run` as ``log_bulk``. phi_keep = 1 is the bulk approximation (no pattern but
    the target). Exact in law for the kept ones: their number is Poisson with mean M Pr(phi >= phi_keep), their
    alignments are drawn from the overlap density truncated to [phi_keep, 1] ((1 + phi)/2 ~ Beta((N-1)/2,
    (N-1)/2)), and each is phi t + sqrt(1 - phi^2) u with u uniform on the sphere orthogonal to the target t.
    The bulk term is the annealed sum, independent of the state: right to leading order while the noise is
    uncondensed. Returns X (N, 1 + kept) with the target in column 0, log_bulk, kept, mean_kept."""
    from scipy.stats import beta as beta_law
    N = check_integer("N", N, low=3)
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    phi_keep = check_real("phi_keep", phi_keep, low=-1.0, high=1.0, low_open=True)
    max_bytes = check_integer("max_bytes", max_bytes, low=1)
    a = 0.5 * (N - 1)
    log_tail = cone_log_tail(N, phi_keep)
    tail = math.exp(log_tail)
    check_cone_memory(N, alpha, phi_keep, max_bytes)
    mean_kept = math.exp(alpha * N + log_tail) if phi_keep < 1.0 else 0.0
    gen = np.random.default_rng(seed_sequence(seed, point, PATTERN_TAG, sample))
    kept = int(gen.poisson(mean_kept))
    _check_pattern_bytes(N, kept + 1, 16 * N * (kept + 1), max_bytes)
    t = gen.standard_normal(N)
    t *= math.sqrt(N) / np.linalg.norm(t)
    X = np.empty((N, kept + 1))
    X[:, 0] = t
    if kept:
        phi = 2.0 * beta_law.isf(gen.random(kept) * tail, a, a) - 1.0
        U = gen.standard_normal((N, kept))
        U -= np.outer(t, t @ U) / N
        U *= math.sqrt(N) / np.linalg.norm(U, axis=0)
        X[:, 1:] = phi * t[:, None] + np.sqrt(1.0 - phi * phi) * U
    return {"X": X, "log_bulk": spherical_log_bulk(N, alpha, lam, phi_keep), "kept": kept, "mean_kept": mean_kept,
            "phi_keep": phi_keep}


def finite_t_retrieval(N, alpha, lam, T, *, ensemble="binary", samples, sweeps, threshold, dynamics="heat_bath",
                       schedule="random", seed=0, point=0, max_bytes=2 ** 30, kernel="lse", eps=1e-10,
                       approximation="full", phi_keep=0.4, backend="numba") -> dict:
    """Does the retrieval state survive ``sweeps`` sweeps at bath temperature T? (load K = e^{alpha N}).

    Each disorder sample draws K patterns (binary +-1, or uniform on the sphere |xi|^2 = N) and runs one
    chain started at xi^1: binary, :func:`lse_run` (heat bath or Metropolis, O(K) per proposal);
    spherical, :func:`spherical_run` (Metropolis on the sphere, N proposals per sweep). m is the overlap
    xi^1 . x / N, averaged over the last quarter of the sweeps; the chain survives when that mean is
    >= ``threshold`` (an absolute overlap; the sweeps pass threshold x m_eq(T)). The memory of a sample
    (:func:`lse_point_bytes`, :func:`spherical_point_bytes`) is checked against ``max_bytes`` before
    anything is allocated; binary samples' chains run side by side, max_bytes // that many at a time (the same
    numbers as one chain per call). Errors: binomial for the survival fraction, standard error for m. ``backend``,
    and for the spherical ensemble ``kernel`` ("lse" or Petrova et al.'s "lsr", lambda = beta_net) and ``eps``:
    as in :func:`lse_run` and :func:`spherical_run`. Spherical LSE only, ``approximation``: "full" (all K patterns),
    or the labelled approximations of montecarlo.md 8 for loads beyond memory (:func:`cone_patterns`): "cone" keeps
    the patterns with overlap >= ``phi_keep`` with the target, "bulk" none; the rest is one constant. Then K is
    e^{alpha N} (a float) and ``kept`` the mean number of patterns kept besides the target.
    """
    backend = backend_name(backend)
    N = check_integer("N", N, low=2)
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    T = check_real("T", T, low=0.0, low_open=True)
    ens = check_choice("ensemble", ensemble, ("binary", "spherical"))
    kern = SPHERICAL_KERNELS[check_choice("kernel", kernel, ("lse",) if ens == "binary" else tuple(SPHERICAL_KERNELS))]
    eps = check_real("eps", eps, low=0.0, high=1.0, low_open=True, high_open=True)
    approx = check_choice("approximation", approximation,
                          ("full", "cone", "bulk") if ens == "spherical" and kern == 0 else ("full",))
    phi_keep = 1.0 if approx == "bulk" else check_real("phi_keep", phi_keep, low=-1.0, high=1.0, low_open=True)
    samples = check_integer("samples", samples, low=1)
    sweeps = check_integer("sweeps", sweeps, low=1)
    threshold = check_real("threshold", threshold, low=-1.0, high=1.0)
    check_choice("dynamics", dynamics, ("heat_bath", "metropolis") if ens == "binary" else ("metropolis",))
    check_choice("schedule", schedule, tuple(SCHEDULES))
    max_bytes = check_integer("max_bytes", max_bytes, low=1)
    window = max(1, sweeps // 4)
    m_late, other, acc = (np.empty(samples) for _ in range(3))
    if approx != "full":
        return _approximate_retrieval(N, alpha, lam, T, samples, sweeps, threshold, seed, point, max_bytes, phi_keep,
                                      approx, backend, window, m_late, other, acc)
    if ens == "binary":
        K = exponential_load_K(N, alpha, max_bytes=max_bytes)
        need = lse_point_bytes(N, K)
    else:
        K = exponential_load_K(N, alpha, max_bytes=max(1, max_bytes // 8))
        need = spherical_point_bytes(N, K)
    if need > max_bytes:
        raise ParameterError("alpha", alpha, f"a load whose sample fits in {max_bytes / 2**20:.0f} MiB "
                             f"(N = {N}, K = e^(alpha N) = {K} needs {need / 2**20:.0f} MiB)")
    if ens == "binary":   # the samples' chains side by side, as many as max_bytes holds (one lse_run each)
        _, _, dyn, schd, tr, _, betas = _common(T, 1, sweeps, dynamics, schedule, "random", 0, K)
        for group in _sample_batches(samples, need, max_bytes):
            X = np.empty((len(group), N, K), np.int8)
            for j, d in enumerate(group):
                X[j] = lse_patterns(N, K, seed=seed, point=point, sample=d, max_bytes=max_bytes)
            s = np.ascontiguousarray(X[:, :, 0])
            rng = np.array([_chain_stream(seed, point, d, 0) for d in group])
            run = _lse_batch(X, np.arange(len(group)), s, rng, lam, np.repeat(betas, len(group)), dyn, schd, tr,
                             sweeps, 0, backend)
            for j, d in enumerate(group):
                m_late[d] = run["m"][j, -window:].mean()
                other[d] = run["max_other"][j, -1]
                acc[d] = run["acceptance"][j].mean()
    else:   # as spherical_run(X, lam, T, X[:, 0], steps=sweeps N, every=N) per sample, side by side
        for group in _sample_batches(samples, need, max_bytes):
            X = np.empty((len(group), N, K))
            for j, d in enumerate(group):
                X[j] = spherical_patterns(N, K, seed=seed, point=point, sample=d, max_bytes=max_bytes)
            rng = np.array([_chain_stream(seed, point, d, 0) for d in group])
            run = _sph_batch(X, np.arange(len(group)), X[:, :, 0].copy(), rng, lam, np.full(len(group), T), None,
                             sweeps * N, N, 0, backend, kern, eps)
            for j, d in enumerate(group):
                m_late[d] = run["phi"][j, -window:].mean()
                other[d] = float(np.max(X[j][:, 1:].T @ run["x"][j]) / N) if K > 1 else math.nan
                acc[d] = run["acceptance"][j].mean()
    return _survival(m_late, other, acc, threshold, K, samples, window)


def _approximate_retrieval(N, alpha, lam, T, samples, sweeps, threshold, seed, point, max_bytes, phi_keep, approx,
                           backend, window, m_late, other, acc):
    """finite_t_retrieval of the spherical LSE model in the cone or bulk approximation (one call per sample: the
    kept counts differ; bulk samples, one pattern each, side by side)."""
    groups = [list(range(samples))] if approx == "bulk" else [[d] for d in range(samples)]
    kept = np.zeros(samples)
    for group in groups:
        cones = [cone_patterns(N, alpha, lam, phi_keep, seed=seed, point=point, sample=d, max_bytes=max_bytes)
                 for d in group]
        X = np.stack([c["X"] for c in cones])
        rng = np.array([_chain_stream(seed, point, d, 0) for d in group])
        run = _sph_batch(X, np.arange(len(group)), X[:, :, 0].copy(), rng, lam, np.full(len(group), T), None,
                         sweeps * N, N, 0, backend, kern=SPHERICAL_KERNELS["lse"],
                         log_bulk=np.array([c["log_bulk"] for c in cones]))
        for j, d in enumerate(group):
            m_late[d] = run["phi"][j, -window:].mean()
            kept[d] = cones[j]["kept"]
            other[d] = float(np.max(X[j][:, 1:].T @ run["x"][j]) / N) if cones[j]["kept"] else math.nan
            acc[d] = run["acceptance"][j].mean()
    K = math.exp(alpha * N) if alpha * N < 700 else math.inf
    out = _survival(m_late, other, acc, threshold, K, samples, window)
    out.update(approximation=approx, phi_keep=phi_keep, kept=float(kept.mean()))
    return out


def _survival(m_late, other, acc, threshold, K, samples, window):
    """The result of finite_t_retrieval from each sample's late overlap, largest other overlap and acceptance."""
    ok = m_late >= threshold
    p = float(ok.mean())
    return {"success": p, "success_err": float(math.sqrt(p * (1 - p) / samples)),
            "m": float(m_late.mean()),
            "m_err": float(m_late.std(ddof=1) / math.sqrt(samples)) if samples > 1 else math.nan,
            "m_survivors": float(m_late[ok].mean()) if ok.any() else math.nan,
            "m_survivors_err": float(m_late[ok].std(ddof=1) / math.sqrt(ok.sum())) if ok.sum() > 1 else math.nan,
            "max_other": float(np.nanmean(other)) if np.isfinite(other).any() else math.nan,
            "acceptance": float(acc.mean()),
            "K": K, "samples": samples, "window": window}
