"""Make untrusted text (scenarios, model answers) inert before it is shown as markdown.

Streamlit's markdown does not render raw HTML unless asked to, but we also neutralise what
markdown itself can do with hostile text: tags are escaped, images never load, and links to
non-http(s) schemes lose their target.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)")
_LINK_SCHEME = re.compile(r"\]\(\s*(?!https?://|#)([a-zA-Z][a-zA-Z0-9+.-]*:)", re.I)
_DIRECTIVE = re.compile(r":(?=[a-zA-Z0-9_+-]+[\[/:])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_RENDER_CHARS = 60_000


def _escape_prose(part: str) -> str:
    part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    part = _IMAGE.sub(lambda m: f"[image: {m.group(1) or 'untitled'}] ({m.group(2)})", part)
    part = _LINK_SCHEME.sub(lambda m: "](blocked-" + m.group(1).rstrip(":") + "-link ", part)
    # Streamlit's own directives (:red[...], :material/x:, :emoji:) stay literal.
    return _DIRECTIVE.sub("&#58;", part)


def safe_markdown(text: str | None) -> str:
    """Markdown-safe rendering of untrusted text. Code spans and blocks stay verbatim (they are inert)."""
    if not text:
        return ""
    text = _CONTROL.sub("", text)
    truncated = len(text) > MAX_RENDER_CHARS
    if truncated:
        text = text[:MAX_RENDER_CHARS]
    parts = _FENCE.split(text)
    out = [p if i % 2 else _escape_prose(p) for i, p in enumerate(parts)]
    if len(parts) % 2 == 0 and parts:  # unbalanced fence: treat the tail as prose
        out[-1] = _escape_prose(parts[-1])
    rendered = "".join(out)
    if truncated:
        rendered += f"\n\n*(display truncated at {MAX_RENDER_CHARS:,} characters; the full text is stored)*"
    return rendered
