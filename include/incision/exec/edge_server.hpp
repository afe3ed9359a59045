/// @file
/// @brief edge_server: serves many devices over TCP (standalone Asio): runs the server part of
/// each frame's plan with the backend and hosts the FedLinUCB-DW aggregator on the same
/// connections. Protocol: wire.hpp and docs/net.md. Part of incision::net (Asio + threads).
///
/// Design (lessons in docs/net.md): N threads run one io_context; each connection has a strand,
/// so its handlers never run concurrently, and at most one write in flight (a bounded queue
/// behind it; a reply is written in place while the socket takes it). Reads fill a buffer, so
/// a small frame takes one read. A frame's header is checked against the size limit and the
/// server-wide memory budget before its body is read. Read and write timeouts close the
/// connection (a half-read frame is never cancelled and resumed); one lazily moved timer per
/// connection watches them. Deadlines are the application's: a request whose
/// budget has run out when the server reaches it gets an `expired` reply without computing.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/tensor_codec.hpp>
#include <incision/exec/wire.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/messages.hpp>

#include <asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Options of @ref edge_server.
struct edge_server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;   ///< 0: any free port (see edge_server::port)
  std::size_t threads = 2;  ///< worker threads, and backends (one per thread)
  std::size_t max_connections = 256;
  wire_limits limits{};                                ///< per frame (max_frame_bytes) and per field
  std::size_t memory_budget = std::size_t{256} << 20;  ///< frame bodies held at once, all connections
  std::size_t max_queued_replies = 4;                  ///< per connection; more: the peer is not reading
  std::chrono::milliseconds idle_timeout{60000};       ///< no frame started for this long: close
  std::chrono::milliseconds read_timeout{5000};   ///< a frame's body not complete this long after its header: close
  std::chrono::milliseconds write_timeout{5000};  ///< a reply not taken this long: close
  bool host_aggregator = true;                    ///< accept FedLinUCB-DW messages (kinds 200-299)
  federated::fed_aggregator_options aggregator{};
};

/// @brief Counters (a consistent-enough snapshot; each is exact on its own).
struct edge_stats {
  std::uint64_t accepted = 0;         ///< connections accepted
  std::uint64_t refused = 0;          ///< connections refused at the limit
  std::uint64_t open = 0;             ///< connections open now
  std::uint64_t served = 0;           ///< requests computed
  std::uint64_t expired = 0;          ///< requests whose budget had run out
  std::uint64_t failed = 0;           ///< requests the backend refused
  std::uint64_t protocol_errors = 0;  ///< connections closed for a bad frame or handshake
  std::uint64_t timeouts = 0;         ///< connections closed by a read or write timeout
  std::uint64_t fed_messages = 0;     ///< messages handed to the aggregator
  std::uint64_t budget_peak = 0;      ///< most frame-body bytes held at once
};

/// @brief The edge server. Construct, start(), and it serves until stop() or destruction.
template <class Backend>
class edge_server {
 public:
  /// @param make_backend called `threads` times: one backend per worker (backends are not shared)
  /// @param model the fingerprint devices must present (model_fingerprint of the network)
  /// @throws invalid_argument for zero threads or connections, or a budget below one frame.
  edge_server(std::function<Backend()> make_backend, std::uint64_t model, edge_server_options options = {});
  ~edge_server() { stop(); }
  edge_server(const edge_server&) = delete;
  edge_server& operator=(const edge_server&) = delete;

  /// @brief Binds, listens and starts the threads. @throws io_error if the address cannot be bound.
  void start();
  /// @brief Closes the listener and every connection, then joins the threads. Idempotent.
  void stop();
  /// @brief The bound port (after start).
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t model() const noexcept { return model_; }
  [[nodiscard]] edge_stats stats() const noexcept;
  /// @brief The hosted aggregator (lock-free access is the caller's business: call after stop()).
  [[nodiscard]] const federated::fed_aggregator& aggregator() const noexcept { return aggregator_; }

 private:
  class connection;
  friend class connection;

  std::uint64_t model_;
  edge_server_options opt_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<Backend*> free_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  federated::fed_aggregator aggregator_;
  std::mutex fed_mutex_;

  asio::io_context io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::strand<asio::io_context::executor_type> accept_strand_{asio::make_strand(io_)};
  asio::ip::tcp::acceptor acceptor_{accept_strand_};  // its handlers run on its strand
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  std::atomic<bool> stopping_{false};

