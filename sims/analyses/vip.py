"""Very important connections (VIPs) and the target-removal curve of a trained run (paper Fig. 4).

VIPs are recurrent connections with π ≤ 0.1, Ξ < 0.1 and |m| > 0.08 (:func:`dynamics.vip_mask`).
For every fraction p ∈ {0, 0.1, …, 1}, n = ⌊p·n_VIP⌋ connections are removed (π = 1) from the
recurrent layer of a copy of the network, either

* "vip": a uniformly random n-subset of the VIPs, or
* "random": n connections drawn uniformly from the NON-VIP connections (the control never removes
  a VIP),

and the task accuracy is measured on ``n_batches`` test batches (mean ± std over batches;
:func:`sims.analyses.common.batch_accuracies`). ``legacy=True`` adds the official first-n
removal of ``sub_tasks.py`` (docs/official-code.md §1 item 10): the first n sorted VIP indices, and
the first n flattened connections (the first rows of W) as "random".

Evaluation (documented choice): the mean-field pass with fresh ε, as ``sub_tasks.py`` does
(docs/model.md §2.6), at the MSI test step dt = 0.5 ms (α = 0.005), choice read at the final step.
Every accuracy (intact and every pruned network) uses the SAME evaluation noise (common random
numbers: one evaluation seed, replayed), so curve differences reflect the removal, not the test
noise. The p = 0 point of both curves is the intact network, and a fraction with ⌊p·n_VIP⌋ = 0
reuses it. All networks are evaluated together by :func:`sims.analyses.common.crn_accuracies`:
each test batch's inputs and noise are drawn once, and the network passes run on every core;
the numbers are those of evaluating the networks one by one, whatever the number of workers.
"""

from __future__ import annotations

import numpy as np

from dynamics.network import SaSNetwork
from dynamics.removal import ABS_M_MIN, PI_MAX, XI_MAX, removal_sets
from sims.analyses.common import crn_accuracies

__all__ = ["DEFAULT_FRACTIONS", "pruned_network", "vip_analysis"]

#: Removed fractions of the VIP count, p = 0, 0.1, …, 1 (paper Fig. 4b).
DEFAULT_FRACTIONS = tuple(np.round(np.linspace(0.0, 1.0, 11), 10).tolist())


def pruned_network(net: SaSNetwork, rec_pi: np.ndarray) -> SaSNetwork:
    """A copy of ``net`` whose recurrent π is replaced by ``rec_pi`` (m, Ξ and the rest kept)."""
    pruned = net.copy()
    pruned.rec.pi[...] = rec_pi
    return pruned


