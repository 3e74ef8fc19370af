"""``sasrnn bench``: time one training step at the paper's pixel-MNIST size.

Prints the step's timings against the GEMM floor and the machine's peak, with the thread
settings they ran under; ``--out FILE`` also stores them as a "benchmark" result
(:mod:`sims.store`). ``--suite`` times the whole job instead (:mod:`sims.bench_suite`: trainer,
evaluations, VIP analysis, RNTK, each as a ratio; several minutes, it trains a multisensory run)
and prints one JSON document, a "benchmark-suite" result that ``--out`` also stores.
"""

from __future__ import annotations

#: Round-robin repeats of the core benchmark alone.
DEFAULT_REPEATS = 9


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time one pixel-MNIST training step against the GEMM floor and the peak",
        description=__doc__,
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="time the whole job (trainer, evaluations, VIP, RNTK) as ratios; several minutes",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"best of this many round-robin timings (default {DEFAULT_REPEATS}; "
        "with --suite, the suite's default 5)",
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
    from sims.store import write_json

    if args.repeats is not None and args.repeats < 1:
        raise ValueError("--repeats must be at least 1.")
    if args.suite:
        return _run_suite(args)
    from sims.bench import run_benchmark

    report = run_benchmark(DEFAULT_REPEATS if args.repeats is None else args.repeats)
    print("\n".join(_lines(report)))
    if args.out:
        print(f"wrote {write_json(args.out, 'benchmark', report)}")
    return 0


def _run_suite(args) -> int:
    """Run the suite and print its result file: the ``--out`` file, or a temporary one (so that
    the printed JSON is exactly what the store writes, schema included)."""
    import sys
    import tempfile
    from pathlib import Path

    from sims.bench_suite import SuiteSettings, run_suite
    from sims.store import write_json

    settings = SuiteSettings() if args.repeats is None else SuiteSettings(repeats=args.repeats)
    report = run_suite(settings)
    with tempfile.TemporaryDirectory(prefix="sasrnn-bench-") as folder:
        path = write_json(args.out or Path(folder) / "suite.json", "benchmark-suite", report)
        print(path.read_text(), end="")
    if args.out:
        print(f"wrote {path}", file=sys.stderr)
    return 0
