"""Optimizers of the nine parameter blocks, as the official scripts run them (docs/model.md
§2.3–2.4).

One :class:`Optimizer` serves a whole network: per-block learning rates and step schedules,
explicit L2, decoupled weight decay, gradient clipping, and the projection π ∈ [0, 1], Ξ ≥ 0
after every step.

Official settings, by task (docs/model.md §2.4):

- MNIST: ``Optimizer("adam", lr=1e-3, halve_every=40, weight_decay={"m": 1e-4, "xi": 1e-4},
  clip="spectral", clip_bound=10)`` with the epoch index as the schedule step.
- Multisensory: ``Optimizer("rmsprop", lr={..., "rec.pi": 1.0, "out.pi": 0.1},
  halve_every={"rec.pi": 100, "out.pi": 100}, l2={"m": 1e-3, "xi": 1e-3})`` with the
  iteration index as the schedule step.
"""

from __future__ import annotations

import numpy as np

from ._blas import one_blas_thread
from .network import BLOCK_NAMES, SaSNetwork

METHODS = ("adam", "rmsprop", "sgd")
CLIPS = (None, "spectral", "frobenius")


def _per_block(name: str, value, default) -> dict:
    """Expand a scalar, a per-parameter dict ({"m": .., "pi": ..}) or a per-block dict."""
    if value is None:
        value = default
    if not isinstance(value, dict):
        return dict.fromkeys(BLOCK_NAMES, value)
    unknown = [k for k in value if k not in BLOCK_NAMES and k not in ("m", "pi", "xi")]
    if unknown:
        raise ValueError(
            f"{name}: unknown keys {unknown}; use parameter names m, pi, xi or blocks "
            f"{list(BLOCK_NAMES)}."
        )
    out = {}
    for block in BLOCK_NAMES:
        parameter = block.split(".")[1]
        out[block] = value.get(block, value.get(parameter, default))
    return out


def clip_gradient(grad: np.ndarray, kind: str | None, bound: float) -> np.ndarray:
    """Rescale a gradient matrix to norm ``bound`` if its norm is at least ``bound``.

    ``kind="spectral"`` uses the largest singular value (the official code's
    ``np.linalg.norm(g, ord=2)`` on a 2-D array); ``"frobenius"`` the Frobenius norm.
    """
    if kind is None:
        return grad
    norm = np.linalg.norm(grad)
    if kind == "spectral" and norm >= bound:  # ‖g‖₂ ≤ ‖g‖_F: the SVD is needed only then
        norm = np.linalg.norm(grad, ord=2)
    return grad * (bound / norm) if norm >= bound else grad


