"""Models of Hebbian and Hopfield networks with plain numpy reference implementations."""
from .validation import ParameterError
from .patterns import random_patterns
from .hebbian import HebbianNetwork, RealHebbianNetwork

__all__ = ["ParameterError", "random_patterns", "HebbianNetwork", "RealHebbianNetwork"]
from .learning import (SupervisedNetwork, UnsupervisedNetwork, make_examples, make_dataset,  # noqa: E402
                       example_sums, rho_from_r, r_from_rho, R_from_r)
__all__ += ["SupervisedNetwork", "UnsupervisedNetwork", "make_examples", "make_dataset", "example_sums",
            "rho_from_r", "r_from_rho", "R_from_r"]
