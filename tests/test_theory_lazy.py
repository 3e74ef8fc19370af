"""Closed-form lazy-regime learning dynamics (theory.lazy) against sympy and iteration."""

import numpy as np
import pytest
from scipy.linalg import expm

from theory import gradient_descent_mse
from theory.derivations import lazy_solution_fn

#: Eigendecomposition vs direct evaluation of the same closed form: float64 round-off.
ROUNDOFF = 1e-10


def random_problem(n_train=6, n_test=3, n_out=None, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_train + n_test, n_train + 2))
    kernel = features @ features.T / features.shape[1]
    shape = (n_train,) if n_out is None else (n_train, n_out)
    test_shape = (n_test,) if n_out is None else (n_test, n_out)
    return (
        kernel[:n_train, :n_train],
        kernel[n_train:, :n_train],
        rng.normal(size=shape),
        rng.normal(size=shape),
        rng.normal(size=test_shape),
    )


def test_continuous_solution_matches_sympy_matrix_exponential():
    theta = np.array([[2.0, 0.7], [0.7, 1.2]])
    f0, y, lr = np.array([0.3, -0.4]), np.array([1.0, 0.0]), 0.05
    predict = gradient_descent_mse(theta, y, lr)
    for t in (0.0, 1.0, 7.5, 40.0):
        np.testing.assert_allclose(
            predict(t, f0), lazy_solution_fn()(theta, lr, t, f0, y), rtol=0, atol=ROUNDOFF
        )


def test_continuous_solution_matches_scipy_expm_on_train_and_test():
    k_train, k_test, y, f0, g0 = random_problem(n_out=2)
    lr, t = 0.3, 4.0
    predict = gradient_descent_mse(k_train, y, lr)
    train, test = predict(t, f0, g0, k_test)
    propagator = expm(-lr * k_train * t)
    np.testing.assert_allclose(train, y + propagator @ (f0 - y), atol=ROUNDOFF)
    solve = np.linalg.solve(k_train, (np.eye(len(y)) - propagator) @ (f0 - y))
    np.testing.assert_allclose(test, g0 - k_test @ solve, atol=ROUNDOFF)


def test_discrete_solution_equals_iterating_the_gradient_step():
    k_train, k_test, y, f0, g0 = random_problem()
    lr, steps = 0.2, 25
    predict = gradient_descent_mse(k_train, y, lr, discrete=True)
    f_train, f_test = f0.copy(), g0.copy()
    trajectory = predict(np.arange(steps + 1), f0, g0, k_test)
    for step in range(steps + 1):
        np.testing.assert_allclose(trajectory[0][step], f_train, atol=ROUNDOFF)
        np.testing.assert_allclose(trajectory[1][step], f_test, atol=ROUNDOFF)
        residual = f_train - y
        f_train = f_train - lr * k_train @ residual
        f_test = f_test - lr * k_test @ residual


def test_infinite_time_interpolates_training_targets_and_gives_kernel_regression():
    k_train, k_test, y, f0, g0 = random_problem(seed=3)
    for discrete in (False, True):
        train, test = gradient_descent_mse(k_train, y, 0.1, discrete=discrete)(None, f0, g0, k_test)
        np.testing.assert_allclose(train, y, atol=ROUNDOFF)
        np.testing.assert_allclose(test, g0 - k_test @ np.linalg.solve(k_train, f0 - y), atol=1e-8)


def test_zero_kernel_mode_keeps_its_initial_residual():
    theta = np.diag([1.0, 0.0])
    y, f0 = np.array([1.0, 1.0]), np.array([0.0, 0.0])
    predict = gradient_descent_mse(theta, y, 0.5)
    np.testing.assert_allclose(predict(None, f0), [1.0, 0.0])
    np.testing.assert_allclose(predict(2.0, f0), [1 - np.exp(-1.0), 0.0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones((2, 3)), np.zeros(2), 0.1), "square"),
        ((np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), 0.1), "symmetric"),
        ((np.eye(2), np.zeros(3), 0.1), "y_train"),
        ((np.eye(2), np.zeros(2), -1.0), "lr"),
    ],
)
def test_bad_factory_arguments_raise_value_error(args, message):
    with pytest.raises(ValueError, match=message):
        gradient_descent_mse(*args)


def test_bad_prediction_arguments_raise_value_error():
    predict = gradient_descent_mse(np.eye(2), np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="f0_train"):
        predict(1.0, np.zeros(3))
    with pytest.raises(ValueError, match="both"):
        predict(1.0, np.zeros(2), f0_test=np.zeros(1))
    with pytest.raises(ValueError, match="t must be"):
        predict(-1.0, np.zeros(2))
