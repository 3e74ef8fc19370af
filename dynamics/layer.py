"""Spike-and-slab layers: the weight distribution and its moments (docs/model.md §1.2).

Every weight of a layer is an independent random variable

    P(w_ij) = π_ij δ(w_ij) + (1 − π_ij) N(w_ij; m_ij, Ξ_ij),

so π is the probability that the connection is *absent*, m the slab mean and Ξ ≥ 0 the slab
variance. The mean-field pass needs only the first two moments.
"""

from __future__ import annotations

import numpy as np

#: Names of the three trainable parameters of a layer, in storage order.
PARAMETER_NAMES = ("m", "pi", "xi")


def sas_moments(m, pi, xi):
    """Moments of the spike-and-slab weight (docs/model.md §1.2).

        μ = E[w] = (1 − π) m,   ρ = E[w²] = (1 − π)(m² + Ξ),   v = Var[w] = ρ − μ²
          = (1 − π) Ξ + π (1 − π) m²

    Args:
        m, pi, xi: arrays of one shape (or broadcastable scalars).

    Returns:
        ``(mu, rho, var)``, arrays of the broadcast shape.
    """
    keep = 1.0 - pi
    mu = keep * m
    rho = keep * (m * m + xi)
    var = keep * xi + pi * keep * m * m
    return mu, rho, var


def sas_moment_derivatives(m, pi, xi):
    """Partial derivatives of μ and v with respect to (m, π, Ξ) (docs/model.md §1.2).

        ∂μ/∂m = 1 − π,   ∂μ/∂π = −m,   ∂μ/∂Ξ = 0,
        ∂v/∂m = 2π(1 − π) m,   ∂v/∂π = (1 − 2π) m² − Ξ,   ∂v/∂Ξ = 1 − π

    Returns:
        dict with keys ``dmu_dm, dmu_dpi, dmu_dxi, dvar_dm, dvar_dpi, dvar_dxi``.
    """
    m, pi, xi = np.broadcast_arrays(*(np.asarray(a) for a in (m, pi, xi)))
    keep = 1.0 - pi
    return {
        "dmu_dm": keep.copy(),
        "dmu_dpi": -m,
        "dmu_dxi": np.zeros_like(m),
        "dvar_dm": 2.0 * pi * keep * m,
        "dvar_dpi": (1.0 - 2.0 * pi) * m * m - xi,
        "dvar_dxi": keep.copy(),
    }


def check_pi_xi(pi, xi, name: str = "") -> None:
    """Raise one clear ``ValueError`` unless 0 ≤ π ≤ 1 and Ξ ≥ 0 everywhere (docs/model.md §1.2).

    ``name`` (e.g. "net.rec") prefixes the parameter names in the message.
    """
    prefix = f"{name}." if name else ""
    if np.any((pi < 0) | (pi > 1)):
        raise ValueError(
            f"{prefix}pi must lie in [0, 1] (it is the probability that a connection is absent); "
            f"got values in [{np.min(pi):g}, {np.max(pi):g}]. Clip it with np.clip(pi, 0, 1)."
        )
    if np.any(xi < 0):
        raise ValueError(
            f"{prefix}xi must be >= 0 (it is the slab variance); got minimum {np.min(xi):g}. "
            "Use np.maximum(xi, 0)."
        )


def check_parameters(name: str, m, pi, xi) -> None:
    """Raise one clear ``ValueError`` if (m, π, Ξ) are not a valid spike-and-slab layer."""
    shapes = {np.shape(m), np.shape(pi), np.shape(xi)}
    if len(shapes) != 1 or len(np.shape(m)) != 2:
        raise ValueError(
            f"{name}: m, pi and xi must be 2-D arrays of one shape (n_post, n_pre); got shapes "
            f"m {np.shape(m)}, pi {np.shape(pi)}, xi {np.shape(xi)}."
        )
    for label, values in (("m", m), ("pi", pi), ("xi", xi)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name}.{label} contains NaN or inf; pass finite values.")
    check_pi_xi(pi, xi, name)


