"""Every registered figure renders (PNG + PDF) from a tiny results directory.

The tiny results are written with the real writer (:func:`figures.resultfiles.write_result`, the
schema of each stem from ``RESULT_STEMS``) in tmp_path. Analysis outputs come from the real
analysis functions on small synthetic inputs (VIP removal with a stand-in accuracy, selectivity of
given rates, PCA and snapshot analyses of drifting synthetic snapshots, the toy model); the
exports of training runs, the kernel results and the phase scans hold small synthetic values of
the documented layout.
"""

from pathlib import Path

import numpy as np
import pytest
from training_fakes import mnist_runs

import figures
import figures.style
from dynamics.layer import SaSLayer
from dynamics.network import SaSNetwork
from dynamics.projection import neural_trajectory_pca
from figures.resultfiles import (
    PHASE_DIR,
    PHASE_SCANS,
    RESULT_STEMS,
    SCAN_FILE,
    SCHEMAS,
    DamagedFileError,
    Schema,
    write_json,
    write_result,
)
from sims.analyses.entropy import aggregate_entropy, entropy_analysis
from sims.analyses.over_seeds import (
    neural_pca_over_seeds,
    symmetry_over_seeds,
    synaptic_over_seeds,
)
from sims.analyses.plasticity import toy_curves
from sims.analyses.projection import synaptic_projection
from sims.analyses.selectivity import ConditionTrials, selectivity_analysis
from sims.analyses.symmetry import symmetry_analysis
from sims.analyses.training import preset_comparison, training_curves
from sims.analyses.vip import vip_analysis
from sims.tasks.multisensory import MultisensoryTask

#: Units of the tiny MSI network: a multiple of 3 so that the three input groups exist.
N_TINY = 12
N_EPOCHS = 6
FREQUENCIES = list(range(9, 17))
#: Run directories named as a reproduction names them (task, seed, config hash).
RUN_HASH = "0123456789ab"
MSI_RUN_DIR = f"../runs/multisensory-seed0-{RUN_HASH}"


def _write(results: Path, stem: str, summary: dict, arrays: dict | None = None) -> None:
    write_result(results / stem, RESULT_STEMS[stem], summary, arrays)


def _tiny_msi_network(task, rng) -> SaSNetwork:
    absent = task.input_mask(N_TINY)
    shapes = {"inp": (N_TINY, task.n_in), "rec": (N_TINY, N_TINY), "out": (task.n_out, N_TINY)}
    layers = {}
    for name, shape in shapes.items():
        m, pi, xi = 0.3 * rng.standard_normal(shape), rng.random(shape), 0.1 * rng.random(shape)
        mask = absent if name == "inp" else None
        if mask is not None:
            m[mask], pi[mask], xi[mask] = 0.0, 1.0, 0.0
        layers[name] = SaSLayer(m, pi, xi, absent=mask)
    layers["rec"].m[0, 1], layers["rec"].pi[0, 1], layers["rec"].xi[0, 1] = 0.5, 0.0, 0.0  # a VIP
    return SaSNetwork(layers["inp"], layers["rec"], layers["out"], alpha=task.dt / task.tau)


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


def _write_training_exports(results: Path, msi_params: dict, rng) -> None:
    """What the training stages export (the real exports of stand-in runs): pixel MNIST with two
    seeds of each preset, row MNIST with one (no interval), Fashion-MNIST with three ensemble
    seeds and no baseline (the optional inputs absent); trained blocks of each."""
    exports = {
        "pixel": ("pixel-mnist", [0.62, 0.70], [0.55, 0.58]),
        "row": ("row-mnist", [0.85], [0.86]),
        "fashion": ("row-mnist", [0.80, 0.81, 0.79], None),
    }
    for prefix, (task, ensemble, baseline) in exports.items():
        runs = {"paper": mnist_runs("paper", ensemble, n_epochs=5, task=task)}
        if baseline is not None:
            runs["bptt"] = mnist_runs("bptt", baseline, n_epochs=5, task=task)
            comparison = preset_comparison(runs["paper"], runs["bptt"])
            _write(results, f"comparison_{prefix}", comparison)
        for preset, members in runs.items():
            suffix = "" if preset == "paper" else "_bptt"
            _write(results, f"training_{prefix}{suffix}", training_curves(members))
    shapes = {"inp": (10, 1), "rec": (10, 10), "out": (10, 10)}
    mnist_params = {
        f"{layer}.{p}": rng.random(shape) * (0.1 if p == "xi" else 1.0)
        for layer, shape in shapes.items()
        for p in ("m", "pi", "xi")
    }
    for prefix, task, params in (
        ("pixel", "pixel-mnist", mnist_params),
        ("row", "row-mnist", mnist_params),
        ("fashion", "row-mnist", mnist_params),
        ("msi", "multisensory", msi_params),
    ):
        run_dir = f"../runs/{task}-seed0-{RUN_HASH}"
        _write(
            results, f"parameters_{prefix}", {"task": task, "seed": 0, "run_dir": run_dir}, params
        )