  std::mutex conn_mutex_;
  std::unordered_map<connection*, std::weak_ptr<connection>> conns_;

  std::atomic<std::size_t> budget_used_{0};
  struct counters {
    std::atomic<std::uint64_t> accepted{0}, refused{0}, open{0}, served{0}, expired{0}, failed{0}, protocol_errors{0},
        timeouts{0}, fed_messages{0}, budget_peak{0};
  } c_;

  void accept();
  bool reserve(std::size_t n) noexcept;
  void release(std::size_t n) noexcept { budget_used_.fetch_sub(n); }
  Backend* acquire();
  void give_back(Backend* b);
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

template <class Backend>
class edge_server<Backend>::connection : public std::enable_shared_from_this<connection> {
 public:
  connection(edge_server& s, asio::ip::tcp::socket sock)
      : s_(s), sock_(std::move(sock)), strand_(asio::make_strand(s.io_)), timer_(s.io_) {}

  void begin() {
    asio::error_code ec;
    sock_.set_option(asio::ip::tcp::no_delay(true), ec);
    sock_.non_blocking(true, ec);  // replies are first written in place (send): a full buffer says would_block
    asio::dispatch(strand_, [self = this->shared_from_this()] {
      self->idle_since_ = clock::now();
      self->watch();
      self->read_more();
    });
  }
  void close_async() {
    asio::post(strand_, [self = this->shared_from_this()] { self->close(); });
  }

 private:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t read_chunk = std::size_t{16} << 10;  // one read takes a small frame whole
  edge_server& s_;
  asio::ip::tcp::socket sock_;
  asio::strand<asio::io_context::executor_type> strand_;
  // One timer for the read, idle and write deadlines, moved lazily: a deadline later than the
  // timer's expiry is only recorded (the timer fires, finds it not due and re-arms), so a frame
  // that arrives and is answered at once costs no timer call at all.
  asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();
  clock::time_point idle_since_{}, header_at_{}, write_since_{};
  std::vector<std::byte> in_;  // bytes read and not yet consumed: [0, have_)
  std::size_t have_ = 0;
  std::size_t frame_bytes_ = 0;  // the buffered frame's whole size once its header is read, else 0
  std::size_t reserved_ = 0;
  std::deque<std::vector<std::byte>> out_;
  std::size_t written_ = 0;  // bytes of out_.front() already sent
  bool writing_ = false, closed_ = false, close_after_write_ = false, hello_done_ = false;
  wire_request req_;
  tensor_list cut_, outputs_;

  template <class F>
  auto on_strand(F&& f) {
    return asio::bind_executor(strand_, std::forward<F>(f));
  }

  // The earliest deadline now in force: the frame body's (read_timeout after its header), else
  // the idle one; and the pending write's.
  [[nodiscard]] clock::time_point read_deadline() const {
    return frame_bytes_ != 0 ? header_at_ + s_.opt_.read_timeout : idle_since_ + s_.opt_.idle_timeout;
  }
  [[nodiscard]] clock::time_point write_deadline() const {
    return writing_ ? write_since_ + s_.opt_.write_timeout : clock::time_point::max();
  }

  void watch() {
    armed_for_ = std::min(read_deadline(), write_deadline());
    timer_.expires_at(armed_for_);  // cancels a pending wait (its handler sees operation_aborted)
    timer_.async_wait(on_strand([self = this->shared_from_this()](const asio::error_code& ec) {
      if (ec || self->closed_) return;
      self->on_timer();
    }));
  }
  // A deadline just set: the timer only moves when it would otherwise fire too late.
  void deadline_moved() {
    if (std::min(read_deadline(), write_deadline()) < armed_for_) watch();
  }
  void on_timer() {
    const auto now = clock::now();
    const bool read_late = now >= read_deadline(), write_late = now >= write_deadline();
    if (!read_late && !write_late) return watch();
    if (write_late || frame_bytes_ != 0) s_.c_.timeouts.fetch_add(1);  // idling is not a timeout
    close();
  }

  void read_more() {
    if (closed_) return;
    const std::size_t want = std::max(frame_bytes_, have_ + read_chunk);
    if (in_.size() < want) in_.resize(want);
    sock_.async_read_some(asio::buffer(in_.data() + have_, in_.size() - have_),
                          on_strand([self = this->shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          }));
  }

