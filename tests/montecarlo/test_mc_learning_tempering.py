"""Parallel tempering in montecarlo.learning.LearningBatch: temperature ladders per (sample, replica)
group, swaps of temperatures (montecarlo.kernels.tempering_swaps), swap rates, checkpoints."""
import itertools

import numpy as np
from mc_oracles import run_with_threads
import pytest

from hopfield import ParameterError
from hopfield.learning import SupervisedNetwork, UnsupervisedNetwork, make_dataset
from montecarlo.learning import LearningBatch, learning_point
from montecarlo.measure import summarize_series

REF = {"supervised": SupervisedNetwork, "unsupervised": UnsupervisedNetwork}


def exact_averages(net, xi, temps):
    """<E>/N and <|m_1|> at each temperature by enumeration of all 2^N states (numpy reference energies)."""
    N = net.N
    states = np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int8)
    E = np.array([net.energy(s) for s in states])
    am = np.abs(states.astype(np.int64) @ xi[:, 0].astype(np.int64)) / N
    out = []
    for T in temps:
        w = np.exp(-(E - E.min()) / T)
        w /= w.sum()
        out.append((float(w @ E) / N, float(w @ am)))
    return out


@pytest.mark.parametrize("setting,P,temps", [("supervised", 4, (0.1, 0.17, 0.3, 0.5)),
                                             ("unsupervised", 2, (0.3, 0.5, 0.8, 1.3))])
def test_tempering_preserves_equilibrium_small_N(setting, P, temps):
    """Every temperature slot samples the Gibbs measure of its T (exact enumeration, N = 10): E and |m|
    within 4.5 standard errors, the swaps accepted at a finite rate, attempts as scheduled."""
    N, K, M, r = 10, 2, 3, 0.6
    xi, eta = make_dataset(N, K, M, r=r, rng=7)
    exact = exact_averages(REF[setting](eta, P, r=r), xi, temps)
    b = LearningBatch(setting, eta, xi, P, temps, r=r, replicas=4, init="random", seed=3, tempering=True)
    b.run(200, measure=False)
    ser = b.run(8000)
    nT = len(temps)
    for key, idx in (("E", 0), ("m", 1)):
        arr = ser[key].reshape(b.G, nT, -1)
        if key == "m":
            arr = np.abs(arr)
        for k in range(nT):
            summ = [summarize_series(arr[g, k]) for g in range(b.G)]
            mean = np.mean([s["mean"] for s in summ])
            err = np.sqrt(np.sum([s["err"] ** 2 for s in summ])) / b.G
            assert abs(mean - exact[k][idx]) < 4.5 * err, (key, temps[k], mean, exact[k][idx], err)
    rates = b.swap_rates()
    assert rates.shape == (nT - 1,) and np.all((rates > 0.05) & (rates < 1))
    # even pairs on even sweeps, odd pairs on odd sweeps: 8200 sweeps -> 4100 attempts per pair and group
    np.testing.assert_array_equal(b.swap_att, np.full((b.G, nT - 1), 4100))
    assert b.acc_total.sum() > 0 and b.check_overlaps()
    # every chain still holds exactly one slot, at that slot's temperature
    assert sorted(b.perm.ravel()) == list(range(b.C))
    np.testing.assert_array_equal(b.cbeta[b.perm], np.tile(1.0 / np.asarray(temps), (b.G, 1)))


def test_tempering_matches_plain_runs_within_errors():
    """N = 80, P = 2 supervised, low load, below the transition: the slot at T of a tempered batch gives the
    same E and |m| as a plain batch at T (independent streams, no exact oracle), within errors."""
    xi, eta = make_dataset(80, 2, 5, rho=0.2, rng=5)
    temps = (0.5, 0.65, 0.85, 1.1)
    pt = LearningBatch("supervised", eta, xi, 2, temps, rho=0.2, replicas=6, seed=1, tempering=True)
    plain = LearningBatch("supervised", eta, xi, 2, temps[0], rho=0.2, replicas=6, seed=2)
    res = {}
    for name, b in (("pt", pt), ("plain", plain)):
        b.run(100, measure=False)
        ser = b.run(3000)
        for key in ("E", "m"):
            arr = ser[key].reshape(b.G, b.nT, -1)[:, 0]
            arr = np.abs(arr) if key == "m" else arr
            summ = [summarize_series(arr[g]) for g in range(b.G)]
            res[name, key] = (np.mean([s["mean"] for s in summ]),
                              np.sqrt(np.sum([s["err"] ** 2 for s in summ])) / b.G)
    for key in ("E", "m"):
        (a, ea), (c, ec) = res["pt", key], res["plain", key]
        assert abs(a - c) < 4.0 * np.hypot(ea, ec), (key, a, ea, c, ec)
    assert res["plain", "m"][0] > 0.4    # the ordered (retrieval) state, which both sample
    assert np.all(pt.swap_rates() > 0.05)


