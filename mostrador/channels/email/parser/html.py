"""HTML bodies: sanitising with nh3, and HTML → text with the quoted history marked.

Absolute imports keep this module from shadowing the standard :mod:`html` package.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# Deeply nested HTML makes the sanitiser quadratic (20,000 nested divs take seconds); real
# mail stays far below this depth, so deeper HTML is kept as text only.
MAX_HTML_DEPTH = 400
_MAX_QUOTE_PREFIX = 20

_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code",
        "col", "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4",
        "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
        "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "tt", "u", "ul",
    }
)  # fmt: skip
_CLEAN_CONTENT_TAGS = frozenset(
    {"script", "style", "title", "head", "template", "noscript", "iframe", "object", "embed",
     "svg", "math", "textarea", "select"}
)  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"dir", "lang", "title", "align", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"width", "border", "cellpadding", "cellspacing"},
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width"},
    "col": {"span", "width"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
}
_ALLOWED_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font-weight", "font-style", "font-size", "font-family",
        "text-decoration", "text-align", "vertical-align", "white-space", "margin-left",
        "padding-left", "border-left", "width",
    }
)  # fmt: skip


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Remote images other than https are trackers and mixed content; cid: points at a part of
    # this very message.
    if tag == "img" and attribute == "src":
        return value if value.strip().lower().startswith(("cid:", "https:")) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(_ALLOWED_TAGS),
    clean_content_tags=set(_CLEAN_CONTENT_TAGS),
    attributes={tag: set(names) for tag, names in _ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_filter_attribute,
    link_rel="noopener noreferrer nofollow",
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    url_relative="deny",
    filter_style_properties=set(_ALLOWED_STYLE_PROPERTIES),
)

_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "blockquote", "pre"}
)
_BLOCK_TAGS = _PARAGRAPH_TAGS | frozenset(
    {"address", "article", "aside", "center", "dd", "details", "div", "dt", "fieldset",
     "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav", "section",
     "summary", "tbody", "tfoot", "thead", "tr"}
)  # fmt: skip
_SKIP_TAGS = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "svg", "math", "iframe",
     "object", "textarea", "select"}
)  # fmt: skip
# Containers of quoted history as Gmail, Yahoo, Thunderbird, Proton and new Outlook mark them.
_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix",
     "protonmail_quote"}
)  # fmt: skip
_QUOTE_IDS = frozenset({"mail-editor-reference-message-container"})
# Outlook puts the quoted message after these markers as siblings, not inside them.
_STOP_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "stopspelling"})
HTML_QUOTE_MARKER_RE = re.compile(
    r"<blockquote|gmail_quote|divRplyFwdMsg|appendonsend|stopSpelling|yahoo_quoted|"
    r"moz-cite-prefix|protonmail_quote|mail-editor-reference-message-container",
    re.I,
)
_BLANK_RUN_RE = re.compile(r"\n{3,}")
_CONTAINER_TAG_RE = re.compile(
    r"<(/?)(?:div|blockquote|ul|ol|dl|dd|pre|listing|section|article|aside|header|footer|nav|"
    r"main|figure|address|details|summary|dialog|search|fieldset|optgroup|center|menu|dir|"
    r"hgroup)\b",
    re.I,
)


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to safe formatting: no scripts, style sheets, event handlers,
    forms or frames; links get ``rel="noopener noreferrer nofollow"``; images keep only
    ``cid:`` and ``https:`` sources."""
    return _CLEANER.clean(html).strip() if html and not html.isspace() else ""


def html_to_text(html: str) -> str:
    """Return readable plain text for ``html``: blocks on their own lines, list bullets, link
    URLs after their text, quoted blocks prefixed with ``>``, whitespace normalised."""
    return HtmlText.convert(html)[0]


def html_depth(html: str) -> int:
    """The deepest nesting of the containers that HTML parsers never close implicitly (a
    cheap scan, not a parse); tables, lists items and inline tags are capped by the parser."""
    depth = deepest = 0
    for match in _CONTAINER_TAG_RE.finditer(html):
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        deepest = max(deepest, depth)
    return deepest


