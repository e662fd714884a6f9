"""Ingestion: raw datasets in their native formats -> the canonical ``examples`` table (readers, splits, dataset cards)."""
