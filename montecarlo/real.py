"""Monte Carlo of dense Hebbian networks with real-valued patterns (e.g. Gaussian), numba CPU.

Energy (montecarlo.md 2.2 with C = 1, distinct indices; reference hopfield.RealHebbianNetwork):

    H = -(1/(2 N^{P-1})) sum_mu sum_{distinct i_1..i_P} prod_k xi^mu_{i_k} sigma_{i_k}
      = -(P! / (2 N^{P-1})) sum_mu e_P(x^mu),            x^mu_j = xi^mu_j sigma_j

    DeltaE_i = (P / N^{P-1}) sum_mu x_i^mu E_{P-1}(cavity power sums),     E_k = k! e_k (Newton),

with real entries the powers do not collapse as for +-1 or {-1, 0, 1} patterns, so the cavity power sums
come from running power overlaps V_{h,mu} = sum_j (xi_j^mu)^(2h+1) sigma_j and constants
W_{h,mu} = sum_j (xi_j^mu)^(2h): p_k = V - xi_i^k sigma_i (k odd), p_k = W - xi_i^k (k even). This is the
supervised-learning kernel of :mod:`montecarlo.learning` (its numerator and energy are reused) with the
patterns in place of the integer example sums and scale P / N^{P-1}. O(K P) per proposal; the overlaps are
float64, so they are recomputed from the spins after every sweep (O(N K P), no drift).

Acceptance, schedules and streams as :class:`montecarlo.ChainBatch` (heat bath, Metropolis, T = 0 with a
tie rule; random, sequential, permutation; xoshiro256** streams keyed by (seed, point, chain), the same
numbers whatever the thread count). The Mattis overlaps m_mu = xi^mu . sigma / N.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from .kernels import DYN_ZERO, accept, draw_order, private_copy, write_back
from .learning import newton_coefficients, sup_energy, sup_numerator
from .rng import seed_sequence
from .sampler import DYNAMICS, SCHEDULES, TIES, check_init_array, init_chain_state, restore_state, set_chain_controls

__all__ = ["RealPatternBatch", "check_real_patterns"]

INITS = ("pattern", "random")


def check_real_patterns(patterns, name="patterns") -> np.ndarray:
    """Real patterns (N, K) or (samples, N, K): finite float64, C-contiguous, as (samples, N, K)."""
    arr = np.asarray(patterns)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ParameterError(f"{name}.shape", arr.shape, "(N, K) or (samples, N, K) with N, K >= 1")
    if not (np.issubdtype(arr.dtype, np.number) and np.all(np.isfinite(arr))):
        raise ParameterError(name, "non-finite or non-numeric entries", "finite real entries")
    return np.ascontiguousarray(arr, dtype=np.float64)


@njit(cache=True)
def _power_overlaps(pat, spins, V):
    """V[h, mu] = sum_j pat[j, mu]^(2h+1) spins[j] (float64)."""
    N, K = pat.shape
    for h in range(V.shape[0]):
        for mu in range(K):
            V[h, mu] = 0.0
    for j in range(N):
        s = float(spins[j])
        for mu in range(K):
            a = pat[j, mu]
            a2 = a * a
            pw = a * s
            for h in range(V.shape[0]):
                V[h, mu] += pw
                pw *= a2


@njit(parallel=True, cache=True)
def run_real(pat, W, pidx, spins, V, rng, bscale, P, coef, dyn, sched_code, ties, nsweeps, measure, escale, acc_total,
             rec_E, rec_m, rec_a):
    """``nsweeps`` sweeps of every chain (prange over chains), records E/N, m_1 and the acceptance per sweep."""
    C, N = spins.shape
    K = V.shape[2]
    for c in prange(C):
        d = pidx[c]
        pd = pat[d]
        sp, Vc, st = private_copy(spins[c]), private_copy(V[c]), private_copy(rng[c])
        s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
        order = np.empty(N, dtype=np.int64)
        p = np.empty(P + 1)
        E = np.empty(P + 1)
        for t in range(nsweeps):
            s0, s1, s2, s3 = draw_order(order, N, sched_code, s0, s1, s2, s3)
            accepted = 0
            for a in range(N):
                i = order[a]
                row = pd[i]
                sig = sp[i]
                D = sup_numerator(row, Vc, W[d], sig, P, coef, p, E)
                flip, s0, s1, s2, s3 = accept(D, bscale[c], dyn, ties, s0, s1, s2, s3)
                if flip:
                    accepted += 1
                    sp[i] = -sig
                    two = 2.0 * float(sig)
                    for mu in range(K):
                        x = row[mu]
                        x2 = x * x
                        pw = x
                        for h in range(Vc.shape[0]):
                            Vc[h, mu] -= two * pw
                            pw *= x2
            acc_total[c] += accepted
            _power_overlaps(pd, sp, Vc)       # exact to rounding again after every sweep: no drift
            if measure:
                rec_E[c, t] = escale * sup_energy(Vc, W[d], P, coef) / N
                rec_m[c, t] = Vc[0, 0] / N
                rec_a[c, t] = accepted / N
        st[0] = s0
        st[1] = s1
        st[2] = s2
        st[3] = s3
        write_back(spins[c], sp)
        write_back(V[c], Vc)
        write_back(rng[c], st)


class RealPatternBatch:
    """Chains of a dense Hebbian network (distinct indices) with real-valued patterns.

    Parameters
    ----------
    patterns : real (N, K) or (samples, N, K), finite (e.g. standard Gaussian entries)
    P : interaction order (>= 2)
    T : temperature > 0, or 0 (selects ``dynamics="zero"``)
    replicas, dynamics, schedule, ties, seed, point : as :class:`montecarlo.ChainBatch`
    init : "pattern" (sigma = sign(xi^1), +1 where xi^1 = 0), "random", or a +-1 int8 array (chains, N)

    Chain c = sample * replicas + replica uses the stream SeedSequence((seed, point, 0, c)); random starts
    SeedSequence((seed, point, 2, c)).
    """

    def __init__(self, patterns, P=2, T=1.0, *, replicas=1, dynamics="heat_bath", schedule="random",
                 ties="random", init="pattern", seed=0, point=0):
        self.P = check_integer("P", P, low=2, high=12)
        self.patterns = check_real_patterns(patterns)
        self.samples, self.N, self.K = self.patterns.shape
        if self.N < self.P:
            raise ParameterError("N", self.N, f"N >= P = {self.P}")
        set_chain_controls(self, replicas, dynamics, schedule, ties, seed, point)
        self.T = check_real("T", T, low=0.0)
        if self.T > 0.0 and DYNAMICS[self.dynamics] == DYN_ZERO:
            raise ParameterError("dynamics", dynamics, "'heat_bath' or 'metropolis' at T > 0 (T = 0 selects 'zero')")
        if self.T == 0.0:
            self.dynamics = "zero"
        self.nT, self.G = 1, self.samples * self.replicas
        self.C = self.G
        self.ladder = np.array([math.inf if self.T == 0.0 else 1.0 / self.T])
        self.pidx = np.repeat(np.arange(self.samples, dtype=np.int64), self.replicas)
        self.coef = newton_coefficients(self.P)
        self.HV, self.HW = (self.P + 1) // 2, self.P // 2 + 1     # odd powers 1..P, even powers 0..P
        self.W = np.ascontiguousarray(np.stack(
            [np.stack([(pp ** (2 * h)).sum(axis=0) for h in range(self.HW)]) for pp in self.patterns]))
        self.scale = self.P / float(self.N) ** (self.P - 1)
        self.escale = -1.0 / (2.0 * float(self.N) ** (self.P - 1))
        init_chain_state(self)
        self.init = init if isinstance(init, str) else "array"
        self.spins = self._initial_spins(init)
        self.V = np.zeros((self.C, self.HV, self.K))
        self.recompute()

    def _initial_spins(self, init):
        if isinstance(init, str):
            check_choice("init", init, INITS)
            spins = np.empty((self.C, self.N), dtype=np.int8)
            for c in range(self.C):
                if init == "pattern":
                    spins[c] = np.where(self.patterns[self.pidx[c], :, 0] >= 0, 1, -1)
                else:
                    g = np.random.default_rng(seed_sequence(self.seed, self.point, 2, c))
                    spins[c] = (2 * g.integers(0, 2, size=self.N) - 1).astype(np.int8)
            return spins
        return check_init_array(init, self.C, self.N, INITS)

    def recompute(self):
        """The power overlaps V from the spins."""
        for c in range(self.C):
            _power_overlaps(self.patterns[self.pidx[c]], self.spins[c], self.V[c])

    # ------------------------------------------------------------------ observables
    def overlaps(self):
        """Mattis overlaps m_mu = xi^mu . sigma / N of every chain, (C, K)."""
        return self.V[:, 0, :] / self.N

    def energies(self):
        """Total energy H of every chain (float (C,))."""
        return np.array([self.escale * sup_energy(self.V[c], self.W[self.pidx[c]], self.P, self.coef)
                         for c in range(self.C)])

    def delta_energies(self, c):
        """DeltaE_i of chain c for every site (the kernel formula), float (N,)."""
        c = check_integer("c", c, low=0, high=self.C - 1)
        d = self.pidx[c]
        p, E = np.empty(self.P + 1), np.empty(self.P + 1)
        return np.array([self.scale * sup_numerator(self.patterns[d, i], self.V[c], self.W[d], self.spins[c, i],
                                                    self.P, self.coef, p, E) for i in range(self.N)])

    def acceptance(self):
        return self.acc_total / max(self.sweeps * self.N, 1)

    # ------------------------------------------------------------------ checkpoints
    _KEYS = ("spins", "rng", "acc_total", "sweeps")

    def state_dict(self):
        """The dynamical state (copies): spins, streams, counters; resumes bit for bit (V follows the spins)."""
        return {k: np.array(getattr(self, k)) for k in self._KEYS}

    def load_state(self, state):
        restore_state(self, state, self._KEYS, "RealPatternBatch")
        self.recompute()
        return self

    # ------------------------------------------------------------------ running
    def run(self, sweeps, *, measure=True):
        """Advance every chain by ``sweeps`` sweeps; returns {"E": E/N, "m": m_1, "acc"} of shape (C, sweeps)
        (empty with ``measure=False``)."""
        sweeps = check_integer("sweeps", sweeps, low=0)
        n = sweeps if measure else 0
        rec = [np.zeros((self.C, n)) for _ in range(3)]
        bscale = self.cbeta * self.scale
        threads = numba.get_num_threads()
        numba.set_num_threads(max(1, min(threads, self.C)))
        try:
            run_real(self.patterns, self.W, self.pidx, self.spins, self.V, self.rng, bscale, self.P, self.coef,
                     DYNAMICS[self.dynamics], SCHEDULES[self.schedule], TIES[self.ties], sweeps, measure,
                     self.escale, self.acc_total, *rec)
        finally:
            numba.set_num_threads(threads)
        self.sweeps += sweeps
        return dict(zip(("E", "m", "acc"), rec))
