"""Simulators of spike-and-slab recurrent networks, their learning rule, and trajectory analyses.

The public names below are a stable contract (README, "API"):

    from dynamics import SaSLayer, SaSNetwork, mean_field_grads
"""

from .entropy import entropy_one, entropy_trajectory, entropy_two, layer_entropies
from .evaluation import generator_key, mean_field_readout, mean_field_readouts
from .layer import SaSLayer, check_pi_xi, sas_moment_derivatives, sas_moments
from .meanfield import (
    ForwardTrace,
    LayerGrads,
    NetworkGrads,
    batch_loss,
    mean_field_forward,
    mean_field_grads,
    mean_field_vjp,
)
from .network import BLOCK_NAMES, SaSNetwork
from .noise import STREAM_PURPOSES, CounterNormals, stream_key
from .optim import Optimizer, clip_gradient
from .projection import neural_trajectory_pca, synaptic_trajectory_pca
from .removal import removal_sets, remove_connections, vip_mask
from .sampled import sampled_forward, sampled_readout, sampled_readouts, sampled_weights
from .selectivity import (
    classify_selectivity,
    selectivity_counts,
    selectivity_index,
    window_responses,
)
from .symmetry import (
    break_epoch,
    parameter_histograms,
    symmetry_breaking_summary,
    symmetry_order_parameters,
)
from .toy import toy_initial_parameters, train_toy, train_toy_runs

__all__ = [
    "BLOCK_NAMES",
    "CounterNormals",
    "STREAM_PURPOSES",
    "ForwardTrace",
    "LayerGrads",
    "NetworkGrads",
    "Optimizer",
    "SaSLayer",
    "check_pi_xi",
    "SaSNetwork",
    "batch_loss",
    "break_epoch",
    "classify_selectivity",
    "clip_gradient",
    "entropy_one",
    "entropy_trajectory",
    "entropy_two",
    "generator_key",
    "layer_entropies",
    "mean_field_forward",
    "mean_field_readout",
    "mean_field_readouts",
    "mean_field_grads",
    "mean_field_vjp",
    "neural_trajectory_pca",
    "parameter_histograms",
    "removal_sets",
    "remove_connections",
    "sampled_forward",
    "sampled_readout",
    "sampled_readouts",
    "sampled_weights",
    "sas_moment_derivatives",
    "sas_moments",
    "selectivity_counts",
    "selectivity_index",
    "symmetry_breaking_summary",
    "symmetry_order_parameters",
    "synaptic_trajectory_pca",
    "toy_initial_parameters",
    "stream_key",
    "train_toy",
    "train_toy_runs",
    "vip_mask",
    "window_responses",
]
