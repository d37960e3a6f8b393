"""Input and output: discover and read data files losslessly (writers and the manifest live beside)."""

from curate.io.discover import InputFile, discover
from curate.io.readers import REJECT_SCHEMA, ReadBatch, read_file

__all__ = ["REJECT_SCHEMA", "InputFile", "ReadBatch", "discover", "read_file"]
