"""What changed in a folder since the last sync (CONDSTORE, QRESYNC: RFC 7162), and the fast
reader of FETCH responses the sync uses for ranges of messages.

imapclient has no words for SELECT's QRESYNC parameter, VANISHED, or a UID FETCH of a range,
so these go one level down, to imaplib, through webmail.protocol.imap_internals. What the server
answers is parsed strictly: a UID is an int from 1 to 2**32-1, a UID set is digits, colons and
commas. A report that is not quite right is not used at all (None), and the caller asks the
slow, plain way instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

from webmail.protocol import imap_internals
from webmail.protocol.imap import MAX_MODSEQ, MAX_UID, UnsafeArgument, check_text

log = logging.getLogger(__name__)

_UID_SET = re.compile(rb"[0-9]{1,10}(?::[0-9]{1,10})?(?:,[0-9]{1,10}(?::[0-9]{1,10})?)*")
_VANISHED = re.compile(rb"(?:\(EARLIER\) )?([0-9:,]+)", re.IGNORECASE)


@dataclass
class Resync:
    """What a SELECT with QRESYNC told: the usual status (as ``select_folder`` returns it), the
    UIDs expunged since the MODSEQ given as merged (low, high) ranges, and the flags changed
    since then by UID ({b"FLAGS": (...), b"MODSEQ": (n,)}); None where the report was unusable."""

    status: dict
    vanished: list[tuple[int, int]] | None
    changed: dict[int, dict] | None


def _positive(value: object, limit: int) -> bool:
    return type(value) is int and 1 <= value <= limit


def parse_uid_set(text: bytes) -> list[tuple[int, int]] | None:
    """``b"3,7:9,12"`` as [(3, 3), (7, 9), (12, 12)], merged and sorted; None unless it is a
    well-formed set of UIDs (no ``*``: a server reporting expunged UIDs knows which)."""
    if not _UID_SET.fullmatch(text):
        return None
    ranges = []
    for part in text.split(b","):
        low_text, _colon, high_text = part.partition(b":")
        low, high = int(low_text), int(high_text or low_text)
        low, high = min(low, high), max(low, high)
        if low < 1 or high > MAX_UID:
            return None
        ranges.append((low, high))
    return merge_ranges(ranges)


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


def _vanished_ranges(responses: list) -> list[tuple[int, int]] | None:
    ranges: list[tuple[int, int]] = []
    for response in responses:
        match = _VANISHED.fullmatch(response) if isinstance(response, bytes) else None
        uids = parse_uid_set(match.group(1)) if match else None
        if uids is None:
            log.warning("ignoring a VANISHED response that is not a UID set: %.200r", response)
            return None
        ranges.extend(uids)
    return merge_ranges(ranges)


def _flag_changes(responses: list) -> dict[int, dict] | None:
    if not responses:
        return {}
    try:
        parsed = parse_fetch(list(responses), False) or parse_fetch_response(list(responses), False, uid_is_key=False)
    except (IMAPClientError, ValueError, TypeError, IndexError):
        log.warning("ignoring FETCH responses to a QRESYNC SELECT that do not parse", exc_info=True)
        return None
    changes: dict[int, dict] = {}
    for data in parsed.values():
        uid, flags, modseq = data.get(b"UID"), data.get(b"FLAGS"), data.get(b"MODSEQ")
        if not isinstance(uid, int) or not _positive(uid, MAX_UID) or not isinstance(flags, tuple):
            log.warning("ignoring FETCH responses to a QRESYNC SELECT without UID and FLAGS")
            return None
        changes[uid] = {b"FLAGS": tuple(flag for flag in flags if isinstance(flag, bytes)), b"MODSEQ": modseq}
    return changes


def select_resync(
    client: IMAPClient, folder_name: str, uidvalidity: int, modseq: int, known: tuple[int, int] | None = None
) -> Resync:
    """EXAMINE ``folder_name`` (QRESYNC (uidvalidity modseq [low:high])): one command for the
    status, the UIDs expunged since ``modseq`` (VANISHED (EARLIER)) and the flags changed since
    (untagged FETCH). The session must have ENABLEd QRESYNC. ``known`` bounds the UIDs the server
    reports on. When ``uidvalidity`` is no longer the folder's, the server reports nothing: the
    caller compares the status's UIDVALIDITY before trusting an empty report."""
    check_text(folder_name, "folder name")
    if not _positive(uidvalidity, MAX_UID) or not _positive(modseq, MAX_MODSEQ):
        raise UnsafeArgument(f"not a UIDVALIDITY and MODSEQ: {uidvalidity!r} {modseq!r}")
    parameters = f"{uidvalidity} {modseq}"
    if known is not None and _positive(known[0], MAX_UID) and _positive(known[1], MAX_UID) and known[0] <= known[1]:
        parameters += f" {known[0]}:{known[1]}"
    status, vanished, fetched = imap_internals.select_with_parameters(client, folder_name, f"(QRESYNC ({parameters}))")
    return Resync(status, _vanished_ranges(vanished), _flag_changes(fetched))


