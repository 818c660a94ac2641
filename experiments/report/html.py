"""Assemble one self-contained HTML page: inline CSS, figures embedded as base64 PNG.

The page must open anywhere a report is mailed or archived (no network, no sibling files),
so nothing in it points outside itself: images are ``data:`` URIs and the only links are
the table of contents' ``#section`` anchors. Every section carries a stable ``id`` so that
readers can link to it and tests can find it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

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
"""


@dataclass(frozen=True)
class Figure:
    """A PNG written under ``figures/``; the caption says what to read from it."""

    path: Path
    caption: str


@dataclass
class Section:
    """One part of the page; ``content`` is shown in order (tables, figures, notes)."""

    id: str
    title: str
    intro: str = ""
    content: list[Part | Figure | str] = field(default_factory=list)


@dataclass
class Page:
    """What the page says: a title, one line under it, key facts (what ran, with which
    seed and code) and the sections."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]


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
        f'<dl class="facts">{fact_rows}</dl><nav>{nav}</nav></header>\n'
        f"{body}\n<footer>Written by xbsim report from the tables in this directory; the same "
        "tables give the same page. The figures are also in figures/.</footer>\n"
        "</body>\n</html>\n")


def _section(section: Section) -> str:
    parts = [f'<section id="{escape(section.id)}">', f"<h2>{escape(section.title)}</h2>"]
    if section.intro:
        parts.append(f'<p class="intro">{escape(section.intro)}</p>')
    for item in section.content:
        if isinstance(item, Part):
            parts.append(table_html(item))
        elif isinstance(item, Figure):
            parts.append(_figure(item))
        else:
            parts.append(f"<p>{escape(item)}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def table_html(part: Part) -> str:
    """A ``Part`` as an HTML table; right-aligned columns are the numeric ones."""
    head = "".join(f"<th>{escape(h)}</th>" for h in part.headers)
    rows = "".join(
        "<tr>" + "".join(f'<td class="num">{escape(c)}</td>' if r else f"<td>{escape(c)}</td>"
                         for c, r in zip(row, part.right, strict=True)) + "</tr>"
        for row in part.rows)
    title = f"<h3>{escape(part.title)}</h3>" if part.title else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(figure.caption)}">'
            f"<figcaption>{escape(figure.caption)}</figcaption></figure>")
