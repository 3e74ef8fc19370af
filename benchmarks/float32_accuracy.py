"""float32 against float64 training, paired by seed: does single precision change the science?

Criterion (stated before the runs): the 95% t-interval of the mean paired difference
(float32 − float64) lies within ±0.02 for row-MNIST test accuracy (mean-field, paper preset,
40 epochs × 31 minibatches, embedded data), and within ±0.03 for multisensory intact accuracy and
accuracy with all VIPs removed (paper preset; VIP analysis at its defaults, fractions 0 and 1).

The runs are trained by::

    for seed in 0 1 2 3 4; for dtype in float64 float32:
      sasrnn train --task row-mnist --preset paper --epochs 40 --batches-per-epoch 31 \\
          --seed $seed --set dtype=\\"$dtype\\" --out RUNS/row-$dtype-s$seed
      sasrnn train --task multisensory --preset paper --seed $seed \\
          --set dtype=\\"$dtype\\" --out RUNS/msi-$dtype-s$seed

and compared by ``python benchmarks/float32_accuracy.py RUNS`` (prints one JSON). Both runs of a
pair are evaluated here with the same evaluation noise: the row-MNIST mean-field accuracy on the
1,000 test images, and the MSI accuracies of the VIP analysis (20 test batches).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from sims.analyses.vip import vip_analysis
from sims.evaluate import classification_accuracy
from sims.runs import Run

#: default_rng([seed, EVALUATION_STREAM]) draws the evaluation noise of a seed's pair of runs.
EVALUATION_STREAM = 2
#: Largest |difference| the 95% interval may reach, per quantity (module docstring).
MARGINS = {
    "row_test_accuracy": 0.02,
    "msi_intact_accuracy": 0.03,
    "msi_all_vips_removed": 0.03,
}


def paired_interval(first, second) -> dict:
    """Mean of the paired differences first − second and its 95% t-interval (scipy.stats)."""
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    result = stats.ttest_1samp(differences, 0.0)
    interval = result.confidence_interval(0.95)
    return {
        "n_pairs": int(differences.size),
        "mean_difference": float(differences.mean()),
        "ci95": [float(interval.low), float(interval.high)],
        "differences": differences.tolist(),
    }


def _verdict(low: float, high: float, margin: float) -> str:
    """ "holds" when the interval lies within ±margin, "does not hold" when it lies wholly
    outside, "not resolvable" when it straddles a margin (more seeds would decide)."""
    if -margin <= low and high <= margin:
        return "holds"
    if high < -margin or low > margin:
        return "does not hold"
    return "not resolvable"


def quantities(directory: Path, task: str, dtype: str, seed: int) -> dict:
    """The compared numbers of one run."""
    run = Run.open(directory / f"{task}-{dtype}-s{seed}")
    if task == "row":  # evaluated here, so that every run is read by the same code
        rng = np.random.default_rng([seed, EVALUATION_STREAM])
        accuracy = classification_accuracy(run.network(), run.task, mode="meanfield", rng=rng)
        return {"row_test_accuracy": accuracy}
    summary, _ = vip_analysis(  # no controls: they draw their own streams, not the VIP curve's
        run.network(), run.task, seed=seed, fractions=(0.0, 1.0), controls=()
    )
    return {
        "msi_intact_accuracy": summary["accuracy_intact"],
        "msi_all_vips_removed": summary["accuracy_vip_mean"][-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="directory of the runs")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--tasks", default="row,msi", help="comma-separated tasks to compare: row, msi"
    )
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    if not tasks or set(tasks) - {"row", "msi"}:
        parser.error(f"--tasks {args.tasks!r}: choose among row and msi, e.g. --tasks msi")
    values = {dtype: {} for dtype in ("float32", "float64")}
    for dtype in values:
        for task in tasks:
            for seed in range(args.seeds):
                for key, value in quantities(args.runs, task, dtype, seed).items():
                    values[dtype].setdefault(key, []).append(value)
    report = {}
    for key, margin in MARGINS.items():
        if key not in values["float64"]:
            continue
        comparison = paired_interval(values["float32"][key], values["float64"][key])
        low, high = comparison["ci95"]
        comparison.update(
            margin=margin,
            float64_mean=float(np.mean(values["float64"][key])),
            float32_mean=float(np.mean(values["float32"][key])),
            verdict=_verdict(low, high, margin),
        )
        report[key] = comparison
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
