"""Kernel exactness: DeltaE against the numpy reference, incremental overlaps, T = 0 rule, RNG."""
import math

import numpy as np
import pytest

from hopfield import HebbianNetwork, ParameterError, random_patterns
from montecarlo import ChainBatch
from montecarlo.rng import stream_states


@pytest.mark.parametrize("P", [2, 3, 4, 5])
@pytest.mark.parametrize("dilution", [0.0, 0.35])
def test_delta_energy_matches_reference(P, dilution):
    rng = np.random.default_rng(10 * P + int(100 * dilution))
    N, K = 13, 6
    xi = random_patterns(N, K, rng, dilution=dilution)
    net = HebbianNetwork(xi, P)
    b = ChainBatch(xi, P, [1.0], replicas=3, init="random", seed=P)
    for _ in range(3):
        b.run(2)
        for c in range(b.C):
            s = b.spins[c]
            ref = np.array([net.delta_energy(s, i) for i in range(N)])
            ker = b.delta_energies(c)
            scale = max(1.0, np.abs(ref).max())
            assert np.max(np.abs(ker - ref)) <= 4e-15 * scale
            assert b.energies()[c] == pytest.approx(net.energy(s), rel=1e-14, abs=1e-14)


@pytest.mark.parametrize("P", [2, 4])
@pytest.mark.parametrize("dilution", [0.0, 0.2])
def test_kernel_paths_agree(P, dilution):
    """The int64 ('wide') and narrow kernels give identical DeltaE, equal to the numpy reference; for
    diluted P = 4 so does the cached kernel (+-1 P = 4 sweeps decide through the float32 filter instead:
    test_p4_float32_filter_exact_decisions)."""
    rng = np.random.default_rng(3)
    xi = random_patterns(30, 40, rng, dilution=dilution)
    b = ChainBatch(xi, P, [1.0], init="random", seed=1)
    assert b.use_cache == (P == 4)
    b.run(3)
    first = b.delta_energies(0)                 # cached path only where P = 4 and diluted
    b.use_cache = False
    narrow = b.delta_energies(0)
    b.wide = True
    assert np.array_equal(b.delta_energies(0), narrow)
    assert np.array_equal(first, narrow)
    net = HebbianNetwork(xi, P)
    ref = np.array([net.delta_energy(b.spins[0], i) for i in range(30)])
    assert np.allclose(narrow, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("P,dyn,sched", [(2, "heat_bath", "random"), (2, "metropolis", "sequential"),
                                         (3, "heat_bath", "permutation"), (4, "metropolis", "random")])
def test_incremental_overlaps_exact(P, dyn, sched):
    rng = np.random.default_rng(4)
    N = 60
    xi = random_patterns(N, 25, rng, dilution=0.1)
    b = ChainBatch(xi, P, [3.0], replicas=2, dynamics=dyn, schedule=sched, init="random", seed=2)
    b.run(200)
    assert b.acceptance().min() > 0.2  # many flips happened
    assert b.check_overlaps()


def test_zero_temperature_reaches_fixed_point():
    rng = np.random.default_rng(5)
    xi = random_patterns(200, 10, rng)
    for P in (2, 3):
        b = ChainBatch(xi, P, [0.0], replicas=2, dynamics="zero", ties="frozen", init="random", seed=3)
        b.run(60)
        for c in range(b.C):
            assert b.delta_energies(c).min() >= 0.0


@pytest.mark.parametrize("P,dilution", [(2, 0.0), (3, 0.2), (4, 0.0), (4, 0.3)])
def test_unstable_sites_count_the_negative_delta_energies(P, dilution):
    """unstable_sites = #{i: DeltaE_i < 0} of the reference DeltaE (every kernel path, the P = 4 caches
    included); run_to_fixed_point stops exactly at fixed points of the T = 0 dynamics."""
    rng = np.random.default_rng(P)
    N = 60
    xi = random_patterns(N, 8, rng, dilution=dilution)
    b = ChainBatch(xi, P, [0.0], replicas=3, dynamics="zero", init="random", seed=P)
    before = b.unstable_sites()
    assert before.min() > 0     # random starts are far from a fixed point
    for c in range(b.C):
        assert before[c] == np.sum(b.delta_energies(c) < 0)
    state = {k: np.array(getattr(b, k)) for k in ("spins", "S", "AB", "Bsum")}
    b.unstable_sites()          # changes nothing
    assert all(np.array_equal(state[k], getattr(b, k)) for k in state)
    done, fixed = b.run_to_fixed_point(200, chunk=1)
    assert fixed.all() and 0 < done < 200
    assert (b.unstable_sites() == 0).all()
    for c in range(b.C):
        assert b.delta_energies(c).min() >= 0.0
    again, fixed2 = b.run_to_fixed_point(50)
    assert again == 0 and fixed2.all()    # already there: no sweep
    heat = ChainBatch(xi, P, [0.5], init="random")
    with pytest.raises(ParameterError, match="dynamics"):
        heat.run_to_fixed_point(10)


def test_zero_temperature_ties_random_vs_frozen():
    # a site blank in every pattern has DeltaE = 0: random ties flip it, frozen ties never do
    xi = random_patterns(20, 3, 1)
    xi[0] = 0
    fro = ChainBatch(xi, 2, [0.0], dynamics="zero", ties="frozen", init="pattern", seed=1, schedule="sequential")
    s0 = fro.spins[0, 0]
    fro.run(20)
    assert fro.spins[0, 0] == s0
    ran = ChainBatch(xi, 2, [0.0], dynamics="zero", ties="random", init="pattern", seed=1, schedule="sequential")
    vals = []
    for _ in range(20):
        ran.run(1)
        vals.append(ran.spins[0, 0])
    assert len(set(vals)) == 2


def test_streams_distinct_and_keyed():
    a = stream_states(1, 2, range(5))
    b = stream_states(1, 2, [3])
    assert np.array_equal(a[3], b[0])
    assert len({tuple(r) for r in a}) == 5
    assert not np.array_equal(stream_states(1, 3, [0]), stream_states(1, 2, [0]))


def test_schedules_visit_uniformly():
    # infinite temperature Metropolis accepts every flip: the flip counts per site show the schedule
    xi = random_patterns(50, 2, 0)
    for sched in ("random", "sequential", "permutation"):
        b = ChainBatch(xi, 2, [1e12], dynamics="metropolis", schedule=sched, init="pattern", seed=9)
        start = b.spins.copy()
        b.run(1)
        flipped = (b.spins != start).sum()
        if sched == "random":
            assert 8 < flipped < 36  # odd Poisson(1) count: N (1 - e^-2) / 2 = 21.6 on average
        else:
            assert flipped == 50


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(P=st.integers(2, 5), N=st.integers(5, 11), K=st.integers(1, 5), dil=st.sampled_from([0.0, 0.3]),
       seed=st.integers(0, 10 ** 6))
def test_delta_energy_property(P, N, K, dil, seed):
    rng = np.random.default_rng(seed)
    xi = random_patterns(N, K, rng, dilution=dil)
    net = HebbianNetwork(xi, P)
    b = ChainBatch(xi, P, [0.7], init="random", seed=seed % 1000, schedule="permutation")
    b.run(2)
    s = b.spins[0]
    ref = np.array([net.delta_energy(s, i) for i in range(N)])
    assert np.max(np.abs(b.delta_energies(0) - ref)) <= 4e-15 * max(1.0, np.abs(ref).max())
    assert b.check_overlaps()


def _p4_reference_run(xi, spins, st, T, dyn, ties_random, nsweeps, eps_of_q):
    """Plain P = 4 sweeps (random schedule) with D_i computed exactly for every proposal and the
    acceptance rules of the +-1 fast path: heat bath flips iff c D < log(1/u - 1), Metropolis iff
    D <= 0 or c D < -log(u), T = 0 by the sign of D (c = beta * 4 / N^3). Returns the final state and
    how many proposals fell inside the kernel's error bound (where it must fall back to exact D)."""
    from montecarlo import rng as R

    def call(f, *args):  # the numba RNG returns Python ints: keep the state typed uint64
        out = f(*args)
        return (out[0],) + tuple(np.uint64(v) for v in out[1:])

    randbelow = lambda n, *s: call(R.randbelow, n, *s)  # noqa: E731
    uniform = lambda *s: call(R.uniform, *s)  # noqa: E731
    next_u64 = lambda *s: call(R.next_u64, *s)  # noqa: E731
    N, K = xi.shape
    xi = xi.astype(np.int64)
    spins = spins.astype(np.int64).copy()
    S = xi.T @ spins
    cfac = (1.0 / T) * (4.0 / float(N) ** 3) if dyn != "zero" else 0.0
    s0, s1, s2, s3 = (np.uint64(v) for v in st)
    near = 0
    for _ in range(nsweeps):
        order = []
        for _a in range(N):
            i, s0, s1, s2, s3 = randbelow(N, s0, s1, s2, s3)
            order.append(i)
        for i in order:
            x = xi[i] * spins[i]
            sp = S - x
            D = int(np.sum(x * (sp ** 3 - (3 * N - 5) * sp)))
            eps = eps_of_q(float(np.sum(S * S)))
            flip = False
            if dyn == "heat_bath":
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                r = np.inf if u == 0.0 else np.log(1.0 / u - 1.0)
                near += abs(cfac * D - r) <= cfac * eps
                flip = cfac * D < r
            elif dyn == "metropolis":
                if D <= 0:
                    flip = True
                else:
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    r = np.inf if u == 0.0 else -np.log(u)
                    near += abs(cfac * D - r) <= cfac * eps
                    flip = cfac * D < r
                near += abs(D) <= eps
            else:
                near += abs(D) <= eps
                if D < 0:
                    flip = True
                elif D == 0 and ties_random:
                    v, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                    flip = (int(v) >> 63) == 1
            if flip:
                S -= 2 * x
                spins[i] = -spins[i]
    return spins, S, np.array([s0, s1, s2, s3], dtype=np.uint64), near


def _plain_run(xi, P, spins, st, T, dyn, nsweeps):
    """Plain sweeps (random schedule, P = 2 or 3, patterns in {-1, 0, 1}): exact integer D_i for every
    proposal, x = (beta P / N^(P-1)) D_i, and the textbook rules in float64 with libm's exp: heat bath
    u (1 + e^x) < 1 (one uniform per proposal), Metropolis D <= 0 or u < e^-x."""
    from montecarlo import rng as R

    def call(f, *args):  # the numba RNG returns Python ints: keep the state typed uint64
        out = f(*args)
        return (out[0],) + tuple(np.uint64(v) for v in out[1:])

    N, K = xi.shape
    xi = xi.astype(np.int64)
    n = np.count_nonzero(xi, axis=0)
    spins = spins.astype(np.int64).copy()
    S = xi.T @ spins
    bscale = (1.0 / T) * (P / float(N) ** (P - 1))
    s = tuple(np.uint64(v) for v in st)
    for _ in range(nsweeps):
        order = []
        for _a in range(N):
            i, *s = call(R.randbelow, N, *s)
            order.append(i)
        for i in order:
            x = xi[i] * spins[i]
            if P == 2:
                D = int(spins[i] * (xi[i] @ S) - np.sum(x * x))
            else:   # sum_mu x (S'^2 - n'), S' = S - x, n' = n - x^2
                sp, nps = S - x, n - x * x
                D = int(np.sum(x * (sp * sp - nps)))
            flip = D <= 0 if dyn == "metropolis" else False
            if dyn == "heat_bath":
                u, *s = call(R.uniform, *s)
                flip = u * (1.0 + math.exp(bscale * D)) < 1.0
            elif not flip:
                u, *s = call(R.uniform, *s)
                flip = u < math.exp(-bscale * D)
            if flip:
                S -= 2 * x
                spins[i] = -spins[i]
    return spins, S, np.array(s, dtype=np.uint64)


@pytest.mark.parametrize("P,dilution,dyn", [(2, 0.0, "heat_bath"), (2, 0.3, "heat_bath"), (3, 0.2, "heat_bath"),
                                            (2, 0.0, "metropolis")])
def test_trajectory_equals_plain_sweeps(P, dilution, dyn):
    """The compiled sweeps (pre-drawn heat-bath bounds, vector dot products, exp filters) take exactly
    the decisions of the textbook expressions: same spins, overlaps and RNG state after many sweeps.
    Near-threshold proposals are frequent at this size, so a bound off by even 1e-3 would show."""
    N, K, T = 40, 7, 1.2
    xi = random_patterns(N, K, np.random.default_rng(31), dilution=dilution)
    b = ChainBatch(xi, P, [T], dynamics=dyn, init="random", seed=5)
    spins0, st0 = b.spins[0].copy(), b.rng[0].copy()
    b.run(60)
    spins, S, st = _plain_run(xi, P, spins0, st0, T, dyn, 60)
    assert 0.05 < b.acceptance().min() < 0.95
    assert np.array_equal(b.spins[0], spins)
    assert np.array_equal(b.S[0].astype(np.int64), S)
    assert np.array_equal(b.rng[0], st)


@pytest.mark.parametrize("dyn,T", [("heat_bath", 3.0), ("metropolis", 3.0), ("zero", 0.0)])
def test_p4_float32_filter_exact_decisions(dyn, T):
    """P = 4 with +-1 patterns decides from a float32 estimate of D_i plus a rigorous error bound and
    computes D_i exactly where the bound cannot decide: the trajectory (spins, overlaps, RNG state)
    must equal a reference that uses the exact D_i for every proposal. At finite T the run visits
    the band where the bound cannot decide (so the exact fallback runs too)."""
    from montecarlo import kernels as k
    N, K = 12, 30
    xi = random_patterns(N, K, np.random.default_rng(21))
    b = ChainBatch(xi, 4, [T], dynamics=dyn, init="random", seed=7)
    assert b.use_cache and not b.diluted
    spins0, st0 = b.spins[0].copy(), b.rng[0].copy()
    c40 = 3.0 * N - 5.0
    eps_of_q = lambda q: float(k._fast4_eps(N, K, c40, q)) * 1.01  # noqa: E731
    nsw = 300
    b.run(nsw)
    spins, S, st, near = _p4_reference_run(xi, spins0, st0, T, dyn, True, nsw, eps_of_q)
    assert np.array_equal(b.spins[0], spins)
    assert np.array_equal(b.S[0].astype(np.int64), S)
    assert np.array_equal(b.rng[0], st)
    assert near > 0 or dyn == "zero"
    assert b.check_overlaps()
    # the float32 cache a call leaves is the one its overlaps give (refreshed after the last flip,
    # which the next proposal would otherwise have done)
    fresh = np.empty(K, dtype=np.float32)
    for _ in range(20):
        b.run(1)
        k._fill_g32(b.S[0], np.float32(3.0 - c40), fresh)
        assert np.array_equal(b.AB[0, 0].view(np.float32)[:K].view(np.int32), fresh.view(np.int32))


def test_vector_dot_matches_int64_reference():
    """The 256-bit int8 x int16 dot (two accumulators, odd 16-block, scalar tail) equals the int64 dot
    for every K residue modulo 32, including K < 16, at the int16 extremes."""
    from numba import njit

    from montecarlo.kernels import _dot_p2

    @njit
    def dot(row, S, K):
        return _dot_p2(row, S, K)

    @njit
    def dot_prefetching(row, S, K, nxt):
        return _dot_p2(row, S, K, nxt)

    rng = np.random.default_rng(3)
    other = rng.choice(np.array([-1, 1], dtype=np.int8), size=2000)
    for K in list(range(0, 70)) + [1000, 1007]:
        row = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=K)
        S = rng.integers(-2**15, 2**15, size=K).astype(np.int16)
        ref = int(np.dot(row.astype(np.int64), S.astype(np.int64)))
        assert dot(row, S, K) == ref, K
        assert dot_prefetching(row, S, K, other[:K]) == ref, K   # the prefetched row changes nothing


