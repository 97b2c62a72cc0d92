"""`plan --format html`: the plan as one self-contained page to attach to a review.

No network: the CSS is inline and the diagram is an SVG drawn here (boxes in a grid, a line per
foreign key) from the same `mermaid.Diagram` the Mermaid text comes from; the Mermaid source is in
the page too, for tools that render it. Readable on a phone: a viewport, one column, wrapped SQL.
"""

from __future__ import annotations

import math
from html import escape

from schemasync import mermaid, plan_view
from schemasync.console import hazard_summary
from schemasync.plan import Plan

_CSS = """
:root { color-scheme: light; --added: #1a7f37; --changed: #9a6700; --dropped: #cf222e; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 1rem; color: #1f2328; background: #fff; }
main { max-width: 60rem; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.summary { font-size: 1.1rem; font-weight: 600; }
.hash, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
.hash { overflow-wrap: anywhere; color: var(--muted); }
ol.steps { list-style: none; padding: 0; margin: 0; }
ol.steps > li { border: 1px solid #d0d7de; border-left-width: 6px; border-radius: 6px; padding: .6rem .8rem; margin: .6rem 0; }
li.add { border-left-color: var(--added); } li.change { border-left-color: var(--changed); } li.destroy { border-left-color: var(--dropped); }
.head { font-weight: 600; overflow-wrap: anywhere; }
.destructive { color: #fff; background: var(--dropped); border-radius: 4px; padding: 0 .35rem; font-size: .8rem; }
.hazard { display: inline-block; border: 1px solid var(--changed); color: var(--changed); border-radius: 4px; padding: 0 .35rem; margin: .1rem; font-size: .8rem; }
ul.details { margin: .3rem 0; padding-left: 1.2rem; font-family: ui-monospace, monospace; font-size: .85rem; }
.note { color: var(--muted); font-style: italic; }
pre { background: #f6f8fa; padding: .6rem; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; margin: .4rem 0 0; }
svg { width: 100%; height: auto; max-width: 100%; border: 1px solid #d0d7de; border-radius: 6px; background: #fafbfc; }
details summary { cursor: pointer; color: var(--muted); }
@media (max-width: 600px) { body { padding: .6rem; font-size: 15px; } ol.steps > li { padding: .5rem; } }
"""


def html_report(plan: Plan) -> str:
    """The whole page."""
    shown = plan_view.changes(plan)
    title = f"schemasync plan ({plan.dialect}): {plan_view.plural(len(shown), 'change')}"
    diagram = mermaid.plan_diagram(plan)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="summary">{escape(plan_view.summary_line(shown))}</p>' if shown else "<p>No changes.</p>",
    ]
    if plan.hazards:
        parts.append(f"<p>Hazards: {escape(hazard_summary(plan))} (<code>schemasync explain HAZARD</code> says what each means)</p>")
    parts.append(f'<p class="hash">Plan hash: {escape(plan.hash)}</p>')
    if diagram.entities:
        parts += ["<h2>Tables</h2>", svg(diagram),
                  f"<details><summary>Mermaid source</summary><pre>{escape(mermaid.mermaid(diagram))}</pre></details>"]
    if shown:
        parts += ["<h2>Steps</h2>", '<ol class="steps">', *(_step(change) for change in shown), "</ol>"]
    parts += [f"<p>{escape(hint)}</p>" for hint in plan.hints]
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _step(change: plan_view.Change) -> str:
    step = change.step
    badges = ' <span class="destructive">destructive</span>' if step.destructive else ""
    badges += "".join(f' <span class="hazard">{escape(h)}</span>' for h in step.hazards)
    details = "".join(f"<li>{escape(d.mark.strip())} {escape(d.text)}</li>" for d in change.details)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in change.notes)
    sql = escape("\n".join(statement.rstrip(";") + ";" for statement in step.sql))
    return (f'<li class="{change.kind}"><div class="head">{change.number}. {escape(change.head)}{badges}</div>'
            + (f'<ul class="details">{details}</ul>' if details else "") + notes
            + f"<details><summary>SQL</summary><pre>{sql}</pre></details></li>")


# --- the picture ----------------------------------------------------------------------------------

_WIDTH, _ROW, _HEAD, _GAP = 240, 18, 26, 40
_COLOURS = {mermaid.ADDED: "#1a7f37", mermaid.CHANGED: "#9a6700", mermaid.DROPPED: "#cf222e", None: "#8c959f"}


def svg(diagram: mermaid.Diagram) -> str:
    """Boxes in a grid (at most two across, so a phone can read them), a line per foreign key
    from centre to centre, drawn under the boxes."""
    across = max(1, min(2, math.ceil(math.sqrt(len(diagram.entities)))))
    places: dict[str, tuple[float, float, float]] = {}
    y, boxes = float(_GAP / 2), []
    for row_start in range(0, len(diagram.entities), across):
        row = diagram.entities[row_start:row_start + across]
        height = max(_HEAD + _ROW * len(e.fields) + 6 for e in row)
        for column, item in enumerate(row):
            x = _GAP / 2 + column * (_WIDTH + _GAP)
            places[item.name] = (x, y, _HEAD + _ROW * len(item.fields) + 6)
            boxes.append(_box(item, x, y))
        y += height + _GAP
    lines = [_line(places[r.child], places[r.parent]) for r in diagram.relations if r.child in places and r.parent in places]
    width = _GAP + across * (_WIDTH + _GAP) - _GAP
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {y:.0f}" role="img" aria-label="tables and foreign keys">'
            + "".join(lines) + "".join(boxes) + "</svg>")


def _box(item: mermaid.Entity, x: float, y: float) -> str:
    colour = _COLOURS[item.change]
    height = _HEAD + _ROW * len(item.fields) + 6
    mark = {mermaid.ADDED: " (added)", mermaid.CHANGED: " (changed)", mermaid.DROPPED: " (dropped)"}.get(item.change or "", "")
    parts = [f'<rect x="{x:.0f}" y="{y:.0f}" width="{_WIDTH}" height="{height}" rx="6" fill="#fff" stroke="{colour}" stroke-width="2"/>',
             f'<rect x="{x:.0f}" y="{y:.0f}" width="{_WIDTH}" height="{_HEAD}" rx="6" fill="{colour}"/>',
             f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" fill="#fff" font-family="sans-serif" font-size="14" font-weight="bold">{escape(_cut(item.name + mark, 28))}</text>']
    for number, field in enumerate(item.fields):
        keys = f" {','.join(field.keys)}" if field.keys else ""
        sign = {mermaid.ADDED: "+ ", mermaid.CHANGED: "~ ", mermaid.DROPPED: "- "}.get(field.change or "", "")
        fill = _COLOURS[field.change] if field.change else "#1f2328"
        text = _cut(f"{sign}{field.name} {field.type}{keys}", 32)
        parts.append(f'<text x="{x + 8:.0f}" y="{y + _HEAD + 14 + number * _ROW:.0f}" fill="{fill}" font-family="monospace" font-size="12">{escape(text)}</text>')
    return "".join(parts)


def _line(child: tuple[float, float, float], parent: tuple[float, float, float]) -> str:
    (cx, cy, ch), (px, py, ph) = child, parent
    x1, y1, x2, y2 = cx + _WIDTH / 2, cy + ch / 2, px + _WIDTH / 2, py + ph / 2
    return f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#57606a" stroke-width="1.5"/>'


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
