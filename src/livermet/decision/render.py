"""Rich rendering of the options (the CLI and ``livermet assess`` summary call this)."""

from __future__ import annotations

import re
from typing import Any, Mapping

STYLE = {"recommended": "bold green", "consider": "yellow", "not_suitable": "dim red"}
LABEL = {"recommended": "recommended", "consider": "consider", "not_suitable": "not suitable"}


def _refs(sources: list[Any], limit: int = 6) -> str:
    """Compact source tags: review reference numbers [38] and short external names."""
    tags: list[str] = []
    for s in sources:
        text = s.get("text", "") if isinstance(s, Mapping) else str(s)
        ref = s.get("review_ref") if isinstance(s, Mapping) else None
        kind = s.get("kind") if isinstance(s, Mapping) else None
        if text.startswith("livermet convention"):
            tag = "judgement"
        elif kind == "review" or text.startswith("review"):
            tag = f"[{ref}]" if ref is not None else "review"
        else:
            m = re.match(r"([A-Z][\w'/-]+)[^0-9]*((?:19|20)\d\d)", text)
            tag = f"{m.group(1)} {m.group(2)}" if m else text.split(",")[0][:18]
        if tag not in tags:
            tags.append(tag)
    tags.sort(key=lambda t: (not t.startswith("["), t == "judgement"))
    if len(tags) > limit:
        return ", ".join(tags[:limit]) + f" +{len(tags) - limit}"
    return ", ".join(tags)


class OptionsTable:
    """A Rich renderable: the options as a table sized to the console (at most 100 columns)."""

    def __init__(self, data: Mapping[str, Any], width: int | None = None):
        self.data = data
        self.width = width

    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield build_table(self.data, min(self.width or options.max_width, options.max_width, 100))


def build_table(data: Mapping[str, Any], width: int) -> Any:
    from rich.table import Table
    from rich.text import Text

    narrow = width < 100
    table = Table(title="Treatment options (livermet decision support; the team decides)",
                  width=width, header_style="bold", show_lines=True, title_justify="left")
    # An option code is a public name users search for: never split it (the longest is 23).
    longest = max((len(str(o.get("code", ""))) for o in data.get("options", []) or []), default=8)
    table.add_column("Option", width=max(longest, 6), no_wrap=True)
    table.add_column("Status", width=12, no_wrap=True)
    n_reasons = 2 if narrow else 3
    refs = [_refs(o.get("sources") or [], 4 if narrow else 6) for o in data.get("options") or []]
    # a source tag ("Makuuchi 1993,") is split only between its words: the column is at least
    # as wide as the longest word (cut at 16 so that reasons keep most of the width)
    longest_word = max((len(w) for r in refs for w in r.split()), default=7)
    free = width - max(longest, 6) - 12 - 13  # two fixed columns; 4 x 2 padding + 5 rules
    sources_width = max(min(longest_word, 16), free // 4)
    table.add_column("Key reasons", width=max(free - sources_width, 10), overflow="fold")
    table.add_column("Sources", width=sources_width, overflow="fold")
    for o, ref in zip(data.get("options") or [], refs):
        status = o.get("status", "")
        reasons = o.get("reasons") or []
        shown = "\n".join(f"- {r}" for r in reasons[:n_reasons])
        if len(reasons) > n_reasons:
            shown += f"\n  (+{len(reasons) - n_reasons} more)"
        missing = o.get("missing") or []
        if missing and status != "not_suitable":
            shown += "\n[missing: " + ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "") + "]"
        table.add_row(o.get("code", ""), Text(LABEL.get(status, status), style=STYLE.get(status, "")),
                      Text(shown), ref)
    if data.get("knowledge_version"):
        table.caption = f"knowledge base {data['knowledge_version']}"
    return table


def render_options(decision: Any, width: int | None = None) -> Any:
    """The options of ``decision`` (DecisionReport, its dict, or an assessment dict) as a Rich
    renderable that fits the console, at most 100 columns wide."""
    data = decision.to_dict() if hasattr(decision, "to_dict") else dict(decision)
    return OptionsTable(data, width)
