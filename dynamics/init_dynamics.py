"""Dynamics of untrained SaS networks: largest Lyapunov exponents and activity order parameters.

Two kinds of network are drawn from one SaS ensemble (docs/model.md §1.2, §1.3), without input and
bias:

* a **sampled (quenched) network** — one weight draw ``w = N(m, sqrt(Xi)) * 1[U > pi]`` kept for
  the whole run::

      h(t+1) = (1 - alpha) h(t) + alpha * w @ f(h(t))

* the **mean-field network** — the ensemble's local-reparameterisation dynamics with a fresh
  standard normal ``eps(t)`` per unit and step::

      h(t+1) = (1 - alpha) h(t) + alpha * (mu @ r(t) + eps(t) * sqrt(var @ r(t)**2)),  r = f(h)

  A perturbed copy sees the *same* noise realisation, so its Lyapunov exponent measures the
  divergence of two trajectories driven by common noise.

The largest Lyapunov exponent comes from the QR (Benettin–Shimada–Nagashima) method: ``k`` tangent
vectors are propagated with the exact per-step Jacobian

    J(t) = (1 - alpha) I + alpha * [ mu diag(f'(h)) + diag(eps / Delta) var diag(r f'(h)) ]

(``mu -> w`` and no second term for the sampled network; the fluctuation term is dropped where
``Delta = 0``, the convention of docs/model.md §1.3) and re-orthonormalised by a QR decomposition
every
step; the exponents are the time averages of ``log |R_ii|``. :func:`perturbation_growth_exponent`
measures the same number without any Jacobian, from two nonlinear trajectories.

ReLU networks without input are positively homogeneous (``F(c h) = c F(h)`` for ``c > 0``), so the
state is rescaled whenever its root-mean-square leaves ``[1e-50, 1e50]`` and the scale is kept in
the log domain: exploding and decaying ReLU networks are measured without overflow, and the tangent
dynamics, which depend only on the sign pattern of ``h``, are unchanged.

Time loops are compiled with numba and call BLAS (``np.dot``) for the ``N x N`` products; run them
under ``threadpoolctl.threadpool_limits(1)`` when several run in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ._kernels import ACTIVATIONS, RELU, TANH
from .layer import check_pi_xi

#: Phase labels (and their numeric codes, used as a scan metric).
PHASES = ("decay", "saturation", "explosion")

#: The state counts as decayed (exploded) when its final r.m.s. pre-activation is below (above)
#: this value, or when its log-r.m.s. falls (rises) faster than NORM_GROWTH_TOLERANCE per step.
DECAY_RMS = 1e-6
EXPLOSION_RMS = 1e6
#: Slope of log rms(h) per step taken as clearly non-zero: in a saturated chaotic tanh network of
#: N >= 100 units, log rms(h) fluctuates by about 0.1, so over >= 100 steps its fitted slope stays
#: below 1e-3 in size.
NORM_GROWTH_TOLERANCE = 2e-3

_RESCALE_HIGH = 1e50
_RESCALE_LOW = 1e-50


@dataclass(frozen=True)
class DynamicsMeasurement:
    """What one run of an untrained network measures (all rates are per time step).

    Attributes:
        exponents: (k,) the k largest Lyapunov exponents, descending, per step (natural log).
        mean_rate: time average of the population mean rate ``<r_i(t)>_i`` (signed; NaN if the
            network explodes).
        abs_mean_rate: time average of ``|<r_i(t)>_i|`` (NaN if the network explodes).
        variance: time average of the population variance ``<r_i(t)^2>_i - <r_i(t)>_i^2`` (NaN if
            the network explodes).
        rms_rate: time average of ``sqrt(<r_i(t)^2>_i)`` (NaN if the network explodes).
        norm_growth: least-squares slope of ``log rms_i h_i(t)`` against t over the measured steps.
        phase: "decay", "saturation" or "explosion" (see DECAY_RMS, EXPLOSION_RMS,
            NORM_GROWTH_TOLERANCE).
        log_rms_trace: (steps,) ``log rms_i h_i(t)`` (true scale, also for rescaled ReLU runs).
        mean_rate_trace: (steps,) population mean rate, divided by the rescaling factor
            ``exp(log_scale)`` for ReLU runs (equal to the true one unless the state was rescaled).
    """

    exponents: np.ndarray
    mean_rate: float
    abs_mean_rate: float
    variance: float
    rms_rate: float
    norm_growth: float
    phase: str
    log_rms_trace: np.ndarray
    mean_rate_trace: np.ndarray

    @property
    def lyapunov(self) -> float:
        """The largest Lyapunov exponent (per step)."""
        return float(self.exponents[0])

    @property
    def phase_code(self) -> int:
        """0 decay, 1 saturation, 2 explosion."""
        return PHASES.index(self.phase)


def draw_sas_ensemble(
    n: int, *, g: float, J0: float, pi: float, xi: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the hyper-parameters of an untrained recurrent SaS layer.

        m_ij ~ N(J0 / N, g^2 / N),   Xi_ij = xi / N,   pi_ij = pi

    Args:
        n: number of units N (>= 1).
        g, J0: spread and mean of the slab means, in units of 1/sqrt(N) and 1/N.
        pi: spike (absent-connection) probability in [0, 1].
        xi: slab variance times N (>= 0).
        rng: the Generator that draws m.

    Returns:
        (m, pi, xi) arrays of shape (n, n) (n_post, n_pre).

    Raises:
        ValueError: n < 1, g < 0, pi outside [0, 1] or xi < 0.
    """
    _check_ensemble(n, g, J0, pi, xi)
    m = rng.normal(J0 / n, g / np.sqrt(n), size=(n, n))
    return m, np.full((n, n), float(pi)), np.full((n, n), xi / n)


