"""Task-specific ensemble analyses of stored runs (docs/model.md §4 Figs. 4, 5, 7–10; §5.2–5.5).

One module per analysis, each a function of explicit arguments (network, task, stacked snapshots)
returning ``(summary, arrays)``: a JSON-able dict and a dict of arrays for the npz beside it.
``sasrnn analyze KIND RUN_DIR`` (:mod:`sims.commands.analyze`) runs them on a run directory.

========== =============================================== ===================================
kind       module                                          docs/model.md
========== =============================================== ===================================
vip        :mod:`sims.analyses.vip`                        Fig. 4, docs/official-code.md §1.10
selectivity :mod:`sims.analyses.selectivity`               Fig. 5
projection :mod:`sims.analyses.projection`                 §5.2, Figs. 7–8
symmetry   :mod:`sims.analyses.symmetry`                   §5.4, Fig. 9
entropy    :mod:`sims.analyses.entropy`                    §5.5, Fig. 10 (i)
plasticity :mod:`sims.analyses.plasticity`                 §5.3, Fig. 10 (ii), ε ablation
========== =============================================== ===================================

Shared plumbing (opening runs, stacking snapshots, per-batch accuracy, writing results):
:mod:`sims.analyses.common`.
"""
