"""Simulators of spike-and-slab recurrent networks and their learning rule.

The public names below are a stable contract (README, "API"):

    from dynamics import SaSLayer, SaSNetwork, mean_field_grads
"""

from .layer import SaSLayer, sas_moment_derivatives, sas_moments
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
from .optim import Optimizer, clip_gradient
from .sampled import sampled_forward

__all__ = [
    "BLOCK_NAMES",
    "ForwardTrace",
    "LayerGrads",
    "NetworkGrads",
    "Optimizer",
    "SaSLayer",
    "SaSNetwork",
    "batch_loss",
    "clip_gradient",
    "mean_field_forward",
    "mean_field_grads",
    "mean_field_vjp",
    "sas_moment_derivatives",
    "sas_moments",
    "sampled_forward",
]
