"""Render chats with a tokenizer's chat template, in jinja2's sandbox, as transformers does for training.

The environment matches transformers' ``apply_chat_template``: ``ImmutableSandboxedEnvironment`` with
``trim_blocks``/``lstrip_blocks``, the ``loopcontrols`` extension, a ``tojson`` that does not escape
HTML, ``raise_exception`` and ``strftime_now``; the template sees ``messages``, ``tools``,
``add_generation_prompt`` and the special tokens (``bos_token``, ``eos_token``, ...). A template's
``{% generation %}`` blocks are recorded as character spans of the rendered text.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

from curate.errors import TemplateError

# Private-use characters that bracket a {% generation %} block while rendering; removed afterwards.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKERS = re.compile("([\ue000\ue001])")


class _Generation(Extension):
    """``{% generation %}...{% endgeneration %}``: wrap the block's output in private markers."""

    tags = {"generation"}

    def parse(self, parser):  # type: ignore[no-untyped-def]
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_wrap"), [], [], body).set_lineno(lineno)

    def _wrap(self, caller):  # type: ignore[no-untyped-def]
        return _OPEN + caller() + _CLOSE


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(value: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False) -> str:
    # jinja's own tojson escapes <, >, & for HTML; chat templates expect plain JSON.
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=32)
def compile_template(template: str) -> jinja2.Template:
    """Compile once per template text; raise `TemplateError` when it is not valid jinja."""
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[_Generation, "jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"chat template is not valid jinja: {error} (line {error.lineno})", hint="fix the template") from error


def has_generation_markers(template: str) -> bool:
    return re.search(r"\{%-?\s*generation\s*-?%\}", template) is not None


class ChatRenderer:
    """Renders one template with a tokenizer's special tokens. ``render`` returns (text, generation spans)."""

    def __init__(self, template: str, special: dict[str, str]):
        self.template_text = template
        self.template = compile_template(template)
        self.special = dict(special)
        self.has_generation = has_generation_markers(template)

    def render(
        self, messages: list[dict], tools: list | None = None, add_generation_prompt: bool = False
    ) -> tuple[str, list[tuple[int, int]]]:
        text = self.template.render(
            messages=messages, tools=tools, documents=None, add_generation_prompt=add_generation_prompt, **self.special
        )
        if not self.has_generation or _OPEN not in text:
            return text, []
        return _strip_markers(text)


def _strip_markers(text: str) -> tuple[str, list[tuple[int, int]]]:
    spans: list[tuple[int, int]] = []
    out: list[str] = []
    length = depth = start = 0
    for part in _MARKERS.split(text):
        if part == _OPEN:
            depth += 1
            if depth == 1:
                start = length
        elif part == _CLOSE:
            depth -= 1
            if depth == 0 and length > start:
                spans.append((start, length))
        else:
            out.append(part)
            length += len(part)
    return "".join(out), spans


# ---------------------------------------------------------------------------------------------------
# Canonical messages (Arrow MESSAGE structs as Python dicts) → the dicts training passes to templates.


def _arguments(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text


def chat_message(message: dict) -> dict:
    """One canonical message as transformers receives it: null fields dropped, OpenAI tool calls,
    ``reasoning`` also under ``reasoning_content`` and ``thinking`` (the names templates read)."""
    out = {k: v for k, v in message.items() if v is not None and k not in ("extra", "tool_calls", "reasoning")}
    calls = message.get("tool_calls")
    if calls:
        out["tool_calls"] = [
            {
                **({"id": call["id"]} if call.get("id") is not None else {}),
                "type": call.get("type") or "function",
                "function": {"name": call.get("name"), "arguments": _arguments(call.get("arguments"))},
            }
            for call in calls
        ]
    reasoning = message.get("reasoning")
    if reasoning is not None:
        out = {"thinking": reasoning, **out, "reasoning": reasoning, "reasoning_content": reasoning}
    return out


def chat_messages(messages: list[dict] | None) -> list[dict]:
    return [chat_message(m) for m in messages or () if m is not None]


def parse_tools(tools: str | None) -> list | None:
    """The ``tools`` column (JSON text) as the list templates expect; None when absent or unparsable."""
    if not tools:
        return None
    try:
        value = json.loads(tools)
    except ValueError:
        return None
    return value if isinstance(value, list) and value else None
