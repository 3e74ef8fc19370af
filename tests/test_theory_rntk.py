"""The analytic SaS RNTK (theory.rntk) against the official code's reference values (docs/model.md
§5.1) and its own derivations."""

import numpy as np
import pytest
from scipy import integrate, stats

from theory import BLOCK_NAMES, rntk, rntk_blocks
from theory.derivations import backward_kernel_unrolled_fn, forward_kernel_unrolled_fn
from theory.rntk import gaussian_pair_expectations, relu_arccos_kernels

#: The reference kernels are quoted to 3 decimals: half a unit of the last digit.
CHK_DECIMALS_TOLERANCE = 5e-4
#: docs/model.md §5.1: the general recursion at α = 1 equals the diagonal fast path "exactly";
#: we allow float64 round-off accumulated over T = 28 steps.
FAST_PATH_TOLERANCE = 1e-12
#: Two evaluations of the same finite sums in a different order (round-off only).
RECURSION_TOLERANCE = 1e-12
#: The default 48×48 Gauss–Hermite rule integrates tanh products to ~1e-8 and tanh' products to
#: ~5e-7 at unit-scale variances (measured against dblquad: K error 8e-6 at 24 nodes, 1.5e-8 at 48).
QUADRATURE_TOLERANCE = 1e-6
#: Adaptive 2-D quadrature (scipy dblquad, epsabs 1e-11) and scipy's bivariate normal CDF.
DBLQUAD_TOLERANCE = 1e-7


def circle_inputs(phi, n_steps):
    """docs/model.md §3.5: x1 = (1, -1[, 1]), x2 = (cos φ, sin φ[, -cos φ]); shape (T, 2, 1)."""
    if n_steps == 2:
        x1, x2 = [1.0, -1.0], [np.cos(phi), np.sin(phi)]
    else:
        x1, x2 = [1.0, -1.0, 1.0], [np.cos(phi), np.sin(phi), -np.cos(phi)]
    return np.array([x1, x2]).T[:, :, None]


@pytest.mark.parametrize(
    ("alpha", "n_steps", "phi", "expected"),
    [(0.5, 2, 1.0, (0.621, 0.125, 0.918)), (1.0, 3, 2.5, (5.328, 1.587, 3.358))],
)
def test_kernel_reproduces_the_spec_two_input_check_numbers(alpha, n_steps, phi, expected):
    theta = rntk(circle_inputs(phi, n_steps), alpha, sas_readout=True)
    got = (theta[0, 0], theta[0, 1], theta[1, 1])
    np.testing.assert_allclose(got, expected, atol=CHK_DECIMALS_TOLERANCE)


@pytest.mark.parametrize(("n_steps", "batch"), [(1, 3), (3, 4), (28, 6)])
def test_general_recursion_at_alpha_one_equals_diagonal_fast_path(n_steps, batch):
    x = np.random.default_rng(n_steps).uniform(0, 1, size=(n_steps, batch, 5))
    for sas_readout in (False, True):
        general = rntk_blocks(x, 1.0, fast_path=False, sas_readout=sas_readout)
        fast = rntk_blocks(x, 1.0, fast_path=True, sas_readout=sas_readout)
        assert general.keys() == fast.keys()
        for name in general:
            np.testing.assert_allclose(general[name], fast[name], rtol=0, atol=FAST_PATH_TOLERANCE)


@pytest.mark.parametrize("alpha", [0.2, 0.6, 1.0])
def test_forward_kernel_equals_sympy_unrolled_leaky_sum(alpha):
    n_steps, batch, sigma_h0 = 4, 3, 0.8
    x = np.random.default_rng(1).normal(size=(n_steps, batch, 2))
    blocks = rntk_blocks(x, alpha, sigma_h0=sigma_h0, fast_path=False, return_intermediates=True)
    mid = blocks["intermediates"]
    q0 = sigma_h0**2 * np.eye(batch)  # σ_h0² δ_{xx'}
    expected = forward_kernel_unrolled_fn(n_steps)(alpha, mid["omega"], q0)
    np.testing.assert_allclose(mid["sigma"], expected, rtol=0, atol=RECURSION_TOLERANCE)


@pytest.mark.parametrize("alpha", [0.2, 0.6, 1.0])
def test_backward_kernel_equals_sympy_unrolled_adjoint(alpha):
    n_steps, batch = 4, 3
    x = np.random.default_rng(2).normal(size=(n_steps, batch, 2))
    mid = rntk_blocks(x, alpha, fast_path=False, return_intermediates=True)["intermediates"]
    expected = backward_kernel_unrolled_fn(n_steps)(alpha, mid["gamma"], mid["pi"][-1, -1])
    np.testing.assert_allclose(mid["pi"], expected, rtol=0, atol=RECURSION_TOLERANCE)


