"""blindrefusal.exports.markdown.safe_markdown: untrusted text (model answers, scenarios) made inert for st.markdown.

The invariants are checked with an independent parser, markdown-it-py (CommonMark, with GFM's tables and
strikethrough), not with the module's own scanning: outside code there must be no raw HTML or autolink, no
image, no link to a non-http(s) scheme and no Streamlit directive.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blindrefusal.exports.markdown import MAX_RENDER_CHARS, safe_markdown
from tests.support import ROOT

MASK = "\x00"  # safe_markdown strips NUL from its input, so it never occurs in its output


# ---------------------------------------------------------------- oracle

def _parser():
    """markdown-it-py, a CommonMark-compliant parser (a port of the reference implementation), with GFM's tables and
    strikethrough as Streamlit renders them, and every link destination accepted (a renderer may not filter
    `javascript:` as markdown-it does): an oracle independent of safe_markdown's own scanning."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    parser.validateLink = lambda url: True
    return parser


_DIRECTIVE = re.compile(r":[A-Za-z0-9_+-]+[\[/:]")  # Streamlit's :color[…], :material/…: (not CommonMark)


def _outside_code(inline) -> str:
    """An inline run's source as written (entities not decoded: Streamlit reads directives there), without its code
    spans. A span's parsed content is normalised (CommonMark: line endings become spaces, then one space comes off
    each end when both ends have one), so each is found in the source by a pattern that allows for both."""
    source = inline.content
    for child in inline.children or []:
        if child.type == "code_inline":
            body = "".join(r"[ \n]" if ch == " " else re.escape(ch) for ch in child.content)
            fence = re.escape(child.markup)
            source = re.sub(f"(?<!`){fence}[ \n]?{body}[ \n]?{fence}(?!`)", " ", source, count=1)
    return source


def violations(md: str) -> list[str]:
    """What in `md` (the output of safe_markdown) markdown would still act on, as the parser reads it: raw HTML
    (blocks, inline tags, autolinks), images, links to a scheme other than http(s), and Streamlit directives
    outside code."""
    found = []
    for block in _parser().parse(md):
        if block.type == "html_block":
            found.append(f"raw HTML: {block.content[:30]!r}")
        if block.type != "inline":
            continue
        if _DIRECTIVE.search(_outside_code(block)):
            found.append(f"streamlit directive: {_outside_code(block)[:40]!r}")
        for tok in block.children or []:
            if tok.type == "html_inline":
                found.append(f"raw HTML: {tok.content[:30]!r}")
            elif tok.type == "image":
                found.append(f"image: {tok.attrs.get('src', '')!r}")
            elif tok.type == "link_open":
                href = str(tok.attrs.get("href", ""))
                scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", href)
                if tok.markup == "autolink" or (scheme and scheme.group(1).lower() not in ("http", "https")):
                    found.append(f"link: {href[:40]!r}")
    return found


def test_the_oracle_itself_sees_what_markdown_sees():
    """Sanity checks of the checker on raw (unsanitised) markdown."""
    assert violations("<script>x</script>")
    assert not violations("`<script>x</script>`")
    assert not violations("```\n<script>x</script>\n```")
    assert violations("\\`<b>`")  # an escaped backtick opens nothing
    assert violations("a ~~~<b>~~~")  # tildes in a line are not a fence
    assert violations("![a](https://x/y.png)") and violations("![a [b] c](https://x/y.png)")
    assert violations("![a][r]\n\n[r]: https://x/y.png") and violations("![r]\n\n[r]: https://x/y.png")
    assert not violations("![r] alone")
    assert not violations("![a](b c d) ![a](((x) ![a](x") and violations("![a](<b c> 'title')")
    assert violations("![a](b(c)d \"t\")") and violations("![a](\n  https://x/y.png\n  )")
    assert violations("[a](javascript:alert(1))") and violations("[a][r]\n\n[r]: javascript:alert(1)")
    assert not violations("[a](https://example.com) [b](#top) [c](relative/path)")
    assert violations(":red[x]") and violations(":material/home:") and not violations("10 : 30, time: now")


