"""Landscape: every combination of a small pool of auxiliaries scored for a target, with the
noise of one evaluation measured under repeated seeds."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
