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

Speed: P = 2 is an int8 x int16 dot product with int32 accumulation (256-bit vpmaddwd, written
as vector IR in _dot16_i8_i16) when K N < 2^31 (else int64), in its own compact sweep loop
(_sweep_p2). P = 4 keeps a per-chain cache that depends on S only and is refreshed on accepted
flips (for +-1 patterns inside the next proposal's dot product, _dot_f32_fill_i8, and at the end
of a call), so that a proposal is one dot product: for +-1 patterns G32 = fl32(S^3 + (3 - c4) S) in
float32 plus Q = sum S^2 (exact), and the acceptance test is decided from the float32 estimate of
D_i and a rigorous error bound, with an exact recomputation of D_i from the overlaps where the
bound cannot decide (see _fill_g32: decisions and trajectories are those of the exact D_i); for
diluted patterns A_mu, B_mu in float64 (exact integers). Both are guarded by K (N+3)^3 < 2^52,
else the int64 Newton path. The row of the proposal PREFETCH_AHEAD steps ahead is prefetched
(sites are drawn at the start of each sweep; one line per 64 entries of the dot product). Heat bath
draws a sweep's N uniforms up front as well (draw_heat_bath: the same stream positions) and turns
them into bounds on beta DeltaE, so that a proposal waits only for its dot product and a comparison.
The proposal loops take row views of caller-owned arrays through _unmanaged (no atomic reference
counting per proposal). None of this changes a draw or a decision: trajectories are bit for bit those
of the plain expressions (tests/montecarlo/test_mc_kernels.py; the GPU kernels, checked against these
under the CUDA simulator, evaluate the plain expressions).
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


