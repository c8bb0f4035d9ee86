"""HPO benchmark: autolearn's optimizers against Optuna, SMAC3, Hyperopt and random search.

    python -m benchmarks.hpo.run --tasks all --optimizers all --seeds 10 --evals 100 --out benchmarks/results/hpo
    python -m benchmarks.hpo.report benchmarks/results/hpo
    python -m benchmarks.hpo.overhead --out benchmarks/results/hpo

Tasks are synthetic functions with a known optimum (:mod:`.functions`) and cheap real tuning
problems (:mod:`.real_tasks`); every optimizer is driven through one adapter interface
(:mod:`.runners`), so the loop measuring loss and optimizer overhead is the same for all of them.
"""