def fetch_uid_range(
    client: IMAPClient, low: int, high: int, items: list[bytes], *, changed_since: int | None = None
) -> dict[int, dict]:
    """UID FETCH low:high, optionally (CHANGEDSINCE modseq), as {uid: {item: value}}.

    A range where ``client.fetch`` would list every UID (a long command for the server to parse),
    and CHANGEDSINCE, which ``client.fetch``'s UID filter cannot take. Responses without a UID
    in the range (unsolicited ones about other messages) are dropped."""
    if not (_positive(low, MAX_UID) and _positive(high, MAX_UID) and low <= high):
        raise UnsafeArgument(f"not a UID range: {low!r}:{high!r}")
    modifiers = None
    if changed_since is not None:
        if not _positive(changed_since, MAX_MODSEQ):
            raise UnsafeArgument(f"not a MODSEQ: {changed_since!r}")
        modifiers = f"(CHANGEDSINCE {changed_since})"
    items_text = imap_internals.fetch_items(items)
    tag = imap_internals.send_command(client, "UID", "FETCH", f"{low}:{high}", items_text, modifiers)
    return _fetched(client, tag, low, high)


def changes_since(client: IMAPClient, modseq: int, low: int = 1) -> Resync:
    """What changed in the folder this session holds selected, without selecting it again:
    ``UID FETCH low:* (UID FLAGS) (CHANGEDSINCE modseq VANISHED)`` (RFC 7162 3.2.6) answers with
    the flags of every message changed or added since ``modseq`` and the UIDs expunged since.
    The session must have ENABLEd QRESYNC; ``status`` is empty (no SELECT was sent)."""
    if not _positive(modseq, MAX_MODSEQ) or not _positive(low, MAX_UID):
        raise UnsafeArgument(f"not a MODSEQ and a UID: {modseq!r} {low!r}")
    imap_internals.take_untagged(client, ("VANISHED",))  # unasked ones, said earlier: not this answer
    items = imap_internals.fetch_items([b"UID", b"FLAGS"])
    tag = imap_internals.send_command(client, "UID", "FETCH", f"{low}:*", items, f"(CHANGEDSINCE {modseq} VANISHED)")
    fetched = imap_internals.fetch_answer(client, tag)
    vanished = imap_internals.take_untagged(client, ("VANISHED",)).get("VANISHED", [])
    return Resync({}, _vanished_ranges(vanished), _flag_changes(fetched))


def fetch_sequence_range(client: IMAPClient, low: int, high: int, items: list[bytes]) -> dict[int, dict]:
    """FETCH low:high by sequence number (the newest messages of a folder whose UIDs are not
    known yet), as {uid: {item: value}}; ``items`` must include UID."""
    if not (_positive(low, MAX_UID) and _positive(high, MAX_UID) and low <= high):
        raise UnsafeArgument(f"not a sequence range: {low!r}:{high!r}")
    tag = imap_internals.send_command(client, "FETCH", f"{low}:{high}", imap_internals.fetch_items(items))
    return _fetched(client, tag, 1, MAX_UID)


def _fetched(client: IMAPClient, tag: Any, low: int, high: int) -> dict[int, dict]:
    """The answer to a FETCH command sent as ``tag``, read quickly (imapclient's reader when
    unsure), keyed by UID; responses without a UID in low..high (unsolicited ones) dropped."""
    data = imap_internals.fetch_answer(client, tag)
    parsed = parse_fetch(data, client.normalise_times)
    if parsed is None:  # something the quick reading does not know: imapclient's, which raises on nonsense
        parsed = parse_fetch_response(data, client.normalise_times, uid_is_key=False)
    fetched = {}
    for message in parsed.values():
        uid = message.get(b"UID")
        if type(uid) is int and low <= uid <= high:
            fetched[uid] = message
    return fetched


