"""Run configs: the paper's hyperparameters and initialisations per task, and overrides.

A config is a nested dict of TOML values (no None). :func:`paper_config` gives the official
settings of a task (docs/model.md §2.4–2.5, §3); :func:`resolve_config` applies ``--set key=value``
overrides (dotted keys into the nesting, values parsed as TOML literals) and validates the result.
Every run writes its resolved config as ``config.toml`` beside its results.

Layout (row-by-row MNIST shown)::

    task = "row-mnist"           preset = "paper"      seed = 0
    dtype = "float64"            data = "embedded"     # or a directory of IDX files
    model = "ensemble"           # "deterministic": w = m, π = Ξ = 0 (the BPTT baseline)
    epochs = 200                 batches_per_epoch = 200      batch_size = 128
    fluctuation = true           # false: ε = ε_out = 0 in every training pass (an ablation)
    checkpoint_every = 20        # batches between mid-epoch checkpoints (0: epoch ends only)
    snapshot_every = 1           # epochs between parameter snapshots (0: initial and final only)
    eval_every = 1               # epochs between per-epoch mean-field test accuracies (0: never)
    [task_options]               # extra constructor arguments of the task (MSI: variant)
    [network]  n_rec, alpha, h0, activation, sigma_rec
    [init.inp] / [init.rec] / [init.out]
        m = "normal" | "identity" | "zeros",  m_scale   (m = m_scale · N(0, 1) or m_scale · I)
        xi = "uniform" | "constant",  xi_scale   (Ξ = xi_scale · U(0, 1), or Ξ = xi_scale)
        pi = a constant in [0, 1] | "uniform"    (π = pi, or π ~ U(0, 1): the official
                                                  ``uniform_pi``)
    [optimizer]  method, clip ("spectral" | "frobenius" | "none"), clip_bound, lr_floor
        [optimizer.lr.<layer>]           m, pi, xi      (0 freezes a block)
        [optimizer.halve_every.<layer>]  m, pi, xi      (halving period of the lr; 0 = never)
        [optimizer.weight_decay]         m, pi, xi      (decoupled, Adam only)
        [optimizer.l2]                   m, pi, xi      (explicit L2 added to the gradient)
    [early_stop]  enabled, min_epoch, max_loss   (MSI: stop once epoch ≥ 100 and L ≤ 0.002)
    [evaluation]  n_samples (sampled networks K), test_batch_size, test_samples (0: the whole
                  test set), n_test_batches, test_dt, psychometric_mode, n_boot (MSI:
                  bootstrap replicates of the psychometric fits)

Presets. ``paper`` is the official settings. ``bptt`` is the ordinary-BPTT baseline on the same
footing: the same architecture, initial means (drawn from the same stream, so m at epoch 0 equals
the paper preset's for the same seed), optimizer, learning rates for m, schedule, clipping, data
stream and private noise σ_rec; but ``model = "deterministic"``: π and Ξ are set to 0 after the
draw (structural absences keep π = 1) and never updated (their learning rates are 0), and there is
no ε term (``fluctuation = false``), so every pass is the ordinary deterministic one.

Task-specific departures: the multisensory "epoch" is one minibatch iteration
(``batches_per_epoch = 1``, ``epochs = 500``). ``binary-mnist`` is a plain mean-field run with MSE
on the scalar output (the RNTK full-batch GD experiment lives in ``sims.kernels``); ``sine`` is
the toy model of docs/model.md §3.6 and has its own ``[toy]`` table instead of
network/init/optimizer.
"""

from __future__ import annotations

import copy
import math
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from dynamics.optim import METHODS
from sims.evaluate import EVALUATION_MODES

__all__ = [
    "PRESETS",
    "TASK_NAMES",
    "apply_override",
    "flat_keys",
    "paper_config",
    "parse_override",
    "resolve_config",
    "validate_config",
]

TASK_NAMES = ("pixel-mnist", "row-mnist", "multisensory", "binary-mnist", "sine")
PRESETS = ("paper", "bptt")
#: "ensemble": the spike-and-slab network of the paper; "deterministic": w = m (the bptt preset).
MODELS = ("ensemble", "deterministic")
LAYERS = ("inp", "rec", "out")
PARAMETERS = ("m", "pi", "xi")
M_INITS = ("normal", "identity", "zeros")
XI_INITS = ("uniform", "constant")
CLIPS = ("spectral", "frobenius", "none")


