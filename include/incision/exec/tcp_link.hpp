/// @file
/// @brief The device side of the network: tcp_link (one connection to an edge_server, driven on
/// the caller's thread; an offload link of the online loop, offload_link.hpp) and remote_server
/// (a backend whose server part runs on the edge over the link, and on the device when the
/// reply misses the deadline or the edge is gone). Part of incision::net (Asio + threads).
///
/// Per frame: the request carries a frame id and the time left; the caller waits at most the
/// deadline. A reply that comes later is recognised by its id and dropped when it arrives (the
/// read is never cancelled mid-frame). A broken connection falls back at once and is retried
/// with exponential backoff (backoff_min doubling to backoff_max); offloading resumes as soon
/// as a handshake succeeds. A connect never holds a frame beyond its deadline: it runs in the
/// background (driven whenever the link is called), the frame that starts it waits for it at
/// most until its own deadline, and later frames only poll it; connect_timeout bounds the
/// attempt as a whole. While a request is still being written (a stalled edge), frames fall
/// back without queueing a second write.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/offload_link.hpp>
#include <incision/exec/tensor_codec.hpp>
#include <incision/exec/wire.hpp>

#include <asio.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Options of @ref tcp_link.
struct tcp_link_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::chrono::microseconds deadline{std::chrono::seconds(1)};  ///< per frame, from the send
  std::chrono::milliseconds connect_timeout{1000};              ///< one connect attempt: resolve, connect, handshake
  std::chrono::milliseconds backoff_min{10}, backoff_max{1000};
  wire_limits limits{};
  std::size_t max_fed_inbox = 16;  ///< federated replies kept until fed_receive (older dropped)
};

/// @brief Counters of a link.
struct tcp_link_stats {
  std::uint64_t offloaded = 0;     ///< frames whose reply came in time
  std::uint64_t late = 0;          ///< frames whose deadline passed first
  std::uint64_t down = 0;          ///< frames not sent: no connection (falls back at once)
  std::uint64_t refused = 0;       ///< replies with a status other than ok (expired, failed)
  std::uint64_t late_dropped = 0;  ///< replies dropped on arrival (id of an abandoned frame)
  std::uint64_t connects = 0;      ///< successful handshakes
  std::uint64_t disconnects = 0;
  double last_server_seconds = 0.0;  ///< compute time the edge reported for the last reply
};

/// @brief One connection to an edge. Not thread-safe: one thread drives it (its own io_context
/// runs only inside its calls).
class tcp_link {
 public:
  /// @param model the network's fingerprint (model_fingerprint); the edge refuses another
  tcp_link(std::uint64_t model, tcp_link_options options) : model_(model), opt_(std::move(options)) {}
  ~tcp_link() { close("link destroyed"); }
  tcp_link(const tcp_link&) = delete;
  tcp_link& operator=(const tcp_link&) = delete;

