"""A scriptable SMTP submission server on loopback, built on aiosmtpd.

It behaves like a strict submission service (TLS first, AUTH PLAIN/LOGIN,
then MAIL/RCPT/DATA) and records what it accepts. Tests can script the
failures real servers produce: temporary or permanent replies, rejected
recipients, slow or dropped DATA, DSN present or absent, a size limit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .certs import TestPKI
from .managed import ManagedServer

Mode = Literal["starttls", "tls"]
SCRIPTABLE_COMMANDS = ("MAIL", "RCPT", "DATA")
DEFAULT_SIZE_LIMIT = 25 * 1024 * 1024  # a common submission limit
_DSN_PARAMETERS = frozenset({"RET", "ENVID", "NOTIFY", "ORCPT"})  # RFC 3461


def _not_login_data_deprecation(record: logging.LogRecord) -> bool:
    # aiosmtpd warns about its own deprecated Session.login_data on every
    # successful AUTH; that says nothing about the code under test.
    return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_not_login_data_deprecation)


@dataclass(frozen=True)
class Received:
    """One transaction the server accepted with 250 after DATA."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str]
    rcpt_options: list[str]  # for all recipients, in order, as aiosmtpd collects them
    auth_login: str | None


@dataclass
class _Script:
    """Faults armed by a test; everything here is cleared by reset()."""

    failures: dict[str, deque[str]] = field(default_factory=dict)
    rejected_recipients: dict[str, str] = field(default_factory=dict)
    stall_seconds: dict[str, float] = field(default_factory=dict)
    drop_after_data: bool = False
    data_command_refusals: deque[str] = field(default_factory=deque)
    auth_reply: str | None = None
    drop_after_go_ahead: bool = False


