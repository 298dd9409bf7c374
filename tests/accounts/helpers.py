"""Helpers of the accounts tests."""

import ssl

from webmail.protocol.mailservers import fingerprint


def certificate_fingerprint(pki) -> str:
    """The servers' certificate's SHA-256 fingerprint, computed from the certificate file."""
    return fingerprint(ssl.PEM_cert_to_DER_cert(pki.cert_path.read_text()))
