#!/usr/bin/env bash
# The Python client's test suite, as `make test` runs it (ctest wal_python_client_test):
#
#   clients/python/tests/run.sh WALD_BINARY [pytest arguments...]
#
# Brings the test venv up to requirements-test.txt, installs wal-client from this
# checkout into it (as a user would, with pip), then runs pytest against
# WALD_BINARY. The venv is the client's own, $WAL_CLIENT_VENV (default
# ~/.cache/wal/venv-client): the Cassandra tests' venv is created and filled by
# their own script without this lock, and ctest runs both at once. pip's own
# cache keeps the wheels, so only the first run downloads (from PyPI).
set -euo pipefail
wald="${1:?usage: run.sh WALD_BINARY [pytest arguments...]}"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(dirname "${here}")"
venv="${WAL_CLIENT_VENV:-${HOME}/.cache/wal/venv-client}"
[[ -x "${wald}" ]] || { echo "run.sh: ${wald} is not an executable wald" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run.sh: python3 not found (scripts/install-deps.sh)" >&2; exit 1; }

mkdir -p "$(dirname "${venv}")"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
(
  # One pip at a time in the shared venv: another checkout's run may be installing too.
  flock -w 600 9 || { echo "run.sh: the venv lock ${venv}.lock stayed taken for 10 minutes" >&2; exit 1; }
  [[ -x "${venv}/bin/python" ]] || python3 -m venv "${venv}"
  "${venv}/bin/pip" install -q --disable-pip-version-check -r "${package}/requirements-test.txt"
  # pip builds a local project inside its folder (build/, *.egg-info); building a
  # copy keeps the checkout as git has it.
  cp -r "${package}/pyproject.toml" "${package}/README.md" "${package}/src" "${scratch}/"
  "${venv}/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall \
    "${scratch}"
) 9>"${venv}.lock"

cd "${package}"
# The tests import wal_client from the venv (the package as installed), not from src/.
export WAL_TEST_WALD="${wald}" WAL_CLIENT_REQUIRE_WALD=1 PYTHONDONTWRITEBYTECODE=1
exec "${venv}/bin/python" -m pytest -p no:cacheprovider -q -rs "$@" tests
