"""The committed wal_client/v1 modules are what tools/generate_protos.py makes from proto/wal/v1 now."""
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = PACKAGE / "tools" / "generate_protos.py"


def test_generated_modules_match_the_protos():
    if not (PACKAGE.parent.parent / "proto" / "wal" / "v1" / "wal.proto").is_file():
        pytest.skip("not run from the wal repository: proto/wal/v1 is not beside clients/python")
    pytest.importorskip("grpc_tools", reason="grpcio-tools (requirements-test.txt) regenerates the modules")
    check = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-4000:]


def test_the_modules_load_with_the_http_annotations():
    from wal_client.v1 import admin_pb2, wal_pb2

    service = wal_pb2.DESCRIPTOR.services_by_name["WriteAheadLog"]
    assert "google/api/annotations.proto" in [dep.name for dep in wal_pb2.DESCRIPTOR.dependencies]
    assert service.methods_by_name["WriteToLog"].input_type.full_name == "wal.v1.WriteToLogRequest"
    assert "ReadLog" in admin_pb2.DESCRIPTOR.services_by_name["Admin"].methods_by_name
