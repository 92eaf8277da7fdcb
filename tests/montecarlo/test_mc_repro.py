"""Bit reproducibility (threads), checkpoint resumption, storage_point contract, input validation."""

import numpy as np
from mc_oracles import run_with_threads
import pytest

from hopfield import ParameterError, random_patterns
from montecarlo import ChainBatch, storage_point


SCRIPT = r"""
import hashlib, json, numpy as np, numba
from montecarlo import storage_point, ChainBatch
from hopfield import random_patterns
r = storage_point(4, 30, 0.02, 0.6, sweeps=60, replicas=3, samples=2, seed=5, point=3)
xi = random_patterns(80, 12, 4, dilution=0.2)
b = ChainBatch(xi, 2, [0.5, 0.8, 1.2], replicas=3, tempering=True, seed=2, schedule="permutation")
b.run(40)
h = hashlib.sha256(b.spins.tobytes() + b.S.tobytes() + b.rng.tobytes() + b.perm.tobytes()).hexdigest()
print(json.dumps({"threads": numba.get_num_threads(), "point": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in r.items()}, "hash": h}))
"""


def _run(threads):
    return run_with_threads(SCRIPT, threads)


def test_bitwise_independent_of_threads():
    one, two = _run(1), _run(2)
    assert one["threads"] == 1 and two["threads"] == 2
    assert one["hash"] == two["hash"]
    np.testing.assert_equal(one["point"], two["point"])


def test_same_seed_same_bits_different_seed_differs():
    a = storage_point(2, 100, 0.05, 0.5, sweeps=50, seed=3, point=1)
    b = storage_point(2, 100, 0.05, 0.5, sweeps=50, seed=3, point=1)
    c = storage_point(2, 100, 0.05, 0.5, sweeps=50, seed=3, point=2)
    np.testing.assert_equal(a, b)  # bit-identical floats (NaN == NaN here)
    assert a["E"] != c["E"]


@pytest.mark.parametrize("P,dilution", [(3, 0.1), (4, 0.0)])
@pytest.mark.parametrize("tempering", [False, True])
def test_checkpoint_resume_bit_for_bit(tempering, P, dilution):
    xi = random_patterns(40, 6, 3, dilution=dilution)
    temps = [0.4, 0.7, 1.0] if tempering else [0.7]
    b = ChainBatch(xi, P, temps, replicas=2, tempering=tempering, seed=4, schedule="random")
    b.run(37)
    state = b.state_dict()
    ser_a = b.run(25)
    c = ChainBatch.from_state(state)
    assert c.sweeps == 37
    ser_b = c.run(25)
    for k in ser_a:
        assert np.array_equal(ser_a[k], ser_b[k])
    for k in ("spins", "S", "rng", "perm", "cbeta", "swap_acc", "acc_total"):
        assert np.array_equal(getattr(b, k), getattr(c, k))
    # loading into an existing batch works too
    d = ChainBatch(xi, P, temps, replicas=2, tempering=tempering, seed=4).load_state(state)
    d.run(25)
    assert np.array_equal(d.spins, b.spins) and np.array_equal(d.rng, b.rng)
    assert c.check_overlaps() and d.check_overlaps()


def test_storage_point_contract():
    r = storage_point(2, 200, 0.05, 0.3, sweeps=120, replicas=2, samples=2, seed=1)
    for key in ("m", "m_err", "abs_m", "E", "E_err", "q", "q_err", "acceptance", "tau_m"):
        assert isinstance(r[key], float) and np.isfinite(r[key]), key
    assert r["K"] == 10 and r["N"] == 200 and isinstance(r["too_short"], bool)
    assert 0 <= r["burn_in"] <= 60
    assert r["m"] > 0.9 and r["q"] > 0.8 and 0 <= r["acceptance"] <= 1
    r0 = storage_point(2, 50, 0.0, 0.0, sweeps=20, burn_in=5)  # alpha = 0 -> K = 1; T = 0 dynamics
    assert r0["K"] == 1 and r0["dynamics"] == "zero" and r0["burn_in"] == 5 and r0["m"] == 1.0
    rp = storage_point(2, 60, 0.05, 0.4, sweeps=40, tempering=True, replicas=2)
    assert np.all((rp["swap_rates"] >= 0) & (rp["swap_rates"] <= 1))
    r1 = storage_point(3, 30, 0.01, 0.5, sweeps=20, replicas=1, dilution=0.2, init="random")
    assert np.isnan(r1["q"])


