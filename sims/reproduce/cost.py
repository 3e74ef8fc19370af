"""The cost model of a reproduction: seconds per stage group, to plan a run before starting it.

The unit costs were measured on a 2-core machine, one core per stage, from the stage times of a
quiet ``--quick`` run; OUT/results/stages.json of any run gives the numbers to recalibrate them.
"""

from __future__ import annotations

from sims.reproduce.settings import Settings

__all__ = ["UNIT_SECONDS", "estimate_seconds"]

#: Seconds per unit of work on this 2-core machine (one core per stage), from the stage times of
#: a quiet ``--quick`` run (see OUT/results/stages.json of any run to recalibrate).
UNIT_SECONDS = {
    "msi_iteration": 0.07,  # one 30-trial minibatch, 125 steps, N = 150
    "msi_test_batch": 1.35,  # 24 test trials × 3,600 steps (dt = 0.5 ms), mean-field
    "row_batch_per_sample": 1.7e-4,  # row-MNIST training, per image of a minibatch
    "pixel_batch_per_sample": 5.5e-3,  # pixel-MNIST training, per image of a minibatch
    "row_eval_per_sample": 1.0e-4,
    "pixel_eval_per_sample": 3.0e-3,
    "circle_per_network_n2_phi": 5.3e-8,  # × networks × Σ N² × n_phi
    "curve_per_epoch_n2": 6.6e-6,  # × networks × epochs × Σ N² (512 + 128 digits)
    "toy_run_epoch": 1.4e-3,  # × synapses / 10,000
    "phase_cell_step": 2.0e-7,  # × N × (steps + transient) per cell
    "entropy_epoch_draw": 5.0e-4,  # per saved iteration and Monte Carlo draw
}


def estimate_seconds(settings: Settings) -> dict:
    """Rough single-core cost of each stage group under ``settings`` (seconds)."""
    s, u = settings, UNIT_SECONDS
    mnist_test = s.mnist_test_samples or 10_000
    evals = 2 * s.mnist_sampled_networks + 2
    msi_iterations = min(s.msi_iterations, 400)  # early stop near 350 iterations (docs/model.md §6)
    cost = {
        "train-msi": s.msi_seeds
        * (msi_iterations * u["msi_iteration"] + s.msi_test_batches * u["msi_test_batch"]),
        "train-row": s.row_seeds
        * (
            s.row_epochs * s.row_batches * s.row_batch_size * u["row_batch_per_sample"]
            + (s.row_epochs + evals) * mnist_test * u["row_eval_per_sample"]
        ),
        "train-pixel": s.pixel_seeds
        * (
            s.pixel_epochs * s.pixel_batches * s.pixel_batch_size * u["pixel_batch_per_sample"]
            + (s.pixel_epochs + evals) * mnist_test * u["pixel_eval_per_sample"]
        ),
        "vip": (2 * len(s.vip_fractions) - 1) * s.vip_batches * u["msi_test_batch"],
        "selectivity": s.selectivity_repeats * 4 / 24 * u["msi_test_batch"],
        "kernel-circle": s.circle_networks
        * sum(n * n for n in s.circle_widths)
        * s.circle_phis
        * u["circle_per_network_n2_phi"],
        "kernel-curves": s.curve_networks
        * s.curve_epochs
        * sum(n * n for n in s.curve_widths)
        * (s.curve_train + s.curve_test)
        / 640
        * u["curve_per_epoch_n2"],
        "toy": s.toy_runs * s.toy_epochs * s.toy_synapses / 10_000 * u["toy_run_epoch"],
        "phase": 2
        * len(s.phase_g)
        * len(s.phase_pi)
        * s.phase_seeds
        * s.phase_n
        * (s.phase_steps + s.phase_transient)
        * u["phase_cell_step"],
    }
    cost["entropy"] = (
        s.msi_seeds
        * msi_iterations
        / s.entropy_stride
        * (0.05 + s.entropy_draws * u["entropy_epoch_draw"])
    )
    cost["projections, symmetry, figures"] = 60.0
    return {k: float(v) for k, v in cost.items()}
