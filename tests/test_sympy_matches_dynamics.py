"""dynamics' hand-written SaS moments equal the sympy derivations of theory (docs/model.md §1.2).

Lives in tests/ so that theory and dynamics stay independent of each other.
"""

import numpy as np

from dynamics import sas_moment_derivatives, sas_moments
from theory.derivations import sas_moment_derivatives_fn, sas_moments_fn

#: Same algebra, different operation order: float64 round-off on O(1) values.
ROUNDOFF = 1e-12


def random_parameters(seed, shape=(7, 5)):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=shape)
    pi = rng.uniform(0.0, 1.0, size=shape)
    pi[0, :2] = (0.0, 1.0)  # the boundary of the constraint set
    xi = rng.uniform(0.0, 2.0, size=shape)
    return m, pi, xi


def test_dynamics_moments_equal_sympy_moments():
    for seed in range(3):
        m, pi, xi = random_parameters(seed)
        for got, expected in zip(sas_moments(m, pi, xi), sas_moments_fn()(m, pi, xi), strict=True):
            np.testing.assert_allclose(got, expected, rtol=ROUNDOFF, atol=ROUNDOFF)


def test_dynamics_moment_derivatives_equal_sympy_derivatives():
    for seed in range(3):
        m, pi, xi = random_parameters(seed)
        got = sas_moment_derivatives(m, pi, xi)
        expected = sas_moment_derivatives_fn()(m, pi, xi)
        assert set(got) == set(expected)
        for key in expected:
            np.testing.assert_allclose(
                got[key], expected[key], rtol=ROUNDOFF, atol=ROUNDOFF, err_msg=key
            )
