"""HTML a person wrote in the composer: cleaned again on the server, its plain-text twin, its images.

The browser's editor cleans what is pasted (DOMPurify), but the form's ``body_html`` is whatever
the request says, so everything here assumes the worst. ``sanitize_composed`` keeps a small
allow-list (nh3, like ``webmail.mailbox.sanitize`` for reading, but much narrower: what the
toolbar makes, no ``style``, no ``class``, no remote anything); images are accepted only as
``data:image/...;base64`` (pasted or dropped) and leave as inline ``cid:`` parts
(``inline_images``). ``plain_text`` writes the text/plain alternative: links as ``text <url>``,
quotes behind ``> ``.
"""

from __future__ import annotations

import base64
import binascii
import html as html_module
import re
from dataclasses import dataclass
from email.utils import make_msgid

import lxml.html
import nh3
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display, WhiteSpace
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Tables too: nobody draws one in the composer, but a quoted or forwarded invoice keeps its rows.
ALLOWED_TAGS = _words(
    "p div br b strong i em u s strike a ul ol li blockquote pre code span h1 h2 h3 img hr "
    "table thead tbody tfoot tr td th caption"
)
# Dropped with everything inside: code, styles, titles, and markup for things never composed.
DROPPED_WITH_CONTENT = _words("script style title noscript template iframe object embed svg math textarea select head")
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "div": {"data-signature"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
TAG_ATTRIBUTE_VALUES = {"blockquote": {"type": {"cite"}}}
LINK_SCHEMES = ("http:", "https:", "mailto:")
IMAGE_TYPES = ("png", "jpeg", "gif", "webp")
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/=\s]+)", re.IGNORECASE)
CID = re.compile(r"cid:[\x21-\x7e]{1,200}")
SIGNATURE_ATTRIBUTE = "data-signature"


def sanitize_composed(html: str, *, images: bool = True, cid: bool = False) -> str:
    """``html`` reduced to the composer's allow-list. ``images``: keep pasted ``data:`` images
    (False for a signature); ``cid``: keep ``cid:`` images (the HTML after ``inline_images``)."""

    def attribute_filter(tag: str, name: str, value: str) -> str | None:
        value = value.strip()
        if tag == "a" and name == "href":
            return value if value.lower().startswith(LINK_SCHEMES) else None
        if tag == "img" and name == "src":
            if images and DATA_IMAGE.fullmatch(value):
                return value
            return value if cid and CID.fullmatch(value) else None
        if name == SIGNATURE_ATTRIBUTE:
            return ""
        if name in ("colspan", "rowspan"):
            return value if value.isdigit() and 0 < int(value) <= 100 else None
        return value

    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        tag_attribute_values=TAG_ATTRIBUTE_VALUES,
        url_schemes={"http", "https", "mailto", "data", "cid"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    # An image whose source was refused is an empty frame: drop the element itself.
    return re.sub(r"<img(?![^>]*\ssrc=)[^>]*>", "", cleaned)


# -- the images -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineImage:
    cid: str  # without the angle brackets
    subtype: str  # png, jpeg, gif, webp
    data: bytes


def inline_images(html: str, domain: str) -> tuple[str, list[InlineImage]]:
    """Each ``data:image/...;base64`` source in sanitized ``html`` becomes ``cid:`` and an inline
    part; the same picture pasted twice is one part. A source that is not valid base64 is
    dropped with its image."""
    found: dict[str, InlineImage] = {}

    def replace(match: re.Match[str]) -> str:
        subtype, encoded = match.group(1).lower(), re.sub(r"\s", "", match.group(2))
        if encoded not in found:
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                return "data:,"
            if not _looks_like(subtype, data):
                return "data:,"
            found[encoded] = InlineImage(make_msgid("img", domain=domain)[1:-1], subtype, data)
        return f"cid:{found[encoded].cid}"

    converted = DATA_IMAGE.sub(replace, html)
    converted = re.sub(r'<img[^>]*\ssrc="data:,"[^>]*>', "", converted)
    return converted, list(found.values())


_MAGIC = {"png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8\xff",), "gif": (b"GIF87a", b"GIF89a")}


def _looks_like(subtype: str, data: bytes) -> bool:
    """The bytes are the picture the type says (a sniffing reader would not take them for HTML)."""
    if subtype == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(_MAGIC[subtype])


def data_url_sizes(html: str) -> list[int]:
    """The decoded size of each pasted image in ``html`` (an estimate: padding counted)."""
    return [len(re.sub(r"\s", "", m.group(2))) * 3 // 4 for m in DATA_IMAGE.finditer(html)]


def without_data_urls(html: str) -> str:
    return DATA_IMAGE.sub("", html)


# -- the plain-text alternative -------------------------------------------------------------------

# Quotes and signatures are rendered first and put back as preformatted text; a signature with
# a blank line around it.
_SIGNATURE_TAG = "x-signature"
_CSS = CSS_PROFILES["strict"].copy()
_CSS[_SIGNATURE_TAG] = HtmlElement(display=Display.block, whitespace=WhiteSpace.pre, margin_before=1, margin_after=1)
_CONFIG = ParserConfig(css=_CSS)


def plain_text(html: str) -> str:
    """The text/plain alternative of composed (sanitized) ``html``."""
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for link in root.iter("a"):
        _link_inline(link)
    return _render(root)


def _render(root: lxml.html.HtmlElement) -> str:
    for element in _outermost(root):
        element.tag = "div"
        if element.get(SIGNATURE_ATTRIBUTE) is not None:
            del element.attrib[SIGNATURE_ATTRIBUTE]
            _replace_with_text(element, _signature(_render(element)), _SIGNATURE_TAG)
        else:
            lines = _render(element).rstrip("\n").split("\n")
            _replace_with_text(element, "\n".join(f"> {line}" if line else ">" for line in lines), "pre")
    text = Inscriptis(root, _CONFIG).get_text()
    lines = [line if line == "-- " else line.rstrip() for line in text.replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _special(element) -> bool:
    return element.tag == "blockquote" or element.get(SIGNATURE_ATTRIBUTE) is not None


def _outermost(root) -> list:
    """The quotes and signatures under ``root`` that no other one under ``root`` contains."""

    def inside_another(element) -> bool:
        for ancestor in element.iterancestors():
            if ancestor is root:
                return False
            if _special(ancestor):
                return True
        return False

    return [element for element in root.iterdescendants() if _special(element) and not inside_another(element)]


def _signature(text: str) -> str:
    lines = text.strip("\n").split("\n")
    if lines and lines[0].strip() == "--":
        lines = lines[1:]
    return "-- \n" + "\n".join(lines)


def _replace_with_text(element, text: str, tag: str) -> None:
    # A <pre> keeps the prefixes and the "-- " line as they are; the parser does not see it again.
    for child in list(element):
        element.remove(child)
    element.tag = tag
    element.attrib.clear()
    element.text = text


def _link_inline(link) -> None:
    href = (link.get("href") or "").strip()
    text = link.text_content().strip()
    shown = href[len("mailto:") :] if href.lower().startswith("mailto:") else href
    if href and text and text not in (href, shown):
        tail = lxml.html.Element("span")
        tail.text = f" <{shown}>"
        link.append(tail)
    elif href and not text:
        link.text = shown


def text_to_html(text: str) -> str:
    """Plain text as composed HTML: one ``<div>`` a line, an empty line a ``<div><br></div>``."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "".join(f"<div>{html_module.escape(line)}</div>" if line else "<div><br></div>" for line in lines)
