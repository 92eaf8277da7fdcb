"""GPU backend of :class:`montecarlo.ChainBatch` (``backend="gpu"``): numba-cuda kernels, one warp per chain.

The kernel is the CPU sweep (montecarlo.kernels.sweep_chain) with the K-loop split over the 32 lanes
of a warp (one chain per block of 32 threads; block barriers are then warp barriers): lane l handles the
overlaps S_mu with mu = l (mod 32), the partial sums of the exact integer
D_i are combined by a butterfly of warp shuffles, and every lane then holds the same D_i. All lanes
run the chain's xoshiro256** stream redundantly (the same draws in the same order as on the CPU:
first the N sites of a sweep, then the acceptance draws), so they take the same decisions without
communication. The overlaps of a chain live in shared memory while 4 K bytes fit (48 KiB per block),
else in global memory (packed P = 2: while 2 K bytes fit). DeltaE, acceptance rules and energies are
those of the CPU path:

    P = 2:  D_i = sigma_i sum_mu xi_i^mu S_mu - n_i   (int32 while K N < 2^31, else int64); packed
            where N < 2^15: D_i = sigma_i (sum_mu xi_i^mu u_mu - 2^15 sum_mu xi_i^mu) - n_i, u = S + 2^15,
            with the rows as int32 words of 4 entries (K padded with zeros to a multiple of 128) and u in
            16-bit halves of int32 words, two products per PTX dp2a instruction (the same exact integer)
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
PACK = 128                 # packed P = 2 rows: K padded to a multiple of 4 bytes x 32 lanes
PACKED = True              # take the packed P = 2 path where it applies (tests switch it off to reach the other)
OFFSET = 32768             # packed P = 2 overlaps are stored as u = S + OFFSET in 16-bit halves (|S| <= N < 2^15)
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


def _lock_simulator_shared_arrays():
    """Make numba's CUDA simulator allocate static shared arrays under a lock.

    The simulator keys a ``cuda.shared.array`` by the caller's source line and allocates it on the first call
    with an unlocked check-then-set: simulated threads arriving together may each get their own (uninitialised)
    array, so a block reduction through shared memory then reads garbage for some lanes (seen as rare
    DIFFERENT / math-domain failures of the simulator checks on a loaded machine). Same keys, same arrays."""
    import sys
    import threading
    import traceback

    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    cls = kernelapi.FakeCUDAShared
    if getattr(cls, "_allocation_lock", None) is not None:
        return
    plain, lock = cls.array, threading.Lock()

    def array(self, shape, dtype):
        if shape == 0:                                   # the dynamic buffer: one block of memory, no race
            return plain(self, shape, dtype)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        caller = traceback.extract_stack(sys._getframe(1), limit=1)[-1][0:2]
        with lock:
            res = self._allocations.get(caller)
            if res is None:
                res = self._allocations[caller] = np.empty(shape, dtype)
        return res

    cls.array, cls._allocation_lock = array, lock


def _dp2a_py(a, b, c, hi):
    """PTX dp2a.{lo,hi}.u32.s32 in Python (for the simulator): c + a.h0 b.b(0|2) + a.h1 b.b(1|3), with a two
    unsigned 16-bit halves and b four signed bytes, wrapped to int32."""
    a, b = int(a) & 0xFFFFFFFF, int(b) & 0xFFFFFFFF
    sh = 16 if hi else 0
    b0, b1 = (b >> sh) & 0xFF, (b >> (sh + 8)) & 0xFF
    r = int(c) + (a & 0xFFFF) * (b0 - ((b0 & 0x80) << 1)) + (a >> 16) * (b1 - ((b1 & 0x80) << 1))
    return np.int32((r + 2 ** 31) % 2 ** 32 - 2 ** 31)


def _dp2a_intrinsic(hi):
    """dp2a.{lo,hi}.u32.s32 (sm_61+) as a numba intrinsic (inline PTX): int32 (a, b, c) -> int32."""
    from llvmlite import ir
    from numba import types
    from numba.cuda.extending import intrinsic

    @intrinsic
    def dp2a(typingctx, a, b, c):
        sig = types.int32(a, b, c)

        def codegen(context, builder, sig, args):
            i32 = ir.IntType(32)
            vals = [context.cast(builder, v, t, types.int32) for v, t in zip(args, sig.args)]
            asm = ir.InlineAsm(ir.FunctionType(i32, [i32, i32, i32]),
                               f"dp2a.{'hi' if hi else 'lo'}.u32.s32 $0, $1, $2, $3;", "=r,r,r,r")
            return builder.call(asm, vals)

        return sig, codegen

    return dp2a


def _import_cuda():
    """numba.cuda, with one gap between numba-cuda 0.30 and NumPy >= 2.5 filled: numba-cuda registers an
    overload for np.row_stack (an alias of np.vstack since NumPy 2.0, removed in NumPy 2.5) when it first
    compiles, and fails without it. The alias is added only where NumPy lacks it."""
    if not hasattr(np, "row_stack"):
        np.row_stack = np.vstack
    from numba import cuda as _cuda
    return _cuda


@functools.lru_cache(maxsize=None)
def _device_probe() -> tuple[bool, str]:
    """Compile and run a one-thread kernel: a driver can be present while numba-cuda cannot build kernels."""
    try:
        _cuda = _import_cuda()
        if not _cuda.is_available():
            return False, "no CUDA GPU or driver found (numba.cuda.is_available() is False)"

        @_cuda.jit
        def probe(x):
            x[0] = 7

        d = _cuda.to_device(np.zeros(1, np.int32))
        probe[1, 1](d)
        if int(d.copy_to_host()[0]) != 7:
            return False, "a CUDA test kernel ran but wrote the wrong value"
        return True, f"CUDA device {_cuda.get_current_device().name!r}"
    except Exception as exc:  # pragma: no cover - depends on the driver and the numba-cuda build
        return False, f"numba-cuda cannot compile or run a kernel here ({type(exc).__name__}: {exc})"


def check_device_memory(nbytes, name, value):
    """Refuse (ParameterError on ``name`` = ``value``, the size that sets them) device arrays of ``nbytes`` in
    all that the GPU's free memory cannot hold, before anything is allocated."""
    free, total = _import_cuda().current_context().get_memory_info()[:2]
    if nbytes > free:
        from hopfield.validation import ParameterError
        raise ParameterError(name, value, f"a size whose GPU arrays fit in the {free / 2 ** 30:.2f} GiB free on "
                             f"this GPU ({total / 2 ** 30:.1f} GiB in all); this one needs {nbytes / 2 ** 30:.2f} "
                             "GiB: fewer chains or samples, or backend='numba'")


