"""Finetune: the base artifacts (tokenizer, base model) and a LoRA adapter on the training mixture."""

from .pipeline import base_pipeline, create_pipeline

__all__ = ["base_pipeline", "create_pipeline"]