def test_input_current_covariance_has_slab_variance_only_on_same_sample_equal_times():
    x = np.random.default_rng(3).normal(size=(3, 4, 2))
    s_rec, s_in = 1.3, 0.7
    mid = rntk_blocks(x, 0.5, sigma_rec=s_rec, sigma_in=s_in, return_intermediates=True)[
        "intermediates"
    ]
    kernel, omega = mid["K"], mid["omega"]
    for t in range(3):
        for tp in range(3):
            expected = s_rec**2 * kernel[t, tp] + s_in**2 / 2 * x[t] @ x[tp].T
            if t == tp:
                expected = expected + 0.5 * np.diag(np.diag(kernel[t, t]))
            np.testing.assert_allclose(omega[t, tp], expected, atol=RECURSION_TOLERANCE)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("alpha", [0.3, 0.8, 1.0])
def test_kernel_is_symmetric_positive_semidefinite(activation, alpha):
    x = np.random.default_rng(4).normal(size=(5, 7, 3))
    theta = rntk(x, alpha, activation=activation, sas_readout=True)
    np.testing.assert_allclose(theta, theta.T, atol=1e-14)
    assert np.linalg.eigvalsh(theta).min() > -1e-12 * np.abs(theta).max()


def test_blocks_follow_the_spec_identities():
    x = np.random.default_rng(5).normal(size=(3, 4, 2))
    blocks = rntk_blocks(x, 0.4, sigma_out=1.7, sas_readout=True, return_intermediates=True)
    mid = blocks.pop("intermediates")
    assert set(blocks) == set(BLOCK_NAMES)
    np.testing.assert_array_equal(blocks["rec.pi"], blocks["rec.m"])
    np.testing.assert_array_equal(blocks["rec.xi"], 0.0)
    np.testing.assert_array_equal(blocks["out.xi"], 0.0)
    np.testing.assert_allclose(blocks["out.m"], 1.7**2 * mid["K"][-1, -1])
    np.testing.assert_array_equal(blocks["out.pi"], blocks["out.m"])
    total = rntk(x, 0.4, sigma_out=1.7, sas_readout=True)
    np.testing.assert_allclose(total, sum(blocks.values()), atol=1e-14)
    without = rntk_blocks(x, 0.4, sigma_out=1.7)
    assert "out.pi" not in without and "out.xi" not in without


def test_relu_closed_forms_match_numerical_gaussian_integrals():
    var_a, var_b, cov = 1.3, 0.6, -0.5
    density = stats.multivariate_normal([0.0, 0.0], [[var_a, cov], [cov, var_b]])
    # E[relu(a) relu(b)]: a smooth integral over the positive quadrant.
    k1_numeric = integrate.dblquad(
        lambda b, a: a * b * density.pdf([a, b]), 0, 12, 0, 12, epsabs=1e-11
    )[0]
    # E[relu'(a) relu'(b)] = P(a > 0, b > 0) = P(-a < 0, -b < 0): a bivariate normal CDF.
    k0_numeric = density.cdf([0.0, 0.0])
    k1, k0 = relu_arccos_kernels(cov, var_a, var_b)
    assert abs(k1 - k1_numeric) < DBLQUAD_TOLERANCE
    assert abs(k0 - k0_numeric) < DBLQUAD_TOLERANCE


def test_tanh_gauss_hermite_matches_two_dimensional_quadrature():
    var_a, var_b, cov = 0.9, 1.7, 0.8
    chol = np.linalg.cholesky([[var_a, cov], [cov, var_b]])

    def expect(f):
        def integrand(z2, z1):
            a, b = chol @ np.array([z1, z2])
            return f(a, b) * np.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * np.pi)

        return integrate.dblquad(integrand, -12, 12, -12, 12, epsabs=1e-11)[0]

    k, kdot = gaussian_pair_expectations(cov, var_a, var_b, activation="tanh")
    assert abs(k - expect(lambda a, b: np.tanh(a) * np.tanh(b))) < QUADRATURE_TOLERANCE
    dtanh = lambda v: 1 - np.tanh(v) ** 2  # noqa: E731
    assert abs(kdot - expect(lambda a, b: dtanh(a) * dtanh(b))) < QUADRATURE_TOLERANCE


def test_silent_units_give_zero_gaussian_integrals():
    k1, k0 = relu_arccos_kernels(np.zeros(2), np.array([0.0, 1.0]), np.array([2.0, 0.0]))
    np.testing.assert_array_equal(k1, 0.0)
    np.testing.assert_array_equal(k0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((3, 2))}, "x must have shape"),
        ({"x": np.full((2, 2, 1), np.nan)}, "NaN"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"sigma_rec": -1.0}, "sigma_rec"),
        ({"xi_mean": -0.1}, "xi_mean"),
        ({"activation": "sigmoid"}, "activation"),
    ],
)
def test_bad_arguments_raise_one_clear_value_error(kwargs, message):
    arguments = {"x": np.ones((2, 2, 1)), "alpha": 0.5, **kwargs}
    with pytest.raises(ValueError, match=message):
        rntk(arguments.pop("x"), arguments.pop("alpha"), **arguments)
