"""Every registered figure renders (PNG + PDF) from a tiny results directory.

The tiny results are the documented files of sims.results_layout, built in tmp_path: run
directories (metrics.json + params.npz), analysis outputs computed by the real analysis functions
on small synthetic inputs, and the kernel / toy / phase stages of sims.reproduce at toy sizes.
"""

from pathlib import Path

import numpy as np
import pytest

import figures
import figures.style
from dynamics.projection import neural_trajectory_pca
from sims import reproduce, store
from sims import results_layout as layout
from sims.analyses.entropy import aggregate_entropy, entropy_analysis
from sims.analyses.projection import synaptic_projection
from sims.analyses.selectivity import selectivity_analysis
from sims.analyses.symmetry import symmetry_analysis
from sims.analyses.vip import vip_analysis
from sims.presets import resolve_config
from sims.train import build_network, build_task

#: Units of the tiny MSI network: a multiple of 3 so that the three input groups exist.
N_TINY = 12
N_EPOCHS = 6
FREQUENCIES = list(range(9, 17))


def _write_run(directory: Path, params: dict, epochs: list, final: dict) -> str:
    store.atomic_savez(directory / store.PARAMS_FILE, params)
    store.atomic_write_json(directory / store.METRICS_FILE, {"epochs": epochs, "final": final})
    return str(directory)


def _snapshots(params: dict, rng) -> dict:
    """Per-epoch parameters drifting to ``params`` (Ξ shrinks, π spreads)."""
    out = {}
    for key, value in params.items():
        frames = []
        for epoch in range(N_EPOCHS):
            fraction = epoch / (N_EPOCHS - 1)
            if key.endswith(".xi"):
                frames.append(value * (1.5 - fraction) + 1e-3)
            elif key.endswith(".pi"):
                frames.append(np.clip(value * fraction, 0, 1))
            else:
                frames.append(value + (1 - fraction) * 0.2 * rng.standard_normal(value.shape))
        out[key] = np.stack(frames)
    return out


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    results = root / layout.RESULTS_DIR
    results.mkdir()
    context = reproduce.Context(root)
    rng = np.random.default_rng(0)

    config = resolve_config("multisensory", overrides=[f"network.n_rec={N_TINY}"])
    task = build_task(config)
    net = build_network(config, task, rng)
    net.rec.pi[...] = rng.random((N_TINY, N_TINY))
    net.rec.m[0, 1], net.rec.pi[0, 1], net.rec.xi[0, 1] = 0.5, 0.0, 0.0  # one VIP
    msi_params = net.parameters()
    psychometric = {m: [0, 0, 0, 0.1, 0.9, 1, 1, 1] for m in ("v", "a", "va")}
    msi_final = {
        "psychometric": psychometric,
        "frequencies": FREQUENCIES,
        "sigma": dict.fromkeys(psychometric, 0.3),
        "test_accuracy": 0.95,
        "stopped_early": True,
    }
    msi_dir = _write_run(
        root / "runs" / "msi", msi_params, [{"epoch": 0, "train_loss": 0.01}], msi_final
    )
    mnist_params = {
        f"{layer}.{p}": rng.random((10, 10)) * (0.1 if p == "xi" else 1.0)
        for layer in ("inp", "rec", "out")
        for p in ("m", "pi", "xi")
    }
    mnist_epochs = [
        {"epoch": e, "train_loss": 1.0 / (e + 1), "test_accuracy_meanfield": 0.1 + 0.1 * e}
        for e in range(4)
    ]
    mnist_final = {
        "test_accuracy_meanfield": 0.5,
        "test_accuracy_meanfield_eps0": 0.52,
        "test_accuracy_sampled_quenched": 0.4,
        "test_accuracy_sampled_quenched_std": 0.02,
        "test_accuracy_sampled_per_step": 0.45,
        "test_accuracy_sampled_per_step_std": 0.01,
    }
    pixel_dir = _write_run(root / "runs" / "pixel", mnist_params, mnist_epochs, mnist_final)
    store.atomic_write_json(
        results / layout.RUNS_INDEX,
        {"multisensory": ["../runs/msi"], "pixel-mnist": ["../runs/pixel"], "row-mnist": []},
    )

    # Fig. 3
    store.atomic_write_json(
        results / f"{layout.PSYCHOMETRIC}.json",
        {
            "frequencies": FREQUENCIES,
            "n_seeds": 1,
            "mean": psychometric,
            "std": {m: [0.0] * 8 for m in psychometric},
            "fit": {m: {"mu": 12.5, "sigma": 0.4} for m in psychometric},
        },
    )
    steps, test_steps = 125, 90
    store.atomic_savez(
        results / f"{layout.MSI_EXAMPLE}.npz",
        {
            "train_x": rng.random((steps, 5)),
            "train_target": np.full((steps, 2), 0.2),
            "train_mask": np.ones(steps),
            "train_time_ms": np.arange(steps) * 20.0,
            "test_time_ms": np.arange(1, test_steps + 1) * 20.0,
            "z_high": rng.random((test_steps, 2)),
            "z_low": rng.random((test_steps, 2)),
            "high_frequency": 14.0,
            "low_frequency": 11.0,
            "test_epoch_edges_ms": np.array([0.0, 500.0, 1500.0, 1800.0]),
        },
    )
    # Fig. 4: the real removal analysis with a stand-in accuracy (intact 1, pruned by π).
    summary, arrays = vip_analysis(
        net,
        task,
        fractions=(0.0, 0.5, 1.0),
        n_batches=3,
        accuracy_fn=lambda network, r: 1.0 - 0.3 * network.rec.pi.mean() + 0.01 * r.random(3),
    )
    reproduce._write(context, layout.VIP, summary, arrays)
    # Fig. 5: the real selectivity analysis on given rates (T+1, 4 conditions, N).
    n_test = len(np.arange(0, 1800, task.test_dt)) + 1
    rates = np.abs(rng.standard_normal((n_test, 4, N_TINY))) * rng.random((1, 4, N_TINY))
    summary, arrays = selectivity_analysis(net, task, rates=rates)
    reproduce._write(context, layout.SELECTIVITY, summary, arrays)
    # Fig. 7: neural PCA of random trajectories (MNIST 30 trials, MSI 8 trials).
    for stem, labels, shape in (
        (layout.PROJECTION_MNIST, np.repeat([1, 5, 9], 2), (20, 6, 10)),
        (layout.PROJECTION_MSI, np.array(FREQUENCIES, float), (30, 8, N_TINY)),
    ):
        pca = neural_trajectory_pca(np.cumsum(rng.standard_normal(shape), axis=0))
        neural = {
            "variance_3_pcs": pca["variance_3_pcs"],
            "n_pcs_80": pca["n_pcs_80"],
            "trials": {"digits": [1, 5, 9]},
            "sampled_correct": 5,
            "n_trials": 6,
        }
        reproduce._write(
            context,
            stem,
            {"neural": neural},
            {
                "neural_projections": pca["projections"],
                "neural_trial_labels": labels,
                "neural_explained_variance_ratio": pca["explained_variance_ratio"],
            },
        )
    # Figs. 8–10: snapshot analyses of drifting synthetic snapshots.
    stacked = _snapshots(msi_params, rng)
    for stem in (layout.SYNAPTIC_ROW, layout.SYNAPTIC_MSI):
        reproduce._write(context, stem, *synaptic_projection(stacked))
    reproduce._write(context, layout.SYMMETRY_ROW, *symmetry_analysis(stacked))
    per_run = [entropy_analysis(stacked, seed=k, n_draws=20) for k in range(2)]
    aggregate, arrays = aggregate_entropy(per_run)
    reproduce._write(context, layout.ENTROPY_MSI, {"aggregate": aggregate}, arrays)
    reproduce.stage_toy(context, n_runs=2, n_epochs=5, n_synapses=100, seed=0)
    # Fig. 6, Appendix A1, phase diagram: the reproduce stages at toy sizes.
    reproduce.stage_kernel_circle(
        context, alpha=0.5, n_steps=2, widths=[10, 20], n_networks=2, n_phi=5, seed=0
    )
    reproduce.stage_kernel_curves(
        context, data="embedded", widths=[8], n_networks=1, epochs=3, n_train=8, n_test=4, seed=0
    )
    for name, network in zip(layout.PHASE_SCANS, ("quenched", "mean-field"), strict=True):
        reproduce.stage_phase(
            context,
            name=name,
            network=network,
            g=[0.5, 1.5],
            pi=[0.0, 0.5],
            n=10,
            steps=10,
            transient=5,
            seeds=1,
        )
    assert Path(msi_dir).is_dir() and Path(pixel_dir).is_dir()
    return results


