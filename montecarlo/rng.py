"""Per-chain random streams: xoshiro256** in numba, seeded from numpy SeedSequence.

A chain's stream is keyed by (base seed, point, chain) only, so results do not depend on the
number of threads or on which worker ran the chain. State: 4 uint64 words per stream.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["stream_states", "seed_sequence", "next_u64", "uniform", "randbelow"]

_U1 = np.uint64(1)
_MASK32 = np.uint64(0xFFFFFFFF)


def seed_sequence(seed: int, point: int, *key: int) -> np.random.SeedSequence:
    """SeedSequence for (base seed, point, *key)."""
    return np.random.SeedSequence([int(seed), int(point), *[int(k) for k in key]])


def stream_states(seed: int, point: int, chains, tag: int = 0) -> np.ndarray:
    """xoshiro256** states, shape (len(chains), 4) uint64, from SeedSequence((seed, point, tag, chain)).

    ``tag`` separates stream families (0: spin chains, 1: tempering swaps, 2: initial states; 3: patterns
    and 6: synchronous chains through :func:`seed_sequence`).
    """
    chains = list(chains)
    out = np.empty((len(chains), 4), dtype=np.uint64)
    for r, c in enumerate(chains):
        st = seed_sequence(seed, point, tag, c).generate_state(4, dtype=np.uint64)
        if not st.any():  # the all-zero state is the one forbidden state of xoshiro
            st[0] = 1
        out[r] = st
    return out


@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always", cache=True)
def next_u64(s0, s1, s2, s3):
    """One xoshiro256** step: returns (output, s0, s1, s2, s3)."""
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(inline="always", cache=True)
def uniform(s0, s1, s2, s3):
    """Uniform double in [0, 1) with 53 random bits: returns (u, s0, s1, s2, s3)."""
    x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    return float(x >> np.uint64(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, s3


@njit(inline="always", cache=True)
def randbelow(n, s0, s1, s2, s3):
    """Unbiased integer in [0, n), 1 <= n < 2^32 (Lemire's multiply-shift with rejection)."""
    nn = np.uint64(n)
    x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    m = (x >> np.uint64(32)) * nn
    low = m & _MASK32
    if low < nn:
        thresh = (np.uint64(4294967296) - nn) % nn
        while low < thresh:
            x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            m = (x >> np.uint64(32)) * nn
            low = m & _MASK32
    return np.int64(m >> np.uint64(32)), s0, s1, s2, s3
