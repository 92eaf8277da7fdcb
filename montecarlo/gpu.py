"""GPU backend of :class:`montecarlo.ChainBatch` (``backend="gpu"``): numba-cuda kernels, one warp per chain.

The kernel is the CPU sweep (montecarlo.kernels.sweep_chain) with the K-loop split over the 32 lanes
of a warp (one chain per block of 32 threads; block barriers are then warp barriers): lane l handles the overlaps S_mu with mu = l (mod 32), the partial sums of the exact integer
D_i are combined by a butterfly of warp shuffles, and every lane then holds the same D_i. All lanes
run the chain's xoshiro256** stream redundantly (the same draws in the same order as on the CPU:
first the N sites of a sweep, then the acceptance draws), so they take the same decisions without
communication. The overlaps of a chain live in shared memory while 4 K bytes fit (48 KiB per block),
else in global memory. DeltaE, acceptance rules and energies are those of the CPU path:

    P = 2:  D_i = sigma_i sum_mu xi_i^mu S_mu - n_i   (int32 while K N < 2^31, else int64)
    P >= 3: D_i = sum_mu x (P-1)! e_{P-1}(S' = S - x, n' = n - x^2), x = xi_i^mu sigma_i (int64, Newton)
    heat bath: flip iff u (1 + e^(beta DeltaE)) < 1;  Metropolis: D <= 0 or u < e^(-beta DeltaE);
    T = 0: D < 0, ties by one random bit (or frozen). Where the CPU decides P = 4 +-1 chains through its
    float32 filter it compares beta DeltaE with log(1/u - 1) (heat bath) and -log(u) (Metropolis):
    the GPU takes the same comparisons, on the exact D_i.

Consequences: under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1, plain Python on the CPU) the
trajectories equal the CPU ones bit for bit (tested); on a GPU, exp and log may differ from the
CPU's libm in the last ulp, so trajectories agree until the first such borderline draw and the
results agree statistically. Patterns are read from global memory (cached in L2; chains at random
sites read different rows). The package works without CUDA: :func:`available` says why not.
"""
from __future__ import annotations

import functools
import math
import os

import numpy as np

__all__ = ["available", "DeviceChains", "SHARED_BYTES"]

SHARED_BYTES = 48 * 1024   # static per-block shared memory available without opt-in
_FULL = 0xFFFFFFFF
cuda = None                # numba.cuda, imported on first use (a module global: the simulator swaps it)


def _sim_sum(buf, v):
    """Simulator stand-in for a warp reduction (plain Python; called by all 32 threads of a block)."""
    lane = cuda.threadIdx.x
    cuda.syncthreads()
    buf[lane] = v
    cuda.syncthreads()
    tot = buf[0]
    for j in range(1, 32):
        tot += buf[j]
    cuda.syncthreads()
    return tot


