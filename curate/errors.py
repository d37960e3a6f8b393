"""The exception tree. Every message names what is wrong (file, row, field) and ends with a hint.

The CLI maps `UsageError`/`InputError`/`ConfigError` to exit code 2 and `CheckFailed` to exit code 1.
"""

from __future__ import annotations


class CurateError(Exception):
    """Base of every error curate raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.hint = hint
        super().__init__(f"{message} (hint: {hint})" if hint else message)


class UsageError(CurateError):
    """The command line or the API was called with options that do not fit together."""


class InputError(CurateError):
    """An input path cannot be read at all (missing, unreadable, not a dataset)."""


class ConfigError(CurateError):
    """A configuration file or value is invalid."""


class SchemaError(CurateError):
    """A record or a dataset does not have the shape its format requires."""


class TemplateError(CurateError):
    """A chat template cannot be loaded or rendered."""


class MissingDependency(CurateError):
    """An optional dependency is not installed; the message gives the install command."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"this feature needs the optional package {package!r}",
            hint=f"pip install 'curate[{extra}]'",
        )


class CheckFailed(CurateError):
    """The data failed a check (verify, contracts, template check). Exit code 1."""

    exit_code = 1
