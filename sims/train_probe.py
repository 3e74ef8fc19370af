"""The ``train`` probe: a scan cell is a full training run (docs/model.md §5.7, trainability).

A cell trains a task and preset (in memory, through :class:`sims.train.Trainer`) with the cell's
values as config overrides on the initial ensemble of the recurrent layer, and reports its final
metrics. Axis keys:

- ``g``: std of m_rec × √N. A value ≥ 0 switches m_rec from the preset's initialisation (the
  identity for MNIST) to m_rec ~ N(0, g²/N); a negative value keeps the preset's;
- ``pi``: the constant initial π of every recurrent connection (``init.rec.pi``);
- ``xi``: the constant initial Ξ_rec × N (``init.rec.xi = "constant"``), 0 by default so that a
  (g, π₀) diagram lies in the plane ξ₀ = 0; negative keeps the preset's uniform draw;
- ``alpha``, ``N``: the leak and the width (≤ 0 keeps the preset's);
- ``lr_scale``: a factor on every learning rate of the preset.

The theory overlay is the quiescent-state boundary of :mod:`theory.phase` for sampled (quenched)
networks of the task's activation, in the scanned plane (:func:`sims.probes.init_dynamics_theory`):
for ReLU with J0 = 0 it lies at g_eff² = (1 − π)(g² + ξ) = 2 (κ = 1).
"""

from __future__ import annotations

import math

import numpy as np

from sims.probes import init_dynamics_theory, register_probe

__all__ = [
    "TRAIN_DEFAULTS",
    "TRAIN_METRICS",
    "g_eff",
    "preset_alpha",
    "train_probe",
    "training_config",
]

TRAIN_DEFAULTS = {
    "task": "row-mnist",
    "preset": "paper",
    "g": -1.0,
    "pi": 0.0,
    "xi": 0.0,
    "alpha": -1.0,
    "N": 0,
    "lr_scale": 1.0,
    "epochs": 20,
    "batches_per_epoch": 31,
    "batch_size": 0,
    "test_samples": 0,
    "n_samples": 10,
    "loss_threshold": -1.0,
    "data": "embedded",
    "seed": 0,
}
TRAIN_METRICS = (
    "test_accuracy_meanfield",
    "test_accuracy_sampled_per_step",
    "final_train_loss",
    "epoch_below_threshold",
    "censored",
    "rec_mean_drift",
    "g_eff",
)
#: Train-loss thresholds of ``epoch_below_threshold`` when ``loss_threshold`` < 0: the MSI
#: early-stop MSE, and a cross-entropy well below chance (ln 10 ≈ 2.3) for MNIST.
DEFAULT_THRESHOLDS = {"multisensory": 0.002, "row-mnist": 0.5, "pixel-mnist": 0.5}


def g_eff(g: float, pi: float, xi: float) -> float:
    """Effective gain of the recurrent ensemble, g_eff = sqrt((1 − π)(g² + ξ))
    (docs/model.md §5.7); NaN when g or ξ is the preset's (negative)."""
    if g < 0 or xi < 0:
        return float("nan")
    return math.sqrt((1.0 - pi) * (g * g + xi))


def training_config(config: dict) -> dict:
    """The resolved training config of a probe config (module docstring)."""
    from sims.presets import LAYERS, resolve_config

    task = config["task"]
    base = resolve_config(task, preset=config["preset"])
    n_rec = int(config["N"]) if config["N"] > 0 else base["network"]["n_rec"]
    overrides = [
        f"init.rec.pi={float(config['pi'])}",
        "checkpoint_every=0",
        "snapshot_every=0",
        "eval_every=0",
        f"evaluation.n_samples={int(config['n_samples'])}",
        f"network.n_rec={n_rec}",
    ]
    if task != "multisensory":
        overrides.append(f"evaluation.test_samples={int(config['test_samples'])}")
    if config["g"] >= 0:
        overrides += ['init.rec.m="normal"', f"init.rec.m_scale={config['g'] / math.sqrt(n_rec)}"]
    if config["xi"] >= 0:
        overrides += ['init.rec.xi="constant"', f"init.rec.xi_scale={config['xi'] / n_rec}"]
    if config["alpha"] > 0:
        overrides.append(f"network.alpha={float(config['alpha'])}")
    if config["batch_size"] > 0:
        overrides.append(f"batch_size={int(config['batch_size'])}")
    if config["lr_scale"] != 1.0:
        lr = base["optimizer"]["lr"]
        overrides += [
            f"optimizer.lr.{layer}.{name}={lr[layer][name] * config['lr_scale']}"
            for layer in LAYERS
            for name in ("m", "pi", "xi")
            if lr[layer][name] > 0
        ]
    settings = {"seed": int(config["seed"]), "epochs": int(config["epochs"])}
    if task != "multisensory":
        settings.update(batches_per_epoch=int(config["batches_per_epoch"]), data=config["data"])
    return resolve_config(task, preset=config["preset"], overrides=overrides, **settings)


