"""Modern Hopfield networks / dense associative memories: numpy references (modern.md).

Conventions (modern.md, "Conventions of the package"); patterns are spin-major arrays of shape
(N, K), column mu is xi^mu (X = (xi^1 .. xi^K), Ramsauer's notation)::

    binary LSE:    E(sigma) = -(1/lambda) ln sum_mu exp(lambda xi^mu . sigma)          (max-shifted)
    polynomial:    H_n(sigma) = -(1/(2 N^(n-1))) sum_mu F(xi^mu . sigma),  F = x^n or max(x, 0)^n
    continuous:    E(x) = -(1/lambda) ln sum_mu exp(lambda xi^mu . x) + x.x/2 + (1/lambda) ln K + M_max^2/2

lambda is a parameter of the energy; the Monte Carlo bath temperature T = 1/beta is separate.
Everything here is slow and direct; these are the references for montecarlo/modern.py.
"""
from __future__ import annotations

import decimal
import itertools
import math

import numpy as np

from .patterns import as_generator, check_patterns
from .validation import ParameterError, check_integer, check_real

__all__ = [
    "LSEDAM",
    "PolynomialDAM",
    "ContinuousModernHopfield",
    "SphericalLSR",
    "ExponentialDAM",
    "lse_log_partition_beta_lambda",
    "lse_log_partition_beta_2lambda",
    "enumerate_log_partition",
    "logsumexp",
    "softmax",
    "exp_polynomial_signs",
]


def logsumexp(z) -> float:
    """Max-shifted ln sum exp(z) of a 1-D array."""
    z = np.asarray(z, dtype=np.float64)
    m = z.max()
    return float(m + np.log(np.exp(z - m).sum()))


