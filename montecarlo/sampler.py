"""Batched Monte Carlo chains for Hebbian networks: replicas x temperatures x disorder samples.

:class:`ChainBatch` owns the state of many chains (spins int8, overlaps int32, xoshiro256**
streams), advances them with the numba kernels in :mod:`montecarlo.kernels` (parallel over
chains with ``prange``; NUMBA_NUM_THREADS is respected), optionally couples the temperatures of
each (sample, replica) group by parallel tempering, records time series, and can be saved to /
restored from a dict of arrays (bit-for-bit resumption).
"""
from __future__ import annotations

import numba
import numpy as np

from hopfield.patterns import check_patterns
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from . import gpu as _gpu
from . import kernels as _k
from .rng import stream_states

__all__ = ["ChainBatch", "DYNAMICS", "SCHEDULES", "TIES", "INITS", "BACKENDS"]

DYNAMICS = {"heat_bath": _k.DYN_HEAT_BATH, "glauber": _k.DYN_HEAT_BATH, "metropolis": _k.DYN_METROPOLIS,
            "zero": _k.DYN_ZERO, "T0": _k.DYN_ZERO}
SCHEDULES = {"random": _k.SCHED_RANDOM, "sequential": _k.SCHED_SEQUENTIAL,
             "permutation": _k.SCHED_PERMUTATION}
TIES = {"random": _k.TIES_RANDOM, "frozen": _k.TIES_FROZEN}
INITS = ("pattern", "random")
BACKENDS = {"numba": "numba", "gpu": "gpu", "cupy": "gpu", "cuda": "gpu"}

_STATE_KEYS = ("spins", "S", "rng", "cbeta", "perm", "swap_rng", "swap_att", "swap_acc", "acc_total",
               "sweeps", "parity")


def check_exact_range(P, N, K):
    """The dense (P >= 3) kernel sums integers exactly in int64: K (N + P)^(P-1) 2^P < 2^62."""
    if P >= 3 and K * (N + P) ** (P - 1) * 2 ** P >= 2 ** 62:
        raise ParameterError("K * N^(P-1)", K * N ** (P - 1), "< 2^62 / 2^P (exact int64 kernel)")


def set_chain_controls(obj, replicas, dynamics, schedule, ties, seed, point):
    """Validate the run controls shared by the batch classes and set them on ``obj`` (clear errors naming
    each parameter): replicas >= 1, dynamics / schedule / ties from their tables, seed and point >= 0."""
    obj.replicas = check_integer("replicas", replicas, low=1)
    obj.dynamics = check_choice("dynamics", dynamics, tuple(DYNAMICS))
    obj.schedule = check_choice("schedule", schedule, tuple(SCHEDULES))
    obj.ties = check_choice("ties", ties, tuple(TIES))
    obj.seed = check_integer("seed", seed, low=0)
    obj.point = check_integer("point", point, low=0)


def init_chain_state(obj):
    """Fresh dynamical state of a batch of C = G nT chains (G groups, ladder of nT inverse temperatures):
    keyed streams (tag 0: chains, tag 1: tempering swaps of each group), identity temperature
    assignment, swap counters, acceptance counters."""
    obj.rng = stream_states(obj.seed, obj.point, range(obj.C), tag=0)
    obj.swap_rng = stream_states(obj.seed, obj.point, range(obj.G), tag=1)
    obj.perm = np.arange(obj.C, dtype=np.int64).reshape(obj.G, obj.nT)
    obj.cbeta = np.tile(obj.ladder, obj.G).astype(np.float64)
    obj.swap_att = np.zeros((obj.G, max(obj.nT - 1, 1)), dtype=np.int64)
    obj.swap_acc = np.zeros_like(obj.swap_att)
    obj.acc_total = np.zeros(obj.C, dtype=np.int64)
    obj.sweeps = 0
    obj.parity = 0


