#!/usr/bin/env bash
# Section: the SQS backend. Durable WriteToLog on an sqs namespace (ElasticMQ on
# loopback) against the raw SendMessage rate of the same ElasticMQ, measured with the
# project's own SqsClient (bench/sqs_send_peer) in the same run.
# Called by bench/run.sh with the build dir and a scratch dir; prints Markdown.
set -euo pipefail
build_dir="$1"; work="$2"
source "$(dirname "$0")/../lib.sh"
root="$(cd "$(dirname "$0")/../.." && pwd)"

seconds="${BENCH_SECONDS:-10}"
in_flight="${BENCH_IN_FLIGHT:-64}"
payload="${BENCH_PAYLOAD_BYTES:-1024}"
peer_seconds="${BENCH_SQS_PEER_SECONDS:-5}"

emq_dir="$work/elasticmq"
cleanup_sqs() {
  kill_tracked
  bash "$root/scripts/test-servers/elasticmq.sh" stop "$emq_dir" >/dev/null 2>&1 || true
}
trap cleanup_sqs EXIT

# ElasticMQ accepts any signature; wald and the peer still sign every request.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-AKIDBENCH}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-bench-secret}"
sqs_port=$(free_port)
log "bench: starting ElasticMQ on 127.0.0.1:$sqs_port"
bash "$root/scripts/test-servers/elasticmq.sh" start "$emq_dir" "$sqs_port" >&2
emq_pid=$(cat "$emq_dir/elasticmq.pid")
for queue in bench bench-dlq bench-peer; do
  curl -sf -X POST "http://127.0.0.1:$sqs_port/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: AmazonSQS.CreateQueue' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' \
    --data "{\"QueueName\":\"$queue\"}" >/dev/null
done

log "bench: wald WriteToLog, sqs backend, ${in_flight} in flight, ${payload}-byte payloads, ${seconds}s"
mkdir -p "$work/writes/namespaces"
cat > "$work/writes/namespaces/bench.yaml" <<YAML
name: bench
backend:
  type: sqs
  sqs:
    queue: bench
    dlq_queue: bench-dlq
    endpoint: http://127.0.0.1:$sqs_port
YAML
# --role producer: only the write path runs (no consumer draining the queue).
wald_grpc=$(free_port); wald_http=$(free_port)
"$build_dir/src/wald/wald" --data-dir "$work/writes/data" --namespaces "$work/writes/namespaces" --role producer \
  --grpc-listen "127.0.0.1:$wald_grpc" --http-listen "127.0.0.1:$wald_http" --log-level warn \
  >"$work/writes/wald.log" 2>&1 &
wald_pid=$!; track_pid "$wald_pid"
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$wald_http/healthz" >/dev/null && break; sleep 0.1; done
cpu_wald_before=$(awk '{print $14+$15}' "/proc/$wald_pid/stat")
cpu_emq_before=$(awk '{print $14+$15}' "/proc/$emq_pid/stat")
wal_result=$("$build_dir/bench/wal_loadgen" --server "127.0.0.1:$wald_grpc" --namespace bench \
  --in-flight "$in_flight" --payload-bytes "$payload" --seconds "$seconds" --json)
cpu_wald_after=$(awk '{print $14+$15}' "/proc/$wald_pid/stat")
cpu_emq_after=$(awk '{print $14+$15}' "/proc/$emq_pid/stat")
log "  $wal_result"
kill "$wald_pid"; wait "$wald_pid" 2>/dev/null || true

log "bench: raw SendMessage, ${in_flight} concurrent senders, same ElasticMQ, ${peer_seconds}s"
peer_result=$("$build_dir/bench/sqs_send_peer" --endpoint "http://127.0.0.1:$sqs_port" --queue bench-peer \
  --concurrency "$in_flight" --payload-bytes "$payload" --seconds "$peer_seconds" --json)
log "  $peer_result"
log "bench: raw SendMessageBatch of 10, ${in_flight} concurrent senders, same ElasticMQ, ${peer_seconds}s"
peer_batch=$("$build_dir/bench/sqs_send_peer" --endpoint "http://127.0.0.1:$sqs_port" --queue bench-peer \
  --concurrency "$in_flight" --payload-bytes "$payload" --batch 10 --seconds "$peer_seconds" --json)
log "  $peer_batch"

wal_rps=$(json_field "$wal_result" durable_writes_per_sec)
wal_p50=$(json_field "$wal_result" p50_ms)
wal_p99=$(json_field "$wal_result" p99_ms)
wal_not_durable=$(json_field "$wal_result" not_durable)
peer_rps=$(json_field "$peer_result" messages_per_sec)
peer_p50=$(json_field "$peer_result" p50_ms)
peer_p99=$(json_field "$peer_result" p99_ms)
batch_rps=$(json_field "$peer_batch" messages_per_sec)
batch_p50=$(json_field "$peer_batch" p50_ms)
batch_p99=$(json_field "$peer_batch" p99_ms)
wald_cores=$(python3 -c "print(round(($cpu_wald_after-$cpu_wald_before)/100/($seconds+2), 2))")
emq_cores=$(python3 -c "print(round(($cpu_emq_after-$cpu_emq_before)/100/($seconds+2), 2))")

cat <<DOC
## Durable writes on SQS (ElasticMQ)

\`wal_loadgen\`: gRPC WriteToLog to a namespace with \`backend.type: sqs\`, ${in_flight} calls in flight,
${payload}-byte payloads, ${seconds} s measured after a 2 s warm-up, wald with \`--role producer\`.
ElasticMQ 1.6.11 runs on the same machine (JVM, H2 message store with \`WRITE_DELAY=0\`). A write is
answered \`durable=TRUE\` only after ElasticMQ's SendMessage(Batch) response carried a matching
\`MD5OfMessageBody\`. The peers send the same payloads to the same ElasticMQ with the project's SqsClient
(same SigV4 signing, libcurl, MD5 check), ${peer_seconds} s each.

| system | messages/s | p50 | p99 | ratio to wal |
|---|---:|---:|---:|---:|
| **wal** (gRPC → sqs backend, SendMessageBatch of waiting appends) | **${wal_rps}** | ${wal_p50} ms | ${wal_p99} ms | 1.00x |
| raw SendMessage, ${in_flight} concurrent senders | ${peer_rps} | ${peer_p50} ms | ${peer_p99} ms | $(ratio "$peer_rps" "$wal_rps") |
| raw SendMessageBatch of 10, ${in_flight} concurrent senders | ${batch_rps} | ${batch_p50} ms | ${batch_p99} ms | $(ratio "$batch_rps" "$wal_rps") |

wal vs raw SendMessage: **$(ratio "$wal_rps" "$peer_rps")**. Writes not answered TRUE during the run: ${wal_not_durable}.
During the wal run wald used ${wald_cores} and ElasticMQ ${emq_cores} of the 2 cores.
The peers' p50/p99 are per call (a batch call carries 10 messages).

- ElasticMQ, not the network, is the limit here: every figure is bounded by what one JVM on a
  shared 2-core machine accepts. Against AWS SQS each call costs a network round trip
  (~10–30 ms), so throughput per wald comes from batching and concurrent calls, not from latency.

DOC
