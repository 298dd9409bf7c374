"""Untrusted mail HTML to HTML that is safe to show in the reading pane.

nh3 (ammonia on html5ever) parses like a browser and re-serialises from its tree, so nothing
the parser did not understand survives. On top of its tag and attribute allow-lists, one
``attribute_filter`` per call is the last word on every kept attribute: it re-checks URL
schemes (nh3 does not re-check what the filter returns), rewrites ``cid:`` images, blocks
remote images and filters inline CSS declaration by declaration.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import nh3
from django.utils.html import Urlizer


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_INPUT_BYTES = 2 * 1024 * 1024
# The caller styles this class with `white-space: pre-wrap`: the app's CSP (`style-src 'self'`)
# would ignore an inline style, and pre-wrap keeps the indentation of plain text, which <br> loses.
PLAIN_TEXT_CLASS = "mail-plain-text"

# Never allowed, whatever else changes: they run script, load or submit things, or restyle the page.
FORBIDDEN_TAGS = _words(
    "script style svg math form input button textarea select iframe frame frameset object embed applet "
    "base link meta title noscript template audio video source track canvas portal dialog"
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ALLOWED_TAGS = _words(
    "a abbr address article b big blockquote br caption center cite code col colgroup dd del div dl dt "
    "em figcaption figure font footer header hr i img ins li main mark nav ol p pre q s section small "
    "span strike strong sub sup table tbody td tfoot th thead tr tt u ul wbr"
) | frozenset(_HEADINGS)
if ALLOWED_TAGS & FORBIDDEN_TAGS:  # pragma: no cover - a guard against a careless edit
    raise RuntimeError("a forbidden tag is in the allow-list")
# Dropped with everything inside: their text is code, a page title, or fallback markup for
# features we never render. Other unlisted tags (form, font-less wrappers...) keep their text.
_DROP_WITH_CONTENT = _words(
    "script style title noscript template iframe noembed noframes object applet svg math textarea select"
)

_CELL = frozenset({"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor", "nowrap"})
# No `class` (mail would pick up our own stylesheet's classes to imitate the app's UI), no
# `id`/`name` (DOM clobbering of our scripts' globals), no `data-*`/`hx-*` (htmx would act on
# them), no `background`/`cite`/`srcset` (URLs that nh3's scheme check does not look at).
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"dir", "lang", "title", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "align", "hspace", "vspace"},
    "table": {"width", "height", "border", "cellpadding", "cellspacing", "align", "bgcolor"},
    "td": set(_CELL),
    "th": set(_CELL),
    "tr": {"align", "valign", "bgcolor", "height"},
    **{tag: {"align", "valign"} for tag in ("thead", "tbody", "tfoot")},
    **{tag: {"span", "width", "align", "valign"} for tag in ("col", "colgroup")},
    "font": {"color", "face", "size"},
    **{tag: {"align"} for tag in ("p", "div", "caption", *_HEADINGS)},
    "hr": {"width", "size", "align", "noshade"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
}
# Every link opens outside the app; remote images (when allowed) do not learn the message URL.
_SET_ATTRIBUTES = {"a": {"target": "_blank"}, "img": {"referrerpolicy": "no-referrer"}}
# nh3 drops every other scheme, however it is spelt (&#106;avascript:, java&#x09;script:...).
# data: stays out: a rare way to send images, and allowing it for <img> would leave our
# filter as the only thing between a data:text/html link and the browser.
URL_SCHEMES = frozenset({"http", "https", "mailto", "cid"})

# Presentational attributes take plain values only; anything odd is dropped, not repaired.
_NUMBER = re.compile(r"\d{1,5}(\.\d{1,3})?(%|px)?")
_ATTRIBUTE_VALUES: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(("width", "height", "border", "cellpadding", "cellspacing", "hspace", "vspace"), _NUMBER),
    "size": re.compile(r"[+-]?\d{1,3}"),  # <font size="+1">, <hr size="2">
    **dict.fromkeys(("colspan", "rowspan", "span", "start", "value"), re.compile(r"\d{1,4}")),
    **dict.fromkeys(("color", "bgcolor"), re.compile(r"#?[0-9a-zA-Z]{1,30}")),
    **dict.fromkeys(("align", "valign", "type"), re.compile(r"[\w-]{1,20}")),
    "dir": re.compile(r"ltr|rtl|auto", re.IGNORECASE),
    "lang": re.compile(r"[A-Za-z0-9-]{1,35}"),
    "face": re.compile(r"[\w\s,'\"-]{1,200}"),
}

_SIDES = ("top", "right", "bottom", "left")
_BORDER_PARTS = ("", "-width", "-style", "-color")
STYLE_PROPERTIES = frozenset(
    {"color", "background", "background-color", "line-height", "letter-spacing", "word-spacing", "word-break"}
    | {"word-wrap", "width", "height", "max-width", "min-width", "max-height", "min-height", "vertical-align"}
    | {"display", "white-space", "list-style-type", "direction", "float", "clear"}
    | {f"font{s}" for s in ("", "-family", "-size", "-style", "-variant", "-weight", "-stretch")}
    | {f"text-{s}" for s in ("align", "decoration", "decoration-color", "decoration-line", "decoration-style")}
    | {f"text-{s}" for s in ("indent", "transform", "overflow", "shadow")}
    | {f"{box}{side}" for box in ("margin", "padding") for side in ("", *(f"-{s}" for s in _SIDES))}
    | {f"border{side}{part}" for side in ("", *(f"-{s}" for s in _SIDES)) for part in _BORDER_PARTS}
    | {"border-collapse", "border-spacing", "border-radius"}
)
# Substrings that load things, run things (old IE, old Firefox) or make our splitting differ
# from the browser's CSS tokenizer (escapes, comments, blocks). `position` is not allowed as a
# property either; the value check is belt and braces against overlays.
_STYLE_FORBIDDEN: tuple[str, ...] = (
    "url(",
    "expression(",
    "@import",
    "javascript:",
    "vbscript:",
    "behavior",
    "-moz-binding",
)
_STYLE_FORBIDDEN += ("position", "\\", "/*", "*/", "<", ">", "{", "}", "[", "]", "@")
_STYLE_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc", "min", "max", "clamp"})
_DISPLAY_VALUES = frozenset({"block", "inline", "inline-block", "none", "table", "inline-table"})
_DISPLAY_VALUES |= {f"table-{s}" for s in ("row", "cell", "caption", "column", "row-group", "column-group")}
_DISPLAY_VALUES |= {"table-header-group", "table-footer-group"}


@dataclass(frozen=True)
class SanitizedHtml:
    html: str
    has_remote_images: bool  # http(s) <img> sources were present (blocked, or kept when allowed)
    truncated: bool = False  # the input was over the size limit: show "too large to display inline"


def sanitize_html(
    html: str,
    *,
    cid_url: Callable[[str], str] | None = None,
    allow_remote_images: bool = False,
    max_bytes: int = MAX_INPUT_BYTES,
) -> SanitizedHtml:
    """Clean a text/html body; `cid_url(content_id)` gives our URL for an inline part."""
    html, truncated = _truncate(html, max_bytes)
    state = _Pass(cid_url=cid_url, allow_remote_images=allow_remote_images)
    return SanitizedHtml(state.clean(html), state.has_remote_images, truncated)


# Text a reader cannot see: spaces (no-break and zero-width ones too) and the soft hyphen.
_INVISIBLE = re.compile(r"[\s\u00a0\u00ad\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff]+")
_SHOWN_IMAGE = re.compile(r"<img\b[^>]*\ssrc=", re.IGNORECASE)


def shows_something(cleaned: str) -> bool:
    """Whether sanitized HTML has text a reader can see, or an image it still loads.

    A text/html part reduced to nothing (a remote-image-only newsletter with images blocked, a
    body the sanitizer emptied, a sender's broken markup) is better read as its text/plain
    alternative."""
    if _SHOWN_IMAGE.search(cleaned):
        return True
    text = html.unescape(nh3.clean(cleaned, tags=set(), clean_content_tags=set()))
    return bool(_INVISIBLE.sub("", text))


def text_to_html(text: str, *, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A text/plain body as escaped HTML with links, wrapped in a `PLAIN_TEXT_CLASS` div."""
    text, truncated = _truncate(text, max_bytes)
    linked = _URLIZER(text + ("\n[…]" if truncated else ""), nofollow=False, autoescape=True)
    # A second guard: the same policy as mail HTML, which also adds rel and target to the links.
    return f'<div class="{PLAIN_TEXT_CLASS}">{_Pass().clean(linked)}</div>'


@dataclass
class _Pass:
    """The state of one cleaning: callbacks cannot be shared between calls or threads."""

    cid_url: Callable[[str], str] | None = None
    allow_remote_images: bool = False
    has_remote_images: bool = False
    our_urls: set[str] = field(default_factory=set)

    def clean(self, html: str) -> str:
        return nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            clean_content_tags=set(_DROP_WITH_CONTENT),
            attributes=ALLOWED_ATTRIBUTES,
            attribute_filter=self.filter_attribute,
            strip_comments=True,
            link_rel="noopener noreferrer",
            set_tag_attribute_values=_SET_ATTRIBUTES,
            url_schemes=set(URL_SCHEMES),
            # Mail has no base URL: a relative link or image would hit our own origin with the
            # user's cookies, and //host would be a remote image. Only our cid_url results pass.
            url_relative=lambda url: url if url in self.our_urls else None,
        )

    def filter_attribute(self, tag: str, attribute: str, value: str) -> str | None:
        if attribute == "style":
            return _filter_style(value)
        if (tag, attribute) in {("a", "href"), ("img", "src")}:
            return self.filter_url(tag, value)
        pattern = _ATTRIBUTE_VALUES.get(attribute)
        if pattern is not None and not pattern.fullmatch(value.strip()):
            return None
        return value

    def filter_url(self, tag: str, value: str) -> str | None:
        url, scheme = _read_url(value)
        if scheme == "cid":
            content_id = unquote(url[4:]).strip().strip("<>")  # RFC 2392: cid:%-escaped-id
            if self.cid_url is None or not content_id:
                return None
            ours, our_scheme = _read_url(self.cid_url(content_id))
            # nh3 does not re-check what we return: a cid_url that let the id through unquoted
            # (cid:javascript:...) must not become a script link. Ours is a path or http(s).
            if our_scheme not in {"http", "https"} and not (our_scheme == "" and re.match(r"/(?![/\\])", ours)):
                return None
            self.our_urls.add(ours)
            return ours
        if tag == "img":
            remote = scheme in {"http", "https"} or (not scheme and re.match(r"[/\\]{2}", url) is not None)
            self.has_remote_images |= remote
            if not remote or not self.allow_remote_images:
                return None
            # //host/x.png (or \\host\x.png, which browsers read alike) would load over https anyway.
            return url if scheme else "https://" + url[2:].replace("\\", "/")
        return url if scheme in {"http", "https", "mailto"} else None


