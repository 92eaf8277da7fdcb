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
