"""Toy single-unit SaS model of feature learning and stochastic plasticity (docs/model.md §3.6,
§5.3).

One leaky tanh unit with N spike-and-slab synapses that all receive the same scalar input x(t),
under mean-field 1/√a scaling (a = N by default):

    G(t) = (1/√a) Σ_j μ_j x(t),     Δ(t) = (1/√a) √(Σ_j v_j x(t)²),
    h(t) = (1-α) h(t-1) + α (G(t) + ε(t) Δ(t)),     r(t) = tanh h(t),     h(-1) = h0 = 0,

μ_j = (1-π_j) m_j, v_j = (1-π_j) Ξ_j + π_j (1-π_j) m_j². The loss is L = Σ_t ½ (r(t) - y(t))².

Learning is online and instantaneous (official `toymodel.py`, docs/official-code.md §1 item 16): at
every step
the gradient of ℓ_t = ½ (r(t) - y(t))² with h(t-1) held fixed,

    ∇m_j = c [(1-π_j) x/√a + (1/a) ε μ_j π_j x²/Δ]
    ∇π_j = c [-m_j x/√a + (1/a) ε ((1-2π_j) m_j² - Ξ_j) x²/(2Δ)]
    ∇Ξ_j = c (1/a) ε (1-π_j) x²/(2Δ),          c = (r - y) (1 - r²) α,

is applied sequentially: m first; then π (clipped to [0, 1]) with the new m in its formula; then Ξ
(floored at 0) with the new π. c, Δ and μ in ∇m come from the forward step before the updates; the
ε/Δ terms vanish when Δ = 0. Learning rates are lr·0.5^⌊epoch/100⌋. Before each epoch's updates the
loss is evaluated with ε = 0 over the whole sequence.

The training loop runs in numba (N = 10,000, 21 steps, 600 epochs take well under a second).
"""

from __future__ import annotations

import numba
import numpy as np

from dynamics.layer import check_pi_xi

#: Leak of the toy unit (τ = 1/0.9, official `toymodel.py`).
ALPHA = 0.9
#: Learning rates of m, π and Ξ and the halving period in epochs (docs/model.md §2.4).
LR_M = 0.005
LR_PI = 0.01
LR_XI = 0.01
HALVE_EVERY = 100
#: Epochs and synapse count of the official runs.
N_EPOCHS = 600
N_SYNAPSES = 10_000

#: Added to Δ in the denominators of the fluctuation terms (official code), which vanish if Δ = 0.
_DELTA_GUARD = 1e-30


def toy_initial_parameters(n_synapses: int, rng: np.random.Generator) -> dict:
    """Official initialisation: m ~ N(0, 1/N), Ξ ~ 0.1·U(0, 1), π ~ 0.1·U(0, 1) (docs/model.md
    §2.5).

    Draws in that order from ``rng``.

    Args:
        n_synapses: N.
        rng: the Generator.

    Returns:
        {"m": (N,), "pi": (N,), "xi": (N,)} float64 arrays.

    Raises:
        ValueError: if n_synapses < 1 or rng is not a Generator.
    """
    if int(n_synapses) < 1:
        raise ValueError(f"n_synapses must be >= 1, got {n_synapses}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    m = rng.standard_normal(n_synapses) / np.sqrt(n_synapses)
    xi = 0.1 * rng.uniform(size=n_synapses)
    pi = 0.1 * rng.uniform(size=n_synapses)
    return {"m": m, "pi": pi, "xi": xi}


def _check_parameters(m, pi, xi):
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (m, pi, xi)]
    for name, a in zip(("m", "pi", "xi"), arrays, strict=True):
        if a.ndim != 1 or a.shape != arrays[0].shape:
            raise ValueError(f"{name} must be a 1-D array of N synapses like m, got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
    check_pi_xi(arrays[1], arrays[2])
    return arrays


def _check_sequence(x, y):
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"x and y must be 1-D sequences of equal length, got {x.shape}, {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x or y contains NaN or inf")
    return x, y