def _read_url(value: str) -> tuple[str, str]:
    """The URL as a browser reads it (outer spaces and controls go, tabs and newlines anywhere), and its scheme."""
    url = re.sub(r"[\t\n\r]", "", value.strip("".join(map(chr, range(0x21)))))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return url, match.group(1).lower() if match else ""


def _filter_style(style: str) -> str | None:
    """Keep the allowed, plain declarations of an inline style; drop each other one whole.

    nh3's own `filter_style_properties` is not used: in 0.3.8 it matches property names
    case-sensitively (drops `COLOR: red`), mangles nested functions (`calc(1px + max(…))`
    comes out unbalanced), and re-serialises after this filter has checked the value.
    """
    kept = []
    for declaration in _split_declarations(style):
        if declaration is None:
            continue
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), " ".join(value.split())
        if colon and value and name in STYLE_PROPERTIES and _style_value_ok(name, value):
            kept.append(f"{name}: {value}")
    return "; ".join(kept) or None


def _split_declarations(style: str) -> list[str | None]:
    """Split on `;` outside quotes and parentheses; None marks a piece we cannot read for sure."""
    pieces: list[str | None] = []
    start, quote, depth, bad = 0, "", 0, False
    for index, char in enumerate(style):
        if quote:
            if char == quote:
                quote = ""
            elif char in "\n\r\f":  # a newline ends a CSS string early: the browser would split here
                bad = True
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            bad, depth = bad or depth == 0, max(depth - 1, 0)
        elif char == ";" and depth == 0:
            pieces.append(None if bad else style[start:index])
            start, bad = index + 1, False
    pieces.append(None if bad or quote or depth else style[start:])
    return pieces