def test_flip_dot_matches_its_reference():
    """_flip_dot (one-pass int16 path: vpmaddwd and the update per 16 entries, scalar tail; int64 path for
    int32 overlaps or K N >= 2^31) returns the dot product before the flip and leaves S as the plain
    update, for every K residue modulo 16 and both signs of the flip."""
    from numba import njit

    from montecarlo.kernels import _flip_dot

    @njit
    def flip(row, S, K, two, small_kn):
        return _flip_dot(row, S, K, two, small_kn)

    rng = np.random.default_rng(8)
    for K in list(range(0, 50)) + [1000, 1007]:
        for dtype, small_kn in ((np.int16, True), (np.int16, False), (np.int32, True)):
            row = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=K)
            S = rng.integers(-30000, 30000, size=K).astype(dtype)
            two = int(rng.choice([-2, 2]))
            ref_S = (S.astype(np.int64) - two * row.astype(np.int64)).astype(dtype)
            ref = int(np.dot(row.astype(np.int64), S.astype(np.int64)))
            got = flip(row, S, K, two, small_kn)
            assert got == ref and np.array_equal(S, ref_S), (K, dtype, small_kn)


def test_float32_filter_dot_is_within_its_bound():
    """The P = 4 filter's float32 dot (8-lane FMA blocks, 64 per prefetched line, then 8-blocks and a
    scalar tail) stays within the rounding bound gK sum |row G| the filter assumes, for every K residue
    modulo 64, and the prefetched row changes nothing."""
    from numba import njit

    from montecarlo.kernels import _U32, _dot_f32

    @njit
    def dot(row, G, K, nxt):
        return _dot_f32(row, G, K, nxt)

    rng = np.random.default_rng(4)
    other = rng.choice(np.array([-1, 1], dtype=np.int8), size=3000)
    for K in list(range(0, 140)) + [1000, 1001, 2047]:
        row = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=K)
        G = (rng.standard_normal(K) * 1e9).astype(np.float32)
        exact = float(np.dot(row.astype(np.float64), G.astype(np.float64)))
        got = dot(row, G, K, other[:K])
        gK = K * _U32 / (1.0 - K * _U32)
        assert abs(got - exact) <= gK * float(np.abs(G.astype(np.float64)).sum()) + 1e-300, K
        assert got == dot(row, G, K, row), K


