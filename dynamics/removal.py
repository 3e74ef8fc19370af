"""Very important connections (VIPs) and target removal (paper Fig. 4, docs/official-code.md §1.10).

A recurrent connection is a VIP when it is nearly deterministic, present and strong:
π ≤ 0.1, Ξ < 0.1 and |m| > 0.08 (official `sub_tasks.py` §2). For a removed fraction p of the
VIP count n_VIP, n = ⌊p·n_VIP⌋ connections are removed (``int(len(conds)*p)`` in the official
code; a 1e-9 slack protects values like 0.29·100 from float round-off), chosen by one of
(:data:`REMOVAL_KINDS`):

* ``"vip"``: a uniformly random n-subset of the VIP set;
* ``"random"``: n connections drawn uniformly without replacement from the NON-VIP connections,
  so this control never touches a VIP (docs/official-code.md §1 item 10 leaves the pool open);
* ``"magnitude"``: the n NON-VIP connections of largest mean weight |μ| = |(1 − π) m| (ties by
  flat index), a control matched in strength to the VIPs as far as the non-VIPs allow;
* ``"uniform"``: n connections drawn uniformly without replacement from ALL connections, VIP or
  not.

The random draws come from a ``numpy.random.Generator``; "magnitude" draws nothing.

What removal sets (:data:`REMOVALS`): ``"pi"`` (the paper's) sets π = 1, so the connection is
absent, μ = v = 0; ``"m"`` sets m = 0, so μ = 0 but the slab variance v = (1 − π) Ξ stays.

``legacy_first_n=True`` reproduces the official code instead: VIP removal takes the first n
entries of the sorted flat VIP index list, random removal the first n flattened connections
(indices 0..n-1, i.e. the first rows of W, VIP or not).

Everything here is a pure function on arrays; evaluating the accuracy of the pruned network is the
caller's job.
"""

from __future__ import annotations

import math

import numpy as np

from dynamics.layer import check_pi_xi, sas_moments

#: VIP thresholds of the official analysis: π ≤ PI_MAX, Ξ < XI_MAX, |m| > ABS_M_MIN.
PI_MAX = 0.1
XI_MAX = 0.1
ABS_M_MIN = 0.08

#: The removals at one fraction: the VIPs, then the controls (module docstring).
REMOVAL_KINDS = ("vip", "random", "magnitude", "uniform")
#: What removing a connection sets: π = 1 (absent) or m = 0 (slab variance kept).
REMOVALS = ("pi", "m")

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


def _check_mask_and_rng(vip, rng, needs_rng: bool):
    vip = np.asarray(vip)
    if vip.dtype != bool:
        raise ValueError("vip must be a boolean mask (use vip_mask)")
    if needs_rng and not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    return vip.ravel()