def restore_state(obj, state, keys, owner, optional=()):
    """Copy the arrays / ints ``keys`` of a checkpoint dict into ``obj`` (shapes and dtypes checked);
    keys in ``optional`` may be missing (they keep their current value)."""
    for k in keys:
        if k not in state:
            if k in optional:
                continue
            raise ParameterError("state", f"missing key {k!r}", f"a dict from {owner}.state_dict()")
        cur = getattr(obj, k)
        new = np.asarray(state[k])
        if isinstance(cur, np.ndarray):
            if new.shape != cur.shape:
                raise ParameterError(f"state[{k!r}].shape", new.shape, f"{cur.shape}")
            setattr(obj, k, np.ascontiguousarray(new, dtype=cur.dtype).copy())
        else:
            setattr(obj, k, int(new))


def check_init_array(init, C, N, names):
    """A start given as an array: +-1 of shape (C, N), returned as int8 C-contiguous; else a clear error naming
    the start strings ``names`` too."""
    arr = np.asarray(init)
    if arr.shape != (C, N) or not np.isin(arr, (-1, 1)).all():
        raise ParameterError("init", f"array of shape {arr.shape}",
                             f"one of {tuple(names)} or a +-1 array of shape ({C}, {N})")
    return np.ascontiguousarray(arr, dtype=np.int8)


def run_to_fixed_point(batch, max_sweeps, *, chunk=4):
    """T = 0 dynamics (``dynamics="zero"``) of ``batch`` (a ChainBatch or LearningBatch) in calls of ``chunk``
    sweeps until every chain is at a fixed point (``batch.unstable_sites()`` all 0: no site with DeltaE_i < 0,
    checked after each call) or ``max_sweeps`` sweeps have run. A sweep without a flip is not proof of a fixed
    point under the random schedule (a sweep leaves a fraction 1/e of the sites unvisited), hence the exact
    check. Returns (sweeps run, fixed: bool (C,))."""
    if DYNAMICS[batch.dynamics] != _k.DYN_ZERO:
        raise ParameterError("dynamics", batch.dynamics, "'zero' (fixed points of the T = 0 dynamics)")
    max_sweeps = check_integer("max_sweeps", max_sweeps, low=0)
    chunk = check_integer("chunk", chunk, low=1)
    done = 0
    fixed = batch.unstable_sites() == 0
    while done < max_sweeps and not fixed.all():
        k = min(chunk, max_sweeps - done)
        batch.run(k, measure=False)
        done += k
        fixed = batch.unstable_sites() == 0
    return done, fixed


def _as_pattern_stack(patterns):
    arr = np.asarray(patterns)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ParameterError("patterns.shape", arr.shape, "(N, K) or (samples, N, K)")
    return np.ascontiguousarray(np.stack([check_patterns(a) for a in arr]), dtype=np.int8)


