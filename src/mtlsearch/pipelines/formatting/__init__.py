"""Formatting: instruction prompts, the training mixture of a combination, the evaluation sets."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
