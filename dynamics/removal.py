"""Very important connections (VIPs) and target removal (paper Fig. 4, docs/official-code.md §1.10).

A recurrent connection is a VIP when it is nearly deterministic, present and strong:
π ≤ 0.1, Ξ < 0.1 and |m| > 0.08 (official `sub_tasks.py` §2). Removing a connection sets π = 1 on
it. For a removed fraction p of the VIP count n_VIP, n = ⌊p·n_VIP⌋ connections are removed
(``int(len(conds)*p)`` in the official code; a 1e-9 slack protects values like 0.29·100 from
float round-off) from one of two pools:

* VIP removal: a uniformly random n-subset of the VIP set, drawn with a ``numpy.random.Generator``;
* random removal: n connections drawn uniformly without replacement from the NON-VIP connections,
  so the control never touches a VIP (docs/official-code.md §1 item 10 leaves the pool open; we
  exclude VIPs).

``legacy_first_n=True`` reproduces the official code instead: VIP removal takes the first n entries
of the sorted flat VIP index list, random removal takes the first n flattened connections (indices
0..n-1, i.e. the first rows of W, VIP or not).

Everything here is a pure function on arrays; evaluating the accuracy of the pruned network is the
caller's job.
"""

from __future__ import annotations

import math

import numpy as np

from dynamics.layer import check_pi_xi

#: VIP thresholds of the official analysis: π ≤ PI_MAX, Ξ < XI_MAX, |m| > ABS_M_MIN.
PI_MAX = 0.1
XI_MAX = 0.1
ABS_M_MIN = 0.08

#: Slack when flooring p·n_VIP, so that e.g. 0.29·100 = 28.999999999999996 counts as 29.
_COUNT_SLACK = 1e-9


def _check_layer(m, pi, xi):
    arrays = [np.asarray(a, dtype=float) for a in (m, pi, xi)]
    for name, a in zip(("m", "pi", "xi"), arrays, strict=True):
        if a.shape != arrays[0].shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {arrays[0].shape} like m")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
    check_pi_xi(arrays[1], arrays[2])
    return arrays


def vip_mask(
    m, pi, xi, pi_max: float = PI_MAX, xi_max: float = XI_MAX, abs_m_min: float = ABS_M_MIN
) -> np.ndarray:
    """Boolean mask of the very important connections: π ≤ pi_max, Ξ < xi_max, |m| > abs_m_min.

    Args:
        m, pi, xi: arrays of one shape, e.g. (N, N) recurrent hyper-parameters.
        pi_max, xi_max, abs_m_min: the thresholds (official values 0.1, 0.1, 0.08).

    Returns:
        Bool array shaped like ``m``.

    Raises:
        ValueError: on mismatched shapes, NaN, π outside [0, 1] or Ξ < 0.
    """
    m, pi, xi = _check_layer(m, pi, xi)
    return (pi <= pi_max) & (xi < xi_max) & (np.abs(m) > abs_m_min)


