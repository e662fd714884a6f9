"""Landscapes: synthetic score tables, and real ones recorded by evaluating every combination of a pool."""
