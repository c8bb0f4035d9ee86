"""Landmarkers: cross-validated scores of fast, simple models.

How well a 1-NN, a stump, a random shallow tree or a linear model does tells which model families
suit the data, at a fraction of a real search's cost. Scores are ``FOLDS``-fold cross-validated on a
prefix of the sample (fewer folds on tiny data): balanced accuracy for classification (so imbalance does not flatter a
majority vote), R^2 for regression. Distance-based and linear models see standardized numerics and
one-hot categoricals; trees see ordinal codes. Classification and regression landmarkers have
different names, because one name means one scale in the meta-database.

The deadline is checked before each model, so a tight budget skips the remaining ones individually.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from autolearn.meta.metafeatures._base import NAN, Deadline, Group
from autolearn.meta.metafeatures._data import Dataset, Table

FOLDS = 3
RANDOM_TREE_DEPTH = 3

# name -> (model factory taking the seed, which matrix it reads)
Landmark = tuple[Callable[[int], BaseEstimator], str]
CLASSIFICATION: dict[str, Landmark] = {
    "landmark_1nn": (lambda seed: KNeighborsClassifier(n_neighbors=1), "design"),
    "landmark_stump": (lambda seed: DecisionTreeClassifier(max_depth=1, random_state=seed), "ordinal"),
    "landmark_random_tree": (
        lambda seed: ExtraTreeClassifier(max_depth=RANDOM_TREE_DEPTH, random_state=seed),
        "ordinal",
    ),
    "landmark_lda": (lambda seed: LinearDiscriminantAnalysis(), "design"),
    "landmark_naive_bayes": (lambda seed: GaussianNB(), "design"),
}
REGRESSION: dict[str, Landmark] = {
    "landmark_1nn_r2": (lambda seed: KNeighborsRegressor(n_neighbors=1), "design"),
    "landmark_stump_r2": (lambda seed: DecisionTreeRegressor(max_depth=1, random_state=seed), "ordinal"),
    "landmark_random_tree_r2": (
        lambda seed: ExtraTreeRegressor(max_depth=RANDOM_TREE_DEPTH, random_state=seed),
        "ordinal",
    ),
    "landmark_linear_r2": (lambda seed: LinearRegression(), "design"),
}
NAMES = (*CLASSIFICATION, *REGRESSION)


def compute(data: Dataset, table: Table, deadline: Deadline) -> dict[str, float]:
    classification = data.is_classification
    mine, other = (CLASSIFICATION, REGRESSION) if classification else (REGRESSION, CLASSIFICATION)
    out = dict.fromkeys(other, NAN)
    # tiny data: fewer folds, so every class can still be split (stratification needs as many
    # members of the largest class as folds)
    n_folds = min(FOLDS, int(np.bincount(table.y).max()) if classification else table.n_rows)
    if table.n_features == 0 or n_folds < 2 or (classification and table.n_classes < 2):
        return out | dict.fromkeys(mine, NAN)
    if classification:
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=data.seed)
        scoring = "balanced_accuracy"
    else:
        folds = KFold(n_folds, shuffle=True, random_state=data.seed)
        scoring = "r2"
    for name, (make, matrix) in mine.items():
        if deadline.left() <= 0:
            continue  # left out: reported as skipped
        x = table.design if matrix == "design" else table.ordinal
        try:
            scores = cross_val_score(make(data.seed), x, table.y, cv=folds, scoring=scoring, error_score=np.nan)
        except ValueError:  # every fold failed (e.g. LDA on fewer rows than classes): not applicable
            scores = [NAN]
        out[name] = float(np.mean(scores))
    return out


GROUP = Group("landmarkers", NAMES, compute, sample_rows=5_000, cost_exponent=1.3)