def removal_count(n_vip: int, fraction: float) -> int:
    """Number of connections removed at fraction p of the VIP count: ⌊p·n_VIP⌋.

    Args:
        n_vip: number of VIP connections.
        fraction: p in [0, 1].

    Returns:
        The count, 0 <= n <= n_vip.

    Raises:
        ValueError: if ``fraction`` is outside [0, 1] or ``n_vip`` < 0.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    if n_vip < 0:
        raise ValueError(f"n_vip must be >= 0, got {n_vip}")
    return min(int(math.floor(fraction * n_vip + _COUNT_SLACK)), int(n_vip))


def _check_mask_and_rng(vip, rng, legacy_first_n):
    vip = np.asarray(vip)
    if vip.dtype != bool:
        raise ValueError("vip must be a boolean mask (use vip_mask)")
    if not legacy_first_n and not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (or pass legacy_first_n=True)")
    return vip.ravel()


def vip_removal_indices(
    vip, fraction: float, rng: np.random.Generator | None = None, legacy_first_n: bool = False
) -> np.ndarray:
    """Flat indices of the VIP connections removed at fraction p (module docstring).

    Args:
        vip: boolean VIP mask of any shape (indices refer to its row-major flattening).
        fraction: p in [0, 1]; ⌊p·n_VIP⌋ connections are removed.
        rng: Generator drawing the random subset (unused with ``legacy_first_n``).
        legacy_first_n: official behaviour, the first n entries of the sorted VIP index list.

    Returns:
        Sorted int array of flat indices, all of them VIPs.

    Raises:
        ValueError: on a non-boolean mask, bad fraction, or missing Generator.
    """
    flat = _check_mask_and_rng(vip, rng, legacy_first_n)
    vip_indices = np.flatnonzero(flat)
    n = removal_count(vip_indices.size, fraction)
    if legacy_first_n:
        return vip_indices[:n]
    return np.sort(rng.choice(vip_indices, size=n, replace=False))


def random_removal_indices(
    vip, fraction: float, rng: np.random.Generator | None = None, legacy_first_n: bool = False
) -> np.ndarray:
    """Flat indices of the control ("random") removal: as many connections as the VIP removal.

    Args:
        vip: boolean VIP mask of any shape.
        fraction: p in [0, 1]; ⌊p·n_VIP⌋ connections are removed.
        rng: Generator drawing uniformly without replacement from the non-VIP connections.
        legacy_first_n: official behaviour, the flat indices 0..n-1 (VIPs included).

    Returns:
        Sorted int array of flat indices (never VIPs unless ``legacy_first_n``).

    Raises:
        ValueError: on a non-boolean mask, bad fraction, missing Generator, or fewer non-VIP
            connections than the count.
    """
    flat = _check_mask_and_rng(vip, rng, legacy_first_n)
    n = removal_count(int(flat.sum()), fraction)
    if legacy_first_n:
        return np.arange(n)
    pool = np.flatnonzero(~flat)
    if n > pool.size:
        raise ValueError(
            f"cannot draw {n} non-VIP connections from a pool of {pool.size}: the VIPs outnumber "
            f"the other connections; lower fraction or check the VIP thresholds"
        )
    return np.sort(rng.choice(pool, size=n, replace=False))


def remove_connections(m, pi, xi, flat_indices):
    """Copies of (m, π, Ξ) with π = 1 (connection absent) at the given flat indices.

    m and Ξ are left unchanged: with π = 1 the moments μ = (1-π)m and v = (1-π)Ξ + π(1-π)m² vanish.

    Args:
        m, pi, xi: arrays of one shape.
        flat_indices: int indices into the row-major flattening.

    Returns:
        (m, pi, xi) new arrays; the inputs are not modified.

    Raises:
        ValueError: on invalid parameters or indices out of range.
    """
    m, pi, xi = (a.copy() for a in _check_layer(m, pi, xi))
    idx = np.asarray(flat_indices, dtype=np.intp).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= pi.size):
        raise ValueError(
            f"flat_indices must lie in [0, {pi.size}), got range [{idx.min()}, {idx.max()}]"
        )
    pi.reshape(-1)[idx] = 1.0
    return m, pi, xi


def removal_sets(
    m,
    pi,
    xi,
    fraction: float,
    rng: np.random.Generator | None = None,
    legacy_first_n: bool = False,
    pi_max: float = PI_MAX,
    xi_max: float = XI_MAX,
    abs_m_min: float = ABS_M_MIN,
) -> dict:
    """Both pruned copies of one layer for the target-removal curve at one fraction (Fig. 4b).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> out = removal_sets(m_rec, pi_rec, xi_rec, 0.5, rng)
        >>> net_vip.rec.pi[...] = out["vip"][1]           # caller evaluates accuracy

    Args:
        m, pi, xi: hyper-parameters of the layer (e.g. recurrent, (N, N)).
        fraction: p in [0, 1].
        rng: Generator for the subsets (the VIP subset is drawn first, then the control).
        legacy_first_n: official first-n behaviour for both sets.
        pi_max, xi_max, abs_m_min: VIP thresholds.

    Returns:
        {"vip_mask": bool array, "n_vip": int, "n_removed": int,
         "vip_indices": flat int array, "random_indices": flat int array,
         "vip": (m, pi, xi) with the VIP subset removed,
         "random": (m, pi, xi) with the control subset removed}.

    Raises:
        ValueError: see :func:`vip_mask`, :func:`vip_removal_indices`,
            :func:`random_removal_indices`.
    """
    mask = vip_mask(m, pi, xi, pi_max, xi_max, abs_m_min)
    vip_idx = vip_removal_indices(mask, fraction, rng, legacy_first_n)
    random_idx = random_removal_indices(mask, fraction, rng, legacy_first_n)
    return {
        "vip_mask": mask,
        "n_vip": int(mask.sum()),
        "n_removed": int(vip_idx.size),
        "vip_indices": vip_idx,
        "random_indices": random_idx,
        "vip": remove_connections(m, pi, xi, vip_idx),
        "random": remove_connections(m, pi, xi, random_idx),
    }
