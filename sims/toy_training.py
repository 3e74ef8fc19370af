"""Training the toy model of docs/model.md §3.6 (the sine task): one call of
:func:`dynamics.toy.train_toy`, per-epoch records in metrics.json, the initial and final synapse
parameters as snapshots (epochs 0 and ``epochs``) and as params.npz ("m", "pi", "xi").

Random streams as for every run (:func:`sims.runs.seeded_streams`): the first initialises the
synapses, the third drives the training noise.
"""

from __future__ import annotations

from dynamics.toy import toy_initial_parameters, train_toy
from sims.runs import Run, seeded_streams

__all__ = ["TOY_RECORDS", "fit_toy"]

#: The per-epoch records of :func:`dynamics.toy.train_toy` kept in metrics.json.
TOY_RECORDS = (
    "loss",
    "forward_mean",
    "forward_std",
    "gradient_mean_part",
    "gradient_variance_part",
)


def fit_toy(config: dict, task, run: Run | None = None) -> tuple[list[dict], dict, dict]:
    """Train the toy model of a resolved sine config; with ``run``, write its files.

    Returns:
        ``(history, final, params)``: per-epoch records, the final metrics and the trained
        synapse parameters {"m", "pi", "xi"}.
    """
    toy = config["toy"]
    init_rng, _, noise_rng, _ = seeded_streams(config["seed"])
    initial = toy_initial_parameters(toy["n_synapses"], init_rng)
    sequence = task.sequence()
    result = train_toy(
        sequence,
        sequence,
        **initial,
        rng=noise_rng,
        n_epochs=config["epochs"],
        alpha=toy["alpha"],
        lr_m=toy["lr_m"],
        lr_pi=toy["lr_pi"],
        lr_xi=toy["lr_xi"],
        halve_every=toy["halve_every"],
        h0=toy["h0"],
    )
    history = [
        {"epoch": e, **{k: float(result[k][e]) for k in TOY_RECORDS}}
        for e in range(config["epochs"])
    ]
    final = {
        "final_loss": float(result["final_loss"]),
        "epochs_trained": config["epochs"],
        "stopped_early": False,
    }
    params = {k: result[k] for k in ("m", "pi", "xi")}
    if run is not None:
        run.write_snapshot(0, initial)
        run.write_snapshot(config["epochs"], params)
        run.write_params(params)
        run.write_metrics({"epochs": history, "final": final})
    return history, final, params
