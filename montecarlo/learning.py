"""Monte Carlo of dense Hebbian networks learning from examples (supervised / unsupervised), numba CPU.

Energies: :class:`hopfield.learning.SupervisedNetwork` / :class:`hopfield.learning.UnsupervisedNetwork`
(learning.md section 0; distinct indices, R^{P/2} and M normalisations). Exact single-flip energy
differences (montecarlo.md 2.2-2.3), never the P-body tensor:

    DeltaE_i = scale * sum_v x_i^v E_{P-1}(cavity power sums of x^v),   E_k = k! e_k (Newton)

- Supervised (O(K P/2) per proposal): vectors a^mu = Mbar^mu (integer example sums, int16),
  x_j = Mbar_j sigma_j. Running odd-power overlaps V_{h,mu} = sum_j (Mbar_j^mu)^(2h+1) sigma_j
  (int64, exact; h = 0..P/2-1; V_0 is the example-mean overlap in integer units) and constants
  W_{h,mu} = sum_j (Mbar_j^mu)^(2h). Cavity power sums: p_k = V - a_i^k sigma_i (k odd),
  p_k = W - a_i^k (k even). scale = P / (R^{P/2} M^P N^{P-1}).
- Unsupervised (O(K M) per proposal): per-example overlaps S_{mu a} = eta^{mu,a} . sigma (int32);
  entries in {-1, 0, +1} so p_odd = S' = S - x_i, p_even = n_{mu a} - x_i^2 with n_{mu a} the example's
  non-blank count (N for +-1 examples); scale = P / (R^{P/2} M N^{P-1}). This is the storage kernel on
  the K M examples times 1 / (R^{P/2} M).
- Both keep the archetype overlaps S^xi_mu = xi^mu . sigma (int32, O(K) per accepted flip) for
  measurement. Newton's identities run in float64 on exact integer inputs (closed forms at P = 2, 4).

Acceptance as in :mod:`montecarlo.kernels`: heat bath (flip iff u (1 + e^{beta DeltaE}) < 1), Metropolis
(one uniform per uphill move), T = 0 (flip iff DeltaE < 0; ties DeltaE == 0 exactly: random bit or
frozen). Schedules: "random" (site drawn uniformly, N proposals per sweep; default), "sequential",
"permutation". Chains run in parallel (prange) with xoshiro256** streams keyed by (seed, point, chain)
(:mod:`montecarlo.rng`): results are bit-identical whatever NUMBA_NUM_THREADS.

Parallel tempering (as :class:`montecarlo.ChainBatch`): with a ladder of temperatures each (sample, replica)
group runs one chain per temperature; after every sweep neighbouring slots swap temperatures (never
configurations) with the Metropolis rule of :func:`montecarlo.kernels.tempering_swaps` on the exact H. The
sweeps are the chain-major kernels below, one sweep per launch, so a chain's trajectory between swaps is
that of the plain run at its current temperature.

``kernel="plefka"`` (APPROXIMATE dynamics, labelled; one reading of the papers' "Plefka's approximation in
the Monte Carlo scheme", learning.md 6 / montecarlo.md 2.3): the P-body field is replaced by a two-body one
with overlap-dependent couplings, J^eff_ij ~ sum_mu a_i a_j (A_mu)^(P-2), where A_mu (V_0, resp. S_{mu a})
is frozen at the start of each sweep: D_i = sum_v x_i (A_v - x_i) A_v(frozen)^(P-2), same scale as the exact
kernel. Exact at P = 2 (identical trajectories); at P > 2 the coefficients lag within a sweep and the
distinct-index corrections are dropped, so it is not a Gibbs sampler of H.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from hopfield.learning import (_check_P, check_archetypes, check_examples, example_sums, make_dataset,
                              resolve_quality)
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from . import gpu as _gpu
from .api import check_run_controls
from .kernels import (DYN_HEAT_BATH, DYN_ZERO, _unmanaged, accept, draw_heat_bath, draw_order,
                      heat_bath_decide, pair_overlaps, private_copy, tempering_swaps, work_arrays, write_back)
from .measure import combine_chains, detect_burn_in, summarize_series
from .sampler import (BACKENDS, DYNAMICS, SCHEDULES, TIES, check_init_array, init_chain_state, restore_state,
                      run_to_fixed_point, set_chain_controls)
from .rng import seed_sequence

# reassociation only (vectorised sums of exact integers held in float64); no nnan/ninf
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

__all__ = ["LearningBatch", "learning_point", "learning_K", "learning_dataset", "SETTINGS"]

SETTINGS = ("supervised", "unsupervised")
KERNELS = ("exact", "plefka")
INITS = ("archetype", "random", "example", "mean")


def newton_coefficients(P: int) -> np.ndarray:
    """coef[k, j] = (-1)^(j-1) (k-1)!/(k-j)!, so that E_k = k! e_k = sum_j coef[k, j] E_{k-j} p_j."""
    c = np.zeros((P + 1, P + 1), dtype=np.float64)
    for k in range(1, P + 1):
        for j in range(1, k + 1):
            c[k, j] = (-1) ** (j - 1) * (math.factorial(k - 1) // math.factorial(k - j))
    return c


# =========================================================================== kernels
@njit(inline="always", cache=True)
def sup_numerator(row, V, W, sig, P, coef, p, E):
    """D_i (float64) with DeltaE_i = scale * D_i, supervised: row = Mbar[i] (K,), V (P/2, K), W (P/2+1, K)."""
    K = row.shape[0]
    s = float(sig)
    acc = 0.0
    for mu in range(K):
        a = row[mu]
        if a == 0:
            continue
        fa = float(a)
        x = fa * s
        if P == 2:
            acc += x * (float(V[0, mu]) - x)
        elif P == 4:
            p1 = float(V[0, mu]) - x
            a2 = fa * fa
            p2 = W[1, mu] - a2
            p3 = float(V[1, mu]) - a2 * x
            acc += x * (p1 * (p1 * p1 - 3.0 * p2) + 2.0 * p3)
        else:
            apow = 1.0
            for j in range(1, P):
                apow *= fa
                if j & 1:
                    p[j] = float(V[(j - 1) // 2, mu]) - apow * s
                else:
                    p[j] = W[j // 2, mu] - apow
            E[0] = 1.0
            for q in range(1, P):
                t = 0.0
                for j in range(1, q + 1):
                    t += coef[q, j] * E[q - j] * p[j]
                E[q] = t
            acc += x * E[P - 1]
    return acc


@njit(inline="always", cache=True, fastmath=FASTMATH)
def uns_numerator(row, S, N, nnz, nsq, sig, P, coef, p, E):
    """D_i (float64) with DeltaE_i = scale * D_i, unsupervised: row = eta[i] (K M,), S (K M,).

    +-1 examples (``nnz`` is None): p_odd = S' = S - x_i, p_even = N - 1. Examples with blanks, entries in
    {-1, 0, +1}: ``nnz`` (K M,) float64 the non-blank count n_k = sum_j (eta_j^k)^2 of each example and ``nsq``
    = sum_k (eta_i^k)^2 of row i; x^odd = x, x^even = x^2, so p_odd = S - x and p_even = n_k - x^2. A None
    ``nnz`` is pruned at compile time: the +-1 specialisation carries none of the blank arithmetic (which,
    present in the loop, slowed the +-1 sweeps by about 20%)."""
    L = row.shape[0]
    acc = 0.0
    if nnz is None:
        if P == 2:
            t = 0
            for k in range(L):
                t += np.int64(row[k]) * np.int64(S[k])
            return float(np.int64(sig) * t - L)
        if P == 4:
            # y = x S' = eta sigma_i S - 1 (x^2 = 1), term y^3 - (3N - 5) y; float64 lanes holding exact
            # integers (|y|^3 <= N^3 < 2^53 for N < 2^17; the sum is then order-independent)
            c4 = 3.0 * N - 5.0
            fs = float(sig)
            for k in range(L):
                y = float(row[k]) * fs * float(S[k]) - 1.0
                acc += y * (y * y - c4)
            return acc
        ne = float(N - 1)
        for k in range(L):
            x = float(np.int64(row[k]) * np.int64(sig))
            sp = float(S[k]) - x
            E[0] = 1.0
            for q in range(1, P):
                t = 0.0
                for j in range(1, q + 1):
                    pj = sp if (j & 1) else ne
                    t += coef[q, j] * E[q - j] * pj
                E[q] = t
            acc += x * E[P - 1]
        return acc
    if P == 2:
        t = 0
        for k in range(L):
            t += np.int64(row[k]) * np.int64(S[k])
        return float(np.int64(sig) * t - nsq)
    if P == 4:
        # y = x S' = x S - x^2, term y^3 - (3 n_k - 5) y (zero where x = 0)
        fs = float(sig)
        for k in range(L):
            x = float(row[k]) * fs
            y = x * float(S[k]) - x * x
            acc += y * (y * y - (3.0 * nnz[k] - 5.0))
        return acc
    for k in range(L):
        x = float(np.int64(row[k]) * np.int64(sig))
        sp = float(S[k]) - x
        ne = nnz[k] - x * x
        E[0] = 1.0
        for q in range(1, P):
            t = 0.0
            for j in range(1, q + 1):
                pj = sp if (j & 1) else ne
                t += coef[q, j] * E[q - j] * pj
            E[q] = t
        acc += x * E[P - 1]
    return acc


@njit(inline="always", cache=True)
def sup_numerator_plefka(row, V, G, sig):
    """Plefka (approximate) D_i = sum_mu x_i (V_0 - x_i) G_mu, G_mu = (V_0 at the start of the sweep)^(P-2)."""
    s = float(sig)
    acc = 0.0
    for mu in range(row.shape[0]):
        x = float(row[mu]) * s
        acc += x * (float(V[0, mu]) - x) * G[mu]
    return acc


@njit(inline="always", cache=True, fastmath=FASTMATH)
def uns_numerator_plefka(row, S, G, sig):
    """Plefka (approximate) D_i = sum_{mu a} x (S - x) G_{mu a}, G = (S at the start of the sweep)^(P-2)."""
    s = float(sig)
    acc = 0.0
    for k in range(row.shape[0]):
        x = float(row[k]) * s
        acc += x * (float(S[k]) - x) * G[k]
    return acc


@njit(cache=True)
def sup_energy(V, W, P, coef):
    """sum_mu E_P (= P! e_P) of x = Mbar sigma from the full power sums (float64)."""
    K = V.shape[1]
    E = np.empty(P + 1)
    tot = 0.0
    for mu in range(K):
        E[0] = 1.0
        for q in range(1, P + 1):
            t = 0.0
            for j in range(1, q + 1):
                pj = float(V[(j - 1) // 2, mu]) if (j & 1) else W[j // 2, mu]
                t += coef[q, j] * E[q - j] * pj
            E[q] = t
        tot += E[P]
    return tot


@njit(cache=True)
def uns_energy(S, nnz, P, coef):
    """sum_{mu a} E_P (= P! e_P) of x = eta sigma (entries in {-1, 0, +1}: p_odd = S, p_even = n_k, the
    non-blank count of example k: ``nnz``, float64 (K M,), N for every example of +-1 data), float64."""
    E = np.empty(P + 1)
    tot = 0.0
    for k in range(S.shape[0]):
        sp = float(S[k])
        E[0] = 1.0
        for q in range(1, P + 1):
            t = 0.0
            for j in range(1, q + 1):
                pj = sp if (j & 1) else nnz[k]
                t += coef[q, j] * E[q - j] * pj
            E[q] = t
        tot += E[P]
    return tot


@njit(cache=True)
def sweep_sup(Mb, W, xi, spins, V, Sxi, st, bscale, P, coef, dyn, sched, ties, order, thr, nsweeps, plefka=False):
    """``nsweeps`` supervised sweeps of one chain in place; returns the number of accepted flips.

    ``plefka``: approximate two-body dynamics with the (P-2)-th power of the example-mean overlaps frozen at
    the start of each sweep (module docstring); the exact kernel otherwise."""
    Mb = _unmanaged(Mb)   # row views without atomic reference counting (kernels._unmanaged)
    N = Mb.shape[0]
    K = Mb.shape[1]
    H = V.shape[0]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    p = np.empty(P + 1)
    E = np.empty(P + 1)
    G = np.empty(K)
    accepted = 0
    hb = dyn == DYN_HEAT_BATH   # thr: the sweep's heat-bath uniforms, drawn up front (kernels.draw_heat_bath)
    for _sw in range(nsweeps):
        if plefka:
            for mu in range(K):
                G[mu] = float(V[0, mu]) ** (P - 2)
        s0, s1, s2, s3 = draw_order(order, N, sched, s0, s1, s2, s3)
        if hb:
            s0, s1, s2, s3 = draw_heat_bath(thr, N, s0, s1, s2, s3)
        for a in range(N):
            i = order[a]
            row = Mb[i]
            sig = spins[i]
            if plefka:
                D = sup_numerator_plefka(row, V, G, sig)
            else:
                D = sup_numerator(row, V, W, sig, P, coef, p, E)
            if hb:
                flip = heat_bath_decide(bscale * D, thr[0, a], thr[1, a], thr[2, a])
            else:
                flip, s0, s1, s2, s3 = accept(D, bscale, dyn, ties, s0, s1, s2, s3)
            if flip:
                accepted += 1
                spins[i] = -sig
                two = 2 * np.int64(sig)
                for mu in range(K):
                    av = np.int64(row[mu])
                    a2 = av * av
                    pw = av
                    for h in range(H):
                        V[h, mu] -= two * pw
                        pw *= a2
                    Sxi[mu] -= np.int32(two) * np.int32(xi[i, mu])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return accepted


@njit(cache=True, fastmath=FASTMATH)
def sweep_uns(eta, nnz, nsq, xi, spins, S, Sxi, st, bscale, P, coef, dyn, sched, ties, order, thr, nsweeps,
              plefka=False):
    """``nsweeps`` unsupervised sweeps of one chain in place (eta viewed as (N, K M); nnz, nsq: the non-blank
    counts of each example and of each row, as in :func:`uns_numerator`, or None for +-1 examples); returns
    accepted flips."""
    eta = _unmanaged(eta)   # row views without atomic reference counting (kernels._unmanaged)
    N = eta.shape[0]
    L = eta.shape[1]
    K = xi.shape[1]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    p = np.empty(P + 1)
    E = np.empty(P + 1)
    G = np.empty(L)
    accepted = 0
    hb = dyn == DYN_HEAT_BATH   # thr: the sweep's heat-bath uniforms, drawn up front (kernels.draw_heat_bath)
    for _sw in range(nsweeps):
        if plefka:
            for k in range(L):
                G[k] = float(S[k]) ** (P - 2)
        s0, s1, s2, s3 = draw_order(order, N, sched, s0, s1, s2, s3)
        if hb:
            s0, s1, s2, s3 = draw_heat_bath(thr, N, s0, s1, s2, s3)
        for a in range(N):
            i = order[a]
            row = eta[i]
            sig = spins[i]
            if plefka:
                D = uns_numerator_plefka(row, S, G, sig)
            elif nnz is None:   # +-1 examples (pruned at compile time: see uns_numerator)
                D = uns_numerator(row, S, N, None, 0, sig, P, coef, p, E)
            else:
                D = uns_numerator(row, S, N, nnz, nsq[i], sig, P, coef, p, E)
            if hb:
                flip = heat_bath_decide(bscale * D, thr[0, a], thr[1, a], thr[2, a])
            else:
                flip, s0, s1, s2, s3 = accept(D, bscale, dyn, ties, s0, s1, s2, s3)
            if flip:
                accepted += 1
                spins[i] = -sig
                two = 2 * np.int32(sig)
                for k in range(L):
                    S[k] -= two * np.int32(row[k])
                for mu in range(K):
                    Sxi[mu] -= two * np.int32(xi[i, mu])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return accepted


@njit(parallel=True, cache=True)
def run_chains_sup(Mb, W, xi, pidx, spins, V, Sxi, rng, bscale, P, coef, dyn, sched_code, ties, nsweeps, measure,
                   escale, nscale, acc_total, rec_E, rec_m, rec_n, rec_a, snap, plefka, Ec):
    """Chain-major supervised run (prange over chains), recording E/N, m_1, n_1, acceptance, snapshots.

    ``bscale[c]`` = beta_c * scale of chain c; ``Ec`` (C,) or empty: total energies H after the last sweep
    (for tempering swaps)."""
    C = spins.shape[0]
    N = spins.shape[1]
    keep = snap.shape[1] > 0
    for c in prange(C):
        d = pidx[c]
        order, thr = work_arrays(N, dyn)
        sp, Vc, Sx, st = private_copy(spins[c]), private_copy(V[c]), private_copy(Sxi[c]), private_copy(rng[c])
        for t in range(nsweeps):
            acc = sweep_sup(Mb[d], W[d], xi[d], sp, Vc, Sx, st, bscale[c], P, coef, dyn, sched_code,
                            ties, order, thr, 1, plefka)
            acc_total[c] += acc
            if measure:
                rec_E[c, t] = escale * sup_energy(Vc, W[d], P, coef) / N
                rec_m[c, t] = Sx[0] / N
                rec_n[c, t] = nscale * Vc[0, 0]
                rec_a[c, t] = acc / N
                if keep:
                    for i in range(N):
                        snap[c, t, i] = sp[i]
        write_back(spins[c], sp)
        write_back(V[c], Vc)
        write_back(Sxi[c], Sx)
        write_back(rng[c], st)
        if Ec.shape[0] > 0:
            Ec[c] = escale * sup_energy(V[c], W[d], P, coef)


@njit(parallel=True, cache=True)
def run_chains_uns(eta, nnz, nsq, xi, pidx, spins, S, Sxi, rng, bscale, P, coef, dyn, sched_code, ties, nsweeps,
                   measure, escale, nscale, M, acc_total, rec_E, rec_m, rec_n, rec_a, snap, plefka, Ec):
    """Chain-major unsupervised run (prange over chains); n_1 from the sum of the M overlaps of class 1;
    ``bscale`` and ``Ec`` as in :func:`run_chains_sup`; ``nsq`` None for +-1 examples (the +-1 kernel)."""
    C = spins.shape[0]
    N = spins.shape[1]
    keep = snap.shape[1] > 0
    for c in prange(C):
        d = pidx[c]
        order, thr = work_arrays(N, dyn)
        sp, Sc, Sx, st = private_copy(spins[c]), private_copy(S[c]), private_copy(Sxi[c]), private_copy(rng[c])
        for t in range(nsweeps):
            if nsq is None:    # +-1 examples (nnz holds N per example, for the energy)
                acc = sweep_uns(eta[d], None, None, xi[d], sp, Sc, Sx, st, bscale[c], P, coef, dyn, sched_code,
                                ties, order, thr, 1, plefka)
            else:
                acc = sweep_uns(eta[d], nnz[d], nsq[d], xi[d], sp, Sc, Sx, st, bscale[c], P, coef, dyn, sched_code,
                                ties, order, thr, 1, plefka)
            acc_total[c] += acc
            if measure:
                rec_E[c, t] = escale * uns_energy(Sc, nnz[d], P, coef) / N
                rec_m[c, t] = Sx[0] / N
                tot = 0
                for a in range(M):
                    tot += Sc[a]
                rec_n[c, t] = nscale * tot
                rec_a[c, t] = acc / N
                if keep:
                    for i in range(N):
                        snap[c, t, i] = sp[i]
        write_back(spins[c], sp)
        write_back(S[c], Sc)
        write_back(Sxi[c], Sx)
        write_back(rng[c], st)
        if Ec.shape[0] > 0:
            Ec[c] = escale * uns_energy(S[c], nnz[d], P, coef)


@njit(parallel=True, cache=True)
def count_unstable_sup(Mb, W, pidx, spins, V, P, coef, out):
    """out[c] = number of sites of chain c with DeltaE_i < 0 (the exact supervised numerator of the sweeps):
    0 iff chain c is at a fixed point of the T = 0 dynamics. O(N K P) per chain."""
    C, N = spins.shape
    for c in prange(C):
        d = pidx[c]
        p = np.empty(P + 1)
        E = np.empty(P + 1)
        n = 0
        for i in range(N):
            if sup_numerator(Mb[d, i], V[c], W[d], spins[c, i], P, coef, p, E) < 0:
                n += 1
        out[c] = n


@njit(parallel=True, cache=True)
def count_unstable_uns(eta, nnz, nsq, pidx, spins, S, P, coef, out):
    """As :func:`count_unstable_sup` for the unsupervised numerator (eta viewed as (N, K M)). O(N K M) per chain."""
    C, N = spins.shape
    for c in prange(C):
        d = pidx[c]
        p = np.empty(P + 1)
        E = np.empty(P + 1)
        n = 0
        for i in range(N):
            if uns_numerator(eta[d, i], S[c], N, nnz[d], nsq[d, i], spins[c, i], P, coef, p, E) < 0:
                n += 1
        out[c] = n


# =========================================================================== batch
class LearningBatch:
    """Many Monte Carlo chains of a supervised or unsupervised dense Hebbian network.

    Parameters
    ----------
    setting : "supervised" or "unsupervised"
    examples : +-1 int (N, K, M) or (samples, N, K, M) (layout of :func:`hopfield.learning.make_examples`)
    archetypes : +-1 int (N, K) or (samples, N, K): measured overlaps m_mu (not in H). Diluted data, entries
        in {-1, 0, +1} in archetypes and examples (the learning version of the multitasking network,
        multitasking.md 2.2), run the same kernels with the non-blank counts in the even power sums;
        starts put random spins on the blanks
    P : even interaction order
    T : temperature (ignored for dynamics "zero"; T = 0 selects it), or an ascending ladder of nT > 1
        temperatures T_0 < T_1 < ... (all > 0): every (sample, replica) group then runs one chain per
        temperature
    r, rho : dataset quality or entropy (exactly one): fixes R = r^2 (1 + rho)
    replicas, dynamics, schedule, ties, seed, point : as :class:`montecarlo.ChainBatch`
    init : "archetype" (xi^1), "random", "example" (eta^{1,1}), "mean" (sign(Mbar^1), ties +1), or a +-1
        int8 array (chains, N); sites left blank by the first three are drawn at random from the chain's
        start stream SeedSequence((seed, point, 2, c))
    kernel : "exact" (default: exact distinct-index DeltaE) or "plefka" (APPROXIMATE dynamics, see the
        module docstring; not a Gibbs sampler of H; the recorded energies are still the exact H)
    tempering : parallel tempering on the ladder, as :class:`montecarlo.ChainBatch`: after every sweep,
        neighbouring slots (k, k+1) of each group (even k on even sweeps, odd k on odd ones) swap their
        temperatures (not their configurations) with probability min(1, exp((beta_k - beta_{k+1})
        (H_a - H_b))) (:func:`montecarlo.kernels.tempering_swaps`, group stream
        SeedSequence((seed, point, 1, g))); attempts and acceptances per pair in ``swap_att``,
        ``swap_acc`` (:meth:`swap_rates`). Exact kernel only (a swap needs the Gibbs measure of H).
    backend : "numba" (CPU, default) or "gpu" (aliases "cupy", "cuda"; :mod:`montecarlo.gpu_learning`: one
        warp per chain, the same streams, rules and records; refused with the reason where it cannot run)

    Group g = sample * replicas + replica; chain c = g * nT + k starts at temperature slot k, uses the data
    of its sample and the stream SeedSequence((seed, point, 0, c)); random starts use
    SeedSequence((seed, point, 2, c)). ``perm[g, k]`` is the chain at slot k of group g (identity without
    tempering). Recorded series are indexed by slot, row g * nT + k (= chain c without tempering).
    """

    SNAPSHOT_BYTES = 1 << 25

    def __init__(self, setting, examples, archetypes, P=2, T=1.0, *, r=None, rho=None, replicas=1,
                 dynamics="heat_bath", schedule="random", ties="random", init="archetype", seed=0, point=0,
                 kernel="exact", tempering=False, backend="numba"):
        self.setting = check_choice("setting", setting, SETTINGS)
        self.kernel = check_choice("kernel", kernel, KERNELS)
        self.backend = BACKENDS[check_choice("backend", backend, tuple(BACKENDS))]
        if self.backend == "gpu":
            ok, why = _gpu.available()
            if not ok:
                raise ParameterError("backend", backend, f"'numba' on this machine ({why})")
        self._device = None
        self.plefka = self.kernel == "plefka"
        self.P = _check_P(P)
        ex = np.asarray(examples)
        if ex.ndim == 3:
            ex = ex[None]
        if ex.ndim != 4:
            raise ParameterError("examples.shape", ex.shape, "(N, K, M) or (samples, N, K, M)")
        self.examples = np.ascontiguousarray(np.stack([check_examples(e, blanks=True) for e in ex]))
        self.samples, self.N, self.K, self.M = self.examples.shape
        xi = np.asarray(archetypes)
        if xi.ndim == 2:
            xi = xi[None]
        if xi.shape != (self.samples, self.N, self.K):
            raise ParameterError("archetypes.shape", xi.shape, f"({self.samples}, {self.N}, {self.K}) or (N, K)")
        self.archetypes = np.ascontiguousarray(np.stack([check_archetypes(a, blanks=True) for a in xi]))
        if self.N < self.P:
            raise ParameterError("N", self.N, f"N >= P = {self.P}")
        if self.N >= 2 ** 31 // max(self.M, 1):
            raise ParameterError("N", self.N, "N M < 2^31")
        self.r, self.rho, self.R = resolve_quality(self.M, r, rho)
        set_chain_controls(self, replicas, dynamics, schedule, ties, seed, point)
        self.tempering = bool(tempering)
        temps = np.atleast_1d(np.asarray(T, dtype=object))
        if temps.ndim != 1 or temps.size < 1:
            raise ParameterError("T", T, "a temperature or a non-empty 1-D ladder")
        if temps.size == 1:
            if DYNAMICS[self.dynamics] == DYN_ZERO:
                self.T = 0.0
            else:
                self.T = check_real("T", temps[0], low=0.0)
                if self.T == 0.0:
                    self.dynamics = "zero"
            self.temperatures = np.array([self.T])
        else:
            self.temperatures = np.array([check_real("T", t, low=0.0, low_open=True) for t in temps])
            if DYNAMICS[self.dynamics] == DYN_ZERO or np.any(np.diff(self.temperatures) <= 0):
                raise ParameterError("T", list(temps), "an ascending ladder of temperatures > 0 (T > 0 dynamics)")
            self.T = float(self.temperatures[0])
        if self.tempering and (self.T == 0.0 or self.plefka):
            raise ParameterError("tempering", tempering, "False at T = 0 and with kernel='plefka'")
        self.beta = 0.0 if self.T == 0.0 else 1.0 / self.T
        self.nT = self.temperatures.size
        self.ladder = np.zeros(1) if self.T == 0.0 else 1.0 / self.temperatures
        self.G = self.samples * self.replicas
        self.C = self.G * self.nT
        self.pidx = np.repeat(np.arange(self.samples, dtype=np.int64), self.replicas * self.nT)
        pairs = [(d * self.replicas + a, d * self.replicas + b) for d in range(self.samples)
                 for a in range(self.replicas) for b in range(a + 1, self.replicas)]
        self.pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)   # groups sharing the data (q_ab)
        self.coef = newton_coefficients(self.P)
        N, M, P, R = self.N, self.M, self.P, self.R
        if self.setting == "supervised":
            self.Mbar = np.ascontiguousarray(np.stack([example_sums(e) for e in self.examples]))
            if N * float(M) ** (P - 1) >= 2 ** 62:
                raise ParameterError("N M^(P-1)", N * M ** (P - 1), "< 2^62 (exact int64 power overlaps)")
            self.H = P // 2
            mb = self.Mbar.astype(np.float64)
            self.W = np.ascontiguousarray(np.stack(
                [np.stack([(mb[d] ** (2 * h)).sum(axis=0) for h in range(self.H + 1)]) for d in range(self.samples)]))
            self.scale = P / (R ** (P / 2) * float(M) ** P * float(N) ** (P - 1))
            self.escale = -1.0 / (2.0 * R ** (P / 2) * float(M) ** P * float(N) ** (P - 1))
            self.nscale = self.r / (M * R * N)
        else:
            self.eta2 = self.examples.reshape(self.samples, N, self.K * M)
            # non-blank counts of each example and of each row (N and K M for +-1 examples)
            # (nnz as float64, exact integers: the P = 4 lanes then stay in vector float arithmetic)
            self.nnz = np.ascontiguousarray(np.count_nonzero(self.eta2, axis=1).astype(np.float64))
            self.nsq = np.ascontiguousarray(np.count_nonzero(self.eta2, axis=2).astype(np.int64))
            self.blanks = bool((self.eta2 == 0).any())   # else the +-1 kernel (uns_numerator)
            self.scale = P / (R ** (P / 2) * float(M) * float(N) ** (P - 1))
            self.escale = -1.0 / (2.0 * R ** (P / 2) * float(M) * float(N) ** (P - 1))
            self.nscale = self.r / (M * R * N)
        init_chain_state(self)
        self.init = init if isinstance(init, str) else "array"
        self.spins = self._initial_spins(init)
        self.recompute()
        self._series = []

    # ------------------------------------------------------------------ state
    def _initial_spins(self, init):
        if isinstance(init, str):
            check_choice("init", init, INITS)
            spins = np.empty((self.C, self.N), dtype=np.int8)
            for c in range(self.C):
                d = self.pidx[c]
                if init == "archetype":
                    spins[c] = self.archetypes[d, :, 0]
                elif init == "example":
                    spins[c] = self.examples[d, :, 0, 0]
                elif init == "mean":
                    ex = self.examples[d, :, 0, :]
                    spins[c] = np.where(ex.sum(axis=1) >= 0, 1, -1) * (ex != 0).any(axis=1)
                else:
                    spins[c] = 0
                blank = spins[c] == 0    # every site for "random"; the blanks of diluted data otherwise
                if blank.any():
                    g = np.random.default_rng(seed_sequence(self.seed, self.point, 2, c))
                    spins[c, blank] = (2 * g.integers(0, 2, size=self.N) - 1).astype(np.int8)[blank]
            return spins
        return check_init_array(init, self.C, self.N, INITS)

    def _overlaps_from_spins(self):
        s = self.spins.astype(np.int64)
        Sxi = np.stack([s[c] @ self.archetypes[self.pidx[c]].astype(np.int64) for c in range(self.C)])
        if self.setting == "supervised":
            V = np.empty((self.C, self.H, self.K), dtype=np.int64)
            for c in range(self.C):
                mb = self.Mbar[self.pidx[c]].astype(np.int64)
                for h in range(self.H):
                    V[c, h] = s[c] @ mb ** (2 * h + 1)
            return Sxi.astype(np.int32), V
        S = np.stack([s[c] @ self.eta2[self.pidx[c]].astype(np.int64) for c in range(self.C)])
        return Sxi.astype(np.int32), S.astype(np.int32)

    def recompute(self):
        """Recompute every running overlap from the spins (O(N K M) per chain)."""
        Sxi, X = self._overlaps_from_spins()
        self._device_stale = True   # a GPU copy of the state is replaced on the next run
        self.Sxi = np.ascontiguousarray(Sxi)
        if self.setting == "supervised":
            self.V = np.ascontiguousarray(X)
        else:
            self.S = np.ascontiguousarray(X)

    def check_overlaps(self) -> bool:
        """True iff the incremental overlaps equal a recomputation from the spins (exact integers)."""
        Sxi, X = self._overlaps_from_spins()
        mine = self.V if self.setting == "supervised" else self.S
        return bool(np.array_equal(Sxi, self.Sxi) and np.array_equal(X, mine))

    # ------------------------------------------------------------------ observables
    def delta_energies(self, c):
        """Exact DeltaE_i of chain c for all sites (the kernel formula), float (N,)."""
        c = check_integer("c", c, low=0, high=self.C - 1)
        d = self.pidx[c]
        p = np.empty(self.P + 1)
        E = np.empty(self.P + 1)
        if self.plefka:
            raise ParameterError("kernel", self.kernel, "'exact' (the Plefka field depends on the sweep history)")
        if self.setting == "supervised":
            return np.array([self.scale * sup_numerator(self.Mbar[d, i], self.V[c], self.W[d], self.spins[c, i],
                                                        self.P, self.coef, p, E) for i in range(self.N)])
        return np.array([self.scale * uns_numerator(self.eta2[d, i], self.S[c], self.N, self.nnz[d], self.nsq[d, i],
                                                    self.spins[c, i], self.P, self.coef, p, E) for i in range(self.N)])

    def unstable_sites(self):
        """Number of sites with DeltaE_i < 0 in every chain, int64 (C,): 0 iff the chain is at a fixed point of
        the T = 0 dynamics (exact kernel; ties DeltaE_i = 0 allowed)."""
        if self.plefka:
            raise ParameterError("kernel", self.kernel, "'exact' (the Plefka field depends on the sweep history)")
        out = np.zeros(self.C, dtype=np.int64)
        if self.setting == "supervised":
            count_unstable_sup(self.Mbar, self.W, self.pidx, self.spins, self.V, self.P, self.coef, out)
        else:
            count_unstable_uns(self.eta2, self.nnz, self.nsq, self.pidx, self.spins, self.S, self.P, self.coef, out)
        return out

    def run_to_fixed_point(self, max_sweeps, *, chunk=4):
        """T = 0 dynamics until every chain is at a fixed point or ``max_sweeps``
        (:func:`montecarlo.sampler.run_to_fixed_point`)."""
        return run_to_fixed_point(self, max_sweeps, chunk=chunk)

    def energies(self):
        """Total energy H of every chain, from the running overlaps (float (C,))."""
        if self.setting == "supervised":
            return np.array([self.escale * sup_energy(self.V[c], self.W[self.pidx[c]], self.P, self.coef)
                             for c in range(self.C)])
        return np.array([self.escale * uns_energy(self.S[c], self.nnz[self.pidx[c]], self.P, self.coef)
                         for c in range(self.C)])

    def archetype_overlaps(self):
        """m_mu of every chain, (C, K)."""
        return self.Sxi / self.N

    def example_mean_overlaps(self):
        """n_mu = (r / (R N)) etabar^mu . sigma of every chain, (C, K)."""
        if self.setting == "supervised":
            return self.nscale * self.V[:, 0, :].astype(np.float64)
        return self.nscale * self.S.reshape(self.C, self.K, self.M).sum(axis=2, dtype=np.int64)

    def example_overlaps(self):
        """Per-example overlaps n_{mu,a} = eta^{mu,a} . sigma / N of every chain, (C, K, M)."""
        s = self.spins.astype(np.int64)
        return np.stack([np.einsum("ikm,i->km", self.examples[self.pidx[c]].astype(np.int64), s[c])
                         for c in range(self.C)]) / self.N

    def acceptance(self):
        return self.acc_total / max(self.sweeps * self.N, 1)

    # ------------------------------------------------------------------ checkpoints
    # tempering state (optional in a state of a batch without a ladder: the defaults are then exact)
    _PT_KEYS = ("cbeta", "perm", "swap_rng", "swap_att", "swap_acc", "parity")

    def _state_keys(self):
        return ("spins", "Sxi", "V" if self.setting == "supervised" else "S", "rng", "acc_total", "sweeps") + \
            self._PT_KEYS

    def state_dict(self, include_data=True):
        """Full dynamical state as a dict of numpy arrays (copies), enough to resume bit for bit
        (as :meth:`montecarlo.ChainBatch.state_dict`); with the examples and archetypes unless
        ``include_data`` is False. The Plefka kernel keeps no state across sweeps (its coefficients
        are refreshed from the running overlaps at the start of each sweep). With a ladder: the
        temperatures ``T`` (nT,), the slot permutation, chain betas, swap streams and counters."""
        d = {k: np.array(getattr(self, k)) for k in self._state_keys()}
        d["config"] = np.array([SETTINGS.index(self.setting), self.P, DYNAMICS[self.dynamics], SCHEDULES[self.schedule],
                                TIES[self.ties], self.replicas, self.seed, self.point, KERNELS.index(self.kernel),
                                int(self.tempering)], dtype=np.int64)
        d["T"] = self.temperatures.copy()
        d["r"] = np.array(self.r)
        if include_data:
            d["examples"] = self.examples.copy()
            d["archetypes"] = self.archetypes.copy()
        return d

    def load_state(self, state):
        """Restore the dynamical state saved by :meth:`state_dict` (same configuration and data)."""
        restore_state(self, state, self._state_keys(), "LearningBatch",
                      optional=self._PT_KEYS if self.nT == 1 else ())
        if not self.check_overlaps():
            raise ParameterError("state", "overlaps inconsistent with the spins", "a state of this batch's data")
        self._series = []
        self._device_stale = True
        return self

    @classmethod
    def from_state(cls, state, examples=None, archetypes=None, backend="numba"):
        """Rebuild a batch from :meth:`state_dict` (data from the dict unless given) on ``backend``."""
        cfg = [int(v) for v in np.asarray(state["config"])]
        inv = lambda table, v: next(name for name, code in table.items() if code == v)  # noqa: E731
        ex = state["examples"] if examples is None else examples
        xi = state["archetypes"] if archetypes is None else archetypes
        b = cls(SETTINGS[cfg[0]], ex, xi, cfg[1], np.asarray(state["T"], dtype=float).ravel(), r=float(state["r"]),
                replicas=cfg[5], dynamics=inv(DYNAMICS, cfg[2]), schedule=inv(SCHEDULES, cfg[3]),
                ties=inv(TIES, cfg[4]), init=np.asarray(state["spins"]), seed=cfg[6], point=cfg[7],
                kernel=KERNELS[cfg[8]], tempering=bool(cfg[9]) if len(cfg) > 9 else False, backend=backend)
        return b.load_state(state)

    # ------------------------------------------------------------------ running
    def _advance(self, k, measure, need_q, Ec):
        """``k`` sweeps of every chain (one chain-major launch) at its current temperature; returns the
        per-chain records [E, m, n, acc] (C, k) and the spin snapshots (C, k or 0, N)."""
        if self.backend == "gpu":
            # the device copy persists between calls; it is refreshed when the host state was replaced
            if self._device is None:
                from .gpu_learning import DeviceLearning
                self._device = DeviceLearning(self)
            elif self._device_stale:
                self._device.to_device()
            self._device_stale = False
            return self._device.sweeps(k, measure, need_q, Ec)
        m = k if measure else 0
        rec = [np.zeros((self.C, m)) for _ in range(4)]
        snap = np.zeros((self.C, m if need_q else 0, self.N), dtype=np.int8)
        dyn, sch, ti = DYNAMICS[self.dynamics], SCHEDULES[self.schedule], TIES[self.ties]
        bscale = self.cbeta * self.scale
        if self.setting == "supervised":
            run_chains_sup(self.Mbar, self.W, self.archetypes, self.pidx, self.spins, self.V, self.Sxi,
                           self.rng, bscale, self.P, self.coef, dyn, sch, ti, k, measure, self.escale,
                           self.nscale, self.acc_total, *rec, snap, self.plefka, Ec)
        else:
            run_chains_uns(self.eta2, self.nnz, self.nsq if self.blanks else None, self.archetypes, self.pidx, self.spins, self.S, self.Sxi, self.rng,
                           bscale, self.P, self.coef, dyn, sch, ti, k, measure, self.escale, self.nscale,
                           self.M, self.acc_total, *rec, snap, self.plefka, Ec)
        return rec, snap

    def _record(self, out, sl, rec, snap):
        """Store per-chain records by temperature slot (row g * nT + k <- chain perm[g, k])."""
        rows = self.perm.ravel()
        for key, arr in zip(("E", "m", "n", "acc"), rec):
            out[key][:, sl] = arr[rows]
        if snap.shape[1]:
            pc = np.stack([self.perm[self.pairs[:, 0]].ravel(), self.perm[self.pairs[:, 1]].ravel()], axis=1)
            q = np.zeros((pc.shape[0], snap.shape[1]))
            pair_overlaps(snap, pc, q)
            out["q"][:, sl] = q

    def run(self, sweeps, *, measure=True):
        """Advance every chain by ``sweeps`` sweeps. Returns dict of (G nT, sweeps) series by temperature
        slot (row g * nT + k; the chain index without a ladder): E (per neuron), m (archetype 1 overlap),
        n (example-mean overlap of class 1), acc, and q (pairs nT, sweeps; row p * nT + k) between the
        replica groups sharing a sample (``self.pairs``). With tempering, temperatures are swapped
        after every sweep (after its records)."""
        sweeps = check_integer("sweeps", sweeps, low=0)
        n = sweeps if measure else 0
        out = {k: np.zeros((self.C, n)) for k in ("E", "m", "n", "acc")}
        out["q"] = np.zeros((self.pairs.shape[0] * self.nT, n))
        need_q = measure and self.pairs.shape[0] > 0
        threads = numba.get_num_threads()
        numba.set_num_threads(max(1, min(threads, self.C)))
        try:
            if self.tempering and self.nT > 1:
                Ec = np.zeros(self.C)
                for t in range(sweeps):
                    rec, snap = self._advance(1, measure, need_q, Ec)
                    if measure:
                        self._record(out, slice(t, t + 1), rec, snap)
                    tempering_swaps(self.perm, self.ladder, Ec, self.cbeta, self.swap_rng, self.swap_att,
                                    self.swap_acc, (self.parity + t) & 1)
            else:
                chunk = max(1, min(sweeps, self.SNAPSHOT_BYTES // max(1, self.C * self.N))) if need_q else sweeps
                done = 0
                while done < sweeps:
                    k = min(chunk, sweeps - done)
                    rec, snap = self._advance(k, measure, need_q, np.zeros(0))
                    if measure:
                        self._record(out, slice(done, done + k), rec, snap)
                    done += k
        finally:
            numba.set_num_threads(threads)
            if self._device is not None and not self._device_stale:
                self._device.to_host()
        self.sweeps += sweeps
        self.parity = (self.parity + sweeps) & 1
        if measure:
            self._series.append(out)
        return out

    def swap_rates(self):
        """Tempering swap acceptance per neighbouring slot pair (nT - 1,), pooled over groups (NaN if none)."""
        att = self.swap_att.sum(axis=0)[: max(self.nT - 1, 0)]
        acc = self.swap_acc.sum(axis=0)[: max(self.nT - 1, 0)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(att > 0, acc / np.maximum(att, 1), np.nan)


# =========================================================================== high level
def learning_K(P, N, alpha) -> int:
    """K = max(1, round(alpha N^(P-1))) (P = 2: alpha N), as :func:`montecarlo.storage_K`."""
    return max(1, int(round(alpha * float(N) ** (P - 1))))


def learning_dataset(N, K, M, *, r=None, rho=None, seed=0, point=0, sample=0):
    """Archetypes (N, K) and examples (N, K, M) of disorder sample ``sample``.

    One generator from SeedSequence((seed, point, 3, sample)) draws the archetypes first (so they equal
    :func:`montecarlo.storage_patterns` of the same keys when K matches), then the examples.
    """
    gen = np.random.default_rng(seed_sequence(seed, point, 3, sample))
    return make_dataset(N, K, M, r=r, rho=rho, rng=gen)


def learning_point(setting, P, N, T, *, M, r=None, rho=None, alpha=None, K=None, sweeps, burn_in=None,
                   replicas=2, samples=1, dynamics="heat_bath", schedule="random", init="archetype",
                   ties="random", seed=0, point=0, kernel="exact", tempering=False, ladder=None,
                   backend="numba") -> dict:
    """Monte Carlo of a supervised / unsupervised dense Hebbian network at one point -> dict of floats.

    Mirrors :func:`montecarlo.storage_point`. Dataset: K archetypes (``K`` directly, or
    K = max(1, round(alpha N^(P-1))); default K = 1), M examples each of quality r (or entropy rho;
    exactly one), drawn per disorder sample from (seed, point, sample) (:func:`learning_dataset`).
    ``replicas`` chains per sample share the data (for q). ``sweeps`` total sweeps, the first
    ``burn_in`` discarded (None: MSER on the chain-averaged E and m series, at most sweeps / 2).
    T = 0 selects the T = 0 dynamics (flip iff DeltaE < 0; ``ties``). ``kernel="plefka"``: approximate
    dynamics (:class:`LearningBatch`), recorded in the output. ``tempering=True``: each (sample, replica)
    runs a ladder of temperatures (``ladder``, ascending, first = T; default 8 geometric values from T to
    max(2 T, 0.75 P (1 + sqrt(K / N^(P-1))))) with parallel-tempering swaps; only the chain at T is
    measured; the swap rates per neighbouring pair are returned as ``swap_rates`` (with ``ladder``).
    ``backend``: "numba" (CPU) or "gpu" (:mod:`montecarlo.gpu_learning`; refused where it cannot run).

    Note (T = 0, supervised, low load): sites with Mbar_i^1 = 0 (ties, frequent at even M) feel only the
    cross-talk of the other classes, whose overlaps freeze near 0 (a local minimum of the distinct-index
    energy), so they keep part of the initial state: from init="archetype" m is biased up (about +0.015 at
    N = 4000, M = 20, rho = 0.5). Compare with the theory (ties -> 0) at T = 0+, e.g. T = 0.01.

    Returns: m, m_err (overlap with archetype 1; error = disorder spread if samples >= 2, else thermal
    error of :func:`~montecarlo.measure.summarize_series`), abs_m, abs_m_err, n, n_err (example-mean overlap of class 1,
    n = (r/(R N)) etabar^1 . sigma), E, E_err (energy per neuron), loss_sq, loss_dist (+ _err: the loss
    candidates <(1 - m)^2> and <||xi^1 - sigma||^2> / (4N) = (1 - m) / 2 of learning.md Section 2.4), q, q_err
    (NaN if replicas == 1),
    acceptance, tau_m, tau_E, burn_in, K, N, M, r, rho, R, too_short (post-burn-in length < MIN_TAUS =
    100 tau_int of a measured series in some chain), thermal / disorder error parts, and the settings used. Bit-reproducible for a
    given (seed, point), whatever the number of threads.
    """
    check_choice("setting", setting, SETTINGS)
    P = _check_P(P)
    N = check_integer("N", N, low=P)
    M = check_integer("M", M, low=1)
    T = check_real("T", T, low=0.0)
    r, rho, R = resolve_quality(M, r, rho)
    if alpha is not None and K is not None:
        raise ParameterError("alpha/K", (alpha, K), "at most one of alpha and K")
    if K is None:
        K = 1 if alpha is None else learning_K(P, N, check_real("alpha", alpha, low=0.0))
    K = check_integer("K", K, low=1)
    sweeps, burn_in, replicas, samples = check_run_controls(sweeps, burn_in, replicas, samples, dynamics,
                                                            schedule, init, ties, INITS)
    check_choice("kernel", kernel, KERNELS)
    check_choice("backend", backend, tuple(BACKENDS))
    if BACKENDS[backend] == "gpu" and not _gpu.available()[0]:
        raise ParameterError("backend", backend, f"'numba' on this machine ({_gpu.available()[1]})")
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    if K * N * M > 2 ** 33:
        raise ParameterError("K * N * M", K * N * M, "<= 2^33 (example memory: K N M bytes per sample)")
    if T == 0.0:
        dynamics = "zero"
    elif DYNAMICS[dynamics] == DYN_ZERO:
        raise ParameterError("dynamics", dynamics, "'heat_bath' or 'metropolis' at T > 0 (T = 0 selects 'zero')")
    tempering = bool(tempering)
    if tempering and (T == 0.0 or kernel == "plefka"):
        raise ParameterError("tempering", tempering, "False at T = 0 and with kernel='plefka'")
    if not tempering:
        temps = np.array([T])
    elif ladder is None:
        temps = np.geomspace(T, max(2.0 * T, 0.75 * P * (1.0 + math.sqrt(K / float(N) ** (P - 1)))), 8)
    else:
        temps = np.asarray(ladder, dtype=float)
        if temps.ndim != 1 or temps.size < 2 or temps[0] != T or np.any(np.diff(temps) <= 0):
            raise ParameterError("ladder", ladder, "an ascending 1-D sequence of >= 2 temperatures starting at T")
    data = [learning_dataset(N, K, M, r=r, seed=seed, point=point, sample=d) for d in range(samples)]
    xi = np.stack([x for x, _ in data])
    eta = np.stack([e for _, e in data])
    batch = LearningBatch(setting, eta, xi, P, temps, r=r, replicas=replicas, dynamics=dynamics, schedule=schedule,
                          ties=ties, init=init, seed=seed, point=point, kernel=kernel, tempering=tempering,
                          backend=backend)
    ser = batch.run(sweeps)
    G, nT = batch.G, batch.nT
    # the slot at T (slot 0) of every group / replica pair
    E, m, n, acc = (ser[k].reshape(G, nT, sweeps)[:, 0] for k in ("E", "m", "n", "acc"))
    q = ser["q"].reshape(-1, nT, sweeps)[:, 0]
    if burn_in is None:
        b = max(detect_burn_in(E.mean(axis=0)), detect_burn_in(m.mean(axis=0)))
        burn_in = int(min(b, sweeps // 2))
    sl = slice(burn_in, None)
    grp = np.arange(G) // replicas
    out = {"setting": setting, "K": K, "N": N, "P": P, "M": M, "r": r, "rho": rho, "R": R, "T": T,
           "burn_in": burn_in, "sweeps": sweeps, "replicas": replicas, "samples": samples,
           "dynamics": dynamics, "schedule": schedule, "init": init, "ties": ties, "seed": seed, "point": point,
           "kernel": "distinct_index_exact" if kernel == "exact" else "plefka_approximate", "tempering": tempering,
           "backend": batch.backend}
    summ = {}
    # loss candidates of learning.md Section 2.4: (1 - m)^2 and ||xi^1 - sigma||^2 / (4N) = (1 - m) / 2
    for key, arr in (("m", m), ("abs_m", np.abs(m)), ("n", n), ("E", E), ("loss_sq", (1.0 - m) ** 2),
                     ("loss_dist", (1.0 - m) / 2.0)):
        summ[key] = [summarize_series(arr[g, sl]) for g in range(G)]
        mean, err, eth, edis = combine_chains(summ[key], grp)
        out[key], out[key + "_err"] = mean, err
        out[key + "_err_thermal"], out[key + "_err_disorder"] = eth, edis
    sq = [summarize_series(q[p, sl]) for p in range(batch.pairs.shape[0])]
    if sq:
        mean, err, eth, edis = combine_chains(sq, batch.pairs[:, 0] // replicas)
        out.update(q=mean, q_err=err, q_err_thermal=eth, q_err_disorder=edis)
    else:
        out.update(q=float("nan"), q_err=float("nan"), q_err_thermal=float("nan"), q_err_disorder=float("nan"))
    out["acceptance"] = float(acc[:, sl].mean())
    out["tau_m"] = float(np.mean([s["tau"] for s in summ["m"]]))
    out["tau_E"] = float(np.mean([s["tau"] for s in summ["E"]]))
    out["too_short"] = any(s["too_short"] for ss in list(summ.values()) + [sq] for s in ss)
    out["plateau"] = bool(all(s["plateau"] for s in summ["m"] + summ["E"]))
    if tempering:
        out["swap_rates"] = batch.swap_rates()
        out["ladder"] = temps
    return out
