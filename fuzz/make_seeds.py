#!/usr/bin/env python3
"""Writes the binary seed inputs of fuzz/corpus/ (segments, records, protobuf
requests, Kafka envelopes) from readable descriptions, so they can be reviewed
and regenerated. The text seeds (YAML, JSON, HTTP) are plain files in the corpus
and are not written here.

Usage: python3 fuzz/make_seeds.py   (from anywhere; rewrites the generated files)
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


# --- CRC32C and the log format (src/log/record_format.h) ----------------------

def _crc_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


MAGIC = 0x0100474553_4C4157


def segment_header(first_id, gap_start=None):
    """A version 2 segment header (40 bytes)."""
    gap_start = first_id if gap_start is None else gap_start
    head = struct.pack("<QIIQQ", MAGIC, 2, 40, first_id, gap_start)
    return head + struct.pack("<II", mask(crc32c(head)), 0)


def segment_header_v1(first_id):
    head = struct.pack("<QIIQ", MAGIC, 1, 32, first_id)
    return head + struct.pack("<II", mask(crc32c(head)), 0)


def record(entry_id, payload, index=0, count=1):
    """A version 2 record: number `index` of a group of `count`."""
    body = struct.pack("<IQII", len(payload), entry_id, index, count) + payload
    return struct.pack("<I", mask(crc32c(body))) + body


def group(first_id, *payloads):
    return b"".join(record(first_id + i, p, i, len(payloads)) for i, p in enumerate(payloads))


def record_v1(entry_id, payload):
    body = struct.pack("<IQ", len(payload), entry_id) + payload
    return struct.pack("<I", mask(crc32c(body))) + body


def checkpoint(consumed):
    head = b"WALCKPT1" + struct.pack("<Q", consumed)
    return head + struct.pack("<II", mask(crc32c(head)), 0)


# --- protobuf wire format ------------------------------------------------------

def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, value):
    """A field: int -> varint, bytes/str -> length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def message(*fields):
    return b"".join(fields)


def struct_value(text):  # google.protobuf.Value{string_value}
    return field(3, text)


def struct_of(**entries):  # google.protobuf.Struct{fields map}
    return message(*(field(1, message(field(1, key), field(2, value))) for key, value in entries.items()))


# --- writing -------------------------------------------------------------------

def write(target, name, data):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)


def chunk(data):
    return struct.pack("<I", len(data)) + data


def record_format_seeds():
    seg = segment_header(0) + record(0, b"first") + group(1, b"", b"x" * 40)
    write("record_format_fuzzer", "segment-three-records", seg)
    write("record_format_fuzzer", "segment-torn-tail", seg[:-7])
    write("record_format_fuzzer", "segment-gap-start", segment_header(9, 4) + record(9, b"after a gap"))
    write("record_format_fuzzer", "segment-v1", segment_header_v1(0) + record_v1(0, b"old") + record_v1(1, b""))
    write("record_format_fuzzer", "records-no-header", group(7, b"payload", b"more"))
    write("record_format_fuzzer", "records-v1-no-header", record_v1(7, b"payload") + record_v1(8, b"more"))
    write("record_format_fuzzer", "record-bad-group", struct.pack("<IIQII", 0, 1, 5, 3, 3) + b"z")
    write("record_format_fuzzer", "record-length-past-end", struct.pack("<IIQII", 0, 0xFFFFFFF0, 1, 0, 1) + b"abc")
    write("record_format_fuzzer", "checkpoint", checkpoint(42))
    write("record_format_fuzzer", "segment-name", b"00000000000000000042.seg")
    bad = bytearray(seg)
    bad[48] ^= 0x01
    write("record_format_fuzzer", "segment-bad-checksum", bytes(bad))


