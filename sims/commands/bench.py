"""``sasrnn bench``: time one training step at the paper's pixel-MNIST size (prints JSON)."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time one pixel-MNIST training step against the GEMM floor (JSON)",
        description=__doc__,
    )
    parser.add_argument(
        "--repeats", type=int, default=9, help="best of this many round-robin timings (default 9)"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from sims.bench import run_benchmark

    if args.repeats < 1:
        raise ValueError("--repeats must be at least 1.")
    print(json.dumps(run_benchmark(args.repeats), indent=2))
    return 0