@pytest.mark.parametrize("kwargs,name", [
    (dict(P=1), "P"), (dict(N=1), "N"), (dict(alpha=-0.1), "alpha"), (dict(T=-1.0), "T"),
    (dict(sweeps=0), "sweeps"), (dict(burn_in=100), "burn_in"), (dict(replicas=0), "replicas"),
    (dict(samples=0), "samples"), (dict(dynamics="wolff"), "dynamics"), (dict(schedule="sync"), "schedule"),
    (dict(init="ones"), "init"), (dict(seed=-1), "seed"), (dict(dilution=1.0), "dilution"),
    (dict(T=float("nan")), "T"), (dict(T=0.0, tempering=True), "tempering"),
    (dict(tempering=True, ladder=[0.9, 0.5]), "ladder"),
    (dict(dynamics="zero"), "dynamics"),          # T = 0.5: the T = 0 dynamics would ignore T
])
def test_storage_point_bad_inputs(kwargs, name):
    args = dict(P=2, N=20, alpha=0.05, T=0.5, sweeps=10)
    args.update(kwargs)
    P, N, alpha, T = args.pop("P"), args.pop("N"), args.pop("alpha"), args.pop("T")
    with pytest.raises(ParameterError) as e:
        storage_point(P, N, alpha, T, **args)
    assert e.value.name == name


def test_chainbatch_bad_inputs():
    xi = random_patterns(10, 2, 0)
    with pytest.raises(ParameterError, match="T"):
        ChainBatch(xi, 2, [0.0])
    with pytest.raises(ParameterError, match="temperatures"):
        ChainBatch(xi, 2, [0.5, 1.0], dynamics="zero")
    for temps in ([0.5], [-1.0], ["abc"], [float("nan")]):
        with pytest.raises(ParameterError, match="temperatures"):
            ChainBatch(xi, 2, temps, dynamics="zero")
    with pytest.raises(ParameterError, match="patterns"):
        ChainBatch(xi * 3, 2)
    with pytest.raises(ParameterError, match="init"):
        ChainBatch(xi, 2, init=np.zeros((1, 10)))
    with pytest.raises(ParameterError, match="ties"):
        ChainBatch(xi, 2, ties="coin")
    b = ChainBatch(xi, 2)
    with pytest.raises(ParameterError, match="sweeps"):
        b.run(-1)
    with pytest.raises(ParameterError, match="state"):
        b.load_state({"spins": b.spins})


@pytest.mark.parametrize("P", [2, 4])
def test_chain_major_equals_lockstep(P):
    xi = np.stack([random_patterns(30, 5, s, dilution=0.1) for s in (1, 2)])
    runs = []
    for lockstep in (False, True):
        b = ChainBatch(xi, P, [0.5, 0.9], replicas=3, seed=8)
        b.lockstep = lockstep
        b.SNAPSHOT_BYTES = 30 * 12 * 7  # several chunks of 7 sweeps
        runs.append((b.run(40), b))
    (sa, a), (sb, b) = runs
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    assert np.array_equal(a.spins, b.spins) and np.array_equal(a.rng, b.rng)
    assert np.array_equal(a.acc_total, b.acc_total)


def test_set_temperature_and_scan_bad_inputs():
    from montecarlo import temperature_scan
    xi = random_patterns(10, 2, 0)
    with pytest.raises(ParameterError, match="set_temperature"):
        ChainBatch(xi, 2, [0.5, 1.0]).set_temperature(0.7)
    with pytest.raises(ParameterError, match="set_temperature"):
        ChainBatch(xi, 2, [0.0], dynamics="zero").set_temperature(0.7)
    with pytest.raises(ParameterError, match="T"):
        ChainBatch(xi, 2, [0.5]).set_temperature(-1.0)
    for temps, name in (([], "temperatures"), ([0.5, 0.0], "T"), ([[0.5]], "temperatures")):
        with pytest.raises(ParameterError, match=name):
            temperature_scan(2, 20, 0.05, temps, sweeps=10)
    with pytest.raises(ParameterError, match="dynamics"):
        temperature_scan(2, 20, 0.05, [0.5], sweeps=10, dynamics="zero")


def test_int64_range_checked_before_patterns_are_drawn(monkeypatch):
    """P = 4, N = 1e5, K = 300: the patterns (30 MB here, up to the 8 GB pattern-memory bound at larger
    N) used to be drawn before the kernel's exact-integer range K (N + P)^(P-1) 2^P < 2^62 refused them;
    the check comes first now."""
    import montecarlo.api as api

    def no_patterns(*args, **kwargs):
        raise AssertionError("patterns drawn before the range check")
    monkeypatch.setattr(api, "storage_patterns", no_patterns)
    with pytest.raises(ParameterError, match=r"K \* N\^\(P-1\)"):
        storage_point(4, 10 ** 5, 3e-13, 0.5, sweeps=10)


def test_from_state_takes_the_backend():
    b = ChainBatch(random_patterns(20, 3, 0), 2, [0.7], seed=2)
    b.run(2)
    again = ChainBatch.from_state(b.state_dict(), backend="numba")
    assert again.backend == "numba" and np.array_equal(again.spins, b.spins)
    from montecarlo.gpu import available
    if not available()[0]:
        with pytest.raises(ParameterError, match="backend"):
            ChainBatch.from_state(b.state_dict(), backend="gpu")
