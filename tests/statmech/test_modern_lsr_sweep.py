"""Sweep family "modern_lsr" (Petrova et al.'s spherical LSR model): theory maps and lines against statmech.modern's
lsr_* functions, Monte Carlo survival on either side of the support threshold and of alpha_c, refusals."""
import os

import numpy as np
import pytest

from statmech import modern as sm
from statmech.config import ConfigError, parse_config
from statmech.plot import plot_study
from statmech.store import read_study
from statmech.sweep import run_study

LSR = """
[study]
seed = 4
[[sweeps]]
name = "lsr"
model = "modern_lsr"
b = 3.41
alpha = { start = 0.02, stop = 0.6, num = 30 }
T = { start = 0.0, stop = 0.5, num = 11 }
boundary_points = 21
[[sweeps]]
name = "lsr_b"
model = "modern_lsr"
b = { start = 1.5, stop = 10.0, num = 12 }
alpha = { start = 0.02, stop = 0.6, num = 15 }
T = 0.1
boundary_points = 9
[[sweeps]]
name = "lsr_mc"
model = "modern_lsr"
method = "mc"
theory = "lsr"
b = 3.41
alpha = [0.1, 0.55]
T = [0.1, 0.4]
N = [16]
dynamics = "metropolis"
replicas = 1
samples = 4
sweeps = 40
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("lsr") / "lsr.h5"
    run_study(parse_config(LSR), out)
    return out, read_study(out)[1]


def test_theory_maps_and_lines(study):
    """Per point alpha_th(b), alpha_c(T, b), phi_ret(T, b) as statmech.modern computes them; phase 2 below alpha_th,
    1 below alpha_c, 0 above; the lines are the same functions on their grids, in both planes."""
    _, sweeps = study
    th = sweeps["lsr"]
    A, T = np.meshgrid(th.coords["alpha"], th.coords["T"], indexing="ij")
    ath = sm.lsr_alpha_th(3.41)
    ac = np.vectorize(lambda t: sm.lsr_alpha_c_petrova(t, 3.41))(T)
    assert np.array_equal(th.data["phase"], np.where(A < ath, 2, np.where(A < ac, 1, 0)))
    assert set(np.unique(th.data["phase"]).astype(int)) == {0, 1, 2}
    np.testing.assert_allclose(th.data["alpha_c"], ac, rtol=1e-14)
    np.testing.assert_allclose(th.data["phi_ret"], np.vectorize(lambda t: sm.lsr_phi(t, 3.41))(T), rtol=1e-14)
    assert np.all(th.data["T_max"] == pytest.approx(sm.lsr_t_max(3.41)))
    line = th.boundaries["petrova_alpha_c"]
    np.testing.assert_allclose(line["alpha"], [sm.lsr_alpha_c_petrova(t, 3.41) for t in line["T"]], rtol=1e-14)
    assert line["alpha"][0] == 0.5 and np.all(np.diff(line["alpha"]) <= 0)      # 1/2 at T = 0, decreasing
    np.testing.assert_allclose(th.boundaries["alpha_th"]["alpha"], ath)
    plane = sweeps["lsr_b"].boundaries
    np.testing.assert_allclose(plane["alpha_th"]["alpha"], [sm.lsr_alpha_th(b) for b in plane["alpha_th"]["b"]])
    np.testing.assert_allclose(plane["petrova_alpha_c"]["alpha"],
                               [sm.lsr_alpha_c_petrova(0.1, b) for b in plane["petrova_alpha_c"]["b"]])


def test_monte_carlo_survival(study, tmp_path):
    """N = 16, b = 3.41 (beta_net = b / N): at alpha = 0.1 < alpha_th = 0.25 the chains keep phi near phi_ret(T) at
    T = 0.1 and 0.4; at alpha = 0.55, above alpha_c at both T, they leave for another pattern."""
    out, sweeps = study
    mc = sweeps["lsr_mc"]
    assert mc.dims == ("N", "alpha", "T") and mc.done.all()
    assert mc.data["success"][0].tolist() == [[1.0, 1.0], [0.0, 0.0]]
    np.testing.assert_allclose(mc.data["m"][0, 0], [sm.lsr_phi(0.1, 3.41), sm.lsr_phi(0.4, 3.41)], atol=0.02)
    assert np.all(mc.data["max_other"][0, 1] > 0.7)                  # ended on another pattern
    assert np.all(mc.data["alpha_c"][0, 1] < 0.55) and np.all(mc.data["alpha_th"] == pytest.approx(0.2497, abs=1e-4))
    assert os.path.getsize(plot_study(out, str(tmp_path / "lsr.png"))) > 10_000


@pytest.mark.parametrize("change,key", [
    (('dynamics = "metropolis"', 'dynamics = "heat_bath"'), "lsr_mc.dynamics"),
    (("T = [0.1, 0.4]", "T = [0.0, 0.4]"), "lsr_mc.T"),
    (("N = [16]", "N = [60]"), "lsr_mc.alpha"),              # K = e^33: refused before any work
    (("samples = 4", "samples = 1"), "lsr_mc.samples"),
    (("b = 3.41\nalpha = [0.1", "b = 0.0\nalpha = [0.1"), "lsr_mc.b"),
])
def test_refusals(change, key):
    with pytest.raises(ConfigError) as err:
        parse_config(LSR.replace(*change))
    assert err.value.name == key
