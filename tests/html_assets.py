"""What a rendered HTML page would fetch or point at outside the Airflow host (for the report tests)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Absolute (``https://``, ``http://``) and protocol-relative (``//host``) references.
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_REFERENCE = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)|url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE)
_URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href"}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name == "srcset":
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name in _URL_ATTRIBUTES:
                self.found.append(value)
            elif name == "style":
                self.found += _css_references(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += _css_references(data)


def _css_references(css: str) -> list[str]:
    return [a or b for a, b in _CSS_REFERENCE.findall(css)]


def references(page: str) -> list[str]:
    """Every URL in src/href-like attributes, in ``@import`` and in ``url()`` of styles."""
    parser = _References()
    parser.feed(page)
    parser.close()
    return parser.found


def external_references(page: str) -> list[str]:
    """The references of ``page`` that leave the host it is served from."""
    return [ref for ref in references(page) if _EXTERNAL.match(ref)]


def links(page: str) -> dict[str, str]:
    """``<a href>`` targets by their text (whitespace collapsed)."""
    found: dict[str, str] = {}
    for href, text in re.findall(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>(.*?)</a>', page, flags=re.DOTALL):
        found[" ".join(re.sub(r"<[^>]+>", "", text).split())] = href.replace("&amp;", "&")
    return found
