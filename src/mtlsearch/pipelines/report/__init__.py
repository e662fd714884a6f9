"""Report: the figures and the summary of a finished search (also run at the end of ``search``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
