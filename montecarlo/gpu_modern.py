"""GPU backend of the modern-Hopfield samplers (montecarlo.modern, ``backend="gpu"``): one warp per chain.

Each chain is one block of 32 threads. The K-loop over patterns is split over the lanes (lane l
holds the overlaps, weights and alignments of the patterns mu = l (mod 32)); sums and maxima over
mu are warp reductions, after which every lane holds the same value. Every lane runs the chain's
xoshiro256** stream (montecarlo.gpu's device functions) redundantly, with the same draws in the
same order as the CPU code, so all lanes take the same decisions without communication:

    lse_chains:       binary LSE DAM (chain c on the patterns pat[pidx[c]] of a stack of disorder
                      samples), E = -(1/lambda) ln sum_mu e^{lambda S_mu}; weights
                      w_mu = e^{lambda S_mu - L} refreshed after every accepted flip;
                      DeltaE_i = -2 - (1/lambda) ln[D_i + e^{-4 lambda} A_i] (modern._lse_delta).
    poly_chains:      polynomial DAM, exact int64 numerators sum_mu [F(S_mu - 2 sigma_i xi_i^mu) - F(S_mu)].
    spherical_chains: spherical LSE and LSR models, Metropolis on |x|^2 = N with Gaussian steps; every lane draws
                      the N normals and forms x + s g and its norm in the CPU's order, then each lane
                      computes phi_mu = xi^mu . x' / N (sum over i in the CPU's order) for its mu.

Exactness: the polynomial numerators and energies are integers (identical on CPU and GPU). The float
sums over mu (the LSE normaliser, D_i, A_i, the participation ratio; the spherical log-sum-exp) are
summed per lane and then across lanes, a different order from the CPU's sequential loop once K > 32,
so DeltaE agrees to rounding and trajectories agree until a uniform draw falls within rounding of an
acceptance threshold; the results then agree statistically. Under the CUDA simulator
(NUMBA_ENABLE_CUDASIM=1) with K <= 32 every lane holds at most one term and the stand-in reduction
adds the lanes in order, i.e. in the CPU's order: trajectories are then identical bit for bit (tested).
On a GPU, exp/log may also differ from the CPU's libm in the last ulp, and NVVM contracts a * b + c
into fused multiply-adds. LSE overlaps and weights live in shared memory while 12 K bytes fit
(polynomial: 8 K), else in global memory; the spherical chains keep x, x' and phi in global memory.
accept_decisions, lse_delta_energies and poly_delta_numerators run the chains' device functions on their
own (for checks against montecarlo.modern's).
"""
from __future__ import annotations

import functools
import math
import os

import numpy as np

from . import gpu as _gpu

__all__ = ["accept_decisions", "backend_name", "lse_chains", "lse_delta_energies", "poly_chains",
           "poly_delta_numerators", "spherical_chains"]

_FULL = 0xFFFFFFFF
cuda = None                # numba.cuda, imported on first use (a module global: the simulator swaps it)


def backend_name(backend) -> str:
    """'numba' or 'gpu' (aliases as montecarlo.ChainBatch); ParameterError where the GPU backend cannot run."""
    from hopfield.validation import ParameterError, check_choice

    from .sampler import BACKENDS
    name = BACKENDS[check_choice("backend", backend, tuple(BACKENDS))]
    if name == "gpu":
        ok, why = _gpu.available()
        if not ok:
            raise ParameterError("backend", backend, f"'numba' on this machine ({why})")
    return name


def _sim_reduce(buf, v, is_max):
    """Simulator stand-in for a warp sum or max (plain Python, called by all 32 threads): lanes in order.
    The closing barrier keeps the next call's writes to ``buf`` after every lane's reads."""
    lane = cuda.threadIdx.x
    buf[lane] = v
    cuda.syncthreads()
    tot = buf[0]
    for j in range(1, 32):
        tot = max(tot, buf[j]) if is_max else tot + buf[j]
    cuda.syncthreads()
    return tot


