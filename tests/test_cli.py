"""The one command line: every sub-command registered, repeated options in either form."""

from __future__ import annotations

import argparse

import pytest

from sims.cli import Repeatable, build_parser, main
from sims.store import read_json

SUBCOMMANDS = ("bench", "phase", "regime", "train", "evaluate", "kernel", "analyze", "reproduce")


def test_every_subcommand_is_registered_with_sasrnn():
    parser = build_parser()
    choices = next(
        action.choices
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    assert set(SUBCOMMANDS) <= set(choices)


def test_repeatable_option_collects_one_flag_with_several_values_or_the_flag_repeated():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixed", action=Repeatable, default=["default=1"])
    one_flag = parser.parse_args(["--fixed", "A=1", "B=2"]).fixed
    repeated = parser.parse_args(["--fixed", "A=1", "--fixed", "B=2"]).fixed
    mixed = parser.parse_args(["--fixed", "A=1", "--fixed", "B=2", "C=3"]).fixed
    assert one_flag == repeated == ["A=1", "B=2"] and mixed == ["A=1", "B=2", "C=3"]
    assert parser.parse_args([]).fixed == ["default=1"]  # the default stays until replaced


@pytest.mark.parametrize(
    ("command", "option", "dest"),
    [
        ("train", "--set", "overrides"),
        ("phase", "--fixed", "fixed"),
        ("analyze", "--blocks", "blocks"),
    ],
)
def test_every_repeated_option_takes_either_form(command, option, dest):
    required = {
        "train": ["--task", "row-mnist"],
        "phase": ["--x", "g=0:1:2", "--y", "pi=0:1:2", "--metric", "lyapunov"],
        "analyze": ["projection"],
    }
    parser = build_parser()
    one_flag = parser.parse_args([command, *required[command], option, "a=1", "b=2"])
    repeated = parser.parse_args([command, *required[command], option, "a=1", option, "b=2"])
    assert getattr(one_flag, dest) == getattr(repeated, dest) == ["a=1", "b=2"]


@pytest.mark.slow  # trains a width × learning-rate grid; test_learning_regime covers its parts
def test_regime_subcommand_scans_fits_and_draws_the_diagram(tmp_path):
    argv = ["regime", "--widths", "4", "16", "--widths", "64", "--lrs", "1e-5", "1e-4", "1e-3"]
    tiny = ["--fixed", "n_train=12", "n_test=4", "--fixed", "n_probe=6", "epochs=2"]
    assert main([*argv, *tiny, "--seeds", "1", "--quiet", "--out", str(tmp_path)]) == 0
    scan = read_json(tmp_path / "scan.json", "scan")
    assert (scan["x"]["key"], scan["y"]["key"]) == ("N", "lr")
    assert scan["x"]["values"] == [4.0, 16.0, 64.0] and scan["x"]["scale"] == "log"
    assert scan["config"]["epochs"] == 2 and scan["config"]["n_probe"] == 6
    assert scan["theory"]["fit"]["constant"] > 0
    assert (tmp_path / "phase_diagram.png").stat().st_size > 0


def test_a_bad_regime_setting_is_one_clear_error(tmp_path, capsys):
    assert main(["regime", "--fixed", "no_such_key=1", "--out", str(tmp_path)]) == 2
    assert "no_such_key" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["phase", "regime", "kernel"])
def test_help_of_each_owned_subcommand_renders(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0 and command in capsys.readouterr().out
