"""``sasrnn bench``: time one training step at the paper's pixel-MNIST size.

Prints the timings and the thread settings they ran under; ``--out FILE`` also stores them as a
"benchmark" result (:mod:`sims.store`).
"""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time one pixel-MNIST training step against the GEMM floor",
        description=__doc__,
    )
    parser.add_argument(
        "--repeats", type=int, default=9, help="best of this many round-robin timings (default 9)"
    )
    parser.add_argument(
        "--out", default=None, metavar="FILE", help="also store the report as this JSON file"
    )
    parser.set_defaults(func=run)


def _lines(report: dict, prefix: str = "") -> list[str]:
    """``key: value`` lines of a nested report (nested keys joined by dots)."""
    lines = []
    for key, value in report.items():
        if isinstance(value, dict):
            lines += _lines(value, f"{prefix}{key}.")
        else:
            lines.append(f"{prefix}{key}: {value}")
    return lines


def run(args) -> int:
    from sims.bench import run_benchmark
    from sims.store import write_json

    if args.repeats < 1:
        raise ValueError("--repeats must be at least 1.")
    report = run_benchmark(args.repeats)
    print("\n".join(_lines(report)))
    if args.out:
        print(f"wrote {write_json(args.out, 'benchmark', report)}")
    return 0
