"""Vectorised numerical kernels of the batch simulation engine."""
