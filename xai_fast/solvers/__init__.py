"""Solvers: the efficiency-constrained weighted least squares and l1 feature selection."""
