"""Conversions between the package convention and the factorial conventions (statmech.conventions)."""
import math

import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech import storage as S
from statmech.conventions import (from_factorial_convention, load_factor, temperature_factor,
                                  to_factorial_convention)


@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_round_trip(P):
    T, a = np.array([0.1, 0.7, 2.5]), np.array([0.0, 0.01, 0.3])
    Tl, al = to_factorial_convention(T, a, P)
    assert np.allclose(Tl, 2 * T / math.factorial(P)) and np.allclose(al, a * math.factorial(P))
    T2, a2 = from_factorial_convention(Tl, al, P)
    assert np.allclose(T2, T, rtol=1e-15) and np.allclose(a2, a, rtol=1e-15)


def test_P2_temperature_is_unchanged():
    Tl, al = to_factorial_convention(0.8, 0.05, 2)
    assert Tl == 0.8 and al == pytest.approx(0.1)          # H = -(N/2!) sum m^2 is the package H
    assert isinstance(Tl, float) and temperature_factor(2) == 1.0 and load_factor(2) == 2.0


def test_P3_values():
    assert to_factorial_convention(3.0, 0.02, 3) == pytest.approx((1.0, 0.12))


def test_physics_is_invariant():
    # the Gibbs weight only depends on beta*H: the P = 3, alpha = 0 Curie-Weiss overlap at T is the
    # overlap of m = tanh(beta_lit (3!/3!) ... ) i.e. m = tanh((3/(2T)) m^2) with T = T_lit * 3!/2
    T = 0.5
    Tl, _ = to_factorial_convention(T, 0.0, 3)
    m = S.solve_grid(3, [0.0], [T])["m_retrieval"][0, 0]
    assert abs(m - np.tanh(m ** 2 / (2 * Tl))) < 1e-12     # -(N/3!) m^3: field (3/3!) m^2 = m^2 / 2


@pytest.mark.parametrize("args", [(0.0, 0.1, 3), (-1.0, 0.1, 3), (1.0, -0.1, 3), (1.0, 0.1, 1), (1.0, 0.1, 2.0)])
def test_bad_inputs(args):
    with pytest.raises(ParameterError):
        to_factorial_convention(*args)
    with pytest.raises(ParameterError):
        from_factorial_convention(*args)


@pytest.mark.parametrize("call", [
    lambda: temperature_factor(171), lambda: load_factor(171),
    lambda: to_factorial_convention(1.0, 0.1, 171),
])
def test_P_above_the_documented_maximum_raises(call):
    """P! overflows float64 at P = 171: a ParameterError naming P, not an OverflowError."""
    from statmech.conventions import P_MAX
    assert math.factorial(P_MAX) < 1e300
    with pytest.raises(ParameterError, match="P = 171"):
        call()
