"""Closed-form lazy-regime (constant-kernel) learning dynamics under the MSE loss.

Loss convention (docs/model.md §1.5): L = ½ Σ_μ (f(x_μ) - y_μ)², summed over training samples, so
gradient flow in the NTK limit is df/dt = -η Θ (f - y) (docs/model.md §5.1).  In the style of
neural-tangents' ``gradient_descent_mse``: the eigendecomposition Θ(X, X) = U Λ Uᵀ is done once
in the factory, and the returned ``predict_fn`` evaluates any time cheaply.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gradient_descent_mse"]

#: Eigenvalues below this fraction of the largest one are treated as exact zero modes.
ZERO_MODE_RTOL = 1e-12


def _check_kernel(k_train_train):
    k = np.asarray(k_train_train, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"k_train_train must be a square (n, n) matrix, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError("k_train_train contains NaN or inf")
    if not np.allclose(k, k.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(k).max())):
        raise ValueError("k_train_train must be symmetric (pass Θ(X, X) of the training inputs)")
    return 0.5 * (k + k.T)


def gradient_descent_mse(k_train_train, y_train, lr, *, discrete=False):
    """Predictions of a linearised network trained by gradient descent on ½ Σ (f - y)².

    Continuous time (gradient flow, t in epochs, η = ``lr``)::

        f_t(X) = Y + e^{-ηΘt} (f_0(X) - Y)
        f_t(x) = f_0(x) - Θ(x, X) Θ^{-1} (I - e^{-ηΘt}) (f_0(X) - Y)

    Discrete steps f_{t+1} = f_t - ηΘ(f_t - Y) (``discrete=True``, t = number of steps)::

        f_t(X) = Y + (I - ηΘ)^t (f_0(X) - Y)
        f_t(x) = f_0(x) - Θ(x, X) Θ^{-1} (I - (I - ηΘ)^t) (f_0(X) - Y)

    Both are evaluated in the eigenbasis of Θ(X, X) (``numpy.linalg.eigh``, docs/official-code.md
    §1 item 15);
    for a zero eigenvalue the factor Θ^{-1}(I - e^{-ηΘt}) takes its limit ηt (continuous) or
    ηt (discrete).  ``t=None`` means t = ∞ (zero modes then keep their initial residual).
    docs/model.md §5.1, after neural-tangents ``predict.gradient_descent_mse``.

    Example:
        >>> theta = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> predict = gradient_descent_mse(theta, np.array([1.0, 0.0]), lr=0.1)
        >>> np.allclose(predict(None, np.zeros(2)), [1.0, 0.0])
        True

    Args:
        k_train_train: Θ(X, X), symmetric (n, n).
        y_train: targets, shape (n,) or (n, k).
        lr: learning rate η > 0.
        discrete: use the discrete-step map instead of gradient flow.

    Returns:
        ``predict_fn(t, f0_train, f0_test=None, k_test_train=None)``: ``t`` a scalar, an array
        of times, or None; ``f0_train`` shape like ``y_train``; ``f0_test`` (m,) or (m, k) with
        ``k_test_train`` Θ(x_test, X) of shape (m, n).  Returns f_t(X) — or the pair
        (f_t(X), f_t(x_test)) when test inputs are given — with a leading time axis if ``t``
        is an array.

    Raises:
        ValueError: non-square/asymmetric/non-finite kernel, mismatched shapes, lr <= 0,
        negative times.
    """
    k = _check_kernel(k_train_train)
    n = k.shape[0]
    y = np.asarray(y_train, dtype=float)
    if y.shape[:1] != (n,) or y.ndim > 2:
        raise ValueError(f"y_train must have shape ({n},) or ({n}, k), got {y.shape}")
    if not (np.isscalar(lr) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    eta = float(lr)
    vector_targets = y.ndim == 1
    y2 = y[:, None] if vector_targets else y
    eigenvalues, eigenvectors = np.linalg.eigh(k)
    zero_mode = eigenvalues <= ZERO_MODE_RTOL * max(abs(eigenvalues).max(), 1e-300)
    safe_eigenvalues = np.where(zero_mode, 1.0, eigenvalues)

    def factors(t):
        """(train residual decay, test solve factor) per eigenvalue, shape (n,)."""
        if t is None:
            decay = np.where(zero_mode, 1.0, 0.0)
            solve = np.where(zero_mode, 0.0, 1.0 / safe_eigenvalues)
            return decay, solve
        if discrete:
            decay = (1.0 - eta * eigenvalues) ** t
            solve = np.where(zero_mode, eta * t, (1.0 - decay) / safe_eigenvalues)
        else:
            decay = np.exp(-eta * eigenvalues * t)
            solve = np.where(
                zero_mode, eta * t, -np.expm1(-eta * eigenvalues * t) / safe_eigenvalues
            )
        return decay, solve

    def _shape_like(name, value, rows):
        value = np.asarray(value, dtype=float)
        expected = (rows,) if vector_targets else (rows, y2.shape[1])
        if value.shape != expected:
            raise ValueError(f"{name} must have shape {expected}, got {value.shape}")
        return value[:, None] if vector_targets else value

    def predict_fn(t, f0_train, f0_test=None, k_test_train=None):
        """Evaluate f_t on the training (and optionally test) inputs; see the factory docstring."""
        f0 = _shape_like("f0_train", f0_train, n)
        with_test = f0_test is not None or k_test_train is not None
        if with_test:
            if f0_test is None or k_test_train is None:
                raise ValueError("pass both f0_test and k_test_train, or neither")
            k_test = np.asarray(k_test_train, dtype=float)
            if k_test.ndim != 2 or k_test.shape[1] != n:
                raise ValueError(f"k_test_train must have shape (m, {n}), got {k_test.shape}")
            g0 = _shape_like("f0_test", f0_test, k_test.shape[0])
        residual = eigenvectors.T @ (f0 - y2)  # (n, k) in the eigenbasis
        times = None if t is None else np.asarray(t, dtype=float)
        if times is not None and np.any(times < 0):
            raise ValueError(f"t must be >= 0 or None, got {t!r}")
        scalar_time = times is None or times.ndim == 0
        time_list = [None] if times is None else list(np.atleast_1d(times))
        train_out, test_out = [], []
        for time in time_list:
            decay, solve = factors(time)
            f_train = y2 + eigenvectors @ (decay[:, None] * residual)
            train_out.append(f_train[:, 0] if vector_targets else f_train)
            if with_test:
                f_test = g0 - k_test @ (eigenvectors @ (solve[:, None] * residual))
                test_out.append(f_test[:, 0] if vector_targets else f_test)
        train = train_out[0] if scalar_time else np.stack(train_out)
        if not with_test:
            return train
        test = test_out[0] if scalar_time else np.stack(test_out)
        return train, test

    return predict_fn