def test_ladder_without_tempering_is_independent_chains():
    """A ladder without swaps: slot k of group g is chain g nT + k for ever, run at its own temperature with
    its own stream; a one-temperature batch reproduces the first slot's stream (chain 0) bit for bit."""
    xi, eta = make_dataset(40, 2, 3, r=0.7, rng=1)
    b = LearningBatch("supervised", eta, xi, 2, (0.5, 0.8), r=0.7, replicas=2, init="random", seed=4)
    ser = b.run(30)
    assert ser["E"].shape == (4, 30) and ser["q"].shape == (2, 30)
    np.testing.assert_array_equal(b.perm, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.swap_att, 0)
    assert np.isnan(b.swap_rates()).all()
    one = LearningBatch("supervised", eta, xi, 2, 0.5, r=0.7, replicas=1, init=np.ones((1, 40), dtype=np.int8),
                        seed=4)
    ref = LearningBatch("supervised", eta, xi, 2, (0.5, 0.8), r=0.7, replicas=1,
                        init=np.ones((2, 40), dtype=np.int8), seed=4)
    one.run(25)
    ref.run(25)
    np.testing.assert_array_equal(one.spins[0], ref.spins[0])
    np.testing.assert_array_equal(one.rng[0], ref.rng[0])


@pytest.mark.parametrize("setting,P", [("supervised", 4), ("unsupervised", 2)])
def test_tempering_checkpoint_resume_bit_for_bit(setting, P):
    xi, eta = make_dataset(50, 3, 4, r=0.6, rng=2)
    kw = dict(r=0.6, replicas=2, init="random", seed=8, point=1, tempering=True)
    temps = (0.3, 0.45, 0.7)
    full = LearningBatch(setting, eta, xi, P, temps, **kw)
    ref = full.run(40)
    part = LearningBatch(setting, eta, xi, P, temps, **kw)
    part.run(17)
    state = part.state_dict()
    assert state["T"].shape == (3,) and state["perm"].shape == (2, 3)
    for resumed in (LearningBatch.from_state(state),
                    LearningBatch(setting, eta, xi, P, temps, **kw).load_state(part.state_dict(include_data=False))):
        assert resumed.tempering and resumed.nT == 3
        tail = resumed.run(23)
        for k in ("E", "m", "n", "acc", "q"):
            np.testing.assert_array_equal(tail[k], ref[k][:, 17:])
        for k in ("spins", "rng", "perm", "cbeta", "swap_rng", "swap_att", "swap_acc", "acc_total"):
            np.testing.assert_array_equal(getattr(resumed, k), getattr(full, k))
        assert resumed.parity == full.parity and resumed.sweeps == 40
    assert full.swap_acc.sum() > 0      # swaps did happen in the resumed stretch's history
    bad = {k: v for k, v in state.items() if k != "perm"}
    with pytest.raises(ParameterError):
        LearningBatch(setting, eta, xi, P, temps, **kw).load_state(bad)


