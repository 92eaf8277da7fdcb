"""Finite-temperature (alpha, T) diagrams of the family "modern" (modern.md 4.2, 4.3, 9 targets 11, 12, 15):
spinodals against the spec's numbers and the REM condition they come from, the (alpha, T) theory sweep and
its lines against the closed forms, Monte Carlo chains started at xi^1 inside / outside the spinodal,
refusals before any work."""
import math
import os

import numpy as np
import pytest
from scipy.optimize import brentq

from hopfield.validation import ParameterError
from statmech import modern as sm
from statmech.config import ConfigError, load_config, parse_config
from statmech.mc import mc_point
from statmech.plot import plot_study
from statmech.store import read_study
from statmech.sweep import run_study

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ------------------------------------------------------------------------------- theory ----
def test_spinodal_spec_numbers():
    # binary, lambda = 1 (modern.md 4.3 / target 15)
    for T, v in [(0.05, 0.5662), (0.25, 0.5655), (0.5, 0.5302), (1.0, 0.3278), (1.5, 0.1810)]:
        assert sm.spinodal_alpha(T, 1.0, "binary") == pytest.approx(v, abs=5e-5)
    # spherical, exact density, alpha = 0.5, lambda = 1 (modern.md 4.2 / target 12)
    assert sm.retrieval_cusp(0.5, 1.0, "spherical") == pytest.approx(0.87743, abs=5e-6)
    assert sm.spinodal_T(0.5, 1.0, "spherical") == pytest.approx(0.26227, abs=5e-6)
    for lam in (0.3, 1.0, 2.5):
        for ens in ("binary", "spherical"):
            # T -> 0 gives alpha_1; continuity at T = 1/lambda where the noise REM (de)condenses
            assert sm.spinodal_alpha(0.0, lam, ens) == pytest.approx(sm.alpha_1(lam, ens), rel=1e-14)
            assert sm.spinodal_alpha(1e-3, lam, ens) == pytest.approx(sm.alpha_1(lam, ens), abs=2e-3)
            T0 = 1.0 / lam
            assert sm.spinodal_alpha(T0 * (1 - 1e-9), lam, ens) == pytest.approx(
                sm.spinodal_alpha(T0 * (1 + 1e-9), lam, ens), abs=1e-7)
            assert sm.spinodal_alpha(T0, lam, ens) == pytest.approx(sm.condensation_alpha(lam, ens), rel=1e-12)
        for T in np.linspace(0.0, 3.0, 13):
            # the binary closed form of modern.md 4.3; Polyachenko's alpha_c on the uncondensed branch
            assert sm.spinodal_alpha(T, lam, "binary") == pytest.approx(sm.binary_spinodal_alpha(T, lam), rel=1e-12)
            if T <= 1.0 / lam:
                assert sm.spinodal_alpha(T, lam, "spherical") == pytest.approx(sm.spherical_alpha_c_T(lam, T),
                                                                               rel=1e-12)
            else:   # condensed noise: largest overlap sqrt(1 - e^{-2 alpha}) = phi_eq(T)
                assert math.sqrt(-math.expm1(-2 * sm.spinodal_alpha(T, lam, "spherical"))) == pytest.approx(
                    sm.phi_lse(T), rel=1e-12)


@pytest.mark.parametrize("ens", ["binary", "spherical"])
def test_spinodal_is_the_root_of_the_rem_condition(ens):
    """alpha_sp solves lambda m_eq(T) = phi(alpha, lambda) with the general REM noise free entropy
    (root found numerically); T_sp is its inverse; the polynomial closed form of T_sp matches."""
    m_eq = {"binary": lambda T: math.tanh(1 / T), "spherical": sm.phi_lse}[ens]
    for lam in (0.4, 1.0, 2.0):
        for T in (0.1, 0.3, 0.7, 1.2, 2.0, 4.0):
            root = brentq(lambda a, lam=lam, T=T: lam * m_eq(T) - sm.noise_free_energy(a, lam, ens), 1e-12, 5.0,
                          xtol=1e-14)
            a_sp = sm.spinodal_alpha(T, lam, ens)
            assert a_sp == pytest.approx(root, rel=1e-9)
            assert sm.spinodal_T(a_sp, lam, ens) == pytest.approx(T, rel=1e-9)
        a1 = sm.alpha_1(lam, ens)
        assert math.isnan(sm.spinodal_T(a1 * 1.01, lam, ens))
        for a in np.linspace(0.05, 0.95, 7) * a1:
            if ens == "spherical" and a >= sm.condensation_alpha(lam, ens):
                assert sm.spinodal_T(a, lam, ens) == pytest.approx(sm.spherical_spinodal_T(a, lam), rel=1e-12)