def softmax(z) -> np.ndarray:
    """Max-shifted softmax of a 1-D array."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _flip_coefficients(a, d) -> np.ndarray:
    """b[:, j] = a[:, j - 1] - d[:, j] (j = 0 .. L) from agreeing / disagreeing counts per level (rows: sites)."""
    a = np.asarray(a, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    b = np.zeros((a.shape[0], a.shape[1] + 1), np.int64)
    b[:, 1:] += a
    b[:, :-1] -= d
    return b


def _decimal_sign(q, lam, prec=60) -> int:
    """Sign of sum_j q_j x^j at x = e^(-2 lambda) (lambda the exact binary value) in 60-digit decimals."""
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        x = (decimal.Decimal(-2) * decimal.Decimal(lam)).exp()
        v = m = decimal.Decimal(0)
        for c in reversed([int(c) for c in q]):
            v = v * x + c
            m = m * x + abs(c)
        if abs(v) > m * decimal.Decimal(10) ** (10 - prec):
            return 1 if v > 0 else -1
    raise ArithmeticError(f"sign of an integer polynomial at e^(-2 lambda), lambda = {lam!r}, unresolved at "
                          f"{prec} digits (|P| < 1e-{prec - 10} of its terms)")


def exp_polynomial_signs(b, lam) -> np.ndarray:
    """Exact signs of P_r(x) = sum_j b[r, j] x^j at x = e^(-2 lambda), integer coefficients b (R, J).

    The T = 0 decisions of the binary LSE DAM: sign(DeltaE) of a flip is that of such a polynomial with
    integer pattern counts as coefficients (:meth:`LSEDAM.flip_coefficients`), so ties (P = 0) are exact and
    near-ties are resolved at any lambda. The lowest nonzero power x^k is factored out and P / x^k is
    evaluated by Horner in double precision with a rigorous error bound (4 (J + 1) eps sum_j |b_j| x^(j-k));
    rows the bound cannot decide (a root of P near x, not a large-lambda effect) are redone in 60-digit
    decimals. Returns int64 signs (R,)."""
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    b = np.asarray(b)
    if b.ndim != 2 or not np.issubdtype(b.dtype, np.integer):
        raise ParameterError("b", f"array of dtype {b.dtype} and shape {b.shape}", "a 2-D integer array")
    R, J = b.shape
    out = np.zeros(R, np.int64)
    if J == 0:
        return out
    nz = b != 0
    has = nz.any(axis=1)
    k = np.argmax(nz, axis=1)
    idx = k[:, None] + np.arange(J)[None, :]
    q = np.where(idx < J, np.take_along_axis(b, np.minimum(idx, J - 1), axis=1), 0).astype(np.float64)
    x = math.exp(-2.0 * lam)
    val = np.zeros(R)
    mag = np.zeros(R)
    for j in range(J - 1, -1, -1):
        val = val * x + q[:, j]
        mag = mag * x + np.abs(q[:, j])
    ok = np.abs(val) > 4.0 * (J + 1) * np.finfo(float).eps * mag
    out[has & ok] = np.sign(val[has & ok]).astype(np.int64)
    for r in np.flatnonzero(has & ~ok):
        out[r] = _decimal_sign(b[r, k[r]:], lam)
    return out


def _binary_patterns(patterns) -> np.ndarray:
    arr = check_patterns(patterns)
    if (arr == 0).any():
        raise ParameterError("patterns", 0, "entries in {-1, +1} (no blanks for this model)")
    return arr


def _spins(sigma, N: int, name: str = "sigma") -> np.ndarray:
    s = np.asarray(sigma)
    if s.shape != (N,):
        raise ParameterError(name + ".shape", s.shape, f"({N},)")
    if not np.isin(s, (-1, 1)).all():
        raise ParameterError(name, s[~np.isin(s, (-1, 1))].ravel()[0], "entries in {-1, +1}")
    return s.astype(np.int64)


def _site(i, N: int) -> int:
    return check_integer("i", i, low=0, high=N - 1)


class LSEDAM:
    """Binary log-sum-exp dense associative memory, E = -(1/lambda) ln sum_mu exp(lambda S_mu)."""

    def __init__(self, patterns, lam):
        self.lam = check_real("lambda", lam, low=0.0, low_open=True)
        self.patterns = _binary_patterns(patterns)
        self.N, self.K = self.patterns.shape
        self._X = self.patterns.astype(np.int64)

    # ----- state quantities -------------------------------------------------------------------
    def overlaps(self, sigma) -> np.ndarray:
        """Integer overlaps S_mu = xi^mu . sigma, shape (K,)."""
        return self._X.T @ _spins(sigma, self.N)

    def log_sum(self, sigma) -> float:
        """L = ln sum_mu exp(lambda S_mu) (max-shifted)."""
        return logsumexp(self.lam * self.overlaps(sigma))

    def energy(self, sigma) -> float:
        return -self.log_sum(sigma) / self.lam

    def weights(self, sigma) -> np.ndarray:
        """Softmax weights w_mu = exp(lambda S_mu - L)."""
        return softmax(self.lam * self.overlaps(sigma))

    def local_field(self, sigma) -> np.ndarray:
        """h = X softmax(lambda X^T sigma): the Ramsauer update of sigma."""
        return self._X @ self.weights(sigma)

    def participation(self, sigma) -> float:
        """Participation ratio Y = sum_mu w_mu^2."""
        w = self.weights(sigma)
        return float((w * w).sum())

    # ----- single flips -----------------------------------------------------------------------
    def disagreeing_mass(self, sigma, i):
        """(D_i, A_i): softmax mass with xi_i^mu != sigma_i and with xi_i^mu == sigma_i, summed directly."""
        s = _spins(sigma, self.N)
        i = _site(i, self.N)
        w = self.weights(s)
        dis = self._X[i] != s[i]
        return float(w[dis].sum()), float(w[~dis].sum())

    def delta_energy(self, sigma, i) -> float:
        """E(sigma with i flipped) - E(sigma), stable form -2 - (1/lambda) ln[D_i + e^(-4 lambda) A_i]."""
        D, A = self.disagreeing_mass(sigma, i)
        lD = math.log(D) if D > 0.0 else -math.inf
        lA = math.log(A) - 4.0 * self.lam if A > 0.0 else -math.inf
        return -2.0 - float(np.logaddexp(lD, lA)) / self.lam

    def delta_energy_direct(self, sigma, i) -> float:
        """Difference of two direct energy evaluations (the definition)."""
        s = _spins(sigma, self.N).copy()
        i = _site(i, self.N)
        e0 = self.energy(s)
        s[i] = -s[i]
        return self.energy(s) - e0

    def delta_energy_field(self, sigma, i) -> float:
        """-(1/lambda) ln[cosh 2 lambda - sigma_i h_i sinh 2 lambda] (unstable near a pattern; for checks)."""
        s = _spins(sigma, self.N)
        i = _site(i, self.N)
        h = self.local_field(s)[i]
        return -math.log(math.cosh(2 * self.lam) - s[i] * h * math.sinh(2 * self.lam)) / self.lam

    # ----- zero temperature ---------------------------------------------------------------------
    def stability_margins(self, sigma) -> np.ndarray:
        """sigma_i h_i for every site (site i is single-flip stable iff sigma_i h_i >= tanh lambda).

        A diagnostic only: at DeltaE_i = 0 the margin and tanh lambda agree to O(e^(-4 lambda)), below the
        rounding for lambda >~ 8; the T = 0 decisions use :meth:`delta_energy_signs` (exact)."""
        s = _spins(sigma, self.N)
        return s * self.local_field(s)

    def flip_coefficients(self, sigma) -> np.ndarray:
        """Integer coefficients b (N, N + 2) with sign(DeltaE_i) = sign(sum_j b[i, j] x^j), x = e^(-2 lambda).

        With levels l_mu = (max S - S_mu)/2 and the patterns agreeing (a_l) / disagreeing (d_l) with sigma_i,
        Z - Z' = (1 - x) e^(lambda max S) x^(-1) sum_j (a_(j-1) - d_j) x^j, so b[i, j] = a_(j-1) - d_j."""
        s = _spins(sigma, self.N)
        S = self._X.T @ s
        level = (S.max() - S) // 2
        onehot = (level[:, None] == np.arange(self.N + 1)[None, :]).astype(np.int64)   # (K, N + 1)
        dis = (self._X != s[:, None]).astype(np.int64)                                  # (N, K)
        d = dis @ onehot
        a = (1 - dis) @ onehot
        return _flip_coefficients(a, d)

    def delta_energy_signs(self, sigma) -> np.ndarray:
        """Exact sign (-1, 0, +1) of DeltaE_i for every site, from integer overlaps (:func:`exp_polynomial_signs`)."""
        return exp_polynomial_signs(self.flip_coefficients(sigma), self.lam)

    def t0_flip(self, sigma, i) -> bool:
        """T = 0 rule: flip iff DeltaE_i < 0 (equivalently sigma_i h_i < tanh lambda), decided exactly."""
        i = _site(i, self.N)
        return bool(self.delta_energy_signs(sigma)[i] < 0)

    def is_fixed_point(self, sigma) -> bool:
        """True iff no single flip lowers the energy: DeltaE_i >= 0 for all i (exact signs; ties are stable)."""
        return bool((self.delta_energy_signs(sigma) >= 0).all())

    def t0_descent(self, sigma, max_sweeps=100, rng=0):
        """Random-sequential T = 0 dynamics until a fixed point: (sigma, sweeps, converged)."""
        gen = as_generator(rng)
        s = _spins(sigma, self.N).copy()
        max_sweeps = check_integer("max_sweeps", max_sweeps, low=1)
        for sweep in range(max_sweeps):
            flips = 0
            for i in gen.permutation(self.N):
                if self.t0_flip(s, i):
                    s[i] = -s[i]
                    flips += 1
            if flips == 0:
                return s, sweep + 1, True
        return s, max_sweeps, self.is_fixed_point(s)

    # ----- exact oracles ----------------------------------------------------------------------
    def log_partition_enumerate(self, beta) -> float:
        """ln Z = ln sum_sigma exp(-beta E(sigma)) by enumeration (N <= 20)."""
        beta = check_real("beta", beta, low=0.0)
        if self.N > 20:
            raise ParameterError("N", self.N, "N <= 20 for enumeration")
        return enumerate_log_partition(self.energy, self.N, beta)

    def log_partition_beta_lambda(self) -> float:
        """Exact ln Z at beta = lambda: ln K + N ln(2 cosh lambda), for any patterns."""
        return lse_log_partition_beta_lambda(self.N, self.K, self.lam)

    def log_partition_beta_2lambda(self) -> float:
        return lse_log_partition_beta_2lambda(self.patterns, self.lam)

    def sample_beta_lambda(self, n, rng=0):
        """Exact i.i.d. samples of the Gibbs measure at beta = lambda.

        Draw mu uniformly, then sigma_i = xi_i^mu with probability e^lambda/(2 cosh lambda).
        Returns (spins (n, N) int8, components (n,) int64).
        """
        n = check_integer("n", n, low=1)
        gen = as_generator(rng)
        mu = gen.integers(0, self.K, size=n)
        p_agree = math.exp(self.lam) / (2.0 * math.cosh(self.lam))
        agree = gen.random((n, self.N)) < p_agree
        xi = self.patterns[:, mu].T
        return np.where(agree, xi, -xi).astype(np.int8), mu.astype(np.int64)


