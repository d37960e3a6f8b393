"""Deduplication stages: exact (normalised content hash) and near-duplicate (MinHash LSH)."""

from curate.stages.dedup.exact import ExactDedup

__all__ = ["ExactDedup"]