def _write_behaviour(results: Path, rng) -> None:
    """psychometric and msi_example (Fig. 3)."""
    psychometric = {m: [0, 0, 0, 0.1, 0.9, 1, 1, 1] for m in ("v", "a", "va")}
    summary = {
        "frequencies": FREQUENCIES,
        "modalities": list(psychometric),
        "n_seeds": 1,
        "mean": psychometric,
        "std": {m: [0.0] * 8 for m in psychometric},
        "fit": {m: {"mu": 12.5, "sigma": 0.4} for m in psychometric},
    }
    _write(results, "psychometric", summary)
    steps, test_steps = 125, 90
    example = {
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
    }
    _write(
        results, "msi_example", {"seed": 0, "high_frequency": 14.0, "low_frequency": 11.0}, example
    )


def _write_kernels(results: Path, rng) -> None:
    """kernel_circle and kernel_curves (Fig. 6, Appendix A1) at two widths."""
    widths, n_phi, epochs = [10, 20], 5, 4
    analytic = 1.0 + rng.random((n_phi, 3))
    arrays = {"phis": np.linspace(0, np.pi, n_phi), "analytic": analytic}
    per_width = {}
    for width in widths:
        arrays[f"empirical_N{width}"] = analytic + rng.standard_normal((2, n_phi, 3)) / width
        per_width[str(width)] = {
            "mean_relative_error": 1 / width,
            "per_network_error_mean": 2 / width,
            "per_network_error_std": 0.5 / width,
            "within_one_sd_fraction": 0.7,
        }
    circle = {"alpha": 0.5, "n_steps": 2, "widths": widths, "n_networks": 2, "n_phi": n_phi}
    circle |= {"per_width": per_width, "slope_per_network_error": -0.5}
    _write(results, "kernel_circle", circle, arrays)
    arrays = {"epochs": np.arange(epochs, dtype=float)}
    for width in widths:
        decay = np.exp(-np.arange(epochs))[None] + rng.random((1, epochs)) / width
        for split in ("train", "test"):
            arrays[f"{split}_loss_N{width}"] = 8 * decay
            arrays[f"{split}_loss_lazy_N{width}"] = 8 * np.exp(-np.arange(epochs))[None]
    curves = {"alpha": 0.5, "lr": 0.1, "epochs": epochs, "widths": widths, "n_networks": 1}
    curves |= {"n_train": 8, "n_test": 4, "data": "embedded", "slope_early_gap": -0.5}
    _write(results, "kernel_curves", curves, arrays)


def _write_phase_scans(results: Path) -> None:
    """The two phase scans, each with a cell not computed (stored as null)."""
    g, pi = [0.5, 1.0, 1.5], [0.0, 0.5]
    values = [[-0.5, 0.1, 0.4], [-0.8, -0.2, np.nan]]
    for name in PHASE_SCANS:
        scan = {
            "probe": "init-dynamics",
            "x": {"key": "g", "values": g, "scale": "linear"},
            "y": {"key": "pi", "values": pi, "scale": "linear"},
            "metric": "lyapunov",
            "values": values,
            "seeds": [0],
            "config": {"activation": "tanh", "N": 10, "steps": 10},
            "crossings": {"metric": "lyapunov", "level": 0.0, "along": "g", "x": [0.9, None]},
            "theory": {"x": g, "y": pi, "margin": [[-0.5, 0.0, 0.5], [-0.6, -0.3, 0.06]]},
        }
        write_json(results / PHASE_DIR / name / SCAN_FILE, "scan", scan)


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("tiny") / "results"
    rng = np.random.default_rng(0)
    task = MultisensoryTask()
    net = _tiny_msi_network(task, rng)
    msi_params = net.parameters()
    _write_training_exports(results, msi_params, rng)
    _write_behaviour(results, rng)
    # Fig. 4: the real removal analysis with a stand-in accuracy (intact 1, pruned by π).
    summary, arrays = vip_analysis(
        net,
        task,
        fractions=(0.0, 0.5, 1.0),
        n_batches=3,
        accuracy_fn=lambda network, i: 1.0 - 0.3 * network.rec.pi.mean() + 0.01 * (i % 2),
    )
    _write(results, "vip", {**summary, "run_dir": MSI_RUN_DIR}, arrays)
    # Fig. 5: the real selectivity analysis on given trials (rates (T+1, 4, N), responses of 2
    # trials per condition), the untrained network's a shuffle of the trained one's.
    n_test = len(np.arange(0, 1800, task.test_dt)) + 1
    rates = np.abs(rng.standard_normal((n_test, 4, N_TINY))) * rng.random((1, 4, N_TINY))
    trained = ConditionTrials(rates, np.abs(rng.standard_normal((4, 2, N_TINY))))
    untrained = ConditionTrials(rng.permutation(rates, axis=2), trained.responses[::-1])
    selectivity = selectivity_analysis(net, task, n_permutations=20, trials=(trained, untrained))
    _write(results, "selectivity", *selectivity)
    # Fig. 7: neural PCA of random trajectories (MNIST 6 trials, MSI 8 trials), and of a second
    # draw as the untrained network's; over seeds, the same run twice.
    over_seeds = {}
    for stem, name, labels, shape in (
        ("projection_mnist", "pixel_mnist", np.repeat([1, 5, 9], 2), (20, 6, 10)),
        ("projection_msi", "msi", np.array(FREQUENCIES, float), (30, 8, N_TINY)),
    ):
        pcas = [
            neural_trajectory_pca(np.cumsum(rng.standard_normal(shape), axis=0))
            for _ in ("trained", "untrained")
        ]
        neural = [
            {
                "variance_3_pcs": pca["variance_3_pcs"],
                "n_pcs_80": pca["n_pcs_80"],
                "explained_variance_ratio_top10": pca["explained_variance_ratio"][:10].tolist(),
                "trials": {"digits": [1, 5, 9]},
                "sampled_correct": 5,
                "n_trials": 6,
            }
            for pca in pcas
        ]
        arrays = {
            "neural_projections": pcas[0]["projections"],
            "neural_trial_labels": labels,
            "neural_explained_variance_ratio": pcas[0]["explained_variance_ratio"],
        }
        _write(results, stem, {"neural": neural[0], "untrained": neural[1]}, arrays)
        over_seeds[name] = neural_pca_over_seeds([neural[0]] * 2, [neural[1]] * 2)
    _write(results, "projection_seeds", over_seeds)
    # Figs. 8–10: snapshot analyses of drifting synthetic snapshots (over seeds: the same run
    # twice), and the toy model.
    stacked = _snapshots(msi_params, rng)
    synaptic = synaptic_projection(stacked)
    for stem in ("synaptic_row", "synaptic_msi"):
        _write(results, stem, *synaptic)
    over_seeds = synaptic_over_seeds([synaptic[0]] * 2)
    _write(results, "synaptic_seeds", {"row_mnist": over_seeds, "msi": over_seeds})
    symmetry = symmetry_analysis(stacked)
    _write(results, "symmetry_row", *symmetry)
    initial = [{layer: 0.5 for layer in ("inp", "rec", "out")}] * 2
    over_seeds = symmetry_over_seeds([symmetry[0]] * 2) | {"initial_pi": initial}
    _write(results, "symmetry_seeds", over_seeds)
    aggregate, arrays = aggregate_entropy(
        [entropy_analysis(stacked, seed=k, n_draws=20) for k in range(2)]
    )
    _write(results, "entropy_msi", {"aggregate": aggregate}, arrays)
    _write(results, "toy", *toy_curves(n_runs=2, seed=0, n_epochs=5, n_synapses=100))
    # Fig. 6, Appendix A1, phase diagram.
    _write_kernels(results, rng)
    _write_phase_scans(results)
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


