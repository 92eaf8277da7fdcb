"""Sweep families "modern" and "modern_continuous": config -> sweep -> HDF5 -> plot, theory numbers
against the closed forms, MC points against the REM thresholds, refusals before any work."""
import math
import os

import numpy as np
import pytest

from statmech import modern as sm
from statmech.config import ConfigError, load_config, parse_config
from statmech.plot import plot_study
from statmech.store import read_study
from statmech.sweep import run_study

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

THEORY = """
[study]
seed = 3
[[sweeps]]
name = "lse"
model = "modern"
ensemble = "{ens}"
lambda = [0.5, 1.0, 2.0]
alpha = {{ start = 0.05, stop = 0.75, num = 15 }}
boundary_points = 5
"""

MC = THEORY.format(ens="binary") + """
[[sweeps]]
name = "lse_mc"
model = "modern"
method = "mc"
theory = "lse"
lambda = [1.0]
alpha = [0.25, 0.8]
N = [10, 12]
dynamics = "zero_T"
replicas = 1
samples = 40
sweeps = 10
"""


@pytest.mark.parametrize("ens", ["binary", "gaussian", "spherical"])
def test_theory_sweep_phases_and_lines(tmp_path, ens):
    out = tmp_path / "t.h5"
    run_study(parse_config(THEORY.format(ens=ens)), out)
    _, sweeps = read_study(out)
    res = sweeps["lse"]
    lam, alpha = res.coords["lambda"], res.coords["alpha"]
    a1 = np.array([sm.alpha_1(x, ens) for x in lam])
    retrieval = np.isin(res.data["phase"], (1, 2))
    # the sign of the REM margin (root of lambda = phi) agrees with the closed-form alpha_1 column by column
    np.testing.assert_array_equal(retrieval, alpha[None, :] < a1[:, None])
    np.testing.assert_array_equal(res.data["margin"] > 0, retrieval)
    curve = res.boundaries["alpha_1"]
    np.testing.assert_allclose(curve["alpha"], [sm.alpha_1(x, ens) for x in curve["lambda"]], rtol=1e-14)
    # every line is recorded; at T = 0 the spinodal is alpha_1 (empty), Petrova's Gaussian-overlap alpha_c only
    # for the spherical ensemble, where at T = 0 it is the Gaussian-pattern alpha_1 (modern.md 4.1, 8.2)
    assert set(res.boundaries) == {"alpha_1", "condensation", "spinodal", "petrova_alpha_c"}
    assert res.boundaries["spinodal"]["alpha"].size == 0
    petrova = res.boundaries["petrova_alpha_c"]
    assert petrova["alpha"].size == (5 if ens == "spherical" else 0)
    np.testing.assert_allclose(petrova["alpha"], [sm.gaussian_alpha_1(x) for x in petrova["lambda"]], rtol=1e-12)
    if ens == "binary":   # spec table: alpha_1(1) = 0.5662; boundary in the uncondensed phase
        assert res.data["alpha_1"][1, 0] == pytest.approx(0.5662, abs=5e-5)
        assert not np.any(res.data["phase"] == 3)
    if ens == "gaussian":  # lambda = 2: alpha_1 = 1/2 lies in the condensed phase (condensation at lambda^2/2 = 2)
        assert np.all(res.data["phase"][2][alpha > 0.5] == 3)


def test_mc_sweep_against_threshold_and_plot(tmp_path):
    out = tmp_path / "m.h5"
    run_study(parse_config(MC), out)
    _, sweeps = read_study(out)
    mc = sweeps["lse_mc"]
    assert mc.dims == ("N", "lambda", "alpha") and mc.done.all()
    assert mc.data["K"][0, 0, 0] == round(math.exp(0.25 * 10))
    below, above = mc.data["concentrated"][..., 0], mc.data["concentrated"][..., 1]
    assert np.all(below >= 0.9) and np.all(above == 0.0)       # alpha_1(1) = 0.5662 lies between 0.25 and 0.8
    # below: failures only from patterns within Hamming distance 1 of xi^1, (K-1)(N+1)/2^N = 0.12 at N = 10;
    # above ln 2 the chain falls into another pattern
    assert np.all(mc.data["success"][..., 0] >= 0.8) and np.all(mc.data["success"][..., 1] <= 0.2)
    assert np.all(mc.data["success_err"] <= 0.5 / math.sqrt(40) + 1e-12)
    assert mc.data["alpha_1"][0, 0, 0] == pytest.approx(sm.binary_alpha_1(1.0))
    from statmech.compare import compare
    rows = [r for r in compare(out) if r["sweep"] == "lse_mc"]
    assert rows and all(r["m_rs"] is None and r["m_inf"] is None and r["z"] is None for r in rows)  # no 1/N theory
    png = plot_study(out, str(tmp_path / "m.png"))
    assert os.path.getsize(png) > 10_000
    # same config and seed -> same numbers whatever runs the point (keyed streams): redo one point alone
    from statmech.mc import mc_point
    cfg = parse_config(MC)
    values, _ = mc_point(cfg["sweeps"][1], (1, 0, 1), 3, cfg["study"]["seed"])
    for key in ("success", "stable", "concentrated", "m"):
        assert values[key] == mc.data[key][1, 0, 1]