@pytest.mark.parametrize("ens", ["binary", "spherical"])
def test_barrier_from_the_landscape(ens):
    """m_eq(T) minimises f(m) = -m + T I(m) on the retrieval branch (grid search); Delta f = f(m_c) - f(m_eq)
    > 0 inside the spinodal, 0 outside."""
    m = np.linspace(0.0, 1.0 - 1e-9, 200001)
    for T in (0.25, 0.6, 1.3):
        f = -m + T * np.array([sm.rate_function(x, ens) for x in m])
        assert m[np.argmin(f)] == pytest.approx(sm.retrieval_overlap(T, ens), abs=2e-5)
        a_sp = sm.spinodal_alpha(T, 1.0, ens)
        mc = sm.retrieval_cusp(0.5 * a_sp, 1.0, ens)
        f_cusp = -mc + T * sm.rate_function(mc, ens)
        assert sm.retrieval_barrier(0.5 * a_sp, T, 1.0, ens) == pytest.approx(f_cusp - f[m >= mc].min(), abs=1e-9)
        assert sm.retrieval_barrier(1.01 * a_sp, T, 1.0, ens) == 0.0


def test_petrova_approximation():
    for lam in (0.3, 0.8, 1.0, 2.0):      # T = 0: the Gaussian-pattern alpha_1 (both noise-floor branches)
        assert sm.petrova_alpha_c(0.0, lam) == pytest.approx(sm.gaussian_alpha_1(lam), rel=1e-14)
    for T in (0.1, 0.5, 1.5):
        assert sm.petrova_alpha_c(T, 3.0) == pytest.approx(sm.alpha_c_lse_petrova(T), rel=1e-14)  # load-limited
        lam0 = 1.0 - sm.f_ret_lse(T)     # switch of the noise floor: continuous
        assert sm.petrova_alpha_c(T, lam0 * (1 - 1e-9)) == pytest.approx(sm.petrova_alpha_c(T, lam0 * (1 + 1e-9)),
                                                                       abs=1e-8)
    assert 0.0 < sm.petrova_alpha_c(0.5, 1.0) < sm.spinodal_alpha(0.5, 1.0, "spherical")


THEORY_T = """
[study]
seed = 4
[[sweeps]]
name = "aT"
model = "modern"
ensemble = "{ens}"
lambda = {lam}
alpha = {{ start = 0.013, stop = 0.713, num = 29 }}
T = {{ start = 0.0, stop = 1.61, num = 24 }}
boundary_points = 17
"""


@pytest.mark.parametrize("ens,lam", [("binary", 1.0), ("spherical", 1.0), ("binary", 2.0), ("spherical", 2.0)])
def test_alpha_T_theory_sweep_and_lines(tmp_path, ens, lam):
    out = tmp_path / "t.h5"
    run_study(parse_config(THEORY_T.format(ens=ens, lam=lam)), out)
    res = read_study(out)[1]["aT"]
    assert res.dims == ("alpha", "T") and res.done.all()
    A, T = np.meshgrid(res.coords["alpha"], res.coords["T"], indexing="ij")
    metastable = np.isin(res.data["phase"], (1, 2))
    if ens == "binary":
        ref = A < np.vectorize(sm.binary_spinodal_alpha)(T, lam)
    else:   # Polyachenko's T_sp where the noise is uncondensed, the largest overlap where it is condensed
        cond = A < sm.condensation_alpha(lam, "spherical")
        t_sp = np.vectorize(lambda a: np.nan if a < sm.condensation_alpha(lam, "spherical")
                            else sm.spherical_spinodal_T(a, lam))(A)
        ref = np.where(cond, np.vectorize(sm.phi_lse)(T) > np.sqrt(-np.expm1(-2 * A)), T < t_sp)
        ref[:, 0] = A[:, 0] < sm.spherical_alpha_1(lam)
    np.testing.assert_array_equal(metastable, ref)
    np.testing.assert_array_equal(res.data["condensed"] == 1, A < sm.condensation_alpha(lam, ens))
    assert np.all(res.data["barrier"][metastable] > 0) and np.all(res.data["barrier"][~metastable] == 0)
    # lines: the spinodal from T = 0 (where it ends at alpha_1) to T_max
    sp = res.boundaries["spinodal"]
    assert sp["T"][0] == 0.0 and sp["T"][-1] == pytest.approx(1.61)
    assert sp["alpha"][0] == pytest.approx(sm.alpha_1(lam, ens), rel=1e-14)
    closed = [sm.binary_spinodal_alpha(t, lam) if ens == "binary" else
              (sm.spherical_alpha_c_T(lam, t) if t <= 1 / lam else -0.5 * math.log1p(-sm.phi_lse(t) ** 2))
              for t in sp["T"]]
    np.testing.assert_allclose(sp["alpha"], closed, rtol=1e-12)
    assert np.all(np.diff(sp["alpha"]) <= 1e-15)          # metastability shrinks with T
    assert res.boundaries["alpha_1"]["alpha"] == pytest.approx([sm.alpha_1(lam, ens)])
    assert res.boundaries["alpha_1"]["T"] == pytest.approx([0.0])
    np.testing.assert_allclose(res.boundaries["condensation"]["alpha"], sm.condensation_alpha(lam, ens))
    petrova = res.boundaries["petrova_alpha_c"]
    if ens == "spherical":
        np.testing.assert_allclose(petrova["alpha"], [sm.petrova_alpha_c(t, lam) for t in petrova["T"]], rtol=1e-14)
        if lam == 1.0:   # load-limited everywhere: the formula of Petrova et al.
            np.testing.assert_allclose(petrova["alpha"], [sm.alpha_c_lse_petrova(t) for t in petrova["T"]])
    else:
        assert petrova["alpha"].size == 0


