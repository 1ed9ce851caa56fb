"""build_request: typed writes become the WriteToLogRequest wald documents."""
import datetime

import pytest

from wal_client import Mutation, Target, Write
from wal_client.payloads import build_request
from wal_client.v1 import wal_pb2


def test_opaque_bytes_and_text():
    assert build_request(Write("ns", b"\x00raw"), "k").payload.opaque == b"\x00raw"
    assert build_request(Write("ns", "héllo"), "k").payload.opaque == "héllo".encode()


def test_fields_mirror_the_request():
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    request = build_request(
        Write("orders", b"x", delay=datetime.timedelta(minutes=1, milliseconds=500), write_time=when,
              target=Target("http", {"url": "http://127.0.0.1:1/x", "timeout": "2s"})),
        "key-1",
    )
    assert request.namespace == "orders"
    assert request.idempotency_key == "key-1"
    assert (request.lifecycle.delay.seconds, request.lifecycle.delay.nanos) == (60, 500_000_000)
    assert request.lifecycle.write_time.ToDatetime(datetime.timezone.utc) == when
    assert request.target.type == "http"
    assert request.target.settings["url"] == "http://127.0.0.1:1/x"


def test_an_absent_delay_is_left_to_the_namespace():
    assert not build_request(Write("ns", b"x"), "k").HasField("lifecycle")


def test_a_negative_delay_keeps_one_sign_so_wald_can_name_it():
    delay = build_request(Write("ns", b"x", delay=-1.25), "k").lifecycle.delay
    assert (delay.seconds, delay.nanos) == (-1, -250_000_000)


def test_one_mutation():
    mutation = build_request(Write("kv", Mutation.put("k", b"v", table="t", ttl=3600)), "k").payload.mutation
    assert (mutation.op, mutation.key, mutation.value, mutation.table) == (wal_pb2.Mutation.PUT, b"k", b"v", "t")
    assert mutation.ttl.seconds == 3600
    deleted = build_request(Write("kv", Mutation.delete(b"k")), "k").payload.mutation
    assert deleted.op == wal_pb2.Mutation.DELETE and not deleted.value


def test_a_mutation_set_is_numbered_in_the_order_given():
    mutations = [Mutation.put("a", "1"), Mutation.delete("b"), Mutation.put("c", "3", target="cache")]
    payload = build_request(Write("kv", mutations), "k").payload
    assert [m.sequence for m in payload.mutation_set.mutations] == [0, 1, 2]
    assert payload.mutation_set.mutations[2].target == "cache"
    explicit = build_request(Write("kv", [Mutation.put("a", "1", sequence=7)]), "k").payload
    assert explicit.mutation_set.mutations[0].sequence == 7


def test_a_payload_of_another_type_is_refused_before_sending():
    with pytest.raises(TypeError):
        build_request(Write("ns", [1, 2]), "k")  # type: ignore[list-item]
