"""The core benchmark reports consistent timings and the settings they ran under (no timing
thresholds here: speed is judged from ``sasrnn bench`` runs, not in tests)."""

import pytest

from sims import bench
from sims.cli import main
from sims.store import read_json


def test_benchmark_reports_ratios_to_the_floor_and_the_blas_kernels(tmp_path):
    main(["bench", "--repeats", "1", "--out", str(tmp_path / "bench.json")])
    report = read_json(tmp_path / "bench.json", "benchmark")
    assert report["config"] == bench.PIXEL_SHAPE
    floor = report["gemm_floor_seconds"]
    assert floor > 0
    assert report["float64_step_over_floor"] == pytest.approx(
        report["float64_step_seconds"] / floor
    )
    assert report["float32_step_over_float64_floor"] == pytest.approx(
        report["float32_step_seconds"] / floor
    )
    assert report["threads"]["cpu_count"] >= 1
    libraries = report["threads"]["blas_default"]
    assert libraries and all(set(bench.BLAS_FIELDS) <= set(lib) for lib in libraries)
    assert report["cpu_has_avx512"] in (True, False, None)
    assert "openblas_coretype" in report  # the environment's kernel choice, or None
