"""The options of `curate clean`, documented once: the CLI help and the manifest both come from here."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from curate.errors import ConfigError


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A config field with its help text (read by the CLI)."""
    if callable(default) and not isinstance(default, (str, int, float, bool)):
        return field(default_factory=default, metadata={"help": help, **kwargs})
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class CleanConfig:
    to: str = option("parquet", "Shard file type: parquet or jsonl.", choices=("parquet", "jsonl"))
    format: str = option(
        "openai",
        "Record format of data/: openai (messages; TRL conversational for preference), sharegpt and "
        "alpaca (as LLaMA-Factory reads them), trl (prompt/completion; prompt/chosen/rejected).",
        choices=("openai", "sharegpt", "alpaca", "trl"),
    )
    kind: str = option(
        "auto",
        "Dataset kind: conversation, preference or text; auto takes the kind most input records have "
        "(records of another kind go to rejects).",
        choices=("auto", "conversation", "preference", "text"),
    )
    dedup: str = option("exact", "Deduplication: exact (normalised content hash), minhash (near-duplicates), off.",
                        choices=("exact", "minhash", "off"))
    dedup_scope: str = option("all", "What dedup compares: all (whole record), prompt, or response.",
                              choices=("all", "prompt", "response"))
    dedup_keep: str = option("first", "Which row of a near-duplicate cluster --dedup minhash keeps: first (input "
                             "order), longest, or quality (highest quality_score).", choices=("first", "longest", "quality"))
    threshold: float = option(0.8, "Jaccard similarity above which --dedup minhash treats rows as duplicates.")
    against: str | None = option(None, "A previous curated OUT: drop rows that near-duplicate it (minhash).")
    pii: str = option("redact", "Personal data and secrets in every text field: redact (<EMAIL>, <API_KEY>, ...), "
                      "mask, hash (salted pseudonyms), drop (the row goes to rejects), or off.",
                      choices=("redact", "mask", "hash", "drop", "off"))
    pii_salt: str | None = option(None, "Secret key of --pii hash (required with it): the same value gets the same "
                                  "pseudonym across runs. Never written to the manifest.")
    quality: str = option("off", "Quality annotations and default filter rules: default or off.",
                          choices=("default", "off"))
    lang: str = option("any", "Languages to keep, comma-separated ISO codes (en,zh); any annotates only.")
    annotate_only: bool = option(False, "Write every row with its annotations and drop nothing by quality rules.")
    keep_where: str | None = option(None, "A DuckDB predicate over annotation columns that replaces the default quality rules.")
    quality_model: str | None = option(None, "A fastText model (e.g. from `curate quality train`): adds quality_score "
                                       "and drops rows scoring below 0.5.")
    decontaminate: tuple = option(tuple, "Evaluation files: drop rows sharing a long n-gram with them (the file is "
                                         "named in the reason).")
    decontaminate_ngram: int = option(13, "Words in the n-gram --decontaminate matches.")
    tokenizer: str | None = option(None, "A local tokenizer folder: run the chat-template checks as a gate.")
    max_length: int | None = option(None, "Token limit for the template checks (truncation of answers).")
    report: bool = option(True, "Write OUT/report.html (charts of what was kept and removed).")
    workers: int = option(2, "Worker processes for the per-file work.")
    unit_mb: int | None = option(None, "Input MiB per work unit (default 64): big JSONL/Parquet files are split, "
                                 "small files grouped; changes how work is cut, never the output.")
    shard_rows: int = option(100_000, "Rows per output shard (data/ and rejects/).")
    row_group_rows: int = option(10_000, "Rows per Parquet row group.")
    executor: str = option("local", "Where the per-file work runs: local (a process pool) or ray (Ray tasks; "
                           "pip install 'curate[ray]').", choices=("local", "ray"))
    ray_address: str | None = option(None, "Address of an existing Ray cluster (default: start a local one).")

    def values(self) -> dict:
        """Every option with its real value (for stage construction and completion-record keys)."""
        return asdict(self)

    def to_json(self) -> dict:
        """For the manifest: every option, secrets shown only as given."""
        values = asdict(self)
        if values["pii_salt"] is not None:
            values["pii_salt"] = "given"
        return values


def help_of(name: str) -> str:
    for f in fields(CleanConfig):
        if f.name == name:
            return f.metadata["help"]
    raise KeyError(name)


def load_toml(path: Path) -> dict:
    """Options from a `curate.toml` ([clean] table or top level), validated against CleanConfig."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", hint="pass an existing .toml file to --config")
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}", hint="check the file's syntax")
    data = data.get("clean", data)
    known = {f.name: f for f in fields(CleanConfig)}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{path}: unknown option {key!r}", hint=f"known options: {', '.join(sorted(known))}")
        choices = known[name].metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{path}: option {key!r} is {value!r}", hint=f"choose one of {', '.join(choices)}")
    return {key.replace("-", "_"): value for key, value in data.items()}


def build(overrides: dict, config_file: Path | None = None) -> CleanConfig:
    """The file's options, then the command line's (those not left at None)."""
    values = load_toml(config_file) if config_file else {}
    values.update({k: v for k, v in overrides.items() if v is not None and v != []})
    if "decontaminate" in values:  # a tuple: configs are hashed (stage caches, completion records)
        values["decontaminate"] = tuple(str(v) for v in values["decontaminate"])
    config = CleanConfig(**values)
    for f in fields(CleanConfig):
        choices = f.metadata.get("choices")
        if choices and getattr(config, f.name) not in choices:
            raise ConfigError(f"--{f.name.replace('_', '-')} is {getattr(config, f.name)!r}",
                              hint=f"choose one of {', '.join(choices)}")
    if min(config.workers, config.shard_rows, config.row_group_rows, config.unit_mb or 1) < 1:
        raise ConfigError("--workers, --shard-rows, --row-group-rows and --unit-mb must be at least 1")
    if config.pii == "hash" and not config.pii_salt:
        raise ConfigError("--pii hash needs --pii-salt",
                          hint="pass a secret (e.g. from an environment variable) so pseudonyms are stable and "
                               "cannot be reversed by hashing guesses")
    if not 0.0 < config.threshold <= 1.0:
        raise ConfigError(f"--threshold is {config.threshold}", hint="use a Jaccard similarity in (0, 1]")
    return config

