/// @file
/// @brief A simulated uplink driven by a bandwidth trace (rate, latency, jitter): computes when
/// a byte string sent at time t is delivered. Time is virtual (seconds, given by the caller),
/// so experiments and tests are deterministic and never sleep.
///
/// Trace CSV: a header line naming the columns `time,bandwidth` and optionally `latency` and
/// `jitter` (in this order), then one row per change: from `time` (seconds, increasing, the
/// first >= 0) the link sends at `bandwidth` bytes/second (0: down) with a one-way `latency`
/// plus a uniform random delay in [0, jitter) per message (seconds). Before the first row the
/// first row holds. Blank lines and lines starting with '#' are skipped.
///
/// Delivery of n bytes sent at t: transmission starts at max(t, the end of the previous
/// transmission) (one message on the wire at a time), takes the bytes through the piecewise
/// rate (a rate change mid-message applies to the rest), and arrives latency + jitter later
/// (both as in force when transmission started). A link down for good delivers at +infinity.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/atomic_file.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/detail/random.hpp>
#include <incision/exec/offload_link.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/exec/tensor_codec.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief One row of a trace: the link's state from `time` on.
struct trace_point {
  double time = 0.0;       ///< seconds
  double bandwidth = 0.0;  ///< bytes/second, 0 = down
  double latency = 0.0;    ///< one-way seconds
  double jitter = 0.0;     ///< extra delay uniform in [0, jitter) seconds
};

/// @brief A validated, piecewise-constant bandwidth trace.
class bandwidth_trace {
 public:
  /// @throws invalid_argument if empty, times not strictly increasing or negative, or a value
  /// negative or not finite (message names the row).
  explicit bandwidth_trace(std::vector<trace_point> points);
  /// @brief A constant link.
  [[nodiscard]] static bandwidth_trace constant(double bandwidth, double latency = 0.0, double jitter = 0.0) {
    return bandwidth_trace({trace_point{0.0, bandwidth, latency, jitter}});
  }
  /// @brief Parses the CSV described in the file comment. @throws parse_error "<source>:<line>: why".
  [[nodiscard]] static bandwidth_trace parse_csv(std::string_view text, std::string_view source = "<string>");
  /// @brief Loads a CSV file. @throws io_error if unreadable; parse_error as parse_csv.
  [[nodiscard]] static bandwidth_trace load_csv(const std::filesystem::path& path);

  [[nodiscard]] const std::vector<trace_point>& points() const noexcept { return points_; }
  /// @brief The row in force at @p t.
  [[nodiscard]] const trace_point& at(double t) const noexcept;
  /// @brief When @p bytes sent from @p start have left (+infinity if the link never carries them).
  [[nodiscard]] double transmit_end(double start, double bytes) const noexcept;

 private:
  std::vector<trace_point> points_;
  [[nodiscard]] std::size_t index(double t) const noexcept;
};

/// @brief The link: a trace, a FIFO wire and a seeded jitter source.
class sim_link {
 public:
  explicit sim_link(bandwidth_trace trace, std::uint64_t seed = 0)
      : trace_(std::move(trace)), seed_(seed), jitter_(seed) {}
  /// @brief Sends @p bytes at time @p t; returns the delivery time (see the file comment).
  double send(double t, std::span<const std::byte> bytes) noexcept { return send(t, bytes.size()); }
  /// @brief The same for a message of @p n bytes.
  double send(double t, std::size_t n) noexcept;
  /// @brief When the wire is free again.
  [[nodiscard]] double busy_until() const noexcept { return busy_; }
  [[nodiscard]] const bandwidth_trace& trace() const noexcept { return trace_; }
  /// @brief Back to an idle wire and the initial jitter sequence.
  void reset() noexcept {
    busy_ = 0.0;
    jitter_ = detail::uniform_source(seed_);
  }

 private:
  bandwidth_trace trace_;
  std::uint64_t seed_;
  detail::uniform_source jitter_;
  double busy_ = 0.0;
};

/// @brief A simulated link in front of a local server backend, as an offload link: the cut is
/// encoded (tensor_codec), sent over the sim_link at the request's time, decoded and run by
/// @p Server. Delivered when the server was available, the cut arrived before the deadline and
/// the server part ended by it; a frame known to be late (modeled timing) is not computed. Not
/// delivered: the loop's clock runs to the deadline (a simulated device waits it out). Holds
/// references to the link and the server; keeps its buffers (no allocation in a steady state).
template <class Server>
class sim_offload {
 public:
  sim_offload(sim_link& link, Server& server) : link_(&link), server_(&server) {
    INCISION_EXEC_CHECK_BACKEND("sim_offload", Server);
  }
  offload_result offload(const offload_request& r, tensor_list& outputs);
  /// @brief Takes the server away (the cut still travels, nothing comes back) or brings it back.
  void set_server_available(bool up) noexcept { up_ = up; }
  [[nodiscard]] sim_link& link() noexcept { return *link_; }
  [[nodiscard]] Server& server() noexcept { return *server_; }