class Optimizer:
    """Adam, RMSprop or SGD over the nine (m, π, Ξ) blocks of a :class:`SaSNetwork`.

    Update of a block θ with gradient g at schedule step e (after clipping and L2, g ← g + γθ):

    - adam (official MNIST): m̂, ŝ bias-corrected moments,
      θ ← θ − lr_e (m̂/(√ŝ + ε) + λ θ) with decoupled weight decay λ (1e-4 on m and Ξ, 0 on π).
    - rmsprop (official MSI): s ← β s + (1 − β) g², θ ← θ − lr_e g/√(s + ε).
    - sgd: θ ← θ − lr_e g.

    The learning rate of a block follows lr_e = max(lr · 0.5^⌊(e + 1)/k⌋, lr_floor) when it has
    a halving period k (the official off-by-one, docs/official-code.md §1.17), and lr otherwise. A
    learning rate
    of 0 freezes a block.

    Args:
        method: ``"adam"``, ``"rmsprop"`` or ``"sgd"``.
        lr: a scalar, or a dict by parameter (``"pi"``) or block (``"rec.pi"``); block keys win.
        halve_every: None, an int, or such a dict: halving period of the step schedule.
        lr_floor: smallest learning rate a schedule reaches.
        weight_decay: decoupled weight decay λ per parameter or block (Adam only).
        l2: explicit L2 coefficient γ per parameter or block.
        clip: None, ``"spectral"`` or ``"frobenius"``; applied per block.
        clip_bound: the clipping norm.
        beta1, beta2, adam_eps: Adam constants. rms_beta, rms_eps: RMSprop constants.
    """

    def __init__(
        self,
        method="adam",
        lr=1e-3,
        halve_every=None,
        lr_floor=1e-8,
        weight_decay=None,
        l2=None,
        clip=None,
        clip_bound=10.0,
        beta1=0.9,
        beta2=0.999,
        adam_eps=1e-8,
        rms_beta=0.9,
        rms_eps=1e-8,
    ):
        if method not in METHODS:
            raise ValueError(f"Optimizer: unknown method {method!r}; choose one of {METHODS}.")
        if clip not in CLIPS:
            raise ValueError(f"Optimizer: unknown clip {clip!r}; choose one of {CLIPS}.")
        self.method = method
        self.lr = _per_block("lr", lr, 1e-3)
        self.halve_every = _per_block("halve_every", halve_every, None)
        self.lr_floor = float(lr_floor)
        self.weight_decay = _per_block("weight_decay", weight_decay, 0.0)
        self.l2 = _per_block("l2", l2, 0.0)
        self.clip, self.clip_bound = clip, float(clip_bound)
        self.beta1, self.beta2, self.adam_eps = beta1, beta2, adam_eps
        self.rms_beta, self.rms_eps = rms_beta, rms_eps
        for name, table in (("lr", self.lr), ("weight_decay", self.weight_decay), ("l2", self.l2)):
            bad = {k: v for k, v in table.items() if not (np.isfinite(v) and v >= 0)}
            if bad:
                raise ValueError(f"Optimizer: {name} must be finite and >= 0; got {bad}.")
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def learning_rate(self, block: str, epoch: int) -> float:
        """The learning rate of ``block`` at schedule step ``epoch``."""
        base, period = self.lr[block], self.halve_every[block]
        if base == 0.0 or period is None:
            return base
        return max(base * 0.5 ** ((epoch + 1) // period), self.lr_floor)

    def step(self, net: SaSNetwork, grads, epoch: int = 0) -> None:
        """Update ``net`` in place from ``grads`` (a NetworkGrads or a block dict), then project.

        Raises:
            ValueError: a gradient is missing, misshapen, or not finite.
        """
        blocks = grads.blocks() if hasattr(grads, "blocks") else grads
        with one_blas_thread():  # the norms' BLAS calls are small (see dynamics._blas)
            self._update(net, blocks, epoch)
        net.project()

    def _update(self, net, blocks, epoch):
        params = net.parameters()
        self.steps += 1
        for block, theta in params.items():
            rate = self.learning_rate(block, epoch)
            if rate == 0.0:
                continue
            if block not in blocks:
                raise ValueError(f"Optimizer.step: no gradient for block {block}.")
            g = np.asarray(blocks[block])
            if g.shape != theta.shape or not np.all(np.isfinite(g)):
                raise ValueError(
                    f"Optimizer.step: gradient of {block} has shape {g.shape} (expected "
                    f"{theta.shape}) or is not finite."
                )
            g = clip_gradient(g, self.clip, self.clip_bound)
            if self.l2[block]:
                g = g + self.l2[block] * theta
            theta -= (rate * self._direction(block, g, theta)).astype(theta.dtype, copy=False)

    def _direction(self, block, g, theta):
        if self.method == "sgd":
            return g
        state = self.state.setdefault(block, {})
        if self.method == "rmsprop":
            s = state.setdefault("s", np.zeros_like(theta))
            s *= self.rms_beta
            s += (1.0 - self.rms_beta) * g * g
            return g / np.sqrt(s + self.rms_eps)
        m1 = state.setdefault("m", np.zeros_like(theta))
        m2 = state.setdefault("s", np.zeros_like(theta))
        count = state.setdefault("t", np.zeros((), dtype=np.int64))
        count += 1
        m1 *= self.beta1
        m1 += (1.0 - self.beta1) * g
        m2 *= self.beta2
        m2 += (1.0 - self.beta2) * g * g
        m_hat = m1 / (1.0 - self.beta1 ** int(count))
        s_hat = m2 / (1.0 - self.beta2 ** int(count))
        return m_hat / (np.sqrt(s_hat) + self.adam_eps) + self.weight_decay[block] * theta

    # -- checkpointing -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat dict of arrays (``"rec.pi/m"`` …) for an ``np.savez`` checkpoint."""
        flat = {
            f"{block}/{key}": np.array(value)
            for block, state in self.state.items()
            for key, value in state.items()
        }
        flat["steps"] = np.array(self.steps)
        return flat

    def load_state_dict(self, flat: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.state = {}
        for key, value in flat.items():
            if key == "steps":
                self.steps = int(value)
                continue
            block, name = key.split("/")
            if block not in BLOCK_NAMES:
                raise ValueError(f"Optimizer state: unknown block {block!r} in key {key!r}.")
            self.state.setdefault(block, {})[name] = np.array(value)
