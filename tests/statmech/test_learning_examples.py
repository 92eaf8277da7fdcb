"""Example-retrieval (memorisation) states of the unsupervised network (statmech.learning_examples):
limits (M = 1 storage, r -> 1, T = 0 closed form), the symmetric point = the archetype state, a direct
minimisation of the mean-field free energy over R^M with the site law enumerated, the full M x M
stability matrix by enumeration, and the phase / lines wiring."""
import math

import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech import learning as L
from statmech import learning_examples as X
from statmech import storage as S


@pytest.mark.parametrize("P", [2, 4])
def test_M1_is_storage_retrieval_of_the_example(P):
    """M = 1: R = 1, H = -(N/2) n^P on the single example: n = storage m, f = storage f, m = r n."""
    T = np.array([0.05, 0.3, 0.6, 0.8, 0.95, 1.2])
    st = S.solve_grid(P, np.array([0.0]), T)
    for rho in (0.3, 2.0):
        g = X.solve_examples(P, rho=[rho], T=T, M=1)
        r = 1 / math.sqrt(1 + rho)
        e = st["exists_retrieval"][0]
        np.testing.assert_array_equal(g["exists_example"][0], e)
        assert np.allclose(g["n1_example"][0][e], st["m_retrieval"][0][e], atol=1e-10, rtol=0)
        assert np.allclose(g["f_example"][0][e], st["f_retrieval"][0][e], atol=1e-10, rtol=0)
        assert np.allclose(g["m_example"][0][e], r * st["m_retrieval"][0][e], atol=1e-10, rtol=0)
        # the phase code never says "example" at M = 1 (the example state is the archetype state)
        a = L.solve_grid("unsupervised", P, alpha=[0.0], rho=[rho], T=T, M=1, load="low", average="binomial")
        assert not (a["phase"] == L.EXAMPLE_PHASE).any()


@pytest.mark.parametrize("rho,T", [(0.05, 0.3), (0.3, 0.2), (0.5, 0.5), (1.0, 0.4)])
def test_symmetric_point_is_the_archetype_state(rho, T):
    """n = n' = r s with s the binomial archetype state of statmech.learning solves the example
    equations, with the same free energy (two independent codes)."""
    M, P = 20, 4
    a = L.solve_grid("unsupervised", P, alpha=[0.0], rho=[rho], T=[T], M=M, load="low", average="binomial")
    assert a["exists_retrieval"].ravel()[0]
    r = 1 / math.sqrt(1 + rho * M)
    n = r * a["s_retrieval"].ravel()[0]
    ep = X._ExParams(P, np.array([rho]), M)
    Rx, Ry, _, _, m, q, _ = ep.equations(np.array([1 / T]), np.array([n]), np.array([n]))
    assert max(abs(Rx[0]), abs(Ry[0])) < 1e-10
    assert m[0] == pytest.approx(a["m_retrieval"].ravel()[0], abs=1e-10)
    assert q[0] == pytest.approx(a["q_retrieval"].ravel()[0], abs=1e-10)
    f = X.free_energy_examples(P, rho=rho, T=T, M=M, n=n, n2=n)
    assert f == pytest.approx(a["f_retrieval"].ravel()[0], abs=1e-10)


def test_r_to_one_no_distinct_example_state():
    """rho -> 0 at fixed M (r -> 1): the examples coincide with the archetype; started on example 1
    the equations fall onto the symmetric (archetype) solution and no example state exists."""
    T = np.array([0.01, 0.1, 0.3, 0.6])
    g = X.solve_examples(4, rho=[1e-6, 1e-3], T=T, M=20)
    assert not g["exists_example"].any()
    ep = X._ExParams(4, np.full(T.size, 1e-6), 20)
    b = 1 / T
    n2, n = X._cold(ep, b, 400)
    assert np.max(np.abs(n - n2)) < 1e-4
    a = L.solve_grid("unsupervised", 4, alpha=[0.0], rho=[1e-6], T=T, M=20, load="low", average="binomial")
    assert np.allclose(n, ep.r * a["s_retrieval"][0, 0], atol=1e-4)


def test_T0_closed_form():
    """T -> 0: sigma = eta^1 (n = 1, n' = r^2, m = r), e = -(1 + (M-1) r^(2P))/(2 R^(P/2) M), where
    (M-1) r^(2P-2) < 1; the (M, rho) example of the spec: P = 4, M = 20, rho = 0.5, e = -1.34619."""
    rho = np.array([0.05, 0.2, 0.5, 1.0])
    t0 = X.example_T0(4, rho=rho, M=20)
    np.testing.assert_array_equal(t0["exists"], [False, True, True, True])
    assert t0["e"][2] == pytest.approx(-1.346189, abs=1e-6)
    g = X.solve_examples(4, rho=rho[1:], T=[2e-3], M=20)
    assert g["exists_example"].all()
    for k, key in (("n1", "n1_example"), ("n2", "n2_example"), ("m", "m_example"), ("e", "f_example")):
        assert np.allclose(g[key][:, 0], t0[k][1:], atol=1e-9, rtol=0), k