  void on_read(const asio::error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec) return close();  // the peer left (or vanished mid-frame)
    have_ += n;
    std::size_t used = 0;  // frames are taken from the front of in_
    while (have_ - used >= frame_header_size) {
      const std::span<const std::byte> rest(in_.data() + used, have_ - used);
      if (frame_bytes_ == 0 && !take_header(rest)) return;
      if (rest.size() < frame_bytes_) break;
      const bool keep_reading = take_frame(rest.first(frame_bytes_));
      used += frame_bytes_;
      frame_bytes_ = 0;
      s_.release(reserved_);
      reserved_ = 0;
      idle_since_ = clock::now();
      if (!keep_reading || closed_) return;
    }
    if (used != 0)
      std::copy(in_.begin() + static_cast<std::ptrdiff_t>(used), in_.begin() + static_cast<std::ptrdiff_t>(have_),
                in_.begin());
    have_ -= used;
    constexpr std::size_t keep = std::size_t{1} << 20;  // a large frame's buffer is not kept idle
    if (frame_bytes_ == 0 && in_.size() > keep) {
      in_.resize(std::max(have_, read_chunk));
      in_.shrink_to_fit();
    }
    deadline_moved();
    read_more();
  }

  // Checks the header at the front of @p rest against the limits and the memory budget before
  // the body is read. False: the connection is being refused.
  bool take_header(std::span<const std::byte> rest) {
    frame_header h;
    try {
      h = read_frame_header(rest.first(frame_header_size), s_.opt_.limits);
    } catch (const parse_error& e) {
      refuse(wire_status::failed, e.what());
      return false;
    }
    if (!s_.reserve(h.rest())) {
      refuse(wire_status::busy, "the server's memory budget is exhausted");
      return false;
    }
    reserved_ = h.rest();
    frame_bytes_ = frame_header_size + h.rest();
    header_at_ = clock::now();
    return true;
  }

  // One whole frame: checked, then handled. False when the connection is to be closed.
  bool take_frame(std::span<const std::byte> frame) {
    try {
      return dispatch(open_frame(frame, s_.opt_.limits), frame);
    } catch (const parse_error& e) {
      refuse(wire_status::failed, e.what());
      return false;
    }
  }

  // Handles one checked frame; false when the connection is to be closed.
  bool dispatch(const opened_frame& f, std::span<const std::byte> frame) {
    const auto kind = f.kind;
    if (!hello_done_) {
      if (kind != static_cast<std::uint16_t>(wire_kind::hello)) {
        refuse(wire_status::wrong_protocol,
               "the first frame must be a hello (kind 310), got kind " + std::to_string(kind));
        return false;
      }
      const wire_hello h = decode_hello(f.payload);
      wire_welcome w;
      w.model = s_.model_;
      w.max_frame_bytes = s_.opt_.limits.max_frame_bytes;
      if (h.protocol != wire_protocol_version) {
        w.status = wire_status::wrong_protocol;
        w.text = incision::detail::message("net", "protocol version " + std::to_string(h.protocol) +
                                                      " is not supported (this edge speaks " +
                                                      std::to_string(wire_protocol_version) + ")");
      } else if (h.model != s_.model_) {
        w.status = wire_status::wrong_model;
        w.text = incision::detail::message("net", "the device runs another model than this edge");
      }
      std::vector<std::byte> bytes;
      encode(w, bytes);
      if (w.status != wire_status::ok) {
        s_.c_.protocol_errors.fetch_add(1);
        close_after_write_ = true;
      }
      send(std::move(bytes));
      hello_done_ = w.status == wire_status::ok;
      return hello_done_;
    }
    if (kind == static_cast<std::uint16_t>(wire_kind::request)) {
      serve(f.payload);
      return true;
    }
    if (kind >= 200 && kind < 300 && s_.opt_.host_aggregator) {
      federated_message(frame);
      return true;
    }
    refuse(wire_status::failed, "unexpected frame kind " + std::to_string(kind));
    return false;
  }

