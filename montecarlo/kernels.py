"""Numba kernels: single-flip Monte Carlo for Hebbian networks (pairwise and dense P-body).

Chain state: spins (int8, N), unnormalised overlaps S_mu = xi^mu . sigma (int16 for N < 2^15, else
int32; K entries, exact), and a xoshiro256** stream (4 uint64). A proposal at site i reads row i of
the spin-major pattern array (int8, contiguous) and computes the exact energy change from the overlaps in O(K)
(montecarlo.md sec. 2.1-2.2, distinct-index convention, exact 1/N corrections):

    DeltaE_i = (P / N^(P-1)) * D_i,   D_i = sum_mu x_i^mu (P-1)! e_{P-1}(x^mu without site i)

with x_j^mu = xi_j^mu sigma_j. D_i is an exact integer:
    P = 2: D_i = sigma_i sum_mu xi_i^mu S_mu - n_i            (n_i = non-blank entries in row i)
    P = 3: D_i = sum_mu x (S'^2 - n')                          (S' = S - x, n' = n_mu - x^2)
    P = 4: D_i = sum_mu x (S'^3 - (3 n' - 2) S')
    P > 4: Newton's identities with p_odd = S', p_even = n'.
An accepted flip updates S_mu -= 2 sigma_i xi_i^mu (O(K)). Couplings are never built.

Speed: P = 2 is an int8 x int16 dot product with int32 accumulation (vpmaddwd on AVX2) when
K N < 2^31 (else int64); P = 4 keeps a per-chain cache A_mu, B_mu (functions of S only, refreshed
on accepted flips) so that a proposal is one int8 x float64 dot product; float64 holds exact
integers (guarded: K (N+3)^3 < 2^52, else the int64 Newton path). The row of the proposal two
steps ahead is prefetched (sites are drawn at the start of each sweep).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .rng import next_u64, randbelow, uniform

# reassociation (vectorised float reductions of exact integers) but no nnan/ninf: exp may overflow
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Software prefetch (llvm.prefetch, read, high locality) of arr[idx]."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen

DYN_HEAT_BATH, DYN_METROPOLIS, DYN_ZERO = 0, 1, 2
SCHED_RANDOM, SCHED_SEQUENTIAL, SCHED_PERMUTATION = 0, 1, 2
TIES_RANDOM, TIES_FROZEN = 0, 1


def newton_coefficients(P: int) -> np.ndarray:
    """coef[k, j] = (-1)^(j-1) (k-1)!/(k-j)!: E_k = sum_j coef[k, j] E_{k-j} p_j with E_k = k! e_k."""
    c = np.zeros((P + 1, P + 1), dtype=np.int64)
    for k in range(1, P + 1):
        for j in range(1, k + 1):
            c[k, j] = (-1) ** (j - 1) * (math.factorial(k - 1) // math.factorial(k - j))
    return c


@intrinsic
def _dot16_i8_i16(typingctx, row, S, n16):
    """sum_{k < 16 n16} row[k] S[k] for contiguous int8 ``row`` and int16 ``S``, int32 accumulation.

    Written as vector IR on 16 lanes: sext to i32, multiply, add the even and odd products into
    an <8 x i32> accumulator. The x86 backend turns this into one 256-bit vpmaddwd per 16
    entries (LLVM's own vectoriser picks 8 lanes here, i.e. 128-bit vpmaddwd, about 1.5x slower
    on a 1000-entry row in L1); on other targets it lowers to whatever the target has. The
    summation order is fixed, and exact anyway (integers, no overflow: K N < 2^31).
    """
    if not (isinstance(row, types.Array) and isinstance(S, types.Array) and row.dtype == types.int8
            and S.dtype == types.int16 and row.layout == "C" and S.layout == "C"):
        return None
    sig = types.int32(row, S, n16)

    def codegen(context, builder, signature, args):
        rowty, Sty, nty = signature.args
        ra = context.make_array(rowty)(context, builder, args[0])
        sa = context.make_array(Sty)(context, builder, args[1])
        n = context.cast(builder, args[2], nty, types.intp)
        i32 = ir.IntType(32)
        v16i8 = ir.VectorType(ir.IntType(8), 16)
        v16i16 = ir.VectorType(ir.IntType(16), 16)
        v16i32 = ir.VectorType(i32, 16)
        v8i32 = ir.VectorType(i32, 8)
        even = ir.Constant(v8i32, [2 * q for q in range(8)])
        odd = ir.Constant(v8i32, [2 * q + 1 for q in range(8)])
        acc = cgutils.alloca_once_value(builder, ir.Constant(v8i32, None))
        with cgutils.for_range(builder, n) as loop:
            off = builder.mul(loop.index, ir.Constant(n.type, 16))
            x = builder.load(builder.bitcast(builder.gep(ra.data, [off]), v16i8.as_pointer()), align=1)
            y = builder.load(builder.bitcast(builder.gep(sa.data, [off]), v16i16.as_pointer()), align=2)
            p = builder.mul(builder.sext(x, v16i32), builder.sext(y, v16i32))
            pair = builder.add(builder.shuffle_vector(p, p, even), builder.shuffle_vector(p, p, odd))
            builder.store(builder.add(builder.load(acc), pair), acc)
        v = builder.load(acc)
        tot = ir.Constant(i32, 0)
        for q in range(8):
            tot = builder.add(tot, builder.extract_element(v, ir.Constant(i32, q)))
        return tot

    return sig, codegen


def _dot_p2(row, S, K):
    """sum_k row[k] S[k] with int32 accumulation (caller guarantees K N < 2^31); numba only."""
    raise NotImplementedError


@overload(_dot_p2, inline="always")
def _ov_dot_p2(row, S, K):
    if (isinstance(row, types.Array) and isinstance(S, types.Array) and row.dtype == types.int8
            and S.dtype == types.int16 and row.layout == "C" and S.layout == "C"):
        def impl(row, S, K):  # 16-lane vpmaddwd blocks, then the tail
            n16 = K >> 4
            acc = _dot16_i8_i16(row, S, n16)
            for k in range(n16 << 4, K):
                acc = np.int32(acc + np.int32(row[k]) * np.int32(S[k]))
            return acc
        return impl

    def impl_generic(row, S, K):
        acc = np.int32(0)
        for k in range(K):
            acc = np.int32(acc + np.int32(row[k]) * np.int32(S[k]))
        return acc
    return impl_generic


@njit(inline="always", cache=True)
def _dot_p2_wide(row, S, K):
    acc = np.int64(0)
    for k in range(K):
        acc += np.int64(row[k]) * np.int64(S[k])
    return acc


@njit(inline="always", cache=True)
def _num_p3(row, S, ncol, K, sig):
    acc = np.int64(0)
    for k in range(K):
        x = np.int64(row[k]) * sig
        sp = np.int64(S[k]) - x
        n1 = np.int64(ncol[k]) - x * x
        acc += x * (sp * sp - n1)
    return acc


@njit(inline="always", cache=True)
def _num_p4(row, S, c4, K, sig):
    # z = xi_i^mu, x = z sigma_i, y = x S' = z sigma_i S - z^2 (an integer, |y| <= N). For z != 0,
    # x^2 = 1 so x S'^3 = y^3 and x S' = y; n' = n - 1: term = y^3 - (3 n - 5) y = y (y^2 - c4).
    # For z = 0, y = 0 and the term vanishes as it must. y in int32 (8 SIMD lanes), the cubic in
    # float64 on exact integers (exact while |values| < 2^53, guarded by the caller via ``wide``).
    acc = 0.0
    for k in range(K):
        z = np.int32(row[k])
        yi = z * np.int32(sig) * np.int32(S[k]) - z * z
        y = float(np.int32(yi))
        acc += y * (y * y - c4[k])
    return np.int64(acc)


_SIGN = -(1 << 63)
_LUT = [[(_SIGN if (n >> b) & 1 else 0) for b in range(4)] for n in range(16)]

@intrinsic
def _pm1dot_f64(typingctx, row, G, n32):
    """sum_{k < 32 n32} row[k] G[k] for contiguous ``row`` with entries in {-1, +1}, float64 ``G``.

    No int8 -> float64 conversions (one shuffle per 4 entries, the bottleneck of the plain loop):
    per 32 entries one vpmovmskb of the signs, then per 4 entries a 16-entry table of sign masks,
    an xor into G and an add. Eight accumulators in a fixed order; exact for integer-valued G with
    all partial sums below 2^53.
    """
    if not (isinstance(row, types.Array) and isinstance(G, types.Array) and row.dtype == types.int8
            and G.dtype == types.float64 and row.layout == "C" and G.layout == "C"):
        return None
    sig = types.float64(row, G, n32)

    def codegen(context, builder, signature, args):
        rowty, Gty, nty = signature.args
        ra = context.make_array(rowty)(context, builder, args[0])
        ga = context.make_array(Gty)(context, builder, args[1])
        n = context.cast(builder, args[2], nty, types.intp)
        i32, i64 = ir.IntType(32), ir.IntType(64)
        v32i8 = ir.VectorType(ir.IntType(8), 32)
        v4i64 = ir.VectorType(i64, 4)
        v4f = ir.VectorType(ir.DoubleType(), 4)
        lutty = ir.ArrayType(v4i64, 16)
        mod = builder.module
        name = "_pm1dot_sign_lut"
        try:
            lut = mod.get_global(name)
        except KeyError:
            lut = ir.GlobalVariable(mod, lutty, name=name)
            lut.global_constant = True
            lut.linkage = "internal"
            lut.align = 32
            lut.initializer = ir.Constant(lutty, [ir.Constant(v4i64, r) for r in _LUT])
        zero8 = ir.Constant(v32i8, None)
        accs = [cgutils.alloca_once_value(builder, ir.Constant(v4f, None)) for _ in range(8)]
        gp = builder.bitcast(ga.data, v4i64.as_pointer())
        with cgutils.for_range(builder, n) as loop:
            off = builder.mul(loop.index, ir.Constant(n.type, 32))
            x = builder.load(builder.bitcast(builder.gep(ra.data, [off]), v32i8.as_pointer()), align=1)
            m = builder.bitcast(builder.icmp_signed("<", x, zero8), i32)
            gbase = builder.mul(loop.index, ir.Constant(n.type, 8))
            for q in range(8):
                nib = builder.and_(builder.lshr(m, ir.Constant(i32, 4 * q)), ir.Constant(i32, 15))
                mask = builder.load(builder.gep(lut, [ir.Constant(i32, 0), nib]), align=32)
                g = builder.load(builder.gep(gp, [builder.add(gbase, ir.Constant(n.type, q))]), align=8)
                r = builder.bitcast(builder.xor(g, mask), v4f)
                builder.store(builder.fadd(builder.load(accs[q]), r), accs[q])
        vs = [builder.load(a) for a in accs]
        while len(vs) > 1:
            vs = [builder.fadd(vs[2 * j], vs[2 * j + 1]) for j in range(len(vs) // 2)]
        v = vs[0]
        e = [builder.extract_element(v, ir.Constant(i32, q)) for q in range(4)]
        return builder.fadd(builder.fadd(e[0], e[1]), builder.fadd(e[2], e[3]))

    return sig, codegen

@njit(inline="always", cache=True)
def _num_p4_cached(row, A, B, Bsum, K, sig, diluted):
    # With w = z sigma_i S (z = xi_i^mu != 0): y = w - 1 and y^3 - c4 y = z sigma_i A_mu + B_mu, where
    # A_mu = S^3 + (3 - c4) S and B_mu = c4 - 1 - 3 S^2 depend on the chain state only (kept up to date
    # on accepted flips). So D_i = sigma_i sum_mu z A_mu + sum_mu z^2 B_mu; for +-1 patterns the last
    # sum is the scalar Bsum. Exact: integers held in float64 (|values| < 2^53, guarded by ``wide``).
    if diluted:
        acc = 0.0
        for k in range(K):
            acc += float(row[k]) * A[k]
    else:
        n32 = K >> 5
        acc = _pm1dot_f64(row, A, n32)
        for k in range(n32 << 5, K):
            acc += float(row[k]) * A[k]
    acc = float(sig) * acc
    if diluted:
        acc2 = 0.0
        for k in range(K):
            z = float(row[k])
            acc2 += z * z * B[k]
        acc += acc2
    else:
        acc += Bsum
    return np.int64(acc)


@njit(inline="always", cache=True)
def _refresh_p4_cache(S, c4, A, B):
    bs = 0.0
    for k in range(S.shape[0]):
        f = float(S[k])
        A[k] = f * (f * f + 3.0 - c4[k])
        b = c4[k] - 1.0 - 3.0 * f * f
        B[k] = b
        bs += b
    return bs


@njit(inline="always", cache=True)
def _update_p4(row, S, c4, A, B, two, diluted):
    # accepted flip: S -= 2 sigma_i xi_i, then the cache is refreshed; B itself is only needed (and
    # stored) for diluted patterns, +-1 patterns need only its sum
    K = S.shape[0]
    for k in range(K):
        S[k] = S[k] - two * np.int32(row[k])
    if diluted:
        return _refresh_p4_cache(S, c4, A, B)
    # +-1 patterns: c4 is the same for every pattern. Two passes: the overlap update runs on full
    # int16 vectors, then one branch-free float64 pass A = S (S^2 + 3 - c4), sum S^2 (a fused
    # loop runs both on 4 lanes, about 1.4x slower). Bsum = K (c4 - 1) - 3 sum S^2 is the same exact
    # integer as the sum of the B_mu (all partial sums are integers below 2^53).
    ca = 3.0 - c4[0]
    q = 0.0
    for k in range(K):
        f = float(np.int32(S[k]))
        f2 = f * f
        A[k] = f * (f2 + ca)
        q += f2
    return float(K) * (c4[0] - 1.0) - 3.0 * q


@njit(parallel=True, cache=True)
def init_p4_cache(S, c4, pidx, AB, Bsum):
    """(Re)compute the P = 4 cache (A, B, Bsum) of every chain from its overlaps."""
    for c in prange(S.shape[0]):
        Bsum[c] = _refresh_p4_cache(S[c], c4[pidx[c]], AB[c, 0], AB[c, 1])


@njit(inline="always", cache=True)
def _num_general(row, S, ncol, K, sig, P, coef, work):
    acc = np.int64(0)
    for k in range(K):
        x = np.int64(row[k]) * sig
        if x == 0:
            continue
        sp = np.int64(S[k]) - x
        n1 = np.int64(ncol[k]) - x * x
        work[0] = 1
        for q in range(1, P):
            t = np.int64(0)
            for j in range(1, q + 1):
                pj = sp if (j & 1) == 1 else n1
                t += coef[q, j] * work[q - j] * pj
            work[q] = t
        acc += x * work[P - 1]
    return acc


@njit(inline="always", cache=True)
def delta_numerator(row, S, ncol, c4, nrow_i, sig, P, wide, coef, work):
    """Exact integer D_i with DeltaE_i = (P / N^(P-1)) D_i (see module docstring)."""
    K = S.shape[0]
    s = np.int64(sig)
    if P == 2:
        if wide:
            d = _dot_p2_wide(row, S, K)
        else:
            d = np.int64(_dot_p2(row, S, K))
        return s * d - np.int64(nrow_i)
    elif P == 3:
        return _num_p3(row, S, ncol, K, s)
    elif P == 4 and not wide:
        return _num_p4(row, S, c4, K, s)
    else:
        return _num_general(row, S, ncol, K, s, P, coef, work)


@njit(cache=True, fastmath=FASTMATH)
def sweep_chain(pat, nrow, ncol, c4, spins, S, st, beta, P, scale, dyn, sched, ties, wide, coef, order,
                use_cache, diluted, A, B, Bs, nsweeps=1, pf=2):
    """``nsweeps`` sweeps (N proposals each) of one chain, in place. ``st``: its 4-word RNG state;
    ``order``: int64 work array of length N. Returns the number of accepted flips.

    Per sweep the N sites are drawn first (random: N uniform draws; permutation: Fisher-Yates;
    sequential: 0..N-1), then the proposals run in that order, drawing acceptance uniforms as needed
    (heat bath: one per proposal; Metropolis: one per uphill proposal; T = 0: one bit per tie).
    The row of the proposal two steps ahead is prefetched.
    """
    N = pat.shape[0]
    K = pat.shape[1]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    work = np.empty(P + 1, dtype=np.int64)
    accepted = 0
    for _sw in range(nsweeps):
        if sched == SCHED_RANDOM:
            for a in range(N):
                i, s0, s1, s2, s3 = randbelow(N, s0, s1, s2, s3)
                order[a] = i
        else:
            for a in range(N):
                order[a] = a
            if sched == SCHED_PERMUTATION:
                for a in range(N - 1, 0, -1):  # Fisher-Yates
                    b, s0, s1, s2, s3 = randbelow(a + 1, s0, s1, s2, s3)
                    tmp = order[a]
                    order[a] = order[b]
                    order[b] = tmp
        for a in range(N):
            i = order[a]
            if pf > 0 and a + pf < N:
                nxt = pat[order[a + pf]]
                for k in range(0, K, 64):
                    _prefetch(nxt, k)
            row = pat[i]
            sig = spins[i]
            if use_cache:
                D = _num_p4_cached(row, A, B, Bs[0], K, sig, diluted)
            else:
                D = delta_numerator(row, S, ncol, c4, nrow[i], sig, P, wide, coef, work)
            flip = False
            if dyn == DYN_HEAT_BATH:
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                flip = u * (1.0 + math.exp(beta * scale * D)) < 1.0
            elif dyn == DYN_METROPOLIS:
                if D <= 0:
                    flip = True
                else:
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    flip = u < math.exp(-beta * scale * D)
            else:
                if D < 0:
                    flip = True
                elif D == 0 and ties == TIES_RANDOM:
                    x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                    flip = (x >> np.uint64(63)) == np.uint64(1)
            if flip:
                accepted += 1
                spins[i] = -sig
                two = 2 * np.int32(sig)
                if use_cache:
                    Bs[0] = _update_p4(row, S, c4, A, B, two, diluted)
                else:
                    for k in range(K):
                        S[k] = S[k] - two * np.int32(row[k])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return accepted


@njit(cache=True)
def delta_numerator_chain(row, S, ncol, c4, nrow_i, sig, P, wide, coef, use_cache, diluted, A, B, Bsum):
    """The D_i the sweep uses (cached P = 4 path or :func:`delta_numerator`)."""
    if use_cache:
        return _num_p4_cached(row, A, B, Bsum, S.shape[0], sig, diluted)
    work = np.empty(P + 1, dtype=np.int64)
    return delta_numerator(row, S, ncol, c4, nrow_i, sig, P, wide, coef, work)


@njit(cache=True)
def energy_from_overlaps(S, ncol, N, P, coef):
    """H = -(1/(2 N^(P-1))) sum_mu P! e_P, from S_mu and n_mu (float64; exact integers while < 2^53)."""
    K = S.shape[0]
    tot = 0.0
    work = np.empty(P + 1, dtype=np.float64)
    if P == 2:
        for k in range(K):
            s = float(S[k])
            tot += s * s - float(ncol[k])
    else:
        for k in range(K):
            sp = float(S[k])
            n1 = float(ncol[k])
            work[0] = 1.0
            for q in range(1, P + 1):
                t = 0.0
                for j in range(1, q + 1):
                    pj = sp if (j & 1) == 1 else n1
                    t += coef[q, j] * work[q - j] * pj
                work[q] = t
            tot += work[P]
    return -tot / (2.0 * float(N) ** (P - 1))


@njit(parallel=True, cache=True)
def run_batch(pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, ladder, perm, P, scale, dyn, sched_code, ties,
              wide, coef, use_cache, diluted, AB, Bsum, nsweeps, parity0, do_pt, swap_rng, swap_att, swap_acc,
              pairs, measure, acc_total, rec_E, rec_m, rec_a, rec_q):
    """Advance every chain by ``nsweeps`` sweeps, in lockstep, recording after each sweep.

    Layout: chains c, groups g (a disorder sample x replica), slots k (temperature index);
    ``perm[g, k]`` is the chain currently at ladder temperature k of group g. Chain c uses patterns
    ``pat[pidx[c]]`` and inverse temperature ``cbeta[c]``. With ``do_pt`` neighbouring slots of
    each group attempt a temperature swap after every sweep (even pairs on even sweeps, odd on odd),
    accepted with probability min(1, exp((beta_k - beta_{k+1}) (E_a - E_b))), using the group's own
    stream ``swap_rng[g]``. Records (if ``measure``): per-neuron energy, m_1 = S_1/N and the
    acceptance fraction of the chain in each slot, and q between the groups in ``pairs`` per slot.
    """
    C = spins.shape[0]
    N = spins.shape[1]
    G = perm.shape[0]
    nT = perm.shape[1]
    npairs = pairs.shape[0]
    acc_sweep = np.zeros(C, dtype=np.int64)
    Ec = np.zeros(C, dtype=np.float64)
    for t in range(nsweeps):
        for c in prange(C):
            d = pidx[c]
            order = np.empty(N, dtype=np.int64)
            acc_sweep[c] = sweep_chain(pat[d], nrow[d], ncol[d], c4[d], spins[c], S[c], rng[c], cbeta[c],
                                       P, scale, dyn, sched_code, ties, wide, coef, order, use_cache, diluted,
                                       AB[c, 0], AB[c, 1], Bsum[c:c + 1], 1)
            Ec[c] = energy_from_overlaps(S[c], ncol[d], N, P, coef)
        for c in range(C):
            acc_total[c] += acc_sweep[c]
        if measure:
            for g in range(G):
                for k in range(nT):
                    c = perm[g, k]
                    rec_E[g, k, t] = Ec[c] / N
                    rec_m[g, k, t] = S[c, 0] / N
                    rec_a[g, k, t] = acc_sweep[c] / N
            for pk in prange(npairs * nT):
                p = pk // nT
                k = pk - p * nT
                ca = perm[pairs[p, 0], k]
                cb = perm[pairs[p, 1], k]
                qq = 0
                for i in range(N):
                    qq += spins[ca, i] * spins[cb, i]
                rec_q[p, k, t] = qq / N
        if do_pt and nT > 1:
            for g in range(G):
                s0, s1, s2, s3 = swap_rng[g, 0], swap_rng[g, 1], swap_rng[g, 2], swap_rng[g, 3]
                for k in range((parity0 + t) & 1, nT - 1, 2):
                    a = perm[g, k]
                    b = perm[g, k + 1]
                    delta = (ladder[k] - ladder[k + 1]) * (Ec[a] - Ec[b])
                    swap_att[g, k] += 1
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    if delta >= 0.0 or u < math.exp(delta):
                        swap_acc[g, k] += 1
                        perm[g, k] = b
                        perm[g, k + 1] = a
                        cbeta[b] = ladder[k]
                        cbeta[a] = ladder[k + 1]
                swap_rng[g, 0] = s0
                swap_rng[g, 1] = s1
                swap_rng[g, 2] = s2
                swap_rng[g, 3] = s3


@njit(parallel=True, cache=True)
def recompute_overlaps(pat, pidx, spins, S):
    """S[c] = pat[pidx[c]]^T spins[c] (exact integers), O(N K) per chain: consistency checks and init."""
    C = spins.shape[0]
    N = spins.shape[1]
    K = S.shape[1]
    for c in prange(C):
        p = pat[pidx[c]]
        for k in range(K):
            S[c, k] = 0
        acc = np.zeros(K, dtype=np.int64)
        for i in range(N):
            si = np.int64(spins[c, i])
            for k in range(K):
                acc[k] += si * np.int64(p[i, k])
        for k in range(K):
            S[c, k] = acc[k]


@njit(parallel=True, cache=True)
def run_chains(pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, P, scale, dyn, sched_code, ties, wide, coef,
               use_cache, diluted, AB, Bsum, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
    """Chain-major variant of :func:`run_batch` without tempering: one parallel launch per call.

    Each chain runs ``nsweeps`` sweeps on its own (the trajectory is the same as in the lockstep
    kernel), recording per sweep (if ``measure``) E/N, m_1, the acceptance fraction into
    ``rec_*[c, t]`` and, if ``snap`` has a non-empty sweep axis, a snapshot of the spins
    ``snap[c, t]`` for the two-replica overlaps (:func:`pair_overlaps`).
    """
    C = spins.shape[0]
    N = spins.shape[1]
    keep = snap.shape[1] > 0
    for c in prange(C):
        d = pidx[c]
        order = np.empty(N, dtype=np.int64)
        for t in range(nsweeps):
            acc = sweep_chain(pat[d], nrow[d], ncol[d], c4[d], spins[c], S[c], rng[c], cbeta[c],
                              P, scale, dyn, sched_code, ties, wide, coef, order, use_cache, diluted,
                              AB[c, 0], AB[c, 1], Bsum[c:c + 1], 1)
            acc_total[c] += acc
            if measure:
                rec_E[c, t] = energy_from_overlaps(S[c], ncol[d], N, P, coef) / N
                rec_m[c, t] = S[c, 0] / N
                rec_a[c, t] = acc / N
                if keep:
                    for i in range(N):
                        snap[c, t, i] = spins[c, i]


@njit(parallel=True, cache=True)
def pair_overlaps(snap, pair_chains, out):
    """out[p, t] = (1/N) sum_i snap[a, t, i] snap[b, t, i] for (a, b) = pair_chains[p]."""
    npairs = pair_chains.shape[0]
    T = snap.shape[1]
    N = snap.shape[2]
    for pt in prange(npairs * T):
        p = pt // T
        t = pt - p * T
        a = pair_chains[p, 0]
        b = pair_chains[p, 1]
        qq = 0
        for i in range(N):
            qq += np.int64(snap[a, t, i]) * np.int64(snap[b, t, i])
        out[p, t] = qq / N
