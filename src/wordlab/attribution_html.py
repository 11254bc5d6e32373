"""HTML views of token attributions: tokens shaded by score, one example or models side by side.

Plain HTML with inline styles and no scripts, so it shows in notebooks and in the MLflow UI.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wordlab.attribution import Explanation, Explanations

LEGEND = (
    '<div style="font-size:90%;color:#555">Shading: <span style="background:rgba(22,163,74,0.6)">'
    'supports</span> or <span style="background:rgba(220,38,38,0.6)">speaks against</span> the '
    'explained class; <span style="text-decoration:underline dotted">underlined</span>: not in '
    "the vocabulary (read as &lt;unk&gt;). Hover a token for its score.</div>"
)


def token_html(token: str, score: float, scale: float, unknown: bool) -> str:
    """A token on a background whose opacity is ``|score| / scale``; the score on hover."""
    alpha = min(abs(score) / scale, 1.0) if scale > 0 else 0.0
    rgb = "22,163,74" if score >= 0 else "220,38,38"
    style = f"background:rgba({rgb},{alpha:.2f});padding:0 2px;border-radius:3px"
    title = f"{score:+.4f}" + (" (not in the vocabulary: read as <unk>)" if unknown else "")
    if unknown:
        style += ";text-decoration:underline dotted"
    return f'<span style="{style}" title="{escape(title)}">{escape(token)}</span>'


def explanation_html(explanation: Explanation) -> str:
    """One example: a header line, then its tokens shaded by score."""
    scores = explanation.scores
    scale = max((abs(s) for s in scores), default=0.0)
    spans = " ".join(
        token_html(t, s, scale, u)
        for t, s, u in zip(explanation.tokens, scores, explanation.unknown, strict=True)
    )
    return f'<div style="margin:0.6em 0">{header_html(explanation)}<div>{spans}</div></div>'


def header_html(explanation: Explanation) -> str:
    """Prediction, gold label, explained class and method of one example, on one line."""
    e = explanation
    parts = [f"predicted <b>{escape(e.predicted)}</b> ({e.probabilities[e.predicted]:.2f})"]
    if e.gold is not None:
        parts.append(f"gold <b>{escape(e.gold)}</b> {'&#10003;' if e.correct else '&#10007;'}")
    parts.append(f"explains <i>{escape(e.target)}</i>")
    method = e.method.replace("_", " ")
    parts.append(method if e.delta is None else f"{method} (delta {e.delta:+.3f})")
    return f'<div style="font-size:85%;color:#555">{" &middot; ".join(parts)}</div>'


def side_by_side(columns: dict[str, Explanations]) -> str:
    """An HTML table with one column per model and one row per text."""
    lengths = {len(c) for c in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"side_by_side needs as many explanations in each column, got {lengths}")
    head = "".join(f"<th>{escape(name)}</th>" for name in columns)
    rows = "".join(
        "<tr>" + "".join(f'<td style="vertical-align:top">{e.html()}</td>' for e in row) + "</tr>"
        for row in zip(*columns.values(), strict=True)
    )
    table = '<table style="width:100%;table-layout:fixed;border-collapse:collapse">'
    return f"{LEGEND}{table}<tr>{head}</tr>{rows}</table>"


def page(title: str, body: str) -> str:
    """A standalone UTF-8 HTML document."""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        '<body style="font-family:sans-serif;line-height:1.9;max-width:60em">'
        f"<h3>{escape(title)}</h3>{body}</body></html>"
    )