  void serve(std::span<const std::byte> payload) {
    decode_request(payload, req_, s_.opt_.limits);  // throws parse_error: the stream is refused
    const auto t0 = clock::now();
    const auto waited = std::chrono::duration_cast<std::chrono::microseconds>(t0 - header_at_).count();
    std::vector<std::byte> bytes;
    if (req_.budget_us != 0 && static_cast<std::uint64_t>(waited) >= req_.budget_us) {
      s_.c_.expired.fetch_add(1);
      encode_reply(req_.frame_id, req_.plan_id, wire_status::expired, 0, {}, outputs_, bytes);
      return send(std::move(bytes));
    }
    wire_status status = wire_status::ok;
    std::string text;
    try {
      decode(req_.tensors, cut_);
      Backend* b = s_.acquire();
      try {
        b->run_server(device_set(req_.device_layers), cut_, outputs_);
      } catch (...) {
        s_.give_back(b);
        throw;
      }
      s_.give_back(b);
    } catch (const std::exception& e) {  // a bad cut or device set: this frame fails, the stream goes on
      status = wire_status::failed;
      text = e.what();
      if (text.size() > s_.opt_.limits.max_text) text.resize(s_.opt_.limits.max_text);
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - t0).count();
    (status == wire_status::ok ? s_.c_.served : s_.c_.failed).fetch_add(1);
    encode_reply(req_.frame_id, req_.plan_id, status, static_cast<std::uint64_t>(ns), text, outputs_, bytes);
    send(std::move(bytes));
  }

  void federated_message(std::span<const std::byte> frame) {
    s_.c_.fed_messages.fetch_add(1);
    std::vector<std::byte> reply, download;
    {
      const std::lock_guard lock(s_.fed_mutex_);
      reply = s_.aggregator_.handle(frame);  // throws parse_error: the stream is refused
      // after an ack the device also gets its fresh group statistics (the exchange pattern)
      if (federated::fed_message_kind(reply) == federated::fed_kind::ack) {
        const auto sealed = federated::detail::fed_unseal(reply);
        incision::detail::byte_reader r(sealed.payload, "ack");
        (void)r.u16();
        download = s_.aggregator_.download_for(r.u64());
      }
    }
    send(std::move(reply));
    if (!download.empty()) send(std::move(download));
  }

  // Sends an error frame, then closes.
  void refuse(wire_status code, const std::string& why) {
    s_.c_.protocol_errors.fetch_add(1);
    wire_error e{code, why.substr(0, s_.opt_.limits.max_text)};
    std::vector<std::byte> bytes;
    encode(e, bytes);
    close_after_write_ = true;
    send(std::move(bytes));
  }

