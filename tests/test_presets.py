"""Paper presets reproduce the official hyperparameters; overrides are checked (docs/model.md
§2.4–2.5)."""

import math

import numpy as np
import pytest

from sims import store
from sims.presets import (
    TASK_NAMES,
    flat_keys,
    paper_config,
    parse_override,
    resolve_config,
)
from sims.train import build_network, build_optimizer, build_task

#: Learning rates are exact decimal constants of the official scripts.
EXACT = 0.0


def test_mnist_presets_use_adam_with_the_official_schedule_clip_and_decay():
    for task in ("pixel-mnist", "row-mnist"):
        config = paper_config(task)
        opt = build_optimizer(config)
        assert opt.method == "adam"
        assert opt.clip == "spectral" and opt.clip_bound == 10.0
        assert opt.weight_decay["rec.m"] == 1e-4 and opt.weight_decay["rec.xi"] == 1e-4
        assert opt.weight_decay["rec.pi"] == 0.0
        # lr = 1e-3 · 0.5^((epoch+1)//40): first halving at epoch index 39 (docs/model.md §2.4;
        # docs/official-code.md §1.17)
        assert opt.learning_rate("rec.m", 38) == 1e-3
        assert opt.learning_rate("rec.m", 39) == 5e-4
        assert (config["epochs"], config["batches_per_epoch"], config["batch_size"]) == (
            200,
            200,
            128,
        )


def test_pixel_mnist_input_layer_is_deterministic_and_frozen_in_pi_and_xi():
    config = paper_config("pixel-mnist")
    opt = build_optimizer(config)
    assert opt.lr["inp.pi"] == EXACT and opt.lr["inp.xi"] == EXACT
    net = build_network(config, build_task(config), np.random.default_rng(0))
    assert np.all(net.inp.pi == 0) and np.all(net.inp.xi == 0)
    assert net.inp.shape == (100, 1)


def test_row_mnist_initialisation_is_identity_recurrence_with_scaled_normal_readout():
    config = paper_config("row-mnist")
    net = build_network(config, build_task(config), np.random.default_rng(0))
    assert np.array_equal(net.rec.m, np.eye(100))
    assert 0.0 <= net.rec.xi.min() and net.rec.xi.max() <= 0.1
    assert np.all(net.rec.pi == 0)
    # m_out = N(0, 1)·√(28/100) (sic: N_in, docs/official-code.md §1.20); 1,000 draws give the std
    # to ~5 %
    assert net.out.m.std() == pytest.approx(math.sqrt(28 / 100), rel=0.1)
    assert (net.alpha, net.h0, net.readout, net.loss) == (0.1, 0.1, "last", "cross_entropy")


def test_multisensory_preset_uses_rmsprop_l2_and_halving_pi_rates():
    config = paper_config("multisensory")
    opt = build_optimizer(config)
    assert opt.method == "rmsprop" and opt.clip is None
    assert opt.lr["rec.pi"] == 1.0 and opt.lr["out.pi"] == 0.1
    assert opt.lr["inp.pi"] == EXACT and opt.lr["inp.xi"] == EXACT
    assert opt.learning_rate("rec.pi", 99) == 0.5  # flag = (e+1)//100
    assert opt.learning_rate("rec.m", 499) == 1e-3
    assert opt.l2["rec.m"] == 1e-3 and opt.l2["rec.xi"] == 1e-3 and opt.l2["rec.pi"] == 0.0
    assert config["early_stop"] == {"enabled": True, "min_epoch": 100, "max_loss": 0.002}
    net = build_network(config, build_task(config), np.random.default_rng(0))
    assert net.sigma_rec == 0.15 and net.alpha == 0.2 and net.h0 == 0.0
    # input groups: units 0-49 get no visual channels (0, 2)
    assert np.all(net.inp.pi[:50, [0, 2]] == 1) and np.all(net.inp.m[:50, [0, 2]] == 0)


