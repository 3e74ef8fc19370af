"""Very important connections (VIPs) and the target-removal curves of a trained run (paper Fig. 4).

VIPs are recurrent connections with π ≤ 0.1, Ξ < 0.1 and |m| > 0.08 (:func:`dynamics.vip_mask`).
For every fraction p ∈ {0, 0.1, …, 1}, n = ⌊p·n_VIP⌋ recurrent connections are removed (π = 1;
``removal="m"`` sets m = 0 instead) from a copy of the network, chosen by one of
(:data:`dynamics.removal.REMOVAL_KINDS`):

* "vip": a uniformly random n-subset of the VIPs;
* "random": n connections drawn uniformly from the NON-VIP connections;
* "magnitude": the n NON-VIP connections of largest |μ| (a strength-matched control);
* "uniform": n connections drawn uniformly from ALL recurrent connections, VIPs included.

Each test batch gets its own removal draw, so the spread over batches of a curve is its spread
over removal draws (with the test noise, whose share is the spread of the intact network). The
deterministic removals ("magnitude", all VIPs at p = 1) are the same network on every batch.
``legacy=True`` adds the official first-n removals of ``sub_tasks.py`` (docs/official-code.md §1
item 10): the first n sorted VIP indices, and the first n flattened connections (the first rows of
W) as "random".

Evaluation (documented choice): the mean-field pass with fresh ε, as ``sub_tasks.py`` does
(docs/model.md §2.6), at the MSI test step dt = 0.5 ms (α = 0.005), choice read at the final
step, on ``n_batches`` test batches; ``modes`` adds other readings, e.g. "per_step" (sampled
networks with new weights every step, about 2.5 times the mean-field cost per network). Every
network, of every curve and mode, sees the same test batch i (common random numbers,
:func:`sims.analyses.common.crn_accuracies`): the same inputs, and ε, ξ and sampled weights from
counter-based streams keyed once from the evaluation seed, so curve differences reflect the
removal, not the test noise, and every number is a function of ``seed``.

Which definition sets the all-VIP accuracy (p = 1; paper-preset multisensory runs of seeds 0
and 1; 20 test batches, mean-field pass; ranges over three evaluation seeds):

* the layers the criteria are applied to. Recurrent VIPs alone (202 and 245, 0.90% and 1.09% of
  W) leave 0.81–0.84 and 0.75–0.77 (intact 0.99, 0.97). The same criteria applied to the
  readout W_out as well (13 and 12 more entries) leave 0.66–0.69 and 0.65–0.66 on both seeds,
  the 0.675 quoted for the official code on its seeds 0 and 1, although removing those readout
  entries alone leaves 0.985 and 0.973.
* the number of VIPs. A looser |m| > 0.06 (433 and 486 VIPs, about 2% of W) also leaves
  0.62–0.66, but doubles the VIP fraction the paper reports (≈ 1%); |m| > 0.1 (98, 129) leaves
  0.89 and 0.88. Which VIPs matter too: on seed 1 the 139 with π ≤ 0.01 leave 0.56, below all 245.
* not what removal sets: m = 0 leaves the accuracy of π = 1 to three decimals (the VIPs' Ξ is
  at most 0.02, so the slab variance that m = 0 keeps is negligible).
* not the evaluation noise: ε = 0 (0 to +0.01), per-step sampled weights (−0.01 to 0), quenched
  sampled networks (−0.05 to −0.04), dt = 20 ms instead of 0.5 ms (−0.02) on both seeds.
* not the Ξ threshold: every trained recurrent entry has Ξ < 0.1.
"""

from __future__ import annotations

import numpy as np

from dynamics.layer import SaSLayer
from dynamics.network import SaSNetwork
from dynamics.removal import (
    ABS_M_MIN,
    PI_MAX,
    REMOVAL_KINDS,
    REMOVALS,
    XI_MAX,
    removal_count,
    removal_indices,
    remove_connections,
    vip_mask,
)
from sims.analyses.common import crn_accuracies
from sims.evaluate import EVALUATION_MODES

__all__ = ["CONTROLS", "DEFAULT_FRACTIONS", "pruned_network", "vip_analysis"]

#: Removed fractions of the VIP count, p = 0, 0.1, …, 1 (paper Fig. 4b).
DEFAULT_FRACTIONS = tuple(np.round(np.linspace(0.0, 1.0, 11), 10).tolist())
#: The control removals beside the VIP removal (module docstring).
CONTROLS = tuple(kind for kind in REMOVAL_KINDS if kind != "vip")
#: The official first-n removals of ``legacy=True``: curve name and the kind it replaces.
_LEGACY = {"legacy_vip": "vip", "legacy_random": "random"}