@functools.cache
def _kernels():
    """Compile-on-first-use kernels (importing this module needs no CUDA)."""
    global cuda
    cuda = _gpu._import_cuda()
    from numba import float64, int32, int64
    g = _gpu._kernels()
    uniform, randbelow = g["uniform"], g["randbelow"]
    from .kernels import SCHED_PERMUTATION, SCHED_RANDOM

    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        # no warp shuffles in the simulator: shared-memory stand-ins of this module (whose globals the
        # simulator swaps for the whole kernel; montecarlo.gpu's would race on its own module globals)
        @cuda.jit(device=True)
        def wsum_i64(v):
            return _sim_reduce(cuda.shared.array(32, int64), v, False)

        @cuda.jit(device=True)
        def wsum_f64(v):
            return _sim_reduce(cuda.shared.array(32, float64), v, False)

        @cuda.jit(device=True)
        def wmax_i32(v):
            return _sim_reduce(cuda.shared.array(32, int32), v, True)

        @cuda.jit(device=True)
        def wmax_f64(v):
            return _sim_reduce(cuda.shared.array(32, float64), v, True)
    else:
        wsum_i64, wsum_f64 = g["warp_sum_i64"], g["warp_sum_f64"]

        @cuda.jit(device=True, inline=True)
        def wmax(v):
            """Maximum over the 32 lanes (butterfly of shuffles: every lane gets it)."""
            for d in (16, 8, 4, 2, 1):
                o = cuda.shfl_xor_sync(_FULL, v, d)
                if o > v:  # noqa: PLR1730
                    v = o
            return v

        wmax_i32 = wmax_f64 = wmax

    @cuda.jit(device=True)
    def draw_order(order, N, sched, lane, s0, s1, s2, s3):
        """montecarlo.kernels.draw_order into the chain's global row; every lane draws, lane 0 writes."""
        if sched == SCHED_RANDOM:
            for a in range(N):
                i, s0, s1, s2, s3 = randbelow(N, s0, s1, s2, s3)
                if lane == 0:
                    order[a] = i
        else:
            if lane == 0:
                for a in range(N):
                    order[a] = a
            if sched == SCHED_PERMUTATION:
                for a in range(N - 1, 0, -1):
                    b, s0, s1, s2, s3 = randbelow(a + 1, s0, s1, s2, s3)
                    if lane == 0:
                        tmp = order[a]
                        order[a] = order[b]
                        order[b] = tmp
        cuda.syncthreads()
        return s0, s1, s2, s3

    @cuda.jit(device=True)
    def accept(dE, beta, dyn, ties_random, s0, s1, s2, s3):
        """montecarlo.modern._accept: heat bath (0), Metropolis (1), T = 0 (2; ties by u < 1/2 or frozen)."""
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
            if x > 700.0:
                return False, s0, s1, s2, s3
            return u * (1.0 + math.exp(x)) < 1.0, s0, s1, s2, s3
        if x <= 0.0:
            return True, s0, s1, s2, s3
        return u < math.exp(-x), s0, s1, s2, s3

    @cuda.jit
    def accepts(dE, betas, dyn, ties_random, rng, out):
        """accept() for many (DeltaE, beta, stream) triples, one per thread (for checks)."""
        for m in range(cuda.threadIdx.x, dE.shape[0], 32):
            ok, s0, s1, s2, s3 = accept(dE[m], betas[m], dyn, ties_random, rng[m, 0], rng[m, 1], rng[m, 2],
                                        rng[m, 3])
            out[m] = ok
            rng[m, 0] = s0
            rng[m, 1] = s1
            rng[m, 2] = s2
            rng[m, 3] = s3

    # ------------------------------------------------------------------------------------- LSE
    @cuda.jit(device=True)
    def lse_refresh(S, w, lam, lane, K):
        """w_mu = e^{lambda (S_mu - max S)} / sum; returns L = lambda max S + ln sum (modern._lse_refresh)."""
        mp = S[0]
        for mu in range(lane, K, 32):
            if S[mu] > mp:  # noqa: PLR1730 (builtin max of two scalars does not type in numba's CUDA target)
                mp = S[mu]
        m = wmax_i32(mp)
        part = 0.0
        for mu in range(lane, K, 32):
            e = math.exp(lam * (S[mu] - m))
            w[mu] = e
            part += e
        tot = wsum_f64(part)
        inv = 1.0 / tot
        for mu in range(lane, K, 32):
            w[mu] *= inv
        return lam * m + math.log(tot)

    @cuda.jit(device=True)
    def lse_delta(row, si, w, lam, lane, K):
        """DeltaE_i from the disagreeing (D) and agreeing (A) softmax masses (modern._lse_delta)."""
        Dp = 0.0
        Ap = 0.0
        for mu in range(lane, K, 32):
            if row[mu] != si:
                Dp += w[mu]
            else:
                Ap += w[mu]
        D = wsum_f64(Dp)
        A = wsum_f64(Ap)
        lD = math.log(D) if D > 0.0 else -math.inf
        lA = math.log(A) - 4.0 * lam if A > 0.0 else -math.inf
        mx = lD if lD > lA else lA  # noqa: FURB136 (builtin max does not type in the CUDA target)
        if mx == -math.inf:
            return math.inf
        return -2.0 - (mx + math.log(math.exp(lD - mx) + math.exp(lA - mx))) / lam

    @cuda.jit(device=True)
    def lse_chain(c, lane, Sc, wc, pat, spins, rng, order, lam, betas, dyn, schd, ties_random, nsweeps, target,
                  m_out, e_out, mx_out, y_out, acc_out):
        N = pat.shape[0]
        K = pat.shape[1]
        s0 = rng[c, 0]
        s1 = rng[c, 1]
        s2 = rng[c, 2]
        s3 = rng[c, 3]
        beta = betas[c]
        sp = spins[c]
        for mu in range(lane, K, 32):       # overlaps from scratch, as the CPU
            ov = int32(0)
            for i in range(N):
                ov += int32(pat[i, mu]) * int32(sp[i])
            Sc[mu] = ov
        cuda.syncthreads()
        L = lse_refresh(Sc, wc, lam, lane, K)
        for sweep in range(nsweeps):
            s0, s1, s2, s3 = draw_order(order[c], N, schd, lane, s0, s1, s2, s3)
            nacc = 0
            for t in range(N):
                i = order[c, t]
                si = sp[i]
                dE = lse_delta(pat[i], si, wc, lam, lane, K)
                ok, s0, s1, s2, s3 = accept(dE, beta, dyn, ties_random, s0, s1, s2, s3)
                if ok:
                    two = int32(2 * si)
                    for mu in range(lane, K, 32):
                        Sc[mu] -= two * int32(pat[i, mu])
                    cuda.syncthreads()      # every lane has read spins[c, i]
                    if lane == 0:
                        sp[i] = -si
                    L = lse_refresh(Sc, wc, lam, lane, K)
                    nacc += 1
                cuda.syncthreads()
            bp = int32(-N - 1)
            yp = 0.0
            for mu in range(lane, K, 32):
                yp += wc[mu] * wc[mu]
                if mu != target and Sc[mu] > bp:
                    bp = Sc[mu]
            best = wmax_i32(bp)
            y = wsum_f64(yp)
            if lane == 0:
                m_out[c, sweep] = Sc[target] / N
                e_out[c, sweep] = -L / lam
                mx_out[c, sweep] = best / N if K > 1 else math.nan
                y_out[c, sweep] = y
                acc_out[c, sweep] = nacc / N
            cuda.syncthreads()
        if lane == 0:
            rng[c, 0] = s0
            rng[c, 1] = s1
            rng[c, 2] = s2
            rng[c, 3] = s3

    @cuda.jit
    def lse_shared(pat, pidx, spins, S, W, rng, order, lam, betas, dyn, schd, ties_random, nsweeps, target,
                   m_out, e_out, mx_out, y_out, acc_out):
        """Weights (8 K bytes) and overlaps (4 K bytes) of the chain in shared memory; chain c on pat[pidx[c]]."""
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        K = S.shape[1]
        wc = cuda.shared.array(0, dtype=float64)[:K]
        Sc = cuda.shared.array(0, dtype=int32)[2 * K:3 * K]
        lse_chain(c, lane, Sc, wc, pat[pidx[c]], spins, rng, order, lam, betas, dyn, schd, ties_random, nsweeps,
                  target, m_out, e_out, mx_out, y_out, acc_out)
        cuda.syncthreads()
        for mu in range(lane, K, 32):
            S[c, mu] = Sc[mu]

    @cuda.jit
    def lse_global(pat, pidx, spins, S, W, rng, order, lam, betas, dyn, schd, ties_random, nsweeps, target,
                   m_out, e_out, mx_out, y_out, acc_out):
        """Weights and overlaps in global memory (K too large for shared memory); chain c on pat[pidx[c]]."""
        c = cuda.blockIdx.x
        lse_chain(c, cuda.threadIdx.x, S[c], W[c], pat[pidx[c]], spins, rng, order, lam, betas, dyn, schd,
                  ties_random, nsweeps, target, m_out, e_out, mx_out, y_out, acc_out)

    @cuda.jit
    def lse_deltas(pat, spins, S, W, lam, out):
        """DeltaE_i of every site of state c (one warp per state; the chains' lse_delta, for checks)."""
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        N = pat.shape[0]
        K = pat.shape[1]
        for mu in range(lane, K, 32):
            ov = int32(0)
            for i in range(N):
                ov += int32(pat[i, mu]) * int32(spins[c, i])
            S[c, mu] = ov
        cuda.syncthreads()
        lse_refresh(S[c], W[c], lam, lane, K)
        for i in range(N):
            dE = lse_delta(pat[i], spins[c, i], W[c], lam, lane, K)
            if lane == 0:
                out[c, i] = dE

    # ------------------------------------------------------------------------------ polynomial
    @cuda.jit(device=True)
    def F(x, n, rect):
        if rect and x < 0:
            return int64(0)
        r = int64(1)
        for _ in range(n):
            r *= x
        return r

    @cuda.jit(device=True)
    def poly_num(row, si, Sc, n, rect, lane, K):
        """sum_mu [F(S_mu - 2 sigma_i xi_i^mu) - F(S_mu)] (exact int64, lanes' shares summed over the warp)."""
        part = int64(0)
        for mu in range(lane, K, 32):
            a = Sc[mu]
            part += F(a - 2 * si * int64(row[mu]), n, rect) - F(a, n, rect)
        return wsum_i64(part)

    @cuda.jit(device=True)
    def poly_chain(c, lane, Sc, pat, spins, rng, order, n, rect, inv_scale, betas, dyn, schd, ties_random,
                   nsweeps, target, m_out, num_out, acc_out):
        N = pat.shape[0]
        K = pat.shape[1]
        s0 = rng[c, 0]
        s1 = rng[c, 1]
        s2 = rng[c, 2]
        s3 = rng[c, 3]
        beta = betas[c]
        sp = spins[c]
        for mu in range(lane, K, 32):
            ov = int64(0)
            for i in range(N):
                ov += int64(pat[i, mu]) * int64(sp[i])
            Sc[mu] = ov
        cuda.syncthreads()
        for sweep in range(nsweeps):
            s0, s1, s2, s3 = draw_order(order[c], N, schd, lane, s0, s1, s2, s3)
            nacc = 0
            for t in range(N):
                i = order[c, t]
                si = int64(sp[i])
                num = poly_num(pat[i], si, Sc, n, rect, lane, K)
                dE = -num * inv_scale
                if dyn == 2:
                    dE = -float(num)  # exact sign
                ok, s0, s1, s2, s3 = accept(dE, beta, dyn, ties_random, s0, s1, s2, s3)
                if ok:
                    for mu in range(lane, K, 32):
                        Sc[mu] -= 2 * si * int64(pat[i, mu])
                    cuda.syncthreads()      # every lane has read spins[c, i]
                    if lane == 0:
                        sp[i] = -si
                    nacc += 1
                cuda.syncthreads()
            part = int64(0)
            for mu in range(lane, K, 32):
                part += F(Sc[mu], n, rect)
            tot = wsum_i64(part)
            if lane == 0:
                m_out[c, sweep] = Sc[target] / N
                num_out[c, sweep] = tot
                acc_out[c, sweep] = nacc / N
            cuda.syncthreads()
        if lane == 0:
            rng[c, 0] = s0
            rng[c, 1] = s1
            rng[c, 2] = s2
            rng[c, 3] = s3

    @cuda.jit
    def poly_shared(pat, spins, S, rng, order, n, rect, inv_scale, betas, dyn, schd, ties_random, nsweeps,
                    target, m_out, num_out, acc_out):
        """Overlaps (int64, 8 K bytes) of the chain in shared memory."""
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        K = S.shape[1]
        Sc = cuda.shared.array(0, dtype=int64)[:K]
        poly_chain(c, lane, Sc, pat, spins, rng, order, n, rect, inv_scale, betas, dyn, schd, ties_random,
                   nsweeps, target, m_out, num_out, acc_out)
        cuda.syncthreads()
        for mu in range(lane, K, 32):
            S[c, mu] = Sc[mu]

    @cuda.jit
    def poly_global(pat, spins, S, rng, order, n, rect, inv_scale, betas, dyn, schd, ties_random, nsweeps,
                    target, m_out, num_out, acc_out):
        c = cuda.blockIdx.x
        poly_chain(c, cuda.threadIdx.x, S[c], pat, spins, rng, order, n, rect, inv_scale, betas, dyn, schd,
                   ties_random, nsweeps, target, m_out, num_out, acc_out)

    @cuda.jit
    def poly_nums(pat, spins, S, n, rect, out):
        """The numerators of every site of state c (the chains' poly_num, for checks)."""
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        N = pat.shape[0]
        K = pat.shape[1]
        for mu in range(lane, K, 32):
            ov = int64(0)
            for i in range(N):
                ov += int64(pat[i, mu]) * int64(spins[c, i])
            S[c, mu] = ov
        cuda.syncthreads()
        for i in range(N):
            num = poly_num(pat[i], int64(spins[c, i]), S[c], n, rect, lane, K)
            if lane == 0:
                out[c, i] = num

    # ------------------------------------------------------------------------------- spherical
    @cuda.jit(device=True)
    def normals(s0, s1, s2, s3):
        """montecarlo.modern._normals: two normals (Box-Muller)."""
        u1, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        u2, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        t = 2.0 * math.pi * u2
        return r * math.cos(t), r * math.sin(t), s0, s1, s2, s3

    @cuda.jit(device=True)
    def sph_energy(X, x, lam, kern, eps, log_bulk, phi, lane):
        """phi_mu = xi^mu . x / N (lane's mu, sum over i in order); E = -(1/lambda) ln sum_mu e^{lambda N phi_mu}
        (kern 0; plus the constant e^log_bulk in the sum, added first by lane 0) or
        -(1/lambda) ln sum_mu max[eps, 1 - N lambda (1 - phi_mu)] (kern 1, LSR)."""
        N = X.shape[0]
        K = X.shape[1]
        mp = log_bulk
        lsr = 0.0
        for mu in range(lane, K, 32):
            p = 0.0
            for i in range(N):
                p += X[i, mu] * x[i]
            p /= N
            phi[mu] = p
            if kern == 1:
                kp = 1.0 - lam * N * (1.0 - p)
                lsr += kp if kp > eps else eps  # noqa: FURB136 (builtin max does not type in the CUDA target)
            elif lam * N * p > mp:  # noqa: PLR1730
                mp = lam * N * p
        if kern == 1:
            return -math.log(wsum_f64(lsr)) / lam
        m = wmax_f64(mp)
        part = math.exp(log_bulk - m) if lane == 0 else 0.0
        for mu in range(lane, K, 32):
            part += math.exp(lam * N * phi[mu] - m)
        tot = wsum_f64(part)
        return -(m + math.log(tot)) / lam

    @cuda.jit
    def spherical_kernel(Xs, pidx, xs, ys, phis, phins, rng, lam, kern, eps, log_bulk, betas, steps, nsteps, every, target,
                         phi_out, e_out, acc_out):
        """Chain c (one warp) on the patterns Xs[pidx[c]] of a stack (D, N, K)."""
        lane = cuda.threadIdx.x
        c = cuda.blockIdx.x
        X = Xs[pidx[c]]
        N = X.shape[0]
        K = X.shape[1]
        x = xs[c]
        y = ys[c]
        phi = phis[c]
        phin = phins[c]
        s0 = rng[c, 0]
        s1 = rng[c, 1]
        s2 = rng[c, 2]
        s3 = rng[c, 3]
        beta = betas[c]
        step = steps[c]
        rootN = math.sqrt(N)
        E = sph_energy(X, x, lam, kern, eps, log_bulk[c], phi, lane)
        nacc = 0
        k = 0
        for t in range(nsteps):
            nrm = 0.0
            for i in range(0, N, 2):       # every lane: all N draws (in pairs) and the norm, in the CPU's order
                g0, g1, s0, s1, s2, s3 = normals(s0, s1, s2, s3)
                yi = x[i] + step * g0
                if (i & 31) == lane:
                    y[i] = yi
                nrm += yi * yi
                if i + 1 < N:
                    yi = x[i + 1] + step * g1
                    if ((i + 1) & 31) == lane:
                        y[i + 1] = yi
                    nrm += yi * yi
            f = rootN / math.sqrt(nrm)
            for i in range(lane, N, 32):
                y[i] *= f
            cuda.syncthreads()
            En = sph_energy(X, y, lam, kern, eps, log_bulk[c], phin, lane)
            dE = En - E
            u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
            if dE <= 0.0 or u < math.exp(-beta * dE):
                for i in range(lane, N, 32):
                    x[i] = y[i]
                for mu in range(lane, K, 32):
                    phi[mu] = phin[mu]
                E = En
                nacc += 1
            cuda.syncthreads()
            if (t + 1) % every == 0:
                if lane == 0:
                    phi_out[c, k] = phi[target]
                    e_out[c, k] = E
                    acc_out[c, k] = nacc / every
                nacc = 0
                k += 1
        if lane == 0:
            rng[c, 0] = s0
            rng[c, 1] = s1
            rng[c, 2] = s2
            rng[c, 3] = s3

    return {"lse_shared": lse_shared, "lse_global": lse_global, "poly_shared": poly_shared,
            "poly_global": poly_global, "spherical": spherical_kernel, "lse_deltas": lse_deltas,
            "poly_nums": poly_nums, "accepts": accepts, "cuda": cuda}