# ---------------------------------------------------------------- examples

@pytest.mark.parametrize("text", [
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<svg/onload=alert(1)>",
    "</div><div style='position:fixed'>",
    "<!-- hidden --> <?php echo 1; ?>",
    "<https://auto.example/link> <mailto:x@example.com>",
    "Hi <b>there</b> & <i>you</i>",
])
def test_tags_are_escaped(text):
    out = safe_markdown(text)
    assert not violations(out), out
    assert "&lt;" in out and "<" not in out
    # the words stay readable
    for word in re.findall(r"[a-z]{4,}", text):
        assert word in out


def test_images_are_neutralised_but_their_text_is_kept():
    out = safe_markdown("Look: ![tracking pixel](https://evil.example/p.png?u=1) and ![](data:image/png;base64,AAAA)")
    assert not violations(out), out
    assert "![" not in out
    assert "tracking pixel" in out and "https://evil.example/p.png?u=1" in out


@pytest.mark.parametrize("link, scheme", [
    ("[click](javascript:alert(1))", "javascript"),
    ("[click]( JavaScript:alert(1))", "JavaScript"),
    ("[click](\njavascript:alert(1))", "javascript"),
    ("[click](vbscript:msgbox(1))", "vbscript"),
    ("[click](data:text/html;base64,PHNjcmlwdD4=)", "data"),
    ("[![img](https://x/y.png)](javascript:alert(1))", "javascript"),
])
def test_non_http_links_lose_their_scheme(link, scheme):
    out = safe_markdown(link)
    assert not violations(out), out
    assert f"]({scheme}:" not in out.replace(" ", "").replace("\n", "")
    assert "blocked-" in out


def test_links_become_visible_text_with_their_urls():
    """No markdown link forms at all (brackets are escaped); the link text and the URL stay readable."""
    text = "See [the paper](https://arxiv.org/abs/2604.06233), [a page](http://example.com/x) and [top](#top)."
    out = safe_markdown(text)
    assert not violations(out), out
    for part in ("the paper", "https://arxiv.org/abs/2604.06233", "a page", "http://example.com/x", "top"):
        assert part in out
    assert "](" not in out.replace("\\](", "")


def test_streamlit_directives_are_neutralised():
    out = safe_markdown("This is :red[alarming], :blue-background[loud], :material/warning: and :rainbow[:red[x]]")
    assert not violations(out), out
    assert ":red[" not in out and ":material/" not in out and ":rainbow[" not in out
    assert "alarming" in out and "loud" in out


def test_code_blocks_and_spans_stay_verbatim():
    block = "```html\n<script>alert(1)</script>\n![x](https://evil/y.png) :red[x] [a](javascript:x)\n```"
    tildes = "~~~\n<b>bold?</b> & more\n~~~"
    span = "`<img src=x onerror=alert(1)>`"
    text = f"Here is code:\n\n{block}\n\nand {span} inline.\n\n{tildes}\n\nThen <b>prose</b>."
    out = safe_markdown(text)
    for code_line in block.split("\n")[1:-1] + tildes.split("\n")[1:-1]:
        assert "\n" + code_line + "\n" in out  # code lines verbatim, inside a fence
    assert span in out
    assert out.endswith("Then &lt;b&gt;prose&lt;/b&gt;.")
    assert not violations(out), out


def test_empty_control_characters_and_truncation():
    assert safe_markdown(None) == "" and safe_markdown("") == ""
    assert safe_markdown("a\x00b\x1b[31mc\x7f") == "ab\\[31mc"
    long = "x" * (MAX_RENDER_CHARS + 10)
    out = safe_markdown(long)
    assert out.split("\n\n")[0] == "x" * MAX_RENDER_CHARS
    assert "truncated" in out
    assert "truncated" not in safe_markdown("x" * MAX_RENDER_CHARS)
    # truncation inside a code block must not leave its tail unescaped
    cut = "```\n" + "y" * (MAX_RENDER_CHARS - 10) + "<script>alert(1)</script>\n```"
    assert not violations(safe_markdown(cut))


