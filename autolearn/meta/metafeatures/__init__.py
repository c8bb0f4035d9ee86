"""Meta-features: a dataset described by a fixed vector of numbers, for warm-starting the search.

``metafeatures(X, y)`` returns a :class:`pandas.Series` (name -> float). Names are stable: the
meta-database stores them, so a name is never reused for another definition or scale. NaN means
"not applicable" (a classification-only feature on regression, a statistic of an empty set) or,
when listed in ``series.attrs["skipped"]``, "not computed within the time limit".

Large data is subsampled (stratified for classification; at most 10,000 rows and a random 1,000
features, fewer rows for the costly groups), so values are estimates beyond that size. Each group's
module says why it is computed the way it is; ``_compute.py`` explains the time control.

Categoricals are ordinal-encoded for trees and per-feature statistics and one-hot encoded for
distance and linear models; for the models, missing numerics take the median and a missing
categorical is a category of its own. Entropies are in bits; "std" is the population std.

=============================  ==============================================================================
name                           definition
=============================  ==============================================================================
**simple**                     (always computed)
n_instances                    rows with a target
n_features                     columns of X
n_classes                      distinct labels (NaN for regression)
n_numeric                      numeric (non-bool) columns
n_categorical                  category / object / string / bool columns
categorical_ratio              n_categorical / n_features
missing_ratio                  share of missing cells
rows_with_missing_ratio        share of rows with at least one missing cell
columns_with_missing_ratio     share of columns with at least one missing cell
dimensionality                 n_features / n_instances
log_dimensionality             ln(n_features / n_instances)
outlier_ratio                  per numeric column, share of values beyond 1.5 IQR of the quartiles; mean
**statistical**
skewness_min/mean/max/std      of the per-numeric-column skewness (biased, as scipy.stats.skew)
kurtosis_min/mean/max/std      of the per-numeric-column excess kurtosis (biased)
feature_correlation_mean       mean |Pearson r| over pairs of numeric columns (pairwise complete, <= 200 cols)
sparsity                       share of zeros among present numeric values
class_ratio_min_max            rows of the rarest class / rows of the commonest (1 = balanced)
class_balance_entropy          H(C) / log2(n_classes) (1 = balanced)
class_prob_min/max/mean/std    of the class frequencies
target_skewness                skewness of the target (regression)
target_kurtosis                excess kurtosis of the target (regression)
target_correlation_mean        mean |Pearson r| of numeric columns with the target (regression)
target_correlation_max         max |Pearson r| of numeric columns with the target (regression)
**information_theoretic**      numeric columns in 10 equal-frequency bins; missing is a value
class_entropy                  H(C)
attr_entropy_mean              mean over features of H(X) (also for regression)
mutual_info_mean               mean over features of MI(C, X) = H(C) + H(X) - H(C, X)
equivalent_n_features          H(C) / mutual_info_mean (NaN when no feature carries information)
noise_signal_ratio             (attr_entropy_mean - mutual_info_mean) / mutual_info_mean
**model_based**                a fully grown decision tree on the sample (ordinal features)
tree_nodes                     nodes
tree_leaves                    leaves
tree_depth                     depth (0 for a single leaf)
tree_branch_length_min/...     min/mean/max/std of the leaf depths
tree_nodes_per_feature         tree_nodes / features in the sample
tree_leaves_per_class          tree_leaves / n_classes (classification)
tree_leaves_agreement          mean over leaves of the majority-class share (classification)
tree_importance_min/...        min/mean/max/std of the impurity-based feature importances
**complexity**                 classification only
fisher_ratio_max               F1: max over features of sum_c n_c (m_c - m)^2 / sum_c sum_{i in c} (x_i - m_c)^2
                               (+inf when a feature's classes have distinct means and no spread)
fisher_ratio_inverse           1 / (1 + fisher_ratio_max), in [0, 1], lower = easier (ECoL's form)
volume_overlap                 F2: per class pair, prod over features of range overlap / joint range;
                               mean over pairs (2,000 random pairs when there are more)
concept_variation              mean over points (<= 2,000) of the weighted share of their 10 nearest
                               neighbours with another label; weight 2^(-2 d / (sqrt(p) - d)) on [0,1]-scaled
                               features (Vilalta's concept variation, restricted to near neighbours)
data_inconsistency             share of rows whose feature vector also occurs with another label
**landmarkers**                3-fold CV on <= 5,000 rows
landmark_1nn                   balanced accuracy of 1-nearest neighbour
landmark_stump                 balanced accuracy of a depth-1 decision tree
landmark_random_tree           balanced accuracy of a random-split tree (ExtraTreeClassifier, depth 3)
landmark_lda                   balanced accuracy of linear discriminant analysis
landmark_naive_bayes           balanced accuracy of Gaussian naive Bayes
landmark_1nn_r2                R^2 of 1-nearest neighbour (regression)
landmark_stump_r2              R^2 of a depth-1 regression tree (regression)
landmark_random_tree_r2        R^2 of a random-split regression tree, depth 3 (regression)
landmark_linear_r2             R^2 of least-squares linear regression (regression)
=============================  ==============================================================================
"""

from autolearn.meta.metafeatures._compute import GROUPS, feature_names, metafeatures

__all__ = ["GROUPS", "feature_names", "metafeatures"]
