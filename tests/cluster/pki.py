"""The test cluster's certificates, keys and kubeconfigs, made fresh for every cluster.

One CA signs everything: the API server's serving certificate, the kubelet's, and a client
certificate per component, whose subject is the identity Kubernetes' RBAC knows it by
(``system:kube-scheduler``, ``system:node:NAME`` in ``system:nodes``, an admin in
``system:masters``). The service account tokens are signed with their own RSA key.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Credential:
    """A certificate and its key, written as PEM files."""

    cert: Path
    key: Path


def _write_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


class CertificateAuthority:
    """A self-signed CA in ``directory`` that issues the cluster's certificates there."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        name = _name("argosy-test-cluster-ca")
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.credential = Credential(directory / "ca.crt", directory / "ca.key")
        self.credential.cert.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        _write_key(self._key, self.credential.key)

    def issue(
        self,
        name: str,
        common_name: str,
        *,
        organization: str | None = None,
        hosts: tuple[str, ...] = (),
        client: bool = True,
    ) -> Credential:
        """A certificate for ``common_name``; with ``hosts`` it also serves TLS for them."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
        if hosts:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(host) for host in hosts]),
                critical=False,
            )
        cert = builder.sign(self._key, hashes.SHA256())
        credential = Credential(self.directory / f"{name}.crt", self.directory / f"{name}.key")
        credential.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, credential.key)
        return credential

    def kubeconfig(
        self,
        path: Path,
        server: str,
        credential: Credential,
        user: str,
    ) -> Path:
        """A kubeconfig for ``server`` that authenticates with ``credential``."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "argosy-test",
                    "cluster": {
                        "server": server,
                        "certificate-authority": str(self.credential.cert),
                    },
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": str(credential.cert),
                        "client-key": str(credential.key),
                    },
                }
            ],
            "contexts": [
                {
                    "name": "argosy-test",
                    "context": {"cluster": "argosy-test", "user": user},
                }
            ],
            "current-context": "argosy-test",
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def service_account_key(directory: Path) -> Credential:
    """The RSA key pair the API server signs service account tokens with (cert = public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    credential = Credential(directory / "sa.pub", directory / "sa.key")
    _write_key(key, credential.key)
    credential.cert.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return credential


__all__ = ["CertificateAuthority", "Credential", "service_account_key"]
