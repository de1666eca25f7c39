"""What every section has: its frame (heading, run head) and the failures with their reasons."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..header import RunInfo, run_head
from ..html import Html, join, scrolling, tag, visible
from ..lists import Blob, Card, Column, cards, table


def section(sid: str, kind: str, heading: str, info: RunInfo, *content: Html | None) -> Html:
    """``<section class="run" id=SID data-kind=KIND>``: heading, run head, content (None: left out)."""
    return tag("section", tag("h2", heading), run_head(info), join(content), class_="run", id=sid, data_kind=kind)


def failures(sid: str, failed: Sequence[tuple[str, str]]) -> Html:
    """The inputs that produced nothing, each with its reason: ``table.failures`` (id ``SID-failures``)."""
    heading = tag("h3", f"Failures ({len(failed)})", id=f"{sid}-failures-heading")
    if not failed:
        return join([heading, tag("p", "Every input was processed.", class_="none")])
    blob = Blob(f"{sid}-failures-data", [[visible(v), visible(r)] for v, r in failed])
    columns = (Column("input", 0), Column("reason", 1))
    return join([heading, table(f"{sid}-failures", blob, columns, css="failures"), blob.markup()])


def plain_table(rows: Sequence[Sequence[object]], header: Sequence[str], **attrs: object) -> Html:
    """A small static table (a few rows: no sorting, no pages)."""
    head = tag("thead", tag("tr", join(tag("th", h) for h in header)))
    body = tag("tbody", join(tag("tr", join(tag("td", c) for c in row)) for row in rows))
    return scrolling(tag("table", head, body, **attrs))


def colour_scale(table: np.ndarray, caption: str, low: str, high: str, *, stops: int = 17) -> Html:
    """``figure.colourbar``: a bar of ``table``'s colours (``[N, 3]``, low to high) with its caption
    and the meaning of its two ends, so a coloured picture on the page carries its scale."""
    picks = np.asarray(table)[np.linspace(0, len(table) - 1, stops).round().astype(int)]
    ramp = ", ".join("#{:02x}{:02x}{:02x}".format(*(int(v) for v in colour)) for colour in picks)
    return tag(
        "figure",
        tag("figcaption", caption),
        tag("div", class_="ramp", style=f"background: linear-gradient(to right, {ramp})"),
        tag("div", tag("span", low), tag("span", high), class_="ends"),
        class_="colourbar",
    )


def listing(sid: str, what: str, blob: Blob, columns: Sequence[Column], card: Card, note: str | None = None) -> Html:
    """The rows of ``blob`` twice: a sortable table (``SID-<what>``, under "<What>, sortable" and
    an optional note) and a card each (``SID-cards``, under "Pictures"); the blob written once."""
    return join([
        tag("h3", f"{what}, sortable"),
        tag("p", note, class_="note") if note else None,
        table(f"{sid}-{what.lower()}", blob, columns),
        tag("h3", "Pictures"),
        cards(f"{sid}-cards", blob, card),
        blob.markup(),
    ])  # fmt: skip