  /// @brief The offload link: ships `*r.cut` for the server part of `r.device_layers` and waits
  /// for the outputs until the deadline, the earlier of options().deadline and `r.budget` seconds
  /// from the call. Not connected: starts a connect if the backoff allows and waits for it within
  /// that deadline; a connect already in flight is only polled (the frame falls back at once).
  /// Delivered: @p outputs holds the edge's outputs, `server_time` is the edge's reported compute
  /// time, `transfer_time` the rest of the round trip. Otherwise the caller completes the frame
  /// itself (late, refused, not connected; `elapsed` says when the link gave up) and @p outputs
  /// is unspecified. `modeled_server_time` and `server_slowdown` are ignored (a real edge).
  offload_result offload(const offload_request& r, tensor_list& outputs);
  /// @brief The same for a plain call: waits up to options().deadline. True: delivered.
  bool offload(device_set d, const tensor_list& cut, tensor_list& outputs);
  /// @brief Connects now if down and the backoff allows, waiting up to connect_timeout (blocks:
  /// for set-up, not inside a frame). True when connected.
  bool ensure_connected();
  [[nodiscard]] bool connected() const noexcept { return state_ == state::up; }
  [[nodiscard]] const tcp_link_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const tcp_link_options& options() const noexcept { return opt_; }
  /// @brief Why the link last went down (empty if it never did).
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }

  /// @brief Sends a FedLinUCB-DW message (kinds 200-299) to the edge's aggregator.
  /// @throws io_error if not connected.
  void fed_send(std::span<const std::byte> message);
  /// @brief The next federated message from the edge, waiting up to @p timeout.
  [[nodiscard]] std::optional<std::vector<std::byte>> fed_receive(std::chrono::milliseconds timeout);

 private:
  using clock = std::chrono::steady_clock;
  enum class state { down, connecting, handshake, up };

  std::uint64_t model_;
  tcp_link_options opt_;
  asio::io_context io_;
  std::optional<asio::ip::tcp::resolver> resolver_;
  std::optional<asio::ip::tcp::socket> sock_;
  state state_ = state::down;
  clock::time_point next_attempt_{}, connect_until_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
  tcp_link_stats stats_;
  static constexpr std::size_t read_chunk = std::size_t{16} << 10;  // one read takes a small reply whole
  static constexpr std::size_t keep_buffer = std::size_t{1} << 20;  // larger: freed after the frame
  std::vector<std::byte> out_, in_;                                 // in_: bytes read and not yet handled, [0, have_)
  std::size_t have_ = 0, frame_bytes_ = 0;  // frame_bytes_: the buffered frame's size once its header is read
  bool writing_ = false;
  std::uint64_t next_id_ = 0, waiting_id_ = 0;
  bool got_reply_ = false, reply_ok_ = false;
  tensor_list* reply_into_ = nullptr;
  std::deque<std::vector<std::byte>> fed_inbox_;
  std::uint64_t generation_ = 0;  // bumped on close: handlers of an old socket do nothing

  // Runs handlers until pred() or the time t. Returns pred().
  template <class Pred>
  bool drive_until(Pred pred, clock::time_point t) {
    while (!pred()) {
      if (io_.stopped()) io_.restart();
      if (io_.run_one_until(t) == 0 && (clock::now() >= t || io_.stopped())) return pred();
    }
    return true;
  }

  void close(const std::string& why) {
    if (!sock_) return;
    asio::error_code ec;
    if (resolver_) resolver_->cancel();
    sock_->close(ec);
    sock_.reset();
    ++generation_;
    if (state_ == state::up) ++stats_.disconnects;
    state_ = state::down;
    writing_ = false;
    have_ = 0;
    frame_bytes_ = 0;
    last_error_ = why;
    io_.restart();
    io_.poll();  // completes the aborted handlers (they see the old generation)
    resolver_.reset();
    backoff_ = std::clamp(backoff_ * 2, opt_.backoff_min, opt_.backoff_max);
    next_attempt_ = clock::now() + backoff_;
  }

  [[nodiscard]] bool connecting() const noexcept { return state_ == state::connecting || state_ == state::handshake; }

  // Runs what is ready, and ends a connect attempt that has outlived connect_timeout.
  void poll() {
    if (io_.stopped()) io_.restart();
    io_.poll();
    if (connecting() && clock::now() >= connect_until_)
      close(state_ == state::connecting ? "connect timed out" : "handshake timed out");
  }

  // Starts a connect attempt in the background (resolve if the host is a name, connect, hello).
  void start_connect();
  void on_connected(const asio::error_code& ec);

  // Sends @p bytes in place as far as the socket takes them, the rest in the background.
  void write(std::vector<std::byte>& bytes) {
    asio::error_code ec;
    const std::size_t n = sock_->write_some(asio::buffer(bytes), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
      return close("write failed: " + ec.message());
    if (n == bytes.size()) return;
    writing_ = true;
    asio::async_write(*sock_, asio::buffer(bytes.data() + n, bytes.size() - n),
                      [this, g = generation_](const asio::error_code& e2, std::size_t) {
                        if (g != generation_) return;
                        writing_ = false;
                        if (e2) close("write failed: " + e2.message());
                      });
  }

  // Reads whatever the edge sent into in_ and handles each whole frame; a frame's header is
  // checked against the limits before its body is waited for.
  void read_more() {
    const std::size_t want = std::max(frame_bytes_, have_ + read_chunk);
    if (in_.size() < want) in_.resize(want);
    sock_->async_read_some(asio::buffer(in_.data() + have_, in_.size() - have_),
                           [this, g = generation_](const asio::error_code& ec, std::size_t n) {
                             if (g != generation_) return;
                             if (ec) return close("the edge closed the connection: " + ec.message());
                             have_ += n;
                             std::size_t used = 0;
                             try {
                               while (have_ - used >= frame_header_size) {
                                 const std::span<const std::byte> rest(in_.data() + used, have_ - used);
                                 if (frame_bytes_ == 0)
                                   frame_bytes_ = frame_header_size + read_frame_header(rest, opt_.limits).rest();
                                 if (rest.size() < frame_bytes_) break;
                                 const auto frame = rest.first(frame_bytes_);
                                 used += frame_bytes_;
                                 frame_bytes_ = 0;
                                 on_frame(open_frame(frame, opt_.limits), frame);
                                 if (g != generation_) return;
                               }
                             } catch (const std::exception& e) {
                               return close(e.what());
                             }
                             if (used != 0)  // std::copy onto its own start is not allowed
                               std::copy(in_.begin() + static_cast<std::ptrdiff_t>(used),
                                         in_.begin() + static_cast<std::ptrdiff_t>(have_), in_.begin());
                             have_ -= used;
                             if (frame_bytes_ == 0 && in_.size() > keep_buffer) {
                               in_.resize(std::max(have_, read_chunk));  // a large reply's buffer is not kept
                               in_.shrink_to_fit();
                             }
                             read_more();
                           });
  }

  void on_frame(const opened_frame& f, std::span<const std::byte> frame) {
    if (f.kind == static_cast<std::uint16_t>(wire_kind::welcome)) {
      const wire_welcome w = decode_welcome(f.payload, opt_.limits);
      if (w.status != wire_status::ok) return close("the edge refused the handshake: " + w.text);
      state_ = state::up;
      ++stats_.connects;
      backoff_ = std::chrono::milliseconds(0);
      return;
    }
    if (f.kind == static_cast<std::uint16_t>(wire_kind::reply)) {
      const wire_reply r = decode_reply(f.payload, opt_.limits);
      if (r.frame_id != waiting_id_ || got_reply_ || reply_into_ == nullptr) {
        ++stats_.late_dropped;
        return;
      }
      got_reply_ = true;
      stats_.last_server_seconds = static_cast<double>(r.server_ns) * 1e-9;
      reply_ok_ = r.status == wire_status::ok;
      if (reply_ok_)
        decode(r.tensors, *reply_into_);
      else
        ++stats_.refused;
      return;
    }
    if (f.kind == static_cast<std::uint16_t>(wire_kind::error)) {
      const wire_error e = decode_error(f.payload, opt_.limits);
      return close("the edge reported: " + e.text);
    }
    if (f.kind >= 200 && f.kind < 300) {
      if (fed_inbox_.size() >= opt_.max_fed_inbox) fed_inbox_.pop_front();
      fed_inbox_.emplace_back(frame.begin(), frame.end());
      return;
    }
    close("unexpected frame kind " + std::to_string(f.kind));
  }
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void tcp_link::start_connect() {
  sock_.emplace(io_);
  state_ = state::connecting;
  connect_until_ = clock::now() + opt_.connect_timeout;
  const std::uint64_t g = generation_;
  asio::error_code ec;
  const auto address = asio::ip::make_address(opt_.host, ec);
  if (!ec) {  // a numeric address: no resolver
    sock_->async_connect({address, opt_.port}, [this, g](const asio::error_code& e) {
      if (g == generation_) on_connected(e);
    });
    return;
  }
  resolver_.emplace(io_);  // a name: resolved in the background too (a slow DNS never holds a frame)
  resolver_->async_resolve(opt_.host, std::to_string(opt_.port),
                           [this, g](const asio::error_code& e, const asio::ip::tcp::resolver::results_type& eps) {
                             if (g != generation_) return;
                             if (e) return close("cannot resolve " + opt_.host + ": " + e.message());
                             asio::async_connect(*sock_, eps, [this, g](const asio::error_code& e2, const auto&) {
                               if (g == generation_) on_connected(e2);
                             });
                           });
}

inline void tcp_link::on_connected(const asio::error_code& ec) {
  if (ec) return close("connect failed: " + ec.message());
  asio::error_code ignored;
  sock_->set_option(asio::ip::tcp::no_delay(true), ignored);
  sock_->non_blocking(true, ignored);  // write() sends in place; a full buffer says would_block
  state_ = state::handshake;
  encode(wire_hello{wire_protocol_version, model_}, out_);
  const std::uint64_t g = generation_;
  write(out_);
  if (g == generation_) read_more();
}

inline bool tcp_link::ensure_connected() {
  poll();
  if (state_ == state::up) return true;
  if (state_ == state::down) {
    if (clock::now() < next_attempt_) return false;
    start_connect();
  }
  const std::uint64_t g = generation_;
  drive_until([&] { return state_ == state::up || g != generation_; }, connect_until_);
  poll();  // closes an attempt that ran out of time
  return state_ == state::up;
}

inline offload_result tcp_link::offload(const offload_request& q, tensor_list& outputs) {
  offload_result res;
  res.transfer_time = std::numeric_limits<double>::infinity();
  const auto start = clock::now();
  auto budget = std::chrono::duration_cast<clock::duration>(opt_.deadline);
  if (q.budget < std::chrono::duration<double>(budget).count())  // NaN: the link's own deadline
    budget = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(std::max(q.budget, 0.0)));
  const auto until = start + budget;
  const auto give_up = [&](std::uint64_t& counter) {
    ++counter;
    res.elapsed = std::chrono::duration<double>(clock::now() - start).count();
    return res;
  };
  // Down or connecting: a finished connect may be waiting. Up, nothing need be: a late reply or a
  // closed connection shows up while this frame waits (dropped by id; falls back at once).
  if (state_ != state::up) poll();
  if (state_ == state::down && clock::now() >= next_attempt_) {
    start_connect();
    const std::uint64_t g = generation_;
    // this frame started the attempt: it may wait for it, but never past its own deadline
    drive_until([&] { return state_ == state::up || g != generation_; }, std::min(until, connect_until_));
    poll();
  }
  if (state_ != state::up || writing_) return give_up(stats_.down);
  if (clock::now() >= until) return give_up(stats_.late);
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - clock::now()).count();
  waiting_id_ = ++next_id_;
  got_reply_ = false;
  reply_ok_ = false;
  reply_into_ = &outputs;
  encode_request(waiting_id_, plan_fingerprint(q.device_layers),
                 static_cast<std::uint64_t>(std::max<long long>(left, 1)), q.device_layers, *q.cut, out_);
  res.shipped_bytes = static_cast<double>(out_.size());
  write(out_);
  const std::uint64_t g = generation_;
  const bool done = drive_until([&] { return got_reply_ || g != generation_; }, until);
  reply_into_ = nullptr;
  res.elapsed = std::chrono::duration<double>(clock::now() - start).count();
  if (done && got_reply_ && reply_ok_) {
    ++stats_.offloaded;
    res.delivered = true;
    res.server_time = stats_.last_server_seconds;
    res.transfer_time = std::max(0.0, res.elapsed - res.server_time);
    return res;
  }
  if (g != generation_)
    ++stats_.down;
  else if (!got_reply_)
    ++stats_.late;
  return res;
}

