"""Scoring: batched generation on the evaluation sets, parsing, precision / recall / F1."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
