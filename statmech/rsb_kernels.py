"""Compiled (numba) kernels of the 1RSB solver ``statmech.rsb``: the nested Gaussian averages.

They evaluate exactly the quadrature rules of the numpy reference code in ``statmech.rsb``
(``_inner``/``_outer`` at finite T, ``_T0_inner`` at T = 0) one point at a time, without the
large temporaries, and agree with it to rounding (~1e-15, checked in tests/statmech/test_rsb_fast.py):

* finite T, for every point k and outer node z0_j: X ~ N(beta (a_k + s0_k z0_j), (beta s1_k)^2) with the
  weight cosh^x(X); the tilted averages (ln Z, <tanh>, <sech^2>, <ln cosh>) by Gauss-Hermite (64
  nodes, log-sum-exp) for sigma <= 0.5, else the split rule (closed-form asymptotes plus Gauss-Legendre
  panels on |X| < 18 for the localised remainders). The x-dependent panel factors ((1 + e^(-2y))/2)^x
  are computed once per point; nodes whose Gaussian weight is below e^(-745) (exactly 0 in double) are
  skipped, as are outer nodes with relative weight below 1e-20 (|z0| > 9.6);
* T = 0: the closed forms E exp(mu|A + s z|) in the normal cdf, with log Phi from ``math.erfc``
  (asymptotic series below u = -35).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_LN2 = math.log(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_OUTER_CUT = 1e-20      # outer nodes with w_j < _OUTER_CUT * max(w) are skipped
ZMAX = 10.0             # sinh rule on |z0| <= ZMAX (normal weight there < 2e-22 of the peak)
H_FAR = 0.2             # sinh rule: largest node spacing (resolves the normal weight)


@njit(cache=True)
def log_ndtr(u):
    """ln Phi(u), Phi the standard normal cdf (relative accuracy ~1e-15 for all u)."""
    if u > 0.0:
        return math.log1p(-0.5 * math.erfc(u * _SQRT1_2))
    if u > -35.0:
        return math.log(0.5 * math.erfc(-u * _SQRT1_2))
    v = 1.0 / (u * u)
    s = 1.0 + v * (-1.0 + v * (3.0 + v * (-15.0 + v * (105.0 + v * (-945.0 + v * 10395.0)))))
    return -0.5 * u * u - math.log(-u) - 0.5 * math.log(2.0 * math.pi) + math.log(s)


@njit(cache=True)
def _inner_gh(mu, sig, x, zh, wh, L):
    """Tilted averages by Gauss-Hermite (sigma <= 0.5); L is scratch of size zh.size."""
    mx = -np.inf
    for k in range(zh.size):
        X = mu + sig * zh[k]
        a = abs(X)
        L[k] = a - _LN2 + math.log1p(math.exp(-2.0 * a))
        e = x * L[k]
        mx = max(mx, e)
    Z = 0.0
    t1 = 0.0
    s2 = 0.0
    s4 = 0.0
    lc = 0.0
    for k in range(zh.size):
        X = mu + sig * zh[k]
        W = wh[k] * math.exp(x * L[k] - mx)
        e2 = math.exp(-2.0 * abs(X))
        r = 1.0 / (1.0 + e2)
        t = (1.0 - e2) * r
        if X < 0.0:
            t = -t
        Z += W
        t1 += W * t
        sech2 = 4.0 * e2 * r * r
        s2 += W * sech2
        s4 += W * sech2 * sech2
        lc += W * L[k]
    return mx + math.log(Z), t1 / Z, s2 / Z, lc / Z, s4 / Z


@njit(cache=True)
def _inner_split(mu, s, x, c, y, wy, dw, A, B, Cc, B4):
    """Tilted averages by the split rule (sigma > 0.5); per-point tables dw, A, B, Cc (see caller)."""
    out_a = np.empty(2)
    out_I1 = np.empty(2)
    out_It = np.empty(2)
    out_Is = np.empty(2)
    out_Il = np.empty(2)
    out_I4 = np.empty(2)
    nrm = _INV_SQRT2PI / s
    for h in range(2):
        sgn = 1.0 if h == 0 else -1.0
        Lh = x * sgn * mu + 0.5 * x * x * s * s
        nu = sgn * mu + x * s * s
        u = nu / s
        Phi = 0.5 * math.erfc(-u * _SQRT1_2)
        phi = math.exp(-0.5 * u * u) * _INV_SQRT2PI
        S1 = 0.0
        St = 0.0
        Ss = 0.0
        Sl = 0.0
        S4 = 0.0
        for j in range(y.size):
            v = (y[j] - nu) / s
            vv = 0.5 * v * v
            if vv > 40.0:         # relative Gaussian weight < 5e-18: negligible
                continue
            d = math.exp(-vv) * wy[j] * nrm
            S1 += d * dw[j]
            St += d * A[j]
            Ss += d * B[j]
            Sl += d * Cc[j]
            S4 += d * B4[j]
        I1 = c * Phi + S1
        out_I1[h] = I1
        out_It[h] = sgn * (c * Phi + St)
        out_Is[h] = Ss
        out_I4[h] = S4
        out_Il[h] = c * (nu * Phi + s * phi - _LN2 * Phi) + Sl
        out_a[h] = Lh + math.log(I1) if I1 > 0.0 else -np.inf
    ap = out_a[0]
    am = out_a[1]
    hi = max(ap, am)
    lz = hi + math.log(math.exp(ap - hi) + math.exp(am - hi))
    wp = math.exp(ap - lz)
    wm = math.exp(am - lz)
    rp = wp / out_I1[0] if wp > 0.0 else 0.0
    rm = wm / out_I1[1] if wm > 0.0 else 0.0
    return (lz, out_It[0] * rp + out_It[1] * rm, out_Is[0] * rp + out_Is[1] * rm,
            out_Il[0] * rp + out_Il[1] * rm, out_I4[0] * rp + out_I4[1] * rm)


@njit(cache=True)
def outer_averages(beta, a, s0, s1, x, z, w, zh, wh, y, wy):
    """Outer averages E_z0 of (ln Z, <tanh>, <tanh>^2, <sech^2>, <ln cosh>, <sech^4>) for every point k
    with X = beta_k (a_k + s0_k z0 + s1_k z1), z0 on the rule (z, w), tilt cosh^(x_k) X. Returns (6, n)."""
    n = a.size
    out = np.zeros((6, n))
    L = np.empty(zh.size)
    ny = y.size
    lp = np.empty(ny)
    tha = np.empty(ny)
    sech2 = np.empty(ny)
    for j in range(ny):
        ey = math.exp(-2.0 * y[j])
        lp[j] = math.log1p(ey)
        tha[j] = (1.0 - ey) / (1.0 + ey)
        sech2[j] = 4.0 * ey / (1.0 + ey) ** 2
    dw = np.empty(ny)
    A = np.empty(ny)
    B = np.empty(ny)
    Cc = np.empty(ny)
    B4 = np.empty(ny)
    wmax = 0.0
    for j in range(w.size):
        wmax = max(wmax, w[j])
    for k in range(n):
        xk = max(x[k], 1e-300)
        sig = beta[k] * s1[k]
        split = sig > 0.5
        c = math.exp(-xk * _LN2)
        if split:
            for j in range(ny):
                wx = c * math.exp(xk * lp[j])
                dw[j] = c * math.expm1(xk * lp[j])
                A[j] = wx * tha[j] - c
                B[j] = wx * sech2[j]
                B4[j] = B[j] * sech2[j]
                Cc[j] = dw[j] * (y[j] - _LN2) + wx * lp[j]
        e0 = 0.0
        e1 = 0.0
        e2 = 0.0
        e3 = 0.0
        e4 = 0.0
        e5 = 0.0
        for j in range(z.size):
            wj = w[j]
            if wj < _OUTER_CUT * wmax:
                continue
            mu = beta[k] * (a[k] + s0[k] * z[j])
            if split:
                lz, t1, s2, lc, s4 = _inner_split(mu, sig, xk, c, y, wy, dw, A, B, Cc, B4)
            else:
                lz, t1, s2, lc, s4 = _inner_gh(mu, sig, xk, zh, wh, L)
            e0 += wj * lz
            e1 += wj * t1
            e2 += wj * t1 * t1
            e3 += wj * s2
            e4 += wj * lc
            e5 += wj * s4
        out[0, k] = e0
        out[1, k] = e1
        out[2, k] = e2
        out[3, k] = e3
        out[4, k] = e4
        out[5, k] = e5
    return out


@njit(cache=True)
def sinh_rule(zc, width, dt, hfar=H_FAR, zmax=ZMAX):
    """Outer rule for E_z0 g(z0), z0 ~ N(0, 1), when g has a transition of width ``width`` at zc.
    Nodes z_k solve t(z_k) = k dt with the node-density map

        t(z) = asinh((z - zc)/width) + (dt/hfar) (z - zc),

    on |z| <= zmax (trapezoid in t, t = 0 a node), weights phi(z_k) dt / t'(z_k) normalised to sum 1.
    The spacing is ~width dt at zc, grows geometrically away from it (where g is smooth on the
    scale |z - zc|) and never exceeds hfar (the normal weight is resolved), so the number of nodes
    is ~ 2 ln(2 zmax/width)/dt + 2 zmax/hfar instead of 2 zmax/(width dt) for a uniform grid."""
    lam = dt / hfar

    def tz(z):
        return math.asinh((z - zc) / width) + lam * (z - zc)

    def dtz(z):
        u = (z - zc) / width
        return 1.0 / (width * math.sqrt(1.0 + u * u)) + lam

    k_lo = math.ceil(tz(-zmax) / dt)
    k_hi = math.floor(tz(zmax) / dt)
    n = max(k_hi - k_lo + 1, 1)
    z = np.empty(n)
    w = np.empty(n)
    zk = -zmax
    tot = 0.0
    for i in range(n):
        tk = (k_lo + i) * dt
        for _ in range(60):                       # Newton on the monotone t(z), from the last node
            step = (tz(zk) - tk) / dtz(zk)
            zk -= step
            if abs(step) <= 1e-15 * (1.0 + abs(zk)):
                break
        z[i] = zk
        w[i] = math.exp(-0.5 * zk * zk) / dtz(zk)
        tot += w[i]
    for i in range(n):
        w[i] /= tot
    return z, w


@njit(cache=True)
def outer_averages_sinh(beta, a, s0, s1, x, dt, zh, wh, y, wy):
    """As :func:`outer_averages` with a per-point :func:`sinh_rule` centred at the transition
    z0 = -a/s0 (clipped to |z0| <= 8) of the inner averages, width min(sqrt(w1^2 + T^2)/s0, 1) with
    w1 = min(s1, T/x) (s0 = 0: centre 0, width 1). In the field a + s0 z0 the inner averages change
    on the scales s1 (the inner Gaussian), T (tanh) and 1/(beta x) (the tilt: for beta x s1 >> 1,
    ln E cosh^x ~ ln cosh(beta x (a + s0 z0)) + const), whichever of s1 and T/x is smaller. The rule
    moves smoothly with the parameters (finite-difference Jacobians stay smooth)."""
    n = a.size
    out = np.zeros((6, n))
    for k in range(n):
        if s0[k] > 0.0:
            zc = min(max(-a[k] / s0[k], -8.0), 8.0)
            T = 1.0 / beta[k]
            sw = min(s1[k], T / max(x[k], 1e-300))
            width = min(math.sqrt(sw * sw + T * T) / s0[k], 1.0)
        else:
            zc = 0.0
            width = 1.0
        width = max(width, 1e-12)
        z, w = sinh_rule(zc, width, dt)
        out[:, k] = outer_averages(beta[k:k + 1], a[k:k + 1], s0[k:k + 1], s1[k:k + 1], x[k:k + 1],
                                   z, w, zh, wh, y, wy)[:, 0]
    return out


@njit(cache=True)
def t0_averages(a0, s0, s, mu, z, w):
    """T = 0 outer averages E_z0 of (ln Z, <sign h>, <sign h>^2, <|h|>, density) over h = A + s z1,
    A = a0 + s0 z0, weight e^(mu|h|) (``statmech.rsb._T0_inner``). Returns a length-5 array."""
    out = np.zeros(5)
    wmax = 0.0
    for j in range(w.size):
        wmax = max(wmax, w[j])
    ss = s * s
    for j in range(z.size):
        wj = w[j]
        if wj < _OUTER_CUT * wmax:
            continue
        A = a0 + s0 * z[j]
        up = (A + mu * ss) / s
        um = (-A + mu * ss) / s
        lnp = log_ndtr(up)
        lnm = log_ndtr(um)
        lp = mu * A + lnp
        lm = -mu * A + lnm
        hi = max(lp, lm)
        lz = hi + math.log(math.exp(lp - hi) + math.exp(lm - hi))
        sg = math.tanh(0.5 * (lp - lm))
        wp = math.exp(lp - lz)
        wm = math.exp(lm - lz)
        mp = math.exp(-0.5 * up * up - lnp) * _INV_SQRT2PI
        mm = math.exp(-0.5 * um * um - lnm) * _INV_SQRT2PI
        ah = wp * (A + mu * ss + s * mp) + wm * (-A + mu * ss + s * mm)
        lnZ = 0.5 * mu * mu * ss + lz
        dens = 2.0 * math.exp(-0.5 * (A / s) ** 2 - lnZ) / (s * math.sqrt(2.0 * math.pi))
        out[0] += wj * lnZ
        out[1] += wj * sg
        out[2] += wj * sg * sg
        out[3] += wj * ah
        out[4] += wj * dens
    return out


@njit(cache=True)
def t0_averages_sinh(a0, s0, s, mu, dt):
    """:func:`t0_averages` on a :func:`sinh_rule` centred at the transition z0 = -a0/s0 (clipped to
    |z0| <= 8) of the T = 0 inner averages, width min(s, 1/mu)/s0 (capped at 1): in the field A the
    closed forms change on the scale s (Phi((+-A + mu s^2)/s)) when mu s < 1 and 1/mu (cosh(mu A))
    when mu s > 1. s0 = 0: centre 0, width 1."""
    if s0 > 0.0:
        zc = min(max(-a0 / s0, -8.0), 8.0)
        width = max(min(min(s, 1.0 / mu) / s0, 1.0), 1e-12)
    else:
        zc = 0.0
        width = 1.0
    z, w = sinh_rule(zc, width, dt)
    return t0_averages(a0, s0, s, mu, z, w)
