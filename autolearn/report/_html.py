"""Escaping HTML builders shared by the report and the dashboard.

Everything shown comes from users or from their data (column names, class labels, file names, model
names, error messages), so nothing is interpolated into markup unescaped: every helper here passes text
through :func:`html.escape` (quotes included, so attribute values are safe too). Callers build pages
only from these helpers and from literal markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

# The report is one file that must open offline and never call out: no scripts at all, images only as
# data: URIs, styles inline. Browsers then block anything else, even if some markup slipped through.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222;
       background: #fafafa; }
header { background: #263238; color: #fff; padding: 16px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header .sub { color: #cfd8dc; font-size: 13px; }
main { padding: 8px 28px 40px 28px; max-width: 1400px; }
h2 { border-bottom: 2px solid #cfd8dc; padding-bottom: 4px; margin-top: 32px; font-size: 18px; }
h3 { font-size: 15px; margin: 18px 0 6px 0; }
table { border-collapse: collapse; font-size: 13px; background: #fff; margin: 6px 0; }
th, td { border: 1px solid #e0e0e0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eceff1; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.member td { background: #e8f5e9; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0; }
.card { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .k { font-size: 12px; color: #607d8b; }
figure { margin: 12px 0 20px 0; background: #fff; border: 1px solid #e0e0e0; padding: 8px; display: inline-block; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: #546e7a; margin-top: 4px; max-width: 900px; }
.note { color: #78909c; font-size: 13px; font-style: italic; }
.error { color: #b71c1c; font-size: 13px; }
pre { background: #fff; border: 1px solid #e0e0e0; padding: 8px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; color: #37474f; }
.scroll { max-height: 480px; overflow: auto; display: inline-block; }
"""


def esc(value: Any) -> str:
    """Text as HTML, quotes escaped (safe in attributes too)."""
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A cell value as short text: floats to 5 significant digits, missing values empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.5g}"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return fmt(value.item())
        except (ValueError, AttributeError):
            pass
    return str(value)


def table(frame: pd.DataFrame, *, highlight: Iterable[int] = (), highlight_class: str = "member") -> str:
    """An escaped HTML table of ``frame`` (index dropped); rows at the positions in ``highlight`` get
    ``highlight_class``."""
    marked = set(highlight)
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = "".join(
            f'<td class="num">{esc(fmt(v))}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{esc(fmt(v))}</td>" for v in row)
        cls = f' class="{esc(highlight_class)}"' if i in marked else ""
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def key_values(items: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v))}</td></tr>" for k, v in items.items())
    return f"<table><tbody>{rows}</tbody></table>"


def cards(items: Mapping[str, Any]) -> str:
    body = "".join(f'<div class="card"><div class="v">{esc(fmt(v))}</div><div class="k">{esc(k)}</div></div>'
                   for k, v in items.items())
    return f'<div class="cards">{body}</div>'


def figure(data_uri: str, alt: str, caption: str) -> str:
    if not data_uri.startswith("data:image/png;base64,"):
        raise ValueError("figures are embedded as data:image/png URIs only")
    return f'<figure><img src="{esc(data_uri)}" alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption></figure>'


def page(title: str, subtitle: str, body: str, *, csp: str = REPORT_CSP, head_extra: str = "") -> str:
    """A whole HTML document; ``body`` and ``head_extra`` must already be built from escaped parts."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style>{head_extra}</head>"
        f"<body><header><h1>{esc(title)}</h1><div class=\"sub\">{esc(subtitle)}</div></header>"
        f"<main>{body}</main></body></html>\n"
    )