def sample_weights(
    m: np.ndarray, pi: np.ndarray, xi: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw one network from the SaS ensemble, as the official code does (docs/model.md §1.2).

        w_ij = (m_ij + sqrt(Xi_ij) z_ij) * 1[U_ij > pi_ij],   z ~ N(0, 1), U ~ U(0, 1)

    Args:
        m, pi, xi: (n_post, n_pre) slab means, spike probabilities, slab variances.
        rng: the Generator that draws z, then U.

    Returns:
        (n_post, n_pre) weights.

    Raises:
        ValueError: shapes differ, pi outside [0, 1] or xi < 0.
    """
    m, pi, xi = (np.asarray(a, dtype=np.float64) for a in (m, pi, xi))
    if not (m.shape == pi.shape == xi.shape):
        raise ValueError(f"m, pi, xi must have one shape; got {m.shape}, {pi.shape}, {xi.shape}")
    check_pi_xi(pi, xi)
    slab = rng.normal(m, np.sqrt(xi))
    present = rng.uniform(size=m.shape) > pi
    return slab * present


def lyapunov_quenched(
    w: np.ndarray,
    h0: np.ndarray,
    *,
    activation: str,
    alpha: float,
    steps: int,
    transient: int = 0,
    n_exponents: int = 1,
    tangent0: np.ndarray | None = None,
) -> DynamicsMeasurement:
    """Lyapunov exponents and activity of a sampled network ``h <- (1-a) h + a w f(h)``.

    QR method with the Jacobian ``(1 - alpha) I + alpha w diag(f'(h))``; see the module docstring.

    Args:
        w: (N, N) weights (n_post, n_pre).
        h0: (N,) initial pre-activations.
        activation: "tanh" or "relu".
        alpha: leak in (0, 1].
        steps: measured steps (>= 1), after ``transient`` unmeasured ones.
        transient: steps run first and discarded (tangent vectors are still aligned during them).
        n_exponents: number k of exponents (1 <= k <= N).
        tangent0: (N, k) initial tangent vectors; default :func:`default_tangent_vectors`.

    Returns:
        DynamicsMeasurement.

    Raises:
        ValueError: bad shapes, non-finite values, unknown activation, alpha outside (0, 1].
    """
    w = _as_matrix(w, "w")
    n = w.shape[0]
    h0, tangent0, kind = _check_run(
        n, h0, activation, alpha, steps, transient, n_exponents, tangent0
    )
    outputs = _lyapunov_kernel(
        w,
        np.zeros((0, 0)),
        np.zeros((0, 0)),
        h0,
        tangent0,
        float(alpha),
        kind,
        int(transient),
        int(steps),
    )
    return _measurement(*outputs)


def lyapunov_mean_field(
    mu: np.ndarray,
    var: np.ndarray,
    h0: np.ndarray,
    eps: np.ndarray,
    *,
    activation: str,
    alpha: float,
    transient: int = 0,
    n_exponents: int = 1,
    tangent0: np.ndarray | None = None,
) -> DynamicsMeasurement:
    """Lyapunov exponents and activity of the mean-field network (docs/model.md §1.3, no input).

        h <- (1 - alpha) h + alpha (mu r + eps(t) sqrt(var r^2)),   r = f(h)

    The perturbed trajectories (tangent vectors) see the same noise ``eps``.

    Args:
        mu, var: (N, N) weight means (1-pi) m and variances (1-pi) Xi + pi (1-pi) m^2.
        h0: (N,) initial pre-activations.
        eps: (transient + steps, N) standard normals, one row per step.
        activation: "tanh" or "relu".
        alpha: leak in (0, 1].
        transient: leading rows of eps run and discarded.
        n_exponents: number k of exponents.
        tangent0: (N, k) initial tangent vectors; default :func:`default_tangent_vectors`.

    Returns:
        DynamicsMeasurement (steps = len(eps) - transient).

    Raises:
        ValueError: bad shapes, var < 0, non-finite values, unknown activation, bad alpha.
    """
    mu = _as_matrix(mu, "mu")
    var = _as_matrix(var, "var")
    n = mu.shape[0]
    if var.shape != mu.shape:
        raise ValueError(f"var must have mu's shape {mu.shape}; got {var.shape}")
    if np.any(var < 0):
        raise ValueError("var must be >= 0 (it is a per-weight variance)")
    eps = np.ascontiguousarray(eps, dtype=np.float64)
    if eps.ndim != 2 or eps.shape[1] != n or eps.shape[0] <= transient:
        raise ValueError(
            f"eps must have shape (transient + steps, N) = (>{transient}, {n}); got {eps.shape}"
        )
    steps = eps.shape[0] - transient
    h0, tangent0, kind = _check_run(
        n, h0, activation, alpha, steps, transient, n_exponents, tangent0
    )
    outputs = _lyapunov_kernel(
        mu, var, eps, h0, tangent0, float(alpha), kind, int(transient), int(steps)
    )
    return _measurement(*outputs)


def perturbation_growth_exponent(
    h0: np.ndarray,
    perturbation0: np.ndarray,
    *,
    activation: str,
    alpha: float,
    steps: int,
    transient: int = 0,
    w: np.ndarray | None = None,
    mu: np.ndarray | None = None,
    var: np.ndarray | None = None,
    eps: np.ndarray | None = None,
) -> float:
    """Largest Lyapunov exponent from the direct growth of a small perturbation (no Jacobian).

    Two trajectories ``h`` and ``h + d`` of the full nonlinear map (same noise for the mean-field
    network) are run; after every measured step the separation is rescaled back to its initial
    size ``|d0|`` and ``log(|d(t)| / |d0|)`` is averaged (Benettin's two-trajectory method).

    Pass ``w`` for a sampled network, or ``mu``, ``var`` and ``eps`` ((transient + steps, N)) for
    the mean-field network.

    Args:
        h0: (N,) initial state.
        perturbation0: (N,) initial separation; its norm sets the (small) scale, e.g. 1e-8.
        activation, alpha, steps, transient: as in :func:`lyapunov_quenched`.
        w | (mu, var, eps): the network.

    Returns:
        The exponent per step.

    Raises:
        ValueError: neither or both kinds of network given, bad shapes, zero perturbation.
    """
    if (w is None) == (mu is None):
        raise ValueError("pass either w (sampled network) or mu, var, eps (mean-field network)")
    if w is not None:
        matrix = _as_matrix(w, "w")
        var_matrix = np.zeros((0, 0))
        noise = np.zeros((0, 0))
    else:
        if var is None or eps is None:
            raise ValueError("the mean-field network needs mu, var and eps")
        matrix = _as_matrix(mu, "mu")
        var_matrix = _as_matrix(var, "var")
        noise = np.ascontiguousarray(eps, dtype=np.float64)
        if noise.shape != (transient + steps, matrix.shape[0]):
            raise ValueError(f"eps must have shape (transient + steps, N); got {noise.shape}")
    n = matrix.shape[0]
    h0, _, kind = _check_run(n, h0, activation, alpha, steps, transient, 1, None)
    d0 = np.ascontiguousarray(perturbation0, dtype=np.float64)
    if d0.shape != (n,) or not np.all(np.isfinite(d0)) or not np.any(d0):
        raise ValueError(f"perturbation0 must be a finite non-zero ({n},) vector")
    return float(
        _benettin_kernel(
            matrix, var_matrix, noise, h0, d0, float(alpha), kind, int(transient), int(steps)
        )
    )


def default_tangent_vectors(n: int, k: int) -> np.ndarray:
    """Fixed generic orthonormal start for k tangent vectors in R^n, shape (n, k).

    A deterministic (seed-0) Gaussian matrix, orthonormalised: generic with respect to any network
    (a unit vector e_1 is not: it dies at once if unit 1 is a silent ReLU unit at alpha = 1).
    """
    start = np.random.default_rng(0).standard_normal((n, k))
    return np.ascontiguousarray(np.linalg.qr(start)[0])


# ----------------------------------------------------------------------------------------------
# validation and packaging


def _check_ensemble(n, g, J0, pi, xi):
    if int(n) != n or n < 1:
        raise ValueError(f"N must be a positive integer; got {n}")
    for name, value in (("g", g), ("J0", J0), ("pi", pi), ("xi", xi)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite; got {value}")
    if g < 0:
        raise ValueError(f"g must be >= 0; got {g}")
    if not 0.0 <= pi <= 1.0:
        raise ValueError(f"pi must lie in [0, 1]; got {pi}")
    if xi < 0:
        raise ValueError(f"xi must be >= 0; got {xi}")


def _as_matrix(a, name):
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"{name} must be a square (N, N) array; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _check_run(n, h0, activation, alpha, steps, transient, n_exponents, tangent0):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1]; got {alpha}")
    if steps < 1 or transient < 0:
        raise ValueError(f"need steps >= 1 and transient >= 0; got {steps}, {transient}")
    if not 1 <= n_exponents <= n:
        raise ValueError(f"n_exponents must lie in [1, N={n}]; got {n_exponents}")
    h0 = np.ascontiguousarray(h0, dtype=np.float64)
    if h0.shape != (n,) or not np.all(np.isfinite(h0)):
        raise ValueError(f"h0 must be a finite ({n},) vector; got shape {h0.shape}")
    if tangent0 is None:
        tangent0 = default_tangent_vectors(n, n_exponents)
    tangent0 = np.ascontiguousarray(tangent0, dtype=np.float64)
    if tangent0.shape != (n, n_exponents) or not np.all(np.isfinite(tangent0)):
        raise ValueError(f"tangent0 must be a finite ({n}, {n_exponents}) array")
    return h0, tangent0, ACTIVATIONS.index(activation)


def _measurement(exponents, log_rms, mean_trace, abs_mean, mean_sq, var_mean):
    steps = log_rms.size
    times = np.arange(steps, dtype=np.float64)
    finite = np.isfinite(log_rms)
    if finite.sum() >= 2 and np.ptp(times[finite]) > 0:
        slope = float(
            np.polynomial.polynomial.Polynomial.fit(times[finite], log_rms[finite], 1)
            .convert()
            .coef[-1]
        )
    else:
        slope = -np.inf
    final = log_rms[-1]
    if final > np.log(EXPLOSION_RMS) or (slope > NORM_GROWTH_TOLERANCE and final > 0):
        phase = "explosion"
    elif final < np.log(DECAY_RMS) or slope < -NORM_GROWTH_TOLERANCE:
        phase = "decay"
    else:
        phase = "saturation"
    if phase == "explosion":
        mean_rate = abs_mean_rate = variance = rms_rate = np.nan
    else:
        mean_rate = float(np.mean(mean_trace))
        abs_mean_rate = float(abs_mean)
        variance = float(var_mean)
        rms_rate = float(mean_sq)
    return DynamicsMeasurement(
        exponents=np.sort(exponents)[::-1].copy(),
        mean_rate=mean_rate,
        abs_mean_rate=abs_mean_rate,
        variance=variance,
        rms_rate=rms_rate,
        norm_growth=slope,
        phase=phase,
        log_rms_trace=log_rms,
        mean_rate_trace=mean_trace,
    )


# ----------------------------------------------------------------------------------------------
# compiled kernels


@numba.njit(cache=True)
def _rates(h, kind, r, slope):
    for i in range(h.size):
        if kind == TANH:
            t = np.tanh(h[i])
            r[i] = t
            slope[i] = 1.0 - t * t
        elif h[i] > 0.0:
            r[i] = h[i]
            slope[i] = 1.0
        else:
            r[i] = 0.0
            slope[i] = 0.0


@numba.njit(cache=True)
def _drive(matrix, var, eps_row, r, out):
    """out = matrix @ r (+ eps * sqrt(var @ r^2)); returns Delta (empty for a sampled network)."""
    out[:] = np.dot(matrix, r)
    if var.shape[0] == 0:
        return np.zeros(0)
    delta = np.sqrt(np.dot(var, r * r))
    for i in range(out.size):
        out[i] += eps_row[i] * delta[i]
    return delta


@numba.njit(cache=True)
def _lyapunov_kernel(matrix, var, eps, h0, tangent0, alpha, kind, transient, steps):
    n = h0.size
    k = tangent0.shape[1]
    leak = 1.0 - alpha
    mean_field = var.shape[0] > 0
    h = h0.copy()
    q = tangent0.copy()
    r = np.empty(n)
    slope = np.empty(n)
    u = np.empty(n)
    fq = np.empty((n, k))
    log_growth = np.zeros(k)
    log_scale = 0.0
    log_rms = np.empty(steps)
    mean_trace = np.empty(steps)
    abs_mean = 0.0
    rms_sum = 0.0
    var_sum = 0.0
    empty_row = np.zeros(0)
    for t in range(transient + steps):
        _rates(h, kind, r, slope)
        for i in range(n):
            for c in range(k):
                fq[i, c] = slope[i] * q[i, c]
        jq = np.dot(matrix, fq)
        if mean_field:
            delta = _drive(matrix, var, eps[t], r, u)
            rfq = np.empty((n, k))
            for i in range(n):
                for c in range(k):
                    rfq[i, c] = r[i] * fq[i, c]
            vq = np.dot(var, rfq)
            for i in range(n):
                if delta[i] > 0.0:
                    coefficient = eps[t, i] / delta[i]
                    for c in range(k):
                        jq[i, c] += coefficient * vq[i, c]
        else:
            _drive(matrix, var, empty_row, r, u)
        for i in range(n):
            h[i] = leak * h[i] + alpha * u[i]
            for c in range(k):
                q[i, c] = leak * q[i, c] + alpha * jq[i, c]
        # re-orthonormalise the tangent vectors (QR); accumulate log|R_ii| once measuring
        if k == 1:
            norm = np.sqrt(np.sum(q[:, 0] ** 2))
            if t >= transient:
                log_growth[0] += np.log(norm)
            if norm > 0.0:
                q[:, 0] /= norm
        else:
            qq, rr = np.linalg.qr(q)
            for c in range(k):
                if t >= transient:
                    log_growth[c] += np.log(np.abs(rr[c, c]))
            q = np.ascontiguousarray(qq)
        rms = np.sqrt(np.mean(h * h))
        if kind == RELU and rms > 0.0 and (rms > _RESCALE_HIGH or rms < _RESCALE_LOW):
            h /= rms
            log_scale += np.log(rms)
            rms = 1.0
        if t >= transient:
            s = t - transient
            _rates(h, kind, r, slope)
            scale = np.exp(log_scale)
            mean_r = np.mean(r)
            mean_sq = np.mean(r * r)
            log_rms[s] = np.log(rms) + log_scale
            mean_trace[s] = mean_r * scale
            abs_mean += abs(mean_r) * scale
            rms_sum += np.sqrt(mean_sq) * scale
            var_sum += max(mean_sq - mean_r * mean_r, 0.0) * scale * scale
    return (
        log_growth / steps,
        log_rms,
        mean_trace,
        abs_mean / steps,
        rms_sum / steps,
        var_sum / steps,
    )


@numba.njit(cache=True)
def _benettin_kernel(matrix, var, eps, h0, d0, alpha, kind, transient, steps):
    n = h0.size
    leak = 1.0 - alpha
    size0 = np.sqrt(np.sum(d0 * d0))
    a = h0.copy()
    b = h0 + d0
    r = np.empty(n)
    slope = np.empty(n)
    ua = np.empty(n)
    ub = np.empty(n)
    empty_row = np.zeros(0)
    total = 0.0
    for t in range(transient + steps):
        row = eps[t] if var.shape[0] > 0 else empty_row
        _rates(a, kind, r, slope)
        _drive(matrix, var, row, r, ua)
        _rates(b, kind, r, slope)
        _drive(matrix, var, row, r, ub)
        a = leak * a + alpha * ua
        b = leak * b + alpha * ub
        d = b - a
        size = np.sqrt(np.sum(d * d))
        if t >= transient:
            total += np.log(size / size0)
        b = a + d * (size0 / size)
    return total / steps
