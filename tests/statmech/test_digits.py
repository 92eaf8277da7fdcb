"""Structured-data study on the binarised 8x8 digits (statmech.digits; learning.md section 7).

Measured facts these tests pin (seed 0, point 0, 200 test images, N = 64, K = 10):

- the nearest-archetype rule on the clean test images (no network) is right ~77% of the time (chance 10%);
- at P = 2 and P = 4 the T = 0 dynamics of both settings sends every input (even the archetypes themselves)
  to one and the same "mean digit" mixture state, a strict local minimum of the exact energy, with overlaps
  0.47..0.81 with all ten archetypes: the network classifies at or below chance (5-16%) although the
  random-pattern theory predicts retrieval (m ~ 1). The digit archetypes are strongly correlated (mean
  mutual overlap 0.55, max 0.81 for 3 vs 9), which the random theory does not have;
- larger P separates the classes again: supervised P = 12, M = 20 reaches ~65% at noise 0.
"""
import math

import numpy as np
import pytest
from scipy.stats import binom

from hopfield.validation import ParameterError
from statmech import digits as D

pytest.importorskip("sklearn")


def test_archetypes_are_correlated():
    """The structure the random theory lacks: unit diagonal, symmetric, mutual overlaps far from O(N^-1/2)."""
    a = D.archetype_overlaps()
    O = a["matrix"]
    assert O.shape == (10, 10) and np.allclose(O, O.T) and np.allclose(np.diag(O), 1.0)
    assert 0.4 < a["mean_offdiag"] < 0.7          # measured 0.545; random patterns: ~0 +- 0.125
    assert a["max_offdiag"] > 0.75                # 0.8125, digits 3 and 9
    assert 0.6 < a["clean_accuracy"] < 0.95       # 0.784 on all 1797 images


def test_clean_input_classification_and_mixture_collapse():
    """Noise 0, T = 0, supervised, M = 100. The classifier of the *input* is well above chance
    (accuracy_input 0.765 measured, asserted > 0.6 = 6x chance); at P = 4 the network output is not
    (0.08 measured, asserted < 0.3): every chain ends in one mixture state whose largest archetype
    overlap (m_max 0.81) exceeds the overlap with its own class. At P = 12 (M = 20, exact int64 sums
    need M^(P-1) N < 2^62) the classes separate again (0.645 measured, asserted > 0.45)."""
    d = D.digits_point("supervised", 4, 100, 0.0, 0.0, sweeps=10, tests=200)
    assert d["accuracy_input"] > 0.6
    assert d["accuracy"] < 0.3
    assert d["m_max"] > d["m_archetype"] + 0.05
    assert d["random_pattern_prediction"] > 0.99   # random patterns would be retrieved
    assert 0.6 < d["r_hat"] < 0.9 and d["rho_hat"] == pytest.approx((1 - d["r_hat"] ** 2) / (100 * d["r_hat"] ** 2))
    h = D.digits_point("supervised", 12, 20, 0.0, 0.0, sweeps=10, tests=200, predict=False)
    assert h["accuracy"] > 0.45
    assert h["accuracy"] > d["accuracy"] + 0.25


def test_accuracy_falls_with_noise():
    """Common random numbers (flips at a lower noise are a subset of those at a higher one). Input classifier:
    measured 0.76 / 0.66 / 0.46 at noise 0 / 0.15 / 0.3; network at P = 12 supervised, M = 20:
    0.645 (noise 0) vs 0.3 (noise 0.3)."""
    acc_in = [D.digits_point("supervised", 2, 20, nz, 0.0, sweeps=2, tests=200, predict=False)["accuracy_input"]
              for nz in (0.0, 0.15, 0.3)]
    assert acc_in[0] > acc_in[1] + 0.05 and acc_in[1] > acc_in[2] + 0.05, acc_in
    net = [D.digits_point("supervised", 12, 20, nz, 0.0, sweeps=10, tests=200, predict=False)["accuracy"]
           for nz in (0.0, 0.3)]
    assert net[0] > net[1] + 0.15, net


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.25, 0.4, 0.5])
def test_input_overlap_closed_form(noise):
    """m_input = (1 - 2 noise) m_clean on average (m_clean: clean overlap of the same test images; for a clean
    archetype m_clean = 1 and this is 1 - 2 noise); per-image flip variance 4 noise (1 - noise)/N.
    m_input_theory is checked against a brute-force average over 400 independent noise draws of the same
    test images (own generator), and m_clean against the raw images."""
    d = D.digits_point("unsupervised", 2, 5, noise, 0.0, sweeps=1, tests=200, predict=False)
    sd = math.sqrt(4 * noise * (1 - noise) / (d["N"] * d["tests"]))
    assert abs(d["m_input"] - (1 - 2 * noise) * d["m_clean"]) <= 4 * sd + 1e-12
    X = D._digits()[0]
    _, rows, labels, _, xi = D._draw(5, 200, 0, 0, "all")
    clean = X[rows].astype(np.int64)
    own = xi.T[labels].astype(np.int64)                        # archetype of each test image's class
    assert d["m_clean"] == pytest.approx((clean * own).sum() / clean.size, abs=1e-15)
    flips = np.random.default_rng(11).random((400,) + clean.shape) < noise
    m = (np.where(flips, -clean, clean) * own).sum(axis=(1, 2)) / clean.size     # one value per draw
    assert abs(d["m_input_theory"] - m.mean()) <= 4 * m.std(ddof=1) / math.sqrt(m.size) + 1e-12
    if noise == 0.0:
        assert d["m_input"] == d["m_clean"] and d["accuracy_input"] > 0.6


