"""Monte Carlo sweeps of the multitasking family through the config (statmech.sweep.run_study): the K sorted
amplitudes with error bars against the low-storage theory stored per point, `statmech compare`, the plot.

Statistic: with S disorder samples the reported error of each amplitude is the standard error of the S
per-sample means (it holds thermal and disorder noise), so (m_k - m_k_rs) / err is Student-t with S - 1
degrees of freedom up to the O(1/N) finite-size bias; S = 6: |t| < 4.03 at 1% (two-sided) per amplitude.
Points have a unique stable theory state with non-zero, distinct amplitudes (|m| is biased at m = 0, and
sorting is biased where amplitudes tie); at the symmetric point the mean amplitude m_mean is compared.
"""
import math

import numpy as np
import pytest

from statmech.compare import compare
from statmech.config import parse_config
from statmech.plot import plot_study
from statmech.sweep import run_study

T_CRIT_5DOF = 4.03     # two-sided 1% quantile of Student t with 5 degrees of freedom

CONFIG = """
[study]
name = "mt_mc"
seed = 11

[[sweeps]]
name = "k{K}_mc"
model = "multitasking"
method = "mc"
K = {K}
d = {d}
T = {T}
N = [{N}]
sweeps = {sweeps}
burn_in = {burn}
replicas = 1
samples = 6
"""