class SaSLayer:
    """A spike-and-slab connection matrix: parameters (m, π, Ξ) of shape (n_post, n_pre).

    Args:
        m: slab means.
        pi: probabilities that each connection is absent, in [0, 1].
        xi: slab variances, ≥ 0.
        absent: optional boolean mask of connections that are structurally forbidden
            (docs/model.md §3.3). On those entries π = 1, m = 0 and Ξ = 0 are imposed now and after
            every
            optimizer step.
        dtype: floating dtype of the stored parameters (default: that of ``m``, float64 for
            integer input).

    Raises:
        ValueError: shapes differ or are not 2-D, values are NaN or inf, π ∉ [0, 1] or Ξ < 0.
    """

    def __init__(self, m, pi, xi, absent=None, dtype=None):
        for label, values in (("m", m), ("pi", pi), ("xi", xi)):
            kind = np.asarray(values).dtype.kind
            if kind not in "biuf":
                raise ValueError(
                    f"SaSLayer: {label} must hold real numbers; got dtype "
                    f"{np.asarray(values).dtype}. Pass a float array (e.g. np.real(...))."
                )
        if absent is not None and np.asarray(absent).dtype != bool:
            raise ValueError(
                f"SaSLayer: the absent mask must be a boolean array (True = forbidden "
                f"connection); got dtype {np.asarray(absent).dtype}. Pass mask.astype(bool) "
                f"if that is what you mean."
            )
        if dtype is None:
            dtype = np.asarray(m).dtype
            dtype = dtype if np.issubdtype(dtype, np.floating) else np.float64
        m, pi, xi = (np.array(a, dtype=dtype, order="C") for a in (m, pi, xi))
        check_parameters("SaSLayer", m, pi, xi)
        if absent is not None:
            absent = np.asarray(absent, dtype=bool)
            if absent.shape != m.shape:
                raise ValueError(
                    f"SaSLayer: absent mask has shape {absent.shape}, expected {m.shape}."
                )
        self.m, self.pi, self.xi = m, pi, xi
        self.absent = absent
        self.apply_structure()

    # -- moments -------------------------------------------------------------------------------
    @property
    def mu(self) -> np.ndarray:
        """Mean weight (1 − π) m."""
        return (1.0 - self.pi) * self.m

    @property
    def rho(self) -> np.ndarray:
        """Second moment (1 − π)(m² + Ξ)."""
        return (1.0 - self.pi) * (self.m * self.m + self.xi)

    @property
    def var(self) -> np.ndarray:
        """Weight variance (1 − π) Ξ + π (1 − π) m²."""
        return sas_moments(self.m, self.pi, self.xi)[2]

    # -- bookkeeping ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.m.shape

    @property
    def dtype(self):
        return self.m.dtype

    def parameters(self) -> dict[str, np.ndarray]:
        """The trainable arrays by name (the arrays themselves, not copies)."""
        return {"m": self.m, "pi": self.pi, "xi": self.xi}

    def apply_structure(self) -> None:
        """Impose π = 1, m = 0, Ξ = 0 on structurally absent connections (in place)."""
        if self.absent is not None:
            self.m[self.absent] = 0.0
            self.pi[self.absent] = 1.0
            self.xi[self.absent] = 0.0

    def project(self) -> None:
        """Project onto the constraint set after an update: π ∈ [0, 1], Ξ ≥ 0 (docs/model.md
        §2.3)."""
        np.clip(self.pi, 0.0, 1.0, out=self.pi)
        np.maximum(self.xi, 0.0, out=self.xi)
        self.apply_structure()

    def copy(self) -> SaSLayer:
        return SaSLayer(self.m, self.pi, self.xi, absent=self.absent, dtype=self.dtype)

    def astype(self, dtype) -> SaSLayer:
        return SaSLayer(self.m, self.pi, self.xi, absent=self.absent, dtype=dtype)

    def sample(self, rng: np.random.Generator, size=None) -> np.ndarray:
        """Draw weights w = N(m, √Ξ) · 1[U > π] (docs/model.md §1.2).

        Args:
            rng: the source of randomness.
            size: optional leading shape; the result has shape ``size + (n_post, n_pre)``.
        """
        shape = tuple(np.atleast_1d(size)) + self.shape if size is not None else self.shape
        slab = self.m + np.sqrt(self.xi) * rng.standard_normal(shape)
        present = rng.random(shape) > self.pi
        return (slab * present).astype(self.dtype, copy=False)

    def __repr__(self) -> str:
        return f"SaSLayer(shape={self.shape}, dtype={self.dtype})"
