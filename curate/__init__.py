"""curate: turn messy LLM fine-tuning data into verified Parquet training shards."""

__version__ = "0.1.0"