def _run(tmp_path, K, d, T, N, sweeps):
    cfg = parse_config(CONFIG.format(K=K, d=d, T=T, N=N, sweeps=sweeps, burn=sweeps // 2))
    out = tmp_path / f"k{K}.h5"
    res = run_study(cfg, out, workers=1, progress=False)[f"k{K}_mc"]
    return res, out


def _check_points(res, K, symmetric_d=()):
    for idx in np.ndindex(res.shape):
        d = res.coords["d"][idx[1]]
        assert res.data["n_stable_rs"][idx] == 1
        if d in symmetric_d:
            z = (res.data["m_mean"][idx] - res.data["m_mean_rs"][idx]) / res.data["m_mean_err"][idx]
            assert abs(z) < T_CRIT_5DOF, (idx, z)
            continue
        for k in range(1, K + 1):
            z = (res.data[f"m{k}"][idx] - res.data[f"m{k}_rs"][idx]) / res.data[f"m{k}_err"][idx]
            assert abs(z) < T_CRIT_5DOF, (idx, k, res.data[f"m{k}"][idx], res.data[f"m{k}_rs"][idx], z)
            # the error bar is a sensible size: thermal + disorder noise of a size-N system
            assert 0.1 / math.sqrt(res.coords["N"][idx[0]]) < res.data[f"m{k}_err"][idx] < 0.05


def test_mc_sweep_K2_matches_theory_and_compare_and_plot(tmp_path):
    res, out = _run(tmp_path, 2, "[0.3, 0.8]", "[0.1]", 3000, 100)
    # theory stored per point: hierarchical (0.69998, 0.20289) and symmetric 0.16952 (spec 11.12)
    assert np.allclose(res.data["m1_rs"][0, :, 0], [0.69998, 0.16952], atol=2e-5)
    assert abs(res.data["m2_rs"][0, 0, 0] - 0.20289) < 2e-5
    _check_points(res, 2, symmetric_d=(0.8,))
    rows = compare(out)
    assert len(rows) == 2 and all(np.isfinite(r["z"]) for r in rows)
    assert rows[0]["m_rs"] == res.data["m1_rs"][0, 0, 0] and rows[0]["observable"] == "m"
    # the symmetric point (tied theory amplitudes) is compared through the mean amplitude, unbiased by sorting
    assert rows[1]["observable"] == "m_mean" and rows[1]["m_rs"] == res.data["m_mean_rs"][0, 1, 0]
    assert rows[1]["m"] == [res.data["m_mean"][0, 1, 0]] and abs(rows[1]["z"]) < T_CRIT_5DOF
    assert plot_study(out).endswith(".png")


def test_mc_sweep_K3_hierarchical(tmp_path):
    res, _ = _run(tmp_path, 3, "[0.5]", "[0.05]", 3000, 100)
    assert np.allclose([res.data[f"m{k}_rs"][0, 0, 0] for k in (1, 2, 3)], (0.49958, 0.24957, 0.12454), atol=2e-5)
    _check_points(res, 3)


def test_mc_sweep_is_reproducible(tmp_path):
    a, _ = _run(tmp_path, 2, "[0.3]", "[0.1]", 500, 20)
    (tmp_path / "again").mkdir()
    b, _ = _run(tmp_path / "again", 2, "[0.3]", "[0.1]", 500, 20)
    assert all(np.array_equal(a.data[k], b.data[k], equal_nan=True) for k in a.data)


def test_mc_sweep_config_errors():
    from statmech.config import ConfigError
    bad = CONFIG.format(K=2, d="[0.3]", T="[0.1]", N=500, sweeps=20, burn=10)
    with pytest.raises(ConfigError):   # the learning version needs M >= 1 examples per archetype
        parse_config(bad.replace("replicas = 1", 'replicas = 1\nrho = 0.2\nM = 0'))
    with pytest.raises(ConfigError):
        parse_config(bad.replace('method = "mc"', 'method = "1rsb"'))


@pytest.mark.slow
def test_mc_sweep_N20000(tmp_path):
    """N = 20000, 6 samples, 200 sweeps: K = 2 hierarchical / symmetric; K = 3 hierarchical, and d = 0.9
    (T = 0.01 hierarchical with near-equal amplitudes, T = 0.05 symmetric): mean amplitude (spec Section 8)."""
    res, _ = _run(tmp_path, 2, "[0.3, 0.8]", "[0.1]", 20000, 200)
    _check_points(res, 2, symmetric_d=(0.8,))
    res, _ = _run(tmp_path, 3, "[0.5]", "[0.05]", 20000, 200)
    _check_points(res, 3)
    (tmp_path / "sym").mkdir()
    res, _ = _run(tmp_path / "sym", 3, "[0.9]", "[0.01, 0.05]", 20000, 200)    # near-tied amplitudes: mean
    _check_points(res, 3, symmetric_d=(0.9,))


LEARNING_CONFIG = """
[study]
name = "mt_learning_mc"
seed = 5

[[sweeps]]
name = "learn_mc"
model = "multitasking"
method = "mc"
setting = "{setting}"
K = 2
M = 20
d = [0.3]
rho = [0.0, 0.2625]
T = [0.1]
N = [4000]
sweeps = 100
burn_in = 50
replicas = 1
samples = 6
"""


@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_mc_sweep_learning_version_rho_axis(tmp_path, setting):
    """rho > 0 runs the learning version (M = 20 examples per diluted archetype, r = 0.4 at rho = 0.2625) and
    stores the theory of the exact binomial law beside it; rho = 0 is the storage network itself."""
    cfg = parse_config(LEARNING_CONFIG.format(setting=setting))
    out = tmp_path / "learn.h5"
    res = run_study(cfg, out, workers=1, progress=False)["learn_mc"]
    assert res.coords["rho"].tolist() == [0.0, 0.2625]
    assert np.allclose([res.data["m1_rs"][0, 0, 0, 0], res.data["m2_rs"][0, 0, 0, 0]], (0.69998, 0.20289), atol=2e-5)
    assert res.data["rs_exact_law"][0, 0, 1, 0] == 1.0 and np.isnan(res.data["rs_exact_law"][0, 0, 0, 0])
    assert np.isfinite(res.data["n"][0, 0, 1, 0]) and np.isnan(res.data["n"][0, 0, 0, 0])
    # learning lowers the amplitudes (noisy examples); each point against its own theory
    assert res.data["m1_rs"][0, 0, 1, 0] < res.data["m1_rs"][0, 0, 0, 0] - 0.02
    for k in (1, 2):
        z = (res.data[f"m{k}"] - res.data[f"m{k}_rs"]) / res.data[f"m{k}_err"]
        assert np.all(np.abs(z) < T_CRIT_5DOF), (k, res.data[f"m{k}"], res.data[f"m{k}_rs"], z)
    assert len(compare(out)) == 2


def test_mc_learning_point_theory_falls_back_to_the_gaussian_law():
    """K = 4, M = 20: (2L+1)^K = 43^4 joint atoms are too many for the exact binomial law; the MC point's theory
    columns then come from the Gaussian law of c (rs_exact_law = 0), equal to a direct Gaussian solve; K = 2 uses
    the exact law (rs_exact_law = 1)."""
    from statmech.models import _multitasking_simulate
    from statmech.multitasking import solve_learning_point
    sweep = {"K": 4, "M": 20, "setting": "supervised", "sweeps": 4, "burn_in": 2, "replicas": 1, "samples": 1,
             "dynamics": "heat_bath", "schedule": "random", "init": "pattern"}
    point = {"N": 200, "d": 0.5, "rho": 0.2625, "T": 0.3}
    raw = _multitasking_simulate(sweep, point, 0, 1)
    assert raw["rs_exact_law"] == 0.0
    want = [s for s in solve_learning_point(4, 0.5, 0.3, M=20, rho=0.2625, law="gaussian")["states"] if s["stable"]][0]
    assert [raw[f"m{k}_rs"] for k in range(1, 5)] == [float(v) for v in want["m"]]
    raw2 = _multitasking_simulate({**sweep, "K": 2}, point, 0, 1)
    assert raw2["rs_exact_law"] == 1.0
    exact = [s for s in solve_learning_point(2, 0.5, 0.3, M=20, rho=0.2625, law="binomial")["states"] if s["stable"]][0]
    assert raw2["m1_rs"] == float(exact["m"][0])
