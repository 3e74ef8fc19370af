"""``sasrnn evaluate RUN_DIR``: re-run the final evaluation of a trained run.

Example::

    sasrnn evaluate runs/row-mnist/seed0 --samples 20 --seed 5
    sasrnn evaluate runs/msi/seed0 --mode per_step --batches 100    # the notebook protocol

Prints the metrics as JSON, and with ``--write`` stores them as DIR/evaluation-<tag>.json.
"""

from __future__ import annotations

import json

from sims.presets import PSYCHOMETRIC_MODES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained run (accuracies, psychometric curves)",
        description="Evaluate a trained run: mean-field (ε random and ε = 0) and sampled "
        "(quenched, per-step) test accuracies, or the MSI psychometric curves.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation noise")
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="sampled networks K (default: the run's evaluation.n_samples)",
    )
    parser.add_argument(
        "--mode",
        default=None,
        choices=PSYCHOMETRIC_MODES,
        help="MSI: how the network is run for the psychometric curves",
    )
    parser.add_argument("--batches", type=int, default=None, help="MSI: test batches")
    parser.add_argument("--test-dt", type=float, default=None, help="MSI: test step in ms")
    parser.add_argument(
        "--write", action="store_true", help="store the result as RUN_DIR/evaluation-seedS.json"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from sims import evaluate, store
    from sims.train import load_run

    result = load_run(args.run_dir)
    if result.network is None:
        raise ValueError(
            f"{args.run_dir!r} is a sine toy-model run; it has no network to "
            "evaluate (its metrics.json holds the per-epoch records)."
        )
    config, task = result.config, result.task()
    rng = np.random.default_rng(args.seed)
    evaluation = config["evaluation"]
    if config["task"] == "multisensory":
        metrics = evaluate.evaluate_multisensory(
            result.network,
            task,
            rng,
            mode=args.mode or evaluation["psychometric_mode"],
            n_batches=args.batches or evaluation["n_test_batches"],
            test_dt=args.test_dt or evaluation["test_dt"],
        )
    else:
        metrics = evaluate.evaluate_classification(
            result.network,
            task,
            rng,
            n_samples=args.samples or evaluation["n_samples"],
            max_samples=evaluation["test_samples"],
        )
    print(json.dumps(store.jsonable(metrics), indent=1))
    if args.write:
        store.atomic_write_json(result.directory / f"evaluation-seed{args.seed}.json", metrics)
    return 0
