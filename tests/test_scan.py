"""The scan engine: cached cells, resumable scans, local vs dask execution, scan.json, figure."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sims.commands import phase as phase_command
from sims.probes import get_probe, register_probe
from sims.scan import Axis, first_upward_crossing, load_scan, parse_axis, run_scan
from sims.store import DamagedFileError

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--fixed", "N=20", "--fixed", "steps=60", "--fixed", "transient=20"]


def _cli(argv):
    """Run ``sasrnn phase`` (the command module's own parser and run, as sims.cli does)."""
    parser = argparse.ArgumentParser(prog="sasrnn")
    phase_command.register(parser.add_subparsers())
    args = parser.parse_args(["phase", *argv])
    return args.func(args)


# A probe that counts its calls in a directory and fails once a budget is spent; registered at
# import so that in-process (jobs=1) scans can use it.
COUNT_DIR_KEY = "count_dir"


@register_probe(
    "test-counting",
    defaults={"a": 0.0, "b": 0.0, "seed": 0, COUNT_DIR_KEY: "", "fail_after": -1},
    metrics=("product",),
)
def counting_probe(config):
    calls = Path(config[COUNT_DIR_KEY])
    done = len(list(calls.iterdir()))
    budget = Path(config[COUNT_DIR_KEY] + ".budget")
    if budget.exists() and done >= int(budget.read_text()):
        raise RuntimeError("probe killed (simulated)")
    (calls / f"{done}").write_text(json.dumps(config))
    return {"product": config["a"] * config["b"] + config["seed"]}


def test_axis_parsing_includes_both_ends_and_rejects_bad_text():
    assert parse_axis("g=0.5:1.5:3") == Axis("g", (0.5, 1.0, 1.5))
    assert parse_axis("pi=0:0.9:4").values == (0.0, 0.3, 0.6, 0.9)  # not 0.30000000000000004
    assert parse_axis("g=1.5:0.5:3") == Axis("g", (0.5, 1.0, 1.5))  # always ascending
    assert parse_axis("lr=1e-4:1e-2:3:log") == Axis("lr", (1e-4, 1e-3, 1e-2), "log")
    log_axis = parse_axis("lr=1e-4:2e-3:5:log").values
    np.testing.assert_allclose(np.diff(np.log(log_axis)), np.log(20) / 4, rtol=1e-10)
    assert parse_axis("lr=1e-4:1e-3:2:log").scale == "log"  # as asked, even with two values
    assert parse_axis("N = 64,32,512") == Axis("N", (32.0, 64.0, 512.0), "log")  # sorted, guessed
    assert parse_axis("g=0.5,1,1.5,2").scale == "linear"
    assert parse_axis("N=16,32,64").scale == "log"
    assert parse_axis("pi=0,0.5,0.75").scale == "linear"  # not all positive
    with pytest.raises(ValueError, match="scale must be 'linear' or 'log'"):
        Axis("lr", (1e-4, 1e-3), "geometric")
    bad_axes = (
        "g=0.5:1.5",
        "g0.5:1:3",
        "g=a:1:3",
        "g=0:1:0",
        "g=",
        "=1,2",
        "lr=0:1:3:log",
        "lr=1e-3:1:3:lin",
        "N=32,32",
        "N=32,nan",
        "g=0:inf:3",
    )
    for bad in bad_axes:
        with pytest.raises(ValueError, match="KEY=START:STOP:NUM"):
            parse_axis(bad)


def test_unknown_probe_key_or_metric_raises_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown probe"):
        run_scan(
            "no-such-probe", parse_axis("g=0:1:2"), parse_axis("pi=0:1:2"), "lyapunov", out=tmp_path
        )
    with pytest.raises(ValueError, match="no config key"):
        run_scan(
            "init-dynamics",
            parse_axis("gain=0:1:2"),
            parse_axis("pi=0:1:2"),
            "lyapunov",
            out=tmp_path,
        )
    with pytest.raises(ValueError, match="no metric"):
        run_scan(
            "init-dynamics", parse_axis("g=0:1:2"), parse_axis("pi=0:1:2"), "entropy", out=tmp_path
        )


def test_interrupted_scan_reruns_only_the_missing_cells(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    (tmp_path / "calls.budget").write_text("5")
    x, y = parse_axis("a=1:3:3"), parse_axis("b=0:1:2")
    fixed = {COUNT_DIR_KEY: str(calls)}
    with pytest.raises(RuntimeError, match="simulated"):
        run_scan(
            "test-counting",
            x,
            y,
            "product",
            out=tmp_path / "scan",
            fixed=fixed,
            seeds=2,
            progress=False,
        )
    assert len(list((tmp_path / "scan" / "cells").glob("*.json"))) == 5
    (tmp_path / "calls.budget").unlink()
    scan = run_scan(
        "test-counting",
        x,
        y,
        "product",
        out=tmp_path / "scan",
        fixed=fixed,
        seeds=2,
        progress=False,
    )
    assert scan["cells"] == {"total": 12, "cached": 5, "computed": 7}
    assert len(list(calls.iterdir())) == 12  # 5 before the failure + 7 after: none twice
    expected = np.outer(y.values, x.values) + 0.5  # seed-mean of seeds 0 and 1
    np.testing.assert_allclose(scan["values"], expected)
    rerun = run_scan(
        "test-counting",
        x,
        y,
        "product",
        out=tmp_path / "scan",
        fixed=fixed,
        seeds=2,
        progress=False,
    )
    assert rerun["cells"]["computed"] == 0 and rerun["values"] == scan["values"]


#: A 6 × 2 Lyapunov scan whose cells take a fraction of a second each, so that a kill or an
#: interrupt lands between cells (the slow tests below).
SLOW_SCAN = [
    "--x",
    "g=0.5:1.5:6",
    "--y",
    "pi=0:0.5:2",
    "--metric",
    "lyapunov",
    "--fixed",
    "N=150",
    "--fixed",
    "steps=4000",
    "--no-figure",
    "--quiet",
]


@pytest.mark.slow
def test_scan_killed_with_sigkill_resumes_from_its_cached_cells(tmp_path):
    out = tmp_path / "scan"
    scan_args = ["phase", *SLOW_SCAN, "--out", str(out)]
    # the command module run directly (sims.cli would import every registered command)
    code = (
        "import argparse, sys; from sims.commands import phase; "
        "p = argparse.ArgumentParser(); phase.register(p.add_subparsers()); "
        "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    )
    argv = [sys.executable, "-c", code, *scan_args]
    process = subprocess.Popen(argv, cwd=ROOT, start_new_session=True)
    cells = out / "cells"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(cells.glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    cached = len(list(cells.glob("*.json")))
    assert 3 <= cached < 12 and not (out / "scan.json").exists()
    scan = run_scan(
        "init-dynamics",
        parse_axis("g=0.5:1.5:6"),
        parse_axis("pi=0:0.5:2"),
        "lyapunov",
        out=out,
        fixed={"N": 150, "steps": 4000},
        progress=False,
    )
    assert scan["cells"] == {"total": 12, "cached": cached, "computed": 12 - cached}


@pytest.mark.slow
def test_dask_scheduler_gives_exactly_the_numbers_of_the_local_run(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    argv = [
        "--x",
        "g=0.5:2.0:3",
        "--y",
        "pi=0:0.5:2",
        "--metric",
        "lyapunov",
        "--seeds",
        "2",
        *TINY,
        "--no-figure",
        "--quiet",
    ]
    assert _cli([*argv, "--jobs", "2", "--out", str(tmp_path / "local")]) == 0
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        assert (
            _cli([*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")])
            == 0
        )
    local, remote = load_scan(tmp_path / "local"), load_scan(tmp_path / "dask")
    assert remote["cells"]["computed"] == 12
    np.testing.assert_array_equal(local["per_seed"], remote["per_seed"])
    for name in local["metrics"]:
        np.testing.assert_array_equal(local["metrics"][name], remote["metrics"][name])


def test_scan_summary_follows_the_contract_and_carries_the_theory_boundary(tmp_path):
    assert (
        _cli(
            [
                "--x",
                "g=0.5:2.0:4",
                "--y",
                "pi=0:0.6:3",
                "--metric",
                "lyapunov",
                *TINY,
                "--no-figure",
                "--quiet",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    raw = json.loads((tmp_path / "scan.json").read_text())
    assert raw["x"] == {"key": "g", "values": [0.5, 1.0, 1.5, 2.0], "scale": "linear"}
    assert raw["y"]["key"] == "pi" and raw["metric"] == "lyapunov"
    assert np.shape(raw["values"]) == (3, 4) and np.shape(raw["per_seed"]) == (3, 4, 1)
    assert set(get_probe("init-dynamics").metrics) == set(raw["metrics"])
    theory = raw["theory"]
    boundary = np.array([theory["boundary_points"]["x"], theory["boundary_points"]["y"]])
    # on the theory boundary of the tanh sampled network g_eff = sqrt(1 - pi) g = 1
    np.testing.assert_allclose(boundary[0] * np.sqrt(1 - boundary[1]), 1.0, atol=1e-3)


def test_first_upward_crossing_interpolates_and_ignores_later_sign_changes():
    assert first_upward_crossing([0, 1, 2, 3], [-2, -1, 1, -1]) == pytest.approx(1.5)
    assert first_upward_crossing([0, 1], [1, 2]) is None
    assert first_upward_crossing([0, 1, 2], [-1, np.nan, 1]) == pytest.approx(1.0)


def test_phase_diagram_renders_with_labelled_axes_and_colour_bar(tmp_path):
    figures = pytest.importorskip("figures.phase_diagram")
    assert (
        _cli(
            [
                "--x",
                "g=0.5:2.0:4",
                "--y",
                "pi=0:0.6:3",
                "--metric",
                "phase",
                *TINY,
                "--no-figure",
                "--quiet",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    png, pdf = figures.draw_phase_diagram(tmp_path)
    assert png.stat().st_size > 10_000 and pdf.exists()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    figures.draw_scan(ax, load_scan(tmp_path))
    assert ax.get_xlabel() == "$g$" and ax.get_ylabel() == r"$\pi$"
    plt.close(fig)


def test_reading_a_scan_of_an_unknown_schema_version_is_one_clear_error(tmp_path):
    args = ["--x", "g=0.5,1", "--y", "pi=0,0.3", "--metric", "lyapunov", *TINY]
    assert _cli([*args, "--no-figure", "--quiet", "--out", str(tmp_path)]) == 0
    stored = json.loads((tmp_path / "scan.json").read_text())
    stored["schema"]["version"] = 99  # as a later sasrnn might write it
    (tmp_path / "scan.json").write_text(json.dumps(stored))
    with pytest.raises(DamagedFileError, match="version 99"):
        load_scan(tmp_path)


def test_fixed_settings_may_follow_one_flag_or_repeat_it(tmp_path):
    args = ["--x", "g=0.5,1", "--y", "pi=0,0.3", "--metric", "lyapunov", "--no-figure", "--quiet"]
    one_flag = ["--fixed", "N=20", "steps=60", "transient=20"]
    assert _cli([*args, *one_flag, "--out", str(tmp_path / "one")]) == 0
    assert _cli([*args, *TINY, "--out", str(tmp_path / "repeated")]) == 0
    one, repeated = load_scan(tmp_path / "one"), load_scan(tmp_path / "repeated")
    assert one["fixed"] == repeated["fixed"] == {"N": "20", "steps": "60", "transient": "20"}
    assert one["cells"]["computed"] == 4 and repeated["cells"]["cached"] == 0
    np.testing.assert_array_equal(one["values"], repeated["values"])


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_scan_stopped_by_ctrl_c_or_sigterm_exits_130_in_one_line_and_keeps_its_cells(
    tmp_path, signum
):
    """A scan on two worker processes, stopped after its first cells: exit 130, one line on
    stderr (no traceback, no leaked-semaphore warning from the process pool), and the finished
    cells stay cached for the next run."""
    out = tmp_path / "scan"
    argv = [sys.executable, "-m", "sims.cli", "phase", *SLOW_SCAN, "--jobs", "2", "--out", str(out)]
    process = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    cells = out / "cells"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cells.glob("*.json"))) < 2:
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == ["sasrnn phase: error: interrupted"], stderr
    assert 2 <= len(list(cells.glob("*.json"))) < 12 and not (out / "scan.json").exists()