def toy_forward(
    m, pi, xi, x, eps=None, alpha: float = ALPHA, h0: float = 0.0, scale: float | None = None
) -> dict:
    """Run the toy unit over a sequence with fixed parameters (docs/model.md §3.6).

    Args:
        m, pi, xi: (N,) synapse parameters.
        x: (T,) input sequence.
        eps: (T,) standard-normal draws, or None for ε = 0 (the loss evaluation of the official
            code).
        alpha: leak α.
        h0: state before the first step.
        scale: a of the 1/√a scaling; None = N.

    Returns:
        {"h": (T,), "r": (T,), "G": (T,), "delta": (T,)}.

    Raises:
        ValueError: on invalid parameters, inputs or an ``eps`` of the wrong length.
    """
    m, pi, xi = _check_parameters(m, pi, xi)
    x = np.asarray(x, dtype=np.float64)
    eps = np.zeros_like(x) if eps is None else np.asarray(eps, dtype=np.float64)
    if eps.shape != x.shape:
        raise ValueError(f"eps has shape {eps.shape}, expected {x.shape} like x")
    a = m.size if scale is None else float(scale)
    mu = (1.0 - pi) * m
    var = (1.0 - pi) * xi + pi * (1.0 - pi) * m**2
    g = mu.sum() * x / np.sqrt(a)
    delta = np.sqrt(var.sum() * x**2) / np.sqrt(a)
    h = np.empty_like(x)
    previous = h0
    for t in range(x.size):
        previous = (1.0 - alpha) * previous + alpha * (g[t] + eps[t] * delta[t])
        h[t] = previous
    return {"h": h, "r": np.tanh(h), "G": g, "delta": delta}


def toy_loss(
    m, pi, xi, x, y, eps=None, alpha: float = ALPHA, h0: float = 0.0, scale: float | None = None
) -> float:
    """L = Σ_t ½ (r(t) - y(t))² of the toy unit (ε = 0 unless ``eps`` is given; docs/model.md §1.5).

    Args:
        m, pi, xi, x, eps, alpha, h0, scale: see :func:`toy_forward`.
        y: (T,) targets.

    Returns:
        The loss.

    Raises:
        ValueError: see :func:`toy_forward`.
    """
    x, y = _check_sequence(x, y)
    r = toy_forward(m, pi, xi, x, eps, alpha, h0, scale)["r"]
    return float(0.5 * np.sum((r - y) ** 2))


def toy_instantaneous_gradients(
    m,
    pi,
    xi,
    x_t: float,
    y_t: float,
    h_prev: float,
    eps_t: float,
    alpha: float = ALPHA,
    scale: float | None = None,
) -> dict:
    """Gradient of ℓ_t = ½ (r(t) - y(t))² at one step, h(t-1) held fixed (docs/model.md §3.6).

    All three components at the same parameter point (module docstring formulas); the training loop
    applies them sequentially instead.

    Args:
        m, pi, xi: (N,) synapse parameters.
        x_t, y_t: input and target at the step.
        h_prev: h(t-1).
        eps_t: the standard-normal draw ε(t).
        alpha: leak α.
        scale: a; None = N.

    Returns:
        {"m": (N,), "pi": (N,), "xi": (N,), "loss": ℓ_t}.

    Raises:
        ValueError: on invalid parameters.
    """
    m, pi, xi = _check_parameters(m, pi, xi)
    a = m.size if scale is None else float(scale)
    mu = (1.0 - pi) * m
    var = (1.0 - pi) * xi + pi * (1.0 - pi) * m**2
    g = mu.sum() * x_t / np.sqrt(a)
    delta = np.sqrt(var.sum() * x_t**2) / np.sqrt(a)
    h = (1.0 - alpha) * h_prev + alpha * (g + eps_t * delta)
    r = np.tanh(h)
    c = (r - y_t) * (1.0 - r**2) * alpha
    fluct = eps_t * x_t**2 / (a * (delta + _DELTA_GUARD)) if delta > 0.0 else 0.0
    return {
        "m": c * ((1.0 - pi) * x_t / np.sqrt(a) + fluct * mu * pi),
        "pi": c * (-m * x_t / np.sqrt(a) + fluct * ((1.0 - 2.0 * pi) * m**2 - xi) / 2.0),
        "xi": c * fluct * (1.0 - pi) / 2.0,
        "loss": float(0.5 * (r - y_t) ** 2),
    }