def test_reproducible_and_seed_dependent():
    kw = dict(sweeps=5, tests=80, predict=False)
    a = D.digits_point("unsupervised", 4, 20, 0.2, 0.2, seed=3, point=1, **kw)
    b = D.digits_point("unsupervised", 4, 20, 0.2, 0.2, seed=3, point=1, **kw)
    same = lambda x, y: x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
    assert a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    c = D.digits_point("unsupervised", 4, 20, 0.2, 0.2, seed=4, point=1, **kw)
    assert (c["r_hat"], c["m_input"]) != (a["r_hat"], a["m_input"])
    for v in a.values():
        assert isinstance(v, (float, int, str))


def test_random_pattern_prediction_closed_form():
    """T = 0: m = P(B > M/2) - P(B < M/2), B ~ Bin(M, (1+r)/2), independent of P and the setting; the
    SNR version with the cross-talk of 9 random archetypes at N = 64 is lower, visibly so at P = 2."""
    M, r = 6, 0.5
    k = np.arange(M + 1)
    w = binom.pmf(k, M, 0.75)
    ref = w[k > M / 2].sum() - w[k < M / 2].sum()
    for setting in D.SETTINGS:
        for P in (2, 4):
            p = D.random_pattern_prediction(setting, P, M, r, 0.0)
            assert p["m_low_load"] == pytest.approx(ref, abs=1e-12)
            assert p["m_snr"] <= p["m_low_load"]
    p2 = D.random_pattern_prediction("supervised", 2, M, r, 0.0)
    assert p2["crosstalk_variance"] == pytest.approx(9 * (1 + (1 - r * r) / (M * r * r)) ** 2 / 64)
    assert p2["m_low_load"] - p2["m_snr"] > 0.05


def test_table_layout():
    rows = D.digits_table(settings=("supervised",), P=(2, 4), M=(5,), noise=(0.1, 0.3), T=(0.0,), sweeps=2,
                          tests=30, predict=False)
    assert [(r["P"], r["noise"]) for r in rows] == [(2, 0.1), (2, 0.3), (4, 0.1), (4, 0.3)]
    assert "accuracy" in D.format_table(rows).splitlines()[0]


@pytest.mark.parametrize("kw,name", [
    (dict(noise=-0.1), "noise"), (dict(noise=0.6), "noise"), (dict(noise=float("nan")), "noise"),
    (dict(P=3), "P"), (dict(P=1), "P"), (dict(P=0), "P"),
    (dict(M=0), "M"), (dict(M=174), "M"),
    (dict(T=-0.2), "T"),
    (dict(setting="semi"), "setting"),
    (dict(tests=0), "tests"), (dict(tests=10_000), "tests"), (dict(sweeps=0), "sweeps"),
    (dict(reference="clean"), "reference"),
])
def test_bad_inputs(kw, name):
    args = dict(setting="supervised", P=2, M=5, noise=0.1, T=0.0)
    args.update(kw)
    extra = {k: args.pop(k) for k in ("tests", "sweeps", "reference") if k in args}
    with pytest.raises(ParameterError) as exc:
        D.digits_point(args["setting"], args["P"], args["M"], args["noise"], args["T"], **extra)
    assert exc.value.name == name


@pytest.mark.slow
def test_default_table_runs_and_inputs_degrade():
    """The default table (72 rows): accuracy_input falls with noise in every (setting, P, M, T) group."""
    rows = D.digits_table()
    assert len(rows) == 72
    groups = {}
    for r in rows:
        groups.setdefault((r["setting"], r["P"], r["M"], r["T"]), []).append((r["noise"], r["accuracy_input"]))
    for g in groups.values():
        acc = [a for _, a in sorted(g)]
        assert acc[0] > acc[-1], g


def test_archetype_overlaps_checks_the_reference():
    xi = D.archetype_overlaps()["matrix"]
    assert np.allclose(np.diag(xi), 1.0)
    for bad in (np.ones((64, 9), dtype=np.int8), np.zeros((64, 10), dtype=np.int8)):
        with pytest.raises(ParameterError, match="reference"):
            D.archetype_overlaps(reference=bad)