def available() -> tuple[bool, str]:
    """(True, description) if the GPU backend can run here, else (False, the reason)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True, "numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    try:
        from numba import cuda
    except Exception as exc:  # pragma: no cover - depends on the numba build
        return False, f"numba.cuda cannot be imported ({exc}); install the 'gpu' extra (numba-cuda)"
    try:
        if not cuda.is_available():
            return False, "no CUDA GPU or driver found (numba.cuda.is_available() is False)"
        return True, f"CUDA device {cuda.get_current_device().name!r}"
    except Exception as exc:  # pragma: no cover
        return False, f"CUDA initialisation failed ({exc})"


@functools.lru_cache(maxsize=None)
def _kernels():
    """Compile-on-first-use kernels (importing this module needs no CUDA)."""
    global cuda
    from numba import cuda as _cuda
    from numba import float64, int32, int64, uint64
    cuda = _cuda

    from .kernels import (DYN_HEAT_BATH, DYN_METROPOLIS, SCHED_PERMUTATION, SCHED_RANDOM,
                          TIES_RANDOM)

    # xoshiro256** as in montecarlo.rng (same words, same outputs; tested against it)
    @cuda.jit(device=True, inline=True)
    def rotl(x, k):
        return (x << uint64(k)) | (x >> uint64(64 - k))

    @cuda.jit(device=True, inline=True)
    def next_u64(s0, s1, s2, s3):
        result = rotl(s1 * uint64(5), 7) * uint64(9)
        t = s1 << uint64(17)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result, s0, s1, s2, s3

    @cuda.jit(device=True, inline=True)
    def uniform(s0, s1, s2, s3):
        x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        return float(x >> uint64(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, s3

    @cuda.jit(device=True, inline=True)
    def randbelow(n, s0, s1, s2, s3):
        nn = uint64(n)
        x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        m = (x >> uint64(32)) * nn
        low = m & uint64(0xFFFFFFFF)
        if low < nn:
            thresh = (uint64(4294967296) - nn) % nn
            while low < thresh:
                x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                m = (x >> uint64(32)) * nn
                low = m & uint64(0xFFFFFFFF)
        return int64(m >> uint64(32)), s0, s1, s2, s3

    @cuda.jit(device=True, inline=True)
    def warp_sum(v):
        """Sum over the 32 lanes (butterfly of shuffles: every lane gets the total)."""
        v += cuda.shfl_xor_sync(_FULL, v, 16)
        v += cuda.shfl_xor_sync(_FULL, v, 8)
        v += cuda.shfl_xor_sync(_FULL, v, 4)
        v += cuda.shfl_xor_sync(_FULL, v, 2)
        v += cuda.shfl_xor_sync(_FULL, v, 1)
        return v

    warp_sum_i32 = warp_sum_i64 = warp_sum_f64 = warp_sum
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        # the simulator has no warp shuffles: the same sums through shared memory (exact for the
        # integers; the float64 energies are sums of exact integers as well)
        @cuda.jit(device=True)
        def warp_sum_i32(v):
            buf = cuda.shared.array(32, int32)
            return _sim_sum(buf, v)

        @cuda.jit(device=True)
        def warp_sum_i64(v):
            buf = cuda.shared.array(32, int64)
            return _sim_sum(buf, v)

        @cuda.jit(device=True)
        def warp_sum_f64(v):
            buf = cuda.shared.array(32, float64)
            return _sim_sum(buf, v)

    @cuda.jit(device=True)
    def numerator(row, Sc, ncol, sig, P, coef, lane, K, narrow):
        """This lane's share of D_i (P = 2 without the -n_i term), summed over the warp."""
        if P == 2:
            if narrow:
                p32 = int32(0)
                for k in range(lane, K, 32):
                    p32 += int32(row[k]) * Sc[k]
                return int64(warp_sum_i32(p32)) * sig
            p64 = int64(0)
            for k in range(lane, K, 32):
                p64 += int64(row[k]) * int64(Sc[k])
            return warp_sum_i64(p64) * sig
        work = cuda.local.array(13, int64)
        part = int64(0)
        for k in range(lane, K, 32):
            x = int64(row[k]) * sig
            if x != 0:
                sp = int64(Sc[k]) - x
                n1 = int64(ncol[k]) - x * x
                work[0] = 1
                for q in range(1, P):
                    t = int64(0)
                    for j in range(1, q + 1):
                        pj = sp if (j & 1) == 1 else n1
                        t += coef[q, j] * work[q - j] * pj
                    work[q] = t
                part += x * work[P - 1]
        return warp_sum_i64(part)

    @cuda.jit(device=True)
    def energy(Sc, ncol, N, P, coef, lane, K):
        """H (float64) as montecarlo.kernels.energy_from_overlaps: exact integers summed per lane."""
        work = cuda.local.array(13, float64)
        tot = 0.0
        for k in range(lane, K, 32):
            sp = float(Sc[k])
            n1 = float(ncol[k])
            if P == 2:
                tot += sp * sp - n1
            else:
                work[0] = 1.0
                for q in range(1, P + 1):
                    t = 0.0
                    for j in range(1, q + 1):
                        pj = sp if (j & 1) == 1 else n1
                        t += coef[q, j] * work[q - j] * pj
                    work[q] = t
                tot += work[P]
        tot = warp_sum_f64(tot)
        return -tot / (2.0 * float(N) ** (P - 1))

    @cuda.jit(device=True)
    def chain_sweeps(c, lane, Sc, pat, nrow, ncol, pidx, spins, rng, cbeta, order, P, scale, dyn, sched, ties,
                     logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
        d = pidx[c]
        N = spins.shape[1]
        K = Sc.shape[0]
        s0 = rng[c, 0]
        s1 = rng[c, 1]
        s2 = rng[c, 2]
        s3 = rng[c, 3]
        beta = cbeta[c]
        cfac = beta * scale
        keep = snap.shape[1] > 0 and snap.shape[2] == N  # (C, 1, 1): no snapshots
        for t in range(nsweeps):
            if sched == SCHED_RANDOM:
                for a in range(N):
                    i, s0, s1, s2, s3 = randbelow(N, s0, s1, s2, s3)
                    if lane == 0:
                        order[c, a] = i
            else:
                if lane == 0:
                    for a in range(N):
                        order[c, a] = a
                if sched == SCHED_PERMUTATION:
                    for a in range(N - 1, 0, -1):
                        b, s0, s1, s2, s3 = randbelow(a + 1, s0, s1, s2, s3)
                        if lane == 0:
                            tmp = order[c, a]
                            order[c, a] = order[c, b]
                            order[c, b] = tmp
            cuda.syncthreads()
            accepted = 0
            for a in range(N):
                i = order[c, a]
                row = pat[d, i]
                sig = int64(spins[c, i])
                D = numerator(row, Sc, ncol[d], sig, P, coef, lane, K, narrow)
                if P == 2:
                    D -= int64(nrow[d, i])
                flip = False
                if dyn == DYN_HEAT_BATH:
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    if logcrit:
                        r = math.inf if u == 0.0 else math.log(1.0 / u - 1.0)
                        flip = cfac * float(D) < r
                    else:
                        flip = u * (1.0 + math.exp(beta * scale * D)) < 1.0
                elif dyn == DYN_METROPOLIS:
                    if D <= 0:
                        flip = True
                    else:
                        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                        if logcrit:
                            r = math.inf if u == 0.0 else -math.log(u)
                            flip = cfac * float(D) < r
                        else:
                            flip = u < math.exp(-beta * scale * D)
                else:
                    if D < 0:
                        flip = True
                    elif D == 0 and ties == TIES_RANDOM:
                        x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                        flip = (x >> uint64(63)) == uint64(1)
                if flip:
                    accepted += 1
                    two = int32(2 * sig)
                    for k in range(lane, K, 32):
                        Sc[k] = Sc[k] - two * int32(row[k])
                    cuda.syncthreads()   # every lane has read spins[c, i]
                    if lane == 0:
                        spins[c, i] = -sig
                cuda.syncthreads()
            if lane == 0:
                acc_total[c] += accepted
            if measure:
                E = energy(Sc, ncol[d], N, P, coef_f, lane, K)
                if lane == 0:
                    rec_E[c, t] = E
                    rec_m[c, t] = Sc[0] / N
                    rec_a[c, t] = accepted / N
                if keep:
                    for i in range(lane, N, 32):
                        snap[c, t, i] = spins[c, i]
            cuda.syncthreads()
        if lane == 0:
            rng[c, 0] = s0
            rng[c, 1] = s1
            rng[c, 2] = s2
            rng[c, 3] = s3

    @cuda.jit
    def sweeps_shared(pat, nrow, ncol, pidx, spins, S, rng, cbeta, order, P, scale, dyn, sched, ties, logcrit,
                      narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
        """One warp per chain, its overlaps copied to shared memory for the call."""
        buf = cuda.shared.array(0, dtype=int32)
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        K = S.shape[1]
        Sc = buf[:K]
        for k in range(lane, K, 32):
            Sc[k] = S[c, k]
        cuda.syncthreads()
        chain_sweeps(c, lane, Sc, pat, nrow, ncol, pidx, spins, rng, cbeta, order, P, scale, dyn, sched, ties,
                     logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap)
        cuda.syncthreads()
        for k in range(lane, K, 32):
            S[c, k] = Sc[k]

    @cuda.jit
    def sweeps_global(pat, nrow, ncol, pidx, spins, S, rng, cbeta, order, P, scale, dyn, sched, ties, logcrit,
                      narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
        """One warp per chain, overlaps in global memory (K too large for shared memory)."""
        chain_sweeps(cuda.blockIdx.x, cuda.threadIdx.x, S[cuda.blockIdx.x], pat, nrow, ncol, pidx, spins, rng, cbeta, order, P, scale, dyn, sched, ties,
                     logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap)

    return {"shared": sweeps_shared, "global": sweeps_global, "next_u64": next_u64, "uniform": uniform,
            "randbelow": randbelow, "warp_sum_i32": warp_sum_i32, "warp_sum_i64": warp_sum_i64,
            "warp_sum_f64": warp_sum_f64, "cuda": cuda}


class DeviceChains:
    """The dynamical state of a ChainBatch on the GPU for the duration of a run.

    ``to_device`` copies spins, overlaps (as int32), RNG states and acceptance counters; ``sweeps``
    advances every chain; ``to_host`` writes the state back into the batch (same dtypes).
    """

    def __init__(self, batch):
        ok, why = available()
        if not ok:
            from hopfield.validation import ParameterError
            raise ParameterError("backend", "gpu", f"a machine where the GPU backend runs: {why}")
        from . import kernels as _k
        k = _kernels()
        self.cuda = k["cuda"]
        self.batch = batch
        b = batch
        cuda = self.cuda
        self.pat = cuda.to_device(b.patterns)
        self.nrow = cuda.to_device(b.nrow)
        self.ncol = cuda.to_device(b.ncol)
        self.pidx = cuda.to_device(b.pidx)
        self.coef = cuda.to_device(b.coef)
        self.coef_f = cuda.to_device(b.coef.astype(np.float64))
        self.order = cuda.device_array((b.C, b.N), dtype=np.int32)
        self.narrow = bool(b.P == 2 and b.K * b.N < 2 ** 31)
        # the CPU takes its float32 filter (log-form acceptance) for P = 4 +-1 chains
        self.logcrit = bool(b.use_cache and not b.diluted and b.K > 0 and _k._fast4_ok(b.K, b.c4[0, 0]))
        if 4 * b.K <= SHARED_BYTES:
            self.kernel, self.shared = k["shared"], 4 * b.K
        else:
            self.kernel, self.shared = k["global"], 0
        self.to_device()

    def to_device(self):
        b, cuda = self.batch, self.cuda
        self.spins = cuda.to_device(b.spins)
        self.S = cuda.to_device(b.S.astype(np.int32))
        self.rng = cuda.to_device(b.rng)
        self.acc_total = cuda.to_device(b.acc_total)

    def to_host(self):
        b = self.batch
        b.spins[...] = self.spins.copy_to_host()
        b.S[...] = self.S.copy_to_host().astype(b.S.dtype)
        b.rng[...] = self.rng.copy_to_host()
        b.acc_total[...] = self.acc_total.copy_to_host()

    def sweeps(self, nsweeps, measure, cbeta, E, M, A, snap):
        """Advance all chains by ``nsweeps`` sweeps at inverse temperatures ``cbeta`` (host array, (C,));
        fill the host records E (the energy H), M (m_1), A (acceptance) of shape (C, nsweeps) and
        snap (C, nsweeps or 0, N) when measuring."""
        b, cuda = self.batch, self.cuda
        rec = [cuda.to_device(x) if measure and x.size else cuda.device_array((b.C, 1, 1)[:x.ndim], x.dtype)
               for x in (E, M, A, snap)]
        d_E, d_M, d_A, d_snap = rec
        launch = self.kernel[b.C, 32, 0, self.shared]
        launch(self.pat, self.nrow, self.ncol, self.pidx, self.spins, self.S, self.rng,
               cuda.to_device(np.ascontiguousarray(cbeta, dtype=np.float64)), self.order,
               b.P, b.scale, _dyn(b), _sched(b), _ties(b), self.logcrit, self.narrow, self.coef, self.coef_f,
               nsweeps, bool(measure), self.acc_total, d_E, d_M, d_A, d_snap)
        if measure:
            E[...] = d_E.copy_to_host()
            M[...] = d_M.copy_to_host()
            A[...] = d_A.copy_to_host()
            if measure and snap.size:
                snap[...] = d_snap.copy_to_host()


def _dyn(b):
    from .sampler import DYNAMICS
    return DYNAMICS[b.dynamics]


def _sched(b):
    from .sampler import SCHEDULES
    return SCHEDULES[b.schedule]


def _ties(b):
    from .sampler import TIES
    return TIES[b.ties]
