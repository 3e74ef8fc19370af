"""Trainability verdict: where in the initial (g, π₀) plane training works best, and whether the
best cells lie at the quiescent-state boundary measured in g_eff rather than in g
(docs/model.md §5.7 and §5.9).

Input is a map scan of the ``train`` probe (:mod:`sims.train_probe`) with g on x and π₀ on y
(``sasrnn phase --probe train --x g=... --y pi=...``), a few seeds per cell. For each π₀ row:

1. the best map cell by seed mean (highest accuracy, or lowest loss or first iteration below the
   loss threshold) and its neighbours along g, three cells in all, are trained again with
   ``seeds`` seeds (the map's seeds are read from its cache);
2. g* is the g of the row's best cell by seed mean, over every cell of the row (the refined
   ones with ``seeds`` seeds, the others with the map's), and g*_eff = sqrt((1 − π₀)(g*² + ξ₀))
   (5.17). A percentile bootstrap that resamples every cell's seeds gives their 95% intervals;
   because it ranks the whole row again, a plateau of nearly equal cells widens the interval
   instead of being hidden by the choice of the refined cells;
3. the theory's boundary is g_c(π₀) for the sampled network of the task's activation at J0 = 0
   (:func:`theory.phase.critical_g`), and g_eff,c = sqrt((1 − π₀)(g_c² + ξ₀)): √2 on every row
   for ReLU (5.22);
4. the preset's own recurrent initialisation (the identity for MNIST; probe value g < 0) is
   trained with the same seeds on every row, as a reference point.

The verdict, fixed before any run, reads the least-squares slope β of log g* on log(1 − π₀):
β = −1/2 when the best cells keep g_eff fixed across rows (they follow the boundary in g_eff),
β = 0 when they keep g fixed. The best cells lie closer to the boundary in g_eff when the 95%
bootstrap interval of β lies below −1/4, closer in g when it lies above −1/4, and the question
is not resolvable otherwise. Reported beside it, as the question is also put: with
d_g = |g* − g_eff,c| (the boundary's value read as a g) and d_eff = |g*_eff − g_eff,c|, D is the
mean of d_g − d_eff over the rows with π₀ > 0 (at π₀ = 0 they coincide), with its interval. The
null model beside both is a row without any dependence on g: the cells' seed means permuted
along g within each row.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
from scipy import stats

from sims.analyses.training import t_interval
from sims.scan import CELLS_DIR, Axis, load_scan, run_scan
from sims.store import read_json, run_metadata, write_json
from sims.train_probe import g_eff, preset_alpha, training_config
from theory.phase import critical_g

__all__ = [
    "METRIC_SENSE",
    "TRAINABILITY_FILE",
    "VERDICT_RULE",
    "edge_verdict",
    "read_trainability",
    "refined_indices",
    "run_trainability",
]

TRAINABILITY_FILE = "trainability.json"
#: Sub-directory of the map scan that holds the verdict's scans and result.
TRAINABILITY_DIR = "trainability"
#: +1 where a larger value is better, −1 where a smaller one is.
METRIC_SENSE = {
    "test_accuracy_meanfield": 1,
    "test_accuracy_sampled_per_step": 1,
    "final_train_loss": -1,
    "epoch_below_threshold": -1,
}
#: Cells refined per row: the best and its neighbours along g.
REFINED_CELLS = 3
#: Probe value of g that keeps the preset's recurrent means (the reference point).
PRESET_G = -1.0
#: β between the two hypotheses (−1/2: g_eff fixed; 0: g fixed).
SLOPE_BETWEEN = -0.25
VERDICT_RULE = (
    "beta = least-squares slope of log g* on log(1 - pi0) (-1/2 if the best cells keep g_eff "
    "fixed, 0 if they keep g fixed): closer in g_eff if its 95% bootstrap interval lies below "
    "-1/4, closer in g if it lies above -1/4, otherwise not resolvable"
)


def refined_indices(row_values, sense: int) -> list[int]:
    """Indices of the best cell of a row (by ``sense`` × value; NaN is worst) and of its
    neighbours: REFINED_CELLS consecutive cells, shifted inwards at the ends of the row."""
    ranked = _ranked(np.asarray(row_values, dtype=float), sense)
    if not np.isfinite(ranked).any():
        raise ValueError("every cell of a row is undefined (NaN); no best cell to refine")
    best = int(np.argmax(ranked))
    count = min(REFINED_CELLS, ranked.size)
    start = min(max(best - count // 2, 0), ranked.size - count)
    return list(range(start, start + count))


def run_trainability(
    map_dir: str | Path,
    *,
    seeds: int = 5,
    jobs: int = 1,
    scheduler: str | None = None,
    n_boot: int = 2000,
    boot_seed: int = 0,
    progress: bool = True,
) -> dict:
    """Refine the best cells of a train-probe map scan and give the verdict (module docstring).

    Args:
        map_dir: directory of the map scan (its scan.json and cells/).
        seeds: seeds per refined cell and per reference point (≥ 2; the map's are reused).
        jobs, scheduler: as for :func:`sims.scan.run_scan`.
        n_boot: bootstrap resamples; boot_seed: their generator's seed.
        progress: show the scans' progress bars.

    Returns:
        The content of ``map_dir/trainability/trainability.json`` (schema "trainability").

    Raises:
        ValueError: not a train-probe scan over g and π₀, a metric without a sense, ξ₀ not a
            constant, seeds < 2 or n_boot < 100.
        FileNotFoundError / DamagedFileError: the map's scan.json.
    """
    start = time.perf_counter()
    map_dir = Path(map_dir)
    scan = load_scan(map_dir)
    metric = _check_map(scan, map_dir)
    if seeds < 2 or n_boot < 100:
        raise ValueError(f"seeds must be >= 2 and n_boot >= 100; got {seeds} and {n_boot}")
    sense = METRIC_SENSE[metric]
    fixed = dict(scan["fixed"])
    config = scan["config"]
    out = map_dir / TRAINABILITY_DIR
    g_values = np.asarray(scan["x"]["values"], dtype=float)
    pis = [float(pi) for pi in scan["y"]["values"]]
    options = {"fixed": fixed, "seeds": seeds, "jobs": jobs, "scheduler": scheduler}
    options["progress"] = progress

    refined = []
    for iy, pi in enumerate(pis):
        cells = g_values[refined_indices(scan["values"][iy], sense)]
        row_dir = out / f"pi={pi:g}"
        _share_cells(map_dir / CELLS_DIR, row_dir / CELLS_DIR)
        row = run_scan(
            "train", Axis("g", tuple(cells)), Axis("pi", (pi,)), metric, **options, out=row_dir
        )
        refined.append((cells, np.asarray(row["per_seed"], dtype=float)[0]))
    reference = run_scan(
        "train",
        Axis("g", (PRESET_G,)),
        Axis("pi", tuple(pis)),
        metric,
        **options,
        out=out / "preset-init",
    )
    reference_per_seed = np.asarray(reference["per_seed"], dtype=float)[:, 0, :]

    xi = float(config["xi"])
    theory = _boundary_theory(config, pis)
    whole_rows = [
        _whole_row(g_values, map_per_seed, cells, per_seed)
        for map_per_seed, (cells, per_seed) in zip(
            np.asarray(scan["per_seed"], dtype=float), refined, strict=True
        )
    ]
    rows = []
    for (cells, per_seed), (all_g, values), pi, g_c, preset in zip(
        refined, whole_rows, pis, theory["g_c"], reference_per_seed, strict=True
    ):
        row_best = _best_g_of_rows([all_g], sense)
        best_g = float(row_best(*values)[0])
        g_star_ci = _percentile_bootstrap(
            values,
            lambda *cells, best=row_best, axis=-1: best(*cells, axis=axis)[0],
            n_boot,
            boot_seed,
        )
        best_values = values[int(np.flatnonzero(all_g == best_g)[0])]
        g_eff_c = g_eff(g_c, pi, xi)
        rows.append(
            {
                "pi": pi,
                "g": cells,
                "per_seed": per_seed,
                "mean": per_seed.mean(axis=1),
                "ci": [_t_interval(cell) for cell in per_seed],
                "best_g": best_g,
                "best_g_ci": g_star_ci,
                "best_g_eff": g_eff(best_g, pi, xi),
                "best_g_eff_ci": [g_eff(g, pi, xi) for g in g_star_ci],
                "best_seeds": best_values.size,
                "g_c": g_c,
                "g_eff_c": g_eff_c,
                "d_g": abs(best_g - g_eff_c),
                "d_eff": abs(g_eff(best_g, pi, xi) - g_eff_c),
                "preset_init": {
                    "per_seed": preset,
                    "mean": float(preset.mean()),
                    "ci": _t_interval(preset),
                },
            }
        )
    verdict = edge_verdict(
        whole_rows, pis, xi, theory["g_eff_c"], sense=sense, n_boot=n_boot, boot_seed=boot_seed
    )
    result = {
        "map": str(map_dir),
        "metric": metric,
        "sense": "larger is better" if sense > 0 else "smaller is better",
        "seeds": reference["seeds"],
        "n_boot": n_boot,
        "boot_seed": boot_seed,
        "criterion": VERDICT_RULE,
        "theory": theory,
        "map_grid": {
            "g": g_values,
            "pi": pis,
            "mean": scan["values"],
            "per_seed": scan["per_seed"],
            "seeds": scan["seeds"],
        },
        "rows": rows,
        **verdict,
        "seconds": time.perf_counter() - start,
        "metadata": run_metadata({**config, "fixed": fixed}),
    }
    write_json(out / TRAINABILITY_FILE, "trainability", result)
    return read_trainability(out)


def read_trainability(path: str | Path) -> dict:
    """Read a trainability.json (or the one inside a directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / TRAINABILITY_FILE
    return read_json(path, "trainability", fix="run sasrnn trainability on its map scan again")


def _check_map(scan: dict, map_dir: Path) -> str:
    """The map's metric, after checking that the scan is one the verdict reads."""
    axes = (scan["x"]["key"], scan["y"]["key"])
    if scan["probe"] != "train" or axes != ("g", "pi"):
        raise ValueError(
            f"{map_dir}: the trainability verdict reads a scan of the train probe with --x g=... "
            f"and --y pi=...; this one is probe {scan['probe']!r} over {axes[0]} × {axes[1]}."
        )
    if scan["metric"] not in METRIC_SENSE:
        raise ValueError(
            f"{map_dir}: metric {scan['metric']!r} has no better direction; scan one of "
            f"{', '.join(METRIC_SENSE)}."
        )
    pis = np.asarray(scan["y"]["values"], dtype=float)
    if not (pis > 0).any() or np.unique(pis).size < 2:
        raise ValueError(
            f"{map_dir}: the verdict needs two π₀ rows, one with π₀ > 0; the map has "
            f"{pis.tolist()}."
        )
    if float(scan["config"]["xi"]) < 0:
        raise ValueError(
            f"{map_dir}: g_eff needs a constant initial Ξ; scan with --fixed xi=VALUE (≥ 0)."
        )
    return scan["metric"]


def _share_cells(source: Path, destination: Path) -> None:
    """Copy the map's cached cells that a refinement scan would otherwise train again."""
    destination.mkdir(parents=True, exist_ok=True)
    for cell in source.glob("*.json"):
        if not (destination / cell.name).exists():
            shutil.copyfile(cell, destination / cell.name)


def _boundary_theory(config: dict, pis: list[float]) -> dict:
    """g_c(π₀) and g_eff,c(π₀) of the sampled network of the task's activation, J0 = 0."""
    alpha = float(config["alpha"]) if config["alpha"] > 0 else preset_alpha(config)
    activation = training_config({**config, "g": 1.0, "pi": 0.0})["network"]["activation"]
    xi = float(config["xi"])
    g_c = [
        critical_g(pi=pi, xi=xi, alpha=alpha, activation=activation, network="quenched")
        for pi in pis
    ]
    return {
        "activation": activation,
        "network": "quenched",
        "J0": 0.0,
        "alpha": alpha,
        "xi": xi,
        "g_c": g_c,
        "g_eff_c": [g_eff(g, pi, xi) for g, pi in zip(g_c, pis, strict=True)],
    }


def _ranked(values: np.ndarray, sense: int) -> np.ndarray:
    """``sense`` × values with NaN (an undefined cell) ranked worst."""
    return np.where(np.isnan(values), -np.inf, sense * np.asarray(values, dtype=float))


def _t_interval(values: np.ndarray) -> list[float | None]:
    """[low, high] of the 95% Student-t interval of the mean of ``values`` over seeds
    (:func:`sims.analyses.training.t_interval`; None ends for one seed)."""
    interval = t_interval(values)
    return [interval["low"], interval["high"]]


def _percentile_bootstrap(cells, statistic, n_boot: int, boot_seed: int) -> list[float]:
    """95% percentile-bootstrap interval of ``statistic(*cells, axis=-1)``, each cell's seeds
    resampled on their own (scipy.stats.bootstrap, unpaired samples)."""
    interval = stats.bootstrap(
        tuple(cells),
        statistic,
        vectorized=True,
        axis=-1,
        n_resamples=n_boot,
        method="percentile",
        rng=np.random.default_rng(boot_seed),
    ).confidence_interval
    return [float(interval.low), float(interval.high)]


def _whole_row(g_values, map_per_seed, cells, per_seed):
    """Every g of a row with its values per seed: the refined cells' ``seeds`` values, the
    map's seeds elsewhere. Returns (g values (n,), [values (k_i,) per cell])."""
    refined = {float(g): values for g, values in zip(cells, per_seed, strict=True)}
    values = [
        refined.get(float(g), row_values[np.isfinite(row_values)])
        for g, row_values in zip(g_values, map_per_seed, strict=True)
    ]
    return np.asarray(g_values, dtype=float), values


def _best_g_of_rows(rows_g, sense: int):
    """Statistic: g* of every row, shape (rows, ...), the g whose cell has the best seed mean,
    from every cell's values (the rows' cells one after the other, each (..., k_i))."""
    counts = np.cumsum([0] + [len(g) for g in rows_g])

    def best_g(*cells, axis=-1):
        means = [np.mean(values, axis=axis) for values in cells]
        return np.stack(
            [
                np.asarray(g)[np.argmax(_ranked(np.stack(means[a:b]), sense), axis=0)]
                for g, a, b in zip(rows_g, counts[:-1], counts[1:], strict=True)
            ]
        )

    return best_g


def edge_verdict(
    rows, pis, xi: float, g_eff_c, *, sense: int = 1, n_boot: int = 2000, boot_seed: int = 0
) -> dict:
    """The verdict of the module docstring from every cell of every π₀ row.

    Args:
        rows: per row, (g values (n,), [values per seed (k_i,) of each cell]).
        pis: π₀ of every row; xi: the constant ξ₀; g_eff_c: the boundary's g_eff per row.
        sense: +1 when larger values are better, −1 when smaller are.

    Returns:
        {"distance_difference": {"value", "ci", "null_range"} (D), "slope": {"value", "ci",
         "null_range"} (β), "verdict": "closer in g_eff" | "closer in g" | "not resolvable"}.
        The bootstrap resamples each cell's seeds; the null range is the 95% range of the
        statistic when the cells' seed means are permuted along g within each row (no
        dependence on g), n_boot permutations.
    """
    pis = np.asarray(pis, dtype=float)
    tilted = pis > 0
    if not tilted.any() or np.unique(pis).size < 2:
        raise ValueError(f"the verdict needs two π₀ rows, one with π₀ > 0; got {pis.tolist()}")
    best_g = _best_g_of_rows([g for g, _ in rows], sense)
    log_keep = np.log1p(-pis)

    def column(values, ndim):
        return np.asarray(values, dtype=float).reshape((-1,) + (1,) * (ndim - 1))

    def distance_of(g_star):
        keep, c = column(1.0 - pis, g_star.ndim), column(g_eff_c, g_star.ndim)
        gap = np.abs(g_star - c) - np.abs(np.sqrt(keep * (g_star**2 + xi)) - c)
        return gap[tilted].mean(axis=0)

    def slope_of(g_star):
        log_g = np.log(g_star)
        x = column(log_keep - log_keep.mean(), log_g.ndim)
        return (x * (log_g - log_g.mean(axis=0))).sum(axis=0) / (x**2).sum(axis=0)

    cells = [np.asarray(values, dtype=float) for _, row in rows for values in row]
    rng = np.random.default_rng(boot_seed)
    null_g = np.stack(
        [
            np.asarray(g)[
                np.argmax(
                    _ranked(
                        rng.permuted(np.tile([v.mean() for v in row], (n_boot, 1)), axis=1), sense
                    ),
                    axis=1,
                )
            ]
            for g, row in rows
        ]
    )
    summary = {}
    for name, of in (("distance_difference", distance_of), ("slope", slope_of)):
        statistic = lambda *values, of=of, axis=-1: of(best_g(*values, axis=axis))  # noqa: E731
        summary[name] = {
            "value": float(statistic(*cells)),
            "ci": _percentile_bootstrap(cells, statistic, n_boot, boot_seed),
            "null_range": _percentile_interval(of(null_g)),
        }
    return {**summary, "verdict": _verdict(summary["slope"]["ci"])}


def _percentile_interval(samples) -> list[float]:
    return [float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))]


def _verdict(slope_interval) -> str:
    low, high = slope_interval
    if high < SLOPE_BETWEEN:
        return "closer in g_eff"
    if low > SLOPE_BETWEEN:
        return "closer in g"
    return "not resolvable"
