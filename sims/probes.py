"""Probes: named experiments that map one config dict to a dict of scalar metrics.

A probe is anything a parameter scan (:mod:`sims.scan`) can sweep: the dynamics of an untrained
network today, a training run or an analysis later. Register one with::

    @register_probe("kernel-drift", defaults={"N": 64, "lr": 1e-3, "seed": 0},
                    metrics=("drift",), description="...")
    def kernel_drift(config: dict) -> dict[str, float]: ...

in any module, and add that module to :data:`PROBE_MODULES` so that :func:`get_probe` imports it on
demand. The function must be importable by reference (a module-level function), because parallel
workers unpickle it by module and name. A probe may also register ``theory(x_key, x_values, y_key,
y_values, config) -> dict | None``, a known phase boundary for the scanned plane (see
:func:`init_dynamics_theory` for the format).

Probes registered here: ``init-dynamics`` (largest Lyapunov exponent and activity of an untrained
SaS network, :mod:`dynamics.init_dynamics`; theory :mod:`theory.phase`); ``kernel-drift`` (lazy vs
feature learning on MNIST 0/1, :mod:`sims.learning_regime`; theory :mod:`theory.regime`);
``train`` (a full training run from the cell's initial ensemble, :mod:`sims.train_probe`; theory
:mod:`theory.phase`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dynamics.init_dynamics import (
    draw_sas_ensemble,
    lyapunov_mean_field,
    lyapunov_quenched,
    sample_weights,
)
from theory.phase import stability_margin

#: Modules that register probes; imported by :func:`get_probe` when a name is not yet known.
PROBE_MODULES: tuple[str, ...] = ("sims.probes", "sims.learning_regime", "sims.train_probe")

ProbeFunction = Callable[[dict], Mapping[str, float]]


@dataclass(frozen=True)
class Probe:
    """A registered probe: ``function(config) -> {metric: float}`` with its default config."""

    name: str
    function: ProbeFunction
    defaults: Mapping[str, Any]
    metrics: tuple[str, ...]
    theory: Callable[..., dict | None] | None = None
    description: str = ""
    choices: Mapping[str, tuple] = field(default_factory=dict)

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The full config: defaults updated by ``overrides``, each cast to its default's type.

        Raises:
            ValueError: an unknown key, a value that does not convert, or a value outside the
                key's choices.
        """
        config = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in self.defaults:
                raise ValueError(
                    f"probe {self.name!r} has no config key {key!r}; known keys: "
                    f"{', '.join(sorted(self.defaults))}"
                )
            config[key] = _cast(key, value, self.defaults[key])
            if key in self.choices and config[key] not in self.choices[key]:
                raise ValueError(
                    f"{key} must be one of {self.choices[key]} for probe {self.name!r}; "
                    f"got {value!r}"
                )
        return config


#: name -> Probe
PROBES: dict[str, Probe] = {}


def register_probe(
    name: str,
    *,
    defaults: Mapping[str, Any],
    metrics: tuple[str, ...],
    theory: Callable[..., dict | None] | None = None,
    description: str = "",
    choices: Mapping[str, tuple] | None = None,
) -> Callable[[ProbeFunction], ProbeFunction]:
    """Decorator registering ``function(config) -> {metric: float}`` as probe ``name``."""

    def decorate(function: ProbeFunction) -> ProbeFunction:
        PROBES[name] = Probe(
            name, function, dict(defaults), tuple(metrics), theory, description, dict(choices or {})
        )
        return function

    return decorate


def get_probe(name: str) -> Probe:
    """The probe registered as ``name`` (importing PROBE_MODULES if needed).

    Raises:
        ValueError: no such probe (the message lists the known ones).
    """
    if name not in PROBES:
        for module in PROBE_MODULES:
            importlib.import_module(module)
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; known probes: {', '.join(sorted(PROBES))}")
    return PROBES[name]


def _cast(key, value, default):
    if isinstance(default, bool):
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes"):
                return True
            if value.lower() in ("0", "false", "no"):
                return False
            raise ValueError(f"{key} must be true or false; got {value!r}")
        return bool(value)
    try:
        if isinstance(default, int):
            as_float = float(value)
            if as_float != int(as_float):
                raise ValueError
            return int(as_float)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a {type(default).__name__}; got {value!r}") from None
    return str(value)


# ----------------------------------------------------------------------------------------------
# init-dynamics


INIT_DYNAMICS_DEFAULTS = {
    "g": 1.0,
    "J0": 0.0,
    "pi": 0.0,
    "xi": 0.0,
    "N": 200,
    "alpha": 1.0,
    "activation": "tanh",
    "network": "quenched",
    "steps": 1000,
    "transient": 500,
    "h0_std": 1.0,
    "seed": 0,
}
INIT_DYNAMICS_METRICS = (
    "lyapunov",
    "mean_rate",
    "abs_mean_rate",
    "variance",
    "rms_rate",
    "norm_growth",
    "phase",
)
#: Keys the quiescent-state theory depends on.
THEORY_KEYS = ("g", "J0", "pi", "xi", "alpha")
#: Resolution of the theory grid stored with a scan.
THEORY_GRID_POINTS = 161