def available() -> tuple[bool, str]:
    """(True, description) if the GPU backend runs here (a test kernel compiled and ran), else (False, why)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True, "numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    try:
        _import_cuda()
    except Exception as exc:  # pragma: no cover - depends on the numba build
        return False, f"numba.cuda cannot be imported ({exc}); install the 'gpu' extra (numba-cuda)"
    return _device_probe()


@functools.lru_cache(maxsize=None)
def _kernels():
    """Compile-on-first-use kernels (importing this module needs no CUDA)."""
    global cuda
    _cuda = _import_cuda()
    from numba import float64, int32, int64, uint32, uint64
    cuda = _cuda
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        _lock_simulator_shared_arrays()

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

    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        @cuda.jit(device=True)
        def dp2a_lo(a, b, c):
            return _dp2a_py(a, b, c, False)

        @cuda.jit(device=True)
        def dp2a_hi(a, b, c):
            return _dp2a_py(a, b, c, True)
    else:
        dp2a_lo, dp2a_hi = _dp2a_intrinsic(False), _dp2a_intrinsic(True)

    @cuda.jit(device=True, inline=True)
    def sbyte(word, b):
        """Signed byte b (0 = lowest) of a little-endian int32 word of int8 pattern entries."""
        return int32(int32(word << (24 - 8 * b)) >> 24)

    @cuda.jit(device=True, inline=True)
    def dot_packed(row4, Sc, W, lane):
        """sum_mu xi_i^mu u_mu (int32, u = S + OFFSET) in the packed layout: row4 holds the pattern row as
        W int32 words (entries mu = 4w + b, byte b), Sc[w] the pair (u_4w, u_4w+1) and Sc[W + w] the pair
        (u_4w+2, u_4w+3) as 16-bit halves; two dp2a per word. Lane l takes the words w = l (mod 32)."""
        acc = int32(0)
        w = uint32(lane)
        while w < W:
            word = row4[w]
            acc = dp2a_lo(Sc[w], word, acc)
            acc = dp2a_hi(Sc[w + W], word, acc)
            w += uint32(32)
        return warp_sum_i32(acc)

    @cuda.jit(device=True, inline=True)
    def flip_packed(row4, Sc, W, lane, two):
        """u_mu -= 2 sigma_i xi_i^mu on both halves of each pair word (no carry crosses: 0 <= u < 2^16)."""
        w = uint32(lane)
        while w < W:
            word = row4[w]
            Sc[w] = int32(Sc[w] - two * int32(sbyte(word, 0) + sbyte(word, 1) * 65536))
            Sc[w + W] = int32(Sc[w + W] - two * int32(sbyte(word, 2) + sbyte(word, 3) * 65536))
            w += uint32(32)

    @cuda.jit(device=True, inline=True)
    def packed_overlap(Sc, j, half):
        """S of one half (0 low, 1 high) of the pair word Sc[j]."""
        return ((int64(Sc[j]) >> int64(16 * half)) & int64(0xFFFF)) - int64(OFFSET)

    @cuda.jit(device=True)
    def energy_packed(Sc, ncol, N, W, lane):
        """H = -sum_mu (S_mu^2 - n_mu) / (2N) from the packed pairs (exact integers summed per lane)."""
        tot = 0.0
        j = uint32(lane)
        while j < 2 * W:
            jj = int64(j)
            mu = 4 * jj if j < W else 4 * (jj - int64(W)) + 2
            s_a = float(packed_overlap(Sc, j, 0))
            s_b = float(packed_overlap(Sc, j, 1))
            tot += (s_a * s_a - float(ncol[mu])) + (s_b * s_b - float(ncol[mu + 1]))
            j += uint32(32)
        tot = warp_sum_f64(tot)
        return -tot / (2.0 * float(N))

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
    def chain_sweeps(c, lane, Sc, pat, pat4, packed, rsum, nrow, ncol, pidx, spins, rng, cbeta, order, P, scale, dyn,
                     sched, ties, logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
        d = pidx[c]
        N = spins.shape[1]
        K = Sc.shape[0]
        W = uint32(K // 2)     # packed: words per pattern row (Sc holds 2 W pair words)
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
                sig = int64(spins[c, i])
                if packed:
                    D = (int64(dot_packed(pat4[d, i], Sc, W, lane)) - int64(OFFSET) * int64(rsum[d, i])) * sig \
                        - int64(nrow[d, i])
                else:
                    D = numerator(pat[d, i], Sc, ncol[d], sig, P, coef, lane, K, narrow)
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
                    if packed:
                        flip_packed(pat4[d, i], Sc, W, lane, two)
                    else:
                        row = pat[d, i]
                        for k in range(lane, K, 32):
                            Sc[k] = Sc[k] - two * int32(row[k])
                    cuda.syncthreads()   # every lane has read spins[c, i]
                    if lane == 0:
                        spins[c, i] = -sig
                cuda.syncthreads()
            if lane == 0:
                acc_total[c] += accepted
            if measure:
                if packed:
                    E = energy_packed(Sc, ncol[d], N, W, lane)
                    S0 = packed_overlap(Sc, 0, 0)
                else:
                    E = energy(Sc, ncol[d], N, P, coef_f, lane, K)
                    S0 = int64(Sc[0])
                if lane == 0:
                    rec_E[c, t] = E
                    rec_m[c, t] = S0 / N
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
    def sweeps_shared(pat, pat4, packed, rsum, nrow, ncol, pidx, spins, S, rng, cbeta, order, P, scale, dyn, sched,
                      ties, logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
        """One warp per chain, its overlaps copied to shared memory for the call."""
        buf = cuda.shared.array(0, dtype=int32)
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        K = S.shape[1]
        Sc = buf[:K]
        for k in range(lane, K, 32):
            Sc[k] = S[c, k]
        cuda.syncthreads()
        chain_sweeps(c, lane, Sc, pat, pat4, packed, rsum, nrow, ncol, pidx, spins, rng, cbeta, order, P, scale, dyn,
                     sched, ties, logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a,
                     snap)
        cuda.syncthreads()
        for k in range(lane, K, 32):
            S[c, k] = Sc[k]

    @cuda.jit
    def sweeps_global(pat, pat4, packed, rsum, nrow, ncol, pidx, spins, S, rng, cbeta, order, P, scale, dyn, sched,
                      ties, logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
        """One warp per chain, overlaps in global memory (K too large for shared memory)."""
        c = cuda.blockIdx.x
        chain_sweeps(c, cuda.threadIdx.x, S[c], pat, pat4, packed, rsum, nrow, ncol, pidx, spins, rng, cbeta, order,
                     P, scale, dyn, sched, ties, logcrit, narrow, coef, coef_f, nsweeps, measure, acc_total, rec_E,
                     rec_m, rec_a, snap)

    return {"shared": sweeps_shared, "global": sweeps_global, "next_u64": next_u64, "uniform": uniform,
            "randbelow": randbelow, "warp_sum_i32": warp_sum_i32, "warp_sum_i64": warp_sum_i64,
            "warp_sum_f64": warp_sum_f64, "cuda": cuda}


class DeviceChains:
    """The dynamical state of a ChainBatch on the GPU for the duration of a run.

    ``to_device`` copies spins, overlaps (as int32; on the packed P = 2 path as pair words, :meth:`_pack`), RNG
    states and acceptance counters; ``sweeps``
    advances every chain; ``to_host`` writes the state back into the batch (same dtypes).
    """

    def __init__(self, batch):
        ok, why = available()
        if not ok:
            from hopfield.validation import ParameterError
            raise ParameterError("backend", "gpu", f"a machine where the GPU backend runs: {why}")
        from . import kernels as _k
        b = batch
        self.narrow = bool(b.P == 2 and b.K * b.N < 2 ** 31)
        # P = 2 packed layout (dot_packed): K padded with zero columns to Kd, a multiple of PACK (the padding
        # adds nothing to any sum or to the energy); needs |S| <= N < 2^15 and Kd (2^16 - 1) < 2^31
        Kd = -(-b.K // PACK) * PACK
        self.packed = bool(PACKED and b.P == 2 and 0 < b.K and b.N < OFFSET and Kd < 2 ** 15)
        self.Kd = Kd if self.packed else b.K
        D = b.patterns.shape[0]
        # patterns (+ row and column counts), then per chain: site order, spins, overlaps, streams, counters
        check_device_memory(D * (b.N * self.Kd + 12 * (b.N + self.Kd)) + b.C * (5 * b.N + 4 * self.Kd + 48),
                            "chains", b.C)
        k = _kernels()
        self.cuda = k["cuda"]
        self.batch = batch
        cuda = self.cuda
        if self.packed:
            pat = np.zeros(b.patterns.shape[:2] + (Kd,), np.int8)
            pat[..., :b.K] = b.patterns
            self.pat4 = cuda.to_device(pat.view(np.int32))
            self.pat = cuda.to_device(np.zeros((1, 1, 1), np.int8))
            self.rsum = cuda.to_device(b.patterns.sum(axis=2, dtype=np.int32))
            ncol = np.zeros((b.ncol.shape[0], Kd), b.ncol.dtype)
            ncol[:, :b.K] = b.ncol
        else:
            self.pat4 = cuda.to_device(np.zeros((1, 1, 1), np.int32))
            self.pat = cuda.to_device(b.patterns)
            self.rsum = cuda.to_device(np.zeros((1, 1), np.int32))
            ncol = b.ncol
        self.nrow = cuda.to_device(b.nrow)
        self.ncol = cuda.to_device(ncol)
        self.pidx = cuda.to_device(b.pidx)
        self.coef = cuda.to_device(b.coef)
        self.coef_f = cuda.to_device(b.coef.astype(np.float64))
        self.order = cuda.device_array((b.C, b.N), dtype=np.int32)
        # the CPU takes its float32 filter (log-form acceptance) for P = 4 +-1 chains
        self.logcrit = bool(b.use_cache and not b.diluted and b.K > 0 and _k._fast4_ok(b.K, b.c4[0, 0]))
        words = self.Kd // 2 if self.packed else self.Kd   # int32 words of overlaps per chain
        if 4 * words <= SHARED_BYTES:
            self.kernel, self.shared = k["shared"], 4 * words
        else:
            self.kernel, self.shared = k["global"], 0
        self.to_device()

    def _pack(self, S):
        """(C, K) overlaps -> (C, Kd / 2) int32 pair words: [u_4w | u_4w+1 << 16 for w < W] then
        [u_4w+2 | u_4w+3 << 16], u = S + OFFSET (zero padding: u = OFFSET)."""
        u = np.full((S.shape[0], self.Kd), OFFSET, np.int64)
        u[:, :S.shape[1]] += S
        lo, hi = u[:, 0::4] + (u[:, 1::4] << 16), u[:, 2::4] + (u[:, 3::4] << 16)
        return np.ascontiguousarray(np.concatenate([lo, hi], axis=1).astype(np.uint32).view(np.int32))

    def _unpack(self, words):
        w = words.view(np.uint32).astype(np.int64)
        W = self.Kd // 4
        u = np.empty((w.shape[0], self.Kd), np.int64)
        u[:, 0::4], u[:, 1::4] = w[:, :W] & 0xFFFF, w[:, :W] >> 16
        u[:, 2::4], u[:, 3::4] = w[:, W:] & 0xFFFF, w[:, W:] >> 16
        return u[:, :self.batch.K] - OFFSET

    def to_device(self):
        b, cuda = self.batch, self.cuda
        self.spins = cuda.to_device(b.spins)
        S = b.S.astype(np.int32)
        self.S = cuda.to_device(self._pack(S) if self.packed else S)
        self.rng = cuda.to_device(b.rng)
        self.acc_total = cuda.to_device(b.acc_total)

    def to_host(self):
        b = self.batch
        b.spins[...] = self.spins.copy_to_host()
        S = self.S.copy_to_host()
        b.S[...] = (self._unpack(S) if self.packed else S).astype(b.S.dtype)
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
        launch(self.pat, self.pat4, self.packed, self.rsum, self.nrow, self.ncol, self.pidx, self.spins, self.S,
               self.rng, cuda.to_device(np.ascontiguousarray(cbeta, dtype=np.float64)), self.order,
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
