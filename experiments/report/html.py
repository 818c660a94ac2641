"""Assemble one self-contained HTML page: inline CSS, figures embedded as base64 PNG.

The page must open anywhere a report is mailed or archived (no network, no sibling files),
so nothing in it points outside itself: images are ``data:`` URIs and the only links are
the table of contents' ``#section`` anchors. Every section carries a stable ``id`` so that
readers can link to it and tests can find it.

A page opens with its answer: a ``Headline`` of one sentence and five to seven figures,
each with what it is compared with (the rules, the baseline, the current plan, or else its
interval or target). Any page built on ``Page`` gets it by passing ``headline=``; the
backtest and calibration pages can do the same. Long tables scroll inside their box and
sort on a click of their header (a few lines of inline script); solver internals and raw
tables go into a ``Details`` block, collapsed.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Literal

from experiments.report.text import Part

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;
margin:0 auto;max-width:1180px;padding:0 24px 48px}
header{border-bottom:3px solid #1f77b4;margin-bottom:8px}
h1{font-size:26px;margin:24px 0 4px}h2{font-size:20px;margin:32px 0 6px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:18px 0 4px}
.sub{color:#57606a;margin:0 0 10px}
nav{font-size:14px;margin:10px 0 16px}nav a{margin-right:14px;color:#0969da;
text-decoration:none}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:13px;
color:#3d444d;margin:8px 0 12px}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
p.intro{color:#3d444d;max-width:900px}
table{border-collapse:collapse;font-size:13px;margin:8px 0 16px}
th,td{padding:3px 10px;border-bottom:1px solid #e5e8eb;text-align:left;vertical-align:top}
th{background:#f3f5f7;font-weight:600}td.num{text-align:right;font-variant-numeric:
tabular-nums;white-space:nowrap}tr:hover td{background:#fafbfc}
figure{margin:8px 0 18px}figure img{max-width:100%;height:auto;border:1px solid #e5e8eb}
figcaption{font-size:13px;color:#57606a;margin-top:4px;max-width:900px}
footer{margin-top:40px;font-size:12px;color:#6e7781}
section#verdict p{max-width:900px;margin:6px 0}
section#verdict p:first-of-type{font-size:18px;font-weight:600}
div.headline{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;
margin:12px 0 8px}div.headline p.answer{font-size:17px;font-weight:600;margin:0 0 10px;
max-width:1000px}div.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));
gap:10px}div.stat{background:#fff;border:1px solid #e5e8eb;border-radius:4px;padding:6px 10px}
div.stat .label{font-size:12px;color:#57606a}div.stat .value{font-size:20px;font-weight:600;
font-variant-numeric:tabular-nums}div.stat .compare{font-size:12px;color:#3d444d}
div.stat.good .value{color:#1a7f37}div.stat.bad .value{color:#cf222e}
div.scroll{max-width:100%;max-height:560px;overflow:auto;margin:8px 0 16px}
div.scroll table{margin:0}table.sortable th{cursor:pointer}thead th{position:sticky;top:0}
tr.total td{font-weight:700;border-top:1px solid #57606a}
details{margin:8px 0 16px}details summary{cursor:pointer;font-weight:600;color:#0969da}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, col) {
    th.title = "click to sort";
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var down = th.dataset.sort !== "down";
      th.dataset.sort = down ? "down" : "up";
      function key(row) {
        var text = row.cells[col].textContent.trim();
        var m = text.replace(/,/g, "").match(/^[+-]?[0-9]*[.]?[0-9]+/);
        return m ? parseFloat(m[0]) : text;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = (typeof x === "number" && typeof y === "number") ? x - y
          : String(x).localeCompare(String(y));
        return down ? -c : c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
"""Sorts a table by the clicked column: numbers by value, text alphabetically."""


@dataclass(frozen=True)
class Figure:
    """A PNG written under ``figures/``; the caption says what to read from it."""

    path: Path
    caption: str


@dataclass(frozen=True)
class Stat:
    """One headline figure: what it is, its value, and what it is compared with; ``tone``
    colours the value (a negative margin is 'bad')."""

    label: str
    value: str
    compare: str = ""
    tone: Literal["", "good", "bad"] = ""


@dataclass(frozen=True)
class Headline:
    """The answer a page opens with: one sentence in words and five to seven figures."""

    sentence: str
    stats: list[Stat]


@dataclass
class Details:
    """Content shown collapsed, under a one-line summary: solver internals, raw tables."""

    summary: str
    content: Sequence[Part | Figure | str]


@dataclass
class Section:
    """One part of the page; ``content`` is shown in order (tables, figures, notes)."""

    id: str
    title: str
    intro: str = ""
    content: Sequence[Part | Figure | Details | str] = field(default_factory=list)


@dataclass
class Page:
    """What the page says: a title, one line under it, key facts (what ran, with which
    seed and code), the sections and, first of all, the headline."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    headline: Headline | None = None


