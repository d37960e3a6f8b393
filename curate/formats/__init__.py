"""Input formats: detection, normalisation to the canonical kinds, export, and lossless conversion.

    detect(table, file_rel) -> Detection          which format/kind a file is (per file, first batch)
    normalise(table, detection, file_rel=, raw=, index=) -> (canonical + raw, rejects)
    export(table, fmt) -> (target table, refused)  canonical -> a format's columns (Arrow)
    to_records(table, fmt) -> (records, refused)   canonical -> JSON-ready records
    convert(inputs, to, out) -> ConvertSummary     files -> one file in another format
"""

from curate.formats.detect import FORMATS, Detection, detect
from curate.formats.export import export, to_records
from curate.formats.normalise import file_key, normalise

__all__ = ["FORMATS", "Detection", "detect", "normalise", "export", "to_records", "convert", "ConvertSummary",
           "file_key"]


def __getattr__(name: str):
    if name in ("convert", "ConvertSummary"):
        from curate.formats import convert as module

        return getattr(module, name)
    raise AttributeError(name)