def _full_jacobian(P, r, M, T, n):
    """beta C D of the M-dimensional map n -> E[eta tanh(beta sum_a c n_a^(P-1) eta_a)], 2^M enumeration."""
    R = r * r + (1 - r * r) / M
    c = P / (2 * R ** (P / 2) * M)
    eta = np.array(np.meshgrid(*([[1.0, -1.0]] * M), indexing="ij")).reshape(M, -1).T
    w = np.prod(np.where(eta > 0, (1 + r) / 2, (1 - r) / 2), axis=1)
    t = np.tanh(eta @ (c * n ** (P - 1)) / T)
    C = (eta * (w * (1 - t * t))[:, None]).T @ eta
    return C @ np.diag(c * (P - 1) * n ** (P - 2)) / T, (eta * (w * t)[:, None]).sum(0)


def minimize_phi(P, r, M, T):
    """Minimise Phi over all reachable n in R^M (conjugate parametrisation, BFGS with the exact gradient)
    from the conjugate of n = 0.98 (1, r^2, ..., r^2) (just below sigma = eta^1). Returns (Phi_min, n*)."""
    from scipy.optimize import minimize
    start = np.arctanh(np.r_[0.98, np.full(M - 1, 0.98 * r * r)])
    res = minimize(lambda v: X.phi_full(P, r, M, T, v)[:2], start, jac=True, method="BFGS", options={"gtol": 1e-12})
    return res.fun, X.phi_full(P, r, M, T, res.x)[2]


@pytest.mark.parametrize("M,T", [(4, 1.0), (5, 0.9)])
def test_direct_minimisation_and_full_stability(M, T):
    """Small M: minimise Phi(n) = -F(n) - T s(n) over all of R^M (site law enumerated, no symmetry
    assumed) from sigma = eta^1; the minimiser is (n, n', ..., n') of the reduced equations, Phi_min
    = f_example; the eigenvalues of the full M x M Jacobian (by enumeration) give the stability."""
    P, r = 4, 0.5
    rho = (1 - r * r) / (M * r * r)
    g = X.solve_examples(P, rho=[rho], T=[T], M=M)
    assert g["exists_example"][0, 0]
    n, n2 = g["n1_example"][0, 0], g["n2_example"][0, 0]
    phi, nstar = minimize_phi(P, r, M, T)
    assert np.allclose(nstar, np.r_[n, np.full(M - 1, n2)], atol=1e-7)
    assert phi == pytest.approx(g["f_example"][0, 0], abs=1e-12)
    J, image = _full_jacobian(P, r, M, T, np.r_[n, np.full(M - 1, n2)])
    assert np.allclose(image, np.r_[n, np.full(M - 1, n2)], atol=1e-10)      # a fixed point of the full map
    assert np.max(np.linalg.eigvals(J).real) == pytest.approx(g["stability_example"][0, 0], abs=1e-10)


def test_unstable_above_the_spinodal_minimisation_leaves():
    """M = 4, r = 0.5: above the traced example spinodal the minimisation started at eta^1 ends far from
    it (the example-symmetric state or the paramagnet), below it stays."""
    P, M, r = 4, 4, 0.5
    rho = (1 - r * r) / (M * r * r)
    Tsp = X.example_lines(P, M, span=(rho, rho), points=2)["example_spinodal"]["T"][-1]
    assert 1.2 < Tsp < 1.4
    for T, stays in ((0.97 * Tsp, True), (1.03 * Tsp, False)):
        g = X.solve_examples(P, rho=[rho], T=[T], M=M)
        assert g["exists_example"][0, 0] == stays
        _, nstar = minimize_phi(P, r, M, T)
        assert (nstar[0] - nstar[1:].mean() > 0.3) == stays


def test_free_energy_stationary():
    rho, T, M, P = 0.5, 1.2, 20, 4
    g = X.solve_examples(P, rho=[rho], T=[T], M=M)
    n, n2 = g["n1_example"][0, 0], g["n2_example"][0, 0]
    h = 1e-5
    for dn, dn2 in ((h, 0), (0, h)):
        d = (X.free_energy_examples(P, rho=rho, T=T, M=M, n=n + dn, n2=n2 + dn2)
             - X.free_energy_examples(P, rho=rho, T=T, M=M, n=n - dn, n2=n2 - dn2)) / (2 * h)
        assert abs(d) < 1e-7


