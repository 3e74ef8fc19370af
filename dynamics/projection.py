"""Low-dimensional projections of neural and synaptic trajectories (docs/model.md §5.2, Figs. 7 and
8).

Two analyses, both a principal-component analysis done by :class:`sklearn.decomposition.PCA`:

* neural trajectories: the network states r(t) of every trial and time step are stacked as rows
  (samples × units), centred, and projected on the leading PCs (Fig. 7);
* synaptic trajectories: the per-epoch snapshots of the hyper-parameters (m, π, Ξ) of chosen
  blocks are flattened into one row per epoch and PCA'd the same way; the drift along PC1 is
  summarised by a mean velocity and a sign persistence (Fig. 8). Blocks can be rescaled to unit
  total variance first, so that no block dominates by its units, and two null models give the
  values a trajectory without directed drift would have (:func:`synaptic_null_models`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA

from ._blas import one_blas_thread

#: Cumulative explained-variance thresholds reported by default: 80% (MSI notebook) and 85% (MNIST).
VARIANCE_THRESHOLDS = (0.80, 0.85)

#: Slack on the cumulative variance when comparing with a threshold, so that a sum of ratios that is
#: mathematically equal to the threshold (e.g. exactly two PCs of a planar cloud) is not missed by
#: float round-off (ratios are sums of ~n_samples squares, accurate to ~1e-15 relative).
_CUMULATIVE_SLACK = 1e-12


def n_components_for_variance(explained_variance_ratio, threshold: float) -> int:
    """Smallest number of PCs whose cumulative explained-variance ratio reaches ``threshold``.

    n = min{k : Σ_{i<k} λ_i / Σ_i λ_i ≥ threshold}  (docs/model.md §5.2).

    Args:
        explained_variance_ratio: (K,) ratios in decreasing order (as returned by sklearn's PCA).
        threshold: target fraction in (0, 1].

    Returns:
        The number of PCs, between 1 and K.

    Raises:
        ValueError: if ``threshold`` is outside (0, 1] or the ratios are not a 1-D non-empty array.
    """
    ratios = np.asarray(explained_variance_ratio, dtype=float)
    if ratios.ndim != 1 or ratios.size == 0:
        raise ValueError("explained_variance_ratio must be a non-empty 1-D array of PC ratios")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    cumulative = np.cumsum(ratios)
    reached = np.nonzero(cumulative >= threshold - _CUMULATIVE_SLACK)[0]
    return int(reached[0]) + 1 if reached.size else int(ratios.size)


def _as_trial_arrays(states) -> tuple[list[np.ndarray], bool]:
    """Return the input as a list of float (T_k+1, B_k, N) arrays and whether it was one array."""
    single = isinstance(states, np.ndarray)
    arrays = [states] if single else list(states)
    if not arrays:
        raise ValueError("states must be an array (T+1, B, N) or a non-empty list of such arrays")
    out = []
    for k, a in enumerate(arrays):
        a = np.asarray(a, dtype=float)
        if a.ndim != 3:
            raise ValueError(
                f"states[{k}] has shape {a.shape}; expected (T+1, B, N) = (time, trials, units)"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"states[{k}] contains NaN or inf; pass finite network states")
        out.append(a)
    n_units = {a.shape[2] for a in out}
    if len(n_units) != 1:
        raise ValueError(f"all state arrays must have the same number of units, got {n_units}")
    return out, single


def _variance_summary(ratios: np.ndarray, thresholds) -> dict:
    summary = {
        "n_pcs_for_threshold": {
            float(th): n_components_for_variance(ratios, th) for th in thresholds
        },
        "variance_3_pcs": float(np.sum(ratios[:3])),
    }
    summary["n_pcs_80"] = n_components_for_variance(ratios, 0.80)
    summary["n_pcs_85"] = n_components_for_variance(ratios, 0.85)
    return summary


def neural_trajectory_pca(states, n_components: int = 3, thresholds=VARIANCE_THRESHOLDS) -> dict:
    """PCA of network states stacked over time and trials (docs/model.md §5.2, Fig. 7).

    Rows X_{(t,b),i} = r_i(t) for every time step t and trial b; X is centred column-wise
    (x̄_i = mean over all rows) and decomposed by sklearn's PCA (full SVD). The projection of trial b
    is P_b(t) = (r_b(t) - x̄) · V_kᵀ with V_k the first ``n_components`` principal axes.

    Example:
        >>> out = neural_trajectory_pca(trace.r)          # trace.r: (T+1, B, N)
        >>> out["projections"].shape                      # (T+1, B, 3)

    Args:
        states: one array (T+1, B, N) (time, trials, units), or a list of such arrays whose T and B
            may differ (e.g. trials of different lengths); N must agree.
        n_components: number of leading PCs kept for ``projections`` and ``components``.
        thresholds: cumulative-variance fractions for which the number of PCs is reported.

    Returns:
        dict with
          "projections": (T+1, B, k) array for one input array, else a list of
              (T_j+1, B_j, k) arrays (k = min(n_components, number of PCs available));
          "explained_variance_ratio": (K,) ratios of all PCs, K = min(n_samples, N);
          "components": (k, N) principal axes (rows, unit norm);
          "mean": (N,) the subtracted mean state;
          "n_pcs_80", "n_pcs_85": PCs needed for 80% / 85% of the variance;
          "n_pcs_for_threshold": {threshold: n_pcs} for ``thresholds``;
          "variance_3_pcs": variance fraction explained by the first three PCs.

    Raises:
        ValueError: on non-3-D or non-finite states, mismatched unit counts, n_components < 1.
    """
    if int(n_components) < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    arrays, single = _as_trial_arrays(states)
    n_units = arrays[0].shape[2]
    stacked = np.concatenate([a.reshape(-1, n_units) for a in arrays], axis=0)
    if stacked.shape[0] < 2:
        raise ValueError("states must hold at least two time steps × trials to define a variance")
    pca = PCA(svd_solver="full").fit(stacked)
    k = min(int(n_components), pca.components_.shape[0])
    components = pca.components_[:k]
    projections = [((a - pca.mean_) @ components.T) for a in arrays]
    result = {
        "projections": projections[0] if single else projections,
        "explained_variance_ratio": pca.explained_variance_ratio_.copy(),
        "components": components.copy(),
        "mean": pca.mean_.copy(),
    }
    result.update(_variance_summary(pca.explained_variance_ratio_, thresholds))
    return result


def flatten_parameter_snapshots(snapshots, blocks: Sequence[str] | None = None):
    """Flatten per-epoch parameter snapshots into an (epochs × parameters) matrix.

    Args:
        snapshots: one of
            * a mapping block name → array (E, ...) stacked over epochs (e.g. {"rec.m": (E, N, N)});
            * a sequence of E mappings block name → array (e.g. copies of ``net.parameters()``);
            * an array (E, P) already flattened (``blocks`` must then be None).
        blocks: names of the blocks to include, in this order; None = all blocks in sorted order.

    Returns:
        (matrix, block_slices): matrix (E, P) float, and {block: slice of its columns}.

    Raises:
        ValueError: on unknown block names, mismatched epoch counts, non-finite values, E < 2.
    """
    if isinstance(snapshots, np.ndarray):
        if blocks is not None:
            raise ValueError("blocks can only be chosen when snapshots are given per block")
        matrix = np.asarray(snapshots, dtype=float)
        if matrix.ndim != 2:
            raise ValueError(
                f"a flattened snapshot array must be (epochs, parameters), got {matrix.shape}"
            )
        slices = {"all": slice(0, matrix.shape[1])}
    else:
        if isinstance(snapshots, Mapping):
            per_block = {name: np.asarray(v, dtype=float) for name, v in snapshots.items()}
        else:
            epochs = list(snapshots)
            if not epochs:
                raise ValueError("snapshots is empty; pass at least two epochs")
            names = set(epochs[0])
            per_block = {
                name: np.stack([np.asarray(e[name], dtype=float) for e in epochs]) for name in names
            }
        chosen = sorted(per_block) if blocks is None else list(blocks)
        unknown = [b for b in chosen if b not in per_block]
        if unknown:
            raise ValueError(f"unknown blocks {unknown}; available: {sorted(per_block)}")
        if not chosen:
            raise ValueError("blocks is empty; name at least one parameter block")
        n_epochs = {per_block[b].shape[0] for b in chosen}
        if len(n_epochs) != 1:
            raise ValueError(f"the chosen blocks have different numbers of epochs: {n_epochs}")
        columns, slices, start = [], {}, 0
        for b in chosen:
            flat = per_block[b].reshape(per_block[b].shape[0], -1)
            columns.append(flat)
            slices[b] = slice(start, start + flat.shape[1])
            start += flat.shape[1]
        matrix = np.concatenate(columns, axis=1)
    if matrix.shape[0] < 2:
        raise ValueError(f"need at least two epochs for a trajectory, got {matrix.shape[0]}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("parameter snapshots contain NaN or inf")
    return matrix, slices


def drift_along_axis(coordinates) -> dict:
    """Net drift of a 1-D trajectory: mean per-epoch step and its sign persistence (docs/model.md
    §5.2).

    With c_e the coordinate at epoch e (e = 0..E-1) and steps d_e = c_{e+1} - c_e:
        velocity    = (1/(E-1)) Σ_e d_e = (c_{E-1} - c_0)/(E-1)
        persistence = (1/(E-1)) #{e : sign(d_e) = sign(c_{E-1} - c_0)}
    Persistence is 1 for a monotone drift and about ½ for a random walk.

    Args:
        coordinates: (E,) coordinate per epoch, E >= 2.

    Returns:
        {"velocity": float, "persistence": float, "net_displacement": float, "steps": (E-1,)}.

    Raises:
        ValueError: if fewer than two epochs are given.
    """
    c = np.asarray(coordinates, dtype=float)
    if c.ndim != 1 or c.size < 2:
        raise ValueError("coordinates must be a 1-D array with at least two epochs")
    steps = np.diff(c)
    net = float(c[-1] - c[0])
    persistence = float(np.mean(np.sign(steps) == np.sign(net))) if net != 0.0 else 0.0
    return {
        "velocity": net / steps.size,
        "persistence": persistence,
        "net_displacement": net,
        "steps": steps,
    }


def scale_blocks_to_unit_variance(matrix, slices) -> np.ndarray:
    """The (E, P) snapshot matrix with each block's columns divided by the block's root total
    variance over epochs, sqrt(Σ_columns Var_e), so every moving block carries the same weight
    (a block that never moves is left as it is)."""
    scaled = np.array(matrix, dtype=float)
    for columns in slices.values():
        spread = np.sqrt(np.sum(np.var(scaled[:, columns], axis=0)))
        if spread > 0.0:
            scaled[:, columns] /= spread
    return scaled


def mean_successive_cosine(matrix) -> float:
    """Mean cosine between successive updates d_e = x_{e+1} − x_e of an (E, P) trajectory:
    ⟨d_e · d_{e+1} / (|d_e| |d_{e+1}|)⟩ over pairs of non-zero steps (0 for a random walk in many
    dimensions, 1 for a straight drift). NaN with fewer than two non-zero steps."""
    steps = np.diff(np.asarray(matrix, dtype=float), axis=0)
    norms = np.linalg.norm(steps, axis=1)
    both = (norms[:-1] > 0) & (norms[1:] > 0)
    if not np.any(both):
        return float("nan")
    dots = np.sum(steps[:-1] * steps[1:], axis=1)
    return float(np.mean(dots[both] / (norms[:-1][both] * norms[1:][both])))


def _statistics_from_step_gram(step_gram) -> dict:
    """PC1 ratio, top-3 ratio, PC1 drift persistence and mean successive cosine of a trajectory
    given only the Gram matrix G = D Dᵀ of its (E − 1) updates.

    The trajectory is x_e = x_0 + Σ_{k<e} d_k, i.e. X = 1 x_0ᵀ + C D, so its centred Gram matrix
    is J C G Cᵀ J (J the centring matrix): its eigenvalues are the PCA variances and
    u₁ √λ₁ the PC1 coordinates, at O(E³) cost whatever the number of parameters.
    """
    n_steps = step_gram.shape[0]
    cumulative = np.tril(np.ones((n_steps + 1, n_steps)), k=-1)
    centred = cumulative - cumulative.mean(axis=0)
    gram = centred @ step_gram @ centred.T
    values, vectors = np.linalg.eigh(gram)
    values = np.clip(values[::-1], 0.0, None)
    coordinate = vectors[:, -1] * np.sqrt(values[0])
    norms = np.sqrt(np.diag(step_gram))
    both = (norms[:-1] > 0) & (norms[1:] > 0)
    cosines = np.diag(step_gram, k=1)[both] / (norms[:-1][both] * norms[1:][both])
    return {
        "pc1_ratio": float(values[0] / values.sum()),
        "variance_3_pcs": float(values[:3].sum() / values.sum()),
        "drift_persistence": drift_along_axis(coordinate)["persistence"],
        "mean_successive_cosine": float(np.mean(cosines)) if cosines.size else float("nan"),
    }


def synaptic_null_models(matrix, rng: np.random.Generator, n_replicates: int = 100) -> dict:
    """What a trajectory without directed drift would score, for an (E, P) snapshot matrix.

    Two nulls, each rebuilt from the trajectory's own updates d_e = x_{e+1} − x_e:

    - "random_walk": a driftless random walk with the same step sizes, x'_{e+1} = x'_e + |d_e| u_e
      with u_e uniform on the unit sphere of R^P;
    - "shuffled": the same updates in a random order (the endpoints are kept, the temporal
      structure is not).

    Every statistic depends on the updates only through their Gram matrix, so the replicates are
    drawn as Gram matrices: the shuffled one permutes D Dᵀ, and the random walk's directions have
    the Gram matrix of P-dimensional Gaussian vectors normalised to unit length, a Wishart(P, I)
    draw (scipy.stats.wishart, Bartlett's construction) when P ≥ E − 1. For each null and
    statistic (PC1 ratio, top-3 ratio, PC1 drift persistence, mean successive cosine): the mean
    and the 2.5–97.5 percentile range over ``n_replicates`` replicates.

    Args:
        matrix: (E, P) flattened snapshots (e.g. of :func:`flatten_parameter_snapshots`).
        rng: Generator of the replicates.
        n_replicates: replicates per null.

    Returns:
        {"observed": {statistic: value}, "random_walk" and "shuffled": {statistic: {"mean",
        "low", "high"}}}.

    Raises:
        ValueError: fewer than three epochs, or n_replicates < 1.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] < 3:
        raise ValueError(f"need an (E, P) trajectory with E >= 3, got shape {matrix.shape}")
    if int(n_replicates) < 1:
        raise ValueError(f"n_replicates must be >= 1, got {n_replicates}")
    steps = np.diff(matrix, axis=0)
    n_steps, n_params = steps.shape
    step_gram = steps @ steps.T
    sizes = np.sqrt(np.diag(step_gram))

    def random_walk():
        if n_params >= n_steps:
            gaussian = stats.wishart.rvs(df=n_params, scale=np.eye(n_steps), random_state=rng)
            gaussian = np.atleast_2d(gaussian)
        else:
            directions = rng.standard_normal((n_steps, n_params))
            gaussian = directions @ directions.T
        lengths = np.sqrt(np.diag(gaussian))
        return np.outer(sizes, sizes) * gaussian / np.outer(lengths, lengths)

    def shuffled():
        order = rng.permutation(n_steps)
        return step_gram[np.ix_(order, order)]

    with one_blas_thread():  # E × E products: threaded BLAS only adds contention
        out = {"observed": _statistics_from_step_gram(step_gram)}
        for name, build in (("random_walk", random_walk), ("shuffled", shuffled)):
            samples = [_statistics_from_step_gram(build()) for _ in range(int(n_replicates))]
            out[name] = {key: _spread([sample[key] for sample in samples]) for key in samples[0]}
    return out


def _spread(values) -> dict:
    """Mean and 2.5–97.5 percentile range of replicate values (NaNs ignored)."""
    values = np.asarray(values, dtype=float)
    return {
        "mean": float(np.nanmean(values)),
        "low": float(np.nanpercentile(values, 2.5)),
        "high": float(np.nanpercentile(values, 97.5)),
    }


def synaptic_trajectory_pca(
    snapshots,
    blocks: Sequence[str] | None = None,
    n_components: int = 3,
    thresholds=VARIANCE_THRESHOLDS,
    scale_blocks: bool = False,
) -> dict:
    """PCA of the hyper-parameter trajectory over training epochs and its drift along PC1 (§5.2).

    Rows are epochs, columns the flattened parameters of ``blocks``: in their own units, or with
    ``scale_blocks`` each block rescaled to unit total variance
    (:func:`scale_blocks_to_unit_variance`), so that π (learning rate 1 in the MSI preset) does not
    dominate m and Ξ by its units. PC1 is oriented so that the net displacement along it is
    non-negative; the drift statistics of :func:`drift_along_axis` are then computed on the PC1
    coordinate.

    Example:
        >>> out = synaptic_trajectory_pca({"rec.m": m_all, "rec.pi": pi_all, "rec.xi": xi_all})
        >>> out["drift_velocity"], out["drift_persistence"]

    Args:
        snapshots: per-epoch snapshots, see :func:`flatten_parameter_snapshots`.
        blocks: names of the blocks entering the PCA; None = all.
        n_components: number of leading PCs kept for ``projections``.
        thresholds: cumulative-variance fractions for which the number of PCs is reported.
        scale_blocks: rescale each block to unit total variance first.

    Returns:
        dict with
          "matrix": the (E, P) matrix that was PCA'd;
          "projections": (E, k) coordinates of each epoch on the first k PCs (PC1 oriented);
          "explained_variance_ratio": (K,) ratios, K = min(E, P);
          "components": (k, P) principal axes; "mean": (P,);
          "block_slices": {block: slice of the flattened columns};
          "pc1_coordinate": (E,); "drift_velocity": mean PC1 step per epoch (>= 0);
          "drift_persistence": fraction of epochs whose PC1 step has the sign of the net drift;
          "mean_successive_cosine": :func:`mean_successive_cosine` of the trajectory;
          "n_pcs_80", "n_pcs_85", "n_pcs_for_threshold", "variance_3_pcs" as in
          :func:`neural_trajectory_pca`.

    Raises:
        ValueError: see :func:`flatten_parameter_snapshots`; also if the trajectory does not move.
    """
    if int(n_components) < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    matrix, slices = flatten_parameter_snapshots(snapshots, blocks)
    if np.all(matrix == matrix[0]):
        raise ValueError("the parameter snapshots are identical at every epoch; nothing to project")
    if scale_blocks:
        matrix = scale_blocks_to_unit_variance(matrix, slices)
    pca = PCA(svd_solver="full").fit(matrix)
    k = min(int(n_components), pca.components_.shape[0])
    components = pca.components_[:k].copy()
    projections = (matrix - pca.mean_) @ components.T
    if projections[-1, 0] < projections[0, 0]:
        components[0] *= -1.0
        projections[:, 0] *= -1.0
    drift = drift_along_axis(projections[:, 0])
    result = {
        "matrix": matrix,
        "projections": projections,
        "explained_variance_ratio": pca.explained_variance_ratio_.copy(),
        "components": components,
        "mean": pca.mean_.copy(),
        "block_slices": slices,
        "pc1_coordinate": projections[:, 0].copy(),
        "drift_velocity": drift["velocity"],
        "drift_persistence": drift["persistence"],
        "mean_successive_cosine": mean_successive_cosine(matrix),
    }
    result.update(_variance_summary(pca.explained_variance_ratio_, thresholds))
    return result
