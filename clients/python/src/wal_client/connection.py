"""Channels to wald: plaintext or TLS (optionally with a client certificate), and the
per-call metadata that carries the bearer token."""
from __future__ import annotations

import dataclasses
import os
from typing import List, Optional, Sequence, Tuple

import grpc

Metadata = Tuple[Tuple[str, str], ...]


def _read(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as file:
        return file.read()


@dataclasses.dataclass(frozen=True)
class TlsConfig:
    """TLS to wald (docs/operations.md, "TLS").

    ca_file: PEM roots that sign wald's certificate; None trusts the system roots.
    cert_file, key_file: a client certificate and its key, for a wald whose
        `tls.client_ca_file` requires one (mTLS). Give both or neither.
    server_name: the name to check the certificate against, when it differs from
        the host in the address (for example when connecting through a tunnel).
    """

    ca_file: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    server_name: Optional[str] = None

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls: cert_file and key_file go together: give both or neither")

    def credentials(self) -> grpc.ChannelCredentials:
        # Read now, so a missing file is an error at construction rather than a
        # handshake failure on the first call.
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_file),
            private_key=_read(self.key_file),
            certificate_chain=_read(self.cert_file),
        )


def make_channel(
    address: str,
    tls: Optional[TlsConfig],
    options: Sequence[Tuple[str, object]] = (),
) -> grpc.Channel:
    channel_options: List[Tuple[str, object]] = list(options)
    if tls is None:
        return grpc.insecure_channel(address, options=channel_options)
    if tls.server_name is not None:
        channel_options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.secure_channel(address, tls.credentials(), options=channel_options)


def call_metadata(token: Optional[str], extra: Sequence[Tuple[str, str]] = ()) -> Metadata:
    """The metadata sent on every call: wald reads the token from `authorization`."""
    pairs = list(extra)
    if token:
        pairs.append(("authorization", f"Bearer {token}"))
    return tuple(pairs)


def token_from_environment() -> Optional[str]:
    """$WAL_TOKEN, the variable walctl reads too (argv is visible in `ps`)."""
    value = os.environ.get("WAL_TOKEN")
    return value or None