def lse_log_partition_beta_lambda(N, K, lam) -> float:
    """ln Z = ln K + N ln(2 cosh lambda) of the binary LSE DAM at beta = lambda."""
    N = check_integer("N", N, low=1)
    K = check_integer("K", K, low=1)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    return math.log(K) + N * (lam + math.log1p(math.exp(-2 * lam)))


def lse_log_partition_beta_2lambda(patterns, lam) -> float:
    """ln Z at beta = 2 lambda: Z = sum_{mu,nu} prod_i 2 cosh(lambda (xi_i^mu + xi_i^nu))."""
    X = _binary_patterns(patterns).astype(np.int64)
    lam = check_real("lambda", lam, low=0.0, low_open=True)
    agree = (X.shape[0] + X.T @ X) // 2  # number of sites with xi_i^mu == xi_i^nu
    lc2 = math.log(2.0 * math.cosh(2 * lam))
    terms = agree * lc2 + (X.shape[0] - agree) * math.log(2.0)
    return logsumexp(terms.ravel())


def enumerate_log_partition(energy, N, beta, observables=None):
    """ln Z over all 2^N spin configurations; with ``observables`` (callable sigma -> array) also
    returns their Boltzmann averages."""
    N = check_integer("N", N, low=1, high=24)
    beta = check_real("beta", beta, low=0.0)
    confs = np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int64)
    E = np.array([energy(c) for c in confs])
    lz = logsumexp(-beta * E)
    if observables is None:
        return lz
    p = np.exp(-beta * E - lz)
    obs = np.array([np.atleast_1d(observables(c)) for c in confs], dtype=np.float64)
    return lz, p @ obs


