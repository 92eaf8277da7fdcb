"""Models of Hebbian and Hopfield networks with plain numpy reference implementations."""
from .validation import ParameterError
from .patterns import random_patterns
from .hebbian import HebbianNetwork

__all__ = ["ParameterError", "random_patterns", "HebbianNetwork"]
