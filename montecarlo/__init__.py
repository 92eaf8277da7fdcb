"""Monte Carlo samplers for Hebbian networks (numba CPU backend).

- :func:`storage_point`: one (P, N, alpha, T) point -> small dict (the entry point of the sweeps);
  :func:`temperature_scan`: the same chains carried along a temperature list (heating / annealing).
- :class:`ChainBatch`: replicas x temperatures x disorder samples of chains, optional parallel
  tempering, time series, checkpoints (``state_dict`` / ``from_state``).
- :mod:`montecarlo.measure`: blocking errors, tau_int, burn-in detection, overlaps.
- :class:`RealPatternBatch` (:mod:`montecarlo.real`): dense Hebbian chains with real-valued (e.g. Gaussian)
  patterns, exact distinct-index DeltaE from power overlaps.
- :func:`synchronous_run` (:mod:`montecarlo.synchronous`): the parallel-update dynamics, a different
  dynamics offered under its own label.
"""
import os as _os

# Idle OpenMP threads sleep instead of spinning: on a shared machine, spinning workers of numba's
# parallel kernels steal the cores they wait for (measured: 8 chains x3 slower under load).
# A value the user set wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .sampler import ChainBatch
from .measure import (blocking_error, tau_int, detect_burn_in, summarize_series, mattis_overlaps,
                      replica_overlap)
from .api import storage_point, storage_K, storage_patterns, temperature_scan

__all__ = ["ChainBatch", "storage_point", "temperature_scan", "storage_K", "storage_patterns", "blocking_error", "tau_int",
           "detect_burn_in", "summarize_series", "mattis_overlaps", "replica_overlap"]
from .learning import LearningBatch, learning_point, learning_dataset  # noqa: E402
__all__ += ["LearningBatch", "learning_point", "learning_dataset"]
from .synchronous import synchronous_run  # noqa: E402
__all__ += ["synchronous_run"]
from .real import RealPatternBatch  # noqa: E402
__all__ += ["RealPatternBatch"]
