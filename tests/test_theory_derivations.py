"""The sympy derivations (theory.derivations) are correct and agree with the numeric code."""

import numpy as np
import pytest
import sympy as sp

from theory import derivations
from theory.rntk import relu_arccos_kernels

#: Lambdified sympy expressions vs hand-written numpy: identical arithmetic up to round-off.
ROUNDOFF = 1e-12
#: Central finite differences with step 1e-6 on O(1) quantities: truncation error ~1e-10.
FINITE_DIFFERENCE_TOLERANCE = 1e-7


def test_sas_moments_integrate_the_spike_and_slab_density_to_the_spec_formulas():
    d = derivations.sas_moment_derivation()
    m, pi, xi = derivations.m, derivations.pi, derivations.xi
    assert sp.simplify(d["mu"] - (1 - pi) * m) == 0
    assert sp.simplify(d["rho"] - (1 - pi) * (m**2 + xi)) == 0
    assert sp.simplify(d["var"] - ((1 - pi) * xi + pi * (1 - pi) * m**2)) == 0


def test_sas_moment_derivatives_are_those_of_spec_section_1_2():
    d = derivations.sas_moment_derivation()
    m, pi, xi = derivations.m, derivations.pi, derivations.xi
    expected = {
        "dmu_dm": 1 - pi,
        "dmu_dpi": -m,
        "dmu_dxi": 0,
        "dvar_dm": 2 * pi * (1 - pi) * m,
        "dvar_dpi": -((2 * pi - 1) * m**2 + xi),
        "dvar_dxi": 1 - pi,
    }
    for key, value in expected.items():
        assert sp.simplify(d[key] - value) == 0, key


def test_preactivation_gradient_splits_into_mean_and_fluctuation_paths():
    factors = derivations.preactivation_gradient_factors()
    for name in ("m", "pi", "xi"):
        assert factors[name]["check"] == 0, name


def test_preactivation_gradient_factors_match_finite_differences():
    rng = np.random.default_rng(0)
    m, pi, xi = rng.normal(), rng.uniform(0.1, 0.9), rng.uniform(0.1, 1.0)
    y, eps, rest_mean, rest_var = rng.normal(), rng.normal(), rng.normal(), 0.7
    moments = derivations.sas_moments_fn()

    def u(m_, pi_, xi_):
        mu, _, var = moments(m_, pi_, xi_)
        return rest_mean + mu * y + eps * np.sqrt(var * y**2 + rest_var)

    delta = np.sqrt(moments(m, pi, xi)[2] * y**2 + rest_var)
    factors = derivations.preactivation_gradient_factors_fn()(m, pi, xi, y, eps, delta)
    step = 1e-6
    for index, name in enumerate(("m", "pi", "xi")):
        plus, minus = [m, pi, xi], [m, pi, xi]
        plus[index] += step
        minus[index] -= step
        numeric = (u(*plus) - u(*minus)) / (2 * step)
        mean_path, fluctuation_path = factors[name]
        assert abs(mean_path + fluctuation_path - numeric) < FINITE_DIFFERENCE_TOLERANCE, name


def test_arccos_kernels_follow_from_prices_theorem():
    d = derivations.arccos_kernel_derivation()
    assert d["K0_check"] == 0
    assert d["K1_check"] == 0
    assert d["price_check"] == 0
    q_a = d["symbols"][1]
    assert sp.simplify(d["diagonal"] - q_a / 2) == 0  # E[relu(a)²] = q/2


def test_lambdified_arccos_kernels_equal_the_numeric_rntk_integrals():
    rng = np.random.default_rng(1)
    var_a, var_b = rng.uniform(0.1, 3, 50), rng.uniform(0.1, 3, 50)
    cov = rng.uniform(-1, 1, 50) * np.sqrt(var_a * var_b)
    symbolic = derivations.arccos_kernels_fn()(cov, var_a, var_b)
    numeric = relu_arccos_kernels(cov, var_a, var_b)
    for got, expected in zip(symbolic, numeric, strict=True):
        np.testing.assert_allclose(got, expected, rtol=ROUNDOFF, atol=ROUNDOFF)


def test_leaky_integration_unrolls_to_the_closed_form_sum():
    d = derivations.leaky_sum_derivation(derivations.MAX_UNROLL_STEPS)
    assert all(check == 0 for check in d["checks"])


@pytest.mark.parametrize("n_steps", range(1, derivations.MAX_UNROLL_STEPS + 1))
def test_unrolled_kernels_satisfy_the_spec_recursions(n_steps):
    forward = derivations.forward_kernel_unrolled(n_steps)
    backward = derivations.backward_kernel_unrolled(n_steps)
    assert forward["recursion_checks"].is_zero_matrix
    assert backward["recursion_checks"].is_zero_matrix


def test_unrolling_beyond_the_symbolic_limit_is_refused():
    with pytest.raises(ValueError, match="n_steps"):
        derivations.forward_kernel_unrolled(derivations.MAX_UNROLL_STEPS + 1)


def test_lazy_solution_solves_the_gradient_flow_ode():
    d = derivations.lazy_solution_derivation()
    assert d["ode_check"].is_zero_matrix
    assert d["initial_check"].is_zero_matrix


def test_module_prints_every_derivation_as_latex(capsys):
    derivations.main()
    out = capsys.readouterr().out
    for heading in (
        "SaS moments",
        "Gradient factors",
        "Price",
        "Leaky sum",
        r"\Sigma",
        r"\Pi",
        "Lazy-regime",
    ):
        assert heading in out, heading
    assert "frac" in out