def _draw(pool: np.ndarray, n: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """n sorted entries of ``pool`` drawn uniformly without replacement."""
    if n > pool.size:
        raise ValueError(
            f"cannot draw {n} connections from the {pool.size} {what}: the VIPs outnumber the "
            f"other connections; lower fraction or check the VIP thresholds"
        )
    return np.sort(rng.choice(pool, size=n, replace=False))


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
    flat = _check_mask_and_rng(vip, rng, not legacy_first_n)
    vip_indices = np.flatnonzero(flat)
    n = removal_count(vip_indices.size, fraction)
    if legacy_first_n:
        return vip_indices[:n]
    return _draw(vip_indices, n, rng, "VIPs")


def random_removal_indices(
    vip, fraction: float, rng: np.random.Generator | None = None, legacy_first_n: bool = False
) -> np.ndarray:
    """Flat indices of the "random" control: as many NON-VIP connections as the VIP removal.

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
    flat = _check_mask_and_rng(vip, rng, not legacy_first_n)
    n = removal_count(int(flat.sum()), fraction)
    if legacy_first_n:
        return np.arange(n)
    return _draw(np.flatnonzero(~flat), n, rng, "non-VIP connections")


def magnitude_removal_indices(vip, mu, fraction: float) -> np.ndarray:
    """Flat indices of the "magnitude" control: the ⌊p·n_VIP⌋ NON-VIP connections of largest
    |μ|, ties broken by the lower flat index (deterministic).

    Args:
        vip: boolean VIP mask of any shape.
        mu: mean weights μ = (1 − π) m, the shape of ``vip``.
        fraction: p in [0, 1].

    Returns:
        Int array of flat indices, in decreasing order of |μ|.

    Raises:
        ValueError: on a non-boolean mask, mismatched shapes, a bad fraction, or fewer non-VIP
            connections than the count.
    """
    flat = _check_mask_and_rng(vip, None, False)
    strength = np.abs(np.asarray(mu, dtype=float)).ravel()
    if strength.shape != flat.shape:
        raise ValueError(f"mu has {strength.size} entries, the VIP mask {flat.size}")
    n = removal_count(int(flat.sum()), fraction)
    pool = np.flatnonzero(~flat)
    if n > pool.size:
        raise ValueError(
            f"cannot take {n} connections from the {pool.size} non-VIP connections: the VIPs "
            f"outnumber the other connections; lower fraction or check the VIP thresholds"
        )
    return pool[np.argsort(-strength[pool], kind="stable")[:n]]


def uniform_removal_indices(vip, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Flat indices of the "uniform" control: ⌊p·n_VIP⌋ connections drawn uniformly without
    replacement from ALL connections, VIPs included.

    Raises:
        ValueError: on a non-boolean mask, bad fraction, or missing Generator.
    """
    flat = _check_mask_and_rng(vip, rng, True)
    n = removal_count(int(flat.sum()), fraction)
    return _draw(np.arange(flat.size), n, rng, "connections")


def removal_indices(
    kind: str,
    vip,
    mu,
    fraction: float,
    rng: np.random.Generator | None = None,
    legacy_first_n: bool = False,
) -> np.ndarray:
    """Flat indices removed by one of :data:`REMOVAL_KINDS` at fraction p (module docstring).

    Args:
        kind: "vip", "random", "magnitude" or "uniform".
        vip: boolean VIP mask; mu: mean weights of its shape (read by "magnitude" only).
        fraction: p in [0, 1].
        rng: Generator of the random kinds (one draw of ``rng.choice``; unused by "magnitude").
        legacy_first_n: the official first-n choice ("vip" and "random" only).

    Raises:
        ValueError: an unknown kind, legacy_first_n for "magnitude" or "uniform", or see the
            functions of each kind.
    """
    if kind not in REMOVAL_KINDS:
        raise ValueError(f"kind={kind!r} is unknown; choose one of {REMOVAL_KINDS}")
    if legacy_first_n and kind not in ("vip", "random"):
        raise ValueError(f"legacy_first_n applies to the 'vip' and 'random' removals, not {kind!r}")
    if kind == "vip":
        return vip_removal_indices(vip, fraction, rng, legacy_first_n)
    if kind == "random":
        return random_removal_indices(vip, fraction, rng, legacy_first_n)
    if kind == "magnitude":
        return magnitude_removal_indices(vip, mu, fraction)
    return uniform_removal_indices(vip, fraction, rng)


def remove_connections(m, pi, xi, flat_indices, removal: str = "pi"):
    """Copies of (m, π, Ξ) with the connections at ``flat_indices`` removed.

    ``removal="pi"`` sets π = 1 there (m and Ξ unchanged: with π = 1 the moments
    μ = (1 − π) m and v = (1 − π) Ξ + π (1 − π) m² vanish); ``removal="m"`` sets m = 0 (μ = 0,
    v = (1 − π) Ξ remains).

    Args:
        m, pi, xi: arrays of one shape.
        flat_indices: int indices into the row-major flattening.
        removal: "pi" or "m" (:data:`REMOVALS`).

    Returns:
        (m, pi, xi) new arrays; the inputs are not modified.

    Raises:
        ValueError: on invalid parameters, an unknown removal, or indices out of range.
    """
    if removal not in REMOVALS:
        raise ValueError(f"removal={removal!r} is unknown; choose one of {REMOVALS}")
    m, pi, xi = (a.copy() for a in _check_layer(m, pi, xi))
    given = np.asarray(flat_indices)
    if given.size and given.dtype.kind not in "iu":
        raise ValueError(
            f"flat_indices must be integer indices into the flattened layer, got dtype "
            f"{given.dtype} (a π matrix? pass np.flatnonzero(mask) of the connections to remove)."
        )
    idx = given.astype(np.intp).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= pi.size):
        raise ValueError(
            f"flat_indices must lie in [0, {pi.size}), got range [{idx.min()}, {idx.max()}]"
        )
    if removal == "pi":
        pi.reshape(-1)[idx] = 1.0
    else:
        m.reshape(-1)[idx] = 0.0
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
    kinds=("vip", "random"),
    removal: str = "pi",
) -> dict:
    """Pruned copies of one layer for the target-removal curves at one fraction (Fig. 4b).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> out = removal_sets(m_rec, pi_rec, xi_rec, 0.5, rng, kinds=REMOVAL_KINDS)
        >>> net_vip.rec.pi[...] = out["vip"][1]           # caller evaluates accuracy

    Args:
        m, pi, xi: hyper-parameters of the layer (e.g. recurrent, (N, N)).
        fraction: p in [0, 1].
        rng: Generator of the random subsets, drawn in the order of ``kinds``.
        legacy_first_n: official first-n behaviour ("vip" and "random" only).
        pi_max, xi_max, abs_m_min: VIP thresholds.
        kinds: removals among :data:`REMOVAL_KINDS`.
        removal: what removal sets, "pi" (π = 1) or "m" (m = 0).

    Returns:
        {"vip_mask": bool array, "n_vip": int, "n_removed": int, and for every kind
        "<kind>_indices": flat int array and "<kind>": (m, pi, xi) with that set removed}.

    Raises:
        ValueError: see :func:`vip_mask`, :func:`removal_indices`, :func:`remove_connections`.
    """
    mask = vip_mask(m, pi, xi, pi_max, xi_max, abs_m_min)
    mu = sas_moments(*_check_layer(m, pi, xi))[0]
    out = {"vip_mask": mask, "n_vip": int(mask.sum())}
    out["n_removed"] = removal_count(out["n_vip"], fraction)
    for kind in kinds:
        indices = removal_indices(kind, mask, mu, fraction, rng, legacy_first_n)
        out[f"{kind}_indices"] = indices
        out[kind] = remove_connections(m, pi, xi, indices, removal)
    return out