inline bool tcp_link::offload(device_set d, const tensor_list& cut, tensor_list& outputs) {
  offload_request q;
  q.device_layers = d;
  q.cut = &cut;
  return offload(q, outputs).delivered;
}

inline void tcp_link::fed_send(std::span<const std::byte> message) {
  if (!ensure_connected())
    INCISION_THROW(
        io_error(incision::detail::message("net", "tcp_link: not connected to the edge (" + last_error_ + ")")));
  if (writing_) {
    const std::uint64_t g = generation_;
    drive_until([&] { return !writing_ || g != generation_; }, clock::now() + opt_.connect_timeout);
    if (writing_ || state_ != state::up)
      INCISION_THROW(io_error(incision::detail::message("net", "tcp_link: the edge is not taking data")));
  }
  out_.assign(message.begin(), message.end());
  write(out_);
}

inline std::optional<std::vector<std::byte>> tcp_link::fed_receive(std::chrono::milliseconds timeout) {
  const std::uint64_t g = generation_;
  drive_until([&] { return !fed_inbox_.empty() || g != generation_; }, clock::now() + timeout);
  if (fed_inbox_.empty()) return std::nullopt;
  std::vector<std::byte> m = std::move(fed_inbox_.front());
  fed_inbox_.pop_front();
  return m;
}

/// @brief A backend whose server part runs on the edge, falling back to @p local's server part
/// when the link cannot deliver in time, so every frame completes with the unsplit outputs.
/// For code that drives a backend frame by frame; the online loop takes the tcp_link itself as
/// its offload link (one encode per frame, no second local compute when a reply is late).
template <class Local>
class remote_server {
 public:
  remote_server(Local& local, tcp_link& link) : local_(local), link_(link) {
    INCISION_EXEC_CHECK_BACKEND("remote_server", Local);
  }
  [[nodiscard]] const partition::layer_graph& graph() const noexcept { return local_.graph(); }
  void run_device(device_set d, const tensor& input, tensor_list& cut) { local_.run_device(d, input, cut); }
  void run_server(device_set d, const tensor_list& cut, tensor_list& outputs) {
    if (link_.offload(d, cut, outputs)) return;
    ++fallbacks_;
    local_.run_server(d, cut, outputs);
  }
  [[nodiscard]] std::uint64_t fallbacks() const noexcept { return fallbacks_; }
  [[nodiscard]] tcp_link& link() noexcept { return link_; }

 private:
  Local& local_;
  tcp_link& link_;
  std::uint64_t fallbacks_ = 0;
};

}  // namespace exec
INCISION_END_NAMESPACE
