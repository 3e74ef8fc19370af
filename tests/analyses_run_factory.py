"""Tiny run directories with planted structure, written through the run handle (tests)."""

from pathlib import Path

import numpy as np

from sims.presets import resolve_config
from sims.runs import Run, build_network
from sims.tasks import task_from_config

#: Snapshot epochs of the tiny runs and the epochs at which the planted order parameters jump.
N_SNAPSHOTS = 8
XI_COLLAPSE_EPOCH = 2  # Ξ → 0 from this epoch on (continuous part breaks)
PI_DECIDE_EPOCH = 5  # π → {0, 1} from this epoch on (discrete part breaks)
#: Planted recurrent VIPs (π = 0, Ξ small, |m| large) of the tiny multisensory run.
PLANTED_VIPS = ((0, 1), (2, 3), (4, 5))


def planted_snapshots(final: dict, rng: np.random.Generator) -> list[dict]:
    """Per-epoch parameters: Ξ starts at 0.05 and collapses to its final value at
    XI_COLLAPSE_EPOCH; π starts at 0.5 and jumps to its final value at PI_DECIDE_EPOCH; m drifts
    linearly from a random start to its final value (a persistent synaptic drift)."""
    start_m = {
        k: v + 0.3 * rng.standard_normal(v.shape) for k, v in final.items() if k.endswith(".m")
    }
    snapshots = []
    for epoch in range(N_SNAPSHOTS):
        fraction = epoch / (N_SNAPSHOTS - 1)
        params = {}
        for key, value in final.items():
            if key.endswith(".m"):
                params[key] = (1 - fraction) * start_m[key] + fraction * value
            elif key.endswith(".xi"):
                params[key] = value if epoch >= XI_COLLAPSE_EPOCH else np.full_like(value, 0.05)
            else:
                params[key] = value if epoch >= PI_DECIDE_EPOCH else np.full_like(value, 0.5)
        snapshots.append(params)
    return snapshots


def write_tiny_msi_run(directory, seed: int = 0, n_rec: int = 6) -> Path:
    """A trained-looking multisensory run (n_rec units) with planted VIPs and snapshots."""
    directory = Path(directory)
    config = resolve_config(
        "multisensory", seed=seed, overrides=[f"network.n_rec={n_rec}", "evaluation.test_dt=20.0"]
    )
    task = task_from_config(config)
    rng = np.random.default_rng(seed)
    net = build_network(config, task, rng)
    rec = net.rec
    rec.pi[...] = 0.5
    rec.xi[...] = 0.0
    rec.m[...] = 0.0
    for i, j in PLANTED_VIPS:
        rec.m[i, j], rec.pi[i, j], rec.xi[i, j] = 0.8, 0.0, 0.001
    net.inp.m[...] = np.abs(net.inp.m) * 3.0
    net.inp.apply_structure()
    final = {key: value.copy() for key, value in net.parameters().items()}
    # π of the frozen MSI input layer is a 0/1 mask: keep it out of the planted π trajectory.
    run = Run.create(directory, config)
    run.write_params(final)
    for epoch, params in enumerate(planted_snapshots(final, rng)):
        run.write_snapshot(epoch, params)
    return directory
