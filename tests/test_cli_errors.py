"""One error path: every failure a user or the machine causes is one line and a documented code."""

from __future__ import annotations

import errno

import pytest

from figures.resultfiles import DamagedFileError
from sims import cli
from sims.cli import (
    EXIT_BAD_INPUT,
    EXIT_DAMAGED_FILE,
    EXIT_INTERRUPTED,
    EXIT_SYSTEM_ERROR,
    main,
)

FAILURES = [
    (ValueError("alpha must lie in (0, 1]"), EXIT_BAD_INPUT),
    (KeyError("unknown key 'foo'"), EXIT_BAD_INPUT),
    (FileNotFoundError("'x' does not exist"), EXIT_BAD_INPUT),
    (DamagedFileError("'x.npz' is not a complete npz archive; delete it"), EXIT_DAMAGED_FILE),
    (PermissionError(errno.EACCES, "Permission denied", "/sys/x"), EXIT_SYSTEM_ERROR),
    (OSError(errno.ENOSPC, "No space left on device", "/full"), EXIT_SYSTEM_ERROR),
    (OSError(errno.EROFS, "Read-only file system", "/ro"), EXIT_SYSTEM_ERROR),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "FILE/sub"), EXIT_SYSTEM_ERROR),
    (KeyboardInterrupt(), EXIT_INTERRUPTED),
]


def _failing_command(error):
    def run(args):
        raise error

    return run


@pytest.fixture
def command_raising(monkeypatch):
    """Make `sasrnn bench` raise a given error (the command itself is irrelevant)."""
    real = cli.build_parser

    def install(error):
        def build():
            parser = real()
            subparsers = next(a for a in parser._actions if a.dest == "command")
            subparsers.choices["bench"].set_defaults(func=_failing_command(error))
            return parser

        monkeypatch.setattr(cli, "build_parser", build)

    return install


@pytest.mark.parametrize(("error", "code"), FAILURES, ids=lambda v: type(v).__name__)
def test_each_failure_is_one_line_and_its_documented_exit_code(
    error, code, command_raising, capsys, monkeypatch
):
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    command_raising(error)
    assert main(["bench"]) == code
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and stderr.startswith("sasrnn bench: error: ")
    assert "Traceback" not in stderr


def test_an_unexpected_error_prints_its_traceback_and_exits_1(command_raising, capsys):
    command_raising(ZeroDivisionError("a bug"))
    assert main(["bench"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_debug_variable_shows_the_traceback_of_an_input_error(command_raising, capsys, monkeypatch):
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    command_raising(ValueError("bad"))
    assert main(["bench"]) == EXIT_BAD_INPUT
    assert "Traceback" in capsys.readouterr().err


def test_resume_of_a_directory_without_a_run_is_an_error(tmp_path, capsys):
    code = main(["train", "--task", "sine", "--out", str(tmp_path / "none"), "--resume"])
    assert code == EXIT_BAD_INPUT
    assert "holds no run to continue" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_interrupted_training_is_marked_and_tells_how_to_resume(tmp_path, capsys, monkeypatch):
    from sims.runs import Run
    from sims.train import Trainer

    calls = {"n": 0}
    real_step = Trainer._step

    def step_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "_step", step_then_interrupt)
    out = tmp_path / "msi"
    argv = ["train", "--task", "multisensory", "--epochs", "5", "--set", "network.n_rec=8"]
    assert main([*argv, "--quiet", "--out", str(out)]) == EXIT_INTERRUPTED
    stderr = capsys.readouterr().err
    assert f"--out {out} --resume" in stderr and "Traceback" not in stderr
    assert Run.open(out).info["status"] == "interrupted"


def test_sigterm_while_the_commands_are_imported_ends_in_one_line_and_130(monkeypatch, capsys):
    """The handler is installed before the sub-commands (and numpy, numba, ...) are imported:
    a SIGTERM during that import is an interrupt, not a death by signal."""
    import importlib
    import os
    import signal

    from sims import cli

    real_import = importlib.import_module

    def import_then_terminate(name, *args):
        if name == cli.COMMAND_MODULES[-1]:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_import(name, *args)

    monkeypatch.setattr(cli.importlib, "import_module", import_then_terminate)
    assert cli.main(["bench", "--help"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "sasrnn: error: interrupted"


def test_the_command_line_module_imports_only_the_standard_library():
    """What runs before the SIGTERM handler is installed must stay short."""
    import subprocess
    import sys

    code = (
        "import sys; before = set(sys.modules); import sims.cli; "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('numpy', 'scipy', 'numba', 'figures', 'dynamics', 'theory')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