class PolynomialDAM:
    """Polynomial DAM H_n = -(1/(2 N^(n-1))) sum_mu F(S_mu), F = x^n or max(x, 0)^n (exact ints)."""

    def __init__(self, patterns, n, rectified=False):
        self.n = check_integer("n", n, low=2, high=30)
        if not isinstance(rectified, (bool, np.bool_)):
            raise ParameterError("rectified", rectified, "True or False")
        self.rectified = bool(rectified)
        self.patterns = _binary_patterns(patterns)
        self.N, self.K = self.patterns.shape
        self._X = self.patterns.astype(np.int64)
        self.scale = 2 * self.N ** (self.n - 1)  # Python int

    def F(self, x: int) -> int:
        x = int(x)
        if self.rectified and x < 0:
            return 0
        return x ** self.n

    def overlaps(self, sigma) -> np.ndarray:
        return self._X.T @ _spins(sigma, self.N)

    def energy_numerator(self, sigma) -> int:
        """sum_mu F(S_mu) as an exact Python int (E = -numerator / (2 N^(n-1)))."""
        return sum(self.F(S) for S in self.overlaps(sigma))

    def energy(self, sigma) -> float:
        return -self.energy_numerator(sigma) / self.scale

    def delta_numerator(self, sigma, i) -> int:
        """sum_mu [F(S_mu - 2 sigma_i xi_i^mu) - F(S_mu)] exactly (DeltaE_i = -this / (2 N^(n-1)))."""
        s = _spins(sigma, self.N)
        i = _site(i, self.N)
        S = self.overlaps(s)
        d = 2 * s[i] * self._X[i]
        return sum(self.F(a - b) - self.F(a) for a, b in zip(S, d))

    def delta_energy(self, sigma, i) -> float:
        return -self.delta_numerator(sigma, i) / self.scale

    def t0_flip(self, sigma, i) -> bool:
        """Krotov-Hopfield asynchronous rule: flip iff DeltaE_i < 0."""
        return self.delta_numerator(sigma, i) > 0