# -- FETCH responses, read quickly --------------------------------------------------------------
#
# imapclient reads a response character by character in Python: for a folder's envelopes that is
# most of a full sync's CPU time (0.4 ms a message). This reads the same responses with one
# regular expression per token and gives what imapclient's parse_fetch_response(uid_is_key=False)
# gives: {seq: {b"SEQ": seq, b"UID": ..., b"FLAGS": (...), b"ENVELOPE": Envelope(...), ...}}.
# Anything it is not sure of (a FETCH item it does not convert, an atom with an unclosed bracket,
# unbalanced parentheses) makes it return None, and the caller hands the response to imapclient.

_TOKEN = re.compile(
    rb"([ \t]*(?:"
    rb"(\()|(\))"  # 2, 3
    rb'|("(?:[^"\\]|\\.)*")'  # 4: a quoted string, quotes included
    rb"|([^\s()\"{}\[\]]+(?:\[[^\]]*\][^\s()\"{}\[\]]*)?)"  # 5: an atom, BODY[...] included
    rb"|\{([0-9]{1,10})\}$))"  # 6: the size of the literal that follows the line
)
_ESCAPED = re.compile(rb'\\([\\"])')
# What imapclient turns into something else than the parsed value; not in our FETCH items.
_CONVERTED_ITEMS = {b"INTERNALDATE", b"BODY", b"BODYSTRUCTURE"}


class _Unsure(Exception):
    pass


def _read_tokens(text: bytes, stack: list[list], literal: bytes | None) -> None:
    """Append the tokens of one line to the innermost open list; a line ending in {n} is
    followed by its literal (imaplib read it: the pair is a tuple in the response data)."""
    tokens = _TOKEN.findall(text)
    # Matches do not overlap: when they add up to the whole line, nothing was skipped.
    if sum(len(token[0]) for token in tokens) != len(text.rstrip(b" \t")):
        raise _Unsure
    current = stack[-1]
    for _whole, opening, closing, quoted, atom, size in tokens:
        if atom:
            if atom == b"NIL":
                current.append(None)
            elif atom.isdigit() and (atom[:1] != b"0" or len(atom) == 1):
                current.append(int(atom))
            else:
                current.append(atom)
        elif quoted:
            quoted = quoted[1:-1]
            current.append(_ESCAPED.sub(rb"\1", quoted) if b"\\" in quoted else quoted)
        elif opening:
            current = []
            stack.append(current)
        elif closing:
            if len(stack) < 2:
                raise _Unsure
            done = tuple(stack.pop())
            current = stack[-1]
            current.append(done)
        elif literal is None or int(size) != len(literal):
            raise _Unsure
        else:
            current.append(literal)
            literal = None
    if literal is not None:
        raise _Unsure


def parse_fetch(data: list, normalise_times: bool = True) -> dict[int, dict] | None:
    """FETCH response data as imaplib leaves it, read like imapclient's parse_fetch_response
    (keyed by sequence number); None when unsure."""
    if data == [None]:
        return {}
    stack: list[list] = [[]]
    try:
        for line in data:
            if isinstance(line, tuple) and len(line) == 2 and isinstance(line[0], bytes) and isinstance(line[1], bytes):
                _read_tokens(line[0], stack, line[1])
            elif isinstance(line, bytes):
                _read_tokens(line, stack, None)
            else:
                raise _Unsure
        top = stack[0]
        if len(stack) != 1 or len(top) % 2:
            raise _Unsure
        parsed: dict[int, dict] = {}
        for index in range(0, len(top), 2):
            seq, items = top[index], top[index + 1]
            if type(seq) is not int or type(items) is not tuple or len(items) % 2:
                raise _Unsure
            message = parsed.setdefault(seq, {})
            message[b"SEQ"] = seq
            for item in range(0, len(items), 2):
                name, value = items[item], items[item + 1]
                if not isinstance(name, bytes) or (name := name.upper()) in _CONVERTED_ITEMS:
                    raise _Unsure
                if name == b"ENVELOPE":
                    value = imap_internals.convert_envelope(value, normalise_times)
                elif name == b"UID" and type(value) is not int:
                    raise _Unsure
                message[name] = value
    except (_Unsure, TypeError, IndexError, ValueError):
        return None
    return parsed
