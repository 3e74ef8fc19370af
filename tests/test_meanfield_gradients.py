"""Generalized BPTT (docs/model.md §2.1–2.2) against central finite differences, in float64."""

import numpy as np
import pytest

from dynamics import BLOCK_NAMES, SaSLayer, SaSNetwork, mean_field_grads

#: Acceptance bound for the gradient check; the measured error is ~1e-8 (finite-difference noise).
GRADIENT_RTOL = 1e-6
#: Central-difference step: balances truncation O(h²) and round-off O(1e-16/h) for O(1) losses.
FD_STEP = 1e-6

T, B, N_IN, N_REC, N_OUT = 4, 3, 2, 5, 3


def interior_layer(rng, n_post, n_pre):
    """π strictly inside (0, 1) and Ξ > 0, so every path of the rule is exercised."""
    return SaSLayer(
        rng.normal(0.0, 0.5, (n_post, n_pre)),
        rng.uniform(0.1, 0.9, (n_post, n_pre)),
        rng.uniform(0.05, 0.5, (n_post, n_pre)),
    )


def make_problem(readout, loss, alpha, activation, sigma_rec, masked, seed=0):
    rng = np.random.default_rng(seed)
    net = SaSNetwork(
        interior_layer(rng, N_REC, N_IN),
        interior_layer(rng, N_REC, N_REC),
        interior_layer(rng, N_OUT, N_REC),
        alpha=alpha,
        h0=0.3,
        activation=activation,
        readout=readout,
        loss=loss,
        sigma_rec=sigma_rec,
    )
    out_shape = (B, N_OUT) if readout == "last" else (T, B, N_OUT)
    if loss == "cross_entropy":
        target = np.eye(N_OUT)[rng.integers(0, N_OUT, B)]
    else:
        target = rng.normal(size=out_shape)
    mask = (rng.random(out_shape) > 0.3).astype(float) if masked else None
    noise = {
        "eps": rng.standard_normal((T, B, N_REC)),
        "eps_out": rng.standard_normal(out_shape),
        "rec_noise": rng.standard_normal((T, B, N_REC)) if sigma_rec else None,
        "mask": mask,
    }
    x = rng.normal(size=(T, B, N_IN))
    return net, x, target, noise


def finite_difference_gradient(net, x, target, noise, block):
    array = net.parameters()[block]
    numeric = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + FD_STEP
        loss_plus, _ = mean_field_grads(net, x, target, **noise)
        array[index] = original - FD_STEP
        loss_minus, _ = mean_field_grads(net, x, target, **noise)
        array[index] = original
        numeric[index] = (loss_plus - loss_minus) / (2 * FD_STEP)
    return numeric


CASES = [
    # readout, loss, alpha, activation, sigma_rec, masked
    ("last", "cross_entropy", 0.3, "relu", 0.0, False),
    ("last", "cross_entropy", 1.0, "relu", 0.0, False),
    ("all", "mse", 0.3, "relu", 0.15, True),
    ("all", "mse", 1.0, "tanh", 0.0, True),
    ("last", "mse", 0.5, "tanh", 0.2, False),
]


@pytest.mark.parametrize("readout,loss,alpha,activation,sigma_rec,masked", CASES)
def test_all_nine_gradient_blocks_match_central_finite_differences(
    readout, loss, alpha, activation, sigma_rec, masked
):
    net, x, target, noise = make_problem(readout, loss, alpha, activation, sigma_rec, masked)
    _, grads = mean_field_grads(net, x, target, **noise)
    analytic = grads.blocks()
    assert set(analytic) == set(BLOCK_NAMES)
    for block in BLOCK_NAMES:
        numeric = finite_difference_gradient(net, x, target, noise, block)
        scale = np.max(np.abs(numeric))
        assert scale > 0, f"{block}: the test problem gives a zero gradient"
        error = np.max(np.abs(analytic[block] - numeric)) / scale
        assert error <= GRADIENT_RTOL, f"{block}: relative error {error:.2e}"


def test_fluctuation_path_contributes_zero_where_variance_vanishes():
    """h0 = 0 gives r = 0 at the first step, so Δ = 0 there (docs/official-code.md §4): no ε/1e-30
    blow-up."""
    rng = np.random.default_rng(3)
    net, x, target, noise = make_problem("all", "mse", 0.2, "relu", 0.0, True, seed=3)
    net.h0 = 0.0
    net.inp.xi[:] = 0.0  # no input variance either, so Δ(0) = 0 exactly
    net.inp.pi[:] = 0.0
    _, grads = mean_field_grads(net, x, target, **noise)
    for block, value in grads.blocks().items():
        assert np.all(np.isfinite(value)) and np.max(np.abs(value)) < 1e3, block
    del rng


def test_gradient_of_structurally_absent_connections_is_zero():
    net, x, target, noise = make_problem("all", "mse", 0.2, "relu", 0.0, True)
    absent = np.zeros(net.inp.shape, dtype=bool)
    absent[0, 1] = absent[3, 0] = True
    net.inp = SaSLayer(net.inp.m, net.inp.pi, net.inp.xi, absent=absent)
    assert net.inp.pi[0, 1] == 1.0 and net.inp.m[0, 1] == 0.0 and net.inp.xi[0, 1] == 0.0
    _, grads = mean_field_grads(net, x, target, **noise)
    for name in ("m", "pi", "xi"):
        assert np.all(getattr(grads.inp, name)[absent] == 0.0)


def test_float32_gradients_agree_with_float64_to_single_precision():
    net, x, target, noise = make_problem("last", "cross_entropy", 0.3, "relu", 0.0, False)
    loss64, grads64 = mean_field_grads(net, x, target, **noise)
    loss32, grads32 = mean_field_grads(net.astype(np.float32), x, target, **noise)
    assert grads32.rec.m.dtype == np.float32
    assert abs(loss32 - loss64) <= 1e-5 * abs(loss64)
    for block, value in grads64.blocks().items():
        # float32 carries ~7 digits; sums over a few steps lose about one more
        assert np.allclose(
            grads32.blocks()[block], value, rtol=1e-4, atol=1e-5 * np.abs(value).max()
        )


def test_input_gradients_match_finite_differences_when_inputs_are_many():
    """Above FEW_INPUTS the kernels sum input currents with GEMMs instead of inline loops."""
    from dynamics._kernels import FEW_INPUTS

    rng = np.random.default_rng(11)
    n_in = FEW_INPUTS + 3
    net = SaSNetwork(
        interior_layer(rng, N_REC, n_in),
        interior_layer(rng, N_REC, N_REC),
        interior_layer(rng, N_OUT, N_REC),
        alpha=0.4,
        h0=0.2,
    )
    x = rng.normal(size=(T, B, n_in))
    target = np.eye(N_OUT)[rng.integers(0, N_OUT, B)]
    noise = {"eps": rng.standard_normal((T, B, N_REC)), "eps_out": rng.standard_normal((B, N_OUT))}
    _, grads = mean_field_grads(net, x, target, **noise)
    for block in ("inp.m", "inp.pi", "inp.xi", "rec.xi"):
        numeric = finite_difference_gradient(net, x, target, noise, block)
        error = np.max(np.abs(grads.blocks()[block] - numeric)) / np.max(np.abs(numeric))
        assert error <= GRADIENT_RTOL, f"{block}: relative error {error:.2e}"
