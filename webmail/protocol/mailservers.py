"""What the IMAP and SMTP modules share about talking to a user's mail servers: TLS settings,
and the plain words a person is told when a connection fails.

Verification is always on. An account may add its own CA certificates, or pin one server
certificate by SHA-256 fingerprint; a pinned certificate is checked right after the handshake,
before any password is sent.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import socket
import ssl
from enum import StrEnum
from typing import Protocol


class Security(StrEnum):
    """How a connection is protected; the values are what a mail account stores."""

    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Password(Protocol):
    """A password that shows its text only when asked (``accounts.crypto.Secret``)."""

    def reveal(self) -> str: ...


class Trust(Protocol):
    """What an account says about the certificates its servers may show."""

    @property
    def ca_certificates(self) -> str: ...
    @property
    def trusted_certificate_sha256(self) -> str: ...


class ImapAccount(Trust, Protocol):
    """What the IMAP module needs of a mail account (``accounts.models.MailAccount`` has it)."""

    @property
    def imap_host(self) -> str: ...
    @property
    def imap_port(self) -> int: ...
    @property
    def imap_security(self) -> str: ...
    def imap_credentials(self) -> tuple[str, Password]: ...


class SmtpAccount(Trust, Protocol):
    """What the SMTP module needs of a mail account (``accounts.models.MailAccount`` has it)."""

    @property
    def smtp_host(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_security(self) -> str: ...
    def smtp_credentials(self) -> tuple[str, Password]: ...


class MailServerError(Exception):
    """A failure to show the user as is: the message is plain words, with no secret in it."""


class CertificateNotTrusted(ssl.SSLError):
    def __init__(self, fingerprint: str) -> None:
        super().__init__(f"certificate not trusted (SHA-256 {fingerprint})")
        self.fingerprint = fingerprint


def client_context(account: Trust) -> ssl.SSLContext:
    return _context(account.ca_certificates.strip(), bool(account.trusted_certificate_sha256))


@functools.lru_cache(maxsize=64)
def _context(ca_certificates: str, pinned: bool) -> ssl.SSLContext:
    # Loading the system's CA bundle costs tens of milliseconds; a context is safe to share
    # between connections, so each distinct configuration is built once per process.
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_certificates:
        context.load_verify_locations(cadata=ca_certificates)
    if pinned:
        # The pin replaces CA and name checks; check_peer() compares the fingerprint instead.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def unverified_context() -> ssl.SSLContext:
    """For looking at a certificate no CA vouches for, so an admin can check and pin it. Never
    for a connection that goes on to log in."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def is_trust_failure(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is a certificate that failed verification or the pin."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (CertificateNotTrusted, ssl.SSLCertVerificationError)):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def describe_certificate(der: bytes) -> dict:
    """What an admin checks before pinning a certificate: who it names, when it is valid, and its
    SHA-256 fingerprint in the form the pin field takes."""
    from cryptography import x509

    names: list[str] = []
    subject = issuer = ""
    not_before = not_after = ""
    try:
        certificate = x509.load_der_x509_certificate(der)
        subject, issuer = certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string()
        not_before = certificate.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC")
        not_after = certificate.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
        try:
            alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            alternative = None
        if alternative is not None:
            names = [*alternative.get_values_for_type(x509.DNSName)]
            names += [str(address) for address in alternative.get_values_for_type(x509.IPAddress)]
    except ValueError:
        subject = "(a certificate that cannot be read)"
    return {
        "subject": subject[:300],
        "issuer": issuer[:300],
        "names": [name[:255] for name in names[:20]],
        "not_before": not_before,
        "not_after": not_after,
        "sha256": fingerprint(der),
    }


def fingerprint(der: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def check_peer(account: Trust, ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> None:
    """Refuse a pinned connection whose certificate is not the pinned one."""
    if not account.trusted_certificate_sha256:
        return
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    seen = fingerprint(der) if der else "none"
    if seen != account.trusted_certificate_sha256:
        raise CertificateNotTrusted(seen)


def describe_network_error(exc: BaseException) -> str:
    """Plain words for the ways a connection fails before the server says anything."""
    if isinstance(exc, CertificateNotTrusted):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "connection failed"
