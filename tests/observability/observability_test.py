#!/usr/bin/env python3
"""deploy/observability/ against a real wald.

Checks, in order: the alert rules pass `promtool check rules` and their unit
tests (`promtool test rules`); a live wald's /metrics passes `promtool check
metrics` (promlint); every metric the dashboard and the rules name is a family
that wald exports; and, through HTTP, the series the dashboard relies on behave:
a refused apply counts in wal_config_rejects_total, a deleted namespace's series
leave /metrics, and JSON log lines carry the namespace as a field.

Prints "N passed, N failed" and exits non-zero on any failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

RESULTS = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok or not detail else "\n      " + detail.replace("\n", "\n      ")))
    return ok


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def families(metrics_text):
    """name -> type, from the # TYPE lines."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", metrics_text, re.M))


def referenced_metrics(text):
    return set(re.findall(r"\b((?:wal|process)_[a-z0-9_]+)", text))


def family_of(name, exported):
    """The family a series name belongs to (histograms add _bucket/_sum/_count)."""
    if name in exported:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and exported.get(base) == "histogram":
            return base
    return None


def promtool_checks(promtool, directory):
    for args in (["check", "rules", "wal-alerts.yaml"], ["test", "rules", "wal-alerts.test.yaml"]):
        run = subprocess.run([promtool, *args], cwd=directory, capture_output=True, text=True)
        check("promtool " + " ".join(args), run.returncode == 0, run.stdout + run.stderr)


class Wald:
    def __init__(self, binary, root):
        self.namespaces = os.path.join(root, "namespaces")
        os.makedirs(self.namespaces)
        with open(os.path.join(self.namespaces, "orders.yaml"), "w") as file:
            file.write("name: orders\n")
        self.http = "http://127.0.0.1:%d" % free_port()
        self.log_path = os.path.join(root, "wald.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "--data-dir", os.path.join(root, "data"), "--namespaces", self.namespaces,
             "--grpc-listen", "127.0.0.1:%d" % free_port(), "--http-listen", self.http[len("http://"):],
             "--log-format", "json", "--log-level", "info"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if http("GET", self.http + "/metrics")[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def metrics(self):
        return http("GET", self.http + "/metrics")[1]

    def log_lines(self):
        self.log.flush()
        lines = []
        with open(self.log_path) as file:
            for line in file:
                if not line.startswith("{"):
                    continue  # not wald's logger (a library writing to stderr)
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    lines.append({"unparsed": line})
        return lines

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def live_checks(promtool, wald, directory):
    if not check("wald serves /metrics", wald.wait_ready(), open(wald.log_path).read()):
        return
    status, body = http("POST", wald.http + "/v1/namespaces/orders/log:write", {"payload": {"opaque": "aGk="}})
    check("a write to orders is answered TRUE", status == 200 and json.loads(body).get("durable") == "TRUE", body)
    status, body = http("PUT", wald.http + "/v1/namespaces/typo", {"name": "typo", "max_retries": "nine"})
    check("an invalid namespace config is refused", status == 400, "%d %s" % (status, body))
    status, body = http("PUT", wald.http + "/v1/namespaces/payments", {"name": "payments"})
    check("a valid namespace config is applied", status == 200, "%d %s" % (status, body))

    text = wald.metrics()
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    check("promtool check metrics finds nothing in /metrics", lint.returncode == 0 and not lint.stdout.strip(),
          lint.stdout + lint.stderr)
    exported = families(text)
    for source in ("wal-dashboard.json", "wal-alerts.yaml", "wal-alerts.test.yaml"):
        with open(os.path.join(directory, source)) as file:
            named = referenced_metrics(file.read())
        unknown = sorted(name for name in named if family_of(name, exported) is None)
        check("%s names only metrics wald exports (%d names)" % (source, len(named)), named and not unknown,
              "not exported: %s" % ", ".join(unknown))
    with open(os.path.join(directory, "wal-dashboard.json")) as file:
        dashboard = json.load(file)
    check("the dashboard has panels", len([p for p in dashboard["panels"] if p["type"] != "row"]) >= 10)

    for series in ('wal_writes_total{namespace="orders",durable="TRUE"} 1',
                   'wal_config_rejects_total{source="apply"} 1',
                   'wal_build_info{version="'):
        check("/metrics has " + series, series in text)
    for family in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                   "process_start_time_seconds", "wal_delivery_lag_seconds", "wal_target_errors_total"):
        check("/metrics exports " + family, family in exported)

    status, body = http("DELETE", wald.http + "/v1/namespaces/orders?purge_data=true")
    check("orders is deleted", status == 200, "%d %s" % (status, body))
    text = wald.metrics()
    check("a deleted namespace's series leave /metrics", 'namespace="orders"' not in text,
          "\n".join(line for line in text.splitlines() if 'namespace="orders"' in line))
    check("the other namespaces' series stay", 'wal_namespace_pending{namespace="payments"} 0' in text)

    lines = wald.log_lines()
    check("every line of wald's logger is JSON", not [line for line in lines if "unparsed" in line],
          "".join(line["unparsed"] for line in lines if "unparsed" in line))
    applied = [line for line in lines if line.get("msg") == "namespace payments applied"]
    check("the apply's log line carries namespace=payments", applied and applied[0].get("namespace") == "payments",
          json.dumps(applied))
    deleted = [line for line in lines if line.get("msg", "").startswith("namespace orders deleted")]
    check("the delete's log line carries namespace=orders", deleted and deleted[0].get("namespace") == "orders",
          json.dumps(deleted))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wald", required=True)
    parser.add_argument("--observability", required=True, help="the deploy/observability directory")
    args = parser.parse_args()
    promtool = shutil.which("promtool")
    if not check("promtool is installed", promtool is not None, "run scripts/install-deps.sh (Debian package prometheus)"):
        print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
        return 1
    promtool_checks(promtool, args.observability)
    with tempfile.TemporaryDirectory(prefix="wal-observability-") as root:
        wald = Wald(args.wald, root)
        try:
            live_checks(promtool, wald, args.observability)
        finally:
            wald.stop()
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 0 if RESULTS["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
