"""The toy single-unit SaS model: exact instantaneous gradients and learning of the sine task."""

import numpy as np
import pytest

from dynamics.toy import (
    ALPHA,
    toy_initial_parameters,
    toy_instantaneous_gradients,
    train_toy,
    train_toy_runs,
)

#: Central differences with step 1e-6 on an O(1) loss: truncation ~1e-12, round-off ~1e-10.
FD_STEP = 1e-6
FD_TOL = 1e-7
#: Two float64 implementations of the same arithmetic in a different summation order.
ROUND_OFF = 1e-12


def sine_task():
    s = np.linspace(2, 10, 21)
    return np.sin(s), np.sin(s)


def instantaneous_loss(m, pi, xi, x_t, y_t, h_prev, eps_t, alpha=ALPHA):
    a = m.size
    mu = (1 - pi) * m
    var = (1 - pi) * xi + pi * (1 - pi) * m**2
    h = (1 - alpha) * h_prev + alpha * (
        mu.sum() * x_t + eps_t * np.sqrt(var.sum() * x_t**2)
    ) / np.sqrt(a)
    return 0.5 * (np.tanh(h) - y_t) ** 2


def finite_difference(params, name, args):
    grad = np.empty_like(params[name])
    for j in range(grad.size):
        up = {k: v.copy() for k, v in params.items()}
        down = {k: v.copy() for k, v in params.items()}
        up[name][j] += FD_STEP
        down[name][j] -= FD_STEP
        grad[j] = (instantaneous_loss(**up, **args) - instantaneous_loss(**down, **args)) / (
            2 * FD_STEP
        )
    return grad


@pytest.mark.parametrize("eps_t", [0.0, 0.8, -1.7])
def test_instantaneous_gradients_match_finite_differences_at_fixed_noise(eps_t):
    rng = np.random.default_rng(0)
    n = 7
    params = {
        "m": rng.standard_normal(n),
        "pi": rng.uniform(0.2, 0.8, n),
        "xi": rng.uniform(0.1, 0.5, n),
    }
    args = {"x_t": 0.8, "y_t": 0.2, "h_prev": 0.3, "eps_t": eps_t}
    grads = toy_instantaneous_gradients(**params, **args)
    assert grads["loss"] == pytest.approx(instantaneous_loss(**params, **args), abs=ROUND_OFF)
    for name in ("m", "pi", "xi"):
        np.testing.assert_allclose(
            grads[name],
            finite_difference(params, name, args),
            rtol=FD_TOL,
            atol=FD_TOL,
            err_msg=name,
        )


def sequential_reference(x, y, m, pi, xi, eps, alpha, lrs):
    """One epoch of the official update order, written directly from docs/model.md §3.6 in numpy."""
    a = m.size
    h = 0.0
    for t in range(x.size):
        mu = (1 - pi) * m
        var = (1 - pi) * xi + pi * (1 - pi) * m**2
        g = mu.sum() * x[t] / np.sqrt(a)
        delta = np.sqrt(var.sum() * x[t] ** 2) / np.sqrt(a)
        h = (1 - alpha) * h + alpha * (g + eps[t] * delta)
        r = np.tanh(h)
        c = (r - y[t]) * (1 - r**2) * alpha
        k = eps[t] * x[t] ** 2 / (a * delta)
        m = m - lrs[0] * c * ((1 - pi) * x[t] / np.sqrt(a) + k * mu * pi)
        pi = np.clip(
            pi - lrs[1] * c * (-m * x[t] / np.sqrt(a) + k * ((1 - 2 * pi) * m**2 - xi) / 2), 0, 1
        )
        xi = np.maximum(xi - lrs[2] * c * k * (1 - pi) / 2, 0)
    return m, pi, xi


def test_training_step_applies_m_then_pi_then_xi_with_fresh_values():
    rng = np.random.default_rng(1)
    x, y = sine_task()
    params = toy_initial_parameters(50, rng)
    lrs = (0.5, 0.3, 0.2)  # large rates so that the update order matters at O(1)
    eps = rng.standard_normal((1, x.size))
    out = train_toy(x, y, **params, eps=eps, n_epochs=1, lr_m=lrs[0], lr_pi=lrs[1], lr_xi=lrs[2])
    expected = sequential_reference(
        x, y, params["m"], params["pi"], params["xi"], eps[0], ALPHA, lrs
    )
    for name, value in zip(("m", "pi", "xi"), expected, strict=True):
        np.testing.assert_allclose(out[name], value, rtol=1e-10, atol=ROUND_OFF, err_msg=name)


def test_loss_falls_on_the_sine_task_with_the_official_settings():
    rng = np.random.default_rng(2)
    x, y = sine_task()
    out = train_toy(x, y, **toy_initial_parameters(10_000, rng), rng=rng)
    assert out["final_loss"] < 0.1 * out["loss"][0]
    assert out["loss"][-1] < out["loss"][100] < out["loss"][0]
    # Learning builds the mean path: |G| grows from O(1/sqrt(N)).
    assert out["forward_mean"][-1] > 10 * out["forward_mean"][0]


def test_records_have_one_value_per_epoch_and_are_reproducible():
    x, y = sine_task()
    n_epochs = 30
    results = []
    for _ in range(2):
        rng = np.random.default_rng(3)
        results.append(
            train_toy(x, y, **toy_initial_parameters(200, rng), rng=rng, n_epochs=n_epochs)
        )
    keys = ("loss", "forward_mean", "forward_std", "gradient_mean_part", "gradient_variance_part")
    for key in keys:
        assert results[0][key].shape == (n_epochs,)
        assert np.all(np.isfinite(results[0][key]))
        np.testing.assert_array_equal(results[0][key], results[1][key])
    assert results[0]["eps"].shape == (n_epochs, x.size)
    runs = train_toy_runs(
        x, y, n_runs=3, rng=np.random.default_rng(4), n_synapses=100, n_epochs=n_epochs
    )
    assert runs["loss"].shape == (3, n_epochs)
    assert runs["final_loss"].shape == (3,)


def test_constraints_hold_after_training():
    rng = np.random.default_rng(5)
    x, y = sine_task()
    out = train_toy(
        x, y, **toy_initial_parameters(300, rng), rng=rng, n_epochs=50, lr_pi=5.0, lr_xi=5.0
    )
    assert np.all((out["pi"] >= 0) & (out["pi"] <= 1))
    assert np.all(out["xi"] >= 0)


def test_bad_inputs_raise_one_clear_value_error():
    x, y = sine_task()
    params = toy_initial_parameters(10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        train_toy(x, y, **params)
    with pytest.raises(ValueError, match="eps has shape"):
        train_toy(x, y, **params, eps=np.zeros((2, 3)), n_epochs=2)
    with pytest.raises(ValueError, match="pi must lie"):
        train_toy(x, y, params["m"], params["pi"] + 1.5, params["xi"], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="equal length"):
        train_toy(x, y[:-1], **params, rng=np.random.default_rng(0))
