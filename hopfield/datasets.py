"""Structured data for the learning models: binarised digits and user arrays of +-1 vectors.

Output convention (that of :mod:`hopfield.learning`): ``(examples, labels, archetypes)`` with

- ``examples``: int8 (N, K, M), C-contiguous: examples[:, k, a] is the a-th example of class
  ``labels[k]`` (the eta layout of :func:`hopfield.learning.make_examples`);
- ``labels``: int64 (K,), the class labels in increasing order;
- ``archetypes``: int8 (N, K), the archetype of class k defined as the sign of the mean of **all** the
  vectors of that class in the input (not only the M chosen as examples), ties (mean exactly 0) -> +1.
  Real data have no true archetype; this is the "sign of the class mean" reading of learning.md
  section 7 (the co-author code's alternative would be a clean template, not available here).

Digits (scikit-learn's bundled 8x8 digits, 1797 images, pixel values 0..16, 10 classes, no download):
a pixel is +1 ("ink") iff value / 16 > threshold (default 0.5, i.e. value >= 9), else -1; N = 64.
(The co-author notebook uses sigma = -sign(x/255 - 0.5) on MNIST, i.e. ink -> -1; pass
``invert=True`` for that sign convention. Both give the same Hebbian energies up to sigma -> -sigma.)
scikit-learn is an optional dependency, imported lazily.
"""
from __future__ import annotations

import numpy as np

from .patterns import as_generator
from .validation import ParameterError, check_integer, check_real

__all__ = ["binarize", "class_archetypes", "class_examples", "load_digits_binary", "digits_dataset"]


def binarize(values, threshold, *, invert=False) -> np.ndarray:
    """+1 where value > threshold, else -1 (int8); ``invert`` swaps the signs. Values and threshold
    must be finite (a NaN would silently become -1)."""
    threshold = check_real("threshold", threshold)
    x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ParameterError("values", x[~np.isfinite(x)].ravel()[0], "finite numbers")
    out = np.where(x > threshold, 1, -1).astype(np.int8)
    return -out if invert else out


def _check_data(data, labels):
    X = np.asarray(data)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ParameterError("data.shape", X.shape, "a 2-D shape (n_samples, N) with n_samples, N >= 1")
    if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise ParameterError("data.dtype", X.dtype, "an integer array with entries +-1")
    bad = ~np.isin(X, (-1, 1))
    if bad.any():
        raise ParameterError("data", X[bad].ravel()[0], "entries in {-1, +1} (binarise first)")
    y = np.asarray(labels)
    if y.shape != (X.shape[0],):
        raise ParameterError("labels.shape", y.shape, f"({X.shape[0]},), one label per row of data")
    return X.astype(np.int8), y


def class_archetypes(data, labels):
    """(archetypes (N, K) int8, classes (K,)): sign of each class mean over all its rows, ties -> +1."""
    X, y = _check_data(data, labels)
    classes = np.unique(y)
    xi = np.empty((X.shape[1], classes.size), dtype=np.int8)
    for k, c in enumerate(classes):
        tot = X[y == c].astype(np.int64).sum(axis=0)
        xi[:, k] = np.where(tot >= 0, 1, -1)
    return np.ascontiguousarray(xi), classes


def class_examples(data, labels, *, M=None, classes=None, rng=None):
    """Group +-1 vectors by class into the eta layout.

    Parameters
    ----------
    data : +-1 int array (n_samples, N)
    labels : (n_samples,) class labels (any sortable type)
    M : examples per class (default: the size of the smallest selected class); each class must have >= M
    classes : optional subset of the labels to keep (default: all, sorted)
    rng : None -> the first M rows of each class in input order; a seed / Generator -> M rows drawn
        without replacement

    Returns ``(examples (N, K, M) int8, labels (K,), archetypes (N, K) int8)`` (module docstring).
    """
    X, y = _check_data(data, labels)
    all_classes = np.unique(y)
    if classes is None:
        sel = all_classes
    else:
        sel = np.unique(np.asarray(classes))
        missing = [c for c in sel if c not in set(all_classes.tolist())]
        if missing or sel.size == 0:
            raise ParameterError("classes", list(np.asarray(classes).ravel()), "a non-empty subset of the labels")
    counts = np.array([int((y == c).sum()) for c in sel])
    if M is None:
        M = int(counts.min())
    M = check_integer("M", M, low=1)
    if M > counts.min():
        raise ParameterError("M", M, f"<= {int(counts.min())} (examples of the smallest class)")
    gen = None if rng is None else as_generator(rng)
    N = X.shape[1]
    eta = np.empty((N, sel.size, M), dtype=np.int8)
    for k, c in enumerate(sel):
        rows = np.flatnonzero(y == c)
        if gen is not None:
            rows = np.sort(gen.choice(rows, size=M, replace=False))
        eta[:, k, :] = X[rows[:M]].T
    keep = np.isin(y, sel)
    xi, _ = class_archetypes(X[keep], y[keep])
    return np.ascontiguousarray(eta), sel, xi


def load_digits_binary(threshold=0.5, *, invert=False):
    """scikit-learn's 8x8 digits binarised: (data (1797, 64) int8 +-1, labels (1797,) int64).

    Pixel values v in 0..16: sigma = +1 iff v / 16 > ``threshold`` (default 0.5: v >= 9), else -1.
    """
    threshold = check_real("threshold", threshold, low=0.0, high=1.0)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("hopfield.datasets.load_digits_binary needs scikit-learn (an optional extra): "
                          "pip install scikit-learn") from exc
    d = load_digits()
    data = binarize(d.data / 16.0, threshold, invert=invert)
    return data, np.asarray(d.target, dtype=np.int64)


def digits_dataset(M=None, *, threshold=0.5, invert=False, classes=None, rng=None):
    """Binarised digits grouped by class: ``(examples (64, K, M), labels (K,), archetypes (64, K))``.

    Archetype of a class: sign of the mean of all its images (ties -> +1). Default M = the smallest class
    size (174: digit 8); default classes: all ten digits.
    """
    data, labels = load_digits_binary(threshold, invert=invert)
    return class_examples(data, labels, M=M, classes=classes, rng=rng)