def render_page(page: Page) -> str:
    """The whole page as one string."""
    title, subtitle, facts, sections = page.title, page.subtitle, page.facts, page.sections
    nav = " ".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in sections)
    fact_rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    body = "\n".join(_section(s) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header id="top"><h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>'
        f"{headline_html(page.headline) if page.headline else ''}"
        f'<dl class="facts">{fact_rows}</dl><nav>{nav}</nav></header>\n'
        f"{body}\n<footer>Written by xbsim report from the tables in this directory; the same "
        "tables give the same page. The figures are also in figures/.</footer>\n"
        f"<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n")


def headline_html(headline: Headline) -> str:
    """The answer in words, then the figures as cards."""
    cards = "".join(
        f'<div class="stat{" " + s.tone if s.tone else ""}"><div class="label">'
        f'{escape(s.label)}</div><div class="value">{escape(s.value)}</div>'
        + (f'<div class="compare">{escape(s.compare)}</div>' if s.compare else "") + "</div>"
        for s in headline.stats)
    return (f'<div class="headline" id="headline"><p class="answer">'
            f'{escape(headline.sentence)}</p><div class="stats">{cards}</div></div>')


def _section(section: Section) -> str:
    parts = [f'<section id="{escape(section.id)}">', f"<h2>{escape(section.title)}</h2>"]
    if section.intro:
        parts.append(f'<p class="intro">{escape(section.intro)}</p>')
    parts += [_item(item) for item in section.content]
    parts.append("</section>")
    return "\n".join(parts)


def _item(item: Part | Figure | Details | str) -> str:
    if isinstance(item, Part):
        return table_html(item)
    if isinstance(item, Figure):
        return _figure(item)
    if isinstance(item, Details):
        inner = "\n".join(_item(i) for i in item.content)
        return f"<details><summary>{escape(item.summary)}</summary>\n{inner}\n</details>"
    return f"<p>{escape(item)}</p>"


def table_html(part: Part) -> str:
    """A ``Part`` as an HTML table; right-aligned columns are the numeric ones. A table
    with subtotals keeps its order; the others sort on a click of a header."""
    head = "".join(f"<th>{escape(h)}</th>" for h in part.headers)
    rows = "".join(
        ('<tr class="total">' if i in part.totals else "<tr>")
        + "".join(f'<td class="num">{escape(c)}</td>' if r else f"<td>{escape(c)}</td>"
                  for c, r in zip(row, part.right, strict=True)) + "</tr>"
        for i, row in enumerate(part.rows))
    title = f"<h3>{escape(part.title)}</h3>" if part.title else ""
    sortable = "" if part.totals else ' class="sortable"'
    return (f'{title}<div class="scroll"><table{sortable}><thead><tr>{head}</tr>'
            f"</thead><tbody>{rows}</tbody></table></div>")


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(figure.caption)}">'
            f"<figcaption>{escape(figure.caption)}</figcaption></figure>")