@intrinsic
def _unmanaged(typingctx, arr):
    """The same array without its memory owner (meminfo and parent NULL): views taken of it in a loop
    (``row = pat[i]``) then skip NRT's atomic reference counting, whose lock-prefixed increments and
    decrements act as full barriers and drained the store buffer after every accepted flip. Only
    for arrays that the caller keeps alive for the whole call and that do not escape it."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        src = context.make_array(aryty)(context, builder, args[0])
        dst = context.make_array(aryty)(context, builder)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(dst, field, getattr(src, field))
        dst.meminfo = context.get_constant_null(types.MemInfoPointer(aryty.dtype))
        dst.parent = context.get_constant_null(types.pyobject)
        return dst._getvalue()

    return arr(arr), codegen


DYN_HEAT_BATH, DYN_METROPOLIS, DYN_ZERO = 0, 1, 2
PREFETCH_AHEAD = 4   # the row of the proposal this many steps ahead is prefetched (benchmarks/bench_mc.py)
SCHED_RANDOM, SCHED_SEQUENTIAL, SCHED_PERMUTATION = 0, 1, 2
TIES_RANDOM, TIES_FROZEN = 0, 1


def newton_coefficients(P: int) -> np.ndarray:
    """coef[k, j] = (-1)^(j-1) (k-1)!/(k-j)!: E_k = sum_j coef[k, j] E_{k-j} p_j with E_k = k! e_k."""
    c = np.zeros((P + 1, P + 1), dtype=np.int64)
    for k in range(1, P + 1):
        for j in range(1, k + 1):
            c[k, j] = (-1) ** (j - 1) * (math.factorial(k - 1) // math.factorial(k - j))
    return c


def _dot16_codegen(context, builder, signature, args):
    """LLVM IR of :func:`_dot16_i8_i16` (see there)."""
    rowty, Sty, kty, nxty = signature.args
    ra = context.make_array(rowty)(context, builder, args[0])
    sa = context.make_array(Sty)(context, builder, args[1])
    K = context.cast(builder, args[2], kty, types.intp)
    n = builder.lshr(K, ir.Constant(K.type, 4))
    na = context.make_array(nxty)(context, builder, args[3])
    i32 = ir.IntType(32)
    v16i8 = ir.VectorType(ir.IntType(8), 16)
    v16i16 = ir.VectorType(ir.IntType(16), 16)
    v16i32 = ir.VectorType(i32, 16)
    v8i32 = ir.VectorType(i32, 8)
    even = ir.Constant(v8i32, [2 * q for q in range(8)])
    odd = ir.Constant(v8i32, [2 * q + 1 for q in range(8)])
    zero = ir.Constant(v8i32, None)
    acc0 = cgutils.alloca_once_value(builder, zero)
    acc1 = cgutils.alloca_once_value(builder, zero)
    pfty = ir.FunctionType(ir.VoidType(), [na.data.type, i32, i32, i32])
    pfn = cgutils.get_or_insert_function(builder.module, pfty, "llvm.prefetch.p0")

    def const(v):
        return ir.Constant(n.type, v)

    def prefetch(off):
        builder.call(pfn, [builder.gep(na.data, [off]), ir.Constant(i32, 0), ir.Constant(i32, 3),
                           ir.Constant(i32, 1)])

    def block(off, acc):
        y = builder.load(builder.bitcast(builder.gep(sa.data, [off]), v16i16.as_pointer()), align=2)
        x = builder.load(builder.bitcast(builder.gep(ra.data, [off]), v16i8.as_pointer()), align=1)
        p = builder.mul(builder.sext(x, v16i32), builder.sext(y, v16i32))
        pair = builder.add(builder.shuffle_vector(p, p, even), builder.shuffle_vector(p, p, odd))
        builder.store(builder.add(builder.load(acc), pair), acc)

    # 64 entries (four blocks, two accumulators, one prefetch) per iteration, then 0-3 blocks
    quarter = builder.lshr(n, const(2))
    with cgutils.for_range(builder, quarter) as loop:
        off = builder.mul(loop.index, const(64))
        prefetch(off)
        block(off, acc0)
        block(builder.add(off, const(16)), acc1)
        block(builder.add(off, const(32)), acc0)
        block(builder.add(off, const(48)), acc1)
    base = builder.mul(quarter, const(64))
    with cgutils.for_range(builder, builder.and_(n, const(3))) as loop:
        block(builder.add(base, builder.mul(loop.index, const(16))), acc0)
    with builder.if_then(builder.icmp_unsigned("!=", n, const(0))):
        prefetch(base)                                          # the lines the loop did not reach
        prefetch(builder.sub(builder.mul(n, const(16)), const(1)))
    v = builder.add(builder.load(acc0), builder.load(acc1))
    tot = ir.Constant(i32, 0)
    for q in range(8):
        tot = builder.add(tot, builder.extract_element(v, ir.Constant(i32, q)))
    # the K mod 16 entries left: eight at once if there are, then one at a time
    acc = cgutils.alloca_once_value(builder, tot)
    done = cgutils.alloca_once_value(builder, builder.mul(n, const(16)))
    with builder.if_then(builder.icmp_signed(">=", builder.sub(K, builder.load(done)), const(8))):
        off = builder.load(done)
        v8i8, v8i16, v8x32 = ir.VectorType(ir.IntType(8), 8), ir.VectorType(ir.IntType(16), 8), ir.VectorType(i32, 8)
        x = builder.sext(builder.load(builder.bitcast(builder.gep(ra.data, [off]), v8i8.as_pointer()), align=1), v8x32)
        y = builder.sext(builder.load(builder.bitcast(builder.gep(sa.data, [off]), v8i16.as_pointer()), align=2),
                         v8x32)
        p8 = builder.mul(x, y)
        t8 = builder.load(acc)
        for q in range(8):
            t8 = builder.add(t8, builder.extract_element(p8, ir.Constant(i32, q)))
        builder.store(t8, acc)
        builder.store(builder.add(off, const(8)), done)
    done = builder.load(done)
    with cgutils.for_range(builder, builder.sub(K, done)) as loop:
        k = builder.add(done, loop.index)
        x = builder.sext(builder.load(builder.gep(ra.data, [k])), i32)
        y = builder.sext(builder.load(builder.gep(sa.data, [k])), i32)
        builder.store(builder.add(builder.load(acc), builder.mul(x, y)), acc)
    return builder.load(acc)


def _flip_dot16_codegen(context, builder, signature, args):
    """LLVM IR of :func:`_flip_dot16` (see there)."""
    rowty, Sty, kty, twoty = signature.args
    ra = context.make_array(rowty)(context, builder, args[0])
    sa = context.make_array(Sty)(context, builder, args[1])
    K = context.cast(builder, args[2], kty, types.intp)
    i16, i32 = ir.IntType(16), ir.IntType(32)
    two = builder.trunc(context.cast(builder, args[3], twoty, types.int64), i16)
    v16i8, v16i16, v16i32 = (ir.VectorType(ir.IntType(8), 16), ir.VectorType(i16, 16),
                             ir.VectorType(i32, 16))
    v8i32 = ir.VectorType(i32, 8)
    even = ir.Constant(v8i32, [2 * q for q in range(8)])
    odd = ir.Constant(v8i32, [2 * q + 1 for q in range(8)])
    acc = cgutils.alloca_once_value(builder, ir.Constant(v8i32, None))
    twov = builder.insert_element(ir.Constant(v16i16, ir.Undefined), two, ir.Constant(i32, 0))
    twov = builder.shuffle_vector(twov, twov, ir.Constant(ir.VectorType(i32, 16), [0] * 16))

    def const(v):
        return ir.Constant(K.type, v)

    n16 = builder.lshr(K, const(4))
    with cgutils.for_range(builder, n16) as loop:
        off = builder.mul(loop.index, const(16))
        sp = builder.bitcast(builder.gep(sa.data, [off]), v16i16.as_pointer())
        y = builder.load(sp, align=2)
        x = builder.sext(builder.load(builder.bitcast(builder.gep(ra.data, [off]), v16i8.as_pointer()), align=1),
                         v16i16)
        p = builder.mul(builder.sext(x, v16i32), builder.sext(y, v16i32))
        builder.store(builder.add(builder.load(acc), builder.add(builder.shuffle_vector(p, p, even),
                                                                builder.shuffle_vector(p, p, odd))), acc)
        builder.store(builder.sub(y, builder.mul(twov, x)), sp, align=2)
    v = builder.load(acc)
    tot = ir.Constant(i32, 0)
    for q in range(8):
        tot = builder.add(tot, builder.extract_element(v, ir.Constant(i32, q)))
    out = cgutils.alloca_once_value(builder, tot)
    done = builder.mul(n16, const(16))
    with cgutils.for_range(builder, builder.sub(K, done)) as loop:   # the K mod 16 entries left
        k = builder.add(done, loop.index)
        xp, yp = builder.gep(ra.data, [k]), builder.gep(sa.data, [k])
        x, y = builder.sext(builder.load(xp), i16), builder.load(yp)
        builder.store(builder.add(builder.load(out), builder.mul(builder.sext(x, i32), builder.sext(y, i32))), out)
        builder.store(builder.sub(y, builder.mul(two, x)), yp)
    return builder.load(out)


@intrinsic
def _flip_dot16(typingctx, row, S, K, two):
    """An accepted flip on int16 overlaps in one pass: returns sum_k row[k] S[k] (before, int32, as
    _dot_p2) and sets S[k] -= two row[k] (two = 2 sigma_i). One vpmaddwd and one vpmullw per 16 entries
    instead of a dot product followed by the update loop."""
    if not (_is_c_array(row, types.int8) and _is_c_array(S, types.int16) and isinstance(two, types.Integer)):
        return None
    return types.int32(row, S, K, two), _flip_dot16_codegen


def _is_c_array(a, dtype):
    return isinstance(a, types.Array) and a.dtype == dtype and a.layout == "C"


@intrinsic
def _dot16_i8_i16(typingctx, row, S, K, nxt):
    """sum_{k < K} row[k] S[k] for contiguous int8 ``row`` and int16 ``S``, int32 accumulation;
    prefetches the int8 row ``nxt`` (the row of a later proposal) on the way.

    Written as vector IR on 16 lanes: sext to i32, multiply, add the even and odd products into
    two independent <8 x i32> accumulators, 64 entries per iteration with one software prefetch
    (llvm.prefetch) of the matching 64-byte line of ``nxt``. The x86 backend turns each 16-entry
    block into one 256-bit vpmaddwd (LLVM's own vectoriser picks 8 lanes here, i.e. 128-bit
    vpmaddwd, about 1.5x slower on a 1000-entry row in L1); on other targets it lowers to whatever
    the target has. Spreading the prefetches over the loop instead of issuing a row's 16 at once
    makes a random-row dot about 25% faster (N = 10^4, K = 10^3: rows come from memory). The
    summation order is fixed, and exact anyway (integers, no overflow: K N < 2^31).
    """
    if not (_is_c_array(row, types.int8) and _is_c_array(S, types.int16) and isinstance(nxt, types.Array)
            and nxt.dtype == types.int8):
        return None
    return types.int32(row, S, K, nxt), _dot16_codegen


def _dot_p2(row, S, K, nxt=None):
    """sum_k row[k] S[k] with int32 accumulation (caller guarantees K N < 2^31); ``nxt``: a row to
    prefetch meanwhile (the row of a later proposal; no effect on the value).

    This Python body is the reference; inside numba the overload below (256-bit vpmaddwd) runs."""
    return int(np.dot(row[:K].astype(np.int64), S[:K].astype(np.int64)))


@overload(_dot_p2, inline="always")   # inlined in numba IR: an out-of-line call spilled ~18 words per proposal
def _ov_dot_p2(row, S, K, nxt=None):
    if (isinstance(row, types.Array) and isinstance(S, types.Array) and row.dtype == types.int8
            and S.dtype == types.int16 and row.layout == "C" and S.layout == "C"):
        if nxt is None or isinstance(nxt, (types.NoneType, types.Omitted)):
            def impl(row, S, K, nxt=None):  # 16-lane vpmaddwd blocks, then the tail (in the IR)
                return _dot16_i8_i16(row, S, K, row)
        else:
            def impl(row, S, K, nxt=None):
                return _dot16_i8_i16(row, S, K, nxt)
        return impl

    def impl_generic(row, S, K, nxt=None):
        return _dot_p2_generic(row, S, K)
    return impl_generic


@njit(cache=True)
def _dot_p2_generic(row, S, K):
    acc = np.int32(0)
    for k in range(K):
        acc = np.int32(acc + np.int32(row[k]) * np.int32(S[k]))
    return acc


@njit(inline="always", cache=True)
def _dot_p2_wide(row, S, K):
    acc = np.int64(0)
    for k in range(K):
        acc += np.int64(row[k]) * np.int64(S[k])
    return acc


def _flip_dot(row, S, K, two, small_kn):
    """An accepted flip: returns sum_k row[k] S[k] before it (int64), then S[k] -= two row[k].

    Reference body; inside numba the overload below runs: for int16 overlaps with K N < 2^31 one pass
    (_flip_dot16), else the int64 dot product and then the update loop."""
    d = int(np.dot(row[:K].astype(np.int64), S[:K].astype(np.int64)))
    S[:K] -= (two * row[:K]).astype(S.dtype)
    return d


@overload(_flip_dot, inline="always")
def _ov_flip_dot(row, S, K, two, small_kn):
    if _is_c_array(row, types.int8) and _is_c_array(S, types.int16):
        def impl(row, S, K, two, small_kn):
            if small_kn:
                return np.int64(_flip_dot16(row, S, K, two))
            return _flip_dot_wide(row, S, K, two)
        return impl

    def impl_generic(row, S, K, two, small_kn):
        return _flip_dot_wide(row, S, K, two)
    return impl_generic


@njit(cache=True)
def _flip_dot_wide(row, S, K, two):
    d = _dot_p2_wide(row, S, K)
    for k in range(K):
        S[k] = S[k] - two * np.int32(row[k])
    return d


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


@njit(inline="always", cache=True)
def _num_p4_cached(row, A, B, Bsum, K, sig, diluted):
    # With w = z sigma_i S (z = xi_i^mu != 0): y = w - 1 and y^3 - c4 y = z sigma_i A_mu + B_mu, where
    # A_mu = S^3 + (3 - c4) S and B_mu = c4 - 1 - 3 S^2 depend on the chain state only (kept up to date
    # on accepted flips). So D_i = sigma_i sum_mu z A_mu + sum_mu z^2 B_mu; for +-1 patterns the last
    # sum is the scalar Bsum. Exact: integers held in float64 (|values| < 2^53, guarded by ``wide``).
    # (Diluted patterns; +-1 patterns use the float32 filter below.)
    acc = 0.0
    for k in range(K):
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
def _update_p4(row, S, c4, A, B, two):
    # diluted patterns, accepted flip: S -= 2 sigma_i xi_i, then the cache is refreshed
    K = S.shape[0]
    for k in range(K):
        S[k] = S[k] - two * np.int32(row[k])
    return _refresh_p4_cache(S, c4, A, B)


# ---- P = 4, +-1 patterns: float32 filter with rigorous error bounds, exact decisions ----------------
#
# D_i = sigma_i sum_mu z_mu G_mu + Bsum with G_mu = S^3 + ca S (ca = 3 - c4 = 8 - 3N) and
# Bsum = K (c4 - 1) - 3 Q, Q = sum_mu S_mu^2 (exact integers). The chain keeps G32 = fl32(S (S^2 + ca))
# (float32: half the bytes of float64 and 8 SIMD lanes, so the proposal dot product and the refresh
# after an accepted flip cost about 0.4x the float64 ones) and Q exactly. A proposal computes
# Da = sigma_i fl32(sum z G32) + Bsum with the bound |Da - D_i| <= epsD:
#   |G32 - G| <= g3 M_mu,  M_mu = |S|(S^2 + |ca|)              (three float32 roundings)
#   |fl32(sum z G32) - sum z G32| <= gK sum |G32|             (any summation order, FMA or not)
#   sum_mu M_mu <= N Q + |ca| sqrt(K Q)                        (|S| <= N, Cauchy-Schwarz)
# with gn = n u / (1 - n u), u = 2^-24, plus float64 slack. The acceptance test is then decided
# from [Da - epsD, Da + epsD] whenever the whole interval gives the same answer (all but a
# fraction ~1e-5 of proposals at N = 1e4); otherwise D_i is computed exactly from the overlaps
# (_num_p4). Decisions, random draws and trajectories are therefore exactly those of the exact
# D_i: heat bath flips iff c D < log(1/u - 1), Metropolis iff D <= 0 or c D < -log(u)
# (c = beta * scale, one float64 product, monotone in D), T = 0 by the sign of D.

_U32 = 2.0 ** -24
FAST4_MAX_K = 1 << 20


@njit(cache=True, fastmath={"nsz", "arcp", "contract"})
def _fill_g32(S, ca, G32):
    """G32[k] = fl32(S_k (S_k^2 + ca)), S_k^2 + ca as one FMA: two float32 roundings, inside the
    three the bound allows, and ~20% fewer instructions (the init and the end-of-call refresh run
    this one compiled loop, and _dot_f32_fill_i8 the same two operations, so G32 has the same bits
    wherever it is filled; tested)."""
    for k in range(S.shape[0]):
        s = np.float32(S[k])
        G32[k] = s * (s * s + ca)


@njit(inline="always", cache=True)
def _fast4_ok(K, c40):
    return K < FAST4_MAX_K and abs(3.0 - c40) < 2.0 ** 24


@njit(inline="always", cache=True)
def _fast4_eps(N, K, c40, Q):
    """Bound on |Da - D| apart from the final float64 rounding (see above)."""
    g3 = 3.0 * _U32 / (1.0 - 3.0 * _U32)
    gK = K * _U32 / (1.0 - K * _U32)
    msum = float(N) * Q + abs(3.0 - c40) * math.sqrt(float(K) * Q)
    return (g3 + gK * (1.0 + g3)) * msum * (1.0 + 1e-6) + 1.0


@njit(inline="always", cache=True)
def _fast4_init(S, c40, A, B):
    """Fill the +-1 cache of one chain: G32 in A (as float32), Q in B[0]; returns Bsum."""
    K = S.shape[0]
    _fill_g32(S, np.float32(3.0 - c40), A.view(np.float32))
    q = 0.0
    for k in range(K):
        f = float(S[k])
        q += f * f
    B[0] = q
    return float(K) * (c40 - 1.0) - 3.0 * q


def _f32_dot_ir(builder, ra, K, na, g_block, g_entry):
    """IR of sum_k row[k] G[k] in float32 for contiguous int8 ``row`` (array ``ra``): 64 entries per
    iteration (eight 8-lane FMA blocks on four accumulators, one prefetched 64-byte line of ``na``),
    then 8-blocks, a fixed reduction order and the K mod 8 entries left one by one. G comes from
    ``g_block(off)`` (8 lanes, v8f32) and ``g_entry(k)`` (one float), so every variant sums in this
    one order. Returns the float64 of the float32 sum."""
    i32, f32 = ir.IntType(32), ir.FloatType()
    v8i8, v8f32 = ir.VectorType(ir.IntType(8), 8), ir.VectorType(f32, 8)
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(v8f32, [v8f32] * 3), "llvm.fma.v8f32")
    pfn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [na.data.type, i32, i32, i32]),
                                         "llvm.prefetch.p0")
    accs = [cgutils.alloca_once_value(builder, ir.Constant(v8f32, None)) for _ in range(4)]

    def const(v):
        return ir.Constant(K.type, v)

    def prefetch(off):
        builder.call(pfn, [builder.gep(na.data, [off]), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])

    def block(off, acc):
        x = builder.load(builder.bitcast(builder.gep(ra.data, [off]), v8i8.as_pointer()), align=1)
        builder.store(builder.call(fma, [builder.sitofp(x, v8f32), g_block(off), builder.load(acc)]), acc)

    n64 = builder.lshr(K, const(6))
    with cgutils.for_range(builder, n64) as loop:
        off = builder.mul(loop.index, const(64))
        prefetch(off)
        for q in range(8):
            block(builder.add(off, const(8 * q)), accs[q % 4])
    base = builder.mul(n64, const(64))
    with builder.if_then(builder.icmp_unsigned("<", base, K)):   # the line the loop did not reach
        prefetch(base)
    n8 = builder.lshr(builder.sub(K, base), const(3))
    with cgutils.for_range(builder, n8) as loop:
        block(builder.add(base, builder.mul(loop.index, const(8))), accs[0])
    v = builder.fadd(builder.fadd(builder.load(accs[0]), builder.load(accs[1])),
                     builder.fadd(builder.load(accs[2]), builder.load(accs[3])))
    tot = builder.extract_element(v, ir.Constant(i32, 0))
    for q in range(1, 8):
        tot = builder.fadd(tot, builder.extract_element(v, ir.Constant(i32, q)))
    acc = cgutils.alloca_once_value(builder, tot)
    done = builder.add(base, builder.mul(n8, const(8)))
    with cgutils.for_range(builder, builder.sub(K, done)) as loop:   # the K mod 8 entries left
        k = builder.add(done, loop.index)
        x = builder.sitofp(builder.load(builder.gep(ra.data, [k])), f32)
        builder.store(builder.fadd(builder.load(acc), builder.fmul(x, g_entry(k))), acc)
    return builder.fpext(builder.load(acc), ir.DoubleType())


def _dot_f32_codegen(context, builder, signature, args):
    """LLVM IR of :func:`_dot_f32_i8` (see there): G read from G32."""
    rowty, gty, kty, nxty = signature.args
    ra = context.make_array(rowty)(context, builder, args[0])
    ga = context.make_array(gty)(context, builder, args[1])
    K = context.cast(builder, args[2], kty, types.intp)
    na = context.make_array(nxty)(context, builder, args[3])
    v8f32 = ir.VectorType(ir.FloatType(), 8)
    return _f32_dot_ir(builder, ra, K, na,
                       lambda off: builder.load(builder.bitcast(builder.gep(ga.data, [off]), v8f32.as_pointer()),
                                                align=4),
                       lambda k: builder.load(builder.gep(ga.data, [k])))


@intrinsic
def _dot_f32_i8(typingctx, row, G32, K, nxt):
    """sum_{k < K} row[k] G32[k] in float32 (returned as float64) for contiguous int8 ``row`` and
    float32 ``G32``, prefetching the int8 row ``nxt`` one 64-byte line per 64 entries on the way (as
    _dot16_i8_i16 does for P = 2; issuing a row's prefetches all at once is slower). Rounding: the
    P = 4 filter's bound holds for any summation order, FMA or not (see _fill_g32)."""
    if not (_is_c_array(row, types.int8) and _is_c_array(G32, types.float32) and isinstance(nxt, types.Array)
            and nxt.dtype == types.int8):
        return None
    return types.float64(row, G32, K, nxt), _dot_f32_codegen


def _dot_f32_fill_codegen(context, builder, signature, args):
    """LLVM IR of :func:`_dot_f32_fill_i8` (see there): G = fl32(s (s^2 + ca)) from S, stored to G32."""
    rowty, Sty, caty, gty, kty, nxty = signature.args
    ra = context.make_array(rowty)(context, builder, args[0])
    sa = context.make_array(Sty)(context, builder, args[1])
    ca = context.cast(builder, args[2], caty, types.float32)
    ga = context.make_array(gty)(context, builder, args[3])
    K = context.cast(builder, args[4], kty, types.intp)
    na = context.make_array(nxty)(context, builder, args[5])
    i32, f32 = ir.IntType(32), ir.FloatType()
    v8f32, v8s = ir.VectorType(f32, 8), ir.VectorType(ir.IntType(Sty.dtype.bitwidth), 8)
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(v8f32, [v8f32] * 3), "llvm.fma.v8f32")
    fma1 = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f32, [f32] * 3), "llvm.fma.f32")
    cav = builder.insert_element(ir.Constant(v8f32, ir.Undefined), ca, ir.Constant(i32, 0))
    cav = builder.shuffle_vector(cav, cav, ir.Constant(ir.VectorType(i32, 8), [0] * 8))

    def g_block(off):
        sv = builder.sitofp(builder.load(builder.bitcast(builder.gep(sa.data, [off]), v8s.as_pointer()),
                                         align=Sty.dtype.bitwidth // 8), v8f32)
        g = builder.fmul(sv, builder.call(fma, [sv, sv, cav]))          # _fill_g32's two operations
        builder.store(g, builder.bitcast(builder.gep(ga.data, [off]), v8f32.as_pointer()), align=4)
        return g

    def g_entry(k):
        sk = builder.sitofp(builder.load(builder.gep(sa.data, [k])), f32)
        g = builder.fmul(sk, builder.call(fma1, [sk, sk, ca]))
        builder.store(g, builder.gep(ga.data, [k]))
        return g

    return _f32_dot_ir(builder, ra, K, na, g_block, g_entry)


@intrinsic
def _dot_f32_fill_i8(typingctx, row, S, ca, G32, K, nxt):
    """:func:`_dot_f32_i8` on a G32 not yet refreshed after an accepted flip: fills G32 from the
    overlaps S (int16 or int32) exactly as _fill_g32 does (one FMA, one product: the same bits) and
    returns sum_k row[k] G32[k] summed in the order of _dot_f32_i8 (the same value). One pass
    instead of the refresh and the next proposal's dot product, whose stores and loads of G32 it saves."""
    if not (_is_c_array(row, types.int8) and isinstance(S, types.Array) and S.layout == "C"
            and S.dtype in (types.int16, types.int32) and _is_c_array(G32, types.float32)
            and isinstance(nxt, types.Array) and nxt.dtype == types.int8):
        return None
    return types.float64(row, S, ca, G32, K, nxt), _dot_f32_fill_codegen


@njit(inline="always", cache=True)
def _dot_f32(row, G32, K, nxt):
    """float32 sum_k row[k] G32[k] (the P = 4 filter's estimate), prefetching ``nxt`` meanwhile."""
    return _dot_f32_i8(row, G32, K, nxt)


@njit(parallel=True, cache=True)
def init_p4_cache(S, c4, pidx, AB, Bsum, diluted=True):
    """(Re)compute the P = 4 cache of every chain from its overlaps: A, B, Bsum (diluted patterns) or
    G32, Q, Bsum (+-1 patterns, float32 filter)."""
    K = S.shape[1]
    for c in prange(S.shape[0]):
        c4c = c4[pidx[c]]
        if not diluted and K > 0 and _fast4_ok(K, c4c[0]):
            Bsum[c] = _fast4_init(S[c], c4c[0], AB[c, 0], AB[c, 1])
        else:
            Bsum[c] = _refresh_p4_cache(S[c], c4c, AB[c, 0], AB[c, 1])


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


# ---- acceptance: libm exp only where a cheap bound cannot decide ---------------------------------
#
# _exp_est(x) = 2^n p(f) with x log2(e) = n + f/ln 2, |f| <= ln(2)/2 and p the degree-6 Taylor
# polynomial of e^f: relative error <= 0.347^7/5040 + 1e-13 < 2e-7 for |x| <= _EXP_EST_MAX (tested
# against math.exp). The decisions of ``accept`` are those of the exact expressions (flip iff
# u (1 + exp(x)) < 1 with x = beta DeltaE, resp. u < exp(x) with x = -beta DeltaE, evaluated in
# float64 with libm's exp): the estimate decides
# only when it clears the threshold by a relative margin _EXP_MARGIN, which exceeds the estimate's
# error plus the few ulps of rounding in the exact expression; otherwise (a fraction ~1e-5 of the
# proposals) the exact expression is evaluated. Trajectories are therefore unchanged, and a
# proposal skips the libm call.

_EXP_EST_MAX = 700.0
_EXP_MARGIN = 1e-5
_POW2 = np.ldexp(1.0, np.arange(-1023, 1024))   # 2^n, n = -1023 ... 1023


@njit(inline="always", cache=True)
def _exp_est(x):
    """e^x to a relative error < 2e-7 for |x| <= _EXP_EST_MAX (see above)."""
    y = x * 1.4426950408889634
    n = math.floor(y + 0.5)
    f = (y - n) * 0.6931471805599453
    p = 1.0 + f * (1.0 + f * (0.5 + f * (1.0 / 6.0 + f * (1.0 / 24.0 + f * (1.0 / 120.0 + f * (1.0 / 720.0))))))
    return p * _POW2[int(n) + 1023]


@njit(inline="always", cache=True)
def heat_bath_flip(u, x):
    """u (1 + e^x) < 1 in float64 with libm's exp, decided by _exp_est where the margin allows."""
    if abs(x) <= _EXP_EST_MAX:
        a = u * (1.0 + _exp_est(x))
        if abs(a - 1.0) > 3.0 * _EXP_MARGIN:   # (a predictable branch: the decision itself is a value)
            return a < 1.0
    return u * (1.0 + math.exp(x)) < 1.0


@njit(inline="always", cache=True)
def metropolis_flip(u, x):
    """u < e^x in float64 with libm's exp, decided by _exp_est where the margin allows."""
    if abs(x) <= _EXP_EST_MAX:
        e = _exp_est(x)
        if abs(u - e) > 3.0 * _EXP_MARGIN * e:
            return u < e
    return u < math.exp(x)


# ---- heat bath with the uniforms of a sweep drawn up front ------------------------------------------
#
# Heat bath draws exactly one uniform per proposal and nothing else draws during the proposals, so the
# N uniforms of a sweep can be drawn right after the site order (the same stream positions) and turned
# into bounds on x = beta DeltaE before the proposals start: flip iff u (1 + exp(x)) < 1 (the float64
# expression of heat_bath_flip) holds for x < lo and fails for x > hi, with
#     L = log(1/u - 1),   lo, hi = L -+ dl,   dl = 1e-9 (1 + |L|) + 1e-14 / (1 - u)  (or more).
# Why dl suffices: near x = L + t the float64 value is a = 1 + (1 - u)(t + e1) + e2 + e3 to first
# order, with |e1| <= 2.3e-16 from libm's exp (< 1 ulp) and e2, e3 the roundings of the sum and the
# product, so it can disagree with the exact x < L only for |t| <= 2.3e-16 + 2.3e-16 / (1 - u);
# fl(1/u - 1) = (1/u - 1)(1 + d) with |d| <= 1.2e-16 / (1 - u) + 1.2e-16 moves L by as much;
# _log_est errs by <= 1e-13 + 1e-15 |L| (tested). dl exceeds the sum by more than 20x.
# Between lo and hi (a fraction ~1e-5 of the proposals) heat_bath_flip decides. A proposal then waits
# only for its dot product and one comparison: the long exp chain left the path that resolves the
# (unpredictable) accept branch, ~10% of a P = 2 sweep at N = 1e4, K = 1e3, T = 1.5.

@intrinsic
def _f64_bits(typingctx, x):
    """The IEEE-754 bits of a float64 as int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _bits_f64(typingctx, b):
    """The float64 with IEEE-754 bits ``b`` (int64)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always", cache=True)
def _log_est(y):
    """(log y, e) for a positive normal float64 y = 2^e m, m in [1, 2): with m' = m or m/2 in
    [1/sqrt2, sqrt2) and s = (m' - 1)/(m' + 1), |s| <= 0.1716, log m' = 2 atanh s = 2 sum_k s^(2k+1)/(2k+1)
    to s^15 (truncation < 2 s^17 / (17 (1 - s^2)) < 1.2e-14). No table and no branch: a loop of these
    vectorises (heat_bath_thresholds). Error <= 1e-13 + 1e-15 |log y| (tested)."""
    b = _f64_bits(y)
    eb = b >> 52
    m = _bits_f64((b & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > 1.4142135623730951
    m = m * 0.5 if big else m
    # the exponent (+1 if big) as a float without an int -> float conversion: bits of 2^52 + eb
    ef = _bits_f64((eb + (1 if big else 0)) | 0x4330000000000000) - (4503599627370496.0 + 1023.0)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    p = 2.0 + z * (2.0 / 3.0 + z * (2.0 / 5.0 + z * (2.0 / 7.0 + z * (2.0 / 9.0 + z * (
        2.0 / 11.0 + z * (2.0 / 13.0 + z * (2.0 / 15.0)))))))
    return ef * 0.6931471805599453 + s * p, eb - 1023


@njit(inline="always", cache=True)
def heat_bath_bounds(u):
    """(lo, hi) with u (1 + exp(x)) < 1 (float64, libm exp) true for x < lo, false for x > hi (above);
    (-inf, inf) for u = 0. 1/(1 - u) = 1 + 1/y with y = 1/u - 1 >= 2^e is bounded by 1 + 2^-e (no third
    division). Branch-free (u = 0 by a select), so that heat_bath_thresholds vectorises."""
    pos = u > 0.0
    L, e = _log_est(1.0 / (u if pos else 0.5) - 1.0)
    dl = 1e-9 * (1.0 + abs(L)) + 1e-14 * (1.0 + _bits_f64((1023 - e) << 52))
    return (L - dl if pos else -math.inf), (L + dl if pos else math.inf)


@njit(cache=True, error_model="numpy", fastmath=False)
def heat_bath_thresholds(thr, N):
    """thr[1, a], thr[2, a] = heat_bath_bounds(thr[0, a]) for a < N. Its own function for the numpy error
    model: python's checks every division for zero, and the branch keeps the loop scalar (3x slower).
    fastmath=False is explicit, or the caller's flags are inherited: reassociation would undo the exact
    exponent-to-float trick in _log_est (an error of up to ~0.5 in the log)."""
    for a in range(N):
        lo, hi = heat_bath_bounds(thr[0, a])
        thr[1, a] = lo
        thr[2, a] = hi


@njit(inline="always", cache=True)
def draw_heat_bath(thr, N, s0, s1, s2, s3):
    """The N heat-bath uniforms u of one sweep into thr[0, a] and their bounds (heat_bath_bounds) into
    thr[1, a], thr[2, a] (rows, so that the bounds loop vectorises). The bounds hold for libm's
    log(1/u - 1) as well (|error| <= 1e-13 + 1.3e-15 |L| < dl), which the +-1 P = 4 path compares with."""
    for a in range(N):
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        thr[0, a] = u
    heat_bath_thresholds(thr, N)
    return s0, s1, s2, s3


@njit(inline="always", cache=True)
def work_arrays(N, dyn):
    """A chain's per-sweep work arrays: the site order (int64, N) and, for heat bath, the pre-drawn
    uniforms with their bounds (float64, (3, N); (3, 0) otherwise). Allocate once per chain, not per sweep."""
    return np.empty(N, dtype=np.int64), np.empty((3, N if dyn == DYN_HEAT_BATH else 0))


@njit(inline="always", cache=True)
def heat_bath_decide(x, u, lo, hi):
    """heat_bath_flip(u, x) from the bounds of heat_bath_bounds(u) (exactly the same decision)."""
    if x < lo:
        return True
    if x > hi:
        return False
    return heat_bath_flip(u, x)


@njit(inline="always", cache=True)
def accept(D, bscale, dyn, ties, s0, s1, s2, s3):
    """Acceptance of a proposal with DeltaE = D * scale (bscale = beta * scale; unused at T = 0): heat bath
    u (1 + e^(bscale D)) < 1; Metropolis D <= 0 or u < e^(-bscale D) (a draw only uphill); T = 0 D < 0, ties
    D == 0 by one random bit (TIES_RANDOM) or frozen. Returns (flip, stream state). The exponentials are
    first bounded by _exp_est (the decisions are those of the exact expressions; see above)."""
    flip = False
    if dyn == DYN_HEAT_BATH:
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        flip = heat_bath_flip(u, bscale * D)
    elif dyn == DYN_METROPOLIS:
        if D <= 0.0:
            flip = True
        else:
            u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
            flip = metropolis_flip(u, -bscale * D)
    else:
        if D < 0.0:
            flip = True
        elif D == 0.0 and ties == TIES_RANDOM:
            bits, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            flip = (bits >> np.uint64(63)) == np.uint64(1)
    return flip, s0, s1, s2, s3


@njit(inline="always", cache=True)
def draw_order(order, N, sched, s0, s1, s2, s3):
    """The N sites of one sweep into ``order``: random (N uniform draws), sequential (0..N-1) or a
    random permutation (Fisher-Yates); returns the advanced stream state."""
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
    return s0, s1, s2, s3


@njit(cache=True, fastmath=FASTMATH)
def _sweep_p2(pat, nrow, spins, S, st, beta, scale, dyn, sched, ties, wide, order, thr, nsweeps, pf):
    """P = 2 sweeps: :func:`sweep_chain` with the P = 2 kernel only (the same draws, decisions and
    arithmetic, bit for bit). A separate compact loop: the general one carries the P = 3, 4 and
    cached paths and runs about 15% slower on P = 2."""
    pat = _unmanaged(pat)
    N = pat.shape[0]
    K = pat.shape[1]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    bscale = beta * scale
    accepted = 0
    hb = dyn == DYN_HEAT_BATH
    for _sw in range(nsweeps):
        s0, s1, s2, s3 = draw_order(order, N, sched, s0, s1, s2, s3)
        if hb:
            s0, s1, s2, s3 = draw_heat_bath(thr, N, s0, s1, s2, s3)
        for a in range(N):
            i = order[a]
            row = pat[i]
            nxt = pat[order[a + pf]] if pf > 0 and a + pf < N else row
            sig = spins[i]
            if wide:
                for k in range(0, K, 64):
                    _prefetch(nxt, k)
                d = _dot_p2_wide(row, S, K)
            else:
                d = np.int64(_dot_p2(row, S, K, nxt))   # prefetches nxt on the way
            D = np.int64(sig) * d - np.int64(nrow[i])
            if hb:
                flip = heat_bath_decide(bscale * D, thr[0, a], thr[1, a], thr[2, a])
            else:
                flip, s0, s1, s2, s3 = accept(D, bscale, dyn, ties, s0, s1, s2, s3)
            if flip:
                accepted += 1
                spins[i] = -sig
                two = 2 * np.int32(sig)
                for k in range(K):
                    S[k] = S[k] - two * np.int32(row[k])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return accepted


@njit(cache=True, fastmath=FASTMATH)
def sweep_chain(pat, nrow, ncol, c4, spins, S, st, beta, P, scale, dyn, sched, ties, wide, coef, order, thr,
                use_cache, diluted, A, B, Bs, nsweeps=1, pf=PREFETCH_AHEAD):
    """``nsweeps`` sweeps (N proposals each) of one chain, in place. ``st``: its 4-word RNG state;
    ``order``: int64 work array of length N; ``thr``: float64 work array (3, N) for heat bath (see
    work_arrays). Returns the number of accepted flips.

    Per sweep the N sites are drawn first (random: N uniform draws; permutation: Fisher-Yates;
    sequential: 0..N-1), then the proposals run in that order, drawing acceptance uniforms as needed
    (heat bath: one per proposal, so all N are drawn right after the order, see draw_heat_bath;
    Metropolis: one per uphill proposal; T = 0: one bit per tie).
    The row of the proposal PREFETCH_AHEAD steps ahead is prefetched. Acceptance with x = beta DeltaE: heat bath
    u (1 + e^x) < 1, Metropolis u < e^-x; on the P = 4 +-1 path (float32 filter) the equivalent
    x < log(1/u - 1) and x < -log(u), which are monotone in D_i and so decidable from bounds.
    """
    if P == 2 and not use_cache:
        return _sweep_p2(pat, nrow, spins, S, st, beta, scale, dyn, sched, ties, wide, order, thr, nsweeps, pf)
    # the caller owns these for the whole call: views and inlined calls then skip NRT reference counting
    pat, ncol, c4, S, coef, A, B, Bs = (_unmanaged(pat), _unmanaged(ncol), _unmanaged(c4), _unmanaged(S),
                                        _unmanaged(coef), _unmanaged(A), _unmanaged(B), _unmanaged(Bs))
    N = pat.shape[0]
    K = pat.shape[1]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    work = np.empty(P + 1, dtype=np.int64)
    accepted = 0
    # P = 4 with +-1 patterns: float32 filter (see _fill_g32); A holds G32, B[0] holds Q
    fast4 = False
    c40 = 0.0
    if use_cache and not diluted and K > 0:
        c40 = c4[0]
        fast4 = _fast4_ok(K, c40)
    G32 = A.view(np.float32)
    ca32 = np.float32(3.0 - c40)
    cfac = beta * scale
    eps0 = _fast4_eps(N, K, c40, B[0]) if fast4 else 0.0
    small_kn = K * N < 2 ** 31
    hb = dyn == DYN_HEAT_BATH
    stale = False   # fast4: G32 not yet refreshed after an accepted flip (the next dot product does it)
    for _sw in range(nsweeps):
        s0, s1, s2, s3 = draw_order(order, N, sched, s0, s1, s2, s3)
        if hb:
            s0, s1, s2, s3 = draw_heat_bath(thr, N, s0, s1, s2, s3)
        for a in range(N):
            i = order[a]
            row = pat[i]
            nxt = pat[order[a + pf]] if pf > 0 and a + pf < N else row
            if not fast4:
                for k in range(0, K, 64):
                    _prefetch(nxt, k)
            sig = spins[i]
            flip = False
            if fast4:
                # float32 estimate with a rigorous bound; exact D only where the bound cannot decide
                if stale:
                    d32 = _dot_f32_fill_i8(row, S, ca32, G32, K, nxt)
                    stale = False
                else:
                    d32 = _dot_f32(row, G32, K, nxt)   # prefetches nxt on the way
                bs = Bs[0]
                Da = float(sig) * d32 + bs
                eD = eps0 + (abs(d32) + abs(bs)) * 2.0 ** -50
                Dlo = Da - eD
                Dhi = Da + eD
                if hb:
                    # x < r = log(1/u - 1) (libm), with r in [thr[1, a], thr[2, a]] (heat_bath_bounds)
                    if cfac * Dhi < thr[1, a]:
                        flip = True
                    elif not cfac * Dlo >= thr[2, a]:
                        u = thr[0, a]
                        r = math.inf if u == 0.0 else math.log(1.0 / u - 1.0)
                        if cfac * Dhi < r:
                            flip = True
                        elif not cfac * Dlo >= r:
                            flip = cfac * float(_num_p4(row, S, c4, K, np.int64(sig))) < r
                elif dyn == DYN_METROPOLIS:
                    if Dhi <= 0.0:
                        flip = True
                    else:
                        if Dlo > 0.0:
                            D = np.int64(1)  # D > 0 for sure: draw, then decide (exactly if needed)
                            exact = False
                        else:
                            D = _num_p4(row, S, c4, K, np.int64(sig))
                            exact = True
                        if D <= 0:
                            flip = True
                        else:
                            u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                            r = math.inf if u == 0.0 else -math.log(u)
                            if exact:
                                flip = cfac * float(D) < r
                            elif cfac * Dhi < r:
                                flip = True
                            elif not cfac * Dlo >= r:
                                flip = cfac * float(_num_p4(row, S, c4, K, np.int64(sig))) < r
                else:
                    if Dhi < 0.0:
                        flip = True
                    elif not Dlo > 0.0:
                        D = _num_p4(row, S, c4, K, np.int64(sig))
                        if D < 0:
                            flip = True
                        elif D == 0 and ties == TIES_RANDOM:
                            x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                            flip = (x >> np.uint64(63)) == np.uint64(1)
            else:
                if use_cache:
                    D = _num_p4_cached(row, A, B, Bs[0], K, sig, diluted)
                else:
                    D = delta_numerator(row, S, ncol, c4, nrow[i], sig, P, wide, coef, work)
                if hb:
                    flip = heat_bath_decide(cfac * D, thr[0, a], thr[1, a], thr[2, a])
                else:
                    flip, s0, s1, s2, s3 = accept(D, beta * scale, dyn, ties, s0, s1, s2, s3)
            if flip:
                accepted += 1
                spins[i] = -sig
                two = 2 * np.int32(sig)
                if fast4:
                    # Q = sum S^2: Q' = Q - 4 sigma_i (xi_i . S) + 4 K (exact integers)
                    dz = _flip_dot(row, S, K, two, small_kn)   # the dot, then the flip
                    q = B[0] - 4.0 * float(sig) * float(dz) + 4.0 * K
                    stale = True
                    B[0] = q
                    Bs[0] = float(K) * (c40 - 1.0) - 3.0 * q
                    eps0 = _fast4_eps(N, K, c40, q)
                elif use_cache:
                    Bs[0] = _update_p4(row, S, c4, A, B, two)
                else:
                    for k in range(K):
                        S[k] = S[k] - two * np.int32(row[k])
    if stale:
        _fill_g32(S, ca32, G32)
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return accepted


@njit(cache=True)
def delta_numerator_chain(row, S, ncol, c4, nrow_i, sig, P, wide, coef, use_cache, diluted, A, B, Bsum):
    """The exact D_i of the sweep (cached P = 4 path for diluted patterns, else :func:`delta_numerator`)."""
    if use_cache and diluted:
        return _num_p4_cached(row, A, B, Bsum, S.shape[0], sig, diluted)
    work = np.empty(P + 1, dtype=np.int64)
    return delta_numerator(row, S, ncol, c4, nrow_i, sig, P, wide, coef, work)


@njit(parallel=True, cache=True)
def count_unstable(pat, nrow, ncol, c4, pidx, spins, S, P, wide, coef, use_cache, diluted, AB, Bsum, out):
    """out[c] = number of sites of chain c with DeltaE_i < 0 (the exact D_i of the sweeps): 0 iff chain c is
    at a fixed point of the T = 0 dynamics (ties DeltaE_i = 0 allowed). O(N K) per chain, parallel over chains."""
    C = spins.shape[0]
    N = spins.shape[1]
    for c in prange(C):
        d = pidx[c]
        n = 0
        for i in range(N):
            D = delta_numerator_chain(pat[d, i], S[c], ncol[d], c4[d], nrow[d, i], spins[c, i], P, wide, coef,
                                      use_cache, diluted, AB[c, 0], AB[c, 1], Bsum[c])
            if D < 0:
                n += 1
        out[c] = n


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
            order, thr = work_arrays(N, dyn)
            sp, Sc, A, B = private_copy(spins[c]), private_copy(S[c]), private_copy(AB[c, 0]), private_copy(AB[c, 1])
            Bs = private_copy(Bsum[c:c + 1])
            acc_sweep[c] = sweep_chain(pat[d], nrow[d], ncol[d], c4[d], sp, Sc, rng[c], cbeta[c],
                                       P, scale, dyn, sched_code, ties, wide, coef, order, thr, use_cache, diluted,
                                       A, B, Bs, 1)
            write_back(spins[c], sp)
            write_back(S[c], Sc)
            write_back(AB[c, 0], A)
            write_back(AB[c, 1], B)
            write_back(Bsum[c:c + 1], Bs)
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
            tempering_swaps(perm, ladder, Ec, cbeta, swap_rng, swap_att, swap_acc, (parity0 + t) & 1)


@njit(cache=True)
def tempering_swaps(perm, ladder, Ec, cbeta, swap_rng, swap_att, swap_acc, parity):
    """One round of temperature swaps: in each group g, neighbouring slots (k, k+1) with k = parity
    (mod 2) swap their chains with probability min(1, exp((beta_k - beta_{k+1}) (E_a - E_b))),
    drawn from the group's stream swap_rng[g]; perm and cbeta are updated in place."""
    G = perm.shape[0]
    nT = perm.shape[1]
    for g in range(G):
        s0, s1, s2, s3 = swap_rng[g, 0], swap_rng[g, 1], swap_rng[g, 2], swap_rng[g, 3]
        for k in range(parity, nT - 1, 2):
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


@njit(inline="always", cache=True)
def private_copy(x):
    """A copy of the C-contiguous array ``x`` in a buffer of its own, 64-byte aligned, with at least 64
    elements of padding on each side. Chains are rows of shared arrays (spins, overlaps, ...), so the
    states of chains c and c + 1 share the cache lines at their boundary: when two threads run
    neighbouring chains, each accepted flip (and, for the overlaps, each proposal's read) bounces those
    lines between the cores, measured at 1.3-1.5x per sweep at N = 4000, K = 500 with two chains on two
    threads. A chain advanced in private copies (copied back by :func:`write_back`) costs O(N + K) per
    call instead."""
    n = x.size
    buf = np.empty(n + 192, dtype=x.dtype)
    lead = 64 + ((-buf.ctypes.data) % 64) // x.itemsize
    y = buf[lead:lead + n]
    y[:] = x.reshape(n)
    return y.reshape(x.shape)


@njit(inline="always", cache=True)
def write_back(x, y):
    """x[...] = y for C-contiguous arrays of one shape (the end of a :func:`private_copy`)."""
    n = x.size
    x.reshape(n)[:] = y.reshape(n)


@njit(cache=True)
def advance_chain(c, pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, P, scale, dyn, sched_code, ties, wide, coef,
                  use_cache, diluted, AB, Bsum, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
    """Chain c of :func:`run_chains`: ``nsweeps`` sweeps, recording per sweep (if ``measure``) E/N, m_1,
    the acceptance fraction into ``rec_*[c, t]`` and, if ``snap`` has a non-empty sweep axis, a snapshot
    of the spins ``snap[c, t]`` for the two-replica overlaps (:func:`pair_overlaps`)."""
    N = spins.shape[1]
    keep = snap.shape[1] > 0
    d = pidx[c]
    order, thr = work_arrays(N, dyn)
    # the chain's mutable state in buffers of its own for the whole call (see private_copy)
    sp = private_copy(spins[c])
    Sc = private_copy(S[c])
    A = private_copy(AB[c, 0])
    B = private_copy(AB[c, 1])
    Bs = private_copy(Bsum[c:c + 1])
    st = private_copy(rng[c])
    for t in range(nsweeps):
        acc = sweep_chain(pat[d], nrow[d], ncol[d], c4[d], sp, Sc, st, cbeta[c],
                          P, scale, dyn, sched_code, ties, wide, coef, order, thr, use_cache, diluted,
                          A, B, Bs, 1)
        acc_total[c] += acc
        if measure:
            rec_E[c, t] = energy_from_overlaps(Sc, ncol[d], N, P, coef) / N
            rec_m[c, t] = Sc[0] / N
            rec_a[c, t] = acc / N
            if keep:
                for i in range(N):
                    snap[c, t, i] = sp[i]
    write_back(spins[c], sp)
    write_back(S[c], Sc)
    write_back(AB[c, 0], A)
    write_back(AB[c, 1], B)
    write_back(Bsum[c:c + 1], Bs)
    write_back(rng[c], st)


@njit(parallel=True, cache=True)
def run_chains(pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, P, scale, dyn, sched_code, ties, wide, coef,
               use_cache, diluted, AB, Bsum, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
    """Chain-major variant of :func:`run_batch` without tempering: one parallel launch per call, each
    chain running its ``nsweeps`` sweeps on its own (:func:`advance_chain`; the trajectory is the same as
    in the lockstep kernel)."""
    for c in prange(spins.shape[0]):
        advance_chain(c, pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, P, scale, dyn, sched_code, ties, wide,
                      coef, use_cache, diluted, AB, Bsum, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap)


@njit(cache=True)
def run_chains_serial(pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, P, scale, dyn, sched_code, ties, wide, coef,
                      use_cache, diluted, AB, Bsum, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap):
    """:func:`run_chains` in the calling thread (one chain: no parallel launch, ~4% of a sweep at N = 1e4)."""
    for c in range(spins.shape[0]):
        advance_chain(c, pat, nrow, ncol, c4, pidx, spins, S, rng, cbeta, P, scale, dyn, sched_code, ties, wide,
                      coef, use_cache, diluted, AB, Bsum, nsweeps, measure, acc_total, rec_E, rec_m, rec_a, snap)


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
