"""Optimizers as the official scripts run them (docs/model.md §2.3–2.4)."""

import numpy as np
import pytest

from dynamics import BLOCK_NAMES, Optimizer, SaSLayer, SaSNetwork, clip_gradient


def small_network(rng):
    def layer(n_post, n_pre):
        return SaSLayer(
            rng.normal(size=(n_post, n_pre)),
            rng.uniform(0.2, 0.8, (n_post, n_pre)),
            rng.uniform(0.1, 0.5, (n_post, n_pre)),
        )

    return SaSNetwork(layer(4, 2), layer(4, 4), layer(3, 4))


def constant_grads(net, value=1.0):
    return {block: np.full(array.shape, value) for block, array in net.parameters().items()}


def test_adam_first_step_moves_every_block_by_lr_plus_decoupled_decay_on_m_and_xi():
    rng = np.random.default_rng(0)
    net = small_network(rng)
    before = {k: v.copy() for k, v in net.parameters().items()}
    opt = Optimizer("adam", lr=1e-3, weight_decay={"m": 1e-4, "xi": 1e-4})
    opt.step(net, constant_grads(net, 0.5), epoch=0)
    for block, theta in net.parameters().items():
        decay = 0.0 if block.endswith(".pi") else 1e-4
        # bias-corrected Adam's first step is g/|g| (up to ε): θ ← θ − lr (1 + λθ)
        expected = before[block] - 1e-3 * (0.5 / (0.5 + 1e-8) + decay * before[block])
        np.testing.assert_allclose(theta, expected, rtol=1e-12)


def test_rmsprop_with_l2_matches_the_msi_update():
    rng = np.random.default_rng(1)
    net = small_network(rng)
    theta0 = net.rec.m.copy()
    g = rng.normal(size=theta0.shape)
    opt = Optimizer("rmsprop", lr=1e-3, l2={"m": 1e-3, "xi": 1e-3})
    grads = constant_grads(net, 0.0)
    grads["rec.m"] = g
    opt.step(net, grads, epoch=0)
    g_total = g + 1e-3 * theta0
    expected = theta0 - 1e-3 * g_total / np.sqrt(0.1 * g_total**2 + 1e-8)
    np.testing.assert_allclose(net.rec.m, expected, rtol=1e-12)


def test_step_schedule_halves_with_the_official_off_by_one():
    opt = Optimizer("adam", lr=1e-3, halve_every=40)
    assert opt.learning_rate("rec.m", 38) == 1e-3
    assert opt.learning_rate("rec.m", 39) == 5e-4  # (39 + 1)//40 = 1
    assert opt.learning_rate("rec.m", 199) == pytest.approx(1e-3 * 0.5**5)
    assert Optimizer("sgd", lr=1.0, halve_every=1).learning_rate("rec.m", 100) == 1e-8  # floor
    msi = Optimizer("rmsprop", lr={"m": 1e-3, "rec.pi": 1.0}, halve_every={"rec.pi": 100})
    assert msi.learning_rate("rec.pi", 99) == 0.5 and msi.learning_rate("rec.m", 99) == 1e-3


def test_zero_learning_rate_freezes_a_block():
    rng = np.random.default_rng(2)
    net = small_network(rng)
    frozen = net.inp.pi.copy()
    Optimizer("sgd", lr={"inp.pi": 0.0}).step(net, constant_grads(net), epoch=0)
    assert np.array_equal(net.inp.pi, frozen)


def test_projection_keeps_pi_in_unit_interval_and_xi_nonnegative():
    rng = np.random.default_rng(3)
    net = small_network(rng)
    Optimizer("sgd", lr=10.0).step(net, constant_grads(net, 1.0), epoch=0)
    Optimizer("sgd", lr=10.0).step(net, constant_grads(net, -1.0), epoch=0)
    for layer in net.layers().values():
        assert layer.pi.min() >= 0.0 and layer.pi.max() <= 1.0 and layer.xi.min() >= 0.0


def test_clipping_bounds_spectral_or_frobenius_norm():
    rng = np.random.default_rng(4)
    g = rng.normal(size=(6, 6)) * 10
    assert np.linalg.norm(clip_gradient(g, "spectral", 10.0), 2) == pytest.approx(10.0)
    assert np.linalg.norm(clip_gradient(g, "frobenius", 10.0)) == pytest.approx(10.0)
    small = g / 1000
    assert clip_gradient(small, "spectral", 10.0) is small


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(5)
    net_a = small_network(rng)
    net_b = net_a.copy()
    opt_a = Optimizer("adam", lr=1e-2, weight_decay={"m": 1e-4})
    grads = [{k: rng.normal(size=v.shape) for k, v in net_a.parameters().items()} for _ in range(4)]
    for e in range(2):
        opt_a.step(net_a, grads[e], epoch=e)
    opt_b = Optimizer("adam", lr=1e-2, weight_decay={"m": 1e-4})
    for e in range(2):
        opt_b.step(net_b, grads[e], epoch=e)
    restored = Optimizer("adam", lr=1e-2, weight_decay={"m": 1e-4})
    restored.load_state_dict({k: v.copy() for k, v in opt_b.state_dict().items()})
    for e in range(2, 4):
        opt_a.step(net_a, grads[e], epoch=e)
        restored.step(net_b, grads[e], epoch=e)
    for block in BLOCK_NAMES:
        assert np.array_equal(net_a.parameters()[block], net_b.parameters()[block])


def test_bad_optimizer_settings_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown method"):
        Optimizer("adagrad")
    with pytest.raises(ValueError, match="unknown keys"):
        Optimizer(lr={"recurrent.m": 1.0})
    with pytest.raises(ValueError, match="finite and >= 0"):
        Optimizer(lr=-1.0)


def test_the_update_runs_its_norms_on_one_blas_thread(monkeypatch):
    """Threaded BLAS in the clip's norms leaves spinning OpenBLAS workers that slow the next
    step's batch chunks (dynamics._blas), so the update pins every BLAS library to one thread."""
    from threadpoolctl import threadpool_info

    import dynamics.optim as optim_module

    seen = []

    def recording_clip(grad, kind, bound):
        seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
        return clip_gradient(grad, kind, bound)

    monkeypatch.setattr(optim_module, "clip_gradient", recording_clip)
    net = small_network(np.random.default_rng(5))
    Optimizer("adam", lr=1e-3, clip="spectral", clip_bound=1.0).step(net, constant_grads(net))
    assert len(seen) == len(BLOCK_NAMES) and all(threads == {1} for threads in seen)
