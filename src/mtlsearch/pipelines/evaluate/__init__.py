"""Evaluate: one combination from raw data to scores (formatting -> finetune -> scoring), one MLflow run."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
