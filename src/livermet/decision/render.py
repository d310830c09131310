"""Rich rendering of the options (the CLI and ``livermet assess`` summary call this)."""

from __future__ import annotations

import re
from typing import Any, Mapping

STYLE = {"recommended": "bold green", "consider": "yellow", "not_suitable": "dim red"}
LABEL = {"recommended": "recommended", "consider": "consider", "not_suitable": "not suitable"}


def _refs(sources: list[Any]) -> str:
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
    if len(tags) > 6:
        return ", ".join(tags[:6]) + f" +{len(tags) - 6}"
    return ", ".join(tags)


def render_options(decision: Any, width: int | None = None) -> Any:
    from rich.table import Table
    from rich.text import Text

    data = decision.to_dict() if hasattr(decision, "to_dict") else dict(decision)
    options = data.get("options") or []
    table = Table(title="Treatment options (livermet decision support; the team decides)",
                  width=min(width or 100, 100), header_style="bold", show_lines=True,
                  title_justify="left")
    table.add_column("Option", width=23, no_wrap=True)
    table.add_column("Status", width=12, no_wrap=True)
    table.add_column("Key reasons", ratio=3, overflow="fold")
    table.add_column("Sources", ratio=1, overflow="fold")
    for o in options:
        status = o.get("status", "")
        reasons = o.get("reasons") or []
        shown = "\n".join(f"- {r}" for r in reasons[:3])
        if len(reasons) > 3:
            shown += f"\n  (+{len(reasons) - 3} more)"
        if o.get("missing"):
            shown += "\n[missing: " + ", ".join(o["missing"][:3]) + \
                     (" ..." if len(o["missing"]) > 3 else "") + "]"
        table.add_row(o.get("code", ""), Text(LABEL.get(status, status), style=STYLE.get(status, "")),
                      Text(shown), _refs(o.get("sources") or []))
    if data.get("knowledge_version"):
        table.caption = f"knowledge base {data['knowledge_version']}"
    return table
