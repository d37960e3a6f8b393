"""Presidio recognizers for the secrets Presidio lacks: cloud keys, tokens, private keys, passwords.

Imported only inside the PII stage (it imports presidio). Each recognizer is a plain
``PatternRecognizer``: Presidio runs its patterns (Python ``regex`` module, so variable-width
look-behinds keep a span to the secret itself, not its key name) and its ``validate_result`` /
``invalidate_result``. Every pattern has a Rust-regex superset in `entities.py` (the pre-filter).

Patterns are case-sensitive (token prefixes are); key names inside them use ``(?i:...)``.
A recognizer must never match its own replacement (``<TYPE>``, ``****``, ``<TYPE_pseudonym>``), or
redacting twice would change more: the validators reject masked and placeholder values.
"""

from __future__ import annotations

import base64
import json
import re as std_re

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

FLAGS = re.DOTALL | re.MULTILINE  # no IGNORECASE: token prefixes are case-sensitive
SCORE = 0.95
_PLACEHOLDER = std_re.compile(r"^<[A-Z_]+(?:_[a-z]{10})?>$")


def _is_redacted(value: str) -> bool:
    """True for a value curate itself wrote (a mask, a placeholder or a pseudonym)."""
    return set(value) <= {"*"} or bool(_PLACEHOLDER.match(value))


class SecretRecognizer(PatternRecognizer):
    """A case-sensitive pattern recognizer whose matches are secrets (score 0.95 before validation)."""

    ENTITY = ""
    PATTERNS: list[tuple[str, str]] = []
    CONTEXT: list[str] = []

    def __init__(self) -> None:
        patterns = [Pattern(name, regex, SCORE) for name, regex in self.PATTERNS]
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=patterns,
            context=self.CONTEXT or None,
            supported_language="en",
            global_regex_flags=FLAGS,
            name=type(self).__name__,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return _is_redacted(pattern_text)


class UrlCredentialsRecognizer(SecretRecognizer):
    """``user:password`` in the authority of a URL (``postgres://app:s3cret@db:5432/x``)."""

    ENTITY = "URL_CREDENTIALS"
    PATTERNS = [("userinfo", r"(?<=(?i:\b[a-z][a-z0-9+.\-]*)://)[^\s/@:]+:[^\s/@]+(?=@)")]

    def invalidate_result(self, pattern_text: str) -> bool:
        password = pattern_text.split(":", 1)[1]
        # template variables are not secrets: ${DB_PASS}, {password}, %(pw)s, $PW
        return _is_redacted(password) or password[:1] in "${%" or _is_redacted(pattern_text)


_CODE_VALUE = std_re.compile(r"^(?:[a-z_]+|none|null|true|false)$", std_re.IGNORECASE)


class PasswordRecognizer(SecretRecognizer):
    """The value of ``Password=`` / ``pwd=`` / ``DB_PASSWORD=`` in connection strings and env lines."""

    ENTITY = "PASSWORD"
    PATTERNS = [("key=value", r"(?<=(?i:password|passwd|pwd)\s*=\s*[\"']?)[^\s;'\"&,<>()\[\]{}]{3,}")]

    def invalidate_result(self, pattern_text: str) -> bool:
        # code, not a secret: password=password_field, pwd=None, PASSWORD=$PW, password=os.environ...
        has_underscore_word = bool(_CODE_VALUE.match(pattern_text)) and ("_" in pattern_text or pattern_text.lower() in ("none", "null", "true", "false", "password", "pwd", "passwd"))
        return _is_redacted(pattern_text) or pattern_text[:1] in "$%*" or has_underscore_word or "os.environ" in pattern_text