def _real_patterns(patterns) -> np.ndarray:
    """Continuous patterns as a float64 (N, K) array, validated: 2-D, N, K >= 1, finite real entries."""
    X = np.asarray(patterns)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ParameterError("patterns.shape", X.shape, "a 2-D shape (N, K) with N >= 1 and K >= 1")
    if not (np.issubdtype(X.dtype, np.number) and np.isfinite(X).all()):
        raise ParameterError("patterns", "non-finite or non-numeric", "finite real entries")
    return np.ascontiguousarray(X, dtype=np.float64)


def _real_state(x, N: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (N,) or not np.isfinite(x).all():
        raise ParameterError("x.shape", x.shape, f"a finite real vector of shape ({N},)")
    return x


class ExponentialDAM:
    """Demircigil et al.'s binary exponential DAM, E_exp(sigma) = -sum_mu exp(lambda xi^mu . sigma) (lambda = 1 in
    the paper). E_exp = -exp(-lambda E_LSE) is a strictly increasing function of the LSE energy, so a flip lowers
    E_exp iff it lowers E_LSE: the T = 0 rule, fixed points and descent are those of :class:`LSEDAM` (exact signs),
    which this class delegates to. Its energy scale e^(lambda N) makes any O(1) bath temperature effectively
    T = 0: a T = 0 model (modern.md conventions block; LSEDAM for thermodynamics)."""

    def __init__(self, patterns, lam=1.0):
        self.lse = LSEDAM(patterns, lam)
        self.lam, self.N, self.K = self.lse.lam, self.lse.N, self.lse.K

    def overlaps(self, sigma) -> np.ndarray:
        return self.lse.overlaps(sigma)

    def log_neg_energy(self, sigma) -> float:
        """ln(-E_exp) = ln sum_mu exp(lambda S_mu) (finite where E_exp itself overflows)."""
        return self.lse.log_sum(sigma)

    def energy(self, sigma) -> float:
        """E_exp = -sum_mu exp(lambda S_mu) (-inf beyond about lambda N = 709: see log_neg_energy)."""
        with np.errstate(over="ignore"):
            return -float(np.exp(self.lse.log_sum(sigma)))

    def delta_energy_signs(self, sigma) -> np.ndarray:
        """Exact sign of E_exp(sigma with i flipped) - E_exp(sigma) for every site (the LSE signs)."""
        return self.lse.delta_energy_signs(sigma)

    def t0_flip(self, sigma, i) -> bool:
        return self.lse.t0_flip(sigma, i)

    def is_fixed_point(self, sigma) -> bool:
        return self.lse.is_fixed_point(sigma)

    def t0_descent(self, sigma, max_sweeps=100, rng=0):
        """Random-sequential T = 0 dynamics until a fixed point: (sigma, sweeps, converged)."""
        return self.lse.t0_descent(sigma, max_sweeps=max_sweeps, rng=rng)


class SphericalLSR:
    """Petrova et al.'s LSR (log-sum-ReLU, Epanechnikov kernel) energy on the sphere (modern.md 4.1): states x and
    patterns xi^mu with |x|^2 = |xi^mu|^2 = N, phi^mu = x . xi^mu / N, b = N beta_net,

        H(x) = -(1/beta_net) ln sum_mu max[eps, 1 - (beta_net/2) |x - xi^mu|^2]
             = -(1/beta_net) ln sum_mu max[eps, 1 - b (1 - phi^mu)];

    a pattern is in the kernel's support when phi^mu > 1 - 1/b. At a retrieved pattern (one term in the support,
    the others at eps) H / N -> u_LSR = -(1/b) ln[1 - b (1 - phi)]. Theory: statmech.modern.lsr_*."""

    def __init__(self, patterns, beta_net, eps=1e-10):
        self.beta_net = check_real("beta_net", beta_net, low=0.0, low_open=True)
        self.eps = check_real("eps", eps, low=0.0, high=1.0, low_open=True, high_open=True)
        self.X = _real_patterns(patterns)
        self.N, self.K = self.X.shape
        norms = (self.X ** 2).sum(axis=0)
        if not np.allclose(norms, self.N, rtol=1e-9, atol=0.0):
            raise ParameterError("patterns", f"squared column norms in [{norms.min():g}, {norms.max():g}]",
                                 f"columns on the sphere |xi|^2 = N = {self.N} (rescale them)")
        self.b = self.N * self.beta_net

    def overlaps(self, x) -> np.ndarray:
        """phi^mu = x . xi^mu / N for a state on the sphere."""
        x = _real_state(x, self.N)
        if not math.isclose(float(x @ x), self.N, rel_tol=1e-9):
            raise ParameterError("x", f"|x|^2 = {float(x @ x):g}", f"a state on the sphere |x|^2 = N = {self.N}")
        return (self.X.T @ x) / self.N

    def kernel(self, x) -> np.ndarray:
        """The terms max[eps, 1 - b (1 - phi^mu)]."""
        return np.maximum(self.eps, 1.0 - self.b * (1.0 - self.overlaps(x)))

    def energy(self, x) -> float:
        return -math.log(float(self.kernel(x).sum())) / self.beta_net

    def in_support(self, x) -> np.ndarray:
        """Which patterns are inside the kernel's support, phi^mu > 1 - 1/b."""
        return self.overlaps(x) > 1.0 - 1.0 / self.b


class ContinuousModernHopfield:
    """Ramsauer et al. continuous modern Hopfield network with patterns X (N, K) real."""

    def __init__(self, patterns, lam):
        self.lam = check_real("lambda", lam, low=0.0, low_open=True)
        self.X = _real_patterns(patterns)
        self.N, self.K = self.X.shape
        self.M_max = float(np.sqrt((self.X ** 2).sum(axis=0)).max())

    def _state(self, x):
        return _real_state(x, self.N)

    def energy(self, x) -> float:
        """E = -lse(lambda, X^T x) + x.x/2 + ln(K)/lambda + M_max^2/2 (0 <= E <= 2 M^2 on the hull)."""
        x = self._state(x)
        return (-logsumexp(self.lam * (self.X.T @ x)) / self.lam + 0.5 * x @ x
                + math.log(self.K) / self.lam + 0.5 * self.M_max ** 2)

    def update(self, x) -> np.ndarray:
        """One Ramsauer step x <- X softmax(lambda X^T x)."""
        x = self._state(x)
        return self.X @ softmax(self.lam * (self.X.T @ x))

    def retrieve(self, x0, eps=1e-4, max_steps=1000):
        """Iterate the update until ||x^(t+1) - x^t|| < eps: returns (x, steps, residual, converged)."""
        eps = check_real("eps", eps, low=0.0, low_open=True)
        max_steps = check_integer("max_steps", max_steps, low=1)
        x = self._state(x0)
        res = math.inf
        for t in range(max_steps):
            xn = self.update(x)
            res = float(np.linalg.norm(xn - x))
            x = xn
            if res < eps:
                return x, t + 1, res, True
        return x, max_steps, res, False

    def separation(self, i) -> float:
        """Delta_i = x_i . x_i - max_{j != i} x_i . x_j (Ramsauer Eq. 5)."""
        i = check_integer("i", i, low=0, high=self.K - 1)
        if self.K < 2:
            raise ParameterError("K", self.K, "K >= 2 for a separation")
        g = self.X.T @ self.X[:, i]
        return float(g[i] - np.delete(g, i).max())

    def well_separated_bound(self) -> float:
        """2/(lambda K) + (1/lambda) ln(2 (K-1) K lambda M^2): Delta_i above it gives a fixed point in S_i."""
        K, b, M = self.K, self.lam, self.M_max
        return 2.0 / (b * K) + math.log(2.0 * (K - 1) * K * b * M * M) / b

    def _reach(self, x, i, x_star):
        """exp(-lambda (Delta_i - 2 max{||x - x_i||, ||x_i* - x_i||} M)) of Ramsauer's Thms 4 and 5."""
        x, x_star = self._state(x), self._state(x_star)
        xi = self.X[:, check_integer("i", i, low=0, high=self.K - 1)]
        r = max(float(np.linalg.norm(x - xi)), float(np.linalg.norm(x_star - xi)))
        return math.exp(-self.lam * (self.separation(i) - 2.0 * r * self.M_max))

    def one_step_bound(self, x, i, x_star) -> float:
        """Ramsauer Thm 4: ||f(x) - x_i*|| <= ||J^m||_2 ||x - x_i*|| with
        ||J^m||_2 <= 2 lambda K M^2 (K - 1) exp(-lambda (Delta_i - 2 max{||x - x_i||, ||x_i* - x_i||} M));
        returns that bound on ||J^m||_2 (x_i* the fixed point near pattern i; K patterns, M the largest norm)."""
        return 2.0 * self.lam * self.K * self.M_max ** 2 * (self.K - 1) * self._reach(x, i, x_star)

    def retrieval_error_bound(self, x, i, x_star) -> float:
        """Ramsauer Thm 5: ||f(x) - x_i|| <= 2 (K - 1) exp(-lambda (Delta_i - 2 max{||x - x_i||, ||x_i* - x_i||} M)) M."""
        return 2.0 * (self.K - 1) * self._reach(x, i, x_star) * self.M_max

    def fixed_point_error_bound(self, i) -> float:
        """Ramsauer Thm 5, second part: ||x_i - x_i*|| <= 2 e (K - 1) M exp(-lambda Delta_i) when x_i* and the start
        are within 1/(2 lambda M) of x_i."""
        return 2.0 * math.e * (self.K - 1) * self.M_max * math.exp(-self.lam * self.separation(i))

    def sample_beta_lambda(self, n, rng=0):
        """Exact samples at bath beta = lambda: mu ~ exp(lambda |xi^mu|^2/2), x = xi^mu + g/sqrt(lambda)."""
        n = check_integer("n", n, low=1)
        gen = as_generator(rng)
        p = softmax(0.5 * self.lam * (self.X ** 2).sum(axis=0))
        mu = gen.choice(self.K, size=n, p=p)
        return self.X[:, mu].T + gen.standard_normal((n, self.N)) / math.sqrt(self.lam), mu