def _per_layer(value) -> dict:
    return {layer: dict.fromkeys(PARAMETERS, value) for layer in LAYERS}


def _init(m, m_scale, xi_scale) -> dict:
    """An ``[init.<layer>]`` table with uniform Ξ and π = 0 (every preset's)."""
    return {
        "m": m,
        "m_scale": float(m_scale),
        "xi": "uniform",
        "xi_scale": float(xi_scale),
        "pi": 0.0,
    }


def _common(task: str) -> dict:
    common = {"task": task, "preset": "paper", "seed": 0, "dtype": "float64", "data": "embedded"}
    if task != "sine":
        common["model"] = "ensemble"
        common["fluctuation"] = True
    return common


def _deterministic(config: dict) -> dict:
    """The ``bptt`` preset from a paper config (module docstring), in place."""
    config["model"] = "deterministic"
    config["fluctuation"] = False
    for layer in LAYERS:
        for name in ("pi", "xi"):
            config["optimizer"]["lr"][layer][name] = 0.0
    return config


def _schedule(
    epochs, batches_per_epoch, batch_size, *, checkpoint_every, eval_every, task_options=None
) -> dict:
    """How long a run trains, how it checkpoints and evaluates (a snapshot after every epoch)."""
    return {
        "epochs": epochs,
        "batches_per_epoch": batches_per_epoch,
        "batch_size": batch_size,
        "checkpoint_every": checkpoint_every,
        "snapshot_every": 1,
        "eval_every": eval_every,
        "task_options": task_options or {},
    }


def _network(n_rec: int, *, alpha: float, h0: float, sigma_rec: float) -> dict:
    """The ``[network]`` table of a ReLU network of ``n_rec`` recurrent units."""
    return {"n_rec": n_rec, "alpha": alpha, "h0": h0, "activation": "relu", "sigma_rec": sigma_rec}


def _optimizer(
    method: str,
    lr: dict,
    halve_every: dict,
    *,
    clip: str,
    lr_floor: float,
    weight_decay=0.0,
    l2=0.0,
) -> dict:
    """The ``[optimizer]`` table: weight decay and L2 act on m and Ξ only, never on π."""
    return {
        "method": method,
        "clip": clip,
        "clip_bound": 10.0,
        "lr_floor": lr_floor,
        "lr": lr,
        "halve_every": halve_every,
        "weight_decay": {"m": weight_decay, "pi": 0.0, "xi": weight_decay},
        "l2": {"m": l2, "pi": 0.0, "xi": l2},
    }


def _evaluation(test_batch_size: int, *, n_test_batches: int = 0, test_dt: float = 0.0) -> dict:
    """The ``[evaluation]`` table: 10 sampled networks, the whole test set, mean-field curves."""
    return {
        "n_samples": 10,
        "test_batch_size": test_batch_size,
        "test_samples": 0,
        "n_test_batches": n_test_batches,
        "test_dt": test_dt,
        "psychometric_mode": "meanfield",
        "n_boot": 1000,
    }


def _mnist_config(task: str) -> dict:
    """Official MNIST settings (docs/model.md §2.4, §2.5, §3.1–3.2)."""
    pixel = task == "pixel-mnist"
    n_in, n_rec = (1, 100) if pixel else (28, 100)
    scale = math.sqrt(
        n_in / n_rec
    )  # official √(N_in/N), also (sic) for m_out (docs/official-code.md §1.20)
    xi_scale = 0.01 if pixel else 0.1
    lr = _per_layer(1e-3)
    if pixel:  # deterministic input layer: π_in = Ξ_in = 0, never updated (docs/model.md §1.4)
        lr["inp"]["pi"] = lr["inp"]["xi"] = 0.0
    return {
        **_common(task),
        **_schedule(200, 200, 128, checkpoint_every=20, eval_every=1),
        "network": _network(n_rec, alpha=0.1, h0=0.1, sigma_rec=0.0),
        "init": {
            "inp": _init("normal", scale, 0.0 if pixel else 0.1),
            "rec": _init("identity", 1.0, xi_scale),
            "out": _init("normal", scale, xi_scale),
        },
        "optimizer": _optimizer(
            "adam", lr, _per_layer(40), clip="spectral", lr_floor=1e-8, weight_decay=1e-4
        ),
        "early_stop": {"enabled": False, "min_epoch": 0, "max_loss": 0.0},
        "evaluation": _evaluation(1000),
    }