def _style_value_ok(name: str, value: str) -> bool:
    lowered = value.lower()
    compact = "".join(lowered.split())
    if any(token in compact for token in _STYLE_FORBIDDEN) or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return False
    # Only colour and arithmetic functions: no url(), image-set(), element(), attr(), var()...
    functions = re.findall(r"([-\w]+)\s*\(", lowered)
    if lowered.count("(") != len(functions) or not _STYLE_FUNCTIONS.issuperset(functions):
        return False
    if name == "display":
        return lowered in _DISPLAY_VALUES
    # A negative margin is how a box escapes its container without `position`.
    return not (name.startswith("margin") and re.search(r"-\s*[\d.]", lowered))


def _truncate(text: str, max_bytes: int) -> tuple[str, bool]:
    # Also turns lone surrogates (undecodable bytes kept by surrogateescape) into "?".
    data = text.encode("utf-8", "replace")
    if len(data) <= max_bytes:
        return data.decode("utf-8"), False
    return data[:max_bytes].decode("utf-8", "ignore"), True  # "ignore" drops a cut character


class _MailUrlizer(Urlizer):
    """Django's urlize, plus `mailto:` words, which it leaves alone because of the colon."""

    def trim_punctuation(self, word: str) -> tuple[str, str, str]:
        # Django 5.2.19 overwrites the trail when it strips a closing bracket after other
        # punctuation ("(http://x)." loses the "."). `middle` only ever shrinks from the right,
        # so the true trail is the rest of the word.
        lead, middle, _ = super().trim_punctuation(word)
        return lead, middle, word[len(lead) + len(middle) :]

    def handle_word(
        self,
        word: str,
        *,
        safe_input: bool,
        trim_url_limit: int | None = None,
        nofollow: bool = False,
        autoescape: bool = False,
    ) -> str:
        def handle(text: str) -> str:
            return super(_MailUrlizer, self).handle_word(
                text, safe_input=safe_input, trim_url_limit=trim_url_limit, nofollow=nofollow, autoescape=autoescape
            )

        match = re.match(r"([(\[]*)(mailto:)(.*@.*)", word, re.IGNORECASE | re.DOTALL)
        if match is None:
            return handle(word)
        lead, prefix, address = match.groups()
        return lead + prefix + handle(address)  # lead and prefix need no escaping


_URLIZER = _MailUrlizer()
