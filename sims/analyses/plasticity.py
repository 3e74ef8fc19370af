"""Role of stochastic plasticity (docs/model.md §5.3, Fig. 10): the toy model and a fluctuation
ablation.

1. Toy curves (:func:`toy_curves`): ``n_runs`` (10) independent runs of the single-unit SaS model
   on the sine task (:func:`dynamics.train_toy_runs`), per-epoch loss, forward mean |G| vs
   variance |Δ| parts and gradient mean vs variance parts, mean ± std over runs.

2. Ablation on a real task (:func:`fluctuation_ablation`): one run config trained twice, with the
   fluctuation term on (ε ~ N(0, 1) in every training pass, the paper's rule) and off (ε = ε_out
   = 0 in training: the deterministic mean network W = μ is trained, so the Ξ gradient, which only
   flows through the ε/Δ path, vanishes apart from regularisation). Both runs share the seed, hence
   the initialisation, minibatches and private noise ξ. Compared (:func:`compare_runs`): the
   mean-field accuracy (fresh ε), the ε = 0 accuracy, the sampled-network accuracy (quenched weight
   draws, mean over ``n_samples``), and robustness to removal: accuracy after removing a fraction
   q of ALL recurrent connections uniformly at random (π = 1), ``n_draws`` independent removal
   draws per fraction, plus the VIP count.

3. Over seeds (:func:`aggregate_ablation`): the ablation of several independently seeded runs,
   the paired difference on − off of every accuracy with its mean and 95% Student-t interval
   over seeds, beside the spread over removal draws.

The ε = 0 training sets the trainer's config key :data:`FLUCTUATION_KEY` to false: the draws
are still taken from the noise stream, so the private noise ξ matches the ε-on run.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from scipy import stats

from dynamics.removal import vip_mask
from dynamics.toy import train_toy_runs
from sims.analyses.common import crn_accuracies
from sims.analyses.vip import pruned_network
from sims.runs import Run
from sims.tasks import SineTask

__all__ = [
    "FLUCTUATION_KEY",
    "REMOVAL_DRAWS",
    "ROBUSTNESS_FRACTIONS",
    "aggregate_ablation",
    "compare_runs",
    "fluctuation_ablation",
    "toy_curves",
    "train_without_fluctuation",
]

#: Config key (bool) of the trainer: false = ε = ε_out = 0 in training passes.
FLUCTUATION_KEY = "fluctuation"
#: Fractions of all recurrent connections removed for the robustness curve.
ROBUSTNESS_FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.5)
#: Independent removal draws per fraction.
REMOVAL_DRAWS = 5
_TOY_KEYS = ("loss", "forward_mean", "forward_std", "gradient_mean_part", "gradient_variance_part")


def toy_curves(
    n_runs: int = 10, seed: int = 0, n_epochs: int = 600, n_synapses: int = 10_000, **train_kwargs
) -> tuple[dict, dict]:
    """Toy-model curves of docs/model.md §3.6 / Fig. 10 (ii), mean ± std over independent runs.

    Args:
        n_runs: number of runs (10 officially).
        seed: seeds ``default_rng(seed)``, which draws each run's initialisation then its ε.
        n_epochs, n_synapses: 600 and 10,000 officially.
        **train_kwargs: further :func:`dynamics.toy.train_toy` settings (alpha, lr_m, …).

    Returns:
        (summary, arrays): summary {key: {"mean": [E], "std": [E]}} for the per-epoch records,
        final_loss_mean/std, and the settings; arrays {key: (n_runs, E)}, final_loss.
    """
    sequence = SineTask().sequence()
    runs = train_toy_runs(
        sequence,
        sequence,
        int(n_runs),
        np.random.default_rng(seed),
        n_synapses=int(n_synapses),
        n_epochs=int(n_epochs),
        **train_kwargs,
    )
    summary = {
        "n_runs": int(n_runs),
        "n_epochs": int(n_epochs),
        "n_synapses": int(n_synapses),
        "seed": int(seed),
        "curves": {},
    }
    for key in _TOY_KEYS:
        summary["curves"][key] = {
            "mean": runs[key].mean(axis=0).tolist(),
            "std": runs[key].std(axis=0).tolist(),
        }
    summary["final_loss_mean"] = float(runs["final_loss"].mean())
    summary["final_loss_std"] = float(runs["final_loss"].std())
    # Where the forward signal is carried: variance part |Δ| over mean part |G|, first/last epoch.
    ratio = runs["forward_std"] / np.maximum(runs["forward_mean"], 1e-300)
    summary["forward_variance_over_mean_first_epoch"] = float(ratio[:, 0].mean())
    summary["forward_variance_over_mean_last_epoch"] = float(ratio[:, -1].mean())
    arrays = {key: runs[key] for key in (*_TOY_KEYS, "final_loss")}
    return summary, arrays


def train_without_fluctuation(config: dict, out_dir, progress: bool = False):
    """Train ``config`` with ε = ε_out = 0 in every training pass into ``out_dir``.

    Sets ``config["fluctuation"] = False`` (recorded in the run's config.toml); a finished run
    in ``out_dir`` is reused.

    Returns:
        The :class:`sims.runs.Run`.
    """
    from sims.train import train_run

    config = copy.deepcopy(config)
    config[FLUCTUATION_KEY] = False
    return train_run(config, out_dir, resume=True, progress=progress)


def compare_runs(
    run_dirs: dict,
    seed: int = 0,
    n_batches: int = 20,
    n_samples: int = 5,
    fractions=ROBUSTNESS_FRACTIONS,
    n_jobs: int = -1,
    n_draws: int = REMOVAL_DRAWS,
) -> tuple[dict, dict]:
    """Accuracies and removal robustness of trained runs (e.g. {"on": dir, "off": dir}).

    Every accuracy of every run uses the same evaluation seed (common random numbers); the
    networks of one seed and mode are evaluated together on ``n_jobs`` worker threads
    (:func:`sims.analyses.common.crn_accuracies`; the numbers do not depend on ``n_jobs``).

    Returns:
        (summary, arrays): summary[name] = {accuracy_meanfield_mean/std,
        accuracy_meanfield_eps0_mean/std, accuracy_sampled_mean/std (over n_samples quenched
        networks), robustness_accuracy_mean (per fraction, over draws and test batches),
        robustness_draw_std (s.d. over the ``n_draws`` removal draws of each draw's accuracy),
        robustness_batch_std (s.d. over test batches, averaged over draws), n_vip,
        vip_fraction, rec_xi_mean, rec_pi_mean}; arrays "<name>_robustness"
        (n_fractions, n_draws, n_batches). Every run sees the same removal draws' positions.
    """
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 to give a spread over removal draws; got {n_draws}")
    evaluation_seed, removal_seed = np.random.SeedSequence(seed).spawn(2)
    summary = {"fractions": list(fractions), "evaluation_seed": int(seed), "n_draws": n_draws}
    arrays = {}
    for name, directory in run_dirs.items():
        run = Run.open(directory)
        net, task = run.network(), run.task

        def accuracies(networks, mode, offset=0, task=task):
            rng = np.random.default_rng([*evaluation_seed.generate_state(2), offset])
            return crn_accuracies(networks, task, rng, n_batches, mode, n_jobs=n_jobs)

        removal_rng = np.random.default_rng(removal_seed)
        networks, rows = [net], []  # rows[f][d]: index into networks of fraction f, draw d
        for q in fractions:
            count = int(np.floor(q * net.rec.pi.size + 1e-9))
            rows.append([])
            for _ in range(n_draws):
                if count == 0:
                    rows[-1].append(0)
                    continue
                removed = removal_rng.choice(net.rec.pi.size, size=count, replace=False)
                rows[-1].append(len(networks))
                networks.append(pruned_network(net, removed))
        meanfield_table = accuracies(networks, "meanfield")  # the intact and pruned networks
        meanfield, table = meanfield_table[0], meanfield_table[np.array(rows)]
        eps0 = accuracies([net], "meanfield_eps0")[0]
        sampled = np.array(
            [accuracies([net], "quenched", k + 1)[0].mean() for k in range(n_samples)]
        )
        vip = vip_mask(net.rec.m, net.rec.pi, net.rec.xi)
        summary[name] = {
            "run_dir": str(directory),
            "accuracy_meanfield_mean": float(meanfield.mean()),
            "accuracy_meanfield_std": float(meanfield.std()),
            "accuracy_meanfield_eps0_mean": float(eps0.mean()),
            "accuracy_meanfield_eps0_std": float(eps0.std()),
            "accuracy_sampled_mean": float(sampled.mean()),
            "accuracy_sampled_std": float(sampled.std()),
            "robustness_accuracy_mean": table.mean(axis=(1, 2)).tolist(),
            "robustness_draw_std": table.mean(axis=2).std(axis=1, ddof=1).tolist(),
            "robustness_batch_std": table.std(axis=2).mean(axis=1).tolist(),
            "n_vip": int(vip.sum()),
            "vip_fraction": float(vip.mean()),
            "rec_xi_mean": float(net.rec.xi.mean()),
            "rec_pi_mean": float(net.rec.pi.mean()),
        }
        arrays[f"{name}_robustness"] = table
        arrays[f"{name}_sampled"] = sampled
    return summary, arrays


def fluctuation_ablation(
    config: dict,
    out_dir,
    seed: int = 0,
    n_batches: int = 20,
    n_samples: int = 5,
    fractions=ROBUSTNESS_FRACTIONS,
    progress: bool = False,
    on_run_dir=None,
    n_jobs: int = -1,
    n_draws: int = REMOVAL_DRAWS,
) -> tuple[dict, dict]:
    """Train ``config`` with the fluctuation term on and off and compare them (module docstring).

    Runs go to ``out_dir/fluctuation_on`` and ``out_dir/fluctuation_off`` (finished runs there
    are reused). ``on_run_dir``: an existing finished run of ``config`` to use as the "on" run
    instead of training it again (``sasrnn analyze plasticity RUN_DIR`` passes RUN_DIR).

    Returns:
        :func:`compare_runs` output with keys "on" and "off".
    """
    from sims.train import train_run

    out = Path(out_dir)
    on = Path(on_run_dir) if on_run_dir is not None else out / "fluctuation_on"
    if on_run_dir is None:
        train_run(copy.deepcopy(config), on, resume=True, progress=progress)
    train_without_fluctuation(config, out / "fluctuation_off", progress=progress)
    return compare_runs(
        {"on": on, "off": out / "fluctuation_off"},
        seed=seed,
        n_batches=n_batches,
        n_samples=n_samples,
        fractions=fractions,
        n_jobs=n_jobs,
        n_draws=n_draws,
    )


#: Accuracies of :func:`compare_runs` that :func:`aggregate_ablation` compares over seeds.
COMPARED = ("accuracy_meanfield_mean", "accuracy_meanfield_eps0_mean", "accuracy_sampled_mean")


def aggregate_ablation(summaries: list[dict]) -> dict:
    """The ablation over independently seeded runs (module docstring, 3.).

    Args:
        summaries: :func:`compare_runs` summaries with "on" and "off", one per seed, with the
            same fractions.

    Returns:
        {"n_seeds", "fractions", and for each accuracy of COMPARED and "robustness" (per
        fraction): {"on", "off" (per seed), "difference_mean", "difference_ci" (95% t interval
        of the mean of on − off over seeds)}, "removal_draw_std" {"on", "off"}: per fraction,
        the mean over seeds of the s.d. over removal draws}.

    Raises:
        ValueError: fewer than 2 summaries, or different fractions.
    """
    if len(summaries) < 2:
        raise ValueError(f"aggregating an ablation needs >= 2 seeds; got {len(summaries)}")
    fractions = summaries[0]["fractions"]
    if any(summary["fractions"] != fractions for summary in summaries):
        raise ValueError("every seed's ablation must remove the same fractions")

    def compared(key):
        on = np.array([summary["on"][key] for summary in summaries], dtype=float)
        off = np.array([summary["off"][key] for summary in summaries], dtype=float)
        difference = on - off
        mean = difference.mean(axis=0)
        half = stats.t.ppf(0.975, len(summaries) - 1) * stats.sem(difference, axis=0)
        return {
            "on": on.tolist(),
            "off": off.tolist(),
            "difference_mean": mean.tolist(),
            "difference_ci": np.stack([mean - half, mean + half], axis=-1).tolist(),
        }

    result = {"n_seeds": len(summaries), "fractions": fractions}
    result.update({key: compared(key) for key in COMPARED})
    result["robustness"] = compared("robustness_accuracy_mean")
    result["removal_draw_std"] = {
        name: np.mean(
            [summary[name]["robustness_draw_std"] for summary in summaries], axis=0
        ).tolist()
        for name in ("on", "off")
    }
    return result