def vip_analysis(
    net: SaSNetwork,
    task,
    seed: int = 0,
    fractions=DEFAULT_FRACTIONS,
    n_batches: int = 20,
    mode: str = "meanfield",
    test_dt: float | None = None,
    pi_max: float = PI_MAX,
    xi_max: float = XI_MAX,
    abs_m_min: float = ABS_M_MIN,
    legacy: bool = False,
    accuracy_fn=None,
    n_jobs: int = -1,
) -> tuple[dict, dict]:
    """VIP fraction and target-removal curves of a trained network (paper Fig. 4, module docstring).

    Example:
        >>> summary, arrays = vip_analysis(run.network, run.task, seed=0)
        >>> summary["accuracy_vip_mean"][-1], summary["accuracy_random_mean"][-1]

    Args:
        net: the trained network (recurrent layer (N, N)).
        task: its task (multisensory or an MNIST task).
        seed: seeds the removal subsets (child 0 of ``SeedSequence(seed)``) and the evaluation
            noise (child 1, replayed for every accuracy).
        fractions: removed fractions p of the VIP count, each in [0, 1].
        n_batches: test batches per accuracy (≥ 20 for the paper protocol).
        mode: network pass of the evaluation (default "meanfield", as ``sub_tasks.py``).
        test_dt: MSI test step in ms (default the task's, 0.5).
        pi_max, xi_max, abs_m_min: VIP thresholds (0.1, 0.1, 0.08).
        legacy: also compute the official first-n curves.
        accuracy_fn: optional ``f(net, rng) -> (n_batches,) accuracies`` replacing the task
            evaluation (tests, custom protocols), called network by network.
        n_jobs: worker threads of the evaluation (:func:`sims.analyses.common.crn_accuracies`;
            -1 every core). The numbers do not depend on it.

    Returns:
        (summary, arrays). summary keys: vip_fraction, n_vip, n_connections, fractions,
        n_removed, accuracy_intact, accuracy_intact_std, accuracy_vip_mean, accuracy_vip_std,
        accuracy_random_mean, accuracy_random_std, thresholds, evaluation; with ``legacy`` also
        accuracy_legacy_vip_mean/std and accuracy_legacy_random_mean/std. arrays: vip_mask (N, N),
        fractions, accuracy_intact (n_batches,), accuracy_vip / accuracy_random
        (n_fractions, n_batches) (and the legacy ones).

    Raises:
        ValueError: a fraction outside [0, 1], bad thresholds or evaluation settings.
    """
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or fractions.size == 0 or np.any((fractions < 0) | (fractions > 1)):
        raise ValueError(
            f"fractions must be a non-empty list of values in [0, 1], got {fractions.tolist()}"
        )
    removal_seed, evaluation_seed = np.random.SeedSequence(seed).spawn(2)
    removal_rng = np.random.default_rng(removal_seed)

    # Every pruned copy first, in the order the removal subsets are drawn; then one evaluation.
    rec = net.rec
    networks = [net]  # networks[0] is the intact network
    rows = {"vip": [], "random": []}  # per curve, the index into networks of every fraction
    if legacy:
        rows.update({"legacy_vip": [], "legacy_random": []})
    n_removed, mask = [], None
    thresholds = {"pi_max": pi_max, "xi_max": xi_max, "abs_m_min": abs_m_min}

    def add(curve, sets):
        for kind in ("vip", "random"):
            if sets["n_removed"] == 0:  # p·n_VIP < 1: the intact network
                rows[f"{curve}{kind}"].append(0)
            else:
                rows[f"{curve}{kind}"].append(len(networks))
                networks.append(pruned_network(net, sets[kind][1]))

    for p in fractions:
        sets = removal_sets(rec.m, rec.pi, rec.xi, float(p), removal_rng, **thresholds)
        mask = sets["vip_mask"]
        n_removed.append(sets["n_removed"])
        add("", sets)
        if legacy:
            old = removal_sets(
                rec.m, rec.pi, rec.xi, float(p), None, legacy_first_n=True, **thresholds
            )
            add("legacy_", old)

    if accuracy_fn is None:
        rng = np.random.default_rng(evaluation_seed)
        table = crn_accuracies(networks, task, rng, n_batches, mode, test_dt, n_jobs)
    else:  # common random numbers: every network sees the same replayed Generator
        table = np.stack(
            [
                np.asarray(accuracy_fn(network, np.random.default_rng(evaluation_seed)), float)
                for network in networks
            ]
        )
    intact = table[0]
    curves = {curve: table[indices] for curve, indices in rows.items()}
    n_vip = int(mask.sum())
    summary = {
        "vip_fraction": n_vip / mask.size,
        "n_vip": n_vip,
        "n_connections": int(mask.size),
        "fractions": fractions.tolist(),
        "n_removed": n_removed,
        "accuracy_intact": float(intact.mean()),
        "accuracy_intact_std": float(intact.std()),
        "thresholds": thresholds,
        "evaluation": {
            "mode": mode,
            "n_batches": int(intact.size),
            "seed": int(seed),
            "test_dt": test_dt if test_dt is not None else getattr(task, "test_dt", None),
            "common_random_numbers": True,
            "layer": "rec",
            "random_pool": "non-VIP connections",
        },
    }
    arrays = {"vip_mask": mask, "fractions": fractions, "accuracy_intact": intact}
    for kind, curve in curves.items():
        summary[f"accuracy_{kind}_mean"] = curve.mean(axis=1).tolist()
        summary[f"accuracy_{kind}_std"] = curve.std(axis=1).tolist()
        arrays[f"accuracy_{kind}"] = curve
    return summary, arrays