def pruned_network(net: SaSNetwork, flat_indices, removal: str = "pi") -> SaSNetwork:
    """``net`` with the recurrent connections at ``flat_indices`` removed
    (:func:`dynamics.removal.remove_connections`); the input and output layers are shared.

    Args:
        net: the network (recurrent layer (N, N)).
        flat_indices: row-major flat indices into the recurrent matrix.
        removal: "pi" (π = 1) or "m" (m = 0).
    """
    rec = net.rec
    m, pi, xi = remove_connections(rec.m, rec.pi, rec.xi, flat_indices, removal)
    layer = SaSLayer(m, pi, xi, absent=rec.absent, dtype=rec.dtype)
    return SaSNetwork(net.inp, layer, net.out, **net.options())


def vip_analysis(
    net: SaSNetwork,
    task,
    seed: int = 0,
    fractions=DEFAULT_FRACTIONS,
    n_batches: int = 20,
    modes=("meanfield",),
    test_dt: float | None = None,
    pi_max: float = PI_MAX,
    xi_max: float = XI_MAX,
    abs_m_min: float = ABS_M_MIN,
    controls=CONTROLS,
    removal: str = "pi",
    legacy: bool = False,
    accuracy_fn=None,
    n_jobs: int = -1,
) -> tuple[dict, dict]:
    """VIP fraction and target-removal curves of a trained network (paper Fig. 4, module docstring).

    Example:
        >>> summary, arrays = vip_analysis(run.network(), run.task, seed=0)
        >>> summary["accuracy_vip_mean"][-1], summary["accuracy_magnitude_mean"][-1]

    Args:
        net: the trained network (recurrent layer (N, N)).
        task: its task (multisensory or an MNIST task).
        seed: seeds the removal draws (kind k from child (0, k) of ``SeedSequence(seed)``, k its
            index in :data:`dynamics.removal.REMOVAL_KINDS`) and the evaluation (child 1,
            replayed for every network and mode).
        fractions: removed fractions p of the VIP count, each in [0, 1].
        n_batches: test batches per accuracy, each with its own removal draw (≥ 20 for the
            paper protocol).
        modes: network passes of the evaluation (:data:`sims.evaluate.EVALUATION_MODES`); the
            first is the headline reading (default "meanfield", as ``sub_tasks.py``).
        test_dt: MSI test step in ms (default the task's, 0.5).
        pi_max, xi_max, abs_m_min: VIP thresholds (0.1, 0.1, 0.08).
        controls: control removals beside "vip", among "random", "magnitude", "uniform".
        removal: what removal sets, "pi" (π = 1, the paper's) or "m" (m = 0).
        legacy: also compute the official first-n curves.
        accuracy_fn: optional ``f(net, i) -> accuracy of net on test batch i`` replacing the
            task evaluation (tests, custom protocols).
        n_jobs: worker threads of the evaluation (-1 every core); the numbers do not depend on it.

    Returns:
        (summary, arrays). For every curve c (``"vip"``, the controls, with ``legacy``
        ``"legacy_vip"`` and ``"legacy_random"``) and the first mode: summary
        accuracy_c_mean, accuracy_c_std (over test batches, i.e. removal draws; lists over
        fractions), mean_abs_mu_removed_c (mean |μ| of the removed connections, None where
        none is), vips_removed_c (mean number of VIPs among them); arrays accuracy_c
        (n_fractions, n_batches). A further mode adds the same accuracy keys with ``_<mode>``
        after the curve name (accuracy_vip_per_step_mean, accuracy_intact_per_step, …). Also
        vip_fraction, n_vip, n_connections, fractions, n_removed, accuracy_intact(_std),
        curves, mean_abs_mu_vip, mean_abs_mu_non_vip, thresholds, evaluation; arrays vip_mask
        (N, N), fractions, accuracy_intact (n_batches,).

    Raises:
        ValueError: a fraction outside [0, 1], an unknown mode, control or removal, bad
            thresholds or evaluation settings.
    """
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or fractions.size == 0 or np.any((fractions < 0) | (fractions > 1)):
        raise ValueError(
            f"fractions must be a non-empty list of values in [0, 1], got {fractions.tolist()}"
        )
    modes = (modes,) if isinstance(modes, str) else tuple(dict.fromkeys(modes))
    unknown = [mode for mode in modes if mode not in EVALUATION_MODES] or [
        kind for kind in controls if kind not in CONTROLS
    ]
    if not modes or unknown or removal not in REMOVALS:
        raise ValueError(
            f"modes={modes}, controls={tuple(controls)}, removal={removal!r}: choose modes among "
            f"{EVALUATION_MODES}, controls among {CONTROLS}, removal among {REMOVALS}."
        )
    n_batches = int(n_batches)
    evaluation_seed = np.random.SeedSequence(seed).spawn(2)[1]
    rec = net.rec
    thresholds = {"pi_max": pi_max, "xi_max": xi_max, "abs_m_min": abs_m_min}
    mask = vip_mask(rec.m, rec.pi, rec.xi, **thresholds)
    strength = np.abs(rec.mu).ravel()
    flat_mask = mask.ravel()
    n_vip = int(mask.sum())

    # removed[curve][f][i]: flat indices removed on test batch i at fraction f. Each kind draws
    # from its own Generator (child (0, kind) of the seed), fraction by fraction, batch by batch,
    # so a curve does not depend on the others requested; a deterministic removal is drawn once
    # and serves every batch.
    curves = ("vip", *controls, *(_LEGACY if legacy else ()))
    removed = {}
    for curve in curves:
        kind = _LEGACY.get(curve, curve)
        rng = np.random.default_rng(
            np.random.SeedSequence(seed, spawn_key=(0, REMOVAL_KINDS.index(kind)))
        )
        draws = 1 if curve in _LEGACY or kind == "magnitude" else n_batches
        removed[curve] = [
            [
                removal_indices(kind, mask, rec.mu, float(p), rng, curve in _LEGACY)
                for _ in range(draws)
            ]
            * (n_batches // draws)
            for p in fractions
        ]

    rows = [net]  # rows[0]: the intact network; then one row per (curve, fraction)

    def row(sets):
        if sets[0].size == 0:  # p·n_VIP < 1: the intact network
            return 0
        if all(s is sets[0] for s in sets):  # deterministic: one network for every batch
            rows.append(pruned_network(net, sets[0], removal))
        else:  # built for each batch when its pass runs
            rows.append(lambda i: pruned_network(net, sets[i], removal))
        return len(rows) - 1

    indices = {curve: [row(sets) for sets in removed[curve]] for curve in curves}
    summary = {
        "vip_fraction": n_vip / mask.size,
        "n_vip": n_vip,
        "n_connections": int(mask.size),
        "fractions": fractions.tolist(),
        "n_removed": [removal_count(n_vip, float(p)) for p in fractions],
        "curves": list(curves),
        "mean_abs_mu_vip": _mean_or_none(strength[flat_mask]),
        "mean_abs_mu_non_vip": _mean_or_none(strength[~flat_mask]),
        "thresholds": thresholds,
        "evaluation": {
            "mode": modes[0],
            "modes": list(modes),
            "n_batches": n_batches,
            "seed": int(seed),
            "test_dt": test_dt if test_dt is not None else getattr(task, "test_dt", None),
            "common_random_numbers": True,
            "layer": "rec",
            "removal": {"pi": "pi = 1", "m": "m = 0"}[removal],
            "removal_draws": "one per test batch",
            "controls": {
                "random": "uniform over the non-VIP connections",
                "magnitude": "the non-VIP connections of largest |mu|",
                "uniform": "uniform over all recurrent connections",
            },
        },
    }
    arrays = {"vip_mask": mask, "fractions": fractions}
    for curve in curves:
        per_fraction = [[strength[s] for s in sets] for sets in removed[curve]]
        summary[f"mean_abs_mu_removed_{curve}"] = [
            _mean_or_none(np.concatenate(values)) for values in per_fraction
        ]
        summary[f"vips_removed_{curve}"] = [
            float(np.mean([flat_mask[s].sum() for s in sets])) for sets in removed[curve]
        ]
    for number, mode in enumerate(modes):
        if accuracy_fn is None:
            rng = np.random.default_rng(evaluation_seed)  # the same draws for every mode
            table = crn_accuracies(rows, task, rng, n_batches, mode, test_dt, n_jobs)
        else:
            table = np.array(
                [
                    [float(accuracy_fn(r(i) if callable(r) else r, i)) for i in range(n_batches)]
                    for r in rows
                ]
            )
        suffix = "" if number == 0 else f"_{mode}"
        intact = table[0]
        summary[f"accuracy_intact{suffix}"] = float(intact.mean())
        summary[f"accuracy_intact{suffix}_std"] = float(intact.std())
        arrays[f"accuracy_intact{suffix}"] = intact
        for curve in curves:
            curve_table = table[indices[curve]]
            summary[f"accuracy_{curve}{suffix}_mean"] = curve_table.mean(axis=1).tolist()
            summary[f"accuracy_{curve}{suffix}_std"] = curve_table.std(axis=1).tolist()
            arrays[f"accuracy_{curve}{suffix}"] = curve_table
    return summary, arrays


def _mean_or_none(values: np.ndarray) -> float | None:
    """The mean of ``values``, None when empty."""
    return float(np.mean(values)) if np.size(values) else None