# Known ways through: each is a real markdown construct the module's regular expressions do not model.
BYPASSES = {
    "escaped backtick opens no code span": "\\`<img src=x onerror=alert(1)>`",
    "inline ~~~ is not a fence": "a ~~~<img src=x onerror=alert(1)>~~~ b",
    "backticks across a blank line": "a ```b\n\n<img src=x onerror=alert(1)>\n\nc``` d",
    "reference-style image": "![pixel][r]\n\n[r]: https://evil.example/p.png",
    "shortcut reference image": "![r]\n\n[r]: https://evil.example/p.png",
    "reference-style javascript link": "[click][r]\n\n[r]: javascript:alert(1)",
    "nested brackets in image alt": "![a [b] c](https://evil.example/p.png)",
    "escaped bracket in image alt": "![a\\]b](https://evil.example/p.png)",
    "code span in image alt": "![a `b` c](https://evil.example/p.png)",
    "backtick runs of unequal length": "`![pixel](https://evil.example/p.png)```<img src=x onerror=alert(1)>``",
    "double-backtick span swallowing a single": "``a ` b``<img src=x onerror=alert(1)>``a ` b``",
}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_known_markdown_bypasses(name):
    out = safe_markdown(BYPASSES[name])
    assert not violations(out), (name, out)


def test_indented_code_blocks_stay_verbatim():
    text = "Example:\n\n    if a < b and c > d:\n        print('<b>')\n"
    out = safe_markdown(text)
    assert "\nif a < b and c > d:\n    print('<b>')\n```" in out  # kept as code, re-fenced, verbatim
    assert not violations(out), out


# ---------------------------------------------------------------- property test

TRICKS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<iframe src=//evil.example>", "</p>",
    "<!-- c -->", "<svg/onload=alert(1)>", "<a href='javascript:alert(1)'>x</a>", "<https://auto.example>",
    "<mailto:a@b.c>", "<?xml ?>", "<!DOCTYPE html>", "&lt;script&gt;", "&#60;img src=x&#62;",
    "![alt](https://evil.example/t.png)", "![](data:image/png;base64,AAAA)", "![a](u \"title\")",
    "[x](javascript:alert(1))", "[x]( JAVASCRIPT:alert(1))", "[x](vbscript:y)", "[x](data:text/html,hi)",
    "[x](&#106;avascript:alert(1))", "[ok](https://example.com)", "[top](#top)", "[x](file:///etc/passwd)",
    ":red[x]", ":blue-background[x]", ":material/home:", ":smile:", ":rainbow[:red[x]]", "10:30:00",
    "`<b>code</b>`", "\n```\n<script>in code</script>\n```\n", "\n~~~py\n<b>x</b>\n~~~\n",
    "`![i](https://x/y.png)`", "`[j](javascript:x)`", "`:red[x]`", "``<i>``", "`", "``", "```",
    "**bold**", "# heading", "> quote", "- item", "1. item", "| a | b |\n|---|---|\n| <b> | c |",
    "$x^2$", "\\", "\\\\", "&", "&amp;", "\u202e", "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627",
    "\x00\x07\x1b[2J", "\t", "    indented <b>", "http://plain.example/a:b", "!", "[", "]", "(", ")", ":",
]
# Plain text that cannot form the constructs listed in BYPASSES (no backtick, tilde or backslash); the
# tricks above still bring well-formed code, escapes and brackets.
PLAIN = st.text(alphabet=st.characters(blacklist_characters="`~\\", blacklist_categories=("Cs",)), max_size=40)
SEP = st.sampled_from(["", " ", "\n", "\n\n", " x "])