# ---------------------------------------------------------------------------- Monte Carlo ----
def test_chains_stay_inside_and_leave_outside():
    """Points chosen with a margin (Kramers exponent N Delta f / T > 10 inside, no basin outside)."""
    from scipy.special import ive

    from montecarlo.modern import finite_t_retrieval
    # binary, lambda = 1, T = 0.5: alpha_sp = 0.530; inside at alpha = 0.1 (N = 20, exponent 10.9)
    T, m_eq = 0.5, math.tanh(2.0)
    assert 20 * sm.retrieval_barrier(0.1, T, 1.0) / T > 10
    r = finite_t_retrieval(20, 0.1, 1.0, T, samples=24, sweeps=200, threshold=0.9 * m_eq, seed=1)
    assert r["success"] >= 0.85
    assert abs(r["m_survivors"] - m_eq) < 4 * r["m_survivors_err"] + 1e-3      # binary m_eq(T) = tanh(1/T)
    # outside: T = 1.5 (alpha_sp = 0.181), alpha = 0.45 (K = 545 at N = 14): every chain leaves
    r = finite_t_retrieval(14, 0.45, 1.0, 1.5, samples=16, sweeps=100, threshold=0.9 * math.tanh(1 / 1.5), seed=1)
    assert r["K"] == round(math.exp(0.45 * 14)) and r["success"] == 0.0 and abs(r["m"]) < 0.15
    # spherical, Metropolis on the sphere: inside at alpha = 0.1, T = 0.25 (alpha_sp = 0.505, exponent 18.8)
    N, T = 16, 0.25
    r = finite_t_retrieval(N, 0.1, 1.0, T, ensemble="spherical", dynamics="metropolis", samples=16, sweeps=200,
                           threshold=0.9 * sm.phi_lse(T), seed=2)
    assert r["success"] >= 0.8
    vmf = ive(N / 2, N / T) / ive(N / 2 - 1, N / T)          # finite-N Boltzmann curve of one pattern
    assert abs(r["m_survivors"] - vmf) < 4 * r["m_survivors_err"] + 2e-3
    assert abs(vmf - sm.phi_lse(T)) < 0.01
    # outside: T = 1 (alpha_sp = 0.241), alpha = 0.45 (K = 221 at N = 12)
    r = finite_t_retrieval(12, 0.45, 1.0, 1.0, ensemble="spherical", dynamics="metropolis", samples=12, sweeps=100,
                           threshold=0.9 * sm.phi_lse(1.0), seed=2)
    assert r["success"] == 0.0 and abs(r["m"]) < 0.2


def test_finite_t_refusals_before_allocation():
    from montecarlo.modern import finite_t_retrieval
    with pytest.raises(ParameterError) as err:
        finite_t_retrieval(40, 0.7, 1.0, 0.5, samples=2, sweeps=4, threshold=0.5)       # K = e^28
    assert err.value.name == "alpha"
    with pytest.raises(ParameterError) as err:     # spherical: 16 N K bytes, 90 MiB > 1 MiB
        finite_t_retrieval(16, 0.8, 1.0, 0.5, ensemble="spherical", dynamics="metropolis", samples=2, sweeps=4,
                           threshold=0.5, max_bytes=2 ** 20)
    assert err.value.name == "alpha"
    with pytest.raises(ParameterError) as err:
        finite_t_retrieval(12, 0.2, 1.0, 0.5, ensemble="spherical", dynamics="heat_bath", samples=2, sweeps=4,
                           threshold=0.5)
    assert err.value.name == "dynamics"
    with pytest.raises(ParameterError) as err:
        finite_t_retrieval(12, 0.2, 1.0, 0.0, samples=2, sweeps=4, threshold=0.5)
    assert err.value.name == "T"


