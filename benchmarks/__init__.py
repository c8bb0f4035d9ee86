"""Benchmark scripts for autolearn (speed, budget, and the AutoML comparison in ``benchmarks.automl``).

A package only so that ``python -m benchmarks.automl.run`` works from the repository root.
"""
