"""Ingestion: raw datasets in their native formats -> the canonical ``examples`` table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
