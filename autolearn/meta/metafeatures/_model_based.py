"""Model-based meta-features: the shape of a fully grown decision tree fitted on the sample.

A tree adapts its size to how tangled the classes (or how rough the target) are, so its node count,
depth and balance summarise the difficulty in a few numbers. The tree uses the ordinal, imputed
features and scikit-learn's defaults (grown until leaves are pure), as in the meta-learning
literature; its size therefore grows with the sample, which is why the sample size is fixed (only
targets with thousands of classes get fewer rows, to bound the tree's per-class node values).
Leaves per class and leaf agreement are classification-only (NaN for regression).
"""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from autolearn.meta.metafeatures._base import NAN, Deadline, Group, describe
from autolearn.meta.metafeatures._data import Dataset, Table

MAX_NODE_VALUES = 20_000_000  # nodes (~2 x rows) times classes: at most ~160 MB of node values
MIN_ROWS = 100

NAMES = (
    "tree_nodes",
    "tree_leaves",
    "tree_depth",
    "tree_branch_length_min",
    "tree_branch_length_mean",
    "tree_branch_length_max",
    "tree_branch_length_std",
    "tree_nodes_per_feature",
    "tree_leaves_per_class",
    "tree_leaves_agreement",
    "tree_importance_min",
    "tree_importance_mean",
    "tree_importance_max",
    "tree_importance_std",
)


def compute(data: Dataset, table: Table, deadline: Deadline) -> dict[str, float]:
    if table.n_features == 0:
        return dict.fromkeys(NAMES, NAN)
    if data.is_classification:  # the tree stores a value per node and class: bound its memory
        table = table.head(max(MIN_ROWS, MAX_NODE_VALUES // (2 * table.n_classes)))
    model = DecisionTreeClassifier if data.is_classification else DecisionTreeRegressor
    tree = model(random_state=data.seed).fit(table.ordinal, table.y)
    structure = tree.tree_
    depth = node_depths(structure.children_left, structure.children_right)
    leaves = structure.children_left == -1
    out = {
        "tree_nodes": float(structure.node_count),
        "tree_leaves": float(leaves.sum()),
        "tree_depth": float(depth.max()),
        **describe("tree_branch_length", depth[leaves]),
        "tree_nodes_per_feature": structure.node_count / table.n_features,
        "tree_leaves_per_class": NAN,
        "tree_leaves_agreement": NAN,
        **describe("tree_importance", tree.feature_importances_),
    }
    if data.is_classification:
        out["tree_leaves_per_class"] = leaves.sum() / table.n_classes
        value = structure.value[leaves][:, 0, :]  # per leaf: class counts or fractions
        out["tree_leaves_agreement"] = float((value.max(axis=1) / value.sum(axis=1)).mean())
    return out


def node_depths(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Depth of every node; scikit-learn numbers children after their parent, so one pass suffices."""
    depth = np.zeros(len(left), dtype=np.int64)
    for node in range(len(left)):
        if left[node] != -1:
            depth[left[node]] = depth[right[node]] = depth[node] + 1
    return depth


GROUP = Group("model_based", NAMES, compute, sample_rows=10_000, cost_exponent=1.2)
