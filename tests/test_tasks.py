"""Every task obeys one batch contract; then each task's own trial structure (docs/model.md §3)."""

import functools

import numpy as np
import pytest

from sims.reproduce.settings import reductions, run_config, settings_for
from sims.tasks import (
    PAPER_LINK,
    TASKS,
    Batch,
    MultisensoryTask,
    choose_high,
    make_task,
    task_from_config,
    task_options,
)
from sims.tasks.multisensory import MODALITIES, START

#: float32 batches are float64 batches rounded once: relative error at most 2^-24 ≈ 6e-8.
FLOAT32_RTOL = 1e-7
#: Sample std of N ≥ 18,750 Gaussian draws has relative error ≈ 1/√(2N) ≤ 0.6 %; 5 % is > 8σ.
NOISE_STD_RTOL = 0.05
METADATA_KEYS = {"paper_name", "paper_link", "section", "source", "tags", "defaults"}


@functools.cache
def cached_task(name: str, dtype: str = "float64"):
    """Tasks are immutable after construction; build each (and load MNIST) once per session."""
    return make_task(name, dtype=dtype)


def first_test_batch(task, seed=1) -> Batch:
    return next(iter(task.test_batches(np.random.default_rng(seed))))


def assert_batch_contract(task, batch: Batch, n_steps: int | None = None):
    n_steps = batch.n_steps if n_steps is None else n_steps
    size = batch.batch_size
    assert batch.x.shape == (n_steps, size, task.n_in)
    expected_target = (size, task.n_out) if task.readout == "last" else (n_steps, size, task.n_out)
    assert batch.target.shape == expected_target
    assert batch.x.dtype == task.dtype and batch.target.dtype == task.dtype
    assert np.all(np.isfinite(batch.x)) and np.all(np.isfinite(batch.target))
    if batch.mask is not None:
        assert batch.mask.shape == batch.target.shape and batch.mask.dtype == task.dtype
        assert set(np.unique(batch.mask)) <= {0.0, 1.0}
    if batch.labels is not None:
        assert batch.labels.shape == (size,) and batch.labels.dtype == np.int64
    for value in batch.info.values():
        assert len(value) == size


def assert_batches_equal(first: Batch, second: Batch):
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.target, second.target)
    if first.mask is None:
        assert second.mask is None
    else:
        np.testing.assert_array_equal(first.mask, second.mask)
    if first.labels is None:
        assert second.labels is None
    else:
        np.testing.assert_array_equal(first.labels, second.labels)


# ------------------------------------------------------------------------------ generic contract


@pytest.mark.parametrize("name", list(TASKS))
def test_task_metadata_names_paper_section_source_and_defaults(name):
    metadata = TASKS[name].metadata
    assert set(metadata) >= METADATA_KEYS
    assert metadata["paper_link"] == PAPER_LINK == "https://doi.org/10.1103/PhysRevE.107.024307"
    assert metadata["section"].startswith("3.")
    assert metadata["tags"] and metadata["defaults"] and metadata["source"]
    assert TASKS[name].__doc__ and "Trial structure" in TASKS[name].__doc__
    assert TASKS[name].readout in ("last", "all")
    assert TASKS[name].loss in ("cross_entropy", "mse")


@pytest.mark.parametrize("name", list(TASKS))
def test_training_batch_has_the_declared_shapes_dtype_and_finite_values(name):
    task = cached_task(name)
    batch = task.train_batch(np.random.default_rng(0))
    assert_batch_contract(task, batch, n_steps=task.n_steps)


@pytest.mark.parametrize("name", list(TASKS))
def test_test_batches_have_the_declared_shapes_dtype_and_finite_values(name):
    task = cached_task(name)
    assert_batch_contract(task, first_test_batch(task))


@pytest.mark.parametrize("name", list(TASKS))
def test_batches_are_replayed_exactly_from_the_same_seed(name):
    task = cached_task(name)
    assert_batches_equal(
        task.train_batch(np.random.default_rng(7)), task.train_batch(np.random.default_rng(7))
    )
    assert_batches_equal(first_test_batch(task, seed=3), first_test_batch(task, seed=3))


