"""The ``sasrnn`` command line.

Each sub-command lives in its own module under :mod:`sims.commands` and exposes
``register(subparsers)``, which adds an ``argparse`` parser whose ``func`` default runs it.
Modules are imported lazily so that ``sasrnn --help`` stays fast. An option that takes several
values is declared with ``action=Repeatable``, so that ``--fixed A=1 --fixed B=2`` and
``--fixed A=1 B=2`` mean the same.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback

#: Sub-command modules, in the order ``sasrnn --help`` lists them.
COMMAND_MODULES = (
    "sims.commands.bench",
    "sims.commands.phase",
    "sims.commands.trainability",
    "sims.commands.regime",
    "sims.commands.train",
    "sims.commands.evaluate",
    "sims.commands.kernel",
    "sims.commands.analyze",
    "sims.commands.reproduce",
)


class Repeatable(argparse.Action):
    """An option taking one or more values, repeatable: ``--x A B --x C`` gives [A, B, C].

    The values of every use are collected in order; the first use replaces the default (unlike
    ``action="extend"``, which would add to it).

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument("--fixed", action=Repeatable, default=[])
        >>> parser.parse_args(["--fixed", "A=1", "B=2", "--fixed", "C=3"]).fixed
        ['A=1', 'B=2', 'C=3']
    """

    def __init__(self, option_strings, dest, nargs="+", **kwargs):
        if nargs != "+":
            raise ValueError("a Repeatable option takes nargs='+'")
        super().__init__(option_strings, dest, nargs=nargs, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        collected = getattr(namespace, self.dest, None)
        if collected is None or collected is self.default:
            collected = []
        setattr(namespace, self.dest, [*collected, *values])


def add_scan_workers(parser: argparse.ArgumentParser) -> None:
    """The worker options of a command that runs scans (:func:`sims.scan.run_scan`): ``--jobs``
    local processes, or ``--scheduler`` a dask cluster."""
    parser.add_argument("--jobs", type=int, default=1, help="local worker processes (loky)")
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="dask.distributed scheduler address (uses joblib's dask backend)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sasrnn",
        description="Spike-and-slab recurrent networks (Zou, Li & Huang, PRE 107, 024307, 2023).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


#: Exit codes of ``sasrnn``: every failure a user or the machine causes ends in one line on
#: stderr and one of these; only an unexpected internal error (1) prints its traceback.
EXIT_BAD_INPUT = 2  # bad arguments, config values, shapes, a missing input file
EXIT_DAMAGED_FILE = 3  # a stored file that is truncated, corrupt or of an unknown schema version
EXIT_SYSTEM_ERROR = 4  # permission denied, disk full, read-only file system, ...
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM
#: Set to 1 to see the traceback of every failure.
DEBUG_VARIABLE = "SASRNN_DEBUG"


def _exit_code(error: BaseException) -> int:
    """The documented exit code of ``error`` (1 for an unexpected one)."""
    from figures.resultfiles import DamagedFileError

    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, DamagedFileError):
        return EXIT_DAMAGED_FILE
    if isinstance(error, (ValueError, KeyError, FileNotFoundError)):
        return EXIT_BAD_INPUT
    if isinstance(error, OSError):
        return EXIT_SYSTEM_ERROR
    return 1


def _message(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{where}; check the permissions and free space there."
    return str(error)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run one ``sasrnn`` sub-command; returns its exit code (see the ``EXIT_*`` constants).

    SIGTERM is turned into an interrupt first, before the sub-commands and their numerical
    libraries are imported, so that a stop at any moment after Python has started ends with
    exit code 130 and one line (this module imports only the standard library).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main_thread else None
    command = None
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        return int(args.func(args) or 0)
    except (Exception, KeyboardInterrupt) as error:
        code = _exit_code(error)
        if code == 1 or os.environ.get(DEBUG_VARIABLE) == "1":
            traceback.print_exc()
        if code != 1:
            where = f"sasrnn {command}" if command else "sasrnn"
            print(f"{where}: error: {_message(error)}", file=sys.stderr)
        return code
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
