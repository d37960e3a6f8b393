"""Deduplication stages: exact (normalised content hash) and near-duplicate (MinHash LSH)."""

from curate.stages.dedup.exact import ExactDedup
from curate.stages.dedup.minhash import MinHashConfig, MinHashDedup

__all__ = ["ExactDedup", "MinHashConfig", "MinHashDedup"]
