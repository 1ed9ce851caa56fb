"""WalClient's bearer tokens and TLS against a live wald configured with them."""
import grpc
import pytest

from wal_client import Durable, RetryPolicy, TlsConfig, WalClient, WalRpcError
from wald_process import embedded_namespace, make_certificates, sha256

ONCE = RetryPolicy.never()
# make test runs beside C++ builds on two cores: an answer can take seconds.
PATIENT = 60.0


def test_tokens_are_accepted_or_refused_as_the_tokens_file_says(make_wald, tmp_path, monkeypatch):
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        "tokens:\n"
        f"  - {{name: orders-app, sha256: {sha256('orders-token')}, scopes: [write, read], namespaces: [orders]}}\n"
    )
    wald = make_wald(extra_config=f"auth: {{tokens_file: {tokens}}}\n")
    wald.write_namespace("orders", embedded_namespace("orders"))
    wald.write_namespace("payments", embedded_namespace("payments"))
    wald.start()
    monkeypatch.delenv("WAL_TOKEN", raising=False)

    def refusal(**options):
        with WalClient(wald.address, retry=ONCE, timeout=PATIENT, **options) as client:
            with pytest.raises(WalRpcError) as raised:
                client.write("orders", b"x")
        return raised.value

    assert refusal().code is grpc.StatusCode.UNAUTHENTICATED
    assert refusal(token="wrong-token").code is grpc.StatusCode.UNAUTHENTICATED
    with WalClient(wald.address, token="orders-token", retry=ONCE, timeout=PATIENT) as client:
        assert client.write("orders", b"x").durable is Durable.TRUE
        assert client.status("orders")[0].log_end == 1
        with pytest.raises(WalRpcError) as other:
            client.write("payments", b"x")
    assert other.value.code is grpc.StatusCode.PERMISSION_DENIED and other.value.attempts == 1
    # Like walctl, the client takes the token from $WAL_TOKEN when none is given.
    monkeypatch.setenv("WAL_TOKEN", "orders-token")
    with WalClient(wald.address, retry=ONCE, timeout=PATIENT) as client:
        assert client.write("orders", b"y").ok
    assert "orders-token" not in wald.log()


@pytest.fixture
def certificates(tmp_path):
    directory = tmp_path / "certs"
    directory.mkdir()
    return make_certificates(directory)


def _refused(address, **options):
    with WalClient(address, retry=ONCE, timeout=10, **options) as client:
        with pytest.raises(WalRpcError):
            client.write("orders", b"x")


def test_tls_with_the_ca_is_accepted_and_without_it_refused(make_wald, certificates):
    wald = make_wald(extra_config=f"tls: {{cert_file: {certificates['server.crt']}, key_file: {certificates['server.key']}}}\n")
    wald.write_namespace("orders", embedded_namespace("orders"))
    wald.start()
    with WalClient(wald.address, tls=TlsConfig(ca_file=certificates["ca.crt"]), retry=ONCE, timeout=PATIENT) as client:
        assert client.write("orders", b"over tls").durable is Durable.TRUE
    _refused(wald.address)  # plaintext to a TLS port
    _refused(wald.address, tls=TlsConfig())  # the system roots do not trust the test CA


def test_mutual_tls_needs_the_client_certificate(make_wald, certificates):
    wald = make_wald(
        extra_config=f"tls: {{cert_file: {certificates['server.crt']}, key_file: {certificates['server.key']}, "
        f"client_ca_file: {certificates['ca.crt']}}}\n"
    )
    wald.write_namespace("orders", embedded_namespace("orders"))
    wald.start()
    _refused(wald.address, tls=TlsConfig(ca_file=certificates["ca.crt"]))
    mtls = TlsConfig(ca_file=certificates["ca.crt"], cert_file=certificates["client.crt"],
                     key_file=certificates["client.key"])
    with WalClient(wald.address, tls=mtls, retry=ONCE, timeout=PATIENT) as client:
        assert client.write("orders", b"over mtls").durable is Durable.TRUE


def test_a_client_certificate_needs_its_key():
    with pytest.raises(ValueError):
        TlsConfig(cert_file="client.crt")