@pytest.mark.parametrize("name", list(TASKS))
def test_float32_option_gives_the_float64_batch_rounded_once(name):
    task64, task32 = cached_task(name), cached_task(name, "float32")
    batch64 = task64.train_batch(np.random.default_rng(5))
    batch32 = task32.train_batch(np.random.default_rng(5))
    assert_batch_contract(task32, batch32, n_steps=task32.n_steps)
    assert batch32.x.dtype == np.float32
    np.testing.assert_allclose(batch32.x, batch64.x, rtol=FLOAT32_RTOL, atol=0)
    np.testing.assert_allclose(batch32.target, batch64.target, rtol=FLOAT32_RTOL, atol=0)


@pytest.mark.parametrize("name", list(TASKS))
def test_unknown_option_is_rejected_with_the_list_of_valid_ones(name):
    with pytest.raises(ValueError) as error:
        make_task(name, no_such_option=1)
    message = str(error.value)
    assert "no_such_option" in message
    for option in task_options(name):
        assert option in message


def test_unknown_task_name_lists_the_registered_ones():
    registered = "pixel-mnist, row-mnist, multisensory, binary-mnist, sine"
    with pytest.raises(ValueError, match=registered):
        make_task("xor")


def test_bad_dtype_is_rejected():
    with pytest.raises(ValueError, match="float32"):
        make_task("sine", dtype="int8")


def test_a_non_generator_rng_is_rejected_with_the_fix():
    with pytest.raises(ValueError, match="default_rng"):
        cached_task("multisensory").train_batch(np.random.RandomState(0))


# ------------------------------------------------------------------------------ MNIST tasks


def test_pixel_and_row_tasks_read_the_same_image_in_row_major_order():
    pixel, row = cached_task("pixel-mnist"), cached_task("row-mnist")
    image = pixel.data.test_images[:1]
    x_pixel = pixel.batch_from_images(image, [7]).x
    x_row = row.batch_from_images(image, [7]).x
    assert x_pixel.shape == (784, 1, 1) and x_row.shape == (28, 1, 28)
    np.testing.assert_array_equal(x_pixel[:, 0, 0], image[0])  # x[t] = pixel t
    for t, k in [(0, 0), (3, 5), (27, 27), (14, 9)]:
        assert x_row[t, 0, k] == image[0, 28 * t + k]  # x[t, k] = pixel 28t + k
    np.testing.assert_array_equal(x_pixel.reshape(28, 28), x_row.reshape(28, 28))


def test_mnist_targets_are_one_hot_labels():
    batch = cached_task("row-mnist").train_batch(np.random.default_rng(0), batch_size=64)
    np.testing.assert_array_equal(batch.target.argmax(axis=1), batch.labels)
    np.testing.assert_array_equal(batch.target.sum(axis=1), 1.0)
    task = cached_task("row-mnist")
    np.testing.assert_array_equal(batch.labels, task.data.train_labels[batch.info["index"]])


def test_mnist_training_minibatch_has_no_repeated_image():
    batch = cached_task("pixel-mnist").train_batch(np.random.default_rng(0))
    assert batch.batch_size == 128
    assert np.unique(batch.info["index"]).size == 128


def test_official_epoch_is_consecutive_minibatches_of_fresh_shuffles():
    task = cached_task("row-mnist")
    n_train = task.data.n_train  # 4,000 embedded images: 40 × 128 = 5,120 spans two shuffles
    batches = list(task.shuffled_batches(np.random.default_rng(0), n_minibatches=40))
    assert len(batches) == 40 and all(b.batch_size == 128 for b in batches)
    order = np.concatenate([b.info["index"] for b in batches])
    np.testing.assert_array_equal(np.sort(order[:n_train]), np.arange(n_train))
    assert np.unique(order[n_train:]).size == order.size - n_train
    assert task.minibatches_per_epoch == 200 and task.batch_size == 128


