"""Relatedness: GradTS head-importance correlation and PVI distributions of a target and its
candidates, as a signal table for the gradts and pvi strategies."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
