"""Symmetry breaking in parameter space: order parameters of the slab (Ξ) and spike (π) parts.

docs/model.md §5.4 and Fig. 9. Each SaS weight carries a continuous symmetry (the Gaussian slab,
variance Ξ)
and a discrete one (the Bernoulli spike, probability π). Training breaks both; the paper reports
that in row-by-row MNIST the continuous one breaks first. This module measures, per layer and
epoch,

continuous part (Ξ):
    "xi_fraction_collapsed"  fraction of Ξ <= floor (slabs whose entropy has hit the floor);
    "xi_mean_entropy"        ⟨S_Ξ⟩, S_Ξ = ½ ln(2π max(Ξ, floor)) + ½;
    "xi_log_spread"          std of ln max(Ξ, floor) over the layer;
discrete part (π):
    "pi_fraction_above_half" fraction of π > ½ (connections more likely absent than present);
    "pi_fraction_undecided"  fraction of π in (0.05, 0.95);
    "pi_mean_entropy"        ⟨S_π⟩, the Bernoulli entropy;
    "pi_bimodality"          Sarle's bimodality coefficient of the π histogram,
        b = (g² + 1) / (k + 3(n-1)²/((n-2)(n-3))), g and k the bias-corrected sample skewness
        and excess kurtosis (scipy.stats); b > 5/9 ≈ 0.555 suggests bimodality. A constant π (e.g.
        the MNIST initialisation π = 0) has no defined shape; b is set to 0 there.

The break epoch of an order parameter is the first epoch at which it has moved halfway from its
initial to its final value (in either direction: π starts at 0 in the MNIST presets, so π order
parameters may rise rather than fall). The verdict on which symmetry breaks first is
:func:`first_to_order`: it counts only falls of the parts' entropies, and it says "not testable"
when π starts at 0 or 1, where the discrete part starts ordered. The representative parameters
used to decide which part breaks first are ⟨S_Ξ⟩ and ⟨S_π⟩ (the Entropy II decomposition of
docs/model.md §5.5); the break epochs of all parameters are reported as well.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from dynamics.entropy import DELTA_VARIANCE, bernoulli_entropy, layer_entries, slab_entropy
from dynamics.layer import check_pi_xi

#: Bounds of the "undecided" π band (docs/model.md §5.4 suggests fractions of π ∈ (ε, 1-ε)).
UNDECIDED_BAND = (0.05, 0.95)

#: Order parameters of the continuous (slab, Ξ) part, in reporting order.
CONTINUOUS_PARAMETERS = ("xi_fraction_collapsed", "xi_mean_entropy", "xi_log_spread")
#: Order parameters of the discrete (spike, π) part, in reporting order.
DISCRETE_PARAMETERS = (
    "pi_fraction_above_half",
    "pi_fraction_undecided",
    "pi_mean_entropy",
    "pi_bimodality",
)
#: The parameter of each part whose break epoch decides which part breaks first.
CONTINUOUS_REPRESENTATIVE = "xi_mean_entropy"
DISCRETE_REPRESENTATIVE = "pi_mean_entropy"


def _check_snapshots(pi, xi):
    pi = np.asarray(pi, dtype=float)
    xi = np.asarray(xi, dtype=float)
    if pi.ndim != 3 or pi.shape != xi.shape:
        raise ValueError(
            f"pi and xi must be per-epoch snapshots of one layer, both (epochs, n_post, n_pre); "
            f"got {pi.shape} and {xi.shape}"
        )
    if not (np.all(np.isfinite(pi)) and np.all(np.isfinite(xi))):
        raise ValueError("pi or xi contains NaN or inf")
    check_pi_xi(pi, xi)
    return pi, xi


def sarle_bimodality(values) -> float:
    """Sarle's bimodality coefficient b = (g² + 1) / (k + 3(n-1)²/((n-2)(n-3))).

    g and k are the bias-corrected sample skewness and excess kurtosis (scipy.stats.skew and
    scipy.stats.kurtosis with bias=False). b = 1/3 for a Gaussian sample (large n), 5/9 for a
    uniform one, → 1 for two equal point masses. A constant sample returns 0.

    Args:
        values: 1-D sample with n >= 4 entries.

    Returns:
        b as a float.

    Raises:
        ValueError: if fewer than four values are given.
    """
    x = np.asarray(values, dtype=float).ravel()
    n = x.size
    if n < 4:
        raise ValueError(f"the bimodality coefficient needs at least 4 values, got {n}")
    if np.ptp(x) == 0.0:
        return 0.0
    skewness = stats.skew(x, bias=False)
    excess_kurtosis = stats.kurtosis(x, fisher=True, bias=False)
    return float((skewness**2 + 1.0) / (excess_kurtosis + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def symmetry_order_parameters(
    pi,
    xi,
    exclude_diagonal: bool = False,
    xi_floor: float = DELTA_VARIANCE,
    undecided_band: tuple[float, float] = UNDECIDED_BAND,
) -> dict:
    """Order parameters of the Ξ (continuous) and π (discrete) parts at every epoch (docs/model.md
    §5.4).

    See the module docstring for the definitions.

    Args:
        pi, xi: (E, n_post, n_pre) per-epoch snapshots of one layer.
        exclude_diagonal: leave out self-connections (square recurrent layers).
        xi_floor: the Ξ floor of S_Ξ and the threshold of "xi_fraction_collapsed" (1e-4, §5.5).
        undecided_band: open interval (low, high) of undecided π.

    Returns:
        {name: (E,) float array} for every name in CONTINUOUS_PARAMETERS + DISCRETE_PARAMETERS.

    Raises:
        ValueError: on mismatched or non-3-D shapes, NaN, π outside [0, 1], Ξ < 0.
    """
    pi, xi = _check_snapshots(pi, xi)
    pi = layer_entries(pi, exclude_diagonal)
    xi = layer_entries(xi, exclude_diagonal)
    low, high = undecided_band
    log_xi = np.log(np.maximum(xi, xi_floor))
    return {
        "xi_fraction_collapsed": np.mean(xi <= xi_floor, axis=1),
        "xi_mean_entropy": slab_entropy(xi, xi_floor).mean(axis=1),
        "xi_log_spread": log_xi.std(axis=1),
        "pi_fraction_above_half": np.mean(pi > 0.5, axis=1),
        "pi_fraction_undecided": np.mean((pi > low) & (pi < high), axis=1),
        "pi_mean_entropy": bernoulli_entropy(pi).mean(axis=1),
        "pi_bimodality": np.array([sarle_bimodality(row) for row in pi]),
    }


def break_epoch(order_parameter, epochs=None):
    """First epoch at which an order parameter has moved halfway from its initial to final value.

    With x_0 the first and x_f the last value and x_½ = (x_0 + x_f)/2: the first epoch e with
    x_e >= x_½ if x_f > x_0, or x_e <= x_½ if x_f < x_0 (docs/model.md §5.4).

    Args:
        order_parameter: (E,) values per saved epoch.
        epochs: (E,) epoch labels of the snapshots; default 0..E-1.

    Returns:
        The epoch label (int or float, as given), or None if the parameter did not move
        (x_f == x_0).

    Raises:
        ValueError: on non-1-D, empty or non-finite input, or mismatched ``epochs``.
    """
    x = np.asarray(order_parameter, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("order_parameter must be a non-empty, finite 1-D array over epochs")
    labels = np.arange(x.size) if epochs is None else np.asarray(epochs)
    if labels.shape != x.shape:
        raise ValueError(f"epochs has shape {labels.shape}, expected {x.shape}")
    start, end = x[0], x[-1]
    if end == start:
        return None
    halfway = 0.5 * (start + end)
    crossed = x >= halfway if end > start else x <= halfway
    return labels[int(np.argmax(crossed))].item()


#: The smallest fall of a part's mean entropy (nats per connection) that counts as ordering;
#: the spike entropy's range is ln 2 ≈ 0.69 nats.
MIN_ENTROPY_FALL = 0.05
#: The verdicts of :func:`first_to_order`.
ORDER_VERDICTS = ("continuous", "discrete", "simultaneous", "none", "not testable")


def ordering_epoch(entropy, epochs=None, min_fall: float = MIN_ENTROPY_FALL):
    """First epoch at which an entropy has fallen halfway from its initial value to its minimum.

    With S_0 the first value and S_min the smallest: the first epoch e with
    S_e <= (S_0 + S_min)/2. A symmetry breaks when the entropy of its part falls (its weights
    leave the symmetric, maximally uncertain state); a rise is not a breaking, and neither is a
    fall smaller than ``min_fall`` nats per connection.

    Args:
        entropy: (E,) mean entropies per connection (nats) per saved epoch.
        epochs: (E,) epoch labels; default 0..E-1.
        min_fall: the smallest fall S_0 − S_min that counts as ordering.

    Returns:
        The epoch label, or None if the entropy never fell by ``min_fall``.

    Raises:
        ValueError: see :func:`break_epoch`.
    """
    x = np.asarray(entropy, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("entropy must be a non-empty, finite 1-D array over epochs")
    labels = np.arange(x.size) if epochs is None else np.asarray(epochs)
    if labels.shape != x.shape:
        raise ValueError(f"epochs has shape {labels.shape}, expected {x.shape}")
    lowest = x.min()
    if not x[0] - lowest >= min_fall:
        return None
    return labels[int(np.argmax(x <= 0.5 * (x[0] + lowest)))].item()


def first_to_order(continuous_entropy, discrete_entropy, epochs=None) -> dict:
    """Which symmetry breaks first, by the rule stated before any run (docs/model.md §5.4).

    Each part's ordering epoch is :func:`ordering_epoch` of its entropy representative (⟨S_Ξ⟩
    for the continuous slab, ⟨S_π⟩ for the discrete spike). The verdict is

    - "not testable" when ⟨S_π⟩ starts at 0 (every π₀ is 0 or 1, as in the paper's MNIST
      presets): the discrete part starts ordered and can only lose order, so the question has
      no answer from such a run;
    - "continuous" or "discrete" for the part with the earlier ordering epoch, or the only part
      that ordered;
    - "simultaneous" when both order at the same saved epoch;
    - "none" when neither entropy fell (by :data:`MIN_ENTROPY_FALL`).

    Returns:
        {"verdict", "continuous_epoch", "discrete_epoch"}.
    """
    continuous = ordering_epoch(continuous_entropy, epochs)
    discrete = ordering_epoch(discrete_entropy, epochs)
    result = {"continuous_epoch": continuous, "discrete_epoch": discrete}
    if np.asarray(discrete_entropy, dtype=float)[0] == 0.0:
        return {**result, "verdict": "not testable"}
    if continuous is None and discrete is None:
        verdict = "none"
    elif discrete is None or (continuous is not None and continuous < discrete):
        verdict = "continuous"
    elif continuous is None or discrete < continuous:
        verdict = "discrete"
    else:
        verdict = "simultaneous"
    return {**result, "verdict": verdict}


def symmetry_breaking_summary(
    pi,
    xi,
    epochs=None,
    exclude_diagonal: bool = False,
    xi_floor: float = DELTA_VARIANCE,
    undecided_band: tuple[float, float] = UNDECIDED_BAND,
) -> dict:
    """Break epochs of all order parameters and which part (Ξ or π) breaks first (docs/model.md
    §5.4).

    The decision uses the representative parameters CONTINUOUS_REPRESENTATIVE (⟨S_Ξ⟩) and
    DISCRETE_REPRESENTATIVE (⟨S_π⟩).

    Example:
        >>> out = symmetry_breaking_summary(pi_rec_all, xi_rec_all, exclude_diagonal=True)
        >>> out["first_to_break"]    # "continuous", "discrete", "simultaneous" or "undetermined"

    Args:
        pi, xi: (E, n_post, n_pre) per-epoch snapshots of one layer.
        epochs: (E,) epoch labels; default 0..E-1.
        exclude_diagonal, xi_floor, undecided_band: see :func:`symmetry_order_parameters`.

    Returns:
        dict with
          "order_parameters": {name: (E,) array};
          "break_epochs": {name: epoch or None};
          "continuous_break_epoch", "discrete_break_epoch": break epochs of the representatives;
          "first_to_break": "continuous" | "discrete" | "simultaneous" | "undetermined" (a
              representative that never moved);
          "continuous_representative", "discrete_representative": their names;
          "continuous_parameters", "discrete_parameters": the names of each part.

    Raises:
        ValueError: see :func:`symmetry_order_parameters` and :func:`break_epoch`.
    """
    order = symmetry_order_parameters(pi, xi, exclude_diagonal, xi_floor, undecided_band)
    breaks = {name: break_epoch(values, epochs) for name, values in order.items()}
    continuous = breaks[CONTINUOUS_REPRESENTATIVE]
    discrete = breaks[DISCRETE_REPRESENTATIVE]
    if continuous is None or discrete is None:
        first = "undetermined"
    elif continuous < discrete:
        first = "continuous"
    elif discrete < continuous:
        first = "discrete"
    else:
        first = "simultaneous"
    return {
        "order_parameters": order,
        "break_epochs": breaks,
        "continuous_break_epoch": continuous,
        "discrete_break_epoch": discrete,
        "first_to_break": first,
        "continuous_representative": CONTINUOUS_REPRESENTATIVE,
        "discrete_representative": DISCRETE_REPRESENTATIVE,
        "continuous_parameters": CONTINUOUS_PARAMETERS,
        "discrete_parameters": DISCRETE_PARAMETERS,
    }


def parameter_histograms(
    pi,
    xi,
    n_pi_bins: int = 20,
    n_xi_bins: int = 30,
    exclude_diagonal: bool = False,
    xi_floor: float = DELTA_VARIANCE,
) -> dict:
    """Histograms of π and of log10 Ξ at every epoch, on bins shared by all epochs (for Fig. 9).

    π bins split [0, 1] evenly (π = 1 falls in the last bin). log10 Ξ (Ξ floored at ``xi_floor``)
    bins split [log10 floor, max(log10 max Ξ, log10 floor + 1)] evenly; the floored slabs fill the
    first bin.

    Args:
        pi, xi: (E, n_post, n_pre) per-epoch snapshots of one layer.
        n_pi_bins, n_xi_bins: numbers of bins.
        exclude_diagonal: leave out self-connections.
        xi_floor: the Ξ floor.

    Returns:
        {"pi_edges": (n_pi_bins+1,), "pi_counts": (E, n_pi_bins) int,
         "log10_xi_edges": (n_xi_bins+1,), "log10_xi_counts": (E, n_xi_bins) int,
         "n_entries": entries per epoch}.

    Raises:
        ValueError: see :func:`symmetry_order_parameters`; also for fewer than one bin.
    """
    if n_pi_bins < 1 or n_xi_bins < 1:
        raise ValueError("n_pi_bins and n_xi_bins must be >= 1")
    pi, xi = _check_snapshots(pi, xi)
    pi = layer_entries(pi, exclude_diagonal)
    log_xi = np.log10(np.maximum(layer_entries(xi, exclude_diagonal), xi_floor))
    pi_edges = np.linspace(0.0, 1.0, n_pi_bins + 1)
    low = np.log10(xi_floor)
    xi_edges = np.linspace(low, max(log_xi.max(), low + 1.0), n_xi_bins + 1)
    return {
        "pi_edges": pi_edges,
        "pi_counts": np.stack([np.histogram(row, pi_edges)[0] for row in pi]),
        "log10_xi_edges": xi_edges,
        "log10_xi_counts": np.stack([np.histogram(row, xi_edges)[0] for row in log_xi]),
        "n_entries": int(pi.shape[1]),
    }
