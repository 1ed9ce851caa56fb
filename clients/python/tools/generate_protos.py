#!/usr/bin/env python3
"""Regenerates wal_client/v1 from proto/wal/v1/*.proto, or checks that it is current.

    python tools/generate_protos.py          # rewrite src/wal_client/v1/*_pb2*.py[i]
    python tools/generate_protos.py --check  # exit 1, naming the stale files, if they differ

The generated modules are committed so that `pip install ./clients/python` needs
neither grpcio-tools nor the googleapis protos on the installing machine. Run it
with the grpcio-tools pinned in requirements-test.txt: another version writes
other bytes (and another protobuf runtime floor), and --check would then fail.
"""
from __future__ import annotations

import argparse
import difflib
import os
import pathlib
import re
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
PROTO_ROOT = REPO_ROOT / "proto"
OUTPUT = PACKAGE_ROOT / "src" / "wal_client" / "v1"
PROTOS = ["wal/v1/wal.proto", "wal/v1/admin.proto", "wal/v1/record.proto"]
# Where google/api/annotations.proto is looked for: the same places as proto/CMakeLists.txt.
GOOGLEAPIS_CANDIDATES = [
    "/usr/share/gocode/src/github.com/gogo/googleapis",
    "/usr/include",
    "/usr/local/include",
]


def googleapis_dir() -> pathlib.Path:
    given = os.environ.get("WAL_GOOGLEAPIS_PROTO_DIR")
    candidates = [given] if given else GOOGLEAPIS_CANDIDATES
    for candidate in candidates:
        if (pathlib.Path(candidate) / "google/api/annotations.proto").is_file():
            return pathlib.Path(candidate)
    sys.exit(
        "generate_protos: google/api/annotations.proto not found in "
        + ", ".join(candidates)
        + ": install Debian's golang-github-gogo-googleapis-dev (scripts/install-deps.sh) "
        "or set WAL_GOOGLEAPIS_PROTO_DIR"
    )


def rewrite_imports(text: str) -> str:
    # protoc writes `from wal.v1 import wal_pb2`, the proto's own import path. The
    # package ships the modules as wal_client.v1 rather than a top-level `wal`
    # package (too generic a name to claim), so sibling imports become relative.
    # The descriptors keep their proto file names, so the wire format and the
    # descriptor pool are unaffected.
    return re.sub(r"^from wal\.v1 import ", "from . import ", text, flags=re.MULTILINE)


def generate(into: pathlib.Path) -> dict[str, str]:
    """Runs protoc into `into`; returns {file name: rewritten text}."""
    from grpc_tools import protoc  # imported here so --help works without it
    import importlib.resources

    well_known = importlib.resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={googleapis_dir()}",
        f"--proto_path={well_known}",
        f"--python_out={into}",
        f"--pyi_out={into}",
        f"--grpc_python_out={into}",
        *PROTOS,
    ]
    if protoc.main(args) != 0:
        sys.exit("generate_protos: protoc failed (its message is above)")
    generated = {}
    for path in sorted((into / "wal" / "v1").iterdir()):
        generated[path.name] = rewrite_imports(path.read_text())
    return generated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        generated = generate(pathlib.Path(scratch))
    committed = {path.name for path in OUTPUT.glob("*_pb2*")}
    if options.check:
        stale = []
        for name, text in generated.items():
            path = OUTPUT / name
            current = path.read_text() if path.is_file() else ""
            if current != text:
                stale.append(name)
                sys.stderr.writelines(
                    difflib.unified_diff(current.splitlines(True), text.splitlines(True), str(path), name, n=1)
                )
        stale += sorted(committed - set(generated))
        if stale:
            print(
                "generate_protos: stale against proto/wal/v1: " + ", ".join(stale)
                + "; run: python clients/python/tools/generate_protos.py",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name in committed - set(generated):
        (OUTPUT / name).unlink()
    for name, text in generated.items():
        (OUTPUT / name).write_text(text)
    print(f"generate_protos: wrote {len(generated)} files to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
