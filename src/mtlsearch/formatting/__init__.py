"""Formatting: instruction prompts, the training mixture of a combination and its evaluation sets."""
