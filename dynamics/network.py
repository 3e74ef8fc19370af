"""The spike-and-slab recurrent network: three SaS layers, leaky rate dynamics (docs/model.md
§1.1)."""

from __future__ import annotations

import numpy as np

from ._kernels import ACTIVATIONS
from .layer import PARAMETER_NAMES, SaSLayer

#: Layer names in storage order; a parameter block is ``"<layer>.<parameter>"``, e.g. ``"rec.pi"``.
LAYER_NAMES = ("inp", "rec", "out")
BLOCK_NAMES = tuple(f"{layer}.{p}" for layer in LAYER_NAMES for p in PARAMETER_NAMES)

READOUTS = ("last", "all")
LOSSES = ("cross_entropy", "mse")


class SaSNetwork:
    """Leaky rate RNN whose input, recurrent and output weights are spike-and-slab distributed.

        h(t+1) = (1 − α) h(t) + α u(t) + √(2α) σ_rec ξ(t),   r = f(h),
        u(t) = Σ_j w_ij r_j(t) + Σ_k w^in_ik x_k(t),          z = Σ_i w^out_ki r_i

    (docs/model.md §1.1; the network is trained at the ensemble level through the mean-field pass
    of §1.3).

    Args:
        inp: input layer, shape (n_rec, n_in).
        rec: recurrent layer, shape (n_rec, n_rec).
        out: readout layer, shape (n_out, n_rec).
        alpha: leak α = dt/τ in (0, 1].
        h0: state before the first step, a scalar or an array of shape (n_rec,) or (B, n_rec).
        activation: ``"relu"`` (paper) or ``"tanh"``.
        readout: ``"last"`` (read z at the final step only, MNIST) or ``"all"`` (every step, MSI).
        loss: ``"cross_entropy"`` (softmax, readout "last") or ``"mse"`` (masked, docs/model.md
        §1.5).
        sigma_rec: std of the private recurrent noise, entering as √(2α) σ_rec ξ.

    Raises:
        ValueError: layer shapes do not chain, or an option is unknown or out of range.
    """

    def __init__(
        self,
        inp,
        rec,
        out,
        alpha=0.1,
        h0=0.1,
        activation="relu",
        readout="last",
        loss="cross_entropy",
        sigma_rec=0.0,
    ):
        self.inp, self.rec, self.out = inp, rec, out
        self.alpha = float(alpha)
        self.h0 = h0
        self.activation = activation
        self.readout = readout
        self.loss = loss
        self.sigma_rec = float(sigma_rec)
        self._validate()

    def _validate(self) -> None:
        for name in LAYER_NAMES:
            if not isinstance(getattr(self, name), SaSLayer):
                raise ValueError(
                    f"SaSNetwork: {name} must be a SaSLayer, got {type(getattr(self, name))}."
                )
        n_rec = self.rec.shape[0]
        if self.rec.shape != (n_rec, n_rec):
            raise ValueError(f"SaSNetwork: rec must be square, got shape {self.rec.shape}.")
        if self.inp.shape[0] != n_rec:
            raise ValueError(
                f"SaSNetwork: inp has shape {self.inp.shape}; "
                f"its first axis must be n_rec = {n_rec}."
            )
        if self.out.shape[1] != n_rec:
            raise ValueError(
                f"SaSNetwork: out has shape {self.out.shape}; "
                f"its second axis must be n_rec = {n_rec}."
            )
        dtypes = {self.inp.dtype, self.rec.dtype, self.out.dtype}
        if len(dtypes) != 1:
            raise ValueError(
                f"SaSNetwork: layers must share one dtype, got {sorted(map(str, dtypes))}."
            )
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"SaSNetwork: alpha must lie in (0, 1], got {self.alpha}.")
        if not (np.isfinite(self.sigma_rec) and self.sigma_rec >= 0.0):
            raise ValueError(
                f"SaSNetwork: sigma_rec must be finite and >= 0, got {self.sigma_rec}."
            )
        for option, value, allowed in (
            ("activation", self.activation, ACTIVATIONS),
            ("readout", self.readout, READOUTS),
            ("loss", self.loss, LOSSES),
        ):
            if value not in allowed:
                raise ValueError(
                    f"SaSNetwork: unknown {option} {value!r}; choose one of {allowed}."
                )
        if self.readout == "all" and self.loss == "cross_entropy":
            raise ValueError("SaSNetwork: readout='all' needs loss='mse' (docs/model.md §1.5).")
        h0 = np.asarray(self.h0)
        if h0.ndim > 2 or (h0.ndim >= 1 and h0.shape[-1] != n_rec) or not np.all(np.isfinite(h0)):
            raise ValueError(
                f"SaSNetwork: h0 must be a finite scalar, (n_rec,) or (B, n_rec) array with "
                f"n_rec = {n_rec}; got shape {h0.shape}."
            )

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return self.inp.shape[1]

    @property
    def n_rec(self) -> int:
        return self.rec.shape[0]

    @property
    def n_out(self) -> int:
        return self.out.shape[0]

    @property
    def dtype(self):
        return self.rec.dtype

    def output_shape(self, n_steps: int, batch: int) -> tuple[int, ...]:
        """Shape of the readout z on ``batch`` trials of ``n_steps`` steps: (B, n_out) for the
        readout "last", (T, B, n_out) for "all"."""
        if self.readout == "last":
            return (batch, self.n_out)
        return (n_steps, batch, self.n_out)

    @property
    def output_batch_axis(self) -> int:
        """The batch axis of the readout z: 0 for the readout "last", 1 for "all"."""
        return 0 if self.readout == "last" else 1

    @property
    def deterministic(self) -> bool:
        """Whether every weight is fixed: Ξ = 0 and π ∈ {0, 1} in every layer and no private
        noise (σ_rec = 0). Then v = (1 − π)Ξ + π(1 − π)m² = 0 (docs/model.md §1.3), and the
        mean-field, ε = 0 and sampled passes are one and the same pass."""
        return self.sigma_rec == 0.0 and all(
            not np.any(layer.xi) and bool(np.all((layer.pi == 0) | (layer.pi == 1)))
            for layer in self.layers().values()
        )

    # -- parameters ----------------------------------------------------------------------------
    def layers(self) -> dict[str, SaSLayer]:
        return {"inp": self.inp, "rec": self.rec, "out": self.out}

    def parameters(self) -> dict[str, np.ndarray]:
        """The nine trainable arrays by block name ``"inp.m"`` … ``"out.xi"`` (views)."""
        return {
            f"{ln}.{pn}": array
            for ln, layer in self.layers().items()
            for pn, array in layer.parameters().items()
        }

    def set_parameters(self, values: dict[str, np.ndarray]) -> None:
        """Overwrite parameters in place from a ``parameters()``-like dict (missing blocks stay)."""
        params = self.parameters()
        unknown = set(values) - set(params)
        if unknown:
            raise ValueError(
                f"unknown parameter blocks {sorted(unknown)}; valid: {list(BLOCK_NAMES)}."
            )
        for name, value in values.items():
            if np.shape(value) != params[name].shape:
                raise ValueError(f"{name}: shape {np.shape(value)} != {params[name].shape}.")
            params[name][...] = value
        for layer in self.layers().values():
            layer.apply_structure()

    def project(self) -> None:
        """π ← clip(π, 0, 1), Ξ ← max(Ξ, 0) and structural masks, for every layer (docs/model.md
        §2.3)."""
        for layer in self.layers().values():
            layer.project()

    def options(self) -> dict:
        """The non-parameter settings, as keyword arguments of the constructor."""
        return {
            "alpha": self.alpha,
            "h0": self.h0,
            "activation": self.activation,
            "readout": self.readout,
            "loss": self.loss,
            "sigma_rec": self.sigma_rec,
        }

    def copy(self) -> SaSNetwork:
        h0 = np.copy(self.h0) if np.ndim(self.h0) else self.h0
        return SaSNetwork(
            self.inp.copy(), self.rec.copy(), self.out.copy(), **{**self.options(), "h0": h0}
        )

    def astype(self, dtype) -> SaSNetwork:
        return SaSNetwork(
            self.inp.astype(dtype), self.rec.astype(dtype), self.out.astype(dtype), **self.options()
        )

    def __repr__(self) -> str:
        return (
            f"SaSNetwork(n_in={self.n_in}, n_rec={self.n_rec}, n_out={self.n_out}, "
            f"alpha={self.alpha}, activation={self.activation!r}, readout={self.readout!r}, "
            f"loss={self.loss!r}, sigma_rec={self.sigma_rec}, dtype={self.dtype})"
        )