class HtmlText(HTMLParser):
    """A small HTML → text converter that also marks the lines that belong to quoted history,
    so that one pass gives both the full text and the text of the reply alone."""

    @classmethod
    def convert(cls, html: str) -> tuple[str, str]:
        """Return (full text, text without quoted history)."""
        parser = cls()
        parser.feed(html)
        parser.close()
        parser._flush()
        return parser._render(include_folded=True), parser._render(include_folded=False)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[tuple[str, int, bool]] = []
        self._parts: list[str] = []
        self._line_depth = 0
        self._line_folded = False
        self._space = False
        self._marker_only = False
        self._quote_depth = 0
        self._skip: list[str] = []
        self._pre = 0
        self._lists: list[list[int]] = []
        self._link_href: str | None = None
        self._link_text: list[str] = []
        self._fold_tag = ""
        self._fold_open = 0
        self._fold_rest = False

    @property
    def _folded(self) -> bool:
        return self._fold_rest or bool(self._fold_tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag in _SKIP_TAGS:
                self._skip.append(tag)
            elif tag == "body":
                self._skip.clear()  # an unclosed <head>
            return
        if tag in _SKIP_TAGS:
            self._skip.append(tag)
            return
        if tag == "br":
            if self._parts:
                self._flush()
            else:
                self._lines.append(("", self._quote_depth, self._folded))
            return
        if tag in _PARAGRAPH_TAGS:
            self._block(blank=True)
        elif tag in _BLOCK_TAGS:
            self._block(blank=False)
        self._update_fold(tag, attrs)
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag in ("ul", "ol"):
            self._lists.append([tag == "ol", 0])
        elif tag == "li":
            self._start_item()
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th"):
            self._space = bool(self._parts)
        elif tag == "a":
            href = next((value for name, value in attrs if name == "href"), None)
            self._link_href = (href or "").strip()
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            return
        if tag == "a":
            self._end_link()
        elif tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in _PARAGRAPH_TAGS:
            self._block(blank=True)
        elif tag in _BLOCK_TAGS:
            self._block(blank=False)
        if self._fold_tag and tag == self._fold_tag:
            self._fold_open -= 1
            if self._fold_open <= 0:
                self._fold_tag = ""

    def handle_data(self, data: str) -> None:
        if self._skip or not data:
            return
        if self._pre:
            for index, chunk in enumerate(data.replace("\r\n", "\n").split("\n")):
                if index:
                    self._flush(force=True)
                if chunk:
                    self._append(chunk)
            return
        words = data.split()
        if not words:
            self._space = self._space or bool(self._parts)
            return
        if self._parts and (self._space or data[0].isspace()) and not self._marker_only:
            self._parts.append(" ")
        text = " ".join(words)
        self._append(text)
        self._marker_only = False
        self._space = data[-1].isspace()
        if self._link_href is not None:
            self._link_text.append(text)

    # --- helpers ---------------------------------------------------------------------------

    def _update_fold(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._fold_rest:
            return
        if self._fold_tag:
            if tag == self._fold_tag:
                self._fold_open += 1
            return
        element_id = ""
        classes: set[str] = set()
        for name, value in attrs:
            if name == "id" and value:
                element_id = value.strip().lower()
            elif name == "class" and value:
                classes.update(value.lower().split())
        if element_id in _STOP_IDS:
            self._fold_rest = True
        elif tag == "blockquote" or classes & _QUOTE_CLASSES or element_id in _QUOTE_IDS:
            self._fold_tag, self._fold_open = tag, 1

    def _start_item(self) -> None:
        if self._lists and self._lists[-1][0]:
            self._lists[-1][1] += 1
            marker = f"{self._lists[-1][1]}. "
        else:
            marker = "• "
        self._append("  " * max(0, len(self._lists) - 1) + marker)
        self._marker_only = True

    def _end_link(self) -> None:
        href, text = self._link_href or "", " ".join(self._link_text)
        self._link_href, self._link_text = None, []
        lowered = href.lower()
        if not text or not lowered.startswith(("http:", "https:", "mailto:", "tel:")):
            return
        shown = href.split(":", 1)[1] if lowered.startswith(("mailto:", "tel:")) else href
        if shown.rstrip("/").lower() not in text.lower():
            self._parts.append(f" ({shown})")

    def _append(self, text: str) -> None:
        if not self._parts:
            self._line_depth = self._quote_depth
            self._line_folded = self._folded
        self._parts.append(text)

    def _flush(self, *, force: bool = False) -> None:
        if self._parts or force:
            line = "".join(self._parts).rstrip()
            depth, folded = (
                (self._line_depth, self._line_folded)
                if self._parts
                else (self._quote_depth, self._folded)
            )
            self._lines.append((line, depth, folded))
        self._parts = []
        self._space = False
        self._marker_only = False

    def _block(self, *, blank: bool) -> None:
        if self._marker_only:
            return  # <li><p>…: keep the bullet on the line of its text
        if self._parts:
            self._flush()
        if blank and self._lines and self._lines[-1][0]:
            self._lines.append(("", self._quote_depth, self._folded))

    def _render(self, *, include_folded: bool) -> str:
        out: list[str] = []
        for text, depth, folded in self._lines:
            if folded and not include_folded:
                continue
            prefix = "> " * min(depth, _MAX_QUOTE_PREFIX)
            out.append(f"{prefix}{text}" if text else prefix.rstrip())
        return _BLANK_RUN_RE.sub("\n\n", "\n".join(out)).strip()
