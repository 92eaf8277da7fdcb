"""Learning version of the multitasking theory for any K (spec /work/shared/physics/multitasking.md Section 6):
Gaussian-c backend (conditional Gaussian field + Gaussian integration by parts) and exact binomial backend,
checked against quadrature, finite differences, brute-force 2-D integration, sampling, the storage equations
(rho = 0) and the closed forms T_c = 1 - d, d_mc(rho) = 2/(3(1+rho)^2) (Gaussian), K = 1 T -> 0 erf law."""
import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from hopfield.validation import ParameterError
from statmech import multitasking as M


def _one(K, d, T, rho, Mx=None, average="gaussian", backend=None):
    mk = backend or M._learning_backend
    return mk(K, np.array([d]), np.array([T]), rho, Mx, average)(np.zeros(1, dtype=int))


def test_gaussian_moments_against_quad():
    fs = {"t": np.tanh, "s2": lambda x: 1 - np.tanh(x) ** 2, "ts2": lambda x: np.tanh(x) * (1 - np.tanh(x) ** 2),
          "s2c": lambda x: (1 - 3 * np.tanh(x) ** 2) * (1 - np.tanh(x) ** 2),
          "L": lambda x: abs(x) + np.log1p(np.exp(-2 * abs(x)))}
    for mu, tau in ((0.0, 0.0), (0.7, 0.2), (0.7, 0.34), (0.7, 0.36), (1.0, 1.0), (-3.0, 2.0), (0.1, 40.0),
                    (25.0, 8.0)):
        got = M.gaussian_moments(np.array([mu]), np.array([tau]))
        for k, f in fs.items():
            if tau == 0:
                ref = f(mu)
            else:
                ref = integrate.quad(lambda z, f=f, mu=mu, tau=tau: f(mu + tau * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                                     -30, 30, points=[-mu / tau] if abs(mu / tau) < 30 else None, limit=400,
                                     epsabs=1e-13)[0]
            assert abs(got[k][0] - ref) < 1e-8, (mu, tau, k)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_rho0_gaussian_backend_is_the_storage_equations_exactly(K):
    rng = np.random.default_rng(K)
    d, T = np.array([0.2, 0.6, 0.8]), np.array([0.05, 0.3, 0.1])
    ev, fe, mo = M._gauss_backend(K, d, T, 0.0)(np.arange(3))
    x = rng.uniform(-0.5, 0.5, (3, K))
    F, A = ev(x, np.arange(3), True)
    assert np.abs(F - M.rhs(x, d, T)).max() < 1e-14
    assert np.abs(A - M.hessian(x, d, T)).max() < 1e-13
    assert np.abs(fe(x) - M.free_energy(x, d, T)).max() < 1e-14
    assert np.abs(mo(x) - F).max() < 1e-14


def test_rho_to_zero_continuity_of_the_states():
    for K, d, T in ((2, 0.3, 0.1), (3, 0.5, 0.05)):
        st = M.solve_point(K, d, T)
        le = [s for s in M.learning_states(K, d, T, rho=1e-9) if s["stable"]]
        assert abs(le[0]["f"] - st["f"]) < 1e-8 and np.allclose(le[0]["m"], st["m"], atol=1e-7)


@pytest.mark.parametrize("average,Mx,K", [("gaussian", None, 3), ("gaussian", None, 5), ("binomial", 20, 2)])
def test_hessian_and_gradient_are_derivatives(average, Mx, K):
    rho, h = 0.2625, 1e-6
    rng = np.random.default_rng(7)
    for d, T in ((0.4, 0.05), (0.7, 0.3)):
        ev, fe, _ = _one(K, d, T, rho, Mx, average)
        x = rng.uniform(-0.4, 0.4, (1, K))
        F, A = ev(x, np.zeros(1, dtype=int), True)
        for k in range(K):
            e = np.zeros((1, K))
            e[0, k] = h
            dF = (ev(x + e, np.zeros(1, dtype=int), False)[0] - ev(x - e, np.zeros(1, dtype=int), False)[0]) / (2 * h)
            assert np.abs((np.eye(K)[k] - A[0][:, k]) - dF[0]).max() < 1e-7
            g = (fe(x + e) - fe(x - e)) / (2 * h)
            assert abs(g[0] - (1 + rho) * (x[0, k] - F[0, k])) < 1e-7


def _brute_K2(n, d, T, rho, nz=1201):
    """Slow, obvious 2-D average over (c1, c2) ~ (1 + sqrt(rho) Z1, 1 + sqrt(rho) Z2), all 9 atoms of xi."""
    z = np.linspace(-8, 8, nz)
    p = np.exp(-z * z / 2) * (z[1] - z[0]) / math.sqrt(2 * math.pi)
    c = 1 + math.sqrt(rho) * z
    F, m = np.zeros(2), np.zeros(2)
    for s in itertools.product((-1, 0, 1), repeat=2):
        w = np.prod([d if x == 0 else (1 - d) / 2 for x in s])
        y1, y2 = s[0] * c[:, None], s[1] * c[None, :]
        t = np.tanh((n[0] * y1 + n[1] * y2) / T) * p[:, None] * p[None, :]
        F += w * np.array([(t * y1).sum(), (t * y2).sum()])
        m += w * np.array([t.sum() * s[0], t.sum() * s[1]])
    return F / (1 + rho), m


def test_gaussian_average_against_brute_force_2d():
    for d, T, rho, n in ((0.3, 0.1, 0.3, (0.5, 0.2)), (0.5, 0.05, 0.48, (0.3, 0.28)), (0.8, 0.2, 1.0, (0.1, 0.05))):
        ev, _, mo = _one(2, d, T, rho)
        x = np.array([n])
        Fb, mb = _brute_K2(n, d, T, rho)
        assert np.abs(ev(x, np.zeros(1, dtype=int), False)[0][0] - Fb).max() < 1e-6
        assert np.abs(mo(x)[0] - mb).max() < 1e-6


def test_gaussian_state_at_spec_point_is_a_true_solution():
    """K = 2, d = 0.5, rho = 0.48, T = 0.01 (spec 6.2 quotes (0.3544, 0.3172) for the Gaussian law; the exact
    Gaussian average gives the symmetric state, whose residual under brute-force 2-D integration is ~0)."""
    st = [s for s in M.learning_states(2, 0.5, 0.01, rho=0.48) if s["stable"]]
    assert len(st) == 1 and abs(st[0]["m"][0] - st[0]["m"][1]) < 1e-9 and abs(st[0]["m"][0] - 0.33251) < 1e-4
    Fb, _ = _brute_K2(st[0]["n_raw"], 0.5, 0.01, 0.48, nz=2401)
    assert np.abs(Fb - st[0]["n_raw"]).max() < 1e-6


def test_K10_gaussian_average_against_sampling():
    """K = 10 (29524 half-atoms): the field average against a direct sample of (xi, c), 5 standard errors."""
    K, d, T, rho = 10, 0.6, 0.2, 0.3
    rng = np.random.default_rng(3)
    n = rng.uniform(0.0, 0.2, K)
    ev, _, mo = _one(K, d, T, rho)
    F = ev(n[None], np.zeros(1, dtype=int), False)[0][0]
    S = 200_000
    xi = rng.choice([-1.0, 0.0, 1.0], p=[(1 - d) / 2, d, (1 - d) / 2], size=(S, K))
    y = xi * (1 + math.sqrt(rho) * rng.standard_normal((S, K)))
    t = np.tanh(y @ n / T)
    samp = (y * t[:, None]) / (1 + rho)
    err = samp.std(axis=0) / math.sqrt(S)
    assert np.all(np.abs(samp.mean(axis=0) - F) < 5 * err)
    sm = xi * t[:, None]
    assert np.all(np.abs(sm.mean(axis=0) - mo(n[None])[0]) < 5 * sm.std(axis=0) / math.sqrt(S))


def _example_atoms(K, d, r, Mx):
    """Every joint value of the examples eta^{mu,a} = chi^{mu,a} xi^mu (K patterns x Mx examples, chi = +-1
    each with P(+1) = (1+r)/2, xi in {-1, 0, 1} with P(0) = d): eta (A, K, Mx), xi (A, K), weights (A,)."""
    chi = np.array(list(itertools.product((-1.0, 1.0), repeat=Mx)))
    pc = np.prod((1 + r * chi) / 2, axis=1)
    e1 = np.concatenate([np.zeros((1, Mx)), -chi, chi])           # one pattern: blank, xi = -1, xi = +1
    x1 = np.concatenate([[0.0], -np.ones(len(chi)), np.ones(len(chi))])
    w1 = np.concatenate([[d], (1 - d) / 2 * pc, (1 - d) / 2 * pc])
    idx = np.array(list(itertools.product(range(len(x1)), repeat=K)))
    eta, xi, w = e1[idx], x1[idx], np.prod(w1[idx], axis=1)
    return eta, xi, w


def test_supervised_and_unsupervised_equations_by_example_enumeration():
    """Spec 6.1, checked on each setting's own equations (not on the shared solver): with the order parameters
    of the solved state, p_mu = q_{mu a} = r (1+rho) n_mu, the supervised field sum_mu xibar^mu p_mu / (r^2 (1+rho))
    and the unsupervised field sum_{mu,a} eta^{mu,a} q_{mu a} / (M r^2 (1+rho)) are self-consistent,
    p_mu = E[xibar^mu tanh(beta h)] and q_{mu a} = E[eta^{mu,a} tanh(beta h)] for every example a (exchangeability),
    with the averages done by enumerating all 2^M sign patterns of the M examples of each pattern (K = 2, M = 6)."""
    K, d, T, Mx, r = 2, 0.4, 0.1, 6, 0.5
    rho = (1 - r * r) / (Mx * r * r)
    eta, xi, w = _example_atoms(K, d, r, Mx)
    states = [s for s in M.learning_states(K, d, T, rho=rho, M=Mx, average="binomial") if s["stable"]]
    assert states and states[0]["m"][0] > 0.3
    for st in states:
        q = r * (1 + rho) * st["n_raw"]                   # claimed p_mu = q_{mu a}
        xb = eta.mean(axis=2)
        t_sup = np.tanh(xb @ q / (r * r * (1 + rho)) / T)
        t_uns = np.tanh(np.einsum("ska,k->s", eta, q) / (Mx * r * r * (1 + rho)) / T)
        assert np.abs((w * t_sup) @ xb - q).max() < 1e-9
        assert np.abs(np.einsum("s,ska->ka", w * t_uns, eta) - q[:, None]).max() < 1e-9
        for t in (t_sup, t_uns):
            assert np.allclose(np.sort(np.abs((w * t) @ xi))[::-1], st["m"], atol=1e-9, rtol=0)
    # the statement itself can fail: at a state that depends on one example (sigma = sign of example 1 only)
    # the example overlaps are not exchangeable
    h1 = eta[:, :, 0] @ q
    qa = np.einsum("s,ska->ka", w * np.tanh(h1 / T), eta)
    assert np.abs(qa[:, 0] - qa[:, 1]).max() > 0.1


@pytest.mark.parametrize("rho", [0.1, 0.6])
def test_Tc_is_one_minus_d_for_every_rho_K3(rho):
    d = np.array([0.2, 0.5, 0.8])
    T = np.concatenate([(1 - d) * 0.99, (1 - d) * 1.01])
    g = M.solve_learning_grid(3, d, [rho], T)
    m1 = g["m1"][:, 0, :]
    for i in range(3):
        assert m1[i, i] > 1e-4 and m1[i, 3 + i] < 1e-9


def test_landau_dilution_closed_form_and_selection():
    for rho in (0.0, 0.2, 0.7):
        assert abs(M.landau_dilution(rho) - 2 / (3 * (1 + rho) ** 2)) < 1e-15
    c, p, rho = M.c_law(M=20, r=0.4)
    assert abs(M.landau_dilution(rho, M=20, average="binomial") - (1 - (p @ c ** 4) / (3 * (1 + rho) ** 2))) < 1e-12
    rho = 0.3
    dmc = M.landau_dilution(rho)
    for d, phase in ((dmc - 0.03, "pure"), (dmc + 0.03, "symmetric")):
        st = [s for s in M.learning_states(3, d, 0.97 * (1 - d), rho=rho) if s["stable"]]
        assert st[0]["phase"] == phase
    # the pure edge ends on T_c at d_mc(rho)
    assert abs(M.learning_pure_edge(dmc * (1 - 1e-3), rho=rho) - (1 - dmc)) < 0.01


def test_K1_zero_temperature_erf_law():
    """Gaussian c, K = 1, T -> 0: m = (1-d) erf(1/sqrt(2 rho)) (spec 6.2)."""
    for d, rho in ((0.3, 0.2625), (0.5, 0.48)):
        m = M.learning_pure_state(d, 1e-4, rho=rho)[1]
        assert abs(m - (1 - d) * math.erf(1 / math.sqrt(2 * rho))) < 1e-6


def test_learning_lines_reduce_to_storage_and_planes():
    for d in (0.1, 0.3, 0.5):
        assert abs(M.learning_pure_edge(d, rho=0.0) - M.pure_edge(d)) < 1e-8
    assert abs(M.learning_symmetric_edges(2, 0.8, rho=0.0)[0][0] - M.symmetric_edges(2, 0.8)[0][0]) < 1e-8
    b = M.learning_boundaries(2, plane=("rho", "T"), fixed={"d": 0.3}, points=5, span=(0.0, 0.8))
    assert np.allclose(b["paramagnetic"]["T"], 0.7)
    assert abs(b["multicritical"]["rho"][0] - (math.sqrt(2 / 0.9) - 1)) < 1e-8
    assert abs(b["pure_edge"]["T"][0] - M.pure_edge(0.3)) < 1e-8
    b = M.learning_boundaries(2, plane=("d", "rho"), fixed={"T": 0.1, "rho_max": 0.5}, points=3)
    for x, r in zip(b["pure_edge"]["d"], b["pure_edge"]["rho"]):
        assert abs(M.learning_pure_edge(x, rho=r) - 0.1) < 1e-6


def test_learning_grid_rho0_slice_is_the_storage_grid():
    d, T = np.linspace(0.1, 0.9, 4), np.linspace(0.05, 0.6, 4)
    g = M.solve_learning_grid(3, d, [0.0, 0.4], T)
    s = M.solve_grid(3, d, T)
    for k in ("m1", "m2", "m3", "f", "phase"):
        assert np.array_equal(g[k][:, 0], s[k])
    assert g["converged"].all() and np.all(g["residual"] < 1e-10)


@pytest.mark.parametrize("call", [
    lambda: M.learning_states(2, 0.3, 0.1, rho=-0.1),
    lambda: M.learning_states(2, 0.3, 0.1, rho=0.2, average="binomial"),
    lambda: M.learning_states(5, 0.3, 0.1, rho=0.2, M=20, average="binomial"),
    lambda: M.learning_states(2, 0.3, 0.1, rho=0.2, average="student"),
    lambda: M.solve_learning_grid(2, [0.3], [0.2], [0.0]),
    lambda: M.learning_boundaries(2, plane=("T", "d")),
])
def test_bad_learning_inputs_raise(call):
    with pytest.raises(ParameterError):
        call()


@pytest.mark.parametrize("kw", [
    dict(plane=("d", "rho"), fixed={"rho_max": 0.2, "TT": 0.5}),      # misspelled key
    dict(plane=("d", "T"), fixed={"rh0": 0.2}),                        # missing 'rho'
    dict(plane=("d", "T")),                                            # no fixed at all
    dict(plane=("d", "T"), fixed={"rho": 0.2, "d": 0.3}),              # unknown extra key
    dict(plane=("rho", "T"), fixed={"rho": 0.2}),                      # the wrong plane's key
    dict(plane=("d", "T"), fixed={"rho": -0.2}),
    dict(plane=("d", "T"), fixed={"rho": 0.2}, span=(-0.5, 0.5)),
    dict(plane=("d", "T"), fixed={"rho": 0.2}, span=(0.2, 1.0)),       # d < 1
    dict(plane=("d", "T"), fixed={"rho": 0.2}, span=(0.5, 0.1)),       # reversed
    dict(plane=("d", "T"), fixed={"rho": 0.2}, span=(0.5,)),
    dict(plane=("rho", "T"), fixed={"d": 0.3}, span=(0.8, 0.0)),
    dict(plane=("rho", "T"), fixed={"d": 1.2}),
    dict(plane=("d", "rho"), fixed={"T": 0.1}, span=(5, -3)),          # the rho range is fixed['rho_max']
    dict(plane=("d", "rho"), fixed={"T": 0.1, "rho_max": 0.0}),
    dict(plane=("d", "rho"), fixed={"T": 0.1}, average="binomial"),    # no M
    dict(plane="dT", fixed={"rho": 0.2}),
])
def test_learning_boundaries_bad_inputs_raise_before_any_work(kw, monkeypatch):
    def no_work(*a, **k):
        raise AssertionError("work started before validation")
    for name in ("landau_dilution", "learning_pure_edge", "learning_pure_state", "learning_symmetric_edges",
                 "learning_cascade_temperatures"):
        monkeypatch.setattr(M, name, no_work)
    with pytest.raises(ParameterError):
        M.learning_boundaries(2, points=2, **kw)


def test_solve_learning_grid_checks_every_rho_before_solving(monkeypatch):
    """rho = 0 alone is fine (storage equations); rho = 0.2 at K = 3, M = 100 has too many binomial atoms:
    refused before the rho = 0 slice is solved."""
    monkeypatch.setattr(M, "_multistart", lambda *a, **k: (_ for _ in ()).throw(AssertionError("solved")))
    with pytest.raises(ParameterError, match="K"):
        M.solve_learning_grid(3, [0.3], [0.0, 0.2], [0.1], M=100, average="binomial")


# ------------------------------------------------------------------ hierarchical cascade with examples ----
def test_learning_cascade_rho0_is_the_storage_cascade():
    """rho = 0 (storage backend) and rho = 1e-9 (Gaussian backend, c noisy): T_k(d, rho) -> the storage cascade
    (found there by an independent upward scan from the T = 0 ladder), T_2 = T_p; spec 5.2: T_3(0.3) = 0.06383."""
    for d in (0.2, 0.5):
        ref = [M.pure_edge(d), M.cascade_temperature(3, d), M.cascade_temperature(4, d)]
        assert np.abs(M.learning_cascade_temperatures(4, d, rho=0.0) - ref).max() < 1e-9, d
    got = M.learning_cascade_temperatures(4, 0.3, rho=1e-9)
    assert np.abs(got - [M.pure_edge(0.3), M.cascade_temperature(3, 0.3), M.cascade_temperature(4, 0.3)]).max() < 1e-7
    assert abs(got[1] - 0.06383) < 1e-5
    b, s = M.learning_boundaries(3, fixed={"rho": 0.0}, points=3), M.boundaries(3, points=3)
    assert np.array_equal(b["cascade_3"]["d"], s["cascade_3"]["d"])
    assert np.abs(b["cascade_3"]["T"] - s["cascade_3"]["T"]).max() < 1e-9
    assert set(s) <= set(b)         # the learning (d, T) diagram has every storage line


@pytest.mark.parametrize("K,d,kw", [(4, 0.2, {"rho": 0.3}),
                                    (3, 0.3, {"rho": (1 - 0.36) / (5 * 0.36), "M": 5, "average": "binomial"})])
def test_learning_cascade_is_where_pattern_k_appears(K, d, kw):
    """On a direct multi-start solve of the k-pattern learning equations: just above T_k the thermodynamic state
    has n_k = 0 (and is the traced branch); just below n_k > 0 with n_k^2 linear in T_k - T (pitchfork), whose
    zero, extrapolated from T_k (1 - 1e-3) and T_k (1 - 2e-3), is T_k to 1e-5 (relative)."""
    Tk, branch = M.learning_cascade_temperatures(K, d, with_states=True, **kw)
    assert np.all(np.isfinite(Tk)) and np.all(np.diff(Tk) < 0)
    for k in range(3, K + 1):
        T, nb = Tk[k - 2], M._amplitudes(branch[k - 2])
        n = {}
        for u in (-1e-3, 1e-3, 2e-3):
            best = next(s for s in M.learning_states(k, d, T * (1 - u), **kw) if s["stable"])   # lowest f
            assert np.abs(best["n"][:k - 1] - nb).max() < 5e-4
            n[u] = best["n"][k - 1]
        assert n[-1e-3] < 1e-8 and n[1e-3] > 1e-3 and n[2e-3] > n[1e-3]
        T1, T2 = T * (1 - 1e-3), T * (1 - 2e-3)
        T0 = T1 + n[1e-3] ** 2 * (T1 - T2) / (n[2e-3] ** 2 - n[1e-3] ** 2)
        assert abs(T0 / T - 1) < 1e-5, (k, T0, T)


def test_learning_cascade_rho_T_plane_and_bad_inputs():
    b = M.learning_boundaries(3, plane=("rho", "T"), fixed={"d": 0.3}, points=2, span=(0.0, 0.2))
    assert b["cascade_3"]["rho"][0] == 0.0 and abs(b["cascade_3"]["T"][0] - M.cascade_temperature(3, 0.3)) < 1e-9
    assert abs(b["cascade_3"]["T"][-1] - M.learning_cascade_temperature(3, 0.3, rho=0.2)) < 1e-12
    for call in (lambda: M.learning_cascade_temperature(1, 0.3, rho=0.1),
                 lambda: M.learning_cascade_temperature(3, 0.3, rho=-0.1),
                 lambda: M.learning_cascade_temperatures(3, 1.0, rho=0.1)):
        with pytest.raises(ParameterError):
            call()