  void send(std::vector<std::byte> bytes) {
    if (closed_) return;
    if (out_.size() >= s_.opt_.max_queued_replies) return close();  // the peer does not read
    out_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  // Writes out_ in order, in place while the socket takes it; when it would block, waits for the
  // socket (one wait at a time, under the write deadline: a reply not taken within write_timeout
  // closes the connection).
  void write_next() {
    while (!closed_ && !out_.empty()) {
      const std::vector<std::byte>& front = out_.front();
      asio::error_code ec;
      written_ += sock_.write_some(asio::buffer(front.data() + written_, front.size() - written_), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again || (!ec && written_ < front.size())) {
        if (!writing_) {
          writing_ = true;
          write_since_ = clock::now();
          deadline_moved();
        }
        sock_.async_wait(asio::ip::tcp::socket::wait_write,
                         on_strand([self = this->shared_from_this()](const asio::error_code& e2) {
                           if (self->closed_) return;
                           if (e2) return self->close();
                           self->write_next();
                         }));
        return;
      }
      if (ec) return close();
      out_.pop_front();
      written_ = 0;
      write_since_ = clock::now();  // the next reply's clock starts when this one is taken
    }
    writing_ = false;
    if (!closed_ && close_after_write_) close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ec;
    timer_.cancel();
    sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    if (reserved_ != 0) s_.release(reserved_);
    reserved_ = 0;
    out_.clear();
    s_.c_.open.fetch_sub(1);
    const std::lock_guard lock(s_.conn_mutex_);
    s_.conns_.erase(this);
  }
};

template <class Backend>
edge_server<Backend>::edge_server(std::function<Backend()> make_backend, std::uint64_t model,
                                  edge_server_options options)
    : model_(model), opt_(std::move(options)), aggregator_(opt_.aggregator) {
  INCISION_EXEC_CHECK_BACKEND("edge_server", Backend);
  const auto bad = [](const std::string& why) {
    INCISION_THROW(invalid_argument(incision::detail::message("net", "edge_server: " + why)));
  };
  if (opt_.threads == 0 || opt_.max_connections == 0 || opt_.max_queued_replies == 0)
    bad("threads, max_connections and max_queued_replies must be >= 1");
  if (opt_.memory_budget < opt_.limits.max_frame_bytes + frame_trailer_size)
    bad("memory_budget must hold at least one frame of max_frame_bytes");
  for (std::size_t i = 0; i < opt_.threads; ++i) {
    backends_.push_back(std::make_unique<Backend>(make_backend()));
    free_.push_back(backends_.back().get());
  }
}

template <class Backend>
void edge_server<Backend>::start() {
  if (running_) return;
  asio::error_code ec;
  const auto addr = asio::ip::make_address(opt_.address, ec);
  if (ec)
    INCISION_THROW(
        invalid_argument(incision::detail::message("net", "edge_server: bad address '" + opt_.address + "'")));
  const asio::ip::tcp::endpoint ep(addr, opt_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close(ec);
    INCISION_THROW(io_error(incision::detail::message("net", "edge_server: cannot listen on " + opt_.address + ":" +
                                                                 std::to_string(opt_.port) + ": " + ec.message())));
  }
  port_ = acceptor_.local_endpoint().port();
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor());
  stopping_.store(false);
  accept();
  running_ = true;
  for (std::size_t i = 0; i < opt_.threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

template <class Backend>
void edge_server<Backend>::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](const asio::error_code& ec, asio::ip::tcp::socket sock) {
    if (ec == asio::error::operation_aborted || stopping_.load()) return;  // sock closes itself
    if (!ec) {
      if (c_.open.load() >= opt_.max_connections) {
        c_.refused.fetch_add(1);
        asio::error_code ignored;
        sock.close(ignored);
      } else {
        c_.accepted.fetch_add(1);
        c_.open.fetch_add(1);
        auto conn = std::make_shared<connection>(*this, std::move(sock));
        {
          const std::lock_guard lock(conn_mutex_);
          conns_.emplace(conn.get(), conn);
        }
        conn->begin();
      }
    }
    accept();
  });
}

template <class Backend>
void edge_server<Backend>::stop() {
  if (!running_) return;
  running_ = false;
  stopping_.store(true);
  asio::post(accept_strand_, [this] {
    asio::error_code ec;
    acceptor_.close(ec);
  });
  {
    const std::lock_guard lock(conn_mutex_);
    for (auto& [ptr, weak] : conns_)
      if (auto c = weak.lock()) c->close_async();
  }
  work_.reset();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  io_.restart();
}

template <class Backend>
edge_stats edge_server<Backend>::stats() const noexcept {
  edge_stats s;
  s.accepted = c_.accepted.load();
  s.refused = c_.refused.load();
  s.open = c_.open.load();
  s.served = c_.served.load();
  s.expired = c_.expired.load();
  s.failed = c_.failed.load();
  s.protocol_errors = c_.protocol_errors.load();
  s.timeouts = c_.timeouts.load();
  s.fed_messages = c_.fed_messages.load();
  s.budget_peak = c_.budget_peak.load();
  return s;
}

template <class Backend>
bool edge_server<Backend>::reserve(std::size_t n) noexcept {
  std::size_t used = budget_used_.load();
  do {
    if (n > opt_.memory_budget - used) return false;
  } while (!budget_used_.compare_exchange_weak(used, used + n));
  std::uint64_t peak = c_.budget_peak.load();
  while (used + n > peak && !c_.budget_peak.compare_exchange_weak(peak, used + n)) {
  }
  return true;
}

template <class Backend>
Backend* edge_server<Backend>::acquire() {
  std::unique_lock lock(pool_mutex_);
  pool_cv_.wait(lock, [this] { return !free_.empty(); });
  Backend* b = free_.back();
  free_.pop_back();
  return b;
}

template <class Backend>
void edge_server<Backend>::give_back(Backend* b) {
  {
    const std::lock_guard lock(pool_mutex_);
    free_.push_back(b);
  }
  pool_cv_.notify_one();
}

}  // namespace exec
INCISION_END_NAMESPACE
