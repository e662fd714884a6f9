"""Search: the surrogate-guided search over dataset combinations for a target dataset."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