def test_fused_refresh_dot_equals_refresh_then_dot():
    """_dot_f32_fill_i8 (the first proposal after an accepted flip: G32 refreshed inside the dot
    product) leaves G32 bit for bit as _fill_g32 does and returns the value of _dot_f32 on it, for
    int16 and int32 overlaps and every K residue modulo 64."""
    from numba import njit

    from montecarlo.kernels import _dot_f32, _dot_f32_fill_i8, _fill_g32

    @njit
    def fused(row, S, ca, G, K, nxt):
        return _dot_f32_fill_i8(row, S, ca, G, K, nxt)

    @njit
    def separate(row, S, ca, G, K, nxt):
        _fill_g32(S, ca, G)
        return _dot_f32(row, G, K, nxt)

    rng = np.random.default_rng(5)
    for dtype, n in ((np.int16, 30000), (np.int32, 40000)):
        ca = np.float32(8 - 3 * n)
        for K in list(range(0, 140)) + [1000, 1001]:
            row = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=K)
            S = rng.integers(-n, n, size=K).astype(dtype)
            G1, G2 = np.zeros(K, dtype=np.float32), np.full(K, np.nan, dtype=np.float32)
            assert fused(row, S, ca, G2, K, row) == separate(row, S, ca, G1, K, row), (dtype, K)
            assert np.array_equal(G1.view(np.int32), G2.view(np.int32)), (dtype, K)


