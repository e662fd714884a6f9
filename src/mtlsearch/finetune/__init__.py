"""Finetune: the base artifacts (tokenizer, base model, its pretraining) and the LoRA recipe."""