 private:
  sim_link* link_;
  Server* server_;
  bool up_ = true;
  std::vector<std::byte> wire_;
  tensor_list received_;
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

template <class Server>
offload_result sim_offload<Server>::offload(const offload_request& r, tensor_list& outputs) {
  offload_result o;
  encode(*r.cut, wire_);
  o.shipped_bytes = static_cast<double>(wire_.size());
  const double arrival = link_->send(r.sent_at, wire_);
  o.transfer_time = arrival - r.sent_at;
  const double deadline_at = r.sent_at + r.budget;
  bool in_time = up_ && arrival < deadline_at;
  if (in_time) {
    const bool modeled = !std::isnan(r.modeled_server_time);
    if (modeled && arrival + r.modeled_server_time > deadline_at) {
      in_time = false;  // known to be late: skip the work whose result would be dropped
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      decode(wire_, received_);
      server_->run_server(r.device_layers, received_, outputs);
      o.server_time =
          modeled ? r.modeled_server_time
                  : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * r.server_slowdown;
      in_time = arrival + o.server_time <= deadline_at;
    }
  }
  o.delivered = in_time;
  o.elapsed = in_time ? o.transfer_time + o.server_time : std::max(0.0, r.budget);
  return o;
}

inline bandwidth_trace::bandwidth_trace(std::vector<trace_point> points) : points_(std::move(points)) {
  const auto bad = [](std::size_t row, const std::string& why) {
    INCISION_THROW(
        invalid_argument(incision::detail::message("exec", "bandwidth trace row " + std::to_string(row) + ": " + why)));
  };
  if (points_.empty()) INCISION_THROW(invalid_argument(incision::detail::message("exec", "bandwidth trace is empty")));
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const trace_point& p = points_[i];
    for (const double v : {p.time, p.bandwidth, p.latency, p.jitter})
      if (!(v >= 0.0) || !std::isfinite(v)) bad(i, "time, bandwidth, latency and jitter must be finite and >= 0");
    if (i > 0 && !(p.time > points_[i - 1].time)) bad(i, "times must increase strictly");
  }
}

inline std::size_t bandwidth_trace::index(double t) const noexcept {
  const auto it =
      std::upper_bound(points_.begin(), points_.end(), t, [](double x, const trace_point& p) { return x < p.time; });
  return it == points_.begin() ? 0 : static_cast<std::size_t>(it - points_.begin()) - 1;
}

inline const trace_point& bandwidth_trace::at(double t) const noexcept { return points_[index(t)]; }

inline double bandwidth_trace::transmit_end(double start, double bytes) const noexcept {
  if (!(bytes > 0.0)) return start;
  double t = start;
  for (std::size_t i = index(start); i < points_.size(); ++i) {
    const double end = i + 1 < points_.size() ? points_[i + 1].time : std::numeric_limits<double>::infinity();
    const double rate = points_[i].bandwidth;
    if (rate > 0.0) {
      const double done = t + bytes / rate;
      if (done <= end) return done;
      bytes -= rate * (end - t);
    }
    t = std::max(t, end);
  }
  return std::numeric_limits<double>::infinity();
}

inline double sim_link::send(double t, std::size_t n) noexcept {
  const double start = std::max(t, busy_);
  const trace_point& p = trace_.at(start);
  const double left = trace_.transmit_end(start, static_cast<double>(n));
  busy_ = left;
  return left + p.latency + (p.jitter > 0.0 ? p.jitter * static_cast<double>(jitter_.unit()) : 0.0);
}

inline bandwidth_trace bandwidth_trace::parse_csv(std::string_view text, std::string_view source) {
  std::size_t line_no = 0, columns = 0;
  std::vector<trace_point> points;
  const auto fail = [&](const std::string& why) {
    INCISION_THROW(parse_error(
        incision::detail::message("exec", std::string(source) + ":" + std::to_string(line_no) + ": " + why)));
  };
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  };
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> cells;
    for (std::size_t pos = 0;;) {
      const std::size_t comma = line.find(',', pos);
      cells.push_back(trim(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos)));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    if (columns == 0) {
      static constexpr std::string_view names[] = {"time", "bandwidth", "latency", "jitter"};
      if (cells.size() < 2 || cells.size() > 4) fail("header must be time,bandwidth[,latency[,jitter]]");
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i] != names[i])
          fail("header column " + std::to_string(i + 1) + " is '" + std::string(cells[i]) + "', expected '" +
               std::string(names[i]) + "'");
      columns = cells.size();
      continue;
    }
    if (cells.size() != columns)
      fail(std::to_string(cells.size()) + " values, the header names " + std::to_string(columns));
    double v[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < columns; ++i) {
      const char* first = cells[i].data();
      const char* last = first + cells[i].size();
      const auto [ptr, ec] = std::from_chars(first, last, v[i]);
      if (ec != std::errc() || ptr != last || cells[i].empty()) fail("'" + std::string(cells[i]) + "' is not a number");
      if (!(v[i] >= 0.0) || !std::isfinite(v[i])) fail("values must be finite and >= 0, got " + std::string(cells[i]));
    }
    if (!points.empty() && !(v[0] > points.back().time)) fail("times must increase strictly");
    points.push_back({v[0], v[1], v[2], v[3]});
  }
  if (columns == 0) fail("no header (time,bandwidth[,latency[,jitter]])");
  if (points.empty()) fail("no rows");
  return bandwidth_trace(std::move(points));
}

inline bandwidth_trace bandwidth_trace::load_csv(const std::filesystem::path& path) {
  const auto bytes = incision::detail::read_file_bytes(path, std::size_t{64} << 20);
  return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

}  // namespace exec
INCISION_END_NAMESPACE