def _launch(kernel, chains, shared_bytes, host_args, outputs):
    """Copy ``host_args`` (numpy arrays; scalars pass through) to the device, run one block of 32 threads
    per chain, and copy the device copies of the host arrays in ``outputs`` back into them."""
    _gpu.check_device_memory(sum(a.nbytes for a in host_args if isinstance(a, np.ndarray)), "chains", chains)
    cuda = _kernels()["cuda"]
    dev = [cuda.to_device(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in host_args]
    kernel[chains, 32, 0, shared_bytes](*dev)
    for a, d in zip(host_args, dev):
        if any(a is o for o in outputs):
            a[...] = d.copy_to_host()


def lse_chains(pat, pidx, spins, S, W, rng, lam, betas, dyn, schd, ties_random, nsweeps, target,
               m_out, e_out, mx_out, y_out, acc_out):
    """GPU montecarlo.modern._lse_chains (same arguments: chain c on the patterns pat[pidx[c]] of a stack
    (D, N, K); spins, S, rng and the records are updated)."""
    k = _kernels()
    C, K = S.shape
    order = np.zeros((C, pat.shape[1]), np.int32)
    if 12 * K <= _gpu.SHARED_BYTES:
        kern, shared = k["lse_shared"], 12 * K
    else:
        kern, shared = k["lse_global"], 0
    args = [pat, np.ascontiguousarray(pidx, np.int64), spins, S, W, rng, order, float(lam),
            np.ascontiguousarray(betas, np.float64), int(dyn), int(schd), bool(ties_random), int(nsweeps), int(target),
            m_out, e_out, mx_out, y_out, acc_out]
    _launch(kern, C, shared, args, (spins, S, rng, m_out, e_out, mx_out, y_out, acc_out))


def poly_chains(pat, spins, S, rng, n, rect, inv_scale, betas, dyn, schd, ties_random, nsweeps, target,
                m_out, num_out, acc_out):
    """GPU montecarlo.modern._poly_chains (same arguments)."""
    k = _kernels()
    C, K = S.shape
    order = np.zeros((C, pat.shape[0]), np.int32)
    if 8 * K <= _gpu.SHARED_BYTES:
        kern, shared = k["poly_shared"], 8 * K
    else:
        kern, shared = k["poly_global"], 0
    args = [pat, spins, S, rng, order, int(n), bool(rect), float(inv_scale), np.ascontiguousarray(betas, np.float64),
            int(dyn), int(schd), bool(ties_random), int(nsweeps), int(target), m_out, num_out, acc_out]
    _launch(kern, C, shared, args, (spins, S, rng, m_out, num_out, acc_out))


def accept_decisions(dE, betas, dyn, ties_random, rng):
    """The chains' acceptance decisions (bool (M,)) for DeltaE and beta (M,) and streams rng (M, 4), advanced
    in place: montecarlo.modern._accept on the GPU (for checks)."""
    out = np.zeros(dE.shape[0], np.bool_)
    args = [np.ascontiguousarray(dE, np.float64), np.ascontiguousarray(betas, np.float64), int(dyn),
            bool(ties_random), rng, out]
    _launch(_kernels()["accepts"], 1, 0, args, (rng, out))
    return out


def lse_delta_energies(pat, states, lam):
    """DeltaE_i (float64 (C, N)) of every site of the states (C, N) on the GPU: montecarlo.modern.lse_delta_energies
    through the chains' device functions (for checks); the CPU twin's checks first (a device has no bounds checks)."""
    from hopfield.validation import check_real
    from .modern import _binary_patterns, _check_states
    pat = _binary_patterns(pat)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    states = _check_states(states, pat.shape[0], np.asarray(states).shape[0] if np.ndim(states) == 2 else 1)
    C, N = states.shape
    K = pat.shape[1]
    out = np.empty((C, N))
    args = [pat, states, np.zeros((C, K), np.int32), np.zeros((C, K)), float(lam), out]
    _launch(_kernels()["lse_deltas"], C, 0, args, (out,))
    return out


def poly_delta_numerators(pat, states, n, rect):
    """Numerators (int64 (C, N)) of every site on the GPU: montecarlo.modern.poly_delta_numerators (for checks);
    the CPU twin's checks first (exact int64 range, shapes)."""
    from hopfield.validation import check_integer
    from .modern import _binary_patterns, _check_states, _poly_check
    pat = _binary_patterns(pat)
    n = check_integer("n", n, low=2, high=30)
    _poly_check(pat.shape[0], pat.shape[1], n)
    states = _check_states(states, pat.shape[0], np.asarray(states).shape[0] if np.ndim(states) == 2 else 1)
    C, N = states.shape
    out = np.empty((C, N), np.int64)
    args = [pat, states, np.zeros((C, pat.shape[1]), np.int64), int(n), bool(rect), out]
    _launch(_kernels()["poly_nums"], C, 0, args, (out,))
    return out


def spherical_chains(X, pidx, xs, rng, lam, kern, eps, log_bulk, betas, steps, nsteps, every, target, phi_out, e_out, acc_out):
    """GPU montecarlo.modern._sph_chains (same arguments: chain c on X[pidx[c]] of a stack (D, N, K); xs and
    rng are updated)."""
    k = _kernels()
    C, N = xs.shape
    K = X.shape[2]
    work = [np.zeros((C, N)), np.zeros((C, K)), np.zeros((C, K))]
    args = [X, np.ascontiguousarray(pidx, np.int64), xs, *work, rng, float(lam), int(kern), float(eps),
            np.ascontiguousarray(log_bulk, np.float64), np.ascontiguousarray(betas, np.float64),
            np.ascontiguousarray(steps, np.float64), int(nsteps), int(every), int(target), phi_out, e_out, acc_out]
    _launch(k["spherical"], C, 0, args, (xs, rng, phi_out, e_out, acc_out))
