"""Article bodies: what HTML an article may hold, and its plain text for search.

Articles are written by the desk, not by strangers, but they are shown on the public help
center, so their HTML is cleaned all the same: headings, lists, tables, code, images and links
(relative ones too: ``/help/…`` between articles), nothing that runs or restyles the page.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

import nh3

_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li",
    "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "*": {"lang", "dir"},
}
_CLEANER = nh3.Cleaner(
    tags=set(_TAGS), attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
    clean_content_tags={"script", "style"}, url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
)
_BLOCKS = frozenset({"p", "div", "li", "tr", "h2", "h3", "h4", "h5", "h6", "pre",
                     "blockquote", "dd", "dt", "figcaption", "br", "hr", "table"})
_BLANK_RUN = re.compile(r"\n{3,}")


def sanitize_html(body: str) -> str:
    """The article's HTML with only what the help center may show."""
    return _CLEANER.clean(body or "").strip()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(body: str) -> str:
    """Plain text of (already clean) article HTML: paragraphs on lines of their own."""
    parser = _Text()
    parser.feed(body or "")
    parser.close()
    text = html_lib.unescape("".join(parser.parts))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()
