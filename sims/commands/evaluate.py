"""``sasrnn evaluate RUN_DIR``: re-run the final evaluation of a trained run.

Example::

    sasrnn evaluate runs/row-mnist/seed0 --samples 20 --seed 5
    sasrnn evaluate runs/msi/seed0 --mode per_step --batches 100    # the notebook protocol

Prints the metrics, and with ``--write`` stores them as RUN_DIR/evaluation-seedS.json.
"""

from __future__ import annotations

from sims.evaluate import EVALUATION_MODES


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
        choices=EVALUATION_MODES,
        help="MSI: how the network is run for the psychometric curves",
    )
    parser.add_argument("--batches", type=int, default=None, help="MSI: test batches")
    parser.add_argument("--test-dt", type=float, default=None, help="MSI: test step in ms")
    parser.add_argument(
        "--write", action="store_true", help="store the result as RUN_DIR/evaluation-seedS.json"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    import copy

    import numpy as np

    from sims import store
    from sims.commands.train import print_metrics
    from sims.runs import Run

    run = Run.open(args.run_dir)
    network = run.network()  # a clear error for a run without a network (the toy model)
    config = copy.deepcopy(run.config)
    evaluation = config["evaluation"]
    evaluation.update(
        n_samples=args.samples or evaluation["n_samples"],
        psychometric_mode=args.mode or evaluation["psychometric_mode"],
        n_test_batches=args.batches or evaluation["n_test_batches"],
        test_dt=args.test_dt or evaluation["test_dt"],
    )
    metrics = run.task.evaluate(network, np.random.default_rng(args.seed), config)
    print_metrics(metrics)
    if args.write:
        path = run.directory / f"evaluation-seed{args.seed}.json"
        store.write_json(path, "evaluation", metrics)
        print(f"written to {path}")
    return 0