def _multisensory_config() -> dict:
    """Official MSI settings of ``RNN_SaS_cogni.py`` (docs/model.md §2.4, §2.5, §3.3)."""
    n_in, n_rec = 5, 150
    lr = _per_layer(1e-3)
    lr["inp"]["pi"] = lr["inp"]["xi"] = 0.0  # π_in is a fixed structural mask, Ξ_in = 0
    lr["rec"]["pi"] = 1.0
    lr["out"]["pi"] = 0.1  # the notebook copy uses 0.01 (docs/official-code.md §1.5)
    halve = _per_layer(0)
    halve["rec"]["pi"] = halve["out"]["pi"] = 100
    return {
        **_common("multisensory"),
        **_schedule(
            500, 1, 30, checkpoint_every=0, eval_every=0, task_options={"variant": "official"}
        ),
        "network": _network(n_rec, alpha=0.2, h0=0.0, sigma_rec=0.15),
        "init": {
            "inp": _init("normal", 1.0 / math.sqrt(n_in), 0.0),
            "rec": _init("normal", 1.0 / math.sqrt(n_rec), 0.01),
            "out": _init("normal", 1.0 / math.sqrt(n_rec), 0.01),
        },
        "optimizer": _optimizer("rmsprop", lr, halve, clip="none", lr_floor=0.0, l2=1e-3),
        "early_stop": {"enabled": True, "min_epoch": 100, "max_loss": 0.002},
        "evaluation": _evaluation(24, n_test_batches=20, test_dt=0.5),
    }


def _binary_mnist_config() -> dict:
    """A plain mean-field run on the MNIST 0/1 subset (docs/model.md §3.4), MSE on the scalar
    output.

    Not the official experiment (full-batch GD under the NTK parameterisation, ``sims.kernels``):
    standard-parameterised initialisation m ~ N(0, 1/fan_in), Ξ_rec = U(0, 1)/N, α = 1 and h0 = 0,
    trained full-batch with Adam (lr 1e-3) for 100 epochs.
    """
    n_in, n_rec = 28, 64
    return {
        **_common("binary-mnist"),
        **_schedule(100, 1, 512, checkpoint_every=0, eval_every=1),
        "network": _network(n_rec, alpha=1.0, h0=0.0, sigma_rec=0.0),
        "init": {
            "inp": _init("normal", 1.0 / math.sqrt(n_in), 0.0),
            "rec": _init("normal", 1.0 / math.sqrt(n_rec), 1.0 / n_rec),
            "out": _init("normal", 1.0 / math.sqrt(n_rec), 0.0),
        },
        "optimizer": _optimizer(
            "adam", _per_layer(1e-3), _per_layer(0), clip="none", lr_floor=1e-8
        ),
        "early_stop": {"enabled": False, "min_epoch": 0, "max_loss": 0.0},
        "evaluation": _evaluation(128),
    }


def _sine_config() -> dict:
    """The toy model of ``toymodel.py`` (docs/model.md §2.4 "Toy model", §3.6, §5.3)."""
    return {
        **_common("sine"),
        "epochs": 600,
        "task_options": {},
        "toy": {
            "n_synapses": 10_000,
            "alpha": 0.9,
            "lr_m": 0.005,
            "lr_pi": 0.01,
            "lr_xi": 0.01,
            "halve_every": 100,
            "h0": 0.0,
        },
    }


def paper_config(task: str) -> dict:
    """The official config of ``task`` (a fresh nested dict).

    Raises:
        ValueError: unknown task (the message lists the known ones).
    """
    if task in ("pixel-mnist", "row-mnist"):
        return _mnist_config(task)
    if task == "multisensory":
        return _multisensory_config()
    if task == "binary-mnist":
        return _binary_mnist_config()
    if task == "sine":
        return _sine_config()
    raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASK_NAMES)}.")


