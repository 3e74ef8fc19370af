"""`sasrnn kernel` writes what a reproduction writes, so the figures draw from its output."""

from __future__ import annotations

import numpy as np

from figures import draw_figure
from sims.cli import main
from sims.kernels import circle_result
from sims.store import read_result

TINY_CIRCLE = ["--widths", "4", "8", "--networks", "2", "--n-phi", "5"]


def test_kernel_circle_output_draws_the_appendix_kernel_figure(tmp_path):
    out = tmp_path / "kernel"
    argv = ["kernel", "--part", "circle", "--alphas", "0.5", "--steps", "2", "--out", str(out)]
    assert main([*argv, *TINY_CIRCLE]) == 0
    paths = draw_figure("appendix-kernel", out, tmp_path / "figures")
    assert {path.suffix for path in paths} == {".png", ".pdf"}
    assert all(path.stat().st_size > 0 for path in paths)


def test_kernel_circle_stores_the_figure_case_under_the_plain_stem_and_others_with_suffixes(
    tmp_path,
):
    argv = ["kernel", "--part", "circle", "--alphas", "0.5", "--alphas", "1", "--steps", "2"]
    assert main([*argv, "--out", str(tmp_path), *TINY_CIRCLE]) == 0
    assert sorted(path.name for path in tmp_path.glob("*.json")) == [
        "kernel_circle.json",
        "kernel_circle_a1_T2.json",
    ]
    other = read_result(tmp_path / "kernel_circle_a1_T2", "kernel-circle")
    assert (other.summary["alpha"], other.summary["n_steps"]) == (1.0, 2)


def test_kernel_circle_command_stores_exactly_the_library_result(tmp_path):
    argv = ["kernel", "--part", "circle", "--alphas", "0.5", "--steps", "2", "--seed", "3"]
    assert main([*argv, "--out", str(tmp_path), *TINY_CIRCLE]) == 0
    stored = read_result(tmp_path / "kernel_circle", "kernel-circle")
    summary, arrays = circle_result(0.5, 2, [4, 8], 2, 5, 3)
    assert stored.summary["per_width"] == summary["per_width"]
    assert stored.summary["slope_per_network_error"] == summary["slope_per_network_error"]
    low, high = stored.summary["slope_per_network_error_ci"]
    assert low <= high and stored.summary["slope_per_network_error_ci"] == [low, high]
    assert 0 <= stored.summary["per_width"]["8"]["within_one_se_fraction"] <= 1
    assert stored.arrays.keys() == arrays.keys()
    for key, array in arrays.items():
        np.testing.assert_array_equal(stored.arrays[key], array)
