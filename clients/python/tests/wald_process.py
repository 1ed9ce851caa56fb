"""Test support: a real wald on loopback with its own data directory and namespaces.

Every start is bounded (90 s) and every process is killed by the fixture that
made it, whatever the test did.
"""
from __future__ import annotations

import hashlib
import pathlib
import shutil
import socket
import subprocess
import time
from typing import Dict, List, Optional

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> List[str]:
    # If pytest itself is killed (a ctest timeout), fixture teardown never runs;
    # a parent-death signal makes the kernel kill wald then. setpriv sets it and
    # execs wald (a preexec_fn would run Python in a forked child of a process
    # with gRPC's threads). The signal fires when the *thread* that started wald
    # ends, so tests start wald from the main thread.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv else []


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A namespace on the embedded log whose entries wait an hour, so nothing is
# delivered while a test reads the log back.
def embedded_namespace(name: str, extra: str = "") -> str:
    return (
        f"name: {name}\n"
        "backend: {type: local, local: {segment_bytes: 1048576, preallocate: false}}\n"
        "delay: {default: 1h}\n" + extra
    )


class Wald:
    def __init__(self, binary: str, root: pathlib.Path, extra_config: str = "") -> None:
        self.binary = binary
        self.root = root
        self.extra_config = extra_config
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.process: Optional[subprocess.Popen] = None
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "namespaces").mkdir(parents=True, exist_ok=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def log_path(self) -> pathlib.Path:
        return self.root / "wald.log"

    def write_namespace(self, name: str, yaml: str) -> None:
        (self.root / "namespaces" / f"{name}.yaml").write_text(yaml)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def start(self) -> None:
        assert self.process is None, "already running"
        config = self.root / "server.yaml"
        config.write_text(
            f"data_dir: {self.root / 'data'}\n"
            f"namespaces_dir: {self.root / 'namespaces'}\n"
            f"grpc_listen: {self.address}\n"
            f"http_listen: 127.0.0.1:{self.http_port}\n"
            "log_level: info\n" + self.extra_config
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*_die_with_parent(), self.binary, "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"wald exited during start-up:\n{self.log()}")
            # wald opens its HTTP port after gRPC's, so an accepting HTTP port means both listen.
            if port_accepts(self.http_port):
                return
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"wald did not start within {START_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None


def make_certificates(directory: pathlib.Path) -> Dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    key: List[str] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    paths = {name: str(directory / name) for name in ("ca.crt", "ca.key")}
    openssl("req", "-x509", *key, "-keyout", paths["ca.key"], "-out", paths["ca.crt"], "-days", "2",
            "-subj", "/CN=wal-client-test-ca")
    for who, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=wal-client")):
        base = directory / who
        openssl("req", *key, "-keyout", f"{base}.key", "-out", f"{base}.csr", "-subj", subject)
        openssl("x509", "-req", "-in", f"{base}.csr", "-CA", paths["ca.crt"], "-CAkey", paths["ca.key"],
                "-CAcreateserial", "-out", f"{base}.crt", "-days", "2", "-extfile", str(directory / f"{who}.ext"))
        paths[f"{who}.crt"] = f"{base}.crt"
        paths[f"{who}.key"] = f"{base}.key"
    return paths