@pytest.mark.parametrize("change,key", [
    (("dynamics = \"zero_T\"", "dynamics = \"heat_bath\""), "lse_mc.dynamics"),
    (("replicas = 1", "replicas = 2"), "lse_mc.replicas"),
    (("N = [10, 12]", "N = [40]"), "lse_mc.alpha"),                      # K = e^32: refused before any work
    (("N = [10, 12]", "N = [16]\nmax_memory_mb = 1"), "lse_mc.alpha"),  # N = 16, alpha = 0.8: 11 MiB
    (("method = \"mc\"", "method = \"mc\"\nensemble = \"gaussian\""), "lse_mc.ensemble"),
    (("alpha = [0.25, 0.8]", "alpha = [0.0, 0.8]"), "lse_mc.alpha"),
])
def test_mc_refusals(change, key):
    with pytest.raises(ConfigError) as err:
        parse_config(MC.replace(*change))
    assert err.value.name == key


def test_continuous_bad_input():
    text = '[[sweeps]]\nname = "c"\nmodel = "modern_continuous"\nK = 16\nclusters = 3\nlambda = [1.0]\nseparation = [0.5]\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.name == "c.clusters"
    with pytest.raises(ConfigError) as err:
        parse_config(text.replace("clusters = 3", "clusters = 4") + 'method = "mc"\nN = [10]\n')
    assert err.value.name == "c.method"


def test_examples_parse():
    for name in ("modern.toml", "modern_continuous.toml", "modern_lsr.toml"):
        assert load_config(os.path.join(ROOT, "examples", name))["sweeps"]


def test_continuous_example_runs_and_plots(tmp_path):
    """`statmech run examples/modern_continuous.toml` and `statmech plot` through the command line."""
    from statmech.modern_continuous import classify_grid
    out = tmp_path / "c.h5"
    from statmech.cli import main
    assert main(["run", os.path.join(ROOT, "examples", "modern_continuous.toml"), "--out", str(out)]) == 0
    assert main(["plot", str(out)]) == 0
    assert os.path.exists(tmp_path / "c.png")
    _, sweeps = read_study(out)
    res = sweeps["softmax_fixed_points"]
    ref = classify_grid(16, 4, res.coords["lambda"][::7], res.coords["separation"][::9])
    np.testing.assert_array_equal(res.data["phase"][::7, ::9], ref["phase"])
    assert set(res.boundaries) == {"contraction", "well_separated"}
    assert "metastable" in res.attrs["phase_names"]


BULK = """
[study]
seed = 5
[[sweeps]]
name = "sph"
model = "modern"
ensemble = "spherical"
lambda = [1.0]
alpha = [0.35, 0.75]
T = [0.2]
boundary_points = 5
[[sweeps]]
name = "sph_bulk"
model = "modern"
method = "mc"
theory = "sph"
ensemble = "spherical"
dynamics = "metropolis"
approximation = "bulk"
lambda = [1.0]
alpha = [0.35, 0.75]
T = [0.2]
N = [300]
replicas = 1
samples = 2
sweeps = 12
"""


def test_mc_sweep_in_the_bulk_approximation(tmp_path):
    """Spherical MC beyond memory (K = e^(0.75 * 300)), in the labelled bulk approximation: at T = 0.2 the retrieval
    basin holds below the spinodal alpha_sp = 0.528 and is gone above it; the file says what was approximated."""
    out = tmp_path / "b.h5"
    run_study(parse_config(BULK), out)
    _, sweeps = read_study(out)
    mc = sweeps["sph_bulk"]
    assert mc.done.all() and mc.data["kept"].ravel().tolist() == [0.0, 0.0]
    assert sm.spinodal_alpha(0.2, 1.0, "spherical") == pytest.approx(0.52756, abs=1e-4)
    assert mc.data["success"].ravel().tolist() == [1.0, 0.0]
    assert mc.data["m"].ravel()[0] == pytest.approx(sm.phi_lse(0.2), abs=0.02)
    assert 'approximation = "bulk"' in mc.attrs["sweep_config"]
    assert mc.data["K"].ravel()[0] == pytest.approx(math.exp(0.35 * 300), rel=1e-12)
    assert os.path.getsize(plot_study(out, str(tmp_path / "b.png"))) > 10_000


@pytest.mark.parametrize("change,key", [
    (('ensemble = "spherical"\ndynamics', 'ensemble = "binary"\ndynamics = "heat_bath"\n#'), "sph_bulk.approximation"),
    (('approximation = "bulk"', 'approximation = "cone"\nphi_keep = 0.05'), "sph_bulk.phi_keep"),
])
def test_bulk_refusals(change, key):
    with pytest.raises(ConfigError) as err:
        parse_config(BULK.replace(*change))
    assert err.value.name == key
    with pytest.raises(ConfigError) as err:     # a theory sweep has nothing to approximate
        parse_config(BULK.replace("boundary_points = 5", 'boundary_points = 5\napproximation = "cone"'))
    assert err.value.name == "sph.approximation"