def test_acceptance_filter_takes_the_exact_decisions():
    """heat_bath_flip / metropolis_flip (exp estimated, libm exp only near the threshold) equal the
    plain float64 expressions u (1 + exp(x)) < 1 and u < exp(x): random (u, x) over the whole range,
    and u placed within a few ulps of the threshold (where only the exact branch can decide)."""
    from numba import njit

    from montecarlo.kernels import _EXP_EST_MAX, _exp_est, heat_bath_flip, metropolis_flip

    @njit
    def decide(us, xs):
        hb = np.empty(us.size, dtype=np.bool_)
        me = np.empty(us.size, dtype=np.bool_)
        est = np.empty(us.size)
        for j in range(us.size):
            hb[j] = heat_bath_flip(us[j], xs[j])
            me[j] = metropolis_flip(us[j], xs[j])
            est[j] = _exp_est(xs[j]) if abs(xs[j]) <= _EXP_EST_MAX else np.nan
        return hb, me, est

    @njit
    def libm_log_odds(us):
        return np.array([math.log(1.0 / u - 1.0) for u in us])

    @njit
    def plain(us, xs):  # the reference expressions, with the same libm exp (numba's math.exp)
        hb = np.empty(us.size, dtype=np.bool_)
        me = np.empty(us.size, dtype=np.bool_)
        for j in range(us.size):
            hb[j] = us[j] * (1.0 + math.exp(xs[j])) < 1.0
            me[j] = us[j] < math.exp(xs[j])
        return hb, me

    rng = np.random.default_rng(5)
    n = 400_000
    xs = np.concatenate([rng.normal(0.0, 3.0, n), rng.uniform(-800.0, 800.0, n // 4), [0.0, -745.0, 710.0]])
    us = rng.random(xs.size)
    us[:100] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        # near-threshold draws: u = 1/(1 + e^x) and u = e^x moved by -4 ... +4 ulps
        m = 50_000
        xt = rng.normal(0.0, 3.0, m)
        ulps = rng.integers(-4, 5, m)
        u_hb = np.clip(1.0 / (1.0 + np.exp(xt)), 0.0, np.nextafter(1.0, 0.0))
        u_me = np.clip(np.exp(xt), 0.0, np.nextafter(1.0, 0.0))
        for u0 in (u_hb, u_me):
            u = u0.copy()
            for k in range(m):
                for _ in range(abs(ulps[k])):
                    u[k] = np.nextafter(u[k], np.inf if ulps[k] > 0 else -np.inf)
            xs, us = np.concatenate([xs, xt]), np.concatenate([us, np.clip(u, 0.0, np.nextafter(1.0, 0.0))])
        hb, me, est = decide(us, xs)
        ok = ~np.isnan(est)
        rel = np.abs(est[ok] / np.exp(xs[ok]) - 1.0)
        assert rel.max() < 2e-7, rel.max()
        hb_ref, me_ref = plain(us, xs)
        assert np.array_equal(hb, hb_ref)
        assert np.array_equal(me, me_ref)
        # the near-threshold cases really reach both outcomes
        tail = slice(xs.size - 2 * m, None)
        assert 0 < hb[tail].sum() < 2 * m and 0 < me[tail].sum() < 2 * m


def test_heat_bath_bounds_take_the_exact_decisions():
    """Pre-drawn heat bath: _log_est is accurate to its stated bound over the whole float range it sees,
    and heat_bath_decide(x, u, lo, hi) with (lo, hi) = heat_bath_bounds(u) equals the plain float64
    u (1 + exp(x)) < 1, for random pairs, for x placed right at the bounds, and for u within a few ulps
    of the threshold; the bounds are tight (few proposals fall between them)."""
    from numba import njit

    from montecarlo.kernels import _log_est, draw_heat_bath, heat_bath_bounds, heat_bath_decide
    from montecarlo.rng import uniform

    @njit
    def logs(ys):
        out = np.empty(ys.size)
        for j in range(ys.size):
            out[j] = _log_est(ys[j])[0]
        return out

    @njit
    def decide(us, xs):
        out = np.empty(us.size, dtype=np.bool_)
        undecided = 0
        for j in range(us.size):
            lo, hi = heat_bath_bounds(us[j])
            out[j] = heat_bath_decide(xs[j], us[j], lo, hi)
            undecided += lo <= xs[j] <= hi
        return out, undecided

    @njit
    def bounds(us):
        lo = np.empty(us.size)
        hi = np.empty(us.size)
        for j in range(us.size):
            lo[j], hi[j] = heat_bath_bounds(us[j])
        return lo, hi

    @njit
    def libm_log_odds(us):
        return np.array([math.log(1.0 / u - 1.0) for u in us])

    @njit
    def plain(us, xs):
        out = np.empty(us.size, dtype=np.bool_)
        for j in range(us.size):
            out[j] = us[j] * (1.0 + math.exp(xs[j])) < 1.0
        return out

    rng = np.random.default_rng(11)
    top = np.nextafter(1.0, 0.0)
    ys = np.concatenate([np.exp(rng.uniform(-37.0, 37.0, 200_000)), 2.0 ** np.arange(-53.0, 54.0),
                         np.sqrt(0.5) * (1 + np.arange(-3, 4) * 2.0 ** -52), np.sqrt(2.0) * (1 + np.arange(-3, 4) * 2.0 ** -52),
                         [1.0 / top - 1.0, 2.0 ** 53 - 1.0]])
    err = np.abs(logs(ys) - np.log(ys))
    assert np.all(err <= 1e-13 + 1e-15 * np.abs(np.log(ys))), err.max()

    n = 300_000
    us = np.concatenate([rng.random(n), top - rng.integers(0, 64, 2000) * 2.0 ** -53,
                         rng.integers(1, 64, 2000) * 2.0 ** -53, [0.0] * 10])
    xs = np.concatenate([rng.normal(0.0, 4.0, n), rng.normal(0.0, 40.0, 4000), rng.uniform(-800, 800, 10)])
    got, _ = decide(us, xs)
    assert np.array_equal(got, plain(us, xs))
    undecided = decide(us[:n], xs[:n])[1]   # typical draws: the bounds decide, libm exp is rarely called
    assert undecided < 1e-4 * n, undecided
    # x at the bounds themselves and one step outside them
    lo, hi = bounds(us)
    fin = np.isfinite(lo)
    for x in (lo[fin], np.nextafter(lo[fin], -np.inf), hi[fin], np.nextafter(hi[fin], np.inf)):
        assert np.array_equal(decide(us[fin], x)[0], plain(us[fin], x))
    assert plain(us[fin], np.nextafter(lo[fin], -np.inf)).all() and not plain(us[fin], np.nextafter(hi[fin], np.inf)).any()
    # the same bounds enclose libm's log(1/u - 1), which the +-1 P = 4 path compares with
    r = libm_log_odds(us[fin])
    assert np.all((lo[fin] < r) & (r < hi[fin]))
    # u within +-4 ulps of 1/(1 + e^x): only the exact branch can decide, and both outcomes occur
    m = 50_000
    xt = rng.normal(0.0, 3.0, m)
    ut = np.clip(1.0 / (1.0 + np.exp(xt)), 0.0, top)
    steps = rng.integers(-4, 5, m)
    for k in range(m):
        for _ in range(abs(steps[k])):
            ut[k] = np.nextafter(ut[k], np.inf if steps[k] > 0 else -np.inf)
    ut = np.clip(ut, 0.0, top)
    got = decide(ut, xt)[0]
    assert np.array_equal(got, plain(ut, xt)) and 0 < got.sum() < m

    # draw_heat_bath takes the next N uniforms of the stream, as N calls of uniform would
    @njit
    def both(N, st):
        thr = np.empty((3, N))
        a = draw_heat_bath(thr, N, st[0], st[1], st[2], st[3])
        ref = np.empty(N)
        s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
        for j in range(N):
            ref[j], s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        return thr, ref, np.array(a), np.array((s0, s1, s2, s3))

    thr, ref, a, b = both(1000, np.array([1, 2, 3, 4], dtype=np.uint64))
    assert np.array_equal(thr[0], ref) and np.array_equal(a, b)
    assert np.array_equal(thr[1:], np.vstack(bounds(ref)))


def test_unmanaged_array_aliases_the_original():
    """kernels._unmanaged returns the same memory (reads and writes go through) without an owner, so row
    views of it inside a kernel carry no reference counting; the caller keeps the original alive."""
    from numba import njit

    from montecarlo.kernels import _unmanaged

    @njit
    def flip_row_sums(a):
        u = _unmanaged(a)
        out = np.zeros(u.shape[0], dtype=np.int64)
        for i in range(u.shape[0]):
            row = u[i]
            out[i] = row.sum()
            row[0] = -row[0]
        return out

    a = np.arange(12, dtype=np.int8).reshape(3, 4)
    ref = a.sum(axis=1)
    assert np.array_equal(flip_row_sums(a), ref)
    assert np.array_equal(a[:, 0], -np.arange(0, 12, 4))


def test_private_copy_is_padded_aligned_and_written_back():
    """kernels.private_copy: a copy of a chain's row (the same values and shape) in memory of its own,
    64-byte aligned and at least 64 bytes from any other chain's row; write_back stores it in the row
    and nowhere else."""
    from numba import njit

    from montecarlo.kernels import private_copy, write_back

    @njit
    def negate_privately(x):
        y = private_copy(x)
        same = y.ctypes.data == x.ctypes.data
        for k in range(y.size):
            y.reshape(y.size)[k] = -y.reshape(y.size)[k]
        write_back(x, y)
        return y.ctypes.data, same, y.shape == x.shape

    for dtype in (np.int8, np.int16, np.int32, np.float64, np.uint64):
        a = np.arange(3 * 2 * 7).astype(dtype).reshape(3, 2, 7)
        ref = a.copy()
        addr, same, shape_ok = negate_privately(a[1])
        assert not same and shape_ok and addr % 64 == 0
        lo, hi = a.ctypes.data, a.ctypes.data + a.nbytes
        assert addr + 14 * a.itemsize + 64 <= lo or addr >= hi + 64   # no line shared with the rows
        assert np.array_equal(a[1], (-ref[1].astype(np.int64)).astype(dtype))
        assert np.array_equal(a[0], ref[0]) and np.array_equal(a[2], ref[2])
    empty = np.zeros((2, 0))
    assert negate_privately(empty[1])[2]


@pytest.mark.parametrize("P,N,K", [(2, 200, 20), (3, 60, 180), (4, 40, 1280)])
def test_glassy_constant_of_the_distinct_kernel(P, N, K):
    """Validation target 3 (montecarlo.md): at sigma = xi^1 on random patterns, the one-step
    noise / signal^2 of the field x_i = DeltaE_i is (P-1)! alpha for distinct indices (6 alpha at P = 4;
    a full-sum kernel gives (2P-3)!! alpha = 15 alpha). Exact at finite N: the signal counts the
    (N-1)_{P-1} ordered distinct tuples, each other pattern adds (P-1)! (N-1)_{P-1} of variance, so
    Var(x) / <x>^2 = (P-1)! (K-1) / (N-1)_{P-1}. Pooled over 300 disorder samples (fields at different
    sites of one sample are correlated at O(P/N), so the variance is taken across samples too)."""
    samples = 300
    pats = np.stack([random_patterns(N, K, np.random.default_rng(s)) for s in range(samples)])
    b = ChainBatch(pats, P, [1.0], init="pattern", seed=0)
    x = np.concatenate([b.delta_energies(c) for c in range(b.C)])
    falling = math.prod(N - j for j in range(1, P))
    exact = math.factorial(P - 1) * (K - 1) / falling
    ratio = x.var() / x.mean() ** 2
    # effective sample of about samples * N / P independent fields: relative error of a variance sqrt(2 P / (samples N))
    assert ratio == pytest.approx(exact, rel=5 * math.sqrt(2 * P / (samples * N)))


@pytest.mark.parametrize("P,N,K", [(3, 60, 180), (4, 40, 1280)])
def test_glassy_constant_of_full_sums(P, N, K):
    """The full-sum kernel of validation target 3 is the polynomial DAM F(S) = S^P
    (montecarlo.modern.poly_delta_numerators): with S' = S_mu - xi_i sigma_i (n = N - 1 other sites),
    F(S' - x) - F(S' + x) = -2 x f(S'), f(S') = sum_{k odd} C(P, k) S'^(P-k), so
    Var / <.>^2 = (K - 1) E[f(S')^2] / f(n)^2 exactly, from the moments of a sum of n random signs:
    P = 3: (27 n^2 - 12 n + 1) / (3 n^2 + 1)^2 -> 3 alpha; P = 4: (15 n^3 - 24 n^2 + 13 n) / (n^3 + n)^2
    -> 15 alpha, against (P-1)! alpha = 2 alpha and 6 alpha for distinct indices."""
    from montecarlo.modern import poly_delta_numerators
    samples = 300
    x = np.concatenate([poly_delta_numerators(p, P, p[:, 0]).astype(float)
                        for p in (random_patterns(N, K, np.random.default_rng(s)) for s in range(samples))])
    n = N - 1
    per = ((27 * n ** 2 - 12 * n + 1) / (3 * n ** 2 + 1) ** 2 if P == 3
           else (15 * n ** 3 - 24 * n ** 2 + 13 * n) / (n ** 3 + n) ** 2)
    exact = (K - 1) * per
    assert x.var() / x.mean() ** 2 == pytest.approx(exact, rel=5 * math.sqrt(2 * P / (samples * N)))
