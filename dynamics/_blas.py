"""One BLAS thread for the work of a training step.

The step's GEMMs are small (B/2 × 100 × 100), and the batch chunks already keep both cores busy;
a threaded BLAS call loses there, and worse, OpenBLAS's idle worker threads keep spinning for a
while after one, taking a core from the chunks of the next step (measured: the pixel step
slowed from 0.139 s to 0.19 s in float64 when the optimizer's norms ran on threaded BLAS).
"""

from __future__ import annotations

import scipy.linalg.cython_blas  # noqa: F401  (numba's np.dot calls this BLAS; load it now)
from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def one_blas_thread():
    """A context manager pinning every loaded BLAS library (NumPy's and SciPy's) to one thread
    and restoring the previous limits on exit."""
    global _controller
    if _controller is None:  # after SciPy's BLAS is loaded, so that it is pinned too
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
