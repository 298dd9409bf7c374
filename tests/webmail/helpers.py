"""Helpers of the webmail tests."""

from __future__ import annotations


def make_message(n: int, *, subject: str | None = None, message_id: str | None = None, extra: str = "") -> bytes:
    subject = subject if subject is not None else f"Message {n}"
    message_id = message_id or f"<m{n}@example.test>"
    return (
        f"From: Sender {n} <sender{n}@example.test>\r\n"
        f"To: Rita Reader <rita@example.test>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Mon, 2 Nov 2026 10:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n"
        f"{extra}"
        f"\r\n"
        f"Body of message {n}.\r\n"
    ).encode()
