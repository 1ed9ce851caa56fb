#include "queue/sqs/sqs_backend_impl.h"

// The receiving side: receiver threads long-poll the main queue into a small
// buffer that Poll reads; messages not due yet hop or are held in memory.

namespace wal::queue::sqs {

Result<std::vector<Delivery>> SqsBackend::Poll(size_t max_entries, milliseconds wait) {
  if (closed_) return FailedPrecondition("sqs backend: closed");
  std::vector<Delivery> deliveries;
  if (max_entries == 0) return deliveries;
  // A queue that cannot be resolved (does not exist, no access) fails the
  // poll at once, as it fails appends; after that the URL is cached.
  WAL_RETURN_IF_ERROR(MainUrl().status());
  StartReceivers();
  const auto deadline = Steady::now() + wait;
  {
    std::unique_lock lock(buffer_mutex_);
    while (true) {
      PromoteDueLocked(Clock::now());
      if (!ready_.empty() || closed_) break;
      if (!receive_error_.ok()) {
        // Reported once per failed receive, so the engine logs it once.
        Status error = std::move(receive_error_);
        receive_error_ = Status::Ok();
        return error;
      }
      auto now = Steady::now();
      if (now >= deadline) break;
      auto wake = deadline;
      if (!waiting_.empty()) {
        auto until_due = duration_cast<Steady::duration>(waiting_.begin()->first - Clock::now());
        wake = std::min(wake, now + std::max(until_due, Steady::duration::zero()));
      }
      ready_cv_.wait_until(lock, wake);
    }
    while (!ready_.empty() && deliveries.size() < max_entries) {
      deliveries.push_back(std::move(ready_.front()));
      ready_.pop_front();
    }
  }
  space_cv_.notify_all();
  std::sort(deliveries.begin(), deliveries.end(), [](const Delivery& a, const Delivery& b) {
    return a.entry.due != b.entry.due ? a.entry.due < b.entry.due : a.id < b.id;
  });
  return deliveries;
}

void SqsBackend::StartReceivers() {
  std::lock_guard lock(receivers_mutex_);
  if (!receivers_.empty() || closed_) return;
  for (int i = 0; i < receiver_count_; ++i) receivers_.emplace_back([this] { ReceiverLoop(); });
}

void SqsBackend::SleepUnlessClosed(milliseconds duration) {
  std::unique_lock lock(buffer_mutex_);
  space_cv_.wait_for(lock, duration, [this] { return closed_.load(); });
}

void SqsBackend::ReceiverLoop() {
  while (!closed_) {
    {
      std::unique_lock lock(buffer_mutex_);
      space_cv_.wait(lock, [this] { return closed_ || ready_.size() + waiting_.size() < capacity_; });
      if (closed_) return;
    }
    auto url = MainUrl();
    if (!url.ok()) {
      ReportReceiveError(url.status());
      SleepUnlessClosed(milliseconds(1000));
      continue;
    }
    ReceiveOptions receive;
    receive.max_messages = per_poll_;
    receive.wait_seconds = long_poll_seconds_;
    receive.visibility_timeout = static_cast<int>(options_.in_flight_visibility.count());
    receive.cancel = &closed_;
    auto messages = client_.ReceiveMessage(*url, receive);
    if (!messages.ok()) {
      if (closed_) return;
      ReportReceiveError(messages.status());
      SleepUnlessClosed(milliseconds(1000));
      continue;
    }
    if (closed_) {
      Release(*url, *messages);  // not ours to hold any more: visible again at once
      return;
    }
    TimePoint now = Clock::now();
    std::vector<Delivery> due_now;
    std::vector<Delivery> due_soon;
    for (ReceivedMessage& message : *messages) {
      Delivery delivery = ToDelivery(message);
      const TimePoint hold_until = HoldUntil(delivery);
      if (hold_until - now >= seconds(1)) {
        Hop(*url, message, delivery.entry.due, now);
        continue;
      }
      {
        std::lock_guard lock(inflight_mutex_);
        // SQS may hand out a second copy of a message we hold: leave it alone
        // (it reappears after its visibility timeout if we do not retire it).
        if (!inflight_.emplace(delivery.id, InFlight{message.receipt_handle, Steady::now()}).second) continue;
      }
      (hold_until > now ? due_soon : due_now).push_back(std::move(delivery));
    }
    {
      std::lock_guard lock(buffer_mutex_);
      receive_error_ = Status::Ok();
      for (Delivery& delivery : due_now) ready_.push_back(std::move(delivery));
      for (Delivery& delivery : due_soon) {
        TimePoint until = HoldUntil(delivery);
        waiting_.emplace(until, std::move(delivery));
      }
    }
    ready_cv_.notify_all();
    if (messages->empty()) {
      // The queue had nothing for a whole long poll: wait out the rest of
      // the poll interval (short polls when it is under a second).
      if (long_poll_seconds_ == 0) {
        SleepUnlessClosed(std::max(poll_interval_, milliseconds(20)));
      } else if (poll_interval_ > seconds(long_poll_seconds_)) {
        SleepUnlessClosed(poll_interval_ - seconds(long_poll_seconds_));
      }
    }
  }
}

void SqsBackend::Hop(const std::string& url, const ReceivedMessage& message, TimePoint due, TimePoint now) {
  OutgoingMessage next;
  next.body = message.body;
  next.delay_seconds = FloorSeconds(duration_cast<milliseconds>(due - now), hop_);
  for (const auto& [name, value] : message.attributes) next.attributes.emplace_back(name, value);
  SentMessage sent = client_.SendMessage(url, next);
  if (!sent.status.ok()) return;
  (void)client_.DeleteMessage(url, message.receipt_handle);
}

TimePoint SqsBackend::HoldUntil(const Delivery& delivery) {
  return delivery.entry.due + milliseconds(1) - TimePoint::duration(1);
}

void SqsBackend::ReportReceiveError(Status status) {
  {
    std::lock_guard lock(buffer_mutex_);
    receive_error_ = std::move(status);
  }
  ready_cv_.notify_all();
}

void SqsBackend::PromoteDueLocked(TimePoint now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    ready_.push_back(std::move(waiting_.begin()->second));
    waiting_.erase(waiting_.begin());
  }
}

void SqsBackend::ReleaseBuffered() {
  std::vector<Delivery> buffered;
  {
    std::lock_guard lock(buffer_mutex_);
    for (Delivery& delivery : ready_) buffered.push_back(std::move(delivery));
    for (auto& [due, delivery] : waiting_) buffered.push_back(std::move(delivery));
    ready_.clear();
    waiting_.clear();
  }
  if (buffered.empty()) return;
  auto url = MainUrl();
  for (const Delivery& delivery : buffered) {
    Forget(delivery.id);
    if (url.ok()) (void)client_.ChangeMessageVisibility(*url, delivery.receipt, 0);
  }
}

}  // namespace wal::queue::sqs
