"""The trainability verdict (sims/trainability.py): the rule can give each of its answers, and a
tiny map scan is refined, compared with the preset's initialisation and drawn."""

import math

import numpy as np
import pytest
from test_train_probe import TINY

from sims.scan import parse_axis, run_scan
from sims.trainability import edge_verdict, read_trainability, refined_indices, run_trainability

PIS = [0.0, 0.25, 0.5, 0.75]
#: The ReLU boundary of sampled networks at J0 = ξ₀ = 0: g_eff,c = √2 on every row.
G_EFF_C = [math.sqrt(2.0)] * len(PIS)


def synthetic_rows(best_g_of_row, *, spread=0.002, seeds=5):
    """Rows of five cells around each row's best g; accuracy falls by 0.05 per cell away from
    it, plus seed noise of std ``spread``."""
    rng = np.random.default_rng(3)
    rows = []
    for best in best_g_of_row:
        offsets = np.arange(-2, 3)
        height = 0.9 - 0.05 * np.abs(offsets)
        values = height[:, None] + spread * rng.standard_normal((offsets.size, seeds))
        rows.append((best + 0.25 * offsets, list(values)))
    return rows


def test_best_cells_that_keep_g_eff_at_the_edge_give_closer_in_g_eff_and_slope_minus_half():
    at_edge = [math.sqrt(2.0 / (1.0 - pi)) for pi in PIS]  # g* with g*_eff = √2
    verdict = edge_verdict(synthetic_rows(at_edge), PIS, 0.0, G_EFF_C, n_boot=500)
    assert verdict["verdict"] == "closer in g_eff"
    assert verdict["distance_difference"]["ci"][0] > 0
    assert verdict["slope"]["value"] == pytest.approx(-0.5, abs=1e-9)


def test_best_cells_at_one_g_on_every_row_give_closer_in_g_and_slope_zero():
    verdict = edge_verdict(synthetic_rows([math.sqrt(2.0)] * 4), PIS, 0.0, G_EFF_C, n_boot=500)
    assert verdict["verdict"] == "closer in g"
    assert verdict["distance_difference"]["ci"][1] < 0
    assert verdict["slope"]["value"] == pytest.approx(0.0, abs=1e-12)


def test_two_equally_good_cells_one_at_each_reading_of_the_edge_are_not_resolvable():
    rng = np.random.default_rng(5)
    rows = []
    for pi in PIS:  # the same seed values at g = √2 (edge in g) and at √(2/(1 − π)) (in g_eff)
        edge_in_g, edge_in_g_eff = math.sqrt(2.0), math.sqrt(2.0 / (1.0 - pi)) + 0.1 * (pi == 0)
        good = 0.9 + 0.01 * rng.standard_normal(5)
        values = [good - 0.2, good, rng.permutation(good), good - 0.2]
        rows.append(([0.5, edge_in_g, edge_in_g_eff, 3.0], values))
    verdict = edge_verdict(rows, PIS, 0.0, G_EFF_C, n_boot=500)
    low, high = verdict["slope"]["ci"]
    assert low < -0.4 and high > -0.1 and verdict["verdict"] == "not resolvable"


def test_the_null_of_a_row_without_g_dependence_spans_both_answers():
    grid, rng = np.linspace(0.25, 2.5, 10), np.random.default_rng(11)
    rows = [(grid, list(0.9 + 0.01 * rng.standard_normal((grid.size, 5)))) for _ in PIS]
    low, high = edge_verdict(rows, PIS, 0.0, G_EFF_C, n_boot=500)["slope"]["null_range"]
    assert low < -0.5 and high > 0


def test_losses_rank_the_other_way_and_one_row_is_too_few():
    values = [np.array([3.0, 3.0]), np.array([1.0, 1.2, 1.1]), np.array([2.0, 2.0])]
    rows = [(np.array([0.5, 1.0, 1.5]), values)] * 2
    smaller = edge_verdict(rows, [0.0, 0.5], 0.0, G_EFF_C[:2], sense=-1, n_boot=200)
    assert smaller["slope"]["value"] == pytest.approx(0.0)  # g* = 1.0 on both rows
    with pytest.raises(ValueError, match="two π₀ rows"):
        edge_verdict(rows[:1], [0.5], 0.0, G_EFF_C[:1], n_boot=200)


def test_refined_cells_are_the_best_and_its_neighbours_shifted_inwards_at_the_ends():
    assert refined_indices([0.1, 0.5, 0.3, 0.2], 1) == [0, 1, 2]
    assert refined_indices([0.1, 0.2, 0.3, 0.9], 1) == [1, 2, 3]
    assert refined_indices([0.1, 0.2, 0.3, 0.9], -1) == [0, 1, 2]
    assert refined_indices([np.nan, 0.2, 0.3, 0.1], 1) == [1, 2, 3]
    with pytest.raises(ValueError, match="NaN"):
        refined_indices([np.nan, np.nan], 1)


@pytest.mark.slow
def test_a_tiny_map_is_refined_compared_with_the_preset_init_and_drawn(tmp_path):
    from figures.fig_trainability import draw

    fixed = {key: str(value) for key, value in TINY.items()}
    run_scan(
        "train",
        parse_axis("g=0.5,1.0,2.0"),
        parse_axis("pi=0,0.5"),
        "test_accuracy_meanfield",
        out=tmp_path / "map",
        fixed=fixed,
        seeds=2,
        progress=False,
    )
    result = run_trainability(tmp_path / "map", seeds=2, n_boot=200, progress=False)
    assert result == read_trainability(tmp_path / "map" / "trainability")
    assert result["verdict"] in ("closer in g_eff", "closer in g", "not resolvable")
    for row, pi in zip(result["rows"], [0.0, 0.5], strict=True):
        assert row["g"] == [0.5, 1.0, 2.0] and np.shape(row["per_seed"]) == (3, 2)
        assert row["g_c"] == pytest.approx(math.sqrt(2.0 / (1.0 - pi)))
        assert row["g_eff_c"] == pytest.approx(math.sqrt(2.0))
        assert row["best_g_ci"][0] <= row["best_g"] <= row["best_g_ci"][1]
        assert np.shape(row["preset_init"]["per_seed"]) == (2,)
    paths = draw(tmp_path / "map" / "trainability", tmp_path / "figure")
    assert all(path.stat().st_size > 0 for path in paths)
