"""``sasrnn kernel``: the infinite-width SaS RNTK against finite networks (docs/model.md §5.1,
§3.4–3.5).

Two parts:

* ``circle`` — analytic vs empirical kernel over the φ-circle inputs of docs/model.md §3.5 at
  several widths, per α and T, with the log-log slope of the per-network error against N
  (:func:`sims.kernels.circle_result`);
* ``curves`` — simulated full-batch GD vs the analytic lazy prediction on MNIST 0/1
  (docs/model.md §3.4) at several widths, with the early train-loss gap and the kernel drift
  (:func:`sims.kernels.curves_result`).

Example::

    sasrnn kernel --part circle --alphas 0.5 1 --steps 2 3 --widths 500 2000 --networks 20 \\
        --out results/kernel
    sasrnn kernel --part curves --curve-widths 64 128 256 512 --epochs 100 --out results/kernel

Writes results of the same schemas as a reproduction (``sims.store``): the circle check at
(α, T) = (0.5, 2), the case of Appendix A1, as DIR/kernel_circle.json/.npz, every other (α, T) as
DIR/kernel_circle_a<α>_T<T>.json/.npz, and the learning curves as DIR/kernel_curves.json/.npz, so
that the figures can be drawn from DIR directly. Each (α, T) uses its own
``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import time
from pathlib import Path

from sims.cli import Repeatable

PARTS = ("circle", "curves", "all")
#: The circle check the figures draw (Appendix A1): α = 0.5, T = 2, stored under the plain stem.
FIGURE_CIRCLE = (0.5, 2)
CIRCLE_STEM = "kernel_circle"
CURVES_STEM = "kernel_curves"


def circle_stem(alpha: float, n_steps: int) -> str:
    """File stem of the circle check at (α, T): ``kernel_circle`` for the figure's case, else
    ``kernel_circle_a<α>_T<T>``."""
    if (float(alpha), int(n_steps)) == FIGURE_CIRCLE:
        return CIRCLE_STEM
    return f"{CIRCLE_STEM}_a{alpha:g}_T{n_steps}"


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
    parser.add_argument(
        "--alphas", type=float, action=Repeatable, default=[0.5, 1.0], help="circle: α"
    )
    parser.add_argument(
        "--steps", type=int, action=Repeatable, default=[2, 3], help="circle: T (2, 3)"
    )
    parser.add_argument(
        "--widths",
        type=int,
        action=Repeatable,
        default=[250, 500, 1000, 2000, 4000],
        help="circle: widths N",
    )
    parser.add_argument("--networks", type=int, default=20, help="circle: networks per width")
    parser.add_argument("--n-phi", type=int, default=41, help="circle: φ grid points on [0, 2π]")
    parser.add_argument(
        "--curve-widths",
        type=int,
        action=Repeatable,
        default=[64, 128, 256, 512],
        help="curves: widths N",
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


def run(args) -> int:
    from sims.kernels import circle_result, curves_result
    from sims.store import write_result

    if args.networks < 1 or args.curve_networks < 1 or args.epochs < 1:
        raise ValueError("--networks, --curve-networks and --epochs must be >= 1")
    if any(t not in (2, 3) for t in args.steps):
        raise ValueError(f"--steps must be 2 or 3 (docs/model.md §3.5 inputs), got {args.steps}")
    out_dir = Path(args.out)

    if args.part in ("circle", "all"):
        for alpha in args.alphas:
            for n_steps in args.steps:
                start = time.perf_counter()
                summary, arrays = circle_result(
                    alpha, n_steps, args.widths, args.networks, args.n_phi, args.seed
                )
                paths = write_result(
                    out_dir / circle_stem(alpha, n_steps), "kernel-circle", summary, arrays
                )
                for width, entry in summary["per_width"].items():
                    print(
                        f"circle alpha={alpha:g} T={n_steps} N={width}: mean-kernel error "
                        f"{entry['mean_relative_error']:.4f}, per-network "
                        f"{entry['per_network_error_mean']:.4f}"
                    )
                print(
                    f"{paths[0]}: slope of per-network error vs N = "
                    f"{summary['slope_per_network_error']} "
                    f"({time.perf_counter() - start:.1f} s)"
                )

    if args.part in ("curves", "all"):
        start = time.perf_counter()
        summary, arrays = curves_result(
            args.mnist_source,
            args.curve_widths,
            args.curve_networks,
            args.epochs,
            args.n_train,
            args.n_test,
            args.seed,
            lr=args.lr,
            n_probe=args.n_probe,
            resample_noise=args.resample_noise,
        )
        paths = write_result(out_dir / CURVES_STEM, "kernel-curves", summary, arrays)
        for width, entry in summary["per_width"].items():
            print(
                f"curves N={width}: early train-loss gap {entry['early_gap']:.4f}, final kernel "
                f"drift {entry['final_kernel_drift']}"
            )
        print(
            f"{paths[0]}: slope of early train-loss gap vs N = {summary['slope_early_gap']}; "
            f"slope of final kernel drift vs N = {summary['slope_final_drift']} "
            f"({time.perf_counter() - start:.1f} s)"
        )
    return 0
