"""Fitting few-parameter models to observed counts over an integer support (pure numpy)."""
