"""``sasrnn train``: train a spike-and-slab RNN on one task with the paper's settings.

Example::

    sasrnn train --task row-mnist --preset paper --epochs 40 --batches-per-epoch 31 --seed 0 \\
        --out runs/row-mnist/seed0
    sasrnn train --task multisensory --set optimizer.lr.out.pi=0.01 --out runs/msi/notebook-lr
    sasrnn train --task row-mnist --out runs/row-mnist/seed0 --resume    # after a kill

Writes DIR/config.toml, run.json, metrics.json, params.npz, checkpoint.npz and
snapshots/epoch_*.npz (sims.train, sims.store).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sims.cli import Repeatable
from sims.presets import PRESETS, TASK_NAMES, resolve_config
from sims.store import config_hash


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a network on a task (paper presets, checkpoints, resume)",
        description="Train a spike-and-slab RNN with mean-field generalized BPTT using the "
        "official hyperparameters of a task (docs/model.md §2.4-2.5), overridable with --set.",
    )
    parser.add_argument("--task", required=True, choices=TASK_NAMES)
    parser.add_argument("--preset", default="paper", choices=PRESETS)
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs (multisensory: maximum iterations)"
    )
    parser.add_argument(
        "--batches-per-epoch",
        type=int,
        default=None,
        help="minibatches per epoch (paper MNIST: 200)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of every random stream (0)")
    parser.add_argument(
        "--data",
        default=None,
        metavar="embedded|DIR",
        help="MNIST source: 'embedded' (default) or a directory of IDX files",
    )
    parser.add_argument("--dtype", default=None, choices=("float64", "float32"))
    parser.add_argument(
        "--set",
        dest="overrides",
        action=Repeatable,
        default=[],
        metavar="KEY=VALUE",
        help="override config keys, values as TOML literals (--set A=1 B=2 or repeated), "
        "e.g. --set optimizer.lr.rec.pi=5e-4",
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="run directory (default runs/TASK/seedS-HASH8)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from sims.runs import CONFIG_FILE  # heavy imports only when the command runs
    from sims.train import train_run

    config = resolve_config(
        args.task,
        preset=args.preset,
        overrides=args.overrides,
        epochs=args.epochs,
        batches_per_epoch=args.batches_per_epoch,
        seed=args.seed,
        data=args.data,
        dtype=args.dtype,
    )
    if config["data"] != "embedded":  # a directory of IDX files, stored absolute
        config["data"] = str(Path(config["data"]).expanduser().resolve())
    out = (
        Path(args.out)
        if args.out
        else Path("runs", args.task, f"seed{config['seed']}-{config_hash(config)[:8]}")
    )
    if args.resume and not (out / CONFIG_FILE).is_file():
        raise FileNotFoundError(
            f"--resume: {str(out)!r} holds no run to continue; drop --resume to start one there."
        )
    try:
        result = train_run(config, out, resume=args.resume, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"continue it with the same command, --out {out} --resume", file=sys.stderr)
        raise
    print(f"{out}: {len(result.metrics['epochs'])} epochs")
    print_metrics(result.metrics["final"])
    return 0


def print_metrics(metrics: dict) -> None:
    """Print the numbers, flags and psychometric summaries of a metrics dict, one per line."""
    for key, value in metrics.items():
        if isinstance(value, bool):
            print(f"  {key} = {str(value).lower()}")
        elif isinstance(value, (int, float)):
            print(f"  {key} = {value:.6g}")
        elif key in ("sigma", "psychometric"):
            print(f"  {key} = {value}")