def flat_keys(config: dict, prefix: str = "") -> dict[str, Any]:
    """The leaves of a nested config by dotted key, e.g. ``{"optimizer.lr.rec.pi": 0.001}``."""
    keys = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "task_options":
            keys.update(flat_keys(value, dotted + "."))
        else:
            keys[dotted] = value
    return keys


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` with the value read as a TOML literal (``1e-3``, ``"adam"``, ``true``).

    A bare word that is not a TOML literal (``adam``) is taken as a string.

    Raises:
        ValueError: no ``=`` or an empty key.
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ValueError(f"--set expects KEY=VALUE (e.g. optimizer.lr.rec.pi=0.5); got {text!r}.")
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        if not raw or any(c in raw for c in "[]{}=\"'"):
            raise ValueError(
                f"--set {key}: {raw!r} is not a TOML literal; write numbers as 1e-3, strings "
                f'as "text", booleans as true/false, lists as [1, 2].'
            ) from None
        value = raw
    return key, value


def apply_override(config: dict, key: str, value: Any) -> None:
    """Set the dotted ``key`` of ``config`` to ``value`` in place.

    ``task_options.<name>`` may add new task constructor options (checked when the task is
    built); every other key must already exist.

    Raises:
        ValueError: unknown key (the message lists the valid ones) or a value whose type does not
            match the key's (an int is accepted for a float).
    """
    parts = key.split(".")
    if key in ("task", "preset"):
        raise ValueError(f"the {key} is chosen with --{key}, not with --set {key}=...")
    if parts[0] == "task_options" and len(parts) == 2:
        config.setdefault("task_options", {})[parts[1]] = value
        return
    valid = flat_keys(config)
    if key not in valid:
        raise ValueError(
            f"unknown config key {key!r} for task {config.get('task')!r}; valid keys: "
            f"{', '.join(sorted(valid))} (and task_options.<name>)."
        )
    old = valid[key]
    if parts[0] == "init" and parts[-1] == "pi":  # a number or "uniform": validate_config checks
        old = value
    if (
        isinstance(old, bool) != isinstance(value, bool)
        or (isinstance(old, (int, float)) and not isinstance(value, (int, float)))
        or (isinstance(old, str) and not isinstance(value, str))
        or (isinstance(old, int) and not isinstance(old, bool) and isinstance(value, float))
    ):
        raise ValueError(
            f"config key {key!r} takes a {type(old).__name__} (current value {old!r}); got "
            f"{value!r} ({type(value).__name__})."
        )
    if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    node = config
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ValueError(f"config key {key!r}: {message}")


def validate_config(config: dict) -> dict:
    """Check every value of a resolved config; return it unchanged.

    Raises:
        ValueError: the first invalid value, naming its key and the allowed range.
    """
    task = config.get("task")
    _require(task in TASK_NAMES, "task", f"must be one of {TASK_NAMES}; got {task!r}.")
    _require(config.get("preset") in PRESETS, "preset", f"must be one of {PRESETS}.")
    _require(
        isinstance(config["seed"], int) and config["seed"] >= 0,
        "seed",
        f"must be an integer >= 0; got {config['seed']!r}.",
    )
    _require(
        config["dtype"] in ("float64", "float32"),
        "dtype",
        f"must be 'float64' or 'float32'; got {config['dtype']!r}.",
    )
    _require(
        isinstance(config["data"], str) and config["data"] != "",
        "data",
        "must be 'embedded' or a directory of MNIST IDX files.",
    )
    _require(config["epochs"] >= 1, "epochs", f"must be >= 1; got {config['epochs']!r}.")
    if task == "sine":
        toy = config["toy"]
        for key in ("n_synapses", "halve_every"):
            _require(toy[key] >= 1, f"toy.{key}", f"must be >= 1; got {toy[key]!r}.")
        _require(0.0 < toy["alpha"] <= 1.0, "toy.alpha", "must lie in (0, 1].")
        for key in ("lr_m", "lr_pi", "lr_xi"):
            _require(toy[key] >= 0.0, f"toy.{key}", "must be >= 0.")
        return config
    _require(isinstance(config["fluctuation"], bool), "fluctuation", "must be true or false.")
    _require(config["model"] in MODELS, "model", f"must be one of {MODELS}.")
    if config["model"] == "deterministic":
        _require(
            not config["fluctuation"],
            "fluctuation",
            "must be false for model = 'deterministic' (w = m has no ε term).",
        )
        for layer in LAYERS:
            for name in ("pi", "xi"):
                _require(
                    config["optimizer"]["lr"][layer][name] == 0.0,
                    f"optimizer.lr.{layer}.{name}",
                    "must be 0 for model = 'deterministic' (π = Ξ = 0 are never updated).",
                )
    for key in ("batches_per_epoch", "batch_size"):
        _require(config[key] >= 1, key, f"must be >= 1; got {config[key]!r}.")
    for key in ("checkpoint_every", "snapshot_every", "eval_every"):
        _require(config[key] >= 0, key, f"must be >= 0; got {config[key]!r}.")
    network = config["network"]
    _require(network["n_rec"] >= 1, "network.n_rec", "must be >= 1.")
    _require(
        0.0 < network["alpha"] <= 1.0,
        "network.alpha",
        f"must lie in (0, 1]; got {network['alpha']!r}.",
    )
    _require(
        network["activation"] in ("relu", "tanh"), "network.activation", "must be 'relu' or 'tanh'."
    )
    _require(network["sigma_rec"] >= 0.0, "network.sigma_rec", "must be >= 0.")
    _require(math.isfinite(network["h0"]), "network.h0", "must be finite.")
    for layer in LAYERS:
        init = config["init"][layer]
        _require(init["m"] in M_INITS, f"init.{layer}.m", f"must be one of {M_INITS}.")
        _require(
            not (init["m"] == "identity" and layer != "rec"),
            f"init.{layer}.m",
            "'identity' is only defined for the square recurrent layer.",
        )
        for key in ("m_scale", "xi_scale"):
            _require(init[key] >= 0.0, f"init.{layer}.{key}", "must be >= 0.")
        _require(init["xi"] in XI_INITS, f"init.{layer}.xi", f"must be one of {XI_INITS}.")
        pi = init["pi"]
        _require(
            pi == "uniform" or (_is_number(pi) and 0.0 <= pi <= 1.0),
            f"init.{layer}.pi",
            f"must be a constant in [0, 1] (π is a probability) or 'uniform'; got {pi!r}.",
        )
    optimizer = config["optimizer"]
    _require(optimizer["method"] in METHODS, "optimizer.method", f"must be one of {METHODS}.")
    _require(optimizer["clip"] in CLIPS, "optimizer.clip", f"must be one of {CLIPS}.")
    _require(optimizer["clip_bound"] > 0.0, "optimizer.clip_bound", "must be > 0.")
    for table in ("lr", "halve_every"):
        for layer in LAYERS:
            for name in PARAMETERS:
                value = optimizer[table][layer][name]
                _require(
                    value >= 0, f"optimizer.{table}.{layer}.{name}", f"must be >= 0; got {value!r}."
                )
    for table in ("weight_decay", "l2"):
        for name in PARAMETERS:
            _require(optimizer[table][name] >= 0.0, f"optimizer.{table}.{name}", "must be >= 0.")
    evaluation = config["evaluation"]
    _require(evaluation["n_samples"] >= 1, "evaluation.n_samples", "must be >= 1.")
    _require(evaluation["n_boot"] >= 1, "evaluation.n_boot", "must be >= 1.")
    _require(evaluation["test_batch_size"] >= 1, "evaluation.test_batch_size", "must be >= 1.")
    _require(
        evaluation["test_samples"] >= 0,
        "evaluation.test_samples",
        "must be >= 0 (0: the whole test set).",
    )
    _require(
        evaluation["psychometric_mode"] in EVALUATION_MODES,
        "evaluation.psychometric_mode",
        f"must be one of {EVALUATION_MODES}.",
    )
    if task == "multisensory":
        _require(evaluation["n_test_batches"] >= 1, "evaluation.n_test_batches", "must be >= 1.")
        _require(
            evaluation["test_dt"] > 0.0, "evaluation.test_dt", "must be a positive time step in ms."
        )
    return config


def resolve_config(task: str, preset: str = "paper", overrides=(), **settings) -> dict:
    """The config of a run: the preset, then named settings, then ``--set`` overrides.

    Example:
        >>> config = resolve_config("row-mnist", epochs=40, batches_per_epoch=31,
        ...                         overrides=["optimizer.lr.rec.pi=5e-4"])

    Args:
        task: one of :data:`TASK_NAMES`.
        preset: one of :data:`PRESETS`.
        overrides: iterable of ``"key=value"`` strings (TOML literals) or ``(key, value)`` pairs.
        **settings: top-level keys (``epochs``, ``seed``, ``data`` …); None values are skipped.

    Returns:
        A validated nested config dict.

    Raises:
        ValueError: unknown task, preset or key; a value of the wrong type or out of range.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}.")
    config = copy.deepcopy(paper_config(task))
    if preset == "bptt":
        if task == "sine":
            raise ValueError("preset 'bptt' applies to network tasks; 'sine' has no network.")
        _deterministic(config)
    config["preset"] = preset
    for key, value in settings.items():
        if value is not None:
            apply_override(config, key, value)
    for item in overrides:
        key, value = parse_override(item) if isinstance(item, str) else item
        apply_override(config, key, value)
    return validate_config(config)
