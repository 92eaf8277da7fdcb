"""Synchronous (parallel) dynamics of the pairwise Hebbian network: a different dynamics, offered
only under this label (montecarlo.md Sections 3 and 9.4).

Every spin is updated at once from the fields of the previous configuration,

    h_i(sigma) = (1/N) sum_mu xi_i^mu (S_mu - xi_i^mu sigma_i),   S_mu = sum_j xi_j^mu sigma_j

(J_ij = (1/N) sum_mu xi_i^mu xi_j^mu, J_ii = 0; patterns +-1 or diluted {-1, 0, 1}):
heat bath sigma_i' = +1 with probability (1 + tanh(beta h_i)) / 2 (Little's dynamics), or at T = 0
sigma_i' = sign(h_i) with the tie rule of the sequential samplers. For symmetric J the heat-bath
chain is reversible with stationary law pi(sigma) ~ prod_i 2 cosh(beta h_i(sigma)) (Peretto 1984),
not the Boltzmann law of the sequential dynamics; at T = 0 it may end in 2-cycles.

One step costs two matrix products, O(N K) per chain: this is a reference dynamics, not a fast
kernel. Each chain draws from its own stream keyed by (seed, point, chain), so a chain's trajectory
does not depend on how many chains run beside it.
"""
from __future__ import annotations

import numpy as np

from hopfield.patterns import check_patterns
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from .rng import seed_sequence
from .sampler import TIES

__all__ = ["synchronous_run"]

SYNC_TAG = 6   # stream family of the synchronous chains (see rng.stream_states for the others)


def synchronous_run(patterns, T, steps, *, chains=1, init="pattern", ties="random", seed=0, point=0) -> dict:
    """``steps`` synchronous updates of ``chains`` chains at temperature ``T`` (T = 0: sign rule).

    ``init``: "pattern" (xi^1, blank sites random) or "random". Returns ``m`` (C, steps): the overlap
    with xi^1 after each step; ``E`` (C, steps): the Hebbian energy per neuron
    -(1/(2 N^2)) sum_mu (S_mu^2 - n_mu) of each configuration; ``spins`` (C, N) and ``cycle2``
    (C,) bool: at T = 0, whether the last two steps form a 2-cycle (sigma(t) = sigma(t-2) != sigma(t-1));
    and the settings, labelled ``dynamics = "synchronous"``.
    """
    xi = check_patterns(patterns)
    N, K = xi.shape
    T = check_real("T", T, low=0.0)
    steps = check_integer("steps", steps, low=1)
    chains = check_integer("chains", chains, low=1)
    check_choice("init", init, ("pattern", "random"))
    check_choice("ties", ties, tuple(TIES))
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    if N * K * 8 > 2 ** 33:
        raise ParameterError("N * K", N * K, "<= 2^30 (float64 copy of the patterns)")
    xf = xi.astype(np.float64)
    nrow = np.count_nonzero(xi, axis=1).astype(np.float64)
    ncol = np.count_nonzero(xi, axis=0).astype(np.float64)
    gens = [np.random.default_rng(seed_sequence(seed, point, SYNC_TAG, c)) for c in range(chains)]
    spins = np.empty((chains, N))
    for c, g in enumerate(gens):
        rand = np.where(g.random(N) < 0.5, -1.0, 1.0)
        spins[c] = np.where(xi[:, 0] != 0, xi[:, 0], rand) if init == "pattern" else rand
    m = np.empty((chains, steps))
    E = np.empty((chains, steps))
    prev = prev2 = None
    beta = np.inf if T == 0.0 else 1.0 / T
    S = spins @ xf                                           # (C, K), carried from step to step
    for t in range(steps):
        h = (S @ xf.T - nrow * spins) / N                    # fields of the current configurations
        u = np.stack([g.random(N) for g in gens])
        if T == 0.0:
            new = np.sign(h)
            tie = new == 0
            if ties == "random":
                new[tie] = np.where(u[tie] < 0.5, -1.0, 1.0)
            else:                                            # frozen: a tie keeps the spin
                new[tie] = spins[tie]
        else:
            new = np.where(u < 0.5 * (1.0 + np.tanh(beta * h)), 1.0, -1.0)
        prev2, prev, spins = prev, spins, new
        S = spins @ xf
        m[:, t] = S[:, 0] / N
        E[:, t] = -((S ** 2).sum(axis=1) - ncol.sum()) / (2.0 * N * N)
    cycle2 = np.zeros(chains, dtype=bool)
    if prev2 is not None:
        cycle2 = np.all(spins == prev2, axis=1) & np.any(spins != prev, axis=1)
    return {"m": m, "E": E, "spins": spins.astype(np.int8), "cycle2": cycle2, "dynamics": "synchronous",
            "T": T, "steps": steps, "chains": chains, "init": init, "ties": ties, "seed": seed, "point": point}
