"""Scoring: batched generation, response parsing and precision / recall / F1."""
