"""Throwaway X.509 PKI for TLS between the tests' clients and servers.

Each call to :func:`make_test_pki` mints a brand-new CA, so two calls give two
unrelated trust roots: a client trusting one rejects the other's server
certificate, which is how tests produce an "untrusted certificate".
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Every name a test client may dial: clients verify hostnames, so the server
# certificate must match whichever of these the code under test connects to.
SERVER_DNS_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TestPKI:
    """Files of one throwaway CA and the server certificate it signed."""

    __test__ = False  # the name starts with "Test"; keep pytest from collecting it

    ca_pem: str = field(repr=False)
    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_ssl_context(self) -> ssl.SSLContext:
        """A server-side context presenting this PKI's server certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this PKI's CA."""
        return ssl.create_default_context(cafile=str(self.ca_path))


def make_test_pki(directory: Path) -> TestPKI:
    """Create a CA and a server certificate for localhost under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    # Back-date a little so a clock that is slightly behind still accepts the certificates.
    not_before = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    not_after = not_before + dt.timedelta(days=30)

    # EC keys: generating RSA keys would dominate session start-up time.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "webmail tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Throwaway test CA {x509.random_serial_number():x}"),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_DNS_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    ca_path = directory / "ca.pem"
    cert_path = directory / "server.pem"
    key_path = directory / "server.key"
    ca_path.write_text(ca_pem)
    cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TestPKI(ca_pem=ca_pem, ca_path=ca_path, cert_path=cert_path, key_path=key_path)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    # Python's ssl (and OpenSSL's strict mode) insists on key usage being
    # present and sensible: signing certificates for the CA, signatures for the server.
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