class AwsAccessKeyRecognizer(SecretRecognizer):
    ENTITY = "AWS_ACCESS_KEY"
    PATTERNS = [("access key id", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")]


class AwsSecretKeyRecognizer(SecretRecognizer):
    """40 base64 characters only right after the key's name (alone they look like any hash)."""

    ENTITY = "AWS_SECRET_KEY"
    PATTERNS = [
        (
            "named secret",
            r"(?<=(?i:aws.?secret.?(?:access.?)?key)[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        )
    ]


class GcpKeyRecognizer(SecretRecognizer):
    ENTITY = "GCP_API_KEY"
    PATTERNS = [
        ("api key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
        ("oauth client secret", r"\bGOCSPX-[0-9A-Za-z_\-]{28}(?![0-9A-Za-z_\-])"),
    ]


class AzureKeyRecognizer(SecretRecognizer):
    ENTITY = "AZURE_KEY"
    PATTERNS = [
        ("account key", r"(?<=(?i:AccountKey|SharedAccessKey)\s*=\s*)[A-Za-z0-9+/]{40,}={0,2}"),
        ("sas signature", r"(?<=(?i:sig)=)[A-Za-z0-9%+/=]{40,}"),
        ("client secret", r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])"),
    ]


class GithubTokenRecognizer(SecretRecognizer):
    ENTITY = "GITHUB_TOKEN"
    PATTERNS = [
        ("classic token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"),
        ("fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{82}\b"),
    ]


class GitlabTokenRecognizer(SecretRecognizer):
    ENTITY = "GITLAB_TOKEN"
    PATTERNS = [("token", r"\bgl(?:pat|ptt|rt|dt)-[0-9A-Za-z_\-]{20,}(?![0-9A-Za-z_\-])")]


class SlackTokenRecognizer(SecretRecognizer):
    ENTITY = "SLACK_TOKEN"
    PATTERNS = [
        ("token", r"\bxox[abposr]-[0-9A-Za-z\-]{10,}"),
        ("webhook", r"\bhooks\.slack\.com/services/[A-Za-z0-9_/]{20,}"),
    ]


class ApiKeyRecognizer(SecretRecognizer):
    """``sk-…`` keys (OpenAI, Anthropic, DeepSeek, …), Stripe ``sk_``/``rk_`` keys, ``hf_`` tokens."""

    ENTITY = "API_KEY"
    PATTERNS = [
        ("sk key", r"(?<![\w\-])(?:sk|rk)[\-_][A-Za-z0-9_\-]{20,}"),
        ("hugging face token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ]

    def validate_result(self, pattern_text: str) -> bool:
        # a key has one long random segment; hyphenated prose ("sk-learn-compatible-…") does not
        if pattern_text.startswith("hf_"):
            body = pattern_text[3:]
            return body != body.lower() and body != body.upper()
        segments = std_re.split(r"[\-_]", pattern_text)
        return any(len(s) >= 16 and std_re.search(r"\d", s) and std_re.search(r"[A-Za-z]", s) for s in segments)


class JwtRecognizer(SecretRecognizer):
    ENTITY = "JWT"
    PATTERNS = [("jwt", r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*")]

    def validate_result(self, pattern_text: str) -> bool:
        header = pattern_text.split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except ValueError:
            return False
        return isinstance(decoded, dict)


class PrivateKeyRecognizer(SecretRecognizer):
    """A PEM private key block, with real or JSON-escaped (``\\n``) newlines; a truncated block too."""

    ENTITY = "PRIVATE_KEY"
    _HEAD = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    PATTERNS = [
        (
            "pem block",
            _HEAD + r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:(?:\s|\\n)*[A-Za-z0-9+/=]{16,})*)",
        )
    ]


ALL: tuple[type[SecretRecognizer], ...] = (
    UrlCredentialsRecognizer,
    PasswordRecognizer,
    AwsAccessKeyRecognizer,
    AwsSecretKeyRecognizer,
    GcpKeyRecognizer,
    AzureKeyRecognizer,
    GithubTokenRecognizer,
    GitlabTokenRecognizer,
    SlackTokenRecognizer,
    ApiKeyRecognizer,
    JwtRecognizer,
    PrivateKeyRecognizer,
)
