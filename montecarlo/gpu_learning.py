"""GPU backend of :class:`montecarlo.learning.LearningBatch` (``backend="gpu"``): one warp per chain.

The kernels are the CPU sweeps of :mod:`montecarlo.learning` (``sweep_sup`` / ``sweep_uns`` inside
``run_chains_sup`` / ``run_chains_uns``) with the loop over the K (supervised) or K M (unsupervised)
overlaps split over the 32 lanes of a warp, exactly as :mod:`montecarlo.gpu` does for the storage
family: one chain per block of 32 threads, lane l owns the overlaps with index = l (mod 32), the lane
parts of D_i are combined by a warp reduction (every lane then holds the same D_i), and every lane runs
the chain's xoshiro256** stream redundantly (the same draws in the same order as on the CPU: the N
sites of a sweep, then the acceptance draws), so that all lanes take the same decisions.

    DeltaE_i = scale * D_i,  D_i = sum_v x_i^v E_{P-1}(cavity power sums),  E_k = k! e_k (Newton)
    supervised:   x = Mbar_i^mu sigma_i, p_odd = V_h - a^k sigma_i, p_even = W_h - a^k,
                  V_h,mu = sum_j (Mbar_j^mu)^(2h+1) sigma_j (int64),  scale = P / (R^(P/2) M^P N^(P-1))
    unsupervised: x = eta_i^(mu,a) sigma_i, p_odd = S_(mu a) - x, p_even = n_(mu a) - x^2 (S int32),
                  scale = P / (R^(P/2) M N^(P-1));  P = 2: D_i = sigma_i sum eta_i S - sum eta_i^2 (exact integer;
                  K M for +-1 examples; n_(mu a) = N)
    Plefka (approximate): D_i = sum_v x (A_v - x) A_v(start of the sweep)^(P-2), A = V_0 resp. S
    heat bath: flip iff u (1 + e^(beta scale D)) < 1; Metropolis: D <= 0 or u < e^(-beta scale D);
    T = 0: D < 0, ties D == 0 by one random bit (or frozen).  H = escale sum_v E_P(full power sums).

Each term of D_i (and of H) is the CPU's float64 expression; the per-lane partial sums are combined in
float64 (the unsupervised P = 2 numerator in int32 / int64, as the CPU's integer sum). Where every term
and partial sum is an integer below 2^53 (small N, M: the CPU's sums are then exact and independent of
their order) the GPU's D_i equals the CPU's bit for bit; beyond that the float64 sums are rounded in a
different order (a relative 1e-16 difference in DeltaE), which changes a decision only on a borderline
draw. Overlaps live in shared memory while they fit (supervised: 8 (P/2 + 1) K bytes, unsupervised:
4 (K M + K) bytes, at most ``montecarlo.gpu.SHARED_BYTES``), else in global memory. Tempering swaps run
on the host between sweeps (:func:`montecarlo.kernels.tempering_swaps`), as for ChainBatch.

Consequences: under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1) the trajectories, records and streams
equal the CPU ones bit for bit (tests/montecarlo/gpu_sim_learning.py); on a GPU exp may differ from the
CPU's libm in the last ulp (and the sums' order beyond 2^53), so results agree statistically.
"""
from __future__ import annotations

import functools
import math
import os

import numpy as np

from . import gpu as _gpu

__all__ = ["DeviceLearning"]

EXP_MAX = 709.782712893384   # largest z with a finite float64 exp(z): exp(z > EXP_MAX) = inf, as on the CPU
MAX_P = 12                   # local Newton arrays of P + 1 entries (hopfield.learning._check_P: P <= 12)
NLOC = MAX_P + 1             # (a constant: local array shapes must be compile-time constants)
cuda = None                  # numba.cuda, set on first use (a module global: the simulator swaps it)


def _sim_sum(buf, v):
    """Simulator stand-in for a warp reduction, as montecarlo.gpu._sim_sum but reading this module's ``cuda``:
    the simulator swaps the ``cuda`` global of a module only while one of its functions runs, so the
    stand-ins must live in the module of the kernels that call them."""
    lane = cuda.threadIdx.x
    cuda.syncthreads()
    buf[lane] = v
    cuda.syncthreads()
    tot = buf[0]
    for j in range(1, 32):
        tot += buf[j]
    cuda.syncthreads()
    return tot


