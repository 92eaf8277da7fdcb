"""Bad inputs raise ParameterError naming the parameter (review 6, item 4)."""
import numpy as np
import pytest

from hopfield import multitasking as mt
from hopfield.datasets import binarize
from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError, check_spins
from statmech.snr import unstable_fraction_theory


def test_unstable_fraction_checks_m():
    with pytest.raises(ParameterError, match="m = nan"):
        unstable_fraction_theory(3, 0.3, m=[np.nan] * 3)
    with pytest.raises(ParameterError, match="m.shape"):
        unstable_fraction_theory(3, 0.3, m=[0.5, 0.2])
    assert unstable_fraction_theory(3, 0.3, m=[0.7, 0.2, 0.06]) == unstable_fraction_theory(3, 0.3, m=np.array([0.7, 0.2, 0.06]))


def test_binarize_rejects_nan():
    with pytest.raises(ParameterError, match="threshold"):
        binarize([0.1, 0.9], np.nan)
    with pytest.raises(ParameterError, match="values"):
        binarize([0.1, np.nan], 0.5)
    assert binarize([0.1, 0.9], 0.5).tolist() == [-1, 1]


def test_multitasking_energy_validates_d():
    xi = random_patterns(6, 2, 0)
    with pytest.raises(ParameterError, match="d = 5.0"):
        mt.energy(xi, np.ones(6), d=5.0)
    assert mt.energy(xi, np.ones(6), d=0.5) == mt.energy(xi, np.ones(6))     # d unused by "N"


def test_bool_spins_rejected():
    with pytest.raises(ParameterError, match="dtype"):
        check_spins(np.ones(4, dtype=bool), 4)
    xi = random_patterns(4, 2, 0)
    with pytest.raises(ParameterError, match="dtype"):
        mt.energy(xi, np.ones(4, dtype=bool))
    assert check_spins(np.array([1, -1, 1, 1]), 4).dtype == np.int8
