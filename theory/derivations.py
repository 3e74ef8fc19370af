"""Symbolic derivations behind the SaS learning rule and the RNTK (sympy).

Each ``*_derivation`` function returns sympy objects (cached with ``functools.cache``, i.e.
``lru_cache(maxsize=None)``) and
each ``*_fn`` function returns a lambdified numpy callable built from them.  Running
``python -m theory.derivations`` prints every derivation as LaTeX.

Contents (docs/model.md sections in brackets):

* SaS moments μ, ρ, v and their derivatives with respect to (m, π, Ξ) [§1.2];
* gradient factors of the mean-field pre-activation u = G + εΔ per parameter [§1.3, §2.2]:
  ∂u/∂θ_ij = ∂μ_ij/∂θ · y_j  (mean path)  +  ε/(2Δ) · ∂v_ij/∂θ · y_j²  (fluctuation path);
* ReLU Gaussian integrals (arc-cosine kernels of degree 0 and 1), derived from Price's theorem
  ∂E[f(a)g(b)]/∂cov = E[f'(a)g'(b)] [§5.1];
* closed form of the leaky sum h^t = (1-α)^{t+1} h^{-1} + α Σ_s (1-α)^{t-s} u^s [§5.1];
* the Σ and Π recursions, obtained by unrolling the leaky dynamics for small T [§5.1];
* the lazy-regime solution of df/dt = -ηΘ(f - y) by the matrix exponential [§5.1].
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

__all__ = [
    "MAX_UNROLL_STEPS",
    "arccos_kernel_derivation",
    "arccos_kernels_fn",
    "backward_kernel_unrolled",
    "forward_kernel_unrolled",
    "forward_kernel_unrolled_fn",
    "backward_kernel_unrolled_fn",
    "lazy_solution_derivation",
    "lazy_solution_fn",
    "leaky_sum_derivation",
    "preactivation_gradient_factors",
    "preactivation_gradient_factors_fn",
    "sas_moment_derivation",
    "sas_moment_derivatives_fn",
    "sas_moments_fn",
]

#: Largest sequence length for which the kernel recursions are unrolled symbolically.
MAX_UNROLL_STEPS = 4

PARAMETERS = ("m", "pi", "xi")

m, pi, xi = sp.symbols("m pi xi", real=True)
alpha = sp.Symbol("alpha", positive=True)


# ------------------------------------------------------------------------------------------
# §1.2 SaS moments
# ------------------------------------------------------------------------------------------


@cache
def sas_moment_derivation():
    """SaS moments and their first derivatives (docs/model.md §1.2).

    From P(w) = π δ(w) + (1-π) N(w; m, Ξ)::

        μ = E[w] = (1-π) m,   ρ = E[w²] = (1-π)(m² + Ξ),   v = ρ - μ² = (1-π)Ξ + π(1-π)m²

    The moments are obtained by integrating w and w² against the mixture density.

    Returns:
        dict with "mu", "rho", "var" (sympy expressions in m, pi, xi) and "dmu_dm", "dmu_dpi",
        "dmu_dxi", "dvar_dm", "dvar_dpi", "dvar_dxi".
    """
    w = sp.Symbol("w", real=True)
    slab = sp.exp(-((w - m) ** 2) / (2 * xi)) / sp.sqrt(2 * sp.pi * xi)
    xi_pos = sp.Symbol("xi", positive=True)
    slab_pos = slab.subs(xi, xi_pos)
    # The spike at zero contributes nothing to E[w] or E[w²].
    first = sp.simplify((1 - pi) * sp.integrate(w * slab_pos, (w, -sp.oo, sp.oo)))
    second = sp.simplify((1 - pi) * sp.integrate(w**2 * slab_pos, (w, -sp.oo, sp.oo)))
    mu_expr = sp.factor(first.subs(xi_pos, xi))
    rho_expr = sp.factor(second.subs(xi_pos, xi))
    var_expr = sp.expand(rho_expr - mu_expr**2)
    result = {"mu": mu_expr, "rho": rho_expr, "var": var_expr}
    for moment, expr in (("mu", mu_expr), ("var", var_expr)):
        for name, symbol in zip(PARAMETERS, (m, pi, xi), strict=True):
            result[f"d{moment}_d{name}"] = sp.factor(sp.diff(expr, symbol))
    return result


@cache
def sas_moments_fn():
    """Numpy callable (m, pi, xi) -> (mu, rho, var), lambdified from the derivation."""
    d = sas_moment_derivation()
    return sp.lambdify((m, pi, xi), (d["mu"], d["rho"], d["var"]), "numpy")


@cache
def sas_moment_derivatives_fn():
    """Numpy callable (m, pi, xi) -> dict of the six moment derivatives (keys as in §1.2)."""
    d = sas_moment_derivation()
    keys = tuple(f"d{mo}_d{p}" for mo in ("mu", "var") for p in PARAMETERS)
    raw = sp.lambdify((m, pi, xi), [d[k] for k in keys], "numpy")

    def derivatives(m_value, pi_value, xi_value):
        shape = np.broadcast(m_value, pi_value, xi_value).shape
        values = raw(m_value, pi_value, xi_value)
        return {
            k: np.broadcast_to(np.asarray(v, float), shape).copy()
            for k, v in zip(keys, values, strict=True)
        }

    return derivatives


# ------------------------------------------------------------------------------------------
# §1.3 / §2.2 gradient factors of u = G + εΔ
# ------------------------------------------------------------------------------------------


@cache
def preactivation_gradient_factors():
    """∂u_i/∂θ_ij for the mean-field pre-activation u = G + εΔ (docs/model.md §1.3, §2.2).

    With G = μ_ij y_j + (rest of the mean) and Δ = √(v_ij y_j² + R), R >= 0 the variance of the
    other inputs, differentiation gives for θ ∈ {m, π, Ξ}::

        ∂u/∂θ = ∂μ/∂θ · y   (mean path)   +   ε/(2Δ) · ∂v/∂θ · y²   (fluctuation path)

    Returns:
        dict θ -> {"total": ∂u/∂θ, "mean_path": ∂μ/∂θ·y, "fluctuation_path": ε/(2Δ)∂v/∂θ·y²,
        "check": total - (mean_path + fluctuation_path) simplified (= 0)}, plus "symbols":
        (m, pi, xi, y, eps, R, G_rest).
    """
    moments = sas_moment_derivation()
    y, eps = sp.symbols("y epsilon", real=True)
    rest_var = sp.Symbol("R", nonnegative=True)
    rest_mean = sp.Symbol("G_rest", real=True)
    delta = sp.sqrt(moments["var"] * y**2 + rest_var)
    u = rest_mean + moments["mu"] * y + eps * delta
    result = {"symbols": (m, pi, xi, y, eps, rest_var, rest_mean)}
    for name, symbol in zip(PARAMETERS, (m, pi, xi), strict=True):
        total = sp.diff(u, symbol)
        mean_path = moments[f"dmu_d{name}"] * y
        fluctuation_path = eps / (2 * delta) * moments[f"dvar_d{name}"] * y**2
        result[name] = {
            "total": total,
            "mean_path": mean_path,
            "fluctuation_path": fluctuation_path,
            "check": sp.simplify(total - mean_path - fluctuation_path),
        }
    return result


@cache
def preactivation_gradient_factors_fn():
    """Numpy callable (m, pi, xi, y, eps, delta) -> dict θ -> (mean_path, fluctuation_path).

    ``delta`` is the total standard deviation Δ of the unit's input current.
    """
    factors = preactivation_gradient_factors()
    moments = sas_moment_derivation()
    y, eps = factors["symbols"][3], factors["symbols"][4]
    delta = sp.Symbol("Delta", positive=True)
    exprs = []
    for name in PARAMETERS:
        exprs.append(moments[f"dmu_d{name}"] * y)
        exprs.append(eps / (2 * delta) * moments[f"dvar_d{name}"] * y**2)
    raw = sp.lambdify((m, pi, xi, y, eps, delta), exprs, "numpy")

    def gradient_factors(m_value, pi_value, xi_value, y_value, eps_value, delta_value):
        shape = np.broadcast(m_value, pi_value, xi_value, y_value, eps_value, delta_value).shape
        values = [
            np.broadcast_to(np.asarray(v, float), shape)
            for v in raw(m_value, pi_value, xi_value, y_value, eps_value, delta_value)
        ]
        return {name: (values[2 * k], values[2 * k + 1]) for k, name in enumerate(PARAMETERS)}

    return gradient_factors


# ------------------------------------------------------------------------------------------
# §5.1 ReLU Gaussian integrals
# ------------------------------------------------------------------------------------------


@cache
def arccos_kernel_derivation():
    """Arc-cosine kernels of degree 0 and 1 from Price's theorem (docs/model.md §5.1).

    For (a, b) centred Gaussian with variances q_a, q_b and covariance c·√(q_a q_b),
    Price's theorem ∂E[f(a)g(b)]/∂cov = E[f'(a)g'(b)] and relu'' = δ give::

        ∂K̇/∂cov = p(0, 0) = 1 / (2π √(q_a q_b - cov²)),      K̇(cov = 0) = E[1(a>0)]² = 1/4
        ∂K/∂cov = K̇,                                           K(cov = 0) = E[relu(a)]E[relu(b)]
                                                                          = √(q_a q_b)/(2π)

    Integrating in cov and writing c = cov/√(q_a q_b)::

        K̇ = (π - arccos c)/(2π),     K = √(q_a q_b)/(2π) [c (π - arccos c) + √(1 - c²)]

    Returns:
        dict with "K0", "K1" (the integrated closed forms, in c, q_a, q_b), "K0_spec", "K1_spec"
        (docs/model.md form), "K0_check", "K1_check" (differences, simplified to 0), "price_check"
        (∂K1/∂cov - K0, = 0), "diagonal" (K1 at c = 1: q/2), "symbols" (c, q_a, q_b).
    """
    c = sp.Symbol("c", real=True)
    q_a, q_b = sp.symbols("q_a q_b", positive=True)
    s = sp.Symbol("s", real=True)  # integration variable: correlation
    # dK̇/dc = √(q_a q_b) · p(0,0) = 1/(2π√(1 - c²)); K̇(0) = 1/4.
    k0 = sp.Rational(1, 4) + sp.integrate(1 / (2 * sp.pi * sp.sqrt(1 - s**2)), (s, 0, c))
    # dK/dc = √(q_a q_b) K̇(c); K(0) = √(q_a q_b)/(2π).
    norm = sp.sqrt(q_a * q_b)
    k1 = norm / (2 * sp.pi) + norm * sp.integrate(k0.subs(c, s), (s, 0, c))
    k0_spec = (sp.pi - sp.acos(c)) / (2 * sp.pi)
    k1_spec = norm / (2 * sp.pi) * (c * (sp.pi - sp.acos(c)) + sp.sqrt(1 - c**2))
    check_points = [sp.Rational(k, 7) for k in range(-6, 7)]

    def vanishes(expr):
        simplified = sp.simplify(expr.rewrite(sp.acos))
        if simplified == 0:
            return sp.Integer(0)
        # Fall back to exact evaluation on rational points of (-1, 1) if simplify stalls.
        worst = max(abs(sp.N(simplified.subs({c: p, q_a: 2, q_b: 3}), 30)) for p in check_points)
        return sp.Integer(0) if worst < 1e-25 else simplified

    price = sp.diff(k1_spec, c) / norm - k0_spec  # d/dcov = (1/norm) d/dc
    return {
        "K0": k0,
        "K1": k1,
        "K0_spec": k0_spec,
        "K1_spec": k1_spec,
        "K0_check": vanishes(k0 - k0_spec),
        "K1_check": vanishes(k1 - k1_spec),
        "price_check": vanishes(price),
        "diagonal": sp.simplify(k1_spec.subs({c: 1, q_b: q_a})),
        "symbols": (c, q_a, q_b),
    }


@cache
def arccos_kernels_fn():
    """Numpy callable (cov, var_a, var_b) -> (K, K̇) lambdified from the derived closed forms."""
    d = arccos_kernel_derivation()
    c, q_a, q_b = d["symbols"]
    raw = sp.lambdify((c, q_a, q_b), (d["K1_spec"], d["K0_spec"]), "numpy")

    def kernels(cov, var_a, var_b):
        cov, var_a, var_b = np.broadcast_arrays(
            *(np.asarray(v, float) for v in (cov, var_a, var_b))
        )
        corr = np.clip(cov / np.sqrt(var_a * var_b), -1.0, 1.0)
        k1, k0 = raw(corr, var_a, var_b)
        return np.asarray(k1, float), np.broadcast_to(np.asarray(k0, float), corr.shape)

    return kernels


# ------------------------------------------------------------------------------------------
# §5.1 leaky sum and the unrolled kernel recursions
# ------------------------------------------------------------------------------------------


def _check_steps(n_steps):
    if not (isinstance(n_steps, int) and 1 <= n_steps <= MAX_UNROLL_STEPS):
        raise ValueError(
            f"n_steps must be an int in [1, {MAX_UNROLL_STEPS}] for symbolic unrolling, "
            f"got {n_steps!r}"
        )


@cache
def leaky_sum_derivation(n_steps=MAX_UNROLL_STEPS):
    """Closed form of the leaky integration h^t = (1-α) h^{t-1} + α u^t (docs/model.md §5.1).

    Unrolling from h^{-1} gives h^t = (1-α)^{t+1} h^{-1} + α Σ_{s=0}^{t} (1-α)^{t-s} u^s, checked
    here for t = 0..n_steps-1 by expanding the recursion.

    Returns:
        dict with "unrolled" (list of h^t from the recursion), "closed_form" (list),
        "checks" (list of differences, each 0), "symbols" (h_init, u_0..u_{T-1}).
    """
    _check_steps(n_steps)
    h_init = sp.Symbol("h_{-1}", real=True)
    u = sp.symbols(f"u_0:{n_steps}", real=True)
    unrolled, closed, checks = [], [], []
    h = h_init
    for t in range(n_steps):
        h = sp.expand((1 - alpha) * h + alpha * u[t])
        form = (1 - alpha) ** (t + 1) * h_init + alpha * sum(
            (1 - alpha) ** (t - s) * u[s] for s in range(t + 1)
        )
        unrolled.append(h)
        closed.append(form)
        checks.append(sp.expand(h - form))
    return {"unrolled": unrolled, "closed_form": closed, "checks": checks, "symbols": (h_init, u)}


def _matrix_symbols(name, n):
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{name}^{{{i},{j}}}", real=True))


@cache
def forward_kernel_unrolled(n_steps=MAX_UNROLL_STEPS):
    """Σ^{t,t'} from the leaky closed form, and the recursion it satisfies (docs/model.md §5.1).

    By bilinearity of E[h^t(x) h^{t'}(x')] and independence of h^{-1} from every u::

        Σ^{t,t'} = (1-α)^{t+t'+2} σ_h0² δ + α² Σ_{s<=t} Σ_{s'<=t'} (1-α)^{t-s+t'-s'} Ω^{s,s'}

    and this satisfies Σ^{t,t'} = (1-α)² Σ^{t-1,t'-1} + α² Ω^{t,t'}
    + α² Σ_{d=1}^{t'} (1-α)^d Ω^{t,t'-d} + α² Σ_{d=1}^{t} (1-α)^d Ω^{t-d,t'}.

    Returns:
        dict with "sigma" (sympy Matrix (T+1)×(T+1), index s = t+1, slot 0 = h^{-1}),
        "recursion_checks" (Matrix of residuals, all 0), "symbols" (Omega Matrix, h0 variance
        symbol ``q0`` = σ_h0² δ_{xx'}).
    """
    _check_steps(n_steps)
    omega = _matrix_symbols("Omega", n_steps)
    q0 = sp.Symbol("q_0", real=True)  # σ_h0² δ_{xx'}
    decay = 1 - alpha
    size = n_steps + 1

    def closed(t, tp):  # t, tp in -1..T-1
        value = decay ** (t + tp + 2) * q0
        for s in range(t + 1):
            for sp_ in range(tp + 1):
                value += alpha**2 * decay ** (t - s + tp - sp_) * omega[s, sp_]
        return sp.expand(value)

    sigma = sp.Matrix(size, size, lambda i, j: closed(i - 1, j - 1))
    checks = sp.zeros(n_steps, n_steps)
    for t in range(n_steps):
        for tp in range(n_steps):
            recursion = decay**2 * sigma[t, tp] + alpha**2 * omega[t, tp]
            recursion += sum(alpha**2 * decay**d * omega[t, tp - d] for d in range(1, tp + 1))
            recursion += sum(alpha**2 * decay**d * omega[t - d, tp] for d in range(1, t + 1))
            checks[t, tp] = sp.expand(sigma[t + 1, tp + 1] - recursion)
    return {"sigma": sigma, "recursion_checks": checks, "symbols": (omega, q0)}


@cache
def backward_kernel_unrolled(n_steps=MAX_UNROLL_STEPS):
    """Π^{t,t'} from the unrolled adjoint, and the recursion it satisfies (docs/model.md §5.1).

    The adjoint δ^{t} = (1-α) δ^{t+1} + α v^t unrolls to
    δ^t = (1-α)^{L-t} δ^L + α Σ_{s=t}^{L-1} (1-α)^{s-t} v^s, so (cross terms vanish under
    gradient independence)::

        Π^{t,t'} = (1-α)^{2L-t-t'} Π^{L,L} + α² Σ_{s>=t} Σ_{s'>=t'} (1-α)^{s-t+s'-t'} Γ^{s,s'}

    which satisfies Π^{t,t'} = (1-α)² Π^{t+1,t'+1} + α² Γ^{t,t'}
    + α² Σ_{d>=1} (1-α)^d [Γ^{t,t'+d} + Γ^{t+d,t'}] for t, t' < L.

    Returns:
        dict with "pi" (T×T Matrix), "recursion_checks" (Matrix, all 0), "symbols"
        (Gamma Matrix (T-1)×(T-1), Π^{L,L} symbol).
    """
    _check_steps(n_steps)
    last = n_steps - 1
    gamma = _matrix_symbols("Gamma", max(last, 1))
    pi_last = sp.Symbol("Pi^{L,L}", real=True)
    decay = 1 - alpha

    def closed(t, tp):
        value = decay ** (2 * last - t - tp) * pi_last
        for s in range(t, last):
            for sp_ in range(tp, last):
                value += alpha**2 * decay ** (s - t + sp_ - tp) * gamma[s, sp_]
        return sp.expand(value)

    pi_matrix = sp.Matrix(n_steps, n_steps, lambda i, j: closed(i, j))
    checks = sp.zeros(n_steps, n_steps)
    for t in range(last):
        for tp in range(last):
            recursion = decay**2 * pi_matrix[t + 1, tp + 1] + alpha**2 * gamma[t, tp]
            recursion += sum(alpha**2 * decay**d * gamma[t, tp + d] for d in range(1, last - tp))
            recursion += sum(alpha**2 * decay**d * gamma[t + d, tp] for d in range(1, last - t))
            checks[t, tp] = sp.expand(pi_matrix[t, tp] - recursion)
    return {"pi": pi_matrix, "recursion_checks": checks, "symbols": (gamma, pi_last)}


@cache
def forward_kernel_unrolled_fn(n_steps):
    """Numpy callable (alpha, omega (T,T,...), q0 (...)) -> Σ (T+1, T+1, ...), closed form."""
    d = forward_kernel_unrolled(n_steps)
    omega, q0 = d["symbols"]
    raw = sp.lambdify((alpha, list(omega), q0), list(d["sigma"]), "numpy")
    size = n_steps + 1

    def sigma(alpha_value, omega_values, q0_values):
        flat = [omega_values[i, j] for i in range(n_steps) for j in range(n_steps)]
        out = raw(alpha_value, flat, q0_values)
        shape = np.broadcast(omega_values[0, 0], q0_values).shape
        return np.stack([np.broadcast_to(np.asarray(v, float), shape) for v in out]).reshape(
            (size, size) + shape
        )

    return sigma


@cache
def backward_kernel_unrolled_fn(n_steps):
    """Numpy callable (alpha, gamma (T-1,T-1,...), pi_last (...)) -> Π (T, T, ...)."""
    d = backward_kernel_unrolled(n_steps)
    gamma, pi_last = d["symbols"]
    raw = sp.lambdify((alpha, list(gamma), pi_last), list(d["pi"]), "numpy")
    size = max(n_steps - 1, 1)

    def pi_kernel(alpha_value, gamma_values, pi_last_values):
        if n_steps == 1:
            gamma_values = np.zeros((1, 1) + np.shape(pi_last_values))
        flat = [gamma_values[i, j] for i in range(size) for j in range(size)]
        out = raw(alpha_value, flat, pi_last_values)
        shape = np.shape(pi_last_values)
        return np.stack([np.broadcast_to(np.asarray(v, float), shape) for v in out]).reshape(
            (n_steps, n_steps) + shape
        )

    return pi_kernel


# ------------------------------------------------------------------------------------------
# §5.1 lazy-regime learning dynamics
# ------------------------------------------------------------------------------------------


@cache
def lazy_solution_derivation():
    """Solution of the lazy-regime gradient flow df/dt = -η Θ (f - y) (docs/model.md §5.1).

    For L = ½ Σ_μ (f_μ - y_μ)² and a constant kernel Θ, the residual r = f - y obeys
    dr/dt = -ηΘ r, so f_t = y + exp(-ηΘt)(f_0 - y).  Solved with sympy's matrix exponential for
    the symbolic symmetric 2×2 kernel Θ = [[a + d, b], [b, a - d]] (a, b, d > 0: the general
    symmetric 2×2 with Θ₀₀ > Θ₁₁ and Θ₀₁ > 0), and checked against the ODE and f(0) = f_0.

    Returns:
        dict with "f_t" (Matrix), "ode_check" (Matrix, all 0), "initial_check" (Matrix, all 0),
        "symbols" ((a, b, d), Theta Matrix, eta, t, f0 Matrix, y Matrix).
    """
    a, b, d = sp.symbols("a b d", positive=True)
    eta, time = sp.symbols("eta t", positive=True)
    theta = sp.Matrix([[a + d, b], [b, a - d]])
    f0 = sp.Matrix(sp.symbols("f0_0:2", real=True))
    y = sp.Matrix(sp.symbols("y_0:2", real=True))
    propagator = sp.simplify((-eta * time * theta).exp())
    f_t = y + propagator * (f0 - y)
    ode = sp.simplify(f_t.diff(time) + eta * theta * (f_t - y))
    initial = sp.simplify(f_t.subs(time, 0) - f0)
    return {
        "f_t": f_t,
        "ode_check": ode,
        "initial_check": initial,
        "symbols": ((a, b, d), theta, eta, time, f0, y),
    }


@cache
def lazy_solution_fn():
    """Numpy callable (theta (2, 2), eta, t, f0 (2,), y (2,)) -> f_t (2,) from the sympy solution.

    Valid for symmetric Θ with Θ₀₀ > Θ₁₁ and Θ₀₁ > 0 (the assumptions of the derivation).
    """
    d = lazy_solution_derivation()
    (a, b, dd), _, eta, time, f0, y = d["symbols"]
    raw = sp.lambdify((a, b, dd, eta, time, list(f0), list(y)), list(d["f_t"]), "numpy")

    def solution(theta_value, eta_value, t_value, f0_value, y_value):
        theta_value = np.asarray(theta_value, float)
        if not (theta_value[0, 0] > theta_value[1, 1] and theta_value[0, 1] > 0):
            raise ValueError("theta must have theta[0,0] > theta[1,1] and theta[0,1] > 0")
        a_value = 0.5 * (theta_value[0, 0] + theta_value[1, 1])
        d_value = 0.5 * (theta_value[0, 0] - theta_value[1, 1])
        values = raw(
            a_value,
            theta_value[0, 1],
            d_value,
            eta_value,
            t_value,
            list(np.asarray(f0_value, float)),
            list(np.asarray(y_value, float)),
        )
        return np.array(values, dtype=float)

    return solution


# ------------------------------------------------------------------------------------------
# LaTeX report
# ------------------------------------------------------------------------------------------


def _latex_lines():
    lines = []
    moments = sas_moment_derivation()
    lines.append(r"\section*{SaS moments (docs/model.md §1.2)}")
    for key in ("mu", "rho", "var"):
        lines.append(rf"{key} = {sp.latex(moments[key])}")
    for key in sorted(k for k in moments if k.startswith("d")):
        moment, parameter = key[1:].split("_d")
        lines.append(rf"\partial {moment}/\partial {parameter} = {sp.latex(moments[key])}")
    lines.append(
        r"\section*{Gradient factors of u = G + \epsilon\Delta (docs/model.md §1.3, §2.2)}"
    )
    factors = preactivation_gradient_factors()
    for name in PARAMETERS:
        f = factors[name]
        lines.append(
            rf"\partial u/\partial {name} = {sp.latex(f['mean_path'])} + "
            rf"{sp.latex(f['fluctuation_path'])} \quad (\text{{residual}} = {sp.latex(f['check'])})"
        )
    lines.append(r"\section*{ReLU Gaussian integrals via Price's theorem (docs/model.md §5.1)}")
    arc = arccos_kernel_derivation()
    lines.append(rf"\dot K = {sp.latex(arc['K0'])} = {sp.latex(arc['K0_spec'])}")
    lines.append(rf"K = {sp.latex(arc['K1'])} = {sp.latex(arc['K1_spec'])}")
    lines.append(
        rf"\text{{checks}}: {sp.latex(arc['K0_check'])}, {sp.latex(arc['K1_check'])}, "
        rf"\partial K/\partial\mathrm{{cov}} - \dot K = {sp.latex(arc['price_check'])}, "
        rf"K(x,x) = {sp.latex(arc['diagonal'])}"
    )
    lines.append(r"\section*{Leaky sum (docs/model.md §5.1)}")
    leaky = leaky_sum_derivation()
    for t, (form, check) in enumerate(zip(leaky["closed_form"], leaky["checks"], strict=True)):
        lines.append(rf"h^{{{t}}} = {sp.latex(form)} \quad (\text{{residual}} = {sp.latex(check)})")
    lines.append(r"\section*{Forward kernel $\Sigma$, T = 3 (docs/model.md §5.1)}")
    forward = forward_kernel_unrolled(3)
    for i in range(4):
        for j in range(4):
            lines.append(rf"\Sigma^{{{i - 1},{j - 1}}} = {sp.latex(forward['sigma'][i, j])}")
    lines.append(rf"\text{{recursion residuals}}: {sp.latex(forward['recursion_checks'])}")
    lines.append(r"\section*{Backward kernel $\Pi$, T = 3 (docs/model.md §5.1)}")
    backward = backward_kernel_unrolled(3)
    for i in range(3):
        for j in range(3):
            lines.append(rf"\Pi^{{{i},{j}}} = {sp.latex(backward['pi'][i, j])}")
    lines.append(rf"\text{{recursion residuals}}: {sp.latex(backward['recursion_checks'])}")
    lines.append(r"\section*{Lazy-regime solution (docs/model.md §5.1)}")
    lazy = lazy_solution_derivation()
    lines.append(rf"f_t = {sp.latex(sp.simplify(lazy['f_t']))}")
    lines.append(
        rf"\text{{ODE residual}}: {sp.latex(lazy['ode_check'])}, "
        rf"\text{{initial residual}}: {sp.latex(lazy['initial_check'])}"
    )
    return lines


def main():
    """Print every derivation as LaTeX."""
    for line in _latex_lines():
        print(line)


if __name__ == "__main__":
    main()
