"""The core benchmark and the suite report consistent timings and the settings they ran under
(no timing thresholds here: speed is judged from ``sasrnn bench`` runs, not in tests)."""

import dataclasses
import functools
import json

import numpy as np
import pytest
from conftest import TINY_MSI
from threadpoolctl import threadpool_info

from sims import bench, bench_suite
from sims.bench_suite import SuiteSettings
from sims.cli import build_parser, main
from sims.store import read_json
from theory import rntk

#: A step small enough for the default tests.
TINY_SHAPE = {"n_steps": 5, "batch": 4, "n_in": 1, "n_rec": 8, "n_out": 3}
#: The suite at sizes for the default tests: pixel-MNIST's T = 784 with N = B = 8 and 16 test
#: images, a three-iteration multisensory run of TINY_MSI, an RNTK of T = 3, B = 4.
TINY_SUITE = SuiteSettings(
    repeats=1,
    peak_size=32,
    train_epochs=2,
    train_minibatches=1,
    eval_repeats=1,
    pixel_overrides=(
        "network.n_rec=8",
        "batch_size=8",
        "evaluation.test_samples=16",
        "evaluation.n_samples=1",
    ),
    msi_overrides=(*TINY_MSI, "epochs=3"),
    rntk_steps=3,
    rntk_batch=4,
)


def test_step_work_is_six_products_of_2BN2_per_time_step():
    assert bench.product_flop() == 6 * 2 * 128 * 100**2 * 784  # ≈ 12.0 GFLOP at the pixel size
    assert bench.product_flop(TINY_SHAPE, bench.FLOOR_PRODUCTS) == 4 * 2 * 4 * 8**2 * 5
    with pytest.raises(ValueError, match="positive integers"):
        bench.product_flop({**TINY_SHAPE, "batch": 0})


def test_benchmark_reports_ratios_to_the_floor_and_the_peak():
    report = bench.run_benchmark(1, shape=TINY_SHAPE, peak_size=32, peak_threads=2)
    assert report["config"] == TINY_SHAPE
    floor = report["gemm_floor_seconds"]
    assert floor > 0
    assert report["float64_step_over_floor"] == pytest.approx(
        report["float64_step_seconds"] / floor
    )
    assert report["float32_step_over_float64_floor"] == pytest.approx(
        report["float32_step_seconds"] / floor
    )
    assert report["ensemble_over_deterministic_step"] == pytest.approx(
        report["float64_step_seconds"] / report["float64_deterministic_step_seconds"]
    )
    peak = report["peak"]
    assert (peak["size"], peak["threads_all"]) == (32, 2)
    for dtype in ("float64", "float32"):
        gflops = peak["step_flop"] / report[f"{dtype}_step_seconds"] / 1e9
        assert peak[f"{dtype}_step_gflops"] == pytest.approx(gflops)
        assert peak[f"{dtype}_step_fraction_of_peak"] == pytest.approx(
            gflops / peak[f"{dtype}_all_gflops"]
        )
    assert peak["gemm_floor_fraction_of_one_thread_peak"] == pytest.approx(
        peak["floor_flop"] / floor / 1e9 / peak["float64_one_gflops"]
    )


def test_round_robin_runs_each_function_once_per_round_under_its_blas_threads():
    seen = {"pinned": [], "free": []}

    def recorder(name):
        blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        seen[name].append(max(blas))

    functions = {name: functools.partial(recorder, name) for name in seen}
    times = bench.round_robin_times(functions, 2, blas_threads={"pinned": 1}, settle=0.0)
    assert {name: len(values) for name, values in times.items()} == {"pinned": 2, "free": 2}
    assert len(seen["pinned"]) == 3  # one untimed call first
    assert seen["pinned"] == [1, 1, 1]
    with pytest.raises(ValueError, match="repeats"):
        bench.round_robin_times(functions, 0)


def test_cli_benchmark_stores_a_benchmark_result(tmp_path, monkeypatch):
    tiny = functools.partial(bench.run_benchmark, shape=TINY_SHAPE, peak_size=32)
    monkeypatch.setattr(bench, "run_benchmark", tiny)
    assert main(["bench", "--repeats", "1", "--out", str(tmp_path / "bench.json")]) == 0
    report = read_json(tmp_path / "bench.json", "benchmark")
    assert report["repeats"] == 1 and report["config"] == TINY_SHAPE
    assert report["threads"]["cpu_count"] >= 1
    libraries = report["threads"]["blas_default"]
    assert libraries and all(set(bench.BLAS_FIELDS) <= set(lib) for lib in libraries)
    assert report["cpu_has_avx512"] in (True, False, None)
    assert "openblas_coretype" in report  # the environment's kernel choice, or None


