"""Make untrusted text (scenarios, model answers) inert before it is shown as markdown.

Streamlit does not render raw HTML unless asked to, and we never ask. On top of that, everything
markdown itself could do with hostile text is switched off in prose: tags are escaped, and every
bracket is backslash-escaped, so no link, image or reference definition can form (URLs stay visible as
text). Code — fenced and indented blocks, and inline spans found by CommonMark's own rule — is kept
verbatim, since markdown shows it literally; blocks are re-fenced with a fence longer than any
backtick run inside.
"""

from __future__ import annotations

import re

MAX_RENDER_CHARS = 60_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_LIST_ITEM = re.compile(r"^\s{0,3}([-+*]|\d{1,9}[.)])(\s|$)")
_DIRECTIVE = re.compile(r":(?=[a-zA-Z0-9_+-]+[\\/:])")
_INFO = re.compile(r"^[\w+#.-]{1,30}$")
_PROSE_ESCAPES = str.maketrans({"\\": "\\\\", "&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]",
                                "`": "\\`", "$": "\\$"})


_SCHEME_LINK = re.compile(r"\]\(\s*(?!https?://|#)([a-zA-Z][a-zA-Z0-9+.-]*):")
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


_HEADING = re.compile(r"(?m)^( {0,3})#{1,6}[ \t]+(\S.*?)[ \t#]*$")


def _escape(text: str) -> str:
    # An answer's own headings become bold lines: they never outgrow the card's title.
    text = _HEADING.sub(lambda m: m.group(1) + "**" + m.group(2).replace("*", "\\*") + "**", text)
    text = _SCHEME_LINK.sub(lambda m: "](blocked-" + m.group(1) + "-link ", text)
    return _DIRECTIVE.sub("&#58;", text.translate(_PROSE_ESCAPES))


def _prose(paragraph: str) -> str:
    """Escape a paragraph, keeping its inline code spans (CommonMark: a backtick run closes at the next
    run of the same length; a backslash-escaped backtick opens nothing) verbatim — code is literal. A span kept
    verbatim never crosses a line: a line that starts an HTML block (`<script>`) would end it, and leave the
    text after it raw (found by the fuzz test); a multi-line span is escaped like prose instead."""
    out: list[str] = []
    plain: list[str] = []
    i, n = 0, len(paragraph)
    while i < n:
        ch = paragraph[i]
        if ch == "\\" and i + 1 < n and paragraph[i + 1] in _ASCII_PUNCT:
            plain.append(paragraph[i:i + 2])
            i += 2
            continue
        if ch == "`":
            j = i
            while j < n and paragraph[j] == "`":
                j += 1
            run = j - i
            k, close = j, -1
            while k < n and paragraph[k] != "\n":
                if paragraph[k] == "`":
                    m = k
                    while m < n and paragraph[m] == "`":
                        m += 1
                    if m - k == run:
                        close = k
                        break
                    k = m
                else:
                    k += 1
            if close >= 0:
                out.append(_escape("".join(plain)))
                plain.clear()
                out.append(paragraph[i:close + run])
                i = close + run
                continue
            plain.append(paragraph[i:j])
            i = j
            continue
        plain.append(ch)
        i += 1
    out.append(_escape("".join(plain)))
    return "".join(out)


def _fenced(body: list[str], info: str = "") -> list[str]:
    """A code block whose fence is longer than any backtick run inside, so nothing in it can close it."""
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    lang = info.strip() if _INFO.match(info.strip() or "-") else ""
    return [fence + lang, *body, fence]


def _closing(lines: list[str], start: int, marker: str) -> int:
    """Index of the line closing a fence opened with `marker`, or len(lines) (it runs to the end)."""
    pattern = re.compile(r"^ {0,3}" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}\s*$")
    for j in range(start, len(lines)):
        if pattern.match(lines[j]):
            return j
    return len(lines)


def _indented(line: str) -> bool:
    return line.startswith("    ") or line.startswith("\t")


def safe_markdown(text: str | None) -> str:
    """Markdown-safe rendering of untrusted text."""
    if not text:
        return ""
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    truncated = len(text) > MAX_RENDER_CHARS
    if truncated:
        text = text[:MAX_RENDER_CHARS]
    lines = text.split("\n")
    out: list[str] = []
    para: list[str] = []
    in_list = False

    def flush() -> None:
        if para:
            out.append(_prose("\n".join(para)))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE_OPEN.match(line)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            flush()
            end = _closing(lines, i + 1, fence.group(1))
            out.extend(_fenced(lines[i + 1:end], fence.group(2)))
            i = end + 1
            in_list = False
            continue
        prev_blank = i == 0 or not lines[i - 1].strip()
        if _indented(line) and line.strip() and prev_blank and not in_list:
            flush()
            j = i
            while j < len(lines) and (_indented(lines[j]) or not lines[j].strip()):
                j += 1
            while j > i and not lines[j - 1].strip():
                j -= 1
            # An indented code block: kept as code (re-fenced), its lines verbatim.
            out.extend(_fenced([ln[4:] if ln.startswith("    ") else ln[1:] if ln.startswith("\t") else ln
                                for ln in lines[i:j]]))
            i = j
            continue
        if not line.strip():
            flush()
            out.append("")
        else:
            if _LIST_ITEM.match(line):
                in_list = True
            elif not _indented(line) and prev_blank:
                in_list = False
            para.append(line)
        i += 1
    flush()
    rendered = "\n".join(out)
    if truncated:
        rendered += f"\n\n*(display truncated at {MAX_RENDER_CHARS:,} characters; the full text is stored)*"
    return rendered
