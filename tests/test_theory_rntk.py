"""The analytic SaS RNTK (theory.rntk) against the official code's reference values (docs/model.md
§5.1) and its own derivations."""

import numba
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


def relative_difference(got, expected):
    """max |got - expected| / max |expected| (max |got| if expected is zero)."""
    assert got.shape == expected.shape
    if expected.size == 0:
        return 0.0
    scale = np.abs(expected).max()
    return float(np.abs(got - expected).max() / scale) if scale > 0 else float(np.abs(got).max())


@pytest.mark.parametrize(
    ("activation", "alpha", "n_steps", "batch", "sas_readout"),
    [
        ("relu", 0.5, 9, 37, False),  # 37 samples: more than one block of 32 pairs per row
        ("relu", 0.5, 1, 5, True),
        ("relu", 0.3, 4, 1, True),
        ("relu", 0.8, 6, 6, True),
        ("relu", 1.0, 5, 7, False),
        ("tanh", 0.6, 3, 3, True),
        ("tanh", 1.0, 2, 2, False),
    ],
)
def test_compiled_pair_blocks_equal_the_frozen_wavefront_recursion(
    activation, alpha, n_steps, batch, sas_readout
):
    x = np.random.default_rng(batch).normal(size=(n_steps, batch, 3))
    sigmas = {"sigma_in": 0.9, "sigma_rec": 1.2, "sigma_out": 0.8, "sigma_h0": 0.7, "xi_mean": 0.4}
    got = rntk_blocks(
        x,
        alpha,
        activation=activation,
        sas_readout=sas_readout,
        fast_path=False,
        return_intermediates=True,
        **sigmas,
    )
    expected, expected_mid = _frozen_rntk_blocks(x, alpha, activation, sas_readout, **sigmas)
    got_mid = got.pop("intermediates")
    assert got.keys() == expected.keys()
    for name in expected:
        assert relative_difference(got[name], expected[name]) < RECURSION_TOLERANCE, name
    for name in expected_mid:
        assert relative_difference(got_mid[name], expected_mid[name]) < RECURSION_TOLERANCE, name


def test_compiled_kernel_matches_frozen_recursion_with_silent_units():
    """σ_h0 = 0 and zero input at t = 0: zero variances, where K = K̇ = 0 (eq. 5.3)."""
    x = np.random.default_rng(7).uniform(0, 1, size=(4, 5, 2))
    x[0] = 0.0
    got = rntk_blocks(x, 0.5, sigma_h0=0.0, return_intermediates=True)["intermediates"]
    _, expected = _frozen_rntk_blocks(x, 0.5, sigma_h0=0.0)
    for name in expected:
        assert relative_difference(got[name], expected[name]) < RECURSION_TOLERANCE, name


def test_kernel_does_not_depend_on_the_number_of_threads():
    x = np.random.default_rng(8).uniform(0, 1, size=(5, 40, 3))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = rntk(x, 0.5, sas_readout=True)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = rntk(x, 0.5, sas_readout=True)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)


@pytest.mark.parametrize(
    ("activation", "n_steps", "batch", "sas_readout"),
    [("relu", 6, 37, True), ("relu", 1, 3, False), ("tanh", 3, 3, True)],
)
def test_compiled_alpha_one_fast_path_equals_the_frozen_numpy_fast_path(
    activation, n_steps, batch, sas_readout
):
    x = np.random.default_rng(batch + 1).normal(size=(n_steps, batch, 3))
    sigmas = {"sigma_in": 0.9, "sigma_rec": 1.2, "sigma_out": 0.8, "sigma_h0": 0.7, "xi_mean": 0.4}
    got = rntk_blocks(
        x, 1.0, activation=activation, sas_readout=sas_readout, return_intermediates=True, **sigmas
    )

    def gauss(cov, var_a, var_b):
        return gaussian_pair_expectations(cov, var_a, var_b, activation)

    expected, expected_mid = _frozen_rntk_no_leak(
        x,
        *(sigmas[name] for name in ("sigma_in", "sigma_rec", "sigma_out", "sigma_h0")),
        sigmas["xi_mean"],
        gauss,
        sas_readout,
    )
    got_mid = got.pop("intermediates")
    assert got.keys() == expected.keys()
    for name in expected:
        assert relative_difference(got[name], expected[name]) < RECURSION_TOLERANCE, name
    for name in expected_mid:
        assert relative_difference(got_mid[name], expected_mid[name]) < RECURSION_TOLERANCE, name


# ------------------------------------------------------------------------------------------
# Frozen reference: the B × B wavefront recursion that theory.rntk implemented before its
# compiled pair blocks (same equations, docs/model.md §5.1, eqs. 5.3–5.9), kept verbatim.
# ------------------------------------------------------------------------------------------


def _leaky_scan(values, decay):
    """Running sum y_j = values_j + decay · y_{j-1} along the first axis (O(1) per entry)."""
    out = np.array(values, copy=True)
    if decay != 0.0:
        for j in range(1, out.shape[0]):
            out[j] += decay * out[j - 1]
    return out