def test_cli_parses_the_suite_options():
    args = build_parser().parse_args(["bench", "--suite", "--repeats", "3", "--out", "s.json"])
    assert (args.suite, args.repeats, args.out) == (True, 3, "s.json")
    args = build_parser().parse_args(["bench"])
    assert (args.suite, args.repeats, args.out) == (False, None, None)


def test_suite_settings_refuse_bad_sizes_and_name_their_reductions():
    with pytest.raises(ValueError, match="train_epochs"):
        SuiteSettings(train_epochs=1)
    with pytest.raises(ValueError, match="rntk_alpha"):
        SuiteSettings(rntk_alpha=0.0)
    assert SuiteSettings().reductions() == {}
    reduced = SuiteSettings(repeats=2, pixel_overrides=["batch_size=8"])
    assert reduced.reductions() == {"repeats": 2, "pixel_overrides": ("batch_size=8",)}


def test_reference_loop_matches_the_compiled_rntk():
    x = np.random.default_rng(1).uniform(0.0, 1.0, size=(4, 3, 2))
    np.testing.assert_allclose(bench_suite.reference_rntk(x, 0.3), rntk(x, 0.3), rtol=1e-10)
    report = bench_suite.rntk_against_loop(steps=3, batch=4, repeats=1)
    assert report["max_relative_difference"] < 1e-10
    assert report["loop_over_fast"] == pytest.approx(
        report["loop_seconds"] / report["fast_seconds"]
    )


def test_cli_suite_at_tiny_sizes_stores_a_benchmark_suite_result(tmp_path, monkeypatch, capsys):
    given = []

    def tiny_suite(settings):
        given.append(settings)
        return run_suite(dataclasses.replace(TINY_SUITE, repeats=settings.repeats))

    run_suite = bench_suite.run_suite
    monkeypatch.setattr(bench_suite, "run_suite", tiny_suite)
    path = tmp_path / "suite.json"
    assert main(["bench", "--suite", "--repeats", "1", "--out", str(path)]) == 0
    assert given == [SuiteSettings(repeats=1)]
    printed = json.loads(capsys.readouterr().out)  # stdout is the stored result file
    report = read_json(path, "benchmark-suite")
    assert printed == {"schema": {"name": "benchmark-suite", "version": 1}, **report}
    assert report["reductions"]["pixel_overrides"] == list(TINY_SUITE.pixel_overrides)
    assert report["step"]["config"] == {**bench.PIXEL_SHAPE, "batch": 8, "n_rec": 8}
    trainer = report["trainer"]
    assert len(trainer["minibatch_seconds_per_epoch"]) == 2
    assert trainer["minibatch_seconds"] == trainer["minibatch_seconds_per_epoch"][1]
    assert trainer["step_seconds"] == report["step"]["float64_step_seconds"]
    evaluation = report["epoch_evaluation"]
    assert evaluation["test_images"] == 16
    assert evaluation["epoch_seconds_estimate"] == pytest.approx(31 * trainer["minibatch_seconds"])
    assert report["final_evaluation"]["over_minibatch"] == pytest.approx(
        report["final_evaluation"]["seconds"] / trainer["minibatch_seconds"]
    )
    assert report["vip"]["msi_iterations"] == 3
    assert report["rntk"]["T"] == 3
    ratios = report["ratios"]
    assert ratios["minibatch_over_step"] == trainer["minibatch_over_step"]
    assert ratios["vip_over_msi_training"] == report["vip"]["over_msi_training"]
    assert report["threads"]["cpu_count"] >= 1 and report["threads"]["numba_threads"] >= 1


@pytest.mark.slow
def test_full_suite_reports_every_ratio(tmp_path):
    """The real suite at the paper's sizes (several minutes: it trains a multisensory run)."""
    assert main(["bench", "--suite", "--out", str(tmp_path / "suite.json")]) == 0
    report = read_json(tmp_path / "suite.json", "benchmark-suite")
    assert report["reductions"] == {}
    assert report["step"]["config"] == bench.PIXEL_SHAPE
    assert report["epoch_evaluation"]["test_images"] == 1000
    assert report["final_evaluation"]["n_samples"] == 10
    assert all(value > 0 for value in report["ratios"].values())
