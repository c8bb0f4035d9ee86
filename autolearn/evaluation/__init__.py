"""Resampling, metrics and fitting one configuration at one fidelity."""