def _input_gram(x):
    """x(t)·x'(t') for all time and sample pairs, shape (T, T, B, B), via one BLAS product."""
    n_steps, batch, n_in = x.shape
    flat = x.reshape(n_steps * batch, n_in)
    return (flat @ flat.T).reshape(n_steps, batch, n_steps, batch).transpose(0, 2, 1, 3)


def _forward_general(x, alpha, s_in, s_rec, s_h0, xi_mean, gauss):
    """Σ, Ω, K, K̇ by the leaky forward recursion, wavefront by wavefront (docs/model.md §5.1).

    Wavefront t computes the row Σ^{t, j}, j <= t; the column follows from the exchange
    symmetry Σ^{j,t}(x, x') = Σ^{t,j}(x', x) (likewise Ω, K, K̇).
    """
    n_steps, batch, n_in = x.shape
    decay = 1.0 - alpha
    a2 = alpha * alpha
    slots = n_steps + 1
    gram = _input_gram(x) * (s_in**2 / n_in)  # (T, T, B, B): x(t)·x'(t')

    sigma = np.zeros((slots, slots, batch, batch))
    kernel = np.zeros((slots, slots, batch, batch))
    kernel_dot = np.zeros((slots, slots, batch, batch))
    omega = np.zeros((n_steps, n_steps, batch, batch))
    # Running sums A^{t,j} = Σ_{d>=0} (1-α)^d Ω^{t,j-d} (scanned along the row) and
    # B^{t,j} = Σ_{d>=0} (1-α)^d Ω^{t-d,j} (carried from the previous row).
    b_row = np.zeros((n_steps, batch, batch))

    # Boundary: Σ^{-1,t'} = (1-α)^{t'+1} σ_h0² δ_{xx'}  (slot 0 is h^{-1}).
    powers = decay ** np.arange(slots)
    sigma[0] = powers[:, None, None] * (s_h0**2) * np.eye(batch)
    sigma[:, 0] = sigma[0]
    var = np.zeros((slots, batch))  # Σ^{t,t}(x, x) per slot
    var[0] = s_h0**2

    def gaussian_row(s):
        """K^{s-1, j-1}, K̇^{s-1, j-1} for slots j = 0..s, stored with their transposes."""
        k_row, kd_row = gauss(sigma[s, : s + 1], var[s][None, :, None], var[: s + 1, None, :])
        kernel[s, : s + 1], kernel_dot[s, : s + 1] = k_row, kd_row
        kernel[: s + 1, s] = k_row.transpose(0, 2, 1)
        kernel_dot[: s + 1, s] = kd_row.transpose(0, 2, 1)
        return k_row

    for t in range(n_steps):
        k_row = gaussian_row(t)  # slot t holds h^{t-1}
        # Ω^{t, j}, j = 0..t.
        omega_row = s_rec**2 * k_row + gram[t, : t + 1]
        omega_row[t] += xi_mean * np.diag(np.diagonal(k_row[t]))
        omega[t, : t + 1] = omega_row
        omega[: t + 1, t] = omega_row.transpose(0, 2, 1)
        a_row = _leaky_scan(omega_row, decay)
        b_row[:t] = omega_row[:t] + decay * b_row[:t]
        b_row[t] = a_row[t].T  # B^{t,t} = (A^{t,t})ᵀ by exchange symmetry
        # Σ^{t, j} (slots t+1, j+1), j = 0..t.
        new = t + 1
        row = decay**2 * sigma[t, :new] + a2 * (a_row + b_row[:new] - omega_row)
        sigma[new, 1 : new + 1] = row
        sigma[1 : new + 1, new] = row.transpose(0, 2, 1)
        var[new] = np.diagonal(row[t])
    gaussian_row(n_steps)  # K^{L, j}: readout and K̇ for Γ
    return sigma, omega, kernel, kernel_dot, gram


