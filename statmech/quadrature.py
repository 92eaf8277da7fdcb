"""Gaussian averages for replica saddle-point equations.

Normalisation: every average here is an expectation over a *standard normal* variable,

    E_z[f(z)] = int dz exp(-z^2/2)/sqrt(2 pi) f(z),       z ~ N(0, 1),

so the weights of :func:`gauss_hermite` sum to 1 (probabilists' Gauss-Hermite rule).

Replica equations need averages of tanh-type functions of a Gaussian field
X = beta*(a + s z) ~ N(mu, sigma^2) with mu = beta*a and sigma = beta*s. At low temperature
sigma is large and tanh(X) is a near step in z, which plain Gauss-Hermite resolves badly
(error ~1e-4 at sigma = 3 with 100 nodes; 64 nodes are exact to ~1e-15 for sigma <= 0.5).
:func:`tanh_moments` and :func:`lncosh_average` therefore switch per point:

- sigma <= SIGMA_SWITCH: Gauss-Hermite in z (the integrand is smooth on the scale of the nodes);
- sigma >  SIGMA_SWITCH: split each function into an elementary part with a closed-form
  Gaussian average (sign(X) -> erf, |X| -> folded normal mean, 1 -> 1) plus a part localised
  within |X| <~ 18 (it decays as exp(-2|X|)); the localised part is integrated in X-space with
  composite Gauss-Legendre panels (11 panels x 12 nodes) on [-18, 0] and [0, 18] against the
  normal density of X, which is smooth on the panel scale when sigma > 0.5. Splitting at X = 0
  handles the kink of |X| and the jump of sign(X).

Both branches agree with adaptive quadrature to ~1e-13 or better over the (mu, sigma) plane
(tests/statmech/test_storage.py checks this), so the rule switch is invisible at the 1e-12
tolerance of the solvers.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit
from scipy.special import erf

__all__ = ["gauss_hermite", "gaussian_average", "tanh_moments", "lncosh_average", "SIGMA_SWITCH",
           "tanh_moments_point", "lncosh_point", "kernel_tables"]

#: sigma = std of X above which the split (closed form + localised panels) rule is used.
SIGMA_SWITCH = 0.5
_N_GH = 64            # Gauss-Hermite nodes for the smooth regime
_PANEL_EDGES = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0])
_N_GL = 12            # Gauss-Legendre nodes per panel
_SQRT2 = np.sqrt(2.0)
_INV_SQRT2PI = 1.0 / np.sqrt(2.0 * np.pi)


@lru_cache(maxsize=16)
def gauss_hermite(n: int = _N_GH) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite rule: nodes z_k and weights w_k with sum(w_k) = 1, so that
    sum_k w_k f(z_k) approximates E_z f(z) for z ~ N(0, 1) (exact for polynomials of degree
    <= 2n - 1). Cached; the returned arrays are read-only."""
    z, w = np.polynomial.hermite_e.hermegauss(int(n))
    w = w / w.sum()
    z.flags.writeable = False
    w.flags.writeable = False
    return z, w


def gaussian_average(values: np.ndarray, n: int = _N_GH) -> np.ndarray:
    """E_z over z ~ N(0,1) of a function tabulated at the ``gauss_hermite(n)`` nodes along the
    last axis of ``values`` (shape (..., n)); returns shape (...)."""
    _, w = gauss_hermite(n)
    return np.asarray(values) @ w


@lru_cache(maxsize=1)
def _panel_rule():
    """Nodes x_k in (0, 18) and weights for int_0^18 dx g(x) (composite Gauss-Legendre), and
    the localised functions tabulated at +x_k and -x_k (weights folded in)."""
    t, wt = np.polynomial.legendre.leggauss(_N_GL)
    xs, ws = [], []
    for a, b in zip(_PANEL_EDGES[:-1], _PANEL_EDGES[1:]):
        xs.append(0.5 * (b - a) * t + 0.5 * (a + b))
        ws.append(0.5 * (b - a) * wt)
    x = np.concatenate(xs)
    w = np.concatenate(ws)
    x = np.concatenate([x, -x])
    w = np.concatenate([w, w])
    th = np.tanh(x)
    e = np.exp(-2.0 * np.abs(x))
    # tanh - sign(x) = -sign(x) * 2 e / (1 + e): computed without cancellation
    loc = np.stack([
        -np.sign(x) * 2.0 * e / (1.0 + e),        # tanh(X) - sign(X)
        4.0 * e / (1.0 + e) ** 2,                 # sech^2 = 1 - tanh^2
        th * 4.0 * e / (1.0 + e) ** 2,            # tanh sech^2
        4.0 * e / (1.0 + e) ** 2 * (1.0 - 3.0 * th * th),  # sech^2 (1 - 3 tanh^2)
        np.log1p(e),                              # ln 2cosh(X) - |X|
    ], axis=1) * w[:, None]
    return x, loc


