"""The scikit-learn estimator contract, checked by scikit-learn itself (``parametrize_with_checks``)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="autolearn.nas needs PyTorch: pip install 'autolearn[nn]'")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from autolearn.nas.estimators import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

# small and fast, yet accurate enough for the checks' training-score thresholds
TINY = {"n_layers": 1, "width_1": 16}


@parametrize_with_checks([NeuralNetClassifier(TINY, space="chain", epochs=12, lr=0.01),
                          NeuralNetRegressor(TINY, space="chain", epochs=12, lr=0.01)])
def test_sklearn_contract(estimator, check):
    check(estimator)