def test_phase_code_and_lines_consistent():
    """P = 4, M = 20: solve_grid marks phase 4 exactly where the example state exists with the lowest f;
    the traced lines bracket the grid (exists just below the spinodal, not just above)."""
    lines = X.example_lines(4, 20, span=(0.05, 0.5), points=4)
    sp, th = lines["example_spinodal"], lines["example_thermodynamic"]
    assert not np.isclose(sp["rho"], 0.05).any()         # no example state at rho = 0.05 ((M-1) r^6 > 1)
    for rh in (0.2, 0.35, 0.5):
        Tsp = sp["T"][np.flatnonzero(np.isclose(sp["rho"], rh))[0]]
        g = X.solve_examples(4, rho=[rh], T=[Tsp * (1 - 1e-4), Tsp * (1 + 1e-4)], M=20)
        np.testing.assert_array_equal(g["exists_example"][0], [True, False])
    # T = 0 end of the spinodal: (M-1) r^6 = 1
    r0 = 19 ** (-1 / 6)
    assert sp["rho"][0] == pytest.approx((1 - r0 ** 2) / (20 * r0 ** 2), abs=1e-12) and sp["T"][0] == 0
    Tth = th["T"][np.isclose(th["rho"], 0.5)][0]
    a = L.solve_grid("unsupervised", 4, alpha=[0.0], rho=[0.5], T=[Tth * 0.99, Tth * 1.01], M=20, load="low",
                     average="binomial")
    np.testing.assert_array_equal(a["phase"][0, 0], [L.EXAMPLE_PHASE, 0])
    assert a["m"][0, 0, 0] == pytest.approx(a["m_example"][0, 0, 0])
    assert 0.29 < a["m"][0, 0, 0] < 0.31              # ~ r = 1/sqrt(11): the example, not the archetype
    # supervised / high load: the example keys exist and are empty
    s = L.solve_grid("supervised", 4, alpha=[0.0], rho=[0.5], T=[0.3], M=20, load="low")
    assert np.isnan(s["m_example"]).all() and not s["exists_example"].any() and s["phase"].max() <= 3


def test_family_traces_example_lines():
    from statmech.models import FAMILIES
    fam = FAMILIES["learning"]
    sweep = {"dims": ("rho", "T"), "setting": "unsupervised", "P": 4, "M": 20, "load": "low", "average": "binomial",
             "alpha": 0.0, "rho": np.linspace(0.2, 0.4, 3), "T": np.linspace(0.1, 1, 3), "boundary_points": 3}
    out = fam.trace(sweep, ["example_spinodal", "example_thermodynamic"])
    assert set(out) == {"example_spinodal", "example_thermodynamic"} and out["example_spinodal"]["T"].size == 3
    sup = fam.trace({**sweep, "setting": "supervised"}, ["example_spinodal"])
    assert sup["example_spinodal"]["rho"].size == 0
    assert fam.phases()[L.EXAMPLE_PHASE] == "example_retrieval"


def test_bad_inputs_raise():
    for kw in (dict(P=3), dict(M=0), dict(rho=[-1.0]), dict(T=[0.0])):
        args = {**dict(P=4, rho=[0.5], T=[0.5], M=20), **kw}
        with pytest.raises(ParameterError):
            X.solve_examples(args.pop("P"), **args)
    with pytest.raises(ParameterError):
        X.phi_full(4, 0.5, 13, 0.5, np.zeros(13))


@pytest.mark.parametrize("span", [(1.0, 0.0), (1.0,), (-0.1, 0.5), (0.0, float("inf")), "ab"])
def test_example_lines_bad_span_raises_before_any_work(span, monkeypatch):
    """A reversed span used to run and silently drop the T = 0 ends (they are kept only inside [span])."""
    monkeypatch.setattr(X, "solve_examples", lambda *a, **k: (_ for _ in ()).throw(AssertionError("work started")))
    with pytest.raises(ParameterError, match="span"):
        X.example_lines(4, 5, span=span, points=2)


def test_example_free_energy_refuses_overlaps_outside_unit_interval():
    assert np.isfinite(X.free_energy_examples(4, rho=0.2, T=0.3, M=10, n=0.9, n2=0.3))
    for kw, name in ((dict(n=5.0, n2=0.3), "n"), (dict(n=0.9, n2=-1.5), "n2")):
        with pytest.raises(ParameterError, match=name):
            X.free_energy_examples(4, rho=0.2, T=0.3, M=10, **kw)
