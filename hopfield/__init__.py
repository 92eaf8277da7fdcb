"""Models of Hebbian and Hopfield networks with plain numpy reference implementations."""
from .validation import ParameterError

__all__ = ["ParameterError"]