def test_mnist_test_set_is_read_once_in_order_in_batches_of_1000():
    task = cached_task("row-mnist")
    batches = list(task.test_batches())
    assert [b.batch_size for b in batches] == [1000]  # embedded test split
    smaller = list(task.test_batches(batch_size=300))
    assert [b.batch_size for b in smaller] == [300, 300, 300, 100]
    np.testing.assert_array_equal(
        np.concatenate([b.info["index"] for b in smaller]), np.arange(1000)
    )


# ------------------------------------------------------------------------------ multisensory


@functools.cache
def noiseless(variant: str = "official") -> MultisensoryTask:
    return MultisensoryTask(variant=variant, sigma_in=0.0)


def test_official_training_trial_epochs_at_dt_20ms():
    task = cached_task("multisensory")
    assert task.n_steps == 125 and task.alpha == pytest.approx(0.2)
    assert task.epoch_steps() == {
        "fixation": (0, 5),
        "stimulus": (5, 55),
        "decision": (55, 70),
        "padding": (70, 125),
    }


def test_official_minibatch_is_24_conditions_then_6_catch_trials():
    batch = noiseless().train_batch(np.random.default_rng(0))
    assert batch.batch_size == 30
    np.testing.assert_array_equal(batch.info["modality"][:24], np.repeat([0, 1, 2], 8))
    np.testing.assert_array_equal(batch.info["frequency"][:24], np.tile(np.arange(9, 17), 3))
    np.testing.assert_array_equal(batch.info["catch"], np.arange(30) >= 24)
    # correct choice: output 0 ("high") above 12.5 Hz, -1 for catch
    np.testing.assert_array_equal(batch.labels[:8], [1, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(batch.labels[24:], -1)


def test_stimulus_channels_carry_the_official_levels_on_top_of_the_baseline():
    task = noiseless()
    batch = task.train_batch(np.random.default_rng(0))
    stimulus = slice(5, 55)
    for b in range(24):
        f = batch.info["frequency"][b]
        name = MODALITIES[batch.info["modality"][b]]
        positive = 0.4 + 0.8 * (f - 9) / 7
        negative = 0.4 + 0.8 * (16 - f) / 7
        expected = {0: 0.2, 1: 0.2, 2: 0.2, 3: 0.2}
        if "v" in name:
            expected[0], expected[2] = 0.2 + positive, 0.2 + negative
        if "a" in name:
            expected[1], expected[3] = 0.2 + positive, 0.2 + negative
        for channel, level in expected.items():
            np.testing.assert_allclose(batch.x[stimulus, b, channel], level, rtol=1e-15)
            np.testing.assert_allclose(batch.x[:5, b, channel], 0.2, rtol=1e-15)
            np.testing.assert_allclose(batch.x[55:, b, channel], 0.2, rtol=1e-15)
    levels = batch.x[stimulus, :24, :4]
    on = levels[levels > 0.2 + 1e-12]
    assert on.min() == pytest.approx(0.6) and on.max() == pytest.approx(1.4)  # [0.4, 1.2] + 0.2


def test_start_cue_is_on_through_stimulus_and_decision_only():
    batch = noiseless().train_batch(np.random.default_rng(0))
    start = batch.x[:, :, START]
    np.testing.assert_allclose(start[5:70, :24], 1.2, rtol=1e-15)
    np.testing.assert_allclose(start[:5, :24], 0.2, rtol=1e-15)
    np.testing.assert_allclose(start[70:, :24], 0.2, rtol=1e-15)
    np.testing.assert_allclose(start[:, 24:], 0.2, rtol=1e-15)  # catch trials: no START


def test_targets_and_mask_cover_fixation_and_decision_only():
    batch = noiseless().train_batch(np.random.default_rng(0))
    high_trial, low_trial = 7, 0  # 16 Hz and 9 Hz, visual
    np.testing.assert_array_equal(batch.mask[:5, :24], 1.0)
    np.testing.assert_array_equal(batch.mask[5:55, :24], 0.0)
    np.testing.assert_array_equal(batch.mask[55:70, :24], 1.0)
    np.testing.assert_array_equal(batch.mask[70:, :24], 0.0)
    np.testing.assert_allclose(batch.target[:5, :24], 0.2)
    np.testing.assert_allclose(batch.target[55:70, high_trial], [[1.0, 0.2]] * 15)
    np.testing.assert_allclose(batch.target[55:70, low_trial], [[0.2, 1.0]] * 15)


def test_catch_trials_hold_both_outputs_at_0_2_for_all_125_steps():
    batch = noiseless().train_batch(np.random.default_rng(0))
    np.testing.assert_allclose(batch.target[:, 24:], 0.2)
    np.testing.assert_array_equal(batch.mask[:, 24:], 1.0)
    np.testing.assert_allclose(batch.x[:, 24:], 0.2, rtol=1e-15)  # baseline only


@pytest.mark.parametrize(("dt", "expected_std"), [(20.0, 0.0316), (0.5, 0.2)])
def test_input_noise_has_std_sigma_in_times_sqrt_two_over_alpha(dt, expected_std):
    task = cached_task("multisensory")
    assert task.input_noise_std(dt) == pytest.approx(expected_std, rel=1e-3)
    rng = np.random.default_rng(11)
    noisy = next(task.test_batches(rng, n_batches=1, dt=dt))
    clean = next(noiseless().test_batches(rng, n_batches=1, dt=dt))
    noise = noisy.x - clean.x
    assert noise.std() == pytest.approx(task.input_noise_std(dt), rel=NOISE_STD_RTOL)
    assert abs(noise.mean()) < 5 * task.input_noise_std(dt) / np.sqrt(noise.size)


def test_test_trials_last_1800ms_without_padding_or_catch():
    task = cached_task("multisensory")
    assert task.epoch_steps("test", dt=20.0) == {
        "fixation": (0, 25),
        "stimulus": (25, 75),
        "decision": (75, 90),
    }
    batches = list(task.test_batches(np.random.default_rng(0), n_batches=2))
    assert len(batches) == 2
    for batch in batches:
        assert batch.x.shape == (3600, 24, 5)  # 1,800 ms at dt = 0.5 ms
        assert not batch.info["catch"].any()
        np.testing.assert_array_equal(batch.mask[3000:3600], 1.0)  # decision, to the end


def test_input_mask_gives_the_three_official_groups():
    absent = cached_task("multisensory").input_mask(150)
    assert absent.shape == (150, 5) and absent.dtype == bool
    np.testing.assert_array_equal(absent[:50], [[True, False, True, False, False]] * 50)
    np.testing.assert_array_equal(absent[50:100], [[False, True, False, True, False]] * 50)
    np.testing.assert_array_equal(absent[100:], [[True, True, True, True, False]] * 50)


def test_choose_high_reads_the_winner_at_the_final_step():
    z_last = np.array([[1.0, 0.2], [0.2, 1.0], [0.5, 0.4]])
    np.testing.assert_array_equal(choose_high(z_last), [1, 0, 1])
    z_all = np.stack([z_last[:, ::-1], z_last])  # (T=2, B=3, 2): only the last step counts
    np.testing.assert_array_equal(choose_high(z_all), [1, 0, 1])
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        choose_high(np.zeros((3, 3)))


def test_grid_sampling_refuses_a_batch_that_is_not_whole_grids():
    with pytest.raises(ValueError, match="multiple of the 30-trial"):
        cached_task("multisensory").train_batch(np.random.default_rng(0), batch_size=32)
    batch = cached_task("multisensory").train_batch(np.random.default_rng(0), batch_size=60)
    np.testing.assert_array_equal(batch.info["modality"][:30], batch.info["modality"][30:])


def test_pycog_variant_restores_each_listed_difference():
    task = MultisensoryTask(variant="pycog")
    assert task.n_in == 4 and not task.start_cue  # no START
    assert (task.f_min, task.f_max) == (6.0, 19.0)  # trained on 6–19 Hz
    assert task.positive_level(6) == pytest.approx(0.5)  # 0.5 + 0.6·(f − 6)/13
    assert task.positive_level(19) == pytest.approx(1.1)
    assert task.catch_probability == pytest.approx(1 / 25)
    assert task.n_steps == 70  # no padding: 1,400 ms training trials
    assert task.epoch_steps() == {"fixation": (0, 5), "stimulus": (5, 55), "decision": (55, 70)}


def test_pycog_variant_samples_conditions_at_random_with_catch_fraction_one_in_25():
    task = MultisensoryTask(variant="pycog")
    rng = np.random.default_rng(3)
    batches = [task.train_batch(rng) for _ in range(100)]
    catch = np.concatenate([b.info["catch"] for b in batches])
    frequencies = np.concatenate([b.info["frequency"] for b in batches])[~catch]
    expected = catch.size / 25
    assert abs(catch.sum() - expected) < 4 * np.sqrt(expected)  # binomial, 4σ
    assert set(frequencies) == set(range(6, 20))
    assert all(b.x.min() >= 0.0 for b in batches)  # pycog rectifies its inputs


def test_pycog_catch_trials_last_one_second_inside_the_longer_batch():
    task = MultisensoryTask(variant="pycog", sigma_in=0.0)
    batch = task.condition_batch(np.random.default_rng(0), [-1, 2], [0, 13], phase="train")
    np.testing.assert_array_equal(batch.mask[:50, 0], 1.0)  # 1,000 ms at 20 ms
    np.testing.assert_array_equal(batch.mask[50:, 0], 0.0)
    np.testing.assert_allclose(batch.target[55:70, 1], [[1.0, 0.2]] * 15)


def test_pycog_input_groups_are_thirds_of_excitatory_and_inhibitory_units():
    absent = MultisensoryTask(variant="pycog").input_mask(150)
    visual = np.r_[0:40, 120:130]
    auditory = np.r_[40:80, 130:140]
    receives = ~absent
    np.testing.assert_array_equal(np.flatnonzero(receives[:, 0]), visual)
    np.testing.assert_array_equal(np.flatnonzero(receives[:, 2]), visual)
    np.testing.assert_array_equal(np.flatnonzero(receives[:, 1]), auditory)
    np.testing.assert_array_equal(np.flatnonzero(receives[:, 3]), auditory)


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="official"):
        make_task("multisensory", variant="neurogym")


#: The fine grid's step near the boundary, Hz (exact in binary: the comparisons are exact).
FINE_STEP_HZ = 0.25


def test_fine_grid_steps_by_a_quarter_hertz_up_to_the_boundary_and_keeps_the_paper_rates():
    task = make_task("multisensory", frequency_grid="fine")
    assert cached_task("multisensory").frequencies == tuple(float(f) for f in range(9, 17))
    fine = np.asarray(task.frequencies)
    assert set(range(9, 17)) <= set(fine)  # the paper's rates stay on the grid
    below, above = fine[fine < task.boundary], fine[fine > task.boundary]
    assert below.size + above.size == fine.size  # no trial on the boundary
    assert task.boundary - below[-1] == above[0] - task.boundary == FINE_STEP_HZ
    near = (fine >= 11.0) & (fine <= 14.0)
    steps = np.diff(fine[near])
    np.testing.assert_array_equal(steps[steps != 2 * FINE_STEP_HZ], FINE_STEP_HZ)
    assert np.sum(steps == 2 * FINE_STEP_HZ) == 1  # only across the boundary


def test_fine_grid_test_batches_hold_every_condition_once_and_label_it_by_the_boundary():
    task = make_task("multisensory", frequency_grid="fine", sigma_in=0.0)
    batch = next(task.test_batches(np.random.default_rng(0), n_batches=1, dt=20.0))
    assert batch.batch_size == len(MODALITIES) * len(task.frequencies) == 48
    pairs = set(zip(batch.info["modality"], batch.info["frequency"], strict=True))
    assert len(pairs) == 48
    np.testing.assert_array_equal(batch.labels == 0, batch.info["frequency"] > 12.5)
    # The removal accuracy and the projection trials keep the paper's 24 conditions.
    accuracy = next(task.accuracy_batches(np.random.default_rng(0), 1, dt=20.0))
    assert accuracy.batch_size == 24
    _, frequencies, _ = task.projection_trials(np.random.default_rng(0), 1, None, dt=20.0)
    np.testing.assert_array_equal(frequencies, np.arange(9, 17))


#: Trials per condition the standard tier's psychometric test must reach.
STANDARD_TRIALS_PER_CONDITION = 100


def _trials_per_condition(mode: str) -> tuple[MultisensoryTask, np.ndarray]:
    """The MSI task of a reproduction tier's runs, and its psychometric test's trial count of
    every condition (counted at dt = 20 ms: the conditions do not depend on the step)."""
    config = run_config("multisensory", 0, settings_for(mode))
    task = task_from_config(config)
    n_batches = config["evaluation"]["n_test_batches"]
    counts = np.zeros((len(MODALITIES), len(task.frequencies)), dtype=int)
    for batch in task.test_batches(np.random.default_rng(0), n_batches=n_batches, dt=20.0):
        frequency = np.searchsorted(task.frequencies, batch.info["frequency"])
        np.add.at(counts, (batch.info["modality"], frequency), 1)
    return task, counts


def test_standard_tier_tests_every_fine_grid_condition_at_least_100_times():
    task, counts = _trials_per_condition("standard")
    assert task.frequency_grid == "fine"
    assert counts.min() >= STANDARD_TRIALS_PER_CONDITION
    quick, quick_counts = _trials_per_condition("quick")  # fewer, and listed as a change
    changed = {item["setting"] for item in reductions(settings_for("quick"))}
    assert quick_counts.max() < STANDARD_TRIALS_PER_CONDITION and "msi_test_batches" in changed


def test_unknown_frequency_grid_is_one_clear_error_naming_the_choices():
    with pytest.raises(ValueError, match="frequency_grid='quarter' is unknown; use 'paper'"):
        make_task("multisensory", frequency_grid="quarter")


# ------------------------------------------------------------------------------ binary MNIST, sine


def test_binary_split_is_512_train_128_test_disjoint_digits_0_and_1():
    task = cached_task("binary-mnist")
    train, test = task.train_set, task.test_set
    assert train.batch_size == 512 and test.batch_size == 128
    assert not set(train.info["index"]) & set(test.info["index"])
    data_labels = cached_task("row-mnist").data.train_labels
    np.testing.assert_array_equal(data_labels[train.info["index"]], train.labels)
    np.testing.assert_array_equal(train.target[:, 0], train.labels)
    assert train.target.shape == (512, 1) and set(np.unique(train.labels)) == {0, 1}


def test_binary_split_depends_only_on_its_seed():
    same = make_task("binary-mnist", split_seed=0)
    other = make_task("binary-mnist", split_seed=1)
    reference = cached_task("binary-mnist")
    np.testing.assert_array_equal(same.train_index, reference.train_index)
    assert not np.array_equal(other.train_index, reference.train_index)


def test_binary_task_reads_images_row_by_row_like_row_mnist():
    binary, row = cached_task("binary-mnist"), cached_task("row-mnist")
    index = binary.train_set.info["index"][:3]
    expected = row.batch_from_images(row.data.train_images[index], row.data.train_labels[index])
    np.testing.assert_array_equal(binary.train_set.x[:, :3], expected.x)


def test_sine_input_and_target_are_sin_of_21_points_from_2_to_10():
    batch = cached_task("sine").train_batch(None, batch_size=2)
    expected = np.sin(np.linspace(2.0, 10.0, 21))
    assert batch.x.shape == (21, 2, 1)
    np.testing.assert_array_equal(batch.x[:, 1, 0], expected)
    np.testing.assert_array_equal(batch.target, batch.x)
    assert batch.mask is None and batch.labels is None
