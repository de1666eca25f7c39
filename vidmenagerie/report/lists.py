"""Long tables and card lists: the rows go into one JSON blob that the page's script renders page
by page (sorted by any column), so 10,000 rows cost their data, not their markup.

Markup the script reads (the browser tests rely on it too):
``<table class="sortable" id=ID data-rows=BLOB data-page=N>`` with ``th[data-col][data-sort]``
(``num`` or ``text``) and ``data-kind`` saying how a cell is drawn; ``<div class="cards"
data-rows=BLOB data-card=SPEC>``; the script adds ``div.pager[data-for=ID]`` before each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .html import Html, join, json_blob, scrolling, tag

PAGE = 100  # rows or cards per page

# How a cell is drawn: text; num (``digits`` significant digits); pct (a share as a percentage);
# path (a link to a file, text = the file name or column ``text``); enum (an index into the
# blob's ``enum`` list); ranked (flat [index, score, ...]: an enum name or, with ``ref``, the
# ``ref`` column of another row, each with its score).
Kind = Literal["text", "num", "pct", "path", "enum", "ranked"]


@dataclass(frozen=True)
class Column:
    """One table column: its heading, the row field it shows (``col``) and how."""

    heading: str
    col: int
    kind: Kind = "text"
    digits: int | None = None
    text: int | None = None  # path: the field shown as the link's text
    ref: int | None = None  # ranked: the field of the referenced row shown (rows, not enum)
    title: str | None = None  # a tooltip for the heading

    @property
    def sort(self) -> str:
        """``num`` for columns that sort as numbers."""
        return "num" if self.kind in ("num", "pct") else "text"

    def heading_cell(self) -> Html:
        return tag(
            "th",
            self.heading,
            data_col=self.col,
            data_sort=self.sort,
            data_kind=self.kind,
            data_digits=self.digits,
            data_text=self.text,
            data_ref=self.ref,
            title=self.title,
        )


@dataclass(frozen=True)
class Blob:
    """Rows (lists of JSON values) and the names ``enum`` cells index, under one element id."""

    id: str
    rows: Sequence[Sequence[Any]]
    enum: Sequence[str] = ()

    def markup(self) -> Html:
        return json_blob(self.id, {"rows": list(self.rows), "enum": list(self.enum)})


def table(table_id: str, blob: Blob, columns: Sequence[Column], *, css: str = "", page: int = PAGE) -> Html:
    """A sortable, paginated table of ``blob``'s rows (the blob is written once, by the caller), in a
    box that scrolls sideways."""
    head = tag("thead", tag("tr", join(c.heading_cell() for c in columns)))
    return scrolling(tag(
        "table",
        head,
        tag("tbody"),
        id=table_id,
        class_=f"sortable {css}".strip(),
        data_rows=blob.id,
        data_page=page,
        data_count=len(blob.rows),
    ))  # fmt: skip


@dataclass(frozen=True)
class Card:
    """What a card shows of a row: ``title`` field, picture, animation, numbers ``(label, field,
    digits, kind)`` (kind ``num`` or ``pct``) and a collapsed ``details`` list ``(summary, field,
    kind)`` whose field holds ``[name, value]`` pairs; ``poster``: the animation's poster frame;
    ``bars``: a ``ranked`` field (flat ``[enum index, share, ...]``) drawn as labelled bars.
    ``wide`` cards take the list's whole width,
    one per line, so a picture of many frames is shown large enough to read."""

    title: int
    img: int | None = None
    video: int | None = None
    fields: tuple[tuple[str, int, int, str], ...] = ()
    details: tuple[str, int, str] | None = None
    wide: bool = False
    poster: int | None = None
    bars: int | None = None

    def spec(self) -> str:
        return json.dumps(
            {"title": self.title, "img": self.img, "video": self.video, "fields": self.fields, "details": self.details,
             "poster": self.poster, "bars": self.bars}
        )  # fmt: skip


def cards(cards_id: str, blob: Blob, card: Card, *, page: int = PAGE) -> Html:
    """A paginated list of cards, one per row of ``blob``."""
    return tag(
        "div", id=cards_id, class_="cards wide" if card.wide else "cards", data_rows=blob.id, data_page=page,
        data_count=len(blob.rows), data_card=card.spec(),
    )  # fmt: skip


def number(value: Any, digits: int = 6) -> float | None:
    """A finite number rounded to ``digits`` significant digits (short JSON); None otherwise."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if x != x or x in (float("inf"), float("-inf")):
        return None
    return float(f"{x:.{digits}g}")