def _split_average(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Localised parts averaged over X ~ N(mu, sigma^2) (sigma > 0): shape (npts, 5)."""
    x, loc = _panel_rule()
    inv = 1.0 / (sigma * _SQRT2)
    u = np.multiply.outer(inv, x)
    u -= (mu * inv)[:, None]                  # u = (x - mu) / (sqrt(2) sigma)
    np.multiply(u, u, out=u)
    np.negative(u, out=u)
    np.exp(u, out=u)
    out = u @ loc
    out *= (_INV_SQRT2PI / sigma)[:, None]
    return out


def tanh_moments(mu, sigma):
    """Averages over X ~ N(mu, sigma^2) needed by the saddle-point equations and their Jacobian.

    Returns (t1, d1, d2, d3) with t = tanh(X):
        t1 = E[t],  d1 = E[1 - t^2],  d2 = E[t (1 - t^2)],  d3 = E[(1 - t^2)(1 - 3 t^2)].
    (E[t^2] = 1 - d1; d/dX of t, t^2 are 1 - t^2 and 2 t (1 - t^2); second derivatives are
    -2 t (1 - t^2) and 2 (1 - t^2)(1 - 3 t^2).) mu, sigma: 1-D arrays of equal length (or
    broadcastable), sigma >= 0.
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.shape != sigma.shape or mu.ndim != 1:
        mu, sigma = np.broadcast_arrays(mu, sigma)
        shape = mu.shape
        res = tanh_moments(mu.ravel(), sigma.ravel())
        return tuple(r.reshape(shape) for r in res)
    out = np.empty((4, mu.size))
    sharp = sigma > SIGMA_SWITCH
    n_sharp = np.count_nonzero(sharp)
    if n_sharp < mu.size:
        z, w = gauss_hermite()
        sel = slice(None) if n_sharp == 0 else ~sharp
        buf = np.empty((4, mu.size - n_sharp, z.size))
        t = buf[0]
        np.multiply.outer(sigma[sel], z, out=t)
        t += mu[sel, None]
        np.tanh(t, out=t)
        np.multiply(t, t, out=buf[1])
        np.multiply(buf[1], t, out=buf[2])
        np.multiply(buf[1], buf[1], out=buf[3])
        e1, e2, e3, e4 = buf @ w          # E t^k, k = 1..4
        out[0, sel] = e1
        out[1, sel] = 1.0 - e2
        out[2, sel] = e1 - e3
        out[3, sel] = 1.0 - 4.0 * e2 + 3.0 * e4
    if n_sharp:
        sel = slice(None) if n_sharp == mu.size else sharp
        m, s = mu[sel], sigma[sel]
        loc = _split_average(m, s)
        out[0, sel] = erf(m / (s * _SQRT2)) + loc[:, 0]
        out[1:, sel] = loc[:, 1:4].T
    return out[0], out[1], out[2], out[3]


def lncosh_average(mu, sigma):
    """E[ln 2cosh(X)] for X ~ N(mu, sigma^2), sigma >= 0 (same switching rule as
    :func:`tanh_moments`; ln 2cosh X = |X| + ln(1 + exp(-2|X|))). Compiled loop
    (:func:`lncosh_point`); :func:`lncosh_average_numpy` is the numpy reference."""
    mu, sigma = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64))
    shape = mu.shape
    z, w = gauss_hermite()
    x, loc = _panel_rule()
    out = _lncosh_many(np.ascontiguousarray(mu.ravel()), np.ascontiguousarray(sigma.ravel()), z, w, x,
                       _loc5())
    return out.reshape(shape)


@lru_cache(maxsize=1)
def _loc5():
    return np.ascontiguousarray(_panel_rule()[1][:, 4])


