"""Conformance checks every optimizer, runner and storage must pass, as scikit-learn's estimator checks."""