def test_learning_point_tempering():
    out = learning_point("supervised", 2, 120, 0.4, M=5, rho=0.2, K=3, sweeps=60, samples=2, seed=1,
                         tempering=True, ladder=[0.4, 0.6, 0.9])
    assert out["tempering"] is True and out["swap_rates"].shape == (2,)
    assert np.all((out["swap_rates"] >= 0) & (out["swap_rates"] <= 1))
    np.testing.assert_array_equal(out["ladder"], [0.4, 0.6, 0.9])
    again = learning_point("supervised", 2, 120, 0.4, M=5, rho=0.2, K=3, sweeps=60, samples=2, seed=1,
                           tempering=True, ladder=[0.4, 0.6, 0.9])
    np.testing.assert_equal(out, again)
    default = learning_point("unsupervised", 4, 30, 0.5, M=3, rho=0.2, K=2, sweeps=20, tempering=True)
    lad = default["ladder"]
    assert lad.size == 8 and lad[0] == 0.5 and lad[-1] == pytest.approx(max(1.0, 3.0 * (1 + np.sqrt(2 / 30 ** 3))))
    plain = learning_point("supervised", 2, 120, 0.4, M=5, rho=0.2, K=3, sweeps=60, samples=2, seed=1)
    assert plain["tempering"] is False and "swap_rates" not in plain


def test_tempering_bad_inputs():
    xi, eta = make_dataset(10, 2, 3, r=0.5, rng=0)
    base = dict(M=3, r=0.5, K=2, sweeps=10)
    for kw in (dict(ladder=[0.5, 0.4]), dict(ladder=[0.6, 0.9]), dict(ladder=[0.5]), dict(kernel="plefka")):
        with pytest.raises(ParameterError):
            learning_point("supervised", 2, 10, 0.5, tempering=True, **base, **kw)
    with pytest.raises(ParameterError):
        learning_point("supervised", 2, 10, 0.0, tempering=True, **base)
    for T, kw in (((0.5, 0.5), {}), ((0.8, 0.5), {}), ((0.0, 0.5), {}), ((0.5, 0.8), dict(dynamics="zero")),
                  (0.0, dict(tempering=True)), ((0.5, 0.8), dict(tempering=True, kernel="plefka")), ([], {})):
        with pytest.raises(ParameterError):
            LearningBatch("supervised", eta, xi, 2, T, r=0.5, **kw)
    with pytest.raises(ParameterError):   # init arrays cover every chain of the ladder
        LearningBatch("supervised", eta, xi, 2, (0.5, 0.8), r=0.5, init=np.ones((1, 10), dtype=np.int8))


SCRIPT = r"""
import hashlib, json, numba
from montecarlo.learning import LearningBatch, learning_dataset
xi, eta = learning_dataset(40, 2, 3, rho=0.3, seed=5)
b = LearningBatch("supervised", eta, xi, 4, (0.3, 0.4, 0.55), rho=0.3, replicas=3, init="random", seed=1,
                  tempering=True)
ser = b.run(40)
h = hashlib.sha256(b.spins.tobytes() + b.rng.tobytes() + b.perm.tobytes() + b.swap_acc.tobytes()
                   + ser["E"].tobytes() + ser["q"].tobytes()).hexdigest()
print(json.dumps({"threads": numba.get_num_threads(), "hash": h}))
"""


def test_tempering_bitwise_independent_of_threads():
    one, two = run_with_threads(SCRIPT, 1), run_with_threads(SCRIPT, 2)
    assert one["threads"] == 1 and two["threads"] == 2
    assert one["hash"] == two["hash"]


STUDY = """
[study]
seed = 3
[[sweeps]]
name = "pt"
model = "learning"
method = "mc"
setting = "supervised"
P = 2
M = 5
load = "low"
K = 2
rho = [0.2]
T = [0.5]
N = [60]
sweeps = 30
burn_in = 10
tempering = true
"""


def test_learning_family_mc_sweep_with_tempering(tmp_path):
    """``tempering = true`` in a learning mc sweep reaches learning_point: the stored m is the tempered one."""
    from statmech.config import parse_config
    from statmech.store import read_study
    from statmech.sweep import run_study
    out = tmp_path / "pt.h5"
    run_study(parse_config(STUDY), out)
    _, sweeps = read_study(out)
    m = sweeps["pt"].data["m"].item()
    kw = dict(M=5, rho=0.2, K=2, sweeps=30, burn_in=10, replicas=2, samples=1, seed=3, point=0)
    ref = learning_point("supervised", 2, 60, 0.5, tempering=True, **kw)
    plain = learning_point("supervised", 2, 60, 0.5, **kw)
    assert m == ref["m"] and m != plain["m"]
