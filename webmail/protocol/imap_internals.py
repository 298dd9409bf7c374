"""Every use of imapclient's and imaplib's private parts, in one place, each with its reason.

imapclient (4.x) has no words for SELECT's QRESYNC parameters, for the VANISHED and FETCH
answers that come with it, for a UID FETCH of a range with CHANGEDSINCE, or for reading a
FETCH answer with a reader of our own; its debug hook also costs CPU when nothing is logged.
These are done one level down, through the names listed in ``REQUIRED``. An upgrade that renames
or reshapes one of them must not make QRESYNC or the quick FETCH reader fall back in silence:
``missing()`` names what is gone, the system check ``webmail.E001`` makes ``manage.py check``,
``migrate`` and ``serve`` fail with it, and a test runs the check against the installed versions.

Nothing else in the project touches a private attribute of imapclient or imaplib.
"""

from __future__ import annotations

import imaplib
import inspect
from collections.abc import Callable
from typing import Any

import imapclient.imapclient
import imapclient.response_parser
from django.core import checks
from imapclient import IMAPClient

# (owner, name, the parameters it must take in this order, why we use it)
REQUIRED: list[tuple[Any, str, tuple[str, ...], str]] = [
    (IMAPClient, "_normalise_folder", ("self", "folder_name"), "quote a folder name as SELECT sends it"),
    (
        IMAPClient,
        "_command_and_check",
        ("self", "command", "args"),
        "SELECT with QRESYNC parameters appended to the mailbox argument",
    ),
    (IMAPClient, "_process_select_response", ("self", "resp"), "read SELECT's status as select_folder does"),
    (IMAPClient, "_checkok", ("self", "command", "typ", "data"), "turn a NO/BAD answer into imapclient's error"),
    (imaplib.IMAP4, "_command", ("self", "name", "args"), "send UID FETCH low:high (CHANGEDSINCE n)"),
    (imaplib.IMAP4, "_command_complete", ("self", "name", "tag"), "wait for the tagged answer to that command"),
    (imaplib.IMAP4, "_untagged_response", ("self", "typ", "dat", "name"), "take the FETCH lines it left"),
    (
        imapclient.imapclient,
        "seq_to_parenstr_upper",
        ("items",),
        "write FETCH items as imapclient's own fetch() does",
    ),
    (
        imapclient.response_parser,
        "_convert_ENVELOPE",
        ("envelope_response", "normalise_times"),
        "make the Envelope imapclient's parser would, from the quick reader's tokens",
    ),
]
# Instance attributes, which exist only on a connected client: checked by the tests against
# a real server (``test_imap_internals``), not at start-up.
#   IMAPClient._imap                  the imaplib connection under the client
#   imaplib.IMAP4.untagged_responses  where SELECT's VANISHED and FETCH answers wait, and where
#                                     what the server said unasked during a command is left
#   imaplib.IMAP4.debug               imapclient sets 5; imaplib then formats every line


def missing() -> list[str]:
    """What ``REQUIRED`` names and the installed imapclient/imaplib no longer has, in words."""
    gone = []
    for owner, name, parameters, why in REQUIRED:
        where = f"{getattr(owner, '__name__', owner)}.{name}"
        function = getattr(owner, name, None)
        if not callable(function):
            gone.append(f"{where} is gone (used to {why})")
            continue
        try:
            have = tuple(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            continue  # not introspectable: its presence is all that can be checked
        if have[: len(parameters)] != parameters:
            gone.append(f"{where} takes {have}, not {parameters} (used to {why})")
    return gone


@checks.register()
def check_imap_internals(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"The installed imapclient or imaplib changed: {problem}.",
            hint="Pin the imapclient version in requirements.txt, or update webmail/imap_internals.py.",
            id="webmail.E001",
        )
        for problem in missing()
    ]


def quiet_debug(client: IMAPClient) -> None:
    """Stop imaplib formatting three debug lines for every line received when nobody logs them
    (imapclient turns its debug on for every connection): a tenth of a full sync's CPU time."""
    client._imap.debug = 0


def select_with_parameters(client: IMAPClient, folder_name: str, parameters: str) -> tuple[dict, list, list]:
    """EXAMINE ``folder_name`` with ``parameters`` (such as ``(QRESYNC (...))``) after the mailbox
    name: SELECT's status as ``select_folder`` gives it, then the untagged VANISHED and FETCH
    answers, taken out of imaplib's store so that no later command sees them."""
    # imaplib sends the mailbox argument as it is: the quoted name, then the parameter list.
    mailbox = client._normalise_folder(folder_name) + b" " + parameters.encode("ascii")
    client._command_and_check("select", mailbox, True)  # True: imaplib's readonly, so EXAMINE
    untagged = client._imap.untagged_responses
    vanished, fetched = untagged.pop("VANISHED", []), untagged.pop("FETCH", [])
    return client._process_select_response(untagged), vanished, fetched


def send_command(client: IMAPClient, *arguments: str | bytes | None) -> Any:
    """Send a command (``"UID", "FETCH", "1:9", "(UID FLAGS)"``; None arguments are left out);
    its tag, for ``fetch_answer``."""
    return client._imap._command(*arguments)


def fetch_answer(client: IMAPClient, tag: Any) -> list:
    """The untagged FETCH lines that answered the command sent as ``tag``, as imaplib leaves them
    (bytes and (bytes, literal) tuples); imapclient's error if the server said NO or BAD."""
    connection = client._imap
    typ, data = connection._command_complete("FETCH", tag)
    client._checkok("fetch", typ, data)
    _typ, data = connection._untagged_response(typ, data, "FETCH")
    return data


def take_untagged(client: IMAPClient, names: tuple[str, ...]) -> dict[str, list]:
    """Take out of imaplib's store the untagged responses of these kinds (``"EXISTS"``,
    ``"STATUS"``...) that arrived during earlier commands: the server says what another client
    did whenever a command ends, and imaplib keeps it there, where IDLE never looks."""
    untagged = client._imap.untagged_responses
    return {name: untagged.pop(name) for name in names if name in untagged}


def notify_set(client: IMAPClient, events: str) -> None:
    """NOTIFY SET ``events`` (RFC 5465), which neither imaplib nor imapclient knows: imaplib
    sends only the commands named in its module's table, so NOTIFY is added to it."""
    imaplib.Commands.setdefault("NOTIFY", ("AUTH", "SELECTED"))
    connection = client._imap
    tag = connection._command("NOTIFY", "SET " + events)
    typ, data = connection._command_complete("NOTIFY", tag)
    client._checkok("notify", typ, data)


fetch_items: Callable[[list[bytes]], bytes] = imapclient.imapclient.seq_to_parenstr_upper
convert_envelope: Callable[[tuple, bool], Any] = imapclient.response_parser._convert_ENVELOPE
