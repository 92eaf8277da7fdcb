"""Config parsing: defaults, grids, and one clear error per bad key."""
import pathlib

import pytest

from hopfield.validation import ParameterError
from statmech.config import ConfigError, load_config, parse_config

BASE = """
[study]
name = "t"
seed = 3
[[sweeps]]
name = "ags"
P = 2
alpha = {start = 0.0, stop = 0.1, num = 3}
T = [0.5, 1.0]
"""


def test_default_study_parses():
    cfg = load_config(None)
    names = [s["name"] for s in cfg["sweeps"]]
    assert {"ags", "dense_p4", "ags_mc"} <= set(names)
    ags = cfg["sweeps"][names.index("ags")]
    assert ags["P"] == 2 and ags["method"] == "theory" and ags["alpha"][0] == 0.0


def test_grid_expansion_and_defaults():
    cfg = parse_config(BASE)
    s = cfg["sweeps"][0]
    assert s["alpha"] == [0.0, 0.05, 0.1]
    assert s["T"] == [0.5, 1.0]
    assert s["model"] == "hebbian" and s["chunk"] >= 1
    assert cfg["study"]["seed"] == 3


@pytest.mark.parametrize("old,new,key", [
    ("T = [0.5, 1.0]", "T = [-0.5, 1.0]", "ags.T"),
    ("T = [0.5, 1.0]", "T = [0.0]", "ags.T"),
    ("stop = 0.1", "stop = -0.1", "ags.alpha.stop"),
    ("P = 2", "P = 1", "ags.P"),
    ("P = 2", "P = 2.5", "ags.P"),
    ('name = "ags"', 'name = "ags"\nmodel = "ising"', "ags.model"),
    ("T = [0.5, 1.0]", "T = []", "ags.T"),
    ("num = 3", "num = 0", "ags.alpha.num"),
    ("P = 2", "P = 2\nbogus = 1", "ags.bogus"),
])
def test_bad_values_name_the_key(old, new, key):
    with pytest.raises(ConfigError) as err:
        parse_config(BASE.replace(old, new))
    assert err.value.name == key
    assert "allowed" in str(err.value)
    assert isinstance(err.value, ParameterError)


def test_malformed_toml():
    with pytest.raises(ConfigError, match="valid TOML"):
        parse_config("[[sweeps]\nname=")


def test_mc_requires_sizes_and_known_theory():
    mc = BASE + '[[sweeps]]\nname = "mc"\nmethod = "mc"\nalpha = [0.05]\nT = [0.1]\n'
    with pytest.raises(ConfigError, match="mc.N"):
        parse_config(mc)
    with pytest.raises(ConfigError, match="mc.theory"):
        parse_config(mc + 'N = [100]\ntheory = "nope"\n')
    cfg = parse_config(mc + 'N = [100, 200]\ntheory = "ags"\n')
    assert cfg["sweeps"][1]["N"] == [100, 200]


@pytest.mark.parametrize("path", sorted(pathlib.Path(__file__).resolve().parents[2].glob("examples/*.toml")),
                         ids=lambda p: p.name)
def test_example_configs_parse(path):
    cfg = load_config(path)
    assert cfg["sweeps"]


def test_zero_temperature_dynamics_needs_T_zero():
    """dynamics = "zero_T" runs at T = 0 whatever T says: a T > 0 with it is refused, not recorded."""
    mc = BASE + '[[sweeps]]\nname = "mc"\nmethod = "mc"\nalpha = [0.05]\nN = [100]\ndynamics = "zero_T"\n'
    with pytest.raises(ConfigError, match="zero_T") as err:
        parse_config(mc + 'T = [0.1]\n')
    assert err.value.name == "mc.T"
    assert parse_config(mc.replace("zero_T", "metropolis") + 'T = [0.1]\n')["sweeps"][1]["T"] == [0.1]


EXAMPLES = sorted(pathlib.Path(__file__).resolve().parents[2].glob("examples/*.toml"))


@pytest.mark.parametrize("path", [None] + EXAMPLES, ids=lambda p: "default" if p is None else p.name)
def test_resolved_config_parses_back_to_itself(path):
    """What a study file records (`statmech info --config`) can be run again: the same config."""
    from statmech.config import to_toml
    cfg = load_config(path)
    assert parse_config(to_toml(cfg)) == cfg


def test_dims_must_match_the_grids():
    with pytest.raises(ConfigError) as err:
        parse_config(BASE + 'dims = ["T", "alpha"]\n')
    assert err.value.name == "ags.dims"
    assert parse_config(BASE + 'dims = ["alpha", "T"]\n') == parse_config(BASE)


@pytest.mark.parametrize("name", ["", "../../tmp/zz", "a/b", ".hidden", "-x", "a b"])
def test_study_name_is_a_plain_file_name(name):
    with pytest.raises(ConfigError) as err:
        parse_config(BASE.replace('name = "t"', f'name = "{name}"'))
    assert err.value.name == "study.name" and "file name" in str(err.value)
    assert parse_config(BASE.replace('name = "t"', 'name = "run-2.b_x"'))["study"]["name"] == "run-2.b_x"


def test_pattern_memory_is_checked_before_any_point_runs():
    mc = BASE + '[[sweeps]]\nname = "s"\nmethod = "mc"\nalpha = [0.05]\nT = [0.1, 0.3]\n'
    with pytest.raises(ConfigError, match="2\\^33") as err:
        parse_config(mc + "N = [40, 1000000]\n")
    assert err.value.name == "s.N"
    assert parse_config(mc + "N = [40, 400000]\n")      # K N = 8e9 <= 2^33
    assert parse_config(BASE.replace("num = 3", "num = 3000"))     # theory sweeps have no N


def test_digits_without_scikit_learn_is_refused_at_parse(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn", None)      # as if not installed
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "digits.toml"
    with pytest.raises(ConfigError, match="scikit-learn") as err:
        load_config(path)
    assert err.value.name.endswith(".model") and "pip install" in str(err.value)


def test_cluster_table_without_queue_builds_jobqueue_arguments():
    from statmech.executors import jobqueue_kwargs
    cfg = parse_config(BASE + '[cluster]\ncores = 2\nwalltime = "00:30:00"\n')["cluster"]
    kwargs = jobqueue_kwargs(cfg)
    assert "queue" not in kwargs and "account" not in kwargs and kwargs["cores"] == 2
    queued = jobqueue_kwargs(parse_config(BASE + '[cluster]\nqueue = "short"\naccount = "lab"\n')["cluster"])
    assert queued["queue"] == "short" and queued["account"] == "lab"
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    for cls, flag in ((dask_jobqueue.SLURMCluster, "#SBATCH -p"), (dask_jobqueue.PBSCluster, "#PBS -q")):
        with cls(**kwargs) as cluster:
            assert flag not in cluster.job_script()
        with cls(**queued) as cluster:
            assert f"{flag} short" in cluster.job_script()


def test_hierarchical_start_only_for_multitasking():
    mt = ('[study]\nname = "t"\n[[sweeps]]\nname = "m"\nmodel = "multitasking"\nmethod = "mc"\nK = 3\n'
          'd = [0.7]\nT = [0.05]\nN = [200]\ninit = "hierarchical"\n')
    assert parse_config(mt)["sweeps"][0]["init"] == "hierarchical"
    hb = BASE + '[[sweeps]]\nname = "mc"\nmethod = "mc"\nalpha = [0.05]\nT = [0.1]\nN = [100]\ninit = "hierarchical"\n'
    with pytest.raises(ConfigError, match="mc.init"):
        parse_config(hb)