@pytest.fixture()
def low_dpi(monkeypatch):
    """Draw at 40 dpi: the tests check that a figure renders, not how it looks."""
    monkeypatch.setitem(figures.style.RC, "savefig.dpi", 40)


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_every_registered_figure_renders_png_and_pdf(name, tiny_results, tmp_path, low_dpi):
    paths = figures.draw_figure(name, tiny_results, tmp_path)
    suffixes = sorted(p.suffix for p in paths)
    assert suffixes == [".pdf", ".png"]
    for path in paths:
        assert path.is_file() and path.stat().st_size > 1000, path
        assert path.stem == name


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_every_figure_module_states_a_caption_and_its_name(name):
    module = figures.figure_module(name)
    assert module.NAME == name
    assert len(module.CAPTION) > 100 and module.CAPTION.startswith(("Fig.", "Appendix", "Phase"))


def test_figure_list_of_reproduce_matches_the_registry():
    assert set(reproduce.FIGURE_NAMES) == set(figures.FIGURES) == set(reproduce.FIGURE_STAGES)


def test_unknown_figure_name_is_a_clear_value_error():
    with pytest.raises(ValueError, match="unknown figure 'fig99'"):
        figures.draw_figure("fig99", Path("."), Path("."))


def test_missing_result_names_the_file_and_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="vip.json.*sasrnn reproduce"):
        figures.draw_figure("fig4", tmp_path, tmp_path / "out")


def test_a_zero_centred_colour_bar_gets_ticks_on_both_sides():
    from figures.phase_diagram import _two_sided_ticks

    ticks = _two_sided_ticks(-1.05, 0.12)  # the short positive side once had none
    assert 0.0 in ticks and (ticks < 0).sum() >= 2 and (ticks > 0).sum() >= 2
    assert ticks.min() >= -1.05 and ticks.max() <= 0.12 and np.all(np.diff(ticks) > 0)
