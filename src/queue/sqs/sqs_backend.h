// The SQS backend: a queue::Backend over one SQS queue plus its dead-letter
// queue, spoken to through our own SqsClient (AWS JSON 1.0 + SigV4).
//
// How the contract of queue/queue.h maps onto SQS (details in docs/sqs.md):
//  - Append: SendMessage / SendMessageBatch (sender threads, 4 by default,
//    each group up to 10 waiting appends per call). Body = base64(record).
//    Attributes: wal-due-ms (due time, ms since the epoch), wal-ordering-key-b64
//    (base64: the key is bytes, and SQS refuses control characters).
//    DelaySeconds = min(whole seconds of the remaining delay, max_delay_hop). kTrue only after a success response whose MD5OfMessageBody
//    matches; a timeout or lost connection after sending -> kUnknown; an error
//    response or no connection -> kFalse.
//  - Ids: SQS has no offsets. An entry's id is the first 63 bits of
//    SHA-256(MessageId): stable across redeliveries and processes, the same in
//    Append's outcome, Poll's Delivery and the DLQ listing. Ids are not ordered
//    and change when a message is re-sent (delay hops, long reschedules, DLQ
//    moves, redrive) because SQS then holds a new message.
//  - Receiving: receiver threads long-poll (WaitTimeSeconds = poll_interval,
//    at most 20 s; MaxNumberOfMessages = max_messages_per_poll). A message not
//    yet due hops when it is a second or more early (re-sent with the remaining
//    delay, at most max_delay_hop, and the old one deleted), and is held in
//    memory until its due time when it is less than a second early. Nothing is
//    handed out before its due time.
//  - Reschedule: ChangeMessageVisibility(due - now) when that is <= 12 h (the
//    replacement record is NOT stored: the attempt count then comes from
//    ApproximateReceiveCount, which the engine reads as receive_count), else
//    the replacement is sent with a delay and the original deleted.
//  - DeadLetter: an explicit SendMessage of the dead record to the DLQ queue,
//    then DeleteMessage of the original (no SQS redrive policy).
//  - Read() is refused: peeking at the main queue would count as a receive and
//    inflate ApproximateReceiveCount, i.e. attempt counts.
//  - Messages over max_message_bytes (256 KiB, SQS's long-standing limit) are
//    refused with kFalse / kInvalidArgument.
//
// Threading: all methods are thread-safe. Callbacks run on a sender thread or
// one of two retire workers, never under a backend lock. Receiver threads
// (started by the first Poll) long-poll into a small buffer that Poll reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "queue/queue.h"
#include "queue/sqs/sqs_client.h"

namespace wal::queue::sqs {

// SQS's classic message size limit (body + attributes), which every SQS queue
// and ElasticMQ accept. AWS now allows up to 1 MiB per queue when configured;
// raise this only for queues whose MaximumMessageSize says so.
inline constexpr size_t kMaxSqsMessageBytes = 256 * 1024;
// The longest ChangeMessageVisibility SQS accepts.
inline constexpr std::chrono::seconds kMaxVisibilityTimeout{12 * 3600};

struct SqsBackendOptions {
  SqsClientOptions client;
  size_t max_message_bytes = kMaxSqsMessageBytes;
  // Visibility timeout of a handed-out message; a heartbeat extends it while
  // this process holds the delivery, so a crash redelivers within this time.
  std::chrono::seconds in_flight_visibility{60};
  std::chrono::milliseconds stats_cache{1000};
  // Threads sending appends; each sends up to 10 waiting appends per call
  // (SendMessageBatch), so this many calls are in flight at once.
  int sender_threads = 4;
};

// Reads credentials from the environment / shared credentials file (see
// credentials.h) and opens the backend config.backend's sqs settings name. Does not
// contact SQS: queue URLs are resolved on first use.
Result<std::unique_ptr<Backend>> OpenSqsBackend(const BackendContext& context, const config::NamespaceConfig& config);

// Same, with explicit client options (tests, tools).
Result<std::unique_ptr<Backend>> OpenSqsBackendWithOptions(const config::NamespaceConfig& config,
                                                           SqsBackendOptions options);

// The module: settings `backend.sqs` (sqs_config.h) and OpenSqsBackend.
// Registered in src/modules/.
BackendModule Module();

// The entry id of an SQS message: first 63 bits of SHA-256(MessageId).
uint64_t EntryIdForMessage(std::string_view message_id);

}  // namespace wal::queue::sqs