def init_dynamics_theory(x_key, x_values, y_key, y_values, config) -> dict | None:
    """Quiescent-state stability margin log(gamma) on a fine grid of the scanned plane.

    Returns None when the boundary is not known: an axis that the theory does not depend on, or
    the mean-field ReLU network with alpha < 1 (theory.phase).

    Returns:
        {"quantity", "x": (nx,), "y": (ny,), "margin": (ny, nx) list of rows,
         "boundary_points": {"x", "y"}} where boundary_points are the zero crossings of the margin
        along grid rows and columns (linear interpolation).
    """
    if x_key not in THEORY_KEYS or y_key not in THEORY_KEYS:
        return None
    xs = np.linspace(min(x_values), max(x_values), THEORY_GRID_POINTS)
    ys = np.linspace(min(y_values), max(y_values), THEORY_GRID_POINTS)
    margin = np.empty((ys.size, xs.size))
    parameters = {k: config[k] for k in THEORY_KEYS}
    try:
        for iy, y in enumerate(ys):
            for ix, x in enumerate(xs):
                parameters.update({x_key: float(x), y_key: float(y)})
                margin[iy, ix] = stability_margin(
                    **parameters, activation=config["activation"], network=config["network"]
                )
    except ValueError:
        return None
    margin = np.maximum(margin, -50.0)  # -inf (nothing survives) drawn as very stable
    px, py = _zero_crossings(xs, ys, margin)
    return {
        "quantity": "log growth factor of small activity around h = 0 (theory.phase); "
        "boundary at 0",
        "x": xs.tolist(),
        "y": ys.tolist(),
        "margin": margin.tolist(),
        "boundary_points": {"x": px, "y": py},
    }


def _zero_crossings(xs, ys, grid):
    px, py = [], []
    for iy, y in enumerate(ys):
        row = grid[iy]
        for i in np.flatnonzero(np.sign(row[:-1]) != np.sign(row[1:])):
            px.append(float(xs[i] + (xs[i + 1] - xs[i]) * row[i] / (row[i] - row[i + 1])))
            py.append(float(y))
    for ix, x in enumerate(xs):
        column = grid[:, ix]
        for i in np.flatnonzero(np.sign(column[:-1]) != np.sign(column[1:])):
            py.append(float(ys[i] + (ys[i + 1] - ys[i]) * column[i] / (column[i] - column[i + 1])))
            px.append(float(x))
    return px, py


@register_probe(
    "init-dynamics",
    defaults=INIT_DYNAMICS_DEFAULTS,
    metrics=INIT_DYNAMICS_METRICS,
    theory=init_dynamics_theory,
    choices={"activation": ("tanh", "relu"), "network": ("quenched", "mean-field")},
    description="largest Lyapunov exponent and activity of an untrained SaS network",
)
def init_dynamics(config: dict) -> dict[str, float]:
    """Dynamics of one untrained SaS network at initialisation.

    Draws m ~ N(J0/N, g^2/N), Xi = xi/N, pi (dynamics.init_dynamics.draw_sas_ensemble), then
    h0 ~ N(0, h0_std^2), then either one weight sample (network "quenched") or the mean-field
    noise eps of shape (transient + steps, N) (network "mean-field"), all from
    ``numpy.random.default_rng(seed)`` in that order, so both kinds of network share m and h0.

    Args:
        config: keys g, J0, pi, xi, N, alpha, activation (tanh|relu), network
            (quenched|mean-field), steps, transient, h0_std, seed (INIT_DYNAMICS_DEFAULTS).

    Returns:
        {"lyapunov", "mean_rate", "abs_mean_rate", "variance", "rms_rate", "norm_growth",
         "phase" (0 decay, 1 saturation, 2 explosion)}; activity metrics are NaN on explosion.
    """
    n = int(config["N"])
    rng = np.random.default_rng(int(config["seed"]))
    m, pi, xi = draw_sas_ensemble(
        n, g=config["g"], J0=config["J0"], pi=config["pi"], xi=config["xi"], rng=rng
    )
    h0 = config["h0_std"] * rng.standard_normal(n)
    run = {
        "activation": config["activation"],
        "alpha": config["alpha"],
        "transient": int(config["transient"]),
    }
    if config["network"] == "quenched":
        w = sample_weights(m, pi, xi, rng)
        result = lyapunov_quenched(w, h0, steps=int(config["steps"]), **run)
    else:
        mu = (1 - pi) * m
        var = (1 - pi) * xi + pi * (1 - pi) * m**2
        eps = rng.standard_normal((int(config["transient"]) + int(config["steps"]), n))
        result = lyapunov_mean_field(mu, var, h0, eps, **run)
    return {
        "lyapunov": result.lyapunov,
        "mean_rate": result.mean_rate,
        "abs_mean_rate": result.abs_mean_rate,
        "variance": result.variance,
        "rms_rate": result.rms_rate,
        "norm_growth": result.norm_growth,
        "phase": float(result.phase_code),
    }