def train_theory(x_key, x_values, y_key, y_values, config) -> dict | None:
    """The quiescent-state boundary of sampled networks in the scanned plane (module docstring);
    None for axes the theory does not depend on, or when g or ξ is the preset's."""
    if config["g"] < 0 and "g" not in (x_key, y_key):
        return None
    alpha = config["alpha"] if config["alpha"] > 0 else preset_alpha(config)
    theory_config = {
        "g": max(config["g"], 0.0),
        "J0": 0.0,
        "pi": config["pi"],
        "xi": max(config["xi"], 0.0),
        "alpha": alpha,
        "activation": "relu",
        "network": "quenched",
    }
    return init_dynamics_theory(x_key, x_values, y_key, y_values, theory_config)


def preset_alpha(config) -> float:
    """The leak α of the probe config's task and preset."""
    from sims.presets import resolve_config

    return float(resolve_config(config["task"], preset=config["preset"])["network"]["alpha"])


@register_probe(
    "train",
    defaults=TRAIN_DEFAULTS,
    metrics=TRAIN_METRICS,
    theory=train_theory,
    choices={
        "task": ("row-mnist", "pixel-mnist", "multisensory"),
        "preset": ("paper", "bptt"),
    },
    description="train a task from the cell's initial ensemble and report its final metrics",
)
def train_probe(config: dict) -> dict[str, float]:
    """Train one run from the cell's initial ensemble (module docstring).

    Returns:
        {"test_accuracy_meanfield" (MSI: the test accuracy of the psychometric evaluation),
        "test_accuracy_sampled_per_step" (NaN for the MSI), "final_train_loss",
        "epoch_below_threshold" (the first epoch, counted from 1, whose mean train loss is at
        most the threshold; MSI: iteration; the number of epochs trained + 1 if none, with
        "censored" = 1), "rec_mean_drift" (‖μ_rec,T − μ_rec,0‖_F / ‖μ_rec,0‖_F), "g_eff"}.
    """
    from sims.train import Trainer

    run_config = training_config(config)
    trainer = Trainer(run_config)
    trainer.fit(progress=False)
    losses = np.array([record["train_loss"] for record in trainer.history_])
    threshold = config["loss_threshold"]
    if threshold < 0:
        threshold = DEFAULT_THRESHOLDS[config["task"]]
    below = np.flatnonzero(losses <= threshold)
    final = trainer.final_
    start = _initial_mean(run_config, trainer.task_)
    end = trainer.network_.rec.mu
    return {
        "test_accuracy_meanfield": float(
            final.get("test_accuracy_meanfield", final.get("test_accuracy", np.nan))
        ),
        "test_accuracy_sampled_per_step": float(
            final.get("test_accuracy_sampled_per_step", np.nan)
        ),
        "final_train_loss": float(losses[-1]),
        "epoch_below_threshold": float(below[0] + 1 if below.size else losses.size + 1),
        "censored": float(below.size == 0),
        "rec_mean_drift": float(np.linalg.norm(end - start) / max(np.linalg.norm(start), 1e-300)),
        "g_eff": g_eff(config["g"], config["pi"], config["xi"]),
    }


def _initial_mean(run_config, task) -> np.ndarray:
    """μ_rec of the run's initial network, rebuilt from its seed."""
    from sims.runs import build_network, seeded_streams

    return build_network(run_config, task, seeded_streams(run_config["seed"])[0]).rec.mu