MC_T = THEORY_T.format(ens="binary", lam=1.0) + """
[[sweeps]]
name = "aT_mc"
model = "modern"
method = "mc"
theory = "aT"
lambda = 1.0
alpha = [0.1, 0.45]
T = [0.3, 1.5]
N = [14]
dynamics = "heat_bath"
replicas = 1
samples = 12
sweeps = 100
"""


def test_reduced_alpha_T_study_with_mc_and_plot(tmp_path):
    out = tmp_path / "m.h5"
    run_study(parse_config(MC_T), out)
    mc = read_study(out)[1]["aT_mc"]
    assert mc.dims == ("N", "alpha", "T") and mc.done.all()
    assert mc.data["alpha_sp"][0, 0, 0] == pytest.approx(sm.binary_spinodal_alpha(0.3, 1.0))
    assert mc.data["m_eq"][0, 0, 1] == pytest.approx(math.tanh(1 / 1.5))
    # (0.1, 0.3): deep inside (Kramers exponent ~ 22), the chains stay near tanh(1/0.3);
    # (0.45, 1.5): outside the spinodal (no barrier), they leave
    assert mc.data["kramers"][0, 0, 0] > 15 and mc.data["success"][0, 0, 0] >= 0.75
    assert mc.data["m_survivors"][0, 0, 0] == pytest.approx(math.tanh(1 / 0.3), abs=0.01)
    assert mc.data["kramers"][0, 1, 1] == 0.0 and mc.data["success"][0, 1, 1] == 0.0
    assert np.all(mc.data["success_err"] <= 0.5 / math.sqrt(12) + 1e-12)
    png = plot_study(out, str(tmp_path / "m.png"))
    assert os.path.getsize(png) > 10_000
    # same config and seed -> same numbers, whatever runs the point
    cfg = parse_config(MC_T)
    values, _ = mc_point(cfg["sweeps"][1], (0, 1, 0), 2, cfg["study"]["seed"])
    for key in ("success", "m", "acceptance"):
        assert values[key] == mc.data[key][0, 1, 0]


@pytest.mark.parametrize("change,key", [
    (('dynamics = "heat_bath"', 'dynamics = "zero_T"'), "aT_mc.T"),                 # T > 0 with T = 0 dynamics
    (("T = [0.3, 1.5]", "T = [0.0, 1.5]"), "aT_mc.dynamics"),                      # T = 0 with heat bath
    (('method = "mc"', 'method = "mc"\nensemble = "spherical"'), "aT_mc.dynamics"),  # spherical: Metropolis
    (('method = "mc"', 'method = "mc"\ncorruption = 0.1'), "aT_mc.corruption"),
    (("N = [14]", "N = [40]"), "aT_mc.alpha"),                                      # K = e^18 at alpha = 0.45
    (('method = "mc"', 'method = "mc"\nensemble = "spherical"\nmax_memory_mb = 1'), "aT_mc.alpha"),
    (('ensemble = "binary"', 'ensemble = "gaussian"'), "aT.T"),                       # no finite-T theory
    (("sweeps = 100", "sweeps = 3"), "aT_mc.sweeps"),
])
def test_alpha_T_refusals(change, key):
    text = MC_T.replace(*change)
    if "max_memory_mb" in change[1]:
        text = text.replace('dynamics = "heat_bath"', 'dynamics = "metropolis"').replace("N = [14]", "N = [24]")
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.name == key


def test_example_parses():
    cfg = load_config(os.path.join(ROOT, "examples", "modern_T.toml"))
    assert [s["dims"] for s in cfg["sweeps"]] == [["alpha", "T"]] * 2 + [["N", "alpha", "T"]] * 2


@pytest.mark.slow
def test_example_study(tmp_path):
    """examples/modern_T.toml (about 70 s on one core): outside the spinodal every chain leaves; where the
    Kramers exponent exceeds 10 nearly all stay, at the finite-N retrieval value."""
    out = tmp_path / "e.h5"
    run_study(load_config(os.path.join(ROOT, "examples", "modern_T.toml")), out)
    sweeps = read_study(out)[1]
    for name in ("lse_binary_T_mc", "lse_spherical_T_mc"):
        mc = sweeps[name]
        assert mc.done.all()
        k, ok = mc.data["kramers"], mc.data["success"]
        assert np.all(ok[k == 0] == 0.0)
        assert np.all(ok[k > 10] >= 0.8) and np.any(k > 10)
        assert np.all(ok[(k > 0) & (k < 2)] <= 0.1)
        live = ok >= 0.5
        assert np.all(np.abs(mc.data["m_survivors"] - mc.data["m_eq_N"])[live]
                      < 4 * mc.data["m_survivors_err"][live] + 3e-3)
    assert os.path.getsize(plot_study(out, str(tmp_path / "e.png"))) > 20_000
