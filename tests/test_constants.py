"""theory and dynamics import nothing of each other, so their shared names are held equal here."""

from __future__ import annotations

import dynamics
import theory
from dynamics import _kernels
from dynamics.network import ACTIVATIONS as NETWORK_ACTIVATIONS
from theory.phase import ACTIVATIONS as PHASE_ACTIVATIONS
from theory.rntk import ACTIVATIONS as RNTK_ACTIVATIONS


def test_kernel_block_names_are_the_dynamics_blocks_in_the_same_order():
    assert set(theory.BLOCK_NAMES) <= set(dynamics.BLOCK_NAMES)
    in_dynamics_order = [name for name in dynamics.BLOCK_NAMES if name in theory.BLOCK_NAMES]
    assert list(theory.BLOCK_NAMES) == in_dynamics_order


def test_theory_activations_are_spelled_and_ordered_as_the_dynamics_codes():
    assert RNTK_ACTIVATIONS == _kernels.ACTIVATIONS
    assert PHASE_ACTIVATIONS == _kernels.ACTIVATIONS
    assert NETWORK_ACTIVATIONS == _kernels.ACTIVATIONS


def test_activation_codes_are_the_positions_in_the_activation_tuple():
    assert _kernels.ACTIVATIONS.index("relu") == _kernels.RELU
    assert _kernels.ACTIVATIONS.index("tanh") == _kernels.TANH
