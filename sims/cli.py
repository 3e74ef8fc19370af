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
import sys

#: Sub-command modules, in the order ``sasrnn --help`` lists them.
COMMAND_MODULES = (
    "sims.commands.bench",
    "sims.commands.phase",
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sasrnn",
        description="Spike-and-slab recurrent networks (Zou, Li & Huang, PRE 107, 024307, 2023).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as error:
        # Bad input: one clear message, no traceback.
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"sasrnn {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