def log_recovery_seeds():
    first = segment_header(0) + record(0, b"a") + record(1, b"bb")
    second = segment_header(2) + group(2, b"ccc", b"dddd")
    # options: bits 0-1 extra segments, bit 2 checkpoint, bit 3 small max_record_bytes, bit 4 reopen, bit 5 repair
    write("log_recovery_fuzzer", "one-segment", bytes([0]) + first)
    write("log_recovery_fuzzer", "two-segments", bytes([1]) + chunk(first) + second)
    write("log_recovery_fuzzer", "two-segments-reopen", bytes([1 | 16]) + chunk(first) + second)
    write("log_recovery_fuzzer", "torn-tail-reopen", bytes([16]) + first + record(2, b"torn")[:9])
    write("log_recovery_fuzzer", "two-segments-checkpoint", bytes([1 | 4]) + chunk(first) + chunk(checkpoint(2)) + second)
    write("log_recovery_fuzzer", "torn-tail", bytes([0]) + first + record(2, b"torn")[:9])
    # A power loss inside an unsynced group: the group's commit marker is missing.
    write("log_recovery_fuzzer", "group-without-marker", bytes([16]) + first + group(2, b"g0", b"g1", b"g2")[:-30])
    write("log_recovery_fuzzer", "zero-hole-in-last-group", bytes([16]) + first
          + b"\0" * len(record(2, b"h0", 0, 2)) + record(3, b"h1", 1, 2))
    write("log_recovery_fuzzer", "zero-hole-then-record", bytes([0]) + first + b"\0" * 20 + record(3, b"after hole"))
    write("log_recovery_fuzzer", "mid-log-damage", bytes([1]) + chunk(first[:-3] + b"zzz") + second)
    write("log_recovery_fuzzer", "mid-log-damage-repair", bytes([1 | 16 | 32]) + chunk(first[:-3] + b"zzz") + second)
    write("log_recovery_fuzzer", "missing-segment-repair", bytes([1 | 32]) + chunk(first) + segment_header(9) + record(9, b"z"))
    write("log_recovery_fuzzer", "bad-checkpoint-repair", bytes([4 | 32]) + chunk(b"WALCKPT1" + b"\1" * 16) + first)
    write("log_recovery_fuzzer", "declared-gap", bytes([1 | 16]) + chunk(first) + segment_header(9, 2) + record(9, b"z"))
    write("log_recovery_fuzzer", "v1-segments", bytes([1 | 16]) + chunk(segment_header_v1(0) + record_v1(0, b"a"))
          + segment_header_v1(1) + record_v1(1, b"b"))
    write("log_recovery_fuzzer", "checkpoint-beyond-end", bytes([4]) + chunk(checkpoint(1000)) + first)
    write("log_recovery_fuzzer", "record-over-small-limit", bytes([8 | 16]) + segment_header(0) + record(0, b"y" * 100))
    write("log_recovery_fuzzer", "gap-between-segments", bytes([1]) + chunk(first) + segment_header(9) + record(9, b"z"))
    write("log_recovery_fuzzer", "empty", bytes([0]))


def known_defect_seeds():
    """Inputs that still fail because of a defect that is not fixed yet (fuzz/README.md)."""
    directory = os.path.join(os.path.dirname(ROOT), "known-defects", "log_recovery_fuzzer")
    os.makedirs(directory, exist_ok=True)
    top = 2**64 - 1
    cases = {
        # A record with id 2^64-1: the recovered end id wraps to 0.
        "id-overflow-record": bytes([0]) + segment_header(top) + record(top, b"last id"),
        # An empty segment whose first id is 2^64-1: the append takes that id and
        # the next id wraps to 0; the reopened log has first_id > next_id.
        "id-overflow-append": bytes([16]) + segment_header(top),
    }
    for name, data in cases.items():
        with open(os.path.join(directory, name), "wb") as out:
            out.write(data)