def lncosh_average_numpy(mu, sigma):
    """numpy version of :func:`lncosh_average`."""
    mu, sigma = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64))
    shape = mu.shape
    mu, sigma = mu.ravel(), sigma.ravel()
    out = np.empty(mu.size)
    sharp = sigma > SIGMA_SWITCH
    smooth = ~sharp
    if smooth.any():
        z, w = gauss_hermite()
        X = np.abs(mu[smooth, None] + sigma[smooth, None] * z[None, :])
        out[smooth] = (X + np.log1p(np.exp(-2.0 * X))) @ w
    if sharp.any():

        m, s = mu[sharp], sigma[sharp]
        folded = s * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * (m / s) ** 2) + m * erf(m / (s * _SQRT2))
        out[sharp] = folded + _split_average(m, s)[:, 4]
    return out.reshape(shape)


# ----------------------------------------------------------------------------------------------
# compiled single-point kernel (used by the Newton solver in statmech.storage)
# ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def kernel_tables():
    """Read-only contiguous tables for :func:`tanh_moments_point`: Gauss-Hermite nodes and weights
    (``_N_GH``), the panel nodes x_k and the localised parts of tanh, sech^2, tanh sech^2,
    sech^2 (1 - 3 tanh^2) at x_k with the panel weights folded in (shape (264, 4))."""
    z, w = gauss_hermite()
    x, loc = _panel_rule()
    tabs = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in (z, w, x, loc[:, :4]))
    for a in tabs:
        a.flags.writeable = False
    return tabs


@njit(cache=True, fastmath=False)
def tanh_moments_point(mu, sigma, z, w, x, loc):
    """(t1, d1, d2, d3) of :func:`tanh_moments` at one point (same switching rule and nodes):
    Gauss-Hermite for sigma <= SIGMA_SWITCH with tanh and sech^2 from one exponential per node
    (d1 = E sech^2 summed directly, no 1 - E t^2 cancellation); otherwise erf plus the localised
    panel sums with one Gaussian exponential per node, skipping nodes more than sqrt(80) sigma
    from mu (relative weight < 5e-18)."""
    if sigma <= 0.5:
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        for k in range(z.size):
            X = mu + sigma * z[k]
            e = math.exp(-2.0 * abs(X))
            r = 1.0 / (1.0 + e)
            t = (1.0 - e) * r
            if X < 0.0:
                t = -t
            s = 4.0 * e * r * r          # sech^2 = 1 - t^2
            wk = w[k]
            s1 += wk * t
            s2 += wk * s
            s3 += wk * t * s
            s4 += wk * s * (1.0 - 3.0 * t * t)
        return s1, s2, s3, s4
    inv = 1.0 / (sigma * 1.4142135623730951)
    c = mu * inv
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for k in range(x.size):
        u = x[k] * inv - c
        uu = u * u
        if uu > 40.0:          # Gaussian weight < 5e-18 (relative): node negligible, skipped
            continue
        g = math.exp(-uu)
        a0 += g * loc[k, 0]
        a1 += g * loc[k, 1]
        a2 += g * loc[k, 2]
        a3 += g * loc[k, 3]
    nrm = 0.3989422804014327 / sigma
    return math.erf(c) + a0 * nrm, a1 * nrm, a2 * nrm, a3 * nrm


@njit(cache=True)
def lncosh_point(mu, sigma, z, w, x, loc5):
    """E ln 2cosh(X), X ~ N(mu, sigma^2), at one point: :func:`lncosh_average`'s rule (loc5: the
    localised part ln(1 + exp(-2|x|)) at the panel nodes, weights folded in)."""
    if sigma <= 0.5:
        s = 0.0
        for k in range(z.size):
            X = abs(mu + sigma * z[k])
            s += w[k] * (X + math.log1p(math.exp(-2.0 * X)))
        return s
    inv = 1.0 / (sigma * 1.4142135623730951)
    c = mu * inv
    a = 0.0
    for k in range(x.size):
        u = x[k] * inv - c
        uu = u * u
        if uu <= 40.0:
            a += math.exp(-uu) * loc5[k]
    folded = sigma * 0.7978845608028654 * math.exp(-c * c) + mu * math.erf(c)
    return folded + a * (0.3989422804014327 / sigma)


@njit(cache=True)
def _lncosh_many(mu, sigma, z, w, x, loc5):
    out = np.empty(mu.size)
    for i in range(mu.size):
        out[i] = lncosh_point(mu[i], sigma[i], z, w, x, loc5)
    return out
