"""The page around the sections: document head, inline CSS, the script, and the page title."""

from __future__ import annotations

from collections.abc import Sequence

from .html import Html, join, tag, void
from .script import SCRIPT
from .svg import PALETTE

GENERATOR = "vidmenagerie"
# How every page we write starts its head, so a page vidm did not write is never replaced.
GENERATOR_MARK = f'<meta name="generator" content="{GENERATOR}">'.encode()

CSS = """
:root { --ink: #1d232b; --muted: #5d6875; --line: #d6dbe1; --soft: #f3f5f8; --accent: #2f62c0; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 1rem 1.5rem 4rem; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; overflow-wrap: break-word; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
a { color: var(--accent); } .muted, .note { color: var(--muted); } .note { max-width: 70em; }
section.run { border-top: 3px solid var(--line); margin-top: 2rem; }
details.settings summary { cursor: pointer; color: var(--accent); } p.keys { margin: .25rem 0; }
p.when span.part { white-space: nowrap; }
.run-head { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(320px, 100%), 1fr)); gap: .5rem 2rem; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.num, td.num, th.num, ol.ranked .score { white-space: nowrap; }
table.sortable th { white-space: nowrap; cursor: pointer; user-select: none; background: var(--soft); }
table.sortable th::after { content: " \\2195"; color: var(--muted); }
table.sortable th[aria-sort=ascending]::after { content: " \\2191"; color: var(--ink); }
table.sortable th[aria-sort=descending]::after { content: " \\2193"; color: var(--ink); }
table.kv th { font-weight: normal; color: var(--muted); }
td { overflow-wrap: break-word; max-width: 40em; }
table.kv td { overflow-wrap: anywhere; }
ol.ranked { margin: 0; padding-left: 1.6em; } ol.ranked li { white-space: nowrap; }
.pager { margin: .5rem 0; display: flex; gap: .75rem; align-items: center; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 1rem; }
.card { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; background: #fff; }
.card img, .card video { width: 100%; height: auto; display: block; margin-bottom: .35rem; background: var(--soft); }
.card img { min-height: 60px; }
.card video { object-fit: contain; }
.cards.wide { grid-template-columns: minmax(0, 1fr); }
.cards.wide .card img { max-height: 90vh; object-fit: contain; object-position: left top; background: none; }
.cards.wide .card video { width: min(100%, 960px); }
.card figcaption { font-weight: 600; overflow-wrap: anywhere; }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: 0 .75rem; margin: .35rem 0; }
.card dt { color: var(--muted); } .card dd { margin: 0; text-align: left; }
.card ol.bars { list-style: none; margin: .35rem 0 0; padding: 0; }
.card ol.bars li { display: grid; grid-template-columns: minmax(0, 9em) minmax(3em, 1fr) auto; gap: .5rem;
  align-items: center; }
.card ol.bars .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card ol.bars .track { height: .8em; background: var(--soft); }
.card ol.bars .track i { display: block; height: 100%; background: var(--accent); }
.card ol.bars .num { text-align: right; font-variant-numeric: tabular-nums; }
table.failures td:last-child, .bad { color: var(--bad); }
figure.colourbar { margin: .5rem 0 1rem; max-width: 24rem; }
figure.colourbar figcaption { color: var(--muted); }
figure.colourbar .ramp { height: 14px; border: 1px solid var(--ink); margin: .2rem 0; }
figure.colourbar .ends { display: flex; justify-content: space-between; color: var(--muted); }
img.confusion { max-width: 100%; height: auto; border: 1px solid var(--line); }
svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg.map { border: 1px solid var(--line); background: #fff; }
svg.map circle { fill: #888; fill-opacity: .8; }
svg.map rect.frame { fill: none; stroke: var(--line); } svg.map line.grid { stroke: var(--soft); }
svg.map text { fill: var(--muted); } svg.map text.axis { fill: var(--ink); font-size: 13px; }
.scroll > svg.map { min-width: 560px; }
svg.map circle:hover, svg.map circle.hot { stroke: #000; stroke-width: 1.5; fill-opacity: 1; }
svg.map circle.hot { r: 6px; }
.scroll > svg.bars { min-width: 560px; }
svg.chart { border: 1px solid var(--line); background: #fff; }
svg.chart rect.frame { fill: none; stroke: var(--line); } svg.chart line.grid { stroke: var(--soft); }
svg.chart text { fill: var(--muted); } svg.chart text.axis { fill: var(--ink); font-size: 13px; }
svg.chart circle.point:hover { stroke: #000; stroke-width: 1.5; }
.scroll > svg.chart { min-width: 560px; }
svg.bars rect.bar { fill: var(--accent); } svg.bars rect.back { fill: var(--soft); }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: .5rem 0; padding: 0; list-style: none;
  font-size: 15px; }
.legend li.what { color: var(--muted); }
.legend i { display: inline-block; width: 1em; height: 1em; border-radius: 50%; margin-right: .35em;
  vertical-align: -.15em; }
[data-by=label] .legend-folder, [data-by=folder] .legend-label { display: none; }
svg.heat text, svg.curves text { fill: var(--muted); } svg.heat text.group { fill: var(--ink); }
svg.heat line.split { stroke: #fff; stroke-width: 1; } svg.heat rect.frame, svg.curves rect.frame { fill: none;
  stroke: var(--line); }
svg.heat rect.cell { fill: transparent; } svg.heat rect.cell:hover { stroke: #000; stroke-width: 1; }
svg.curves line.grid { stroke: var(--soft); } svg.curves text.axis, svg.heat text.axis { fill: var(--ink); }
svg.curves polyline.line { fill: none; stroke-width: 2; } svg.curves polygon.band { fill-opacity: .18; }
svg.curves line.whisker { stroke-width: 2; }
.scroll > svg.heat { max-width: none; } .scroll > svg.curves { min-width: 560px; }
[id$=-rdms] .card img { image-rendering: pixelated; }
noscript p { color: var(--bad); }
@media (max-width: 600px) { body { padding: .5rem .75rem 3rem; } }
"""


def palette_css() -> str:
    """Point colours of the feature map: class ``fN`` by folder, ``pN`` by predicted label."""
    rules = []
    for i, colour in enumerate(PALETTE):
        rules.append(f"[data-by=folder] .f{i}, [data-by=label] .p{i} {{ fill: {colour}; }}")
        rules.append(f".legend .c{i} {{ background: {colour}; }}")
    return "\n".join(rules)


def page(title: str, intro: Sequence[Html], sections: Sequence[Html]) -> str:
    """The whole document."""
    head = join(
        [
            void("meta", charset="utf-8"),
            void("meta", name="viewport", content="width=device-width, initial-scale=1"),
            void("meta", name="generator", content=GENERATOR),
            tag("title", title),
            tag("style", Html(CSS + palette_css())),
        ]
    )
    noscript = tag("noscript", tag("p", "The page's script draws its tables and cards: allow JavaScript to see them."))
    body = join([tag("h1", title), *intro, noscript, *sections, tag("script", Html(SCRIPT))])
    return "<!DOCTYPE html>\n" + tag("html", tag("head", head), tag("body", body), lang="en") + "\n"
