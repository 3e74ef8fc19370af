"""The ordinary-BPTT baseline (preset ``bptt``): w = m on the paper preset's footing."""

import numpy as np
import pytest
from conftest import TINY_MSI, TINY_ROW

from sims.evaluate import DETERMINISTIC_READINGS, EVALUATION_MODES, classification_accuracy
from sims.presets import flat_keys, resolve_config
from sims.runs import Run, build_network, seeded_streams
from sims.tasks import task_from_config
from sims.train import train_run


@pytest.mark.parametrize("task", ["pixel-mnist", "row-mnist", "multisensory", "binary-mnist"])
def test_bptt_differs_from_paper_only_in_the_model_and_the_frozen_pi_and_xi(task):
    paper = flat_keys(resolve_config(task))
    bptt = flat_keys(resolve_config(task, preset="bptt"))
    changed = {key for key in paper if paper[key] != bptt[key]}
    frozen = {f"optimizer.lr.{layer}.{p}" for layer in ("inp", "rec", "out") for p in ("pi", "xi")}
    frozen = {key for key in frozen if paper[key] != 0.0}
    assert changed == {"preset", "model", "fluctuation"} | frozen


@pytest.mark.parametrize("task, tiny", [("row-mnist", TINY_ROW), ("multisensory", TINY_MSI)])
def test_initial_means_equal_the_paper_presets_and_pi_xi_are_zero(task, tiny):
    nets = {}
    for preset in ("paper", "bptt"):
        config = resolve_config(task, preset=preset, overrides=tiny, seed=3)
        task_object = task_from_config(config)
        nets[preset] = build_network(config, task_object, seeded_streams(3)[0])
    for name, layer in nets["bptt"].layers().items():
        assert np.array_equal(layer.m, nets["paper"].layers()[name].m), name
        assert np.all(layer.xi == 0), name
        absent = np.zeros(layer.pi.shape, bool) if layer.absent is None else layer.absent
        assert np.all(layer.pi[~absent] == 0) and np.all(layer.pi[absent] == 1), name
    if task == "multisensory":  # the forbidden input pairs stay forbidden
        assert nets["bptt"].inp.absent.any()


def test_a_bptt_run_trains_m_only_and_never_moves_pi_or_xi(tmp_path):
    config = resolve_config(
        "row-mnist", preset="bptt", overrides=TINY_ROW, epochs=2, batches_per_epoch=3
    )
    run = train_run(config, tmp_path / "bptt", progress=False)
    start, end = run.snapshots.at(0), run.params
    for block in end:
        if block.endswith(".m"):
            assert not np.array_equal(start[block], end[block]), block
        else:
            assert np.all(end[block] == 0), block
    assert Run.open(tmp_path / "bptt").config["model"] == "deterministic"


def test_a_bptt_network_reads_the_same_in_every_mode_and_its_metrics_say_so(tmp_path):
    config = resolve_config(
        "row-mnist", preset="bptt", overrides=TINY_ROW, epochs=1, batches_per_epoch=2
    )
    run = train_run(config, tmp_path / "bptt", progress=False)
    net, task = run.network(), run.task
    assert net.deterministic
    readings = {
        mode: classification_accuracy(
            net, task, mode=mode, rng=np.random.default_rng(index), max_samples=64
        )
        for index, mode in enumerate(EVALUATION_MODES)
    }
    assert len(set(readings.values())) == 1, readings  # exactly equal, whatever the draws
    final = run.metrics["final"]
    assert final["readings"] == DETERMINISTIC_READINGS and final["n_samples"] == 0
    assert "test_accuracy_sampled_per_step" not in final
    paper = resolve_config("row-mnist", overrides=TINY_ROW, epochs=1, batches_per_epoch=2)
    assert not build_network(paper, task, seeded_streams(0)[0]).deterministic


@pytest.mark.parametrize(
    "override, key",
    [
        ("fluctuation=true", "fluctuation"),
        ("optimizer.lr.rec.pi=0.1", "optimizer.lr.rec.pi"),
        ('model="stochastic"', "model"),
    ],
)
def test_an_inconsistent_deterministic_config_names_the_key(override, key):
    with pytest.raises(ValueError, match=f"config key '{key}'"):
        resolve_config("row-mnist", preset="bptt", overrides=[override])


def test_bptt_has_no_meaning_for_the_toy_model():
    with pytest.raises(ValueError, match="network tasks"):
        resolve_config("sine", preset="bptt")
