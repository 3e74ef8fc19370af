"""File names of a results directory: what ``sasrnn reproduce`` writes and ``figures`` reads.

A reproduce output directory OUT holds::

    OUT/summary.json            headline numbers of docs/model.md §6 (one entry per table row) +
    reductions
    OUT/figures/<name>.png/.pdf every figure of the registry in figures/__init__.py
    OUT/runs/<task>-seed<k>-<hash12>/   training run directories (layout of sims.store), the
                                        directory name carries the first 12 hex digits of the
                                        run config's sims.store.config_hash
    OUT/results/                the stored results the figures draw from (below)

``OUT/results`` (RESULTS) holds, per stage, a JSON summary and, where arrays are needed, an
``.npz`` with the same stem:

=====================  ==========================================================  =========
stem                   content                                                     figure
=====================  ==========================================================  =========
runs.json              {"pixel-mnist" | "row-mnist" | "multisensory": [run dirs]}   2, 3, 4
msi_example.npz        one training trial (x, target, mask on the 20 ms grid) and  3
                       mean-field outputs z(t) of a high and a low test trial
psychometric.json      P(high) per seed, modality and frequency; pooled curves and 3
                       cumulative-Gaussian fits (mu, sigma) per modality
vip.json / .npz        sims.analyses.vip of MSI seed 0 (+ VIP fraction per seed)   4
selectivity.json/.npz  sims.analyses.selectivity of MSI seed 0                     5
kernel_circle.json/npz analytic vs empirical RNTK entries over φ at several N      6a, A1
kernel_curves.json/npz BPTT vs RNTK learning curves on MNIST 0/1 at several N      6b
projection_mnist.*     neural PCA of the pixel-MNIST run (digits 1, 5, 9)          7a
projection_msi.*       neural PCA of MSI seed 0 (visual trials 9–16 Hz)            7b
synaptic_row.*         synaptic PCA of row-MNIST seed 0 snapshots                  8
synaptic_msi.*         synaptic PCA of MSI seed 0 snapshots                        8
symmetry_row.*         sims.analyses.symmetry of row-MNIST seed 0                  9
entropy_msi.*          Entropy I/II per iteration, mean ± std over MSI seeds       10
toy.*                  toy-model curves (mean ± std over runs)                     10
phase/<scan>/scan.json sims.scan summaries (init-dynamics probe)                   phase-*
stages.json            per stage: cache key (config hash), seconds, files
=====================  ==========================================================  =========

Run directories in runs.json are stored relative to RESULTS (``../runs/...``) so that a results
tree can be moved as a whole.
"""

from __future__ import annotations

RESULTS_DIR = "results"
FIGURES_DIR = "figures"
RUNS_DIR = "runs"
SUMMARY_FILE = "summary.json"

RUNS_INDEX = "runs.json"
STAGES_FILE = "stages.json"
MSI_EXAMPLE = "msi_example"
PSYCHOMETRIC = "psychometric"
VIP = "vip"
SELECTIVITY = "selectivity"
KERNEL_CIRCLE = "kernel_circle"
KERNEL_CURVES = "kernel_curves"
PROJECTION_MNIST = "projection_mnist"
PROJECTION_MSI = "projection_msi"
SYNAPTIC_ROW = "synaptic_row"
SYNAPTIC_MSI = "synaptic_msi"
SYMMETRY_ROW = "symmetry_row"
ENTROPY_MSI = "entropy_msi"
TOY = "toy"
PHASE_DIR = "phase"
#: The phase scans reproduce runs (sub-directories of PHASE_DIR).
PHASE_SCANS = ("tanh-quenched-g-pi", "tanh-meanfield-g-pi")