def _backward_general(alpha, s_rec, s_out, kernel_dot):
    """Π and Γ by the leaky backward recursion (docs/model.md §5.1), unit readout error at t = L.

    Wavefront t computes the row Π^{t, j}, j >= t; the column follows from the exchange
    symmetry Π^{j,t}(x, x') = Π^{t,j}(x', x) (likewise Γ).
    """
    slots = kernel_dot.shape[0]
    n_steps = slots - 1
    last = n_steps - 1
    decay = 1.0 - alpha
    a2 = alpha * alpha
    kd = kernel_dot[1:, 1:]  # K̇^{t,t'} for t, t' = 0..L
    batch = kd.shape[-1]
    pi = np.zeros((n_steps, n_steps, batch, batch))
    gamma = np.zeros((last, last, batch, batch))
    # Running sums C^{t,j} = Σ_{d>=0} (1-α)^d Γ^{t,j+d} (scanned along the row) and
    # D^{t,j} = Σ_{d>=0} (1-α)^d Γ^{t+d,j} (carried from the next row).
    d_row = np.zeros((last, batch, batch))

    pi[last, last] = s_out**2 * kd[last, last]
    powers = decay ** np.arange(n_steps)[::-1]  # (1-α)^{L-t'}, t' = 0..L
    pi[last, :] = powers[:, None, None] * pi[last, last]
    pi[:, last] = pi[last, :].transpose(0, 2, 1)
    for t in range(last - 1, -1, -1):
        # Γ^{t, j}, j = t..L-1.
        gamma_row = s_rec**2 * kd[t, t:last] * pi[t + 1, t + 1 :]
        gamma[t, t:] = gamma_row
        gamma[t:, t] = gamma_row.transpose(0, 2, 1)
        c_row = _leaky_scan(gamma_row[::-1], decay)[::-1]
        d_row[t + 1 :] = gamma_row[1:] + decay * d_row[t + 1 :]
        d_row[t] = c_row[0].T  # D^{t,t} = (C^{t,t})ᵀ by exchange symmetry
        row = decay**2 * pi[t + 1, t + 1 :] + a2 * (c_row + d_row[t:] - gamma_row)
        pi[t, t:last] = row
        pi[t:last, t] = row.transpose(0, 2, 1)
    return pi, gamma


def _frozen_rntk_blocks(x, alpha, activation="relu", sas_readout=False, **sigmas):
    """Blocks and intermediates of the frozen wavefront recursion (general path)."""
    s_in, s_rec, s_out, s_h0 = (
        sigmas.get(name, 1.0) for name in ("sigma_in", "sigma_rec", "sigma_out", "sigma_h0")
    )
    xi_mean = sigmas.get("xi_mean", 0.5)

    def gauss(cov, var_a, var_b):
        return gaussian_pair_expectations(cov, var_a, var_b, activation)

    sigma, omega, kernel, kernel_dot, gram = _forward_general(
        x, alpha, s_in, s_rec, s_h0, xi_mean, gauss
    )
    pi, gamma = _backward_general(alpha, s_rec, s_out, kernel_dot)
    n_steps = pi.shape[0]
    a2 = alpha * alpha
    m_rec = a2 * s_rec**2 * np.einsum("tsab,tsab->ab", pi, kernel[:n_steps, :n_steps])
    m_in = a2 * np.einsum("tsab,tsab->ab", pi, gram)
    readout = s_out**2 * kernel[n_steps, n_steps]
    blocks = {"inp.m": m_in, "rec.m": m_rec, "rec.pi": m_rec, "rec.xi": 0 * m_rec, "out.m": readout}
    if sas_readout:
        blocks.update({"out.pi": readout, "out.xi": 0 * readout})
    intermediates = dict(sigma=sigma, omega=omega, K=kernel, Kdot=kernel_dot, pi=pi, gamma=gamma)
    return blocks, intermediates


def _frozen_rntk_no_leak(x, s_in, s_rec, s_out, s_h0, xi_mean, gauss, sas_readout):
    """Diagonal-in-time RNTK at α = 1 (docs/model.md §5.1 "α = 1 special case"): O(T B²) work.

    Σ^{t,t} = Ω^{t,t};  Π^{t,t} = σ_rec² K̇^{t,t} Π^{t+1,t+1};
    Θ = Σ_t Π^{t,t} [2 σ_rec² K^{t-1,t-1} + (σ_in²/N_in) x(t)·x'(t)] + σ_out² K^{L,L}.
    """
    n_steps, batch, n_in = x.shape
    eye = np.eye(batch)
    gram = np.einsum("tbi,tci->tbc", x, x) * (s_in**2 / n_in)
    sigma = np.zeros((n_steps + 1, batch, batch))
    kernel = np.zeros_like(sigma)
    kernel_dot = np.zeros_like(sigma)
    sigma[0] = s_h0**2 * eye
    for s in range(n_steps + 1):
        var = np.diagonal(sigma[s])
        kernel[s], kernel_dot[s] = gauss(sigma[s], var[:, None], var[None, :])
        if s < n_steps:
            omega = s_rec**2 * kernel[s] + gram[s] + xi_mean * np.diag(np.diagonal(kernel[s]))
            sigma[s + 1] = omega
    pi = np.zeros((n_steps, batch, batch))
    pi[-1] = s_out**2 * kernel_dot[n_steps]
    for t in range(n_steps - 2, -1, -1):
        pi[t] = s_rec**2 * kernel_dot[t + 1] * pi[t + 1]
    m_rec = s_rec**2 * np.einsum("tab,tab->ab", pi, kernel[:n_steps])
    m_in = np.einsum("tab,tab->ab", pi, gram)
    readout = s_out**2 * kernel[n_steps]
    blocks = {"inp.m": m_in, "rec.m": m_rec, "rec.pi": m_rec, "rec.xi": 0 * m_rec, "out.m": readout}
    if sas_readout:
        blocks.update({"out.pi": readout, "out.xi": 0 * readout})
    return blocks, dict(sigma=sigma, K=kernel, Kdot=kernel_dot, pi=pi)