class ChainBatch:
    """Many Monte Carlo chains of a Hebbian network (distinct-index P-body energy, hopfield.HebbianNetwork).

    Parameters
    ----------
    patterns : int8 (N, K) or (samples, N, K), entries in {-1, 0, 1}; one pattern set per disorder sample
    P : interaction order (>= 2)
    temperatures : sequence of temperatures T > 0 (a ladder; length nT >= 1); ``[0]`` for
        ``dynamics="zero"``.
    replicas : replicas per disorder sample (share the patterns; independent streams and starts)
    dynamics : "heat_bath" (Glauber, default), "metropolis", "zero" (T = 0: flip iff DeltaE < 0)
    schedule : "random" (site drawn uniformly, default), "sequential" (systematic scan), "permutation"
    ties : T = 0 tie rule for DeltaE = 0: "random" (flip with prob. 1/2, default) or "frozen"
    init : "pattern" (start at xi^1; blank sites random) or "random", or an int8 array (chains, N)
    tempering : swap temperatures between neighbouring slots of each (sample, replica) group
    seed, point : stream keys; chain c uses SeedSequence((seed, point, 0, c))
    backend : "numba" (CPU, default) or "gpu" (aliases "cupy", "cuda"; montecarlo.gpu: one warp per
        chain, the same streams, rules and records; refused with the reason where it cannot run)

    Chain index c = (sample * replicas + replica) * nT + slot, initially at temperature slot.

    Without tempering the chains run chain-major (one parallel launch per call, spin snapshots for
    q_ab kept in chunks of about ``SNAPSHOT_BYTES``); with tempering they run in lockstep (swaps
    after every sweep). Both give the same trajectories bit for bit (``lockstep = True`` forces the
    lockstep kernel).
    """

    SNAPSHOT_BYTES = 1 << 25
    lockstep = False

    def __init__(self, patterns, P=2, temperatures=(1.0,), *, replicas=1, dynamics="heat_bath",
                 schedule="random", ties="random", init="pattern", tempering=False, seed=0, point=0,
                 backend="numba"):
        self.P = check_integer("P", P, low=2, high=12)
        self.patterns = _as_pattern_stack(patterns)
        self.samples, self.N, self.K = self.patterns.shape
        if self.N < self.P:
            raise ParameterError("N", self.N, f"N >= P = {self.P}")
        if self.N >= 2 ** 31 - 1:
            raise ParameterError("N", self.N, "N < 2^31")
        set_chain_controls(self, replicas, dynamics, schedule, ties, seed, point)
        self.tempering = bool(tempering)
        self.backend = BACKENDS[check_choice("backend", backend, tuple(BACKENDS))]
        if self.backend == "gpu":
            ok, why = _gpu.available()
            if not ok:
                raise ParameterError("backend", backend, f"'numba' on this machine ({why})")
        temps = np.atleast_1d(np.asarray(temperatures, dtype=object))
        if temps.ndim != 1 or temps.size < 1:
            raise ParameterError("temperatures", temperatures, "a non-empty 1-D sequence")
        zero = DYNAMICS[self.dynamics] == _k.DYN_ZERO
        if zero:
            if temps.size != 1 or not (isinstance(temps[0], (int, float, np.integer, np.floating))
                                       and temps[0] == 0):
                raise ParameterError("temperatures", list(temps), "[0] for dynamics='zero'")
            self.temperatures = np.array([0.0])
            ladder = np.array([np.inf])
            if self.tempering:
                raise ParameterError("tempering", tempering, "False for dynamics='zero'")
        else:
            self.temperatures = np.array([check_real("T", t, low=0.0, low_open=True) for t in temps])
            ladder = 1.0 / self.temperatures
        self.nT = self.temperatures.size
        self.ladder = ladder
        self.G = self.samples * self.replicas
        self.C = self.G * self.nT
        # pattern constants
        self.nrow = np.ascontiguousarray(np.count_nonzero(self.patterns, axis=2).astype(np.int32))
        self.ncol = np.ascontiguousarray(np.count_nonzero(self.patterns, axis=1).astype(np.int32))
        self.c4 = 3.0 * self.ncol.astype(np.float64) - 5.0  # constant of the P = 4 kernel
        self.pidx = np.repeat(np.arange(self.samples, dtype=np.int64), self.replicas * self.nT)
        self.coef = _k.newton_coefficients(self.P)
        self.scale = self.P / float(self.N) ** (self.P - 1)
        N, K, P = self.N, self.K, self.P
        if P == 2:
            self.wide = K * N >= 2 ** 31
        elif P == 4:
            self.wide = K * (N + 3) ** 3 >= 2 ** 52
        else:
            self.wide = True
        check_exact_range(P, N, K)
        # pairs of replica groups sharing patterns (for q_ab)
        pairs = [(d * self.replicas + a, d * self.replicas + b) for d in range(self.samples)
                 for a in range(self.replicas) for b in range(a + 1, self.replicas)]
        self.pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        # state
        init_chain_state(self)
        self.init = init if isinstance(init, str) else "array"
        self.spins = self._initial_spins(init)
        # overlaps: int16 while |S| <= N < 2^15 (twice the SIMD width), else int32
        self.S = np.zeros((self.C, self.K), dtype=np.int16 if self.N < 2 ** 15 else np.int32)
        _k.recompute_overlaps(self.patterns, self.pidx, self.spins, self.S)
        # P = 4: per-chain cache A_mu, B_mu (functions of S only, not part of a checkpoint)
        self.use_cache = bool(P == 4 and not self.wide)
        self.diluted = bool((self.patterns == 0).any())
        self.AB = np.zeros((self.C, 2, self.K if self.use_cache else 0))
        self.Bsum = np.zeros(self.C)
        self._refresh_cache()
        self._series = []

    # ------------------------------------------------------------------ setup
    def _initial_spins(self, init):
        if isinstance(init, str):
            check_choice("init", init, INITS)
            spins = np.empty((self.C, self.N), dtype=np.int8)
            for c in range(self.C):
                g = np.random.default_rng(np.random.SeedSequence([self.seed, self.point, 2, c]))
                rand = (2 * g.integers(0, 2, size=self.N) - 1).astype(np.int8)
                if init == "pattern":
                    xi = self.patterns[self.pidx[c], :, 0]
                    spins[c] = np.where(xi != 0, xi, rand)
                else:
                    spins[c] = rand
            return spins
        return check_init_array(init, self.C, self.N, INITS)

    def _refresh_cache(self):
        if self.use_cache:
            _k.init_p4_cache(self.S, self.c4, self.pidx, self.AB, self.Bsum, self.diluted)

    # ------------------------------------------------------------------ running
    def run(self, sweeps, *, measure=True):
        """Advance all chains by ``sweeps`` sweeps; return (and keep) the recorded time series.

        Returns a dict: ``E`` (G, nT, sweeps) energy per neuron, ``m`` (G, nT, sweeps) overlap with
        xi^1, ``acc`` (G, nT, sweeps) acceptance fraction per sweep, ``q`` (pairs, nT, sweeps)
        two-replica overlaps; indexed by group g = sample * replicas + replica and temperature slot.
        """
        sweeps = check_integer("sweeps", sweeps, low=0)
        n = sweeps if measure else 0
        rec_E = np.zeros((self.G, self.nT, n))
        rec_m = np.zeros((self.G, self.nT, n))
        rec_a = np.zeros((self.G, self.nT, n))
        rec_q = np.zeros((self.pairs.shape[0], self.nT, n))
        if sweeps:
            # never more threads than chains: an idle thread in a parallel region only adds latency,
            # and a lot of it when the machine is shared (one chain-major chain runs without a parallel region)
            threads = numba.get_num_threads()
            use = max(1, min(threads, self.C))
            toggle = use != threads and not (self.C == 1 and self._chain_major())
            if toggle:
                numba.set_num_threads(use)
            try:
                if self.backend == "gpu":
                    self._run_gpu(sweeps, measure, rec_E, rec_m, rec_a, rec_q)
                elif not self._chain_major():
                    self._run_lockstep(sweeps, measure, rec_E, rec_m, rec_a, rec_q)
                else:
                    self._run_chain_major(sweeps, measure, rec_E, rec_m, rec_a, rec_q)
            finally:
                if toggle:
                    numba.set_num_threads(threads)
            self.sweeps += sweeps
            self.parity = (self.parity + sweeps) & 1
        out = {"E": rec_E, "m": rec_m, "acc": rec_a, "q": rec_q}
        if measure:
            self._series.append(out)
        return out

    def _run_lockstep(self, sweeps, measure, rec_E, rec_m, rec_a, rec_q):
        _k.run_batch(self.patterns, self.nrow, self.ncol, self.c4, self.pidx, self.spins, self.S, self.rng,
                     self.cbeta, self.ladder, self.perm, self.P, self.scale,
                     DYNAMICS[self.dynamics], SCHEDULES[self.schedule], TIES[self.ties],
                     self.wide, self.coef, self.use_cache, self.diluted, self.AB, self.Bsum,
                     sweeps, self.parity, self.tempering and self.nT > 1,
                     self.swap_rng, self.swap_att, self.swap_acc, self.pairs, measure,
                     self.acc_total, rec_E, rec_m, rec_a, rec_q)

    def _run_gpu(self, sweeps, measure, rec_E, rec_m, rec_a, rec_q):
        # the device copy persists between calls; it is refreshed when the host state was replaced
        dev = getattr(self, "_device", None)
        if dev is None:
            dev = self._device = _gpu.DeviceChains(self)
        elif getattr(self, "_device_stale", False):
            dev.to_device()
        self._device_stale = False
        try:
            if not self._chain_major():
                self._run_gpu_lockstep(dev, sweeps, measure, rec_E, rec_m, rec_a, rec_q)
            else:
                def advance(n, measure, E, M, A, snap):
                    dev.sweeps(n, measure, self.cbeta, E, M, A, snap)
                    E /= self.N  # the kernel records H, the CPU kernel H / N
                self._run_chain_major(sweeps, measure, rec_E, rec_m, rec_a, rec_q, advance)
        finally:
            dev.to_host()
            self._refresh_cache()

    def _run_gpu_lockstep(self, dev, sweeps, measure, rec_E, rec_m, rec_a, rec_q):
        # the sweep of :func:`kernels.run_batch` on the GPU, swaps on the host between sweeps
        npairs = self.pairs.shape[0]
        need_q = measure and npairs > 0
        do_pt = self.tempering and self.nT > 1
        for t in range(sweeps):
            Ec = np.zeros((self.C, 1))
            M = np.zeros((self.C, 1))
            A = np.zeros((self.C, 1))
            snap = np.zeros((self.C, 1 if need_q else 0, self.N), dtype=np.int8)
            dev.sweeps(1, True, self.cbeta, Ec, M, A, snap)
            Ec = Ec[:, 0]
            if measure:
                for g in range(self.G):
                    for k in range(self.nT):
                        c = self.perm[g, k]
                        rec_E[g, k, t] = Ec[c] / self.N
                        rec_m[g, k, t] = M[c, 0]
                        rec_a[g, k, t] = A[c, 0]
                if need_q:
                    pc = np.array([(self.perm[a, k], self.perm[b, k]) for a, b in self.pairs
                                   for k in range(self.nT)], dtype=np.int64)
                    q = np.zeros((pc.shape[0], 1))
                    _k.pair_overlaps(snap, pc, q)
                    rec_q[:, :, t] = q.reshape(npairs, self.nT)
            if do_pt:
                _k.tempering_swaps(self.perm, self.ladder, Ec, self.cbeta, self.swap_rng, self.swap_att,
                                   self.swap_acc, (self.parity + t) & 1)

    def _chain_major(self):
        """Chains advance on their own (no tempering swaps, not forced into lockstep)."""
        return not (self.tempering and self.nT > 1 or self.lockstep)

    def _numba_chains(self, n, measure, E, M, A, snap):
        run = _k.run_chains if self.C > 1 else _k.run_chains_serial
        run(self.patterns, self.nrow, self.ncol, self.c4, self.pidx, self.spins, self.S, self.rng,
                      self.cbeta, self.P, self.scale, DYNAMICS[self.dynamics], SCHEDULES[self.schedule],
                      TIES[self.ties], self.wide, self.coef, self.use_cache, self.diluted, self.AB,
                      self.Bsum, n, measure, self.acc_total, E, M, A, snap)

    def _run_chain_major(self, sweeps, measure, rec_E, rec_m, rec_a, rec_q, advance=None):
        # no tempering: chain c sits at slot c % nT of group c // nT for ever (perm is the identity)
        advance = advance or self._numba_chains
        npairs = self.pairs.shape[0]
        need_q = measure and npairs > 0
        chunk = sweeps
        if need_q:  # bound the spin snapshots kept for q to ~SNAPSHOT_BYTES
            chunk = max(1, min(sweeps, self.SNAPSHOT_BYTES // max(1, self.C * self.N)))
        # q pairs as chain indices, per slot: row p * nT + k (R (R - 1) / 2 per sample: built only when measured)
        pc = (self.pairs[:, None, :] * self.nT + np.arange(self.nT)[None, :, None]).reshape(-1, 2) if need_q else None
        done = 0
        while done < sweeps:
            n = min(chunk, sweeps - done)
            m = n if measure else 0
            E = np.zeros((self.C, m))
            M = np.zeros((self.C, m))
            A = np.zeros((self.C, m))
            snap = np.zeros((self.C, m if need_q else 0, self.N), dtype=np.int8)
            advance(n, measure, E, M, A, snap)
            if measure:
                sl = slice(done, done + n)
                rec_E[:, :, sl] = E.reshape(self.G, self.nT, n)
                rec_m[:, :, sl] = M.reshape(self.G, self.nT, n)
                rec_a[:, :, sl] = A.reshape(self.G, self.nT, n)
                if need_q:
                    q = np.zeros((pc.shape[0], n))
                    _k.pair_overlaps(snap, pc, q)
                    rec_q[:, :, sl] = q.reshape(npairs, self.nT, n)
            done += n

    def series(self):
        """All time series recorded so far, concatenated along the sweep axis."""
        if not self._series:
            return {k: np.zeros((0, 0, 0)) for k in ("E", "m", "acc", "q")}
        return {k: np.concatenate([s[k] for s in self._series], axis=2) for k in self._series[0]}

    # ------------------------------------------------------------------ observables
    def overlaps(self):
        """Mattis overlaps m_mu of every chain, (C, K) float."""
        return self.S / self.N

    def energies(self):
        """Total energy H of every chain (from the overlaps)."""
        return np.array([_k.energy_from_overlaps(self.S[c], self.ncol[self.pidx[c]], self.N, self.P, self.coef)
                         for c in range(self.C)])

    def unstable_sites(self):
        """Number of sites with DeltaE_i < 0 in every chain, int64 (C,): 0 iff the chain is at a fixed point of
        the T = 0 dynamics (montecarlo.md 3; sites with DeltaE_i = 0, ties, are allowed). The exact D_i of the
        sweeps (kernels.count_unstable), O(N K) per chain: about one sweep's work."""
        AB, Bsum = self.AB, self.Bsum
        if self.use_cache:   # the P = 4 cache from the overlaps (a function of S only), without touching the state
            AB, Bsum = np.zeros_like(self.AB), np.zeros_like(self.Bsum)
            _k.init_p4_cache(self.S, self.c4, self.pidx, AB, Bsum, self.diluted)
        out = np.zeros(self.C, dtype=np.int64)
        _k.count_unstable(self.patterns, self.nrow, self.ncol, self.c4, self.pidx, self.spins, self.S, self.P,
                          self.wide, self.coef, self.use_cache, self.diluted, AB, Bsum, out)
        return out

    def run_to_fixed_point(self, max_sweeps, *, chunk=4):
        """T = 0 dynamics until every chain is at a fixed point or ``max_sweeps``: :func:`run_to_fixed_point`."""
        return run_to_fixed_point(self, max_sweeps, chunk=chunk)

    def delta_energies(self, c):
        """Exact DeltaE_i of chain c for all sites (kernel formula), float array (N,)."""
        check_integer("c", c, low=0, high=self.C - 1)
        d = self.pidx[c]
        return np.array([self.scale * _k.delta_numerator_chain(
            self.patterns[d, i], self.S[c], self.ncol[d], self.c4[d], self.nrow[d, i], self.spins[c, i], self.P,
            self.wide, self.coef, self.use_cache, self.diluted, self.AB[c, 0], self.AB[c, 1], self.Bsum[c])
            for i in range(self.N)])

    def check_overlaps(self) -> bool:
        """True iff the incremental overlaps (and the P = 4 cache) equal a recomputation from the spins."""
        S2 = np.zeros_like(self.S)
        _k.recompute_overlaps(self.patterns, self.pidx, self.spins, S2)
        ok = bool(np.array_equal(S2, self.S))
        if self.use_cache:
            AB, Bsum = np.zeros_like(self.AB), np.zeros_like(self.Bsum)
            _k.init_p4_cache(S2, self.c4, self.pidx, AB, Bsum, self.diluted)
            # B itself is maintained only for diluted patterns (+-1 patterns use its sum)
            nb = 2 if self.diluted else 1
            ok = ok and bool(np.array_equal(AB[:, :nb], self.AB[:, :nb]) and np.array_equal(Bsum, self.Bsum))
        return ok

    def swap_rates(self):
        """Parallel-tempering swap acceptance per neighbouring pair (nT-1,), pooled over groups (NaN if none)."""
        att = self.swap_att.sum(axis=0)[: max(self.nT - 1, 0)]
        acc = self.swap_acc.sum(axis=0)[: max(self.nT - 1, 0)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(att > 0, acc / np.maximum(att, 1), np.nan)

    def acceptance(self):
        """Fraction of accepted flips per chain over all sweeps run."""
        return self.acc_total / max(self.sweeps * self.N, 1)

    # ------------------------------------------------------------------ checkpoints
    def set_temperature(self, T):
        """Move every chain of a single-temperature batch (no tempering, T > 0 dynamics) to temperature
        ``T``, keeping spins, overlaps and streams: the step of a heating or annealing protocol."""
        if self.nT != 1 or self.tempering or DYNAMICS[self.dynamics] == _k.DYN_ZERO:
            raise ParameterError("set_temperature", "this batch",
                                 "a single-temperature batch without tempering, dynamics heat_bath or metropolis")
        T = check_real("T", T, low=0.0, low_open=True)
        self.temperatures = np.array([T])
        self.ladder = np.array([1.0 / T])
        self.cbeta[:] = 1.0 / T
        return self

    def state_dict(self, include_patterns=True):
        """Full state as a dict of numpy arrays (copies): enough to resume bit for bit."""
        d = {k: np.array(getattr(self, k)) for k in _STATE_KEYS}
        d["config"] = np.array([self.P, DYNAMICS[self.dynamics], SCHEDULES[self.schedule], TIES[self.ties],
                                self.replicas, int(self.tempering), self.seed, self.point], dtype=np.int64)
        d["temperatures"] = self.temperatures.copy()
        if include_patterns:
            d["patterns"] = self.patterns.copy()
        return d

    def load_state(self, state):
        """Restore the dynamical state saved by :meth:`state_dict` (same configuration)."""
        restore_state(self, state, _STATE_KEYS, "ChainBatch")
        self._series = []
        self._refresh_cache()
        self._device_stale = True
        return self

    @classmethod
    def from_state(cls, state, patterns=None, backend="numba"):
        """Rebuild a batch from :meth:`state_dict` (patterns from the dict unless given) on ``backend``
        (the state does not say where it ran: a GPU run resumes on the CPU unless asked)."""
        cfg = [int(v) for v in np.asarray(state["config"])]
        inv = lambda table, v: next(name for name, code in table.items() if code == v)  # noqa: E731
        pats = state["patterns"] if patterns is None else patterns
        dyn = inv(DYNAMICS, cfg[1])
        temps = state["temperatures"] if dyn not in ("zero", "T0") else [0.0]
        b = cls(pats, cfg[0], temps, replicas=cfg[4], dynamics=dyn, schedule=inv(SCHEDULES, cfg[2]),
                ties=inv(TIES, cfg[3]), tempering=bool(cfg[5]), seed=cfg[6], point=cfg[7],
                init=np.asarray(state["spins"]), backend=backend)
        return b.load_state(state)
