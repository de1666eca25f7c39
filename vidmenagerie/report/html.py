"""Markup that cannot be injected into: escaped text, attributes, relative URLs and JSON blobs.

Everything from a run (file names, labels, reasons) may hold ``<``, ``&``, quotes, control
characters or undecodable bytes; every helper here makes it inert text.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

# C0/C1 control characters (tab, newline, carriage return aside) and lone surrogates from
# undecodable file names: not allowed in an HTML document, so shown as visible escapes.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class Html(str):
    """Markup that is already safe: tag helpers insert it as is instead of escaping it again."""

    __slots__ = ()


def visible(text: object) -> str:
    """``text`` with control characters and undecodable bytes written as ``\\xNN`` escapes."""
    return _UNPRINTABLE.sub(_escape, str(text))


def _escape(match: re.Match[str]) -> str:
    """``\\xNN`` for a control character or an undecodable byte (``surrogateescape``), else ``\\uNNNN``."""
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def esc(text: object) -> Html:
    """``text`` as HTML text or attribute value (quotes included)."""
    if isinstance(text, Html):
        return text
    return Html(html.escape(visible(text), quote=True))


def url(path: str | PurePath) -> str:
    """A relative path as a URL: every byte but letters, digits, ``/ . - _ ~`` percent-encoded, so
    ``#``, ``?``, ``:`` and quotes stay part of the file name (``a:b.jpg`` is never a scheme)."""
    return quote(os.fsencode(PurePath(path).as_posix()), safe="/")


def tag(element: str, /, *children: object, **attrs: object) -> Html:
    """``<element attrs>children</element>``; str children are escaped, ``Html`` inserted as is.

    Attribute names: a trailing ``_`` is dropped (``class_``) and ``_`` becomes ``-``
    (``data_sort``); ``True`` writes a bare attribute, ``None``/``False`` leave it out.
    """
    return Html(f"<{element}{attributes(attrs)}>{join(children)}</{element}>")


def void(element: str, /, **attrs: object) -> Html:
    """An element without content (``img``, ``source``, ``meta``)."""
    return Html(f"<{element}{attributes(attrs)}>")


def attributes(attrs: dict[str, object]) -> str:
    """`` key="value"`` pairs, escaped."""
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(f" {key}" if value is True else f' {key}="{esc(value)}"')
    return "".join(parts)


def join(children: Iterable[object]) -> Html:
    """Children concatenated: text escaped, markup kept, ``None`` skipped."""
    return Html("".join(esc(c) for c in children if c is not None))


def scrolling(content: Html) -> Html:
    """``content`` (a table) in a ``div.scroll`` box that scrolls sideways, so a table wider than a
    narrow window keeps every column reachable without widening the page."""
    return tag("div", content, class_="scroll")


def json_blob(element_id: str, value: Any) -> Html:
    """``<script type="application/json">``: data the page's script reads; ``<``, ``>`` and ``&``
    written as ``\\u`` escapes, so no text in it can close the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)  # only ever inside JSON strings
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Html(f'<script type="application/json" id="{esc(element_id)}">{text}</script>')
