"""Signatures: part of the body from the start, swapped when the sender changes.

The composer opens with the identity's signature in the body (text: "-- " and the signature
after a blank line; HTML: a ``<div data-signature>`` block), above the quote of a reply, so the
person sees and may edit what is sent. In the browser, choosing another From swaps the block in
place (static/js/editor.js). The server makes sure again when the message is sent (``settle``):
if the body holds another of the user's identities' signature, unedited, and not the chosen
one's, that signature is replaced by the chosen one's (or removed, when it has none), so a
browser without JavaScript gets the right signature too. An edited or deleted signature is left
as the person wrote it; nothing is ever appended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import lxml.html
from django.utils.html import escape

from accounts.models import Identity, User
from outbox.richtext import SIGNATURE_ATTRIBUTE, plain_text, sanitize_composed

SEPARATOR = "-- \n"


def text_block(identity: Identity) -> str:
    signature = identity.signature.replace("\r\n", "\n").strip("\n")
    if not signature.strip() and identity.signature_html.strip():  # only a rich one: its text
        signature = plain_text(sanitize_composed(identity.signature_html, images=False)).strip("\n")
    return f"{SEPARATOR}{signature}" if signature.strip() else ""


def html_inner(identity: Identity) -> str:
    """The rich signature (sanitized, no images), else the plain one as HTML."""
    if identity.signature_html.strip():
        return sanitize_composed(identity.signature_html, images=False)
    lines = identity.signature.replace("\r\n", "\n").strip("\n").split("\n")
    return "<br>".join(escape(line) for line in lines) if identity.signature.strip() else ""


def html_block(identity: Identity) -> str:
    inner = html_inner(identity)
    return f'<div {SIGNATURE_ATTRIBUTE}="">-- <br>{inner}</div>' if inner else ""


def initial_text(identity: Identity | None, body: str) -> str:
    """A new message's or an answer's text with the signature above what ``body`` has (a quote)."""
    block = text_block(identity) if identity else ""
    return f"\n\n{block}{body}" if block else body


def initial_html(identity: Identity | None, html: str) -> str:
    block = html_block(identity) if identity else ""
    return f"<div><br></div>{block}{html}"


def settle_text(body: str, chosen: Identity, identities: Sequence[Identity]) -> str:
    mine = text_block(chosen)
    if mine and _find_text(body, mine):
        return body
    for other in identities:
        block = text_block(other)
        if other.pk != chosen.pk and block and block != mine and (found := _find_text(body, block)):
            start, end = found.span()
            if not mine:  # the chosen identity has none: the blank line before goes too
                start = max(0, start - 2) if body[max(0, start - 2) : start] == "\n\n" else start
            return body[:start] + mine + body[end:]
    return body


def _find_text(body: str, block: str) -> re.Match[str] | None:
    # A whole block: from a line's start to a line's end ("Ann" is not "Ann Smith").
    return re.search(rf"(?:^|(?<=\n)){re.escape(block)}(?=\n|$)", body)


def _signature_text(html: str) -> str:
    return plain_text(html).strip()


def settle_html(html: str, chosen: Identity, identities: Sequence[Identity]) -> str:
    if f"{SIGNATURE_ATTRIBUTE}=" not in html:
        return html
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    blocks = root.xpath(f"//div[@{SIGNATURE_ATTRIBUTE}]")
    mine = html_block(chosen)
    shown = [_signature_text(lxml.html.tostring(block, encoding="unicode")) for block in blocks]
    if not blocks or (mine and _signature_text(mine) in shown):
        return html
    others = {_signature_text(html_block(i)) for i in identities if i.pk != chosen.pk and html_inner(i)}
    for block, text in zip(blocks, shown, strict=True):
        if text in others:
            if mine:
                block.addprevious(lxml.html.fragment_fromstring(mine))
            _drop(block)
            return _serialized(root)
    return html


def _drop(element) -> None:
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _serialized(root) -> str:
    return (escape(root.text) if root.text else "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )


def prefill(initial: dict[str, object], user: User) -> dict[str, object]:
    """The composer's first text and HTML (``initial``'s ``body`` and ``html``, empty for a new
    message) with the signature of the identity it starts with."""
    identities = list(user.identities.all())
    chosen = initial.get("identity")
    identity = next((i for i in identities if i.pk == chosen), None) or next(
        (i for i in identities if i.is_default), identities[0] if identities else None
    )
    if not initial.get("body") and not initial.get("html") and not (identity and text_block(identity)):
        return initial  # nothing to write yet
    return {
        **initial,
        "body": initial_text(identity, str(initial.get("body", ""))),
        "html": initial_html(identity, str(initial.get("html", ""))),
    }
