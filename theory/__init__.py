"""Infinite-width theory of the spike-and-slab RNN: sympy derivations and closed forms
(docs/model.md §5).

Public API:

* :func:`rntk`, :func:`rntk_blocks` — analytic recurrent NTK of the leaky SaS RNN (docs/model.md
§5.1);
* :func:`gradient_descent_mse` — lazy-regime closed-form learning dynamics (docs/model.md §5.1);
* :mod:`theory.derivations` — the symbolic derivations (``python -m theory.derivations``).

This package imports nothing from ``dynamics``, ``sims`` or ``figures``.
"""

from theory.lazy import gradient_descent_mse
from theory.rntk import BLOCK_NAMES, relu_arccos_kernels, rntk, rntk_blocks

__all__ = ["BLOCK_NAMES", "gradient_descent_mse", "relu_arccos_kernels", "rntk", "rntk_blocks"]
