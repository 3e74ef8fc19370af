"""The headline claims of the paper as data (docs/model.md §6): what each says, where our number
is, and the rule of the verdict.

Each :class:`Claim` names the quantity and the figure, the paper's statement, our number as
paths into the stored results (:class:`At`: a result stem and a key path inside its summary),
the conditions it was measured under (from the settings) and the criterion: a sentence and the
rule that turns our number into a verdict ("holds" / "does not hold"; "not resolvable" where
the data or the statistics cannot decide the claim, the criterion saying why; "not tested"
where the result is missing). Criteria stated before the runs are data (:class:`Comparable`,
:class:`LearnsBy`, :class:`WithinBand`, the majority rules of Figs. 5, 8 and 9): their thresholds
are stored beside each verdict, and the verdict says why when the seeds cannot decide it. The
claims on analyses of trained runs (Figs. 4, 5, 7–9) read every analysed seed
(``<analysis>_seeds`` results, :mod:`sims.analyses.over_seeds`): a seed mean with its 95%
t-interval beside its null or control, judged by a rule that can go either way.
:func:`headline` builds summary.json's "headline" rows from :data:`CLAIMS`, and
:func:`markdown_table` the report's table from them.

Example:
    >>> results = Path("results/reproduce-quick/results")         # doctest: +SKIP
    >>> print(markdown_table(headline(results, settings_for("quick"))))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sims import store
from sims.analyses.over_seeds import SYNAPTIC_STATISTICS
from sims.reproduce.settings import Settings, analysed_seeds, trained_seeds

__all__ = [
    "CLAIMS",
    "At",
    "BeyondNulls",
    "BeyondNullsInMostSeeds",
    "Claim",
    "Comparable",
    "ContinuousFirst",
    "DriftBeyondNull",
    "FallsWithWidth",
    "LearnsBy",
    "SteeperWithIntervals",
    "WithinBand",
    "format_value",
    "headline",
    "markdown_table",
]


#: The numbers of a psychometric fit the report shows (sims.psychometric.fit_psychometric).
_FIT_KEYS = ("mu", "mu_ci", "sigma", "sigma_ci", "sigma_upper", "step_like")


@dataclass(frozen=True)
class At:
    """A value in the stored results: ``OUT/results/<stem>.json`` at ``keys``.

    Attributes:
        stem: a result stem (:data:`figures.resultfiles.RESULT_STEMS`).
        keys: the key path inside the summary (strings, or integers for list positions).
        view: a named function applied to the value read (a selection, not an analysis).
    """

    stem: str
    keys: tuple = ()
    view: Callable | None = None

    def read(self, summaries: Mapping[str, dict]) -> Any:
        value = summaries[self.stem]
        for key in self.keys:
            value = value[key]
        return self.view(value) if self.view else value

    def __str__(self) -> str:
        path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in self.keys)
        view = f" → {self.view.__name__}" if self.view else ""
        return f"{self.stem}{path}{view}"


@dataclass(frozen=True)
class Comparable:
    """The ensemble is comparable to ordinary BPTT (the paper's central claim, Fig. 2).

    Judged on the final test accuracy of the ensemble minus that of the bptt baseline, paired by
    seed (:func:`sims.analyses.training.preset_comparison`): "holds" when the 95% t-interval of
    the mean difference lies within ±``margin``; "does not hold" when it lies wholly outside
    (the detail says which preset is better); "not resolvable" when it straddles a bound or
    fewer than ``min_pairs`` seed pairs exist.
    """

    margin: float = 0.03
    min_pairs: int = 2

    @property
    def text(self) -> str:
        return (
            f"comparable: the 95% t-interval over seeds of the paired difference (ensemble − "
            f"BPTT) lies within ±{self.margin:g} (stated before the runs; ≥ {self.min_pairs} "
            "seed pairs)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        n, low, high = ours["n_pairs"], ours["ci_low"], ours["ci_high"]
        if n < self.min_pairs or low is None:
            return "not resolvable", f"{n} seed pair(s); the interval needs ≥ {self.min_pairs}"
        shown = f"[{low:+.3f}, {high:+.3f}]"
        if -self.margin <= low and high <= self.margin:
            return "holds", f"interval {shown} within ±{self.margin:g}"
        if low > self.margin:
            return "does not hold", f"ensemble better: interval {shown} above +{self.margin:g}"
        if high < -self.margin:
            return "does not hold", f"ensemble worse: interval {shown} below −{self.margin:g}"
        return "not resolvable", f"interval {shown} crosses the ±{self.margin:g} margin"


@dataclass(frozen=True)
class FallsWithWidth:
    """A quantity falls with the width N, judged on the 95% bootstrap interval of its log-log
    slope against N (networks resampled within each width, :func:`sims.kernels.slope_interval`):
    "holds" when the interval lies below 0, "does not hold" when it lies above 0, "not
    resolvable" when it contains 0 or a width has fewer than ``min_networks`` networks."""

    min_networks: int = 3

    @property
    def text(self) -> str:
        return (
            "the 95% bootstrap interval (networks resampled within each width) of the log-log "
            f"slope against N lies below 0; ≥ {self.min_networks} networks per width; stated "
            "before the runs"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        n, slope, ci = ours["n_networks"], ours["slope"], ours["slope_ci"]
        if n < self.min_networks or ci is None:
            return "not resolvable", f"{n} network(s) a width; the rule needs {self.min_networks}"
        shown = f"slope {slope:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"
        if ci[1] < 0:
            return "holds", f"{shown} below 0"
        if ci[0] > 0:
            return "does not hold", f"{shown} above 0"
        return "not resolvable", f"{shown} contains 0"


@dataclass(frozen=True)
class LearnsBy:
    """The ensemble learns: the seed mean of its per-epoch mean-field test accuracy at
    ``epoch`` (epochs trained) is at least ``threshold``, over at least ``min_seeds`` seeds."""

    epoch: int
    threshold: float
    min_seeds: int

    @property
    def text(self) -> str:
        return (
            f"the ensemble learns: the {self.min_seeds}-seed mean of the mean-field test "
            f"accuracy at epoch {self.epoch} is ≥ {self.threshold:g} (stated before the runs)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        n, mean = ours["n_seeds"], ours["mean"]
        if n < self.min_seeds:
            return "not resolvable", f"{n} seed(s); the criterion needs {self.min_seeds}"
        verdict = "holds" if mean >= self.threshold else "does not hold"
        return (
            verdict,
            f"mean {mean:.3f} {'≥' if mean >= self.threshold else '<'} {self.threshold:g}",
        )


@dataclass(frozen=True)
class AccuracyAtLeast:
    """The final mean-field test accuracy reaches ``threshold``, judged on its 95% t-interval
    over seeds: "holds" when the interval lies at or above it, "does not hold" when it lies
    below, "not resolvable" when it straddles it or fewer than ``min_seeds`` seeds exist."""

    threshold: float
    min_seeds: int = 3
    source: str = ""

    @property
    def text(self) -> str:
        source = f" ({self.source})" if self.source else ""
        return (
            f"the 95% t-interval over seeds of the final mean-field test accuracy lies at or "
            f"above {self.threshold:g}{source}; ≥ {self.min_seeds} seeds; stated before the runs"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        n, ci = ours["n_seeds"], ours["meanfield_95ci"]
        if n < self.min_seeds or ci is None:
            return "not resolvable", f"{n} seed(s); the criterion needs {self.min_seeds}"
        low, high = ci
        shown = f"mean {ours['meanfield']:.3f} [{low:.3f}, {high:.3f}]"
        if low >= self.threshold:
            return "holds", f"{shown} ≥ {self.threshold:g}"
        if high < self.threshold:
            return "does not hold", f"{shown} < {self.threshold:g}"
        return "not resolvable", f"{shown} straddles {self.threshold:g}"


@dataclass(frozen=True)
class Claim:
    """One row of the headline table.

    Attributes:
        quantity: what is measured.
        figure: the paper's figure.
        paper: the paper's claim (or the official code's number).
        ours: an :class:`At`, or a (nested) dict of them: where our number is.
        conditions: the settings it was measured under, as a function of the settings.
        criterion: the rule of the verdict, in words, or a criterion object (:class:`Comparable`,
            :class:`LearnsBy`) whose ``judge`` gives the verdict and its reason.
        verdict: the rule as a function of our number (True: the claim holds), or None when
            these data cannot decide the claim (the criterion then says why) or the criterion
            is an object.
    """

    quantity: str
    figure: str
    paper: str
    ours: At | Mapping
    conditions: Callable[[Settings], str]
    criterion: Any
    verdict: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class SteeperWithIntervals:
    """The multisensory curve is steeper than both single-modality curves, judged on the
    binomial fits of the choice counts pooled over seeds (:mod:`sims.psychometric`): "holds"
    when σ_va's 95% bootstrap interval lies below both σ_v's and σ_a's, "does not hold" when it
    lies above either, "not resolvable" when the intervals overlap or a curve is step-like (its
    σ is only bounded)."""

    @property
    def text(self) -> str:
        return (
            "va steeper: the 95% bootstrap interval of σ_va lies below those of σ_v and σ_a "
            "(binomial fits of the pooled choice counts; stated before the runs)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        fits = ours["fit"]
        step_like = [m for m in ("v", "a", "va") if fits[m]["sigma"] is None]
        if step_like:
            return "not resolvable", f"step-like curve(s) {', '.join(step_like)}: σ only bounded"
        va_low, va_high = fits["va"]["sigma_ci"]
        others = [fits[m]["sigma_ci"] for m in ("v", "a")]
        if va_high < min(low for low, _ in others):
            return "holds", f"σ_va ≤ {va_high:.3f} Hz below both single-modality intervals"
        if any(va_low > high for _, high in others):
            return "does not hold", "σ_va's interval lies above a single-modality interval"
        return "not resolvable", "the σ intervals overlap"


@dataclass(frozen=True)
class BeyondNulls:
    """The selectivity types are present beyond both nulls (Fig. 5): for each class of
    ``classes``, the trained network's fraction of units lies above the condition-shuffled null
    (two-sided permutation p < ``alpha``, trained above the null's mean) and above the untrained
    network's (paired McNemar p < ``alpha``, trained higher); and non-selective units are
    present. "holds" when all of these do, "does not hold" when one fails (the reason names it),
    "not resolvable" when the permutations are too few for p < ``alpha``. Every test must
    reject, so no correction for their number is needed."""

    alpha: float = 0.05
    classes: tuple = ("mixed", "uni-selective")

    @property
    def text(self) -> str:
        return (
            f"{' and '.join(self.classes)} fractions above the condition-shuffled null and above "
            f"the untrained network (each two-sided p < {self.alpha:g}), non-selective units "
            "present (stated before the run)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        null = ours["null"]
        if 2 / (null["n_permutations"] + 1) >= self.alpha:
            return (
                "not resolvable",
                f"{null['n_permutations']} shuffles cannot give p < {self.alpha:g}",
            )
        if not ours["counts"]["non-selective"]:
            return "does not hold", "no non-selective unit"
        for name in self.classes:
            entry = null[name]
            shown = f"{name} {entry['trained']:.3f}"
            if not (entry["p_shuffled"] < self.alpha and entry["trained"] > entry["shuffled_mean"]):
                return "does not hold", (
                    f"{shown} not above the shuffled null (mean {entry['shuffled_mean']:.3f}, "
                    f"p = {entry['p_shuffled']:.2g})"
                )
            if not (entry["p_untrained"] < self.alpha and entry["trained"] > entry["untrained"]):
                return "does not hold", (
                    f"{shown} not above the untrained network's {entry['untrained']:.3f} "
                    f"(p = {entry['p_untrained']:.2g})"
                )
        return "holds", "; ".join(
            f"{name} {null[name]['trained']:.3f} > untrained {null[name]['untrained']:.3f} "
            f"and shuffled {null[name]['shuffled_mean']:.3f}"
            for name in self.classes
        )


def _band(low: float | None, high: float | None) -> str:
    """An interval of the real line in words: "[a, b]", "[a, ∞)" or "(−∞, b]"."""
    return f"{'(−∞' if low is None else f'[{low:g}'}, {'∞)' if high is None else f'{high:g}]'}"


def _shown(statistic: Mapping) -> str:
    """A statistic over seeds as "mean [low, high]" (the mean alone for one seed)."""
    if statistic["low"] is None:
        return f"{statistic['mean']:.3g}"
    return f"{statistic['mean']:.3g} [{statistic['low']:.3g}, {statistic['high']:.3g}]"


def _combine(named: list[tuple[str, tuple[str, str]]]) -> tuple[str, str]:
    """One verdict of several judged parts (name, (verdict, reason)): "does not hold" when one
    part does not hold, "holds" when all hold, else "not resolvable"; the reason names the
    deciding parts."""
    for wanted in ("does not hold", "not resolvable"):
        deciding = [f"{name}: {reason}" for name, (v, reason) in named if v == wanted]
        if deciding:
            return wanted, "; ".join(deciding)
    return "holds", "; ".join(f"{name}: {reason}" for name, (_, reason) in named)


def _path(ours: Mapping, key: str):
    """``ours`` at the dotted key path ``key`` ("" is ``ours`` itself)."""
    for part in key.split(".") if key else ():
        ours = ours[part]
    return ours


@dataclass(frozen=True)
class WithinBand:
    """A seed mean against a band stated before the runs.

    Judged on the 95% t-interval over seeds of the statistic at each of ``keys`` (dotted paths
    into our number, each a :func:`sims.analyses.over_seeds.seed_statistic`): "holds" when it
    lies in [``low``, ``high``] (None: unbounded), "does not hold" when it lies wholly outside,
    "not resolvable" when it crosses a bound or fewer than ``min_seeds`` seeds exist. Several
    keys: "holds" when every one holds, "does not hold" when one does not.
    """

    subject: str
    low: float | None = None
    high: float | None = None
    keys: tuple = ("",)
    min_seeds: int = 2

    @property
    def text(self) -> str:
        return (
            f"{self.subject}: the 95% t-interval over seeds lies in {_band(self.low, self.high)}"
            " (holds), wholly outside it (does not hold) or across its bound (not resolvable); "
            f"≥ {self.min_seeds} seeds; stated before the run"
        )

    def _one(self, statistic: Mapping) -> tuple[str, str]:
        n, low, high = statistic["n"], statistic["low"], statistic["high"]
        if n < self.min_seeds or low is None:
            return "not resolvable", f"{n} seed(s); the interval needs ≥ {self.min_seeds}"
        below = self.low is not None and high < self.low
        above = self.high is not None and low > self.high
        inside = (self.low is None or low >= self.low) and (self.high is None or high <= self.high)
        shown = f"{_shown(statistic)} (n = {n})"
        if inside:
            return "holds", f"{shown} in {_band(self.low, self.high)}"
        if below or above:
            return "does not hold", f"{shown} outside {_band(self.low, self.high)}"
        return "not resolvable", f"{shown} crosses a bound of {_band(self.low, self.high)}"

    def judge(self, ours: Mapping) -> tuple[str, str]:
        named = [(key or "ours", self._one(_path(ours, key))) for key in self.keys]
        return named[0][1] if len(named) == 1 else _combine(named)


def _majority_and_interval(k: int, n: int, difference: Mapping, min_seeds: int) -> tuple[str, str]:
    """The rule shared by the majority criteria: "holds" when more than half of the n seeds
    (k) pass and the paired difference's 95% t-interval lies above 0; "does not hold" when at
    most half pass and the interval does not lie above 0, or when it lies below 0; else (or
    with fewer than ``min_seeds`` seeds) "not resolvable"."""
    shown = f"{k} of {n} seeds; difference {_shown(difference)}"
    if n < min_seeds or difference["low"] is None:
        return "not resolvable", f"{shown}; the rule needs ≥ {min_seeds} seeds"
    majority, above = k > n / 2, difference["low"] > 0
    if majority and above:
        return "holds", shown
    if (not majority and not above) or difference["high"] < 0:
        return "does not hold", shown
    return "not resolvable", shown


def seed_verdicts(rule) -> Callable[[list], list[str]]:
    """A view judging each seed's entry by ``rule`` (an object with ``judge``): per seed
    "holds", or the verdict and its reason."""

    def view(entries: list) -> list[str]:
        verdicts = [rule.judge(entry) for entry in entries]
        return [v if v == "holds" else f"{v}: {reason}" for v, reason in verdicts]

    view.__name__ = f"verdicts_by_{type(rule).__name__}"
    return view


@dataclass(frozen=True)
class BeyondNullsInMostSeeds:
    """Fig. 5 over seeds: each seed judged by :class:`BeyondNulls` (our number holds the
    per-seed verdicts, :func:`seed_verdicts`); for each class of ``per_seed.classes`` and each
    null (untrained network, shuffled-null mean) the majority rule of
    :func:`_majority_and_interval` on the number of passing seeds and the paired difference
    trained − null; "not resolvable" when a seed's tests cannot decide."""

    per_seed: BeyondNulls = BeyondNulls()
    min_seeds: int = 3

    @property
    def text(self) -> str:
        classes = " and ".join(self.per_seed.classes)
        return (
            f"each seed judged by the Fig. 5 rule ({self.per_seed.text}); holds when more than "
            f"half the seeds pass it and, over seeds, the paired differences trained − untrained "
            f"and trained − shuffled-null mean of the {classes} fractions each have a 95% "
            "t-interval above 0; does not hold when at most half pass and an interval does not "
            "lie above 0, or an interval lies below 0; not resolvable otherwise (fewer than "
            f"{self.min_seeds} seeds, a seed's tests unable to decide)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        verdicts = ours["per_seed_verdicts"]
        unresolved = [v for v in verdicts if v.startswith("not resolvable")]
        if unresolved:
            return "not resolvable", unresolved[0]
        k, n = verdicts.count("holds"), len(verdicts)
        return _combine(
            [
                (f"{name} − {null}", _majority_and_interval(k, n, ours[key][name], self.min_seeds))
                for name in self.per_seed.classes
                for null, key in (
                    ("untrained", "trained_minus_untrained"),
                    ("shuffled", "trained_minus_shuffled"),
                )
            ]
        )


@dataclass(frozen=True)
class DriftBeyondNull:
    """Fig. 8 over seeds: for each task of ``tasks`` and statistic of ``statistics`` (block-scaled
    synaptic PCA, :func:`sims.analyses.over_seeds.synaptic_over_seeds`), the majority rule of
    :func:`_majority_and_interval` on the number of seeds whose value lies above the 97.5th
    percentile of their ``null`` replicates and on the paired difference observed − null mean.

    The PC1 drift persistence is shown beside its nulls but not judged: the PC1 of a driftless
    random walk is a slow half-cosine, so its persistence is itself about 0.93–1 (97.5th
    percentile 1.0 for 20–41 snapshots) and a run cannot lie above it. The mean cosine of
    successive updates measures the persistence of the drift instead (about 0 for the random
    walk, 1 for a straight drift).
    """

    null: str = "random_walk"
    statistics: tuple = ("variance_3_pcs", "mean_successive_cosine")
    tasks: tuple = ("row_mnist", "msi")
    min_seeds: int = 3

    @property
    def text(self) -> str:
        null = self.null.replace("_", " ")
        return (
            f"in each task ({', '.join(self.tasks)}) and for each of "
            f"{', '.join(self.statistics)} (block-scaled recurrent snapshots): holds when more "
            f"than half the seeds lie above the 97.5th percentile of their {null} null and the "
            f"paired difference (observed − {null} null mean) has a 95% t-interval over seeds "
            "above 0; does not hold when at most half lie above and the interval does not lie "
            "above 0, or it lies below 0; not resolvable otherwise or with fewer than "
            f"{self.min_seeds} seeds. Shown beside it, not judged: the shuffled-increment null "
            "(a straight drift keeps its values under shuffling) and the PC1 drift persistence "
            "(a driftless random walk's is itself near 1, its 97.5th percentile 1.0 at 20–41 "
            "snapshots, so no run can exceed it) (stated before the run)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        named = []
        for task in self.tasks:
            for key in self.statistics:
                entry = ours[task][key]
                rule = _majority_and_interval(
                    entry[self.null]["n_above_high"],
                    entry["observed"]["n"],
                    entry[self.null]["observed_minus_mean"],
                    self.min_seeds,
                )
                named.append((f"{task} {key}", rule))
        return _combine(named)


@dataclass(frozen=True)
class ContinuousFirst:
    """Fig. 9 over seeds: the majority rule of :func:`_majority_and_interval` on the number of
    seeds whose recurrent layer orders its continuous part (Ξ) first
    (:func:`dynamics.symmetry.first_to_order`) and on the paired difference of ordering epochs,
    discrete − continuous."""

    min_seeds: int = 3

    @property
    def text(self) -> str:
        return (
            "holds when 'continuous' orders first (first_to_order, recurrent layer) in more than "
            "half the seeds and the paired difference of ordering epochs (discrete − continuous; "
            "a part that never ordered censored one epoch past the last snapshot) has a 95% "
            "t-interval over seeds above 0; does not hold when at most half the seeds order "
            "continuous first and the interval does not lie above 0, or the interval lies below "
            f"0; not resolvable otherwise or with fewer than {self.min_seeds} seeds (stated "
            "before the run)"
        )

    def judge(self, ours: Mapping) -> tuple[str, str]:
        verdicts = ours["first_to_order"]
        return _majority_and_interval(
            verdicts.count("continuous"),
            len(verdicts),
            ours["discrete_minus_continuous"],
            self.min_seeds,
        )


def _data(s: Settings) -> str:
    if s.data == "embedded":
        return "embedded 5,000-image MNIST subset (4,000 train / 1,000 test)"
    return f"MNIST IDX files ({s.data})"


def _msi(s: Settings) -> str:
    return f"MSI, {s.msi_seeds} seeds, ≤ {s.msi_iterations} iterations (early stop MSE ≤ 0.002)"


def interval(entry: Mapping) -> list | None:
    """[low, high] of a stored t-interval (None for one seed)."""
    return None if entry["low"] is None else [entry["low"], entry["high"]]


def _accuracies(stem: str) -> dict:
    keys = ("meanfield", "meanfield_eps0", "sampled_quenched", "sampled_per_step")
    return {
        **{key: At(stem, ("final_mean", f"test_accuracy_{key}")) for key in keys},
        "meanfield_95ci": At(stem, ("final_interval", "test_accuracy_meanfield"), interval),
        "meanfield_per_seed": At(stem, ("final_per_seed", "test_accuracy_meanfield")),
        "n_seeds": At(stem, ("n_runs",)),
    }


def paired_difference(comparison: Mapping) -> dict:
    """The ensemble − BPTT difference of a preset-comparison result, as the claim shows it."""
    difference = comparison["difference"]
    return {
        "mean_difference": difference["mean"],
        "ci_low": difference["low"],
        "ci_high": difference["high"],
        "n_pairs": difference["n"],
        "ensemble_per_seed": comparison["ensemble_per_seed"],
        "bptt_per_seed": comparison["bptt_per_seed"],
    }


def at_epoch(epoch: int) -> Callable[[Mapping], dict]:
    """A view of a training-curves "curve" at ``epoch`` (epochs trained): mean, interval, n."""

    def view(curve: Mapping) -> dict:
        if epoch not in curve["epochs"]:
            trained = max(curve["epochs"], default=0)
            raise ValueError(f"epoch {epoch} was not measured (the runs trained {trained})")
        k = curve["epochs"].index(epoch)
        low, high = curve["low"][k], curve["high"][k]
        return {
            "mean": curve["mean"][k],
            "ci": None if low is None else [low, high],
            "n_seeds": curve["n"],
        }

    view.__name__ = f"at_epoch_{epoch}"
    return view


def _comparison_claim(prefix: str, task: str, figure: str, conditions) -> Claim:
    return Claim(
        f"{task}: ensemble − BPTT final test accuracy, paired by seed",
        figure,
        "'comparable to or better than traditional BPTT'",
        At(f"comparison_{prefix}", (), paired_difference),
        conditions,
        Comparable(margin=0.03, min_pairs=2),
    )


def _mnist_protocol(prefix: str) -> Callable[[Settings], str]:
    def conditions(s: Settings) -> str:
        seeds, data = getattr(s, f"{prefix}_seeds"), _data(s)
        if prefix == "fashion":
            data = f"Fashion-MNIST IDX files ({s.fashion_data}), read row by row"
        return (
            f"N = 100, {seeds} seed(s) of each preset (paper, bptt), "
            f"{getattr(s, f'{prefix}_epochs')} epochs × {getattr(s, f'{prefix}_batches')} "
            f"batches × {getattr(s, f'{prefix}_batch_size')}; {data}; mean-field test accuracy"
        )

    return conditions


def convergence(runs: list) -> list[dict]:
    """Per run: iterations trained, last training MSE, whether it stopped early."""
    return [
        {
            "iterations": run["n_epochs"],
            "final_train_mse": run["final_train_loss"],
            "stopped_early": run["final"]["stopped_early"],
        }
        for run in runs
    ]


def entropy_first_last(layers: Mapping) -> dict:
    """Per layer: Entropy I and II at the first and last iteration, and whether I decreased."""
    out = {}
    for layer, entry in layers.items():
        one, two = entry["entropy_one"]["mean"], entry["entropy_two"]["mean"]
        out[layer] = {
            "entropy_one_first_last": [one[0], one[-1]],
            "entropy_two_first_last": [two[0], two[-1]],
            "decreased": bool(one[-1] < one[0]),
        }
    return out


def _analysed(s: Settings, key: str) -> str:
    """How many seeds of task ``key`` the analyses read, in words."""
    n, trained = analysed_seeds(key, s), trained_seeds(key, s)
    return f"{n} seed(s)" if n == trained else f"the first {n} of {trained} seeds"


def _vip(s: Settings) -> str:
    return (
        f"{_msi(s)}; VIP analysis of {_analysed(s, 'multisensory')}: π ≤ 0.1, Ξ < 0.1, "
        f"|m| > 0.08; removal sets π = 1, {s.vip_batches} test batches at dt = 0.5 ms, each "
        "with its own removal draw, mean-field pass, common random numbers"
    )


#: The per-seed rule of the Fig. 5 claim (applied to every seed by :func:`seed_verdicts`).
SELECTIVITY_RULE = BeyondNulls()
#: The removal curves shown beside the VIP removal (:mod:`sims.analyses.vip` controls).
VIP_CONTROLS = ("magnitude", "random", "uniform")

#: The headline claims, in the order of docs/model.md §6.
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "pixel-MNIST test accuracy (mean-field and sampled)",
        "Fig. 2",
        "not recovered; 'comparable to or better than traditional BPTT' (expect about 95–98%)",
        _accuracies("training_pixel"),
        lambda s: (
            f"N = 100, {s.pixel_seeds} seed(s), {s.pixel_epochs} epochs × "
            f"{s.pixel_batches} batches × {s.pixel_batch_size}; {_data(s)}; test on "
            f"{s.mnist_test_samples or 'all'} images"
        ),
        AccuracyAtLeast(0.95, source="the paper's 'comparable to BPTT', about 95–98%"),
    ),
    Claim(
        "28×28 MNIST test accuracy",
        "appendix / Fig. 9",
        "not recovered",
        _accuracies("training_row"),
        lambda s: (
            f"N = 100, {s.row_seeds} seed(s), {s.row_epochs} epochs × "
            f"{s.row_batches} batches × {s.row_batch_size}; {_data(s)}"
        ),
        AccuracyAtLeast(0.83, source="the official code on the same protocol"),
    ),
    Claim(
        "pixel-MNIST: the ensemble learns by epoch 15",
        "Fig. 2",
        "trains to high accuracy (criterion ours, from the 15 × 31 measurements of seeds 0 and "
        "1: 0.58 and 0.71)",
        At("training_pixel", ("curve",), at_epoch(15)),
        lambda s: (
            f"{s.pixel_seeds} seed(s), {s.pixel_epochs} epochs × {s.pixel_batches} batches × "
            f"{s.pixel_batch_size}; {_data(s)}; per-epoch mean-field test accuracy on "
            f"{s.mnist_test_samples or 'all'} test images"
        ),
        LearnsBy(epoch=15, threshold=0.6, min_seeds=3),
    ),
    _comparison_claim("pixel", "pixel-MNIST", "Fig. 2", _mnist_protocol("pixel")),
    _comparison_claim("row", "row-MNIST", "Fig. A3", _mnist_protocol("row")),
    _comparison_claim(
        "msi",
        "multisensory",
        "Fig. 3",
        lambda s: (
            f"{_msi(s)}; each preset; psychometric-test accuracy, {s.msi_test_batches} test batches"
        ),
    ),
    _comparison_claim(
        "fashion", "Fashion-MNIST rows", "beyond the paper", _mnist_protocol("fashion")
    ),
    Claim(
        "fraction of VIP recurrent weights",
        "Fig. 4",
        "≈ 1%",
        At("vip_seeds", ("vip_fraction",)),
        _vip,
        WithinBand("the seed-mean VIP fraction", 0.005, 0.02),
    ),
    Claim(
        "accuracy after removing all VIP weights",
        "Fig. 4",
        "≈ chance (0.5)",
        {
            "all_vips_removed": At("vip_seeds", ("accuracy_removed", "vip")),
            "intact": At("vip_seeds", ("accuracy_intact",)),
            "n_removed": At("vip_seeds", ("n_removed",)),
        },
        _vip,
        WithinBand(
            "the seed-mean accuracy with all VIPs removed", 0.4, 0.6, keys=("all_vips_removed",)
        ),
    ),
    Claim(
        "removing all VIPs against removing as many of the strongest non-VIPs",
        "Fig. 4",
        "VIPs matter beyond their strength (the |μ|-matched control is ours)",
        {
            "vip_minus_magnitude": At("vip_seeds", ("vip_minus_control", "magnitude")),
            "intact": At("vip_seeds", ("accuracy_intact",)),
            "all_vips_removed": At("vip_seeds", ("accuracy_removed", "vip")),
            **{
                f"{control}_removed": At("vip_seeds", ("accuracy_removed", control))
                for control in VIP_CONTROLS
            },
        },
        lambda s: (
            f"{_vip(s)}; controls: the non-VIPs of largest |μ| (magnitude), uniform non-VIPs "
            "(random), uniform over all connections (uniform), as many as the run's VIPs"
        ),
        WithinBand(
            "removing all VIPs lowers accuracy more than removing as many strongest non-VIPs "
            "(by |μ|): accuracy(VIPs removed) − accuracy(|μ|-matched control), paired by seed",
            high=0.0,
            keys=("vip_minus_magnitude",),
        ),
    ),
    Claim(
        "accuracy after removing an equal number of random weights",
        "Fig. 4",
        "≈ unchanged",
        {
            "random_minus_intact": At("vip_seeds", ("removed_minus_intact", "random")),
            "random_removed": At("vip_seeds", ("accuracy_removed", "random")),
            "intact": At("vip_seeds", ("accuracy_intact",)),
        },
        lambda s: f"{_vip(s)}; uniformly drawn non-VIP weights, as many as the run's VIPs",
        WithinBand(
            "accuracy with as many random non-VIPs removed − intact accuracy, paired by seed",
            -0.02,
            0.02,
            keys=("random_minus_intact",),
        ),
    ),
    Claim(
        "psychometric curves",
        "Fig. 3",
        "va steeper than v, a; P(high) ≈ 0 (≤ 11 Hz) → ≈ 1 (≥ 14 Hz)",
        {
            "fit": {  # the numbers of each pooled fit; its bootstrap band is Fig. 3's
                modality: {key: At("psychometric", ("fit", modality, key)) for key in _FIT_KEYS}
                for modality in ("v", "a", "va")
            },
            "sigma_hz": At("psychometric", ("sigma_hz",)),
            "sigma_upper_hz": At("psychometric", ("sigma_upper_hz",)),
            "optimal_integration": At("psychometric", ("optimal_integration",)),
            "max_p_high_at_or_below_11hz": At("psychometric", ("max_p_high_at_or_below_11hz",)),
            "min_p_high_at_or_above_14hz": At("psychometric", ("min_p_high_at_or_above_14hz",)),
            "per_seed_sigma_hz": At("psychometric", ("per_seed_sigma",)),
            "over_seeds": At("psychometric", ("over_seeds",)),
            "test_accuracy_per_seed": At("psychometric", ("per_seed_accuracy",)),
        },
        lambda s: (
            f"{_msi(s)}; {s.msi_test_batches} test batches at dt = 0.5 ms; binomial probit fits "
            f"of the choice counts pooled over seeds, {s.msi_bootstrap} bootstrap replicates"
        ),
        SteeperWithIntervals(),
    ),
    Claim(
        "MSI convergence",
        "—",
        "train MSE ≤ 0.002 after ~350 iterations (one run: 346, MSE 0.0018)",
        At("training_msi", ("runs",), convergence),
        lambda s: "30-trial minibatches, RMSprop, official settings",
        "every seed stops early (train MSE ≤ 0.002) within the iteration budget",
        lambda ours: all(run["stopped_early"] for run in ours),
    ),
    Claim(
        "neural selectivity types",
        "Fig. 5",
        "mixed, uni-selective and non-selective units all present",
        {
            "per_seed_verdicts": At(
                "selectivity_seeds", ("per_seed",), seed_verdicts(SELECTIVITY_RULE)
            ),
            "trained": At("selectivity_seeds", ("trained",)),
            "untrained": At("selectivity_seeds", ("untrained",)),
            "shuffled_mean": At("selectivity_seeds", ("shuffled_mean",)),
            "trained_minus_untrained": At("selectivity_seeds", ("trained_minus_untrained",)),
            "trained_minus_shuffled": At("selectivity_seeds", ("trained_minus_shuffled",)),
        },
        lambda s: (
            f"{_msi(s)}; {_analysed(s, 'multisensory')}, SLI with N_s = 4, "
            f"{s.selectivity_repeats} trials per condition; nulls: the untrained network "
            "(epoch 0) and condition labels shuffled across trials"
        ),
        BeyondNullsInMostSeeds(SELECTIVITY_RULE),
    ),
    Claim(
        "PCA of neural dynamics",
        "Fig. 7",
        "top 3 PCs > 85% of variance (MNIST and MSI)",
        {
            **{
                task: At("projection_seeds", (task, "variance_3_pcs"))
                for task in ("pixel_mnist", "msi")
            },
            **{
                f"{task}_untrained": At("projection_seeds", (task, "untrained_variance_3_pcs"))
                for task in ("pixel_mnist", "msi")
            },
            "msi_n_pcs_80": At("projection_seeds", ("msi", "n_pcs_80")),
        },
        lambda s: (
            f"sampled weights (per step); pixel-MNIST ({_analysed(s, 'pixel-mnist')}) digits "
            f"1/5/9 ({s.projection_per_digit} each), MSI ({_analysed(s, 'multisensory')}) visual "
            "trials 9–16 Hz; control: the same networks before training on the same trials "
            "(shown, not judged)"
        ),
        WithinBand(
            "the seed-mean share of variance in the top 3 PCs, in each task",
            low=0.85,
            keys=("pixel_mnist", "msi"),
        ),
    ),
    Claim(
        "synaptic-dynamics PCA",
        "Fig. 8",
        "low-dimensional, persistent drift along PC1",
        {
            task: {
                key: At("synaptic_seeds", (task, key))
                for key in ("drift_velocity_per_epoch", *SYNAPTIC_STATISTICS)
            }
            for task in ("row_mnist", "msi")
        },
        lambda s: (
            f"recurrent (m, π, Ξ) snapshots, each block scaled to unit variance; row-MNIST "
            f"({_analysed(s, 'row-mnist')}, every epoch) and MSI ({_analysed(s, 'multisensory')}, "
            f"every {s.snapshot_stride}-th iteration); nulls: a driftless random walk with each "
            "run's step sizes and the run's steps in shuffled order, 100 replicates each"
        ),
        DriftBeyondNull(),
    ),
    Claim(
        "RNTK at initialization",
        "Fig. 6a",
        "analytic = empirical (to within about ±1 s.d. at N = 2000)",
        {
            "per_width": At("kernel_circle", ("per_width",)),
            "slope_per_network_error": At("kernel_circle", ("slope_per_network_error",)),
        },
        lambda s: (
            f"T = 2, α = 0.5, widths {list(s.circle_widths)}, "
            f"{s.circle_networks} networks per width, {s.circle_phis} φ values"
        ),
        "at the largest width, the network-mean kernel is within ±1 s.d. of the analytic one "
        "at ≥ 68% of the angles",
        lambda ours: list(ours["per_width"].values())[-1]["within_one_sd_fraction"] >= 0.68,
    ),
    Claim(
        "RNTK learning dynamics",
        "Fig. 6b",
        "agrees with BPTT early; deviates later at finite N",
        {
            "per_width": At("kernel_curves", ("per_width",)),
            "n_networks": At("kernel_curves", ("n_networks",)),
            "slope": At("kernel_curves", ("slope_early_gap",)),
            "slope_ci": At("kernel_curves", ("slope_early_gap_ci",)),
        },
        lambda s: (
            f"MNIST 0/1 ({s.curve_train}/{s.curve_test}, {_data(s)}), α = 1, η = 1e-3, "
            f"{s.curve_epochs} epochs, widths {list(s.curve_widths)}, {s.curve_networks} "
            "networks per width; the early BPTT–RNTK train-loss gap (first 20% of the epochs)"
        ),
        FallsWithWidth(),
    ),
    Claim(
        "symmetry breaking order",
        "Fig. 9",
        "Ξ (continuous) breaks before π (discrete)",
        {
            "first_to_order": At("symmetry_seeds", ("first_to_order",)),
            "discrete_minus_continuous": At("symmetry_seeds", ("discrete_minus_continuous",)),
            "continuous_order_epoch": At("symmetry_seeds", ("continuous_order_epoch",)),
            "discrete_order_epoch": At("symmetry_seeds", ("discrete_order_epoch",)),
            "first_to_break": At("symmetry_seeds", ("first_to_break",)),
            "test_accuracy": At("training_symmetry", ("final_interval", "test_accuracy_meanfield")),
        },
        lambda s: (
            f"row-MNIST from π₀ = {s.symmetry_pi0:g} in every layer "
            f"({_analysed(s, 'row-mnist-symmetry')}; the paper's preset starts at π₀ = 0, from "
            f"which the π entropy can only rise), {s.row_epochs} epochs × {s.row_batches} "
            f"batches × {s.row_batch_size}; {_data(s)}; recurrent layer, every epoch"
        ),
        ContinuousFirst(),
    ),
    Claim(
        "entropy of the ensemble",
        "Fig. 10",
        "decreases during training (approximate estimator)",
        At("entropy_msi", ("aggregate", "layers"), entropy_first_last),
        lambda s: (
            f"{_msi(s)}; every {s.entropy_stride}-th iteration, {s.entropy_draws} Monte Carlo draws"
        ),
        "Entropy I lower at the last iteration than at the first, in every layer",
        lambda ours: all(layer["decreased"] for layer in ours.values()),
    ),
)

#: Errors that mean "this result is not there (yet)" when reading a claim's number.
_MISSING = (FileNotFoundError, KeyError, IndexError, ValueError)


def _resolve(spec, read: Callable[[At], Any]):
    if isinstance(spec, At):
        return read(spec)
    return {name: _resolve(item, read) for name, item in spec.items()}


def _sources(spec):
    if isinstance(spec, At):
        return str(spec)
    return {name: _sources(item) for name, item in spec.items()}


def _verdict(claim: Claim, ours) -> tuple[str, str]:
    """(verdict, its reason or "")."""
    if isinstance(ours, dict) and "missing" in ours:
        return "not tested", ""
    try:
        if hasattr(claim.criterion, "judge"):
            return claim.criterion.judge(ours)
        if claim.verdict is None:
            return "not resolvable", ""
        return ("holds" if claim.verdict(ours) else "does not hold"), ""
    except (TypeError, KeyError, IndexError):  # a number the rule cannot judge (None, NaN)
        return "undecided", ""


def _criterion(claim: Claim) -> tuple[str, dict | None]:
    """(the criterion in words, its parameters as data or None)."""
    if hasattr(claim.criterion, "judge"):
        return claim.criterion.text, {
            "rule": type(claim.criterion).__name__,
            **dataclasses.asdict(claim.criterion),
        }
    return claim.criterion, None


def headline(results: Path, settings: Settings, claims=CLAIMS) -> list[dict]:
    """summary.json's "headline": per claim our number read from ``results``, and the verdict.

    Returns:
        One dict per claim: quantity, figure, ours (or {"missing": reason}), paper,
        conditions, source (the result paths of ours), criterion (words), rule (the criterion's
        parameters, for criteria stated as data; else None), verdict and its reason.
    """
    summaries: dict[str, dict] = {}

    def read(at: At):
        if at.stem not in summaries:
            path = Path(results) / f"{at.stem}.json"
            summaries[at.stem] = store.read_json(path, store.RESULT_STEMS[at.stem])
        return at.read(summaries)

    rows = []
    for claim in claims:
        try:
            ours = _resolve(claim.ours, read)
        except _MISSING as error:
            ours = {"missing": str(error)}
        verdict, reason = _verdict(claim, ours)
        criterion, rule = _criterion(claim)
        rows.append(
            {
                "quantity": claim.quantity,
                "figure": claim.figure,
                "ours": ours,
                "paper": claim.paper,
                "conditions": claim.conditions(settings),
                "source": _sources(claim.ours),
                "criterion": criterion,
                "rule": rule,
                "verdict": verdict,
                "reason": reason,
            }
        )
    return rows


def format_value(value) -> str:
    """A number, list or dict of our results in one short line (floats to 3 digits; a statistic
    over seeds as "mean [low, high] (n = k)", its per-seed values left to summary.json)."""
    if isinstance(value, Mapping) and {"mean", "low", "high", "n"} <= set(value):
        return f"{_shown(value)} (n = {value['n']})"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, list):
        return " / ".join(format_value(item) for item in value)
    return "; ".join(f"{key} {format_value(item)}" for key, item in value.items())


def markdown_table(rows: list[dict]) -> str:
    """The headline rows as a Markdown table: claim, paper, ours, criterion, verdict."""
    lines = [
        "| claim (figure) | paper | ours | criterion | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        ours = row["ours"]
        shown = (
            f"missing: {ours['missing']}"
            if isinstance(ours, dict) and "missing" in ours
            else format_value(ours)
        )
        cells = [
            f"{row['quantity']} ({row['figure']})",
            row["paper"],
            shown,
            row.get("criterion", ""),
            f"**{row.get('verdict', '')}**" + (f" ({row['reason']})" if row.get("reason") else ""),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