def test_unknown_figure_name_is_a_clear_value_error():
    with pytest.raises(ValueError, match="unknown figure 'fig99'"):
        figures.draw_figure("fig99", Path("."), Path("."))


def test_missing_result_names_the_file_and_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"vip\.json.*sasrnn reproduce"):
        figures.draw_figure("fig4", tmp_path, tmp_path / "out")


def test_a_result_of_an_unknown_schema_version_is_a_damaged_file_naming_the_fix(
    tiny_results, tmp_path, monkeypatch
):
    """A vip.json written by another version of the schema is refused, not misread."""
    stored = SCHEMAS["vip"].version
    monkeypatch.setitem(SCHEMAS, "vip", Schema(stored + 1, nullable=True))
    with pytest.raises(DamagedFileError, match=rf"vip\.json.*version {stored}.*recompute it"):
        figures.draw_figure("fig4", tiny_results, tmp_path)


def test_fig4_refuses_vips_of_another_run_than_the_parameters_drawn(tiny_results, tmp_path):
    for name in ("vip.json", "vip.npz", "parameters_msi.json", "parameters_msi.npz"):
        (tmp_path / name).write_bytes((tiny_results / name).read_bytes())
    vip = figures.resultfiles.read_result(tmp_path / "vip", "vip")
    _write(tmp_path, "vip", {**vip.summary, "run_dir": "../runs/multisensory-seed1-x"}, vip.arrays)
    with pytest.raises(ValueError, match="same run"):
        figures.draw_figure("fig4", tmp_path, tmp_path / "out")


def test_a_single_scan_is_drawn_beside_its_scan_json(tiny_results, tmp_path, low_dpi):
    scan_dir = tmp_path / "scan"
    source = tiny_results / PHASE_DIR / PHASE_SCANS[0] / SCAN_FILE
    (scan_dir).mkdir()
    (scan_dir / SCAN_FILE).write_bytes(source.read_bytes())
    png, pdf = figures.draw_phase_diagram(scan_dir)
    assert png == scan_dir / "phase_diagram.png" and png.is_file() and pdf.is_file()


def test_a_zero_centred_colour_bar_gets_ticks_on_both_sides():
    from figures.phase_diagram import _two_sided_ticks

    ticks = _two_sided_ticks(-1.05, 0.12)  # the short positive side once had none
    assert 0.0 in ticks and (ticks < 0).sum() >= 2 and (ticks > 0).sum() >= 2
    assert ticks.min() >= -1.05 and ticks.max() <= 0.12 and np.all(np.diff(ticks) > 0)
