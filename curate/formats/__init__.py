"""Input formats: detection, normalisation to the canonical kinds, export, and lossless conversion.

    detect(table, file_rel) -> Detection          which format/kind a file is (per file, first batch)
    normalise(table, detection, file_rel=, raw=, index=) -> (canonical + raw, rejects)
    export(table, fmt, hints=True) -> (target table, refused)  canonical -> a format's columns (Arrow)
    to_records(table, fmt) -> (records, refused)  canonical -> JSON-ready records
    convert(inputs, to, out) -> ConvertSummary    files -> one file in another format
    recover_conflicts(reader_rejects, detection, file_rel)  re-read the readers' 'type conflict' rejects
"""

from curate.formats.detect import FORMATS, Detection, detect
from curate.formats.export import export, to_records
from curate.formats.normalise import file_key, normalise
from curate.formats.convert import ConvertSummary, convert, recover_conflicts  # noqa: E402  (binds the function)

__all__ = ["FORMATS", "Detection", "detect", "normalise", "export", "to_records", "convert", "ConvertSummary",
           "recover_conflicts", "file_key"]
