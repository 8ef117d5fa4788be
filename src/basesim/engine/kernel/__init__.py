"""Compiled (Numba) kernels of the batch engine."""
