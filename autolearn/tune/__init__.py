"""Standalone hyperparameter optimization: studies over ConfigSpace spaces, ask/tell or ``optimize``."""

from autolearn.tune.optimizers import OPTIMIZERS, Optimizer
from autolearn.tune.study import Study, Trial, create_study, load_study

__all__ = ["OPTIMIZERS", "Optimizer", "Study", "Trial", "create_study", "load_study"]