@numba.njit(cache=True)
def _train_kernel(
    x,
    y,
    m,
    pi,
    xi,
    eps,
    alpha,
    scale,
    lr_m,
    lr_pi,
    lr_xi,
    halve_every,
    h0,
    loss,
    forward_mean,
    forward_std,
    gradient_mean,
    gradient_variance,
):
    n_epochs, n_steps = eps.shape
    n = m.size
    inv_sqrt_a = 1.0 / np.sqrt(scale)
    inv_a = 1.0 / scale
    for epoch in range(n_epochs):
        factor = 0.5 ** (epoch // halve_every)
        step_m, step_pi, step_xi = lr_m * factor, lr_pi * factor, lr_xi * factor
        # Loss before this epoch's updates, with eps = 0.
        sum_mu = 0.0
        for j in range(n):
            sum_mu += (1.0 - pi[j]) * m[j]
        h = h0
        total = 0.0
        for t in range(n_steps):
            h = (1.0 - alpha) * h + alpha * sum_mu * x[t] * inv_sqrt_a
            total += 0.5 * (np.tanh(h) - y[t]) ** 2
        loss[epoch] = total
        # Online pass.
        h = h0
        acc_g = 0.0
        acc_d = 0.0
        acc_gm = 0.0
        acc_gv = 0.0
        for t in range(n_steps):
            sum_mu = 0.0
            sum_var = 0.0
            for j in range(n):
                sum_mu += (1.0 - pi[j]) * m[j]
                sum_var += (1.0 - pi[j]) * xi[j] + pi[j] * (1.0 - pi[j]) * m[j] ** 2
            xt = x[t]
            g = inv_sqrt_a * sum_mu * xt
            delta = inv_sqrt_a * np.sqrt(sum_var * xt * xt)
            e = eps[epoch, t]
            h = (1.0 - alpha) * h + alpha * (g + e * delta)
            r = np.tanh(h)
            acc_g += abs(g)
            acc_d += abs(delta)
            c = (r - y[t]) * (1.0 - r * r) * alpha
            inv_delta = 1.0 / (delta + 1e-30) if delta > 0.0 else 0.0
            x2 = xt * xt
            mean_part = 0.0
            variance_part = 0.0
            for j in range(n):
                p = pi[j]
                mu = (1.0 - p) * m[j]
                grad_mean = (1.0 - p) * xt * inv_sqrt_a
                grad_var = inv_a * mu * p * x2 * inv_delta
                mean_part += abs(grad_mean)
                variance_part += abs(grad_var)
                m[j] -= step_m * c * (grad_mean + e * grad_var)
                mj = m[j]
                grad_pi = c * (
                    -mj * xt * inv_sqrt_a
                    + inv_a * e * ((1.0 - 2.0 * p) * mj * mj - xi[j]) * x2 * 0.5 * inv_delta
                )
                p = min(max(p - step_pi * grad_pi, 0.0), 1.0)
                pi[j] = p
                grad_xi = c * inv_a * e * (1.0 - p) * x2 * 0.5 * inv_delta
                xi[j] = max(xi[j] - step_xi * grad_xi, 0.0)
            acc_gm += mean_part / n
            acc_gv += variance_part / n
        forward_mean[epoch] = acc_g / n_steps
        forward_std[epoch] = acc_d / n_steps
        gradient_mean[epoch] = acc_gm / n_steps
        gradient_variance[epoch] = acc_gv / n_steps


def train_toy(
    x,
    y,
    m,
    pi,
    xi,
    rng: np.random.Generator | None = None,
    n_epochs: int = N_EPOCHS,
    alpha: float = ALPHA,
    lr_m: float = LR_M,
    lr_pi: float = LR_PI,
    lr_xi: float = LR_XI,
    halve_every: int = HALVE_EVERY,
    h0: float = 0.0,
    scale: float | None = None,
    eps=None,
) -> dict:
    """Online instantaneous training of the toy unit (docs/model.md §3.6, §5.3; module docstring).

    Example:
        >>> s = np.linspace(2, 10, 21); x = y = np.sin(s)
        >>> rng = np.random.default_rng(0)
        >>> out = train_toy(x, y, **toy_initial_parameters(10_000, rng), rng=rng)

    Args:
        x, y: (T,) input and target sequences.
        m, pi, xi: (N,) initial parameters (not modified).
        rng: Generator drawing ε, shape (n_epochs, T), one draw per step; ignored if ``eps`` given.
        n_epochs: number of passes over the sequence.
        alpha: leak α.
        lr_m, lr_pi, lr_xi: initial learning rates, halved every ``halve_every`` epochs.
        halve_every: halving period (lr·0.5^⌊epoch/halve_every⌋).
        h0: state before the first step of every epoch.
        scale: a of the 1/√a scaling; None = N.
        eps: optional explicit (n_epochs, T) standard-normal draws.

    Returns:
        dict of (n_epochs,) arrays
          "loss": L with ε = 0 before the epoch's updates,
          "forward_mean": time average of |G(t)|, "forward_std": time average of |Δ(t)|,
          "gradient_mean_part": time average of mean_j |(1-π_j) x/√a|,
          "gradient_variance_part": time average of mean_j |(1/a) μ_j π_j x²/Δ|,
        plus "final_loss" (float, ε = 0 after training), "m", "pi", "xi" (final (N,) arrays) and
        "eps" (the draws used).

    Raises:
        ValueError: on invalid parameters or sequences, no ``rng`` and no ``eps``, wrong ``eps``
            shape, n_epochs < 1 or halve_every < 1.
    """
    x, y = _check_sequence(x, y)
    m, pi, xi = (a.copy() for a in _check_parameters(m, pi, xi))
    if int(n_epochs) < 1 or int(halve_every) < 1:
        raise ValueError("n_epochs and halve_every must be >= 1")
    if eps is None:
        if not isinstance(rng, np.random.Generator):
            raise ValueError("pass rng (a numpy.random.Generator) or explicit eps draws")
        eps = rng.standard_normal((int(n_epochs), x.size))
    eps = np.ascontiguousarray(eps, dtype=np.float64)
    if eps.shape != (int(n_epochs), x.size):
        raise ValueError(
            f"eps has shape {eps.shape}, expected (n_epochs, T) = {(int(n_epochs), x.size)}"
        )
    a = float(m.size if scale is None else scale)
    records = {
        k: np.empty(int(n_epochs))
        for k in (
            "loss",
            "forward_mean",
            "forward_std",
            "gradient_mean_part",
            "gradient_variance_part",
        )
    }
    _train_kernel(
        x,
        y,
        m,
        pi,
        xi,
        eps,
        float(alpha),
        a,
        float(lr_m),
        float(lr_pi),
        float(lr_xi),
        int(halve_every),
        float(h0),
        records["loss"],
        records["forward_mean"],
        records["forward_std"],
        records["gradient_mean_part"],
        records["gradient_variance_part"],
    )
    records["final_loss"] = toy_loss(m, pi, xi, x, y, None, alpha, h0, a)
    records.update({"m": m, "pi": pi, "xi": xi, "eps": eps})
    return records


def train_toy_runs(
    x, y, n_runs: int, rng: np.random.Generator, n_synapses: int = N_SYNAPSES, **train_kwargs
) -> dict:
    """Independent toy runs (the official figure averages 10), each freshly initialised.

    Run k draws its initial parameters and then its ε from ``rng`` in sequence.

    Args:
        x, y: (T,) sequences.
        n_runs: number of runs.
        rng: the Generator.
        n_synapses: N.
        **train_kwargs: passed to :func:`train_toy` (not ``rng``/``eps``).

    Returns:
        {key: (n_runs, n_epochs) array} for the per-epoch records of :func:`train_toy`, and
        "final_loss": (n_runs,).

    Raises:
        ValueError: if n_runs < 1, or see :func:`train_toy`.
    """
    if int(n_runs) < 1:
        raise ValueError(f"n_runs must be >= 1, got {n_runs}")
    keys = ("loss", "forward_mean", "forward_std", "gradient_mean_part", "gradient_variance_part")
    runs = []
    for _ in range(int(n_runs)):
        params = toy_initial_parameters(n_synapses, rng)
        runs.append(train_toy(x, y, **params, rng=rng, **train_kwargs))
    out = {k: np.stack([run[k] for run in runs]) for k in keys}
    out["final_loss"] = np.array([run["final_loss"] for run in runs])
    return out
