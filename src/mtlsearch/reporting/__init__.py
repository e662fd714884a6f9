"""Reporting: the figures and summary of a finished search."""
