"""``sasrnn kernel``: the infinite-width SaS RNTK against finite networks (docs/model.md §5.1,
§3.4–3.5).

Two parts:

* ``circle`` — analytic vs empirical kernel over the φ-circle inputs of docs/model.md §3.5 at
several
  widths (per α and T), with the log-log slope of the per-network error against N;
* ``curves`` — simulated full-batch GD vs the analytic lazy prediction on MNIST 0/1
  (docs/model.md §3.4) at several widths, with the early train-loss gap and the kernel drift.

Example::

    sasrnn kernel --part circle --alphas 0.5 1 --steps 2 3 --widths 500 2000 --networks 20 \\
        --out results/kernel
    sasrnn kernel --part curves --curve-widths 64 128 256 512 --epochs 100 --out results/kernel

Writes DIR/kernel_circle.json + .npz and/or DIR/kernel_curves.json + .npz.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

PARTS = ("circle", "curves", "all")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "kernel",
        help="analytic RNTK vs empirical kernels and lazy learning curves",
        description="Compare the analytic SaS RNTK (theory.rntk) with empirical tangent kernels "
        "of finite NTK-parameterised networks, and closed-form lazy learning with simulated GD.",
    )
    parser.add_argument("--part", choices=PARTS, default="all", help="which comparison to run")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.5, 1.0], help="circle: α")
    parser.add_argument("--steps", type=int, nargs="+", default=[2, 3], help="circle: T (2, 3)")
    parser.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=[250, 500, 1000, 2000, 4000],
        help="circle: widths N",
    )
    parser.add_argument("--networks", type=int, default=20, help="circle: networks per width")
    parser.add_argument("--n-phi", type=int, default=41, help="circle: φ grid points on [0, 2π]")
    parser.add_argument(
        "--curve-widths", type=int, nargs="+", default=[64, 128, 256, 512], help="curves: widths N"
    )
    parser.add_argument("--curve-networks", type=int, default=2, help="curves: networks per width")
    parser.add_argument("--epochs", type=int, default=100, help="curves: full-batch GD epochs")
    parser.add_argument("--lr", type=float, default=1e-3, help="curves: learning rate η")
    parser.add_argument("--n-train", type=int, default=512, help="curves: training digits")
    parser.add_argument("--n-test", type=int, default=128, help="curves: test digits")
    parser.add_argument(
        "--n-probe",
        type=int,
        default=32,
        help="curves: training inputs on which the kernel drift is measured",
    )
    parser.add_argument(
        "--resample-noise",
        action="store_true",
        help="curves: redraw ε and h0 every epoch (official code) instead of freezing them",
    )
    parser.add_argument(
        "--mnist-source",
        default="embedded",
        help="curves: sims.data.load_mnist source (embedded, a directory, env)",
    )
    parser.set_defaults(func=run)


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}/{key}" if prefix else str(key), item, out)
    elif isinstance(value, np.ndarray):
        out[prefix] = value


def _summaries(value, drop):
    """The result without the big arrays named in ``drop`` (those go to the npz), JSON-ready."""
    if isinstance(value, dict):
        return {k: _summaries(v, drop) for k, v in value.items() if k not in drop}
    return _json_ready(value)


def _write(out_dir: Path, name: str, result: dict, drop: set, meta: dict) -> None:
    arrays = {}
    _flatten("", result, arrays)
    np.savez_compressed(out_dir / f"{name}.npz", **arrays)
    payload = {"meta": meta, "results": _summaries(result, drop)}
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=2))


def run(args) -> int:
    from sims.kernels import circle_experiment, learning_curve_experiment

    if args.networks < 1 or args.curve_networks < 1 or args.epochs < 1:
        raise ValueError("--networks, --curve-networks and --epochs must be >= 1")
    if any(t not in (2, 3) for t in args.steps):
        raise ValueError(f"--steps must be 2 or 3 (docs/model.md §3.5 inputs), got {args.steps}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    meta = {key: value for key, value in vars(args).items() if key != "func"}

    if args.part in ("circle", "all"):
        start = time.perf_counter()
        circle = {}
        for alpha in args.alphas:
            for n_steps in args.steps:
                circle[f"alpha={alpha:g},T={n_steps}"] = circle_experiment(
                    alpha,
                    n_steps,
                    args.widths,
                    args.networks,
                    rng,
                    n_phi=args.n_phi,
                    progress=print,
                )
        meta_circle = {**meta, "elapsed_seconds": time.perf_counter() - start}
        _write(out_dir, "kernel_circle", circle, {"empirical"}, meta_circle)
        for key, result in circle.items():
            print(f"{key}: slope of per-network error vs N = {result['slope_per_network_error']}")

    if args.part in ("curves", "all"):
        from sims.data import load_mnist

        start = time.perf_counter()
        data = load_mnist(args.mnist_source)
        curves = learning_curve_experiment(
            data,
            args.curve_widths,
            args.curve_networks,
            rng,
            lr=args.lr,
            epochs=args.epochs,
            n_train=args.n_train,
            n_test=args.n_test,
            n_probe=args.n_probe,
            resample_noise=args.resample_noise,
            progress=print,
        )
        meta_curves = {**meta, "elapsed_seconds": time.perf_counter() - start}
        _write(
            out_dir,
            "kernel_curves",
            curves,
            {
                "train_loss",
                "test_loss",
                "train_loss_lazy",
                "test_loss_lazy",
                "train_loss_lazy_flow",
            },
            meta_curves,
        )
        print(
            f"curves: slope of early train-loss gap vs N = {curves['slope_early_gap']}; "
            f"slope of final kernel drift vs N = {curves['slope_final_drift']}"
        )
    print(f"wrote results to {out_dir}")
    return 0
