"""Chat-template checks: fingerprint a tokenizer's template, render every row as training will, and
report what would make the fine-tune fail (see `check_dataset`, `assistant_mask`)."""

from curate.templates.check import check_dataset
from curate.templates.mask import assistant_mask, mask_encoder
from curate.templates.report import TemplateReport

__all__ = ["TemplateReport", "assistant_mask", "check_dataset", "mask_encoder"]