@st.composite
def hostile_texts(draw):
    parts = draw(st.lists(st.tuples(st.one_of(PLAIN, st.sampled_from(TRICKS)), SEP), min_size=1, max_size=12))
    text = "".join(a + b for a, b in parts)
    if draw(st.integers(0, 49)) == 0:  # now and then far beyond the render limit
        text = text * (MAX_RENDER_CHARS // max(1, len(text)) + 2)
    return text


def _free_of_bypasses(text: str) -> bool:
    """Whether the generated text steers clear of the constructs already reported in BYPASSES."""
    if re.search(r"\\`|~~~[^\n]|^ {0,3}\[[^\]]*\]:", text, re.M):
        return False
    if re.search(r"(```|~~~)(?:(?!\1)[\s\S])*\n[ \t]*\n(?:(?!\1)[\s\S])*\1", text):
        return False
    for para in re.split(r"\n[ \t]*\n", text):  # backtick runs of different lengths pair differently
        if len({len(run) for run in re.findall(r"`+", para)}) > 1:
            return False
    if re.search(r"!\[[^\]]*(\[|`|\\\])", text):
        return False
    if re.search(r"!\[[^\]]*\]\s*\[", text):
        return False
    return True


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                    HealthCheck.filter_too_much])
@given(hostile_texts())
@example("0\x1f` :0/ `![i](https://x/y.png)`")  # a code span padded with spaces (the oracle once missed it)
def test_safe_markdown_never_raises_and_leaves_nothing_active(text):
    out = safe_markdown(text)
    assert isinstance(out, str)
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    assert len(out) <= 6 * min(len(cleaned), MAX_RENDER_CHARS) + 200
    assert ("*(display truncated at" in out[-120:]) is (len(cleaned) > MAX_RENDER_CHARS)
    assert MASK not in out
    if len(cleaned) > MAX_RENDER_CHARS:
        # a long text renders exactly as its first MAX_RENDER_CHARS characters, plus the notice
        head = safe_markdown(cleaned[:MAX_RENDER_CHARS])
        assert out.startswith(head) and len(out) - len(head) < 120
    elif _free_of_bypasses(cleaned):
        problems = violations(out)
        assert not problems, (problems[:3], text[:300], out[:300])


# ---------------------------------------------------------------- through Streamlit

HOSTILE_ANSWERS = [
    "Sure!<script>alert('x')</script> Here is how.",
    "<img src=x onerror=alert(1)> ![pixel](https://evil.example/p.png) [win](javascript:alert(1)) :red[urgent]",
    "Code: `<script>kept()</script>` and <iframe src=//evil.example></iframe>",
]


def test_hostile_answers_through_a_real_streamlit_app(tmp_path):
    from streamlit.testing.v1 import AppTest

    script = tmp_path / "render_app.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import streamlit as st\n"
        "from blindrefusal.exports.markdown import safe_markdown\n"
        f"for text in {HOSTILE_ANSWERS!r}:\n"
        "    st.markdown(safe_markdown(text))\n"
    )
    at = AppTest.from_file(str(script), default_timeout=30)
    at.run()
    assert not at.exception
    values = [m.value for m in at.markdown]
    assert len(values) == len(HOSTILE_ANSWERS)
    for v in values:
        assert not violations(v), v
    assert "&lt;script&gt;" in values[0] and "<script" not in values[0]
    assert "![" not in values[1] and "](javascript:" not in values[1] and ":red[" not in values[1]
    assert "`<script>kept()</script>`" in values[2]  # inert inside code, shown as written
    assert "&lt;iframe" in values[2]


def test_an_answers_headings_become_bold_lines_not_page_headings():
    out = safe_markdown("# Step one\nDo this.\n## Step two ##\n    # code stays code\nnot # a heading")
    assert "**Step one**" in out and "**Step two**" in out and "# Step one" not in out
    assert "not # a heading" in out


def test_a_code_span_across_a_line_that_starts_an_html_block_leaves_nothing_raw():
    """Found by the fuzz test above: "`" then a line "<script>…</script>`" looked like one code span to the
    scanner, but the line starts an HTML block, which ends the paragraph: the script tag went out raw."""
    text = "\x1f`\n<script>alert(1)</script>" * 3
    assert violations(safe_markdown(text)) == []
    assert safe_markdown("a `code` b") == "a `code` b"  # a span on one line stays code