def test_set_values_are_parsed_as_toml_literals():
    assert parse_override("optimizer.lr.rec.pi=5e-4") == ("optimizer.lr.rec.pi", 5e-4)
    assert parse_override('optimizer.method="sgd"') == ("optimizer.method", "sgd")
    assert parse_override("optimizer.method=sgd") == ("optimizer.method", "sgd")
    assert parse_override("early_stop.enabled=false") == ("early_stop.enabled", False)
    config = resolve_config("row-mnist", overrides=["optimizer.lr.rec.pi=5e-4", "seed=3"], epochs=4)
    assert config["optimizer"]["lr"]["rec"]["pi"] == 5e-4
    assert (config["seed"], config["epochs"]) == (3, 4)


def test_unknown_set_key_error_lists_the_valid_keys():
    with pytest.raises(ValueError, match="unknown config key 'optimizer.lr.rec.rho'") as info:
        resolve_config("row-mnist", overrides=["optimizer.lr.rec.rho=1"])
    assert "optimizer.lr.rec.pi" in str(info.value) and "network.n_rec" in str(info.value)


def test_values_of_the_wrong_type_or_range_name_their_key():
    with pytest.raises(ValueError, match="'epochs' takes a int"):
        resolve_config("row-mnist", overrides=["epochs=2.5"])
    with pytest.raises(ValueError, match="'network.alpha'.*must lie in"):
        resolve_config("row-mnist", overrides=["network.alpha=1.5"])
    with pytest.raises(ValueError, match="'optimizer.method'"):
        resolve_config("row-mnist", overrides=["optimizer.method=newton"])
    with pytest.raises(ValueError, match="not a TOML literal"):
        resolve_config("row-mnist", overrides=["optimizer.lr.rec.pi=[1,"])
    with pytest.raises(ValueError, match="unknown preset"):
        resolve_config("row-mnist", preset="fast")


@pytest.mark.parametrize("task", TASK_NAMES)
def test_every_preset_round_trips_through_toml(task, tmp_path):
    config = resolve_config(task)
    store.atomic_write_toml(tmp_path / "config.toml", config)
    assert store.read_toml(tmp_path / "config.toml") == config
    assert all(value is not None for value in flat_keys(config).values())


def test_config_hash_depends_on_values_not_on_key_order():
    config = resolve_config("row-mnist")
    reordered = dict(reversed(list(config.items())))
    assert store.config_hash(config) == store.config_hash(reordered)
    assert store.config_hash(config) != store.config_hash(resolve_config("row-mnist", seed=1))


@pytest.mark.parametrize("key", ["task", "preset"])
def test_the_task_and_preset_cannot_be_overridden_with_set(key):
    with pytest.raises(ValueError, match=f"chosen with --{key}"):
        resolve_config("row-mnist", overrides=[f'{key}="sine"'])


@pytest.mark.parametrize("layer", ["inp", "rec", "out"])
def test_initial_pi_is_zero_a_constant_or_uniform_and_xi_uniform_or_constant(layer):
    from sims.runs import build_network, seeded_streams
    from sims.tasks import task_from_config

    def network(*overrides):
        config = resolve_config("row-mnist", overrides=["network.n_rec=20", *overrides])
        return build_network(config, task_from_config(config), seeded_streams(0)[0])

    base = network().layers()[layer]
    assert np.all(base.pi == 0)
    constant = network(f"init.{layer}.pi=0.5").layers()[layer]
    assert np.all(constant.pi == 0.5) and np.array_equal(constant.m, base.m)
    uniform = network(f'init.{layer}.pi="uniform"').layers()[layer].pi
    assert 0 < uniform.min() and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.1
    xi = network(f'init.{layer}.xi="constant"', f"init.{layer}.xi_scale=0.03").layers()[layer].xi
    assert np.all(xi == 0.03)


@pytest.mark.parametrize(
    "override, message",
    [
        ("init.rec.pi=1.5", "init.rec.pi"),
        ('init.rec.pi="gaussian"', "init.rec.pi"),
        ('init.rec.xi="normal"', "init.rec.xi"),
    ],
)
def test_bad_initial_pi_or_xi_names_the_key(override, message):
    with pytest.raises(ValueError, match=message):
        resolve_config("row-mnist", overrides=[override])