@functools.cache
def _kernels():
    """Compile-on-first-use kernels (importing this module needs no CUDA)."""
    global cuda
    base = _gpu._kernels()
    cuda = base["cuda"]
    from numba import float64, int32, int64, uint64

    from .kernels import DYN_HEAT_BATH, DYN_METROPOLIS, SCHED_PERMUTATION, SCHED_RANDOM, TIES_RANDOM
    next_u64, uniform, randbelow = base["next_u64"], base["uniform"], base["randbelow"]
    wsum_i32, wsum_i64, wsum_f64 = base["warp_sum_i32"], base["warp_sum_i64"], base["warp_sum_f64"]
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        @cuda.jit(device=True)
        def wsum_i32(v):
            buf = cuda.shared.array(32, int32)
            return _sim_sum(buf, v)

        @cuda.jit(device=True)
        def wsum_i64(v):
            buf = cuda.shared.array(32, int64)
            return _sim_sum(buf, v)

        @cuda.jit(device=True)
        def wsum_f64(v):
            buf = cuda.shared.array(32, float64)
            return _sim_sum(buf, v)

    @cuda.jit(device=True)
    def accept(D, bscale, dyn, ties, s0, s1, s2, s3):
        """montecarlo.kernels.accept (exp overflow -> inf without a floating-point exception)."""
        flip = False
        if dyn == DYN_HEAT_BATH:
            u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
            z = bscale * D
            e = math.inf if z > EXP_MAX else math.exp(z)
            flip = u * (1.0 + e) < 1.0
        elif dyn == DYN_METROPOLIS:
            if D <= 0.0:
                flip = True
            else:
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                flip = u < math.exp(-bscale * D)
        else:
            if D < 0.0:
                flip = True
            elif D == 0.0 and ties == TIES_RANDOM:
                x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                flip = (x >> uint64(63)) == uint64(1)
        return flip, s0, s1, s2, s3

    @cuda.jit(device=True)
    def draw_order(oc, N, sched, lane, s0, s1, s2, s3):
        """montecarlo.kernels.draw_order: every lane draws, lane 0 writes the sites."""
        if sched == SCHED_RANDOM:
            for a in range(N):
                i, s0, s1, s2, s3 = randbelow(N, s0, s1, s2, s3)
                if lane == 0:
                    oc[a] = i
        else:
            if lane == 0:
                for a in range(N):
                    oc[a] = a
            if sched == SCHED_PERMUTATION:
                for a in range(N - 1, 0, -1):
                    b, s0, s1, s2, s3 = randbelow(a + 1, s0, s1, s2, s3)
                    if lane == 0:
                        tmp = oc[a]
                        oc[a] = oc[b]
                        oc[b] = tmp
        cuda.syncthreads()
        return s0, s1, s2, s3

    # ------------------------------------------------------------------ supervised
    @cuda.jit(device=True)
    def sup_numerator(row, Vc, Wd, sig, P, K, coef, lane, plefka, Gc, p, E):
        """D_i: this lane's terms of montecarlo.learning.sup_numerator (resp. the Plefka one), warp-summed.
        Vc is the chain's V flattened (h K + mu)."""
        s = float(sig)
        acc = 0.0
        for mu in range(lane, K, 32):
            a = row[mu]
            if plefka:
                x = float(a) * s
                acc += x * (float(Vc[mu]) - x) * Gc[mu]
                continue
            if a == 0:
                continue
            fa = float(a)
            x = fa * s
            if P == 2:
                acc += x * (float(Vc[mu]) - x)
            elif P == 4:
                p1 = float(Vc[mu]) - x
                a2 = fa * fa
                p2 = Wd[1, mu] - a2
                p3 = float(Vc[K + mu]) - a2 * x
                acc += x * (p1 * (p1 * p1 - 3.0 * p2) + 2.0 * p3)
            else:
                apow = 1.0
                for j in range(1, P):
                    apow *= fa
                    if j & 1:
                        p[j] = float(Vc[((j - 1) // 2) * K + mu]) - apow * s
                    else:
                        p[j] = Wd[j // 2, mu] - apow
                E[0] = 1.0
                for q in range(1, P):
                    t = 0.0
                    for j in range(1, q + 1):
                        t += coef[q, j] * E[q - j] * p[j]
                    E[q] = t
                acc += x * E[P - 1]
        return wsum_f64(acc)

    @cuda.jit(device=True)
    def sup_energy(Vc, Wd, P, K, coef, lane, E):
        """sum_mu E_P of the full power sums (montecarlo.learning.sup_energy), warp-summed."""
        tot = 0.0
        for mu in range(lane, K, 32):
            E[0] = 1.0
            for q in range(1, P + 1):
                t = 0.0
                for j in range(1, q + 1):
                    pj = float(Vc[((j - 1) // 2) * K + mu]) if (j & 1) else Wd[j // 2, mu]
                    t += coef[q, j] * E[q - j] * pj
                E[q] = t
            tot += E[P]
        return wsum_f64(tot)

    @cuda.jit(device=True)
    def chain_sup(c, lane, Vc, Sxc, Mb, W, xi, pidx, spins, rng, bscale, order, P, coef, dyn, sched, ties,
                  nsweeps, measure, keep, want_E, escale, nscale, plefka, G, acc_total, rec_E, rec_m, rec_n,
                  rec_a, snap, Ec):
        """``nsweeps`` supervised sweeps of chain c (sweep_sup + the records of run_chains_sup)."""
        d = pidx[c]
        N = spins.shape[1]
        K = Sxc.shape[0]
        H = P // 2
        Mbd = Mb[d]
        Wd = W[d]
        xid = xi[d]
        oc = order[c]
        Gc = G[c]
        s0 = rng[c, 0]
        s1 = rng[c, 1]
        s2 = rng[c, 2]
        s3 = rng[c, 3]
        bs = bscale[c]
        p = cuda.local.array(NLOC, float64)
        E = cuda.local.array(NLOC, float64)
        for t in range(nsweeps):
            if plefka:
                for mu in range(lane, K, 32):
                    Gc[mu] = float(Vc[mu]) ** (P - 2)
            s0, s1, s2, s3 = draw_order(oc, N, sched, lane, s0, s1, s2, s3)
            accepted = 0
            for a in range(N):
                i = oc[a]
                row = Mbd[i]
                sig = spins[c, i]
                D = sup_numerator(row, Vc, Wd, sig, P, K, coef, lane, plefka, Gc, p, E)
                flip, s0, s1, s2, s3 = accept(D, bs, dyn, ties, s0, s1, s2, s3)
                if flip:
                    accepted += 1
                    two = 2 * int64(sig)
                    for mu in range(lane, K, 32):
                        av = int64(row[mu])
                        a2 = av * av
                        pw = av
                        for h in range(H):
                            Vc[h * K + mu] -= two * pw
                            pw *= a2
                        Sxc[mu] -= two * int64(xid[i, mu])
                    cuda.syncthreads()   # every lane has read spins[c, i]
                    if lane == 0:
                        spins[c, i] = -sig
                cuda.syncthreads()
            if lane == 0:
                acc_total[c] += accepted
            if measure:
                en = sup_energy(Vc, Wd, P, K, coef, lane, E)
                if lane == 0:
                    rec_E[c, t] = escale * en / N
                    rec_m[c, t] = Sxc[0] / N
                    rec_n[c, t] = nscale * Vc[0]
                    rec_a[c, t] = accepted / N
                if keep:
                    for i in range(lane, N, 32):
                        snap[c, t, i] = spins[c, i]
            cuda.syncthreads()
        if want_E:
            en = sup_energy(Vc, Wd, P, K, coef, lane, E)
            if lane == 0:
                Ec[c] = escale * en
        if lane == 0:
            rng[c, 0] = s0
            rng[c, 1] = s1
            rng[c, 2] = s2
            rng[c, 3] = s3

    @cuda.jit
    def sup_global(Mb, W, xi, pidx, spins, V, Sxi, rng, bscale, order, P, coef, dyn, sched, ties, nsweeps,
                   measure, keep, want_E, escale, nscale, plefka, G, acc_total, rec_E, rec_m, rec_n, rec_a,
                   snap, Ec):
        """One warp per chain, V (C, P/2 K) and Sxi (C, K) in global memory."""
        c = cuda.blockIdx.x
        chain_sup(c, cuda.threadIdx.x, V[c], Sxi[c], Mb, W, xi, pidx, spins, rng, bscale, order, P, coef, dyn,
                  sched, ties, nsweeps, measure, keep, want_E, escale, nscale, plefka, G, acc_total, rec_E,
                  rec_m, rec_n, rec_a, snap, Ec)

    @cuda.jit
    def sup_shared(Mb, W, xi, pidx, spins, V, Sxi, rng, bscale, order, P, coef, dyn, sched, ties, nsweeps,
                   measure, keep, want_E, escale, nscale, plefka, G, acc_total, rec_E, rec_m, rec_n, rec_a,
                   snap, Ec):
        """One warp per chain, V and Sxi copied to shared memory (int64) for the call."""
        buf = cuda.shared.array(0, dtype=int64)
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        HK = V.shape[1]
        K = Sxi.shape[1]
        Vc = buf[:HK]
        Sxc = buf[HK:HK + K]
        for k in range(lane, HK, 32):
            Vc[k] = V[c, k]
        for k in range(lane, K, 32):
            Sxc[k] = Sxi[c, k]
        cuda.syncthreads()
        chain_sup(c, lane, Vc, Sxc, Mb, W, xi, pidx, spins, rng, bscale, order, P, coef, dyn, sched, ties,
                  nsweeps, measure, keep, want_E, escale, nscale, plefka, G, acc_total, rec_E, rec_m, rec_n,
                  rec_a, snap, Ec)
        cuda.syncthreads()
        for k in range(lane, HK, 32):
            V[c, k] = Vc[k]
        for k in range(lane, K, 32):
            Sxi[c, k] = Sxc[k]

    # ------------------------------------------------------------------ unsupervised
    @cuda.jit(device=True)
    def uns_numerator(row, Sc, nnz, nsq_i, sig, P, L, coef, lane, plefka, Gc, narrow, E):
        """D_i: this lane's terms of montecarlo.learning.uns_numerator (resp. the Plefka one), warp-summed; nnz:
        the non-blank count of each example, nsq_i the squared entries of row i (N and K M for +-1 examples)."""
        if plefka:
            s = float(sig)
            accp = 0.0
            for k in range(lane, L, 32):
                x = float(row[k]) * s
                accp += x * (float(Sc[k]) - x) * Gc[k]
            return wsum_f64(accp)
        if P == 2:
            if narrow:     # |sum| <= K M N < 2^31
                t32 = int32(0)
                for k in range(lane, L, 32):
                    t32 += int32(row[k]) * int32(Sc[k])
                tot = int64(wsum_i32(t32))
            else:
                t64 = int64(0)
                for k in range(lane, L, 32):
                    t64 += int64(row[k]) * int64(Sc[k])
                tot = wsum_i64(t64)
            return float(int64(sig) * tot - nsq_i)
        acc = 0.0
        if P == 4:
            fs = float(sig)
            for k in range(lane, L, 32):
                x = float(row[k]) * fs
                y = x * float(Sc[k]) - x * x
                acc += y * (y * y - (3.0 * float(nnz[k]) - 5.0))
            return wsum_f64(acc)
        for k in range(lane, L, 32):
            x = float(int64(row[k]) * int64(sig))
            sp = float(Sc[k]) - x
            ne = float(nnz[k]) - x * x
            E[0] = 1.0
            for q in range(1, P):
                t = 0.0
                for j in range(1, q + 1):
                    pj = sp if (j & 1) else ne
                    t += coef[q, j] * E[q - j] * pj
                E[q] = t
            acc += x * E[P - 1]
        return wsum_f64(acc)

    @cuda.jit(device=True)
    def uns_energy(Sc, nnz, P, L, coef, lane, E):
        """sum_(mu a) E_P (p_odd = S, p_even = n_k) (montecarlo.learning.uns_energy), warp-summed."""
        tot = 0.0
        for k in range(lane, L, 32):
            sp = float(Sc[k])
            E[0] = 1.0
            for q in range(1, P + 1):
                t = 0.0
                for j in range(1, q + 1):
                    pj = sp if (j & 1) else float(nnz[k])
                    t += coef[q, j] * E[q - j] * pj
                E[q] = t
            tot += E[P]
        return wsum_f64(tot)

    @cuda.jit(device=True)
    def chain_uns(c, lane, Sc, Sxc, eta, nnz, nsq, xi, pidx, spins, rng, bscale, order, P, coef, dyn, sched, ties,
                  nsweeps, measure, keep, want_E, escale, nscale, M, narrow, plefka, G, acc_total, rec_E, rec_m,
                  rec_n, rec_a, snap, Ec):
        """``nsweeps`` unsupervised sweeps of chain c (sweep_uns + the records of run_chains_uns)."""
        d = pidx[c]
        N = spins.shape[1]
        L = Sc.shape[0]
        K = Sxc.shape[0]
        etad = eta[d]
        nnzd = nnz[d]
        nsqd = nsq[d]
        xid = xi[d]
        oc = order[c]
        Gc = G[c]
        s0 = rng[c, 0]
        s1 = rng[c, 1]
        s2 = rng[c, 2]
        s3 = rng[c, 3]
        bs = bscale[c]
        E = cuda.local.array(NLOC, float64)
        for t in range(nsweeps):
            if plefka:
                for k in range(lane, L, 32):
                    Gc[k] = float(Sc[k]) ** (P - 2)
            s0, s1, s2, s3 = draw_order(oc, N, sched, lane, s0, s1, s2, s3)
            accepted = 0
            for a in range(N):
                i = oc[a]
                row = etad[i]
                sig = spins[c, i]
                D = uns_numerator(row, Sc, nnzd, nsqd[i], sig, P, L, coef, lane, plefka, Gc, narrow, E)
                flip, s0, s1, s2, s3 = accept(D, bs, dyn, ties, s0, s1, s2, s3)
                if flip:
                    accepted += 1
                    two = 2 * int32(sig)
                    for k in range(lane, L, 32):
                        Sc[k] -= two * int32(row[k])
                    for mu in range(lane, K, 32):
                        Sxc[mu] -= two * int32(xid[i, mu])
                    cuda.syncthreads()   # every lane has read spins[c, i]
                    if lane == 0:
                        spins[c, i] = -sig
                cuda.syncthreads()
            if lane == 0:
                acc_total[c] += accepted
            if measure:
                en = uns_energy(Sc, nnzd, P, L, coef, lane, E)
                part = int64(0)
                for k in range(lane, M, 32):
                    part += int64(Sc[k])
                n1 = wsum_i64(part)
                if lane == 0:
                    rec_E[c, t] = escale * en / N
                    rec_m[c, t] = Sxc[0] / N
                    rec_n[c, t] = nscale * n1
                    rec_a[c, t] = accepted / N
                if keep:
                    for i in range(lane, N, 32):
                        snap[c, t, i] = spins[c, i]
            cuda.syncthreads()
        if want_E:
            en = uns_energy(Sc, nnzd, P, L, coef, lane, E)
            if lane == 0:
                Ec[c] = escale * en
        if lane == 0:
            rng[c, 0] = s0
            rng[c, 1] = s1
            rng[c, 2] = s2
            rng[c, 3] = s3

    @cuda.jit
    def uns_global(eta, nnz, nsq, xi, pidx, spins, S, Sxi, rng, bscale, order, P, coef, dyn, sched, ties, nsweeps, measure,
                   keep, want_E, escale, nscale, M, narrow, plefka, G, acc_total, rec_E, rec_m, rec_n, rec_a,
                   snap, Ec):
        """One warp per chain, S (C, K M) and Sxi (C, K) in global memory."""
        c = cuda.blockIdx.x
        chain_uns(c, cuda.threadIdx.x, S[c], Sxi[c], eta, nnz, nsq, xi, pidx, spins, rng, bscale, order, P, coef, dyn,
                  sched, ties, nsweeps, measure, keep, want_E, escale, nscale, M, narrow, plefka, G, acc_total,
                  rec_E, rec_m, rec_n, rec_a, snap, Ec)

    @cuda.jit
    def uns_shared(eta, nnz, nsq, xi, pidx, spins, S, Sxi, rng, bscale, order, P, coef, dyn, sched, ties, nsweeps, measure,
                   keep, want_E, escale, nscale, M, narrow, plefka, G, acc_total, rec_E, rec_m, rec_n, rec_a,
                   snap, Ec):
        """One warp per chain, S and Sxi copied to shared memory (int32) for the call."""
        buf = cuda.shared.array(0, dtype=int32)
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        L = S.shape[1]
        K = Sxi.shape[1]
        Sc = buf[:L]
        Sxc = buf[L:L + K]
        for k in range(lane, L, 32):
            Sc[k] = S[c, k]
        for k in range(lane, K, 32):
            Sxc[k] = Sxi[c, k]
        cuda.syncthreads()
        chain_uns(c, lane, Sc, Sxc, eta, nnz, nsq, xi, pidx, spins, rng, bscale, order, P, coef, dyn, sched, ties,
                  nsweeps, measure, keep, want_E, escale, nscale, M, narrow, plefka, G, acc_total, rec_E, rec_m,
                  rec_n, rec_a, snap, Ec)
        cuda.syncthreads()
        for k in range(lane, L, 32):
            S[c, k] = Sc[k]
        for k in range(lane, K, 32):
            Sxi[c, k] = Sxc[k]

    @cuda.jit
    def sup_delta(Mb, W, pidx, spins, V, P, coef, out):
        """out[c, i] = D_i of every site of chain c (no flips; the numerator of the sweeps)."""
        c = cuda.blockIdx.x
        lane = cuda.threadIdx.x
        d = pidx[c]
        K = Mb.shape[2]
        p = cuda.local.array(NLOC, float64)
        E = cuda.local.array(NLOC, float64)
        for i in range(spins.shape[1]):
            D = sup_numerator(Mb[d, i], V[c], W[d], spins[c, i], P, K, coef, lane, False, V[c], p, E)
            if lane == 0:
                out[c, i] = D

    @cuda.jit
    def uns_delta(eta, nnz, nsq, pidx, spins, S, P, coef, narrow, out):
        """out[c, i] = D_i of every site of chain c (no flips; the numerator of the sweeps)."""
        c = cuda.blockIdx.x
        lane = cuda.threadIdx.x
        d = pidx[c]
        N = spins.shape[1]
        L = S.shape[1]
        E = cuda.local.array(NLOC, float64)
        for i in range(N):
            D = uns_numerator(eta[d, i], S[c], nnz[d], nsq[d, i], spins[c, i], P, L, coef, lane, False, S[c], narrow,
                              E)
            if lane == 0:
                out[c, i] = D

    return {"sup_shared": sup_shared, "sup_global": sup_global, "uns_shared": uns_shared,
            "uns_global": uns_global, "sup_delta": sup_delta, "uns_delta": uns_delta, "cuda": cuda}


class DeviceLearning:
    """The dynamical state of a LearningBatch on the GPU, kept between runs (as montecarlo.gpu.DeviceChains).

    ``to_device`` copies spins, overlaps (supervised: V as (C, P/2 K) int64; unsupervised: S (C, K M)
    int32), the archetype overlaps Sxi, RNG states and acceptance counters; ``sweeps`` advances every chain;
    ``to_host`` writes the state back into the batch (same dtypes and shapes).
    """

    def __init__(self, batch):
        ok, why = _gpu.available()
        if not ok:
            from hopfield.validation import ParameterError
            raise ParameterError("backend", "gpu", f"a machine where the GPU backend runs: {why}")
        b = batch
        X = b.V if b.setting == "supervised" else b.S
        data = (b.Mbar, b.W) if b.setting == "supervised" else (b.eta2,)
        need = sum(a.nbytes for a in (b.archetypes, b.spins, X, b.Sxi, b.rng, *data))
        _gpu.check_device_memory(need + 4 * b.C * b.N + 8 * b.C * (X[0].size + 1), "chains", b.C)
        k = _kernels()
        self.cuda = cuda = k["cuda"]
        self.batch = batch
        self.sup = b.setting == "supervised"
        self.pidx = cuda.to_device(b.pidx)
        self.xi = cuda.to_device(b.archetypes)
        self.coef = cuda.to_device(b.coef)
        self.order = cuda.device_array((b.C, b.N), dtype=np.int32)
        if self.sup:
            self.data = (cuda.to_device(b.Mbar), cuda.to_device(b.W))
            L, nbytes = b.K, 8 * (b.H * b.K + b.K)
        else:
            self.data = (cuda.to_device(b.eta2), cuda.to_device(b.nnz), cuda.to_device(b.nsq))
            L, nbytes = b.K * b.M, 4 * (b.K * b.M + b.K)
            self.narrow = bool(L * b.N < 2 ** 31)
        self.G = cuda.device_array((b.C, L if b.plefka else 1), dtype=np.float64)   # Plefka coefficients
        name = "sup" if self.sup else "uns"
        if nbytes <= _gpu.SHARED_BYTES:
            self.kernel, self.shared = k[name + "_shared"], nbytes
        else:
            self.kernel, self.shared = k[name + "_global"], 0
        self.to_device()

    def to_device(self):
        b, cuda = self.batch, self.cuda
        self.spins = cuda.to_device(b.spins)
        X = b.V.reshape(b.C, -1) if self.sup else b.S
        self.X = cuda.to_device(np.ascontiguousarray(X))
        self.Sxi = cuda.to_device(b.Sxi)
        self.rng = cuda.to_device(b.rng)
        self.acc_total = cuda.to_device(b.acc_total)

    def to_host(self):
        b = self.batch
        b.spins[...] = self.spins.copy_to_host()
        X = self.X.copy_to_host()
        if self.sup:
            b.V[...] = X.reshape(b.V.shape)
        else:
            b.S[...] = X
        b.Sxi[...] = self.Sxi.copy_to_host()
        b.rng[...] = self.rng.copy_to_host()
        b.acc_total[...] = self.acc_total.copy_to_host()

    def delta_energies(self):
        """DeltaE_i = scale D_i of every chain and site (C, N) from the device state, with the sweeps'
        numerator (exact kernel; compare :meth:`LearningBatch.delta_energies`)."""
        b, cuda = self.batch, self.cuda
        if b.plefka:
            from hopfield.validation import ParameterError
            raise ParameterError("kernel", b.kernel, "'exact' (the Plefka field depends on the sweep history)")
        out = cuda.device_array((b.C, b.N), dtype=np.float64)
        k = _kernels()
        if self.sup:
            k["sup_delta"][b.C, 32](*self.data, self.pidx, self.spins, self.X, b.P, self.coef, out)
        else:
            k["uns_delta"][b.C, 32](*self.data, self.pidx, self.spins, self.X, b.P, self.coef, self.narrow, out)
        return b.scale * out.copy_to_host()

    def sweeps(self, k, measure, need_q, Ec):
        """``k`` sweeps of every chain at ``batch.cbeta``: the records [E / N, m_1, n_1, acc] (C, k or 0),
        the spin snapshots (C, k or 0, N) and, if ``Ec`` is not empty, the energies H after the last
        sweep in ``Ec`` (as LearningBatch._advance)."""
        b, cuda = self.batch, self.cuda
        C, N = b.C, b.N
        m = k if measure else 0
        rec = [np.zeros((C, m)) for _ in range(4)]
        snap = np.zeros((C, m if need_q else 0, N), dtype=np.int8)
        d_rec = [cuda.to_device(x) if m else cuda.device_array((C, 1)) for x in rec]
        keep = bool(need_q and m)
        d_snap = cuda.to_device(snap) if keep else cuda.device_array((C, 1, 1), dtype=np.int8)
        want_E = Ec.shape[0] > 0
        d_Ec = cuda.device_array(C if want_E else 1)
        bscale = cuda.to_device(np.ascontiguousarray(b.cbeta * b.scale, dtype=np.float64))
        from .sampler import DYNAMICS, SCHEDULES, TIES
        args = (self.pidx, self.spins, self.X, self.Sxi, self.rng, bscale, self.order, b.P, self.coef,
                DYNAMICS[b.dynamics], SCHEDULES[b.schedule], TIES[b.ties], k, bool(measure), keep, want_E,
                b.escale, b.nscale)
        launch = self.kernel[C, 32, 0, self.shared]
        if self.sup:
            launch(*self.data, self.xi, *args, bool(b.plefka), self.G, self.acc_total, *d_rec, d_snap, d_Ec)
        else:
            launch(*self.data, self.xi, *args, b.M, self.narrow, bool(b.plefka), self.G, self.acc_total, *d_rec,
                   d_snap, d_Ec)
        if m:
            for x, dx in zip(rec, d_rec):
                x[...] = dx.copy_to_host()
            if keep:
                snap[...] = d_snap.copy_to_host()
        if want_E:
            Ec[...] = d_Ec.copy_to_host()
        return rec, snap