class ScriptedHandler:
    """aiosmtpd handler: records transactions and plays back scripted faults.

    Tests call its methods from their own thread while the server runs in
    another, so all shared state sits behind one lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._messages: list[Received] = []
        self._dropped: list[Received] = []
        self._auth_attempts: list[str] = []
        self._reached: list[str] = []
        self._script = _Script()
        self.advertise_dsn = True
        self.size_limit: int | None = DEFAULT_SIZE_LIMIT  # applies to connections opened afterwards
        self.max_sessions: int | None = None  # more at once are refused with 421
        self._sessions = 0
        self.quits = 0  # sessions the client ended with QUIT

    # -- scripting API -----------------------------------------------------

    def fail_next(self, command: str, reply: str, times: int = 1) -> None:
        """Answer the next ``times`` MAIL, RCPT or DATA commands with ``reply``.

        For DATA the reply replaces the final 250, after the content was sent.
        """
        command = command.upper()
        if command not in SCRIPTABLE_COMMANDS:
            raise ValueError(f"command must be one of {SCRIPTABLE_COMMANDS}, not {command!r}")
        with self._lock:
            self._script.failures.setdefault(command, deque()).extend([reply] * times)

    def refuse_data_command(self, reply: str, times: int = 1) -> None:
        """Answer the next ``times`` DATA commands themselves with ``reply`` instead of 354, so
        that no content is asked for (``fail_next("DATA", ...)`` answers after the content)."""
        with self._lock:
            self._script.data_command_refusals.extend([reply] * times)

    def answer_auth(self, reply: str | None) -> None:
        """Answer every AUTH with ``reply`` (say "454 4.7.0 ..." while the server's password
        backend is down), whatever the password, until called with None or reset()."""
        with self._lock:
            self._script.auth_reply = reply

    @property
    def auth_reply(self) -> str | None:
        with self._lock:
            return self._script.auth_reply

    def take_data_command_refusal(self) -> str | None:
        with self._lock:
            queue = self._script.data_command_refusals
            return queue.popleft() if queue else None

    def reject_recipient(self, address: str, reply: str = "550 5.1.1 user unknown") -> None:
        """Refuse RCPT TO ``address`` with ``reply`` until reset()."""
        with self._lock:
            self._script.rejected_recipients[address.lower()] = reply

    def stall(self, seconds: float, command: str = "DATA") -> None:
        """Wait ``seconds`` before answering every ``command`` (MAIL, RCPT or the end of DATA)
        until reset(). A client that gives up meanwhile finds its message not taken."""
        command = command.upper()
        if command not in SCRIPTABLE_COMMANDS:
            raise ValueError(f"command must be one of {SCRIPTABLE_COMMANDS}, not {command!r}")
        with self._lock:
            self._script.stall_seconds[command] = seconds

    def wait_until_reached(self, command: str, timeout: float = 10.0) -> None:
        """Block until some client has sent ``command`` (MAIL, RCPT, DATA) since the last reset()."""
        command = command.upper()
        with self._lock:
            if not self._lock.wait_for(lambda: command in self._reached, timeout):
                raise TimeoutError(f"no client sent {command} within {timeout} s")

    def drop_after_data(self) -> None:
        """Cut the connection after the next DATA content, without any reply.

        The message is then recorded in ``dropped``, not ``messages``: the
        client cannot know whether it was accepted.
        """
        with self._lock:
            self._script.drop_after_data = True

    def drop_after_go_ahead(self) -> None:
        """Answer the next DATA command with 354 and cut the connection at once, while the
        client is sending the message: it cannot have been taken."""
        with self._lock:
            self._script.drop_after_go_ahead = True

    def take_drop_after_go_ahead(self) -> bool:
        with self._lock:
            drop, self._script.drop_after_go_ahead = self._script.drop_after_go_ahead, False
            return drop

    def session_opened(self) -> bool:
        with self._lock:
            if self.max_sessions is not None and self._sessions >= self.max_sessions:
                return False
            self._sessions += 1
            return True

    def session_closed(self) -> None:
        with self._lock:
            self._sessions -= 1

    def reset(self) -> None:
        """Forget received messages and scripted faults; restore the defaults."""
        with self._lock:
            self.max_sessions = None
            self.quits = 0
            self._messages.clear()
            self._dropped.clear()
            self._auth_attempts.clear()
            self._reached.clear()
            self._script = _Script()
            self.advertise_dsn = True
            self.size_limit = DEFAULT_SIZE_LIMIT

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    @property
    def auth_attempts(self) -> list[str]:
        """The logins of every AUTH attempt, successful or not, since the last reset()."""
        with self._lock:
            return list(self._auth_attempts)

    def record_auth_attempt(self, login: str) -> None:
        with self._lock:
            self._auth_attempts.append(login)

    @property
    def dropped(self) -> list[Received]:
        with self._lock:
            return list(self._dropped)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until at least ``count`` messages arrived; return them all."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"expected {count} message(s) within {timeout} s, got {len(self._messages)}")
            return list(self._messages)

    # -- aiosmtpd hooks (run on the server's event loop) ----------------------

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        if self.advertise_dsn:
            # aiosmtpd never offers DSN itself; slot it in before the final "250 HELP".
            responses.insert(-1, "250-DSN")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if not session.authenticated:
            # Enforced here rather than with aiosmtpd's auth_required, which warns
            # on every connection in implicit-TLS mode (see SMTPServer.start).
            return "530 5.7.0 Authentication required"
        await self._arrive("MAIL")
        if reply := self._take_failure("MAIL"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        await self._arrive("RCPT")
        with self._lock:
            rejection = self._script.rejected_recipients.get(address.lower())
        if reply := rejection or self._take_failure("RCPT"):
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._arrive("DATA")
        with self._lock:
            drop = self._script.drop_after_data
            self._script.drop_after_data = False
        received = _received(session, envelope)
        if drop:
            with self._lock:
                self._dropped.append(received)
            assert server.transport is not None
            server.transport.abort()
            # Losing the connection cancels this task; the sleep only bounds the wait.
            await asyncio.sleep(30)
            return "421 4.4.2 connection dropped"
        if reply := self._take_failure("DATA"):
            return reply
        with self._lock:
            self._messages.append(received)
            self._lock.notify_all()
        return "250 2.0.0 OK queued"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.quits += 1
        return "221 Bye"

    async def _arrive(self, command: str) -> None:
        with self._lock:
            self._reached.append(command)
            self._lock.notify_all()
            stall = self._script.stall_seconds.get(command, 0.0)
        if stall:
            await asyncio.sleep(stall)

    def _take_failure(self, command: str) -> str | None:
        with self._lock:
            queue = self._script.failures.get(command)
            return queue.popleft() if queue else None


def _received(session: Session, envelope: Envelope) -> Received:
    auth = session.auth_data
    return Received(
        mail_from=envelope.mail_from or "",
        rcpt_tos=list(envelope.rcpt_tos),
        data=envelope.original_content or b"",
        mail_options=list(envelope.mail_options),
        rcpt_options=list(envelope.rcpt_options),
        auth_login=auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None,
    )


class _SubmissionSMTP(SMTP):
    """SMTP that also accepts the RFC 3461 DSN parameters while DSN is advertised, and turns
    away connections beyond the handler's ``max_sessions`` with a 421 greeting."""

    _counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._counted:  # called again for the TLS transport after STARTTLS
            if not self.event_handler.session_opened():
                transport.write(b"421 4.7.0 too many connections from your host\r\n")  # type: ignore[attr-defined]
                transport.close()
                return
            self._counted = True
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self.event_handler.session_closed()
            super().connection_lost(exc)

    async def smtp_DATA(self, arg: str) -> None:
        if self.envelope.rcpt_tos and (reply := self.event_handler.take_data_command_refusal()):
            await self.push(reply)
            return
        if self.envelope.rcpt_tos and self.event_handler.take_drop_after_go_ahead():
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            self.transport.abort()
            return
        await super().smtp_DATA(arg)

    def _getparams(self, params: Any) -> dict[str, str | bool] | None:
        # aiosmtpd answers 555 to any MAIL/RCPT parameter it does not know; the
        # raw options still reach the handler, only the "unknown" check is skipped.
        parsed = super()._getparams(params)
        if parsed is not None and self.event_handler.advertise_dsn:
            parsed = {key: value for key, value in parsed.items() if key not in _DSN_PARAMETERS}
        return parsed