def grpc_seeds():
    # byte 0: method (the order of grpc_request_fuzzer.cc), byte 1: authorization
    write_request = message(field(1, "orders"), field(3, message(field(1, b"hello"))))
    delayed = message(field(1, "orders"), field(2, message(field(1, message(field(1, 30))))),
                      field(3, message(field(2, message(field(1, 1), field(4, b"k"), field(5, b"v"))))),
                      field(5, "idem-1"))
    mutation_set = message(field(1, "orders"), field(3, message(field(3, message(
        field(1, message(field(1, 1), field(4, b"a"), field(5, b"1"), field(8, 1))),
        field(1, message(field(1, 2), field(4, b"b"), field(8, 2))))))))
    override = message(field(1, "orders"), field(3, message(field(1, b"x"))),
                       field(4, message(field(1, "http"), field(2, struct_of(url=struct_value("http://127.0.0.1:1/"))))))
    secured = message(field(1, "secured"), field(3, message(field(1, b"s"))))
    seeds = {
        "write": (0, 0, write_request),
        "write-delayed-mutation": (0, 0, delayed),
        "write-mutation-set": (0, 0, mutation_set),
        "write-target-override": (0, 0, override),
        "write-secured-with-token": (0, 1, secured),
        "write-secured-without-token": (0, 0, secured),
        "list-namespaces": (1, 0, b""),
        "get-namespace": (2, 0, field(1, "orders")),
        "apply-namespace": (3, 0, field(1, struct_of(
            name=struct_value("scratch"),
            backend=field(5, struct_of(type=struct_value("local")))))),
        "delete-namespace": (4, 0, message(field(1, "scratch"), field(2, 1))),
        "status": (5, 0, field(1, "orders")),
        "read-log": (6, 0, message(field(1, "orders"), field(3, 10))),
        "list-dead-letters": (7, 1, message(field(1, "secured"), field(3, 10))),
        "redrive": (8, 0, message(field(1, "orders"), field(2, 1))),
        "purge": (9, 0, message(field(1, "orders"), field(2, 7))),
        "get-shard-map": (10, 0, b""),
        "apply-shard-map": (11, 0, field(1, "shards: {a: {addresses: ['h:1']}}")),
        "invalid-utf8-namespace": (0, 0, message(field(1, b"\xffrders"), field(3, message(field(1, b"x"))))),
        "truncated": (0, 0, write_request[:-3]),
    }
    for name, (method, auth, body) in seeds.items():
        write("grpc_request_fuzzer", name, bytes([method, auth]) + body)


def kafka_seeds():
    def envelope(due, group, timestamp, receipt, value):
        return bytes([len(due), len(group)]) + struct.pack("<q", timestamp) + due + group + receipt + b"\n" + value

    opaque = message(field(1, "orders"), field(2, message(field(1, b"payload"))), field(8, 1))
    mutation = message(field(1, "orders"), field(2, message(field(2, message(field(1, 1), field(4, b"k"), field(5, b"v"))))))
    mutation_set = message(field(1, "orders"), field(2, message(field(3, message(
        field(1, message(field(1, 1), field(4, b"a"), field(8, 2))),
        field(1, message(field(1, 2), field(4, b""), field(8, 1))))))))
    write("kafka_envelope_fuzzer", "main-topic",
          envelope(b"1700000000123", b"", 1700000000000, b"orders/0/42/1", opaque))
    write("kafka_envelope_fuzzer", "retry-copy",
          envelope(b"1700000005000", b"wal-orders", 1700000000000, b"orders.delay.1s/2/7/3", mutation))
    write("kafka_envelope_fuzzer", "foreign-message", envelope(b"", b"", -1, b"orders/0/0/0", b"not a record"))
    write("kafka_envelope_fuzzer", "huge-due", envelope(b"9223372036854775807", b"", 2**62, b"t/1/2/3", mutation_set))
    write("kafka_envelope_fuzzer", "negative-due", envelope(b"-5", b"g", 0, b"t/-1/2/3", b""))


def main():
    record_format_seeds()
    log_recovery_seeds()
    known_defect_seeds()
    grpc_seeds()
    kafka_seeds()


if __name__ == "__main__":
    main()