class _Controller(Controller):
    """Binds port 0 (no free-port race) and builds each session from live settings."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        async def bind() -> asyncio.AbstractServer:
            server = await super(_Controller, self)._create_server()
            self.port = server.sockets[0].getsockname()[1]  # the readiness probe dials this
            return server

        return bind()

    def factory(self) -> SMTP:
        handler: ScriptedHandler = self.handler
        return _SubmissionSMTP(self.handler, data_size_limit=handler.size_limit, **self.SMTP_kwargs)


class SMTPServer(ManagedServer):
    """Submission server on 127.0.0.1: ``mode`` "starttls" (port-587 style) or "tls" (465)."""

    host = "127.0.0.1"

    def __init__(self, pki: TestPKI, mode: Mode, users: dict[str, str]) -> None:
        if mode not in ("starttls", "tls"):
            raise ValueError(f"mode must be 'starttls' or 'tls', not {mode!r}")
        self.pki = pki
        self.mode = mode
        self.users = dict(users)  # login -> password; add more at any time
        self.handler = ScriptedHandler()
        self.port = 0
        self._controller: _Controller | None = None

    def start(self) -> None:
        context = self.pki.server_ssl_context()
        tls_options: dict[str, Any]
        if self.mode == "starttls":
            tls_options = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        else:
            # aiosmtpd only knows about TLS it negotiated itself (STARTTLS), so it
            # must be told that AUTH is fine here: the whole listener is TLS.
            tls_options = {"ssl_context": context, "auth_require_tls": False}
        controller = _Controller(
            self.handler,
            hostname=self.host,
            port=0,
            server_hostname="localhost",
            ready_timeout=10.0,
            authenticator=self._authenticate,
            timeout=30,  # idle clients are dropped instead of pinning the server forever
            **tls_options,
        )
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)  # the server thread may be up even if the probe failed
            raise
        self._controller = controller
        self.port = controller.port

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def add_user(self, login: str, password: str) -> None:
        self.users[login] = password

    def reset(self) -> None:
        """Clear messages and scripted faults between tests (users stay)."""
        self.handler.reset()

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        return self.handler.wait_for(count, timeout)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            self.handler.record_auth_attempt(login)
            if reply := self.handler.auth_reply:
                return AuthResult(success=False, handled=False, message=reply)
            expected = self.users.get(login)
            if expected is not None and expected.encode() == auth_data.password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
