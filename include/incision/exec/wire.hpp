/// @file
/// @brief The device <-> edge wire protocol: frames in the project's envelope, a handshake naming
/// the model, inference requests and replies with frame ids, budgets and the server's compute
/// time. Pure encoding: needs neither Asio nor threads (the transports are edge_server.hpp and
/// tcp_link.hpp). Layout tables: docs/net.md.
///
/// A TCP stream carries envelopes back to back (incision/detail/bytes.hpp: "INCS", u16 version,
/// u16 kind, u64 payload length n, payload, u32 CRC-32). A reader takes the 16-byte header,
/// checks it with `read_frame_header` (magic, version, n against the limit) *before*
/// allocating the body, then reads n + 4 bytes and checks the whole frame with `open_frame`.
/// Kinds 310-314 are the exec network messages; kinds 200-299 are FedLinUCB-DW messages, carried
/// as they are and handed to the aggregator.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/detail/crc32.hpp>
#include <incision/error.hpp>
#include <incision/exec/network.hpp>
#include <incision/exec/tensor_codec.hpp>
#include <incision/partition/layer_graph.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Version of the message layouts below (the envelope has its own version).
inline constexpr std::uint16_t wire_protocol_version = 1;

/// @brief Envelope kinds of the network messages (exec range 300-399).
enum class wire_kind : std::uint16_t {
  hello = 310,    ///< device -> edge, first frame: protocol, model fingerprint
  welcome = 311,  ///< edge -> device: accepted or refused (status), the edge's frame limit
  request = 312,  ///< device -> edge: one frame's server part
  reply = 313,    ///< edge -> device: outputs and the server's compute time
  error = 314,    ///< edge -> device before closing: why the stream was refused
};

/// @brief Status of a welcome or a reply.
enum class wire_status : std::uint16_t {
  ok = 0,
  wrong_protocol = 1,  ///< welcome: the hello's protocol version is not ours
  wrong_model = 2,     ///< welcome: another network (fingerprint differs)
  expired = 3,         ///< reply: the budget ran out before the server started; not computed
  failed = 4,          ///< reply: the backend refused the frame (text says why)
  busy = 5,            ///< welcome: the server is at its connection limit
};

/// @brief Limits a reader enforces before allocating.
struct wire_limits {
  std::uint64_t max_frame_bytes = std::uint64_t{64} << 20;  ///< payload bytes of one frame
  std::size_t max_device_layers = 1U << 16;                 ///< ids in a request's device set
  std::size_t max_text = 4096;                              ///< bytes of a status text
};

inline constexpr std::size_t frame_header_size = incision::detail::envelope_header_size;    // 16
inline constexpr std::size_t frame_trailer_size = incision::detail::envelope_trailer_size;  // 4

/// @brief What a frame header announces.
struct frame_header {
  std::uint16_t kind = 0;
  std::uint64_t payload_bytes = 0;
  /// Bytes still to read after the header: payload and CRC.
  [[nodiscard]] std::size_t rest() const noexcept {
    return static_cast<std::size_t>(payload_bytes) + frame_trailer_size;
  }
};

/// @brief hello (kind 310): protocol u16 | reserved u16 = 0 | model u64.
struct wire_hello {
  std::uint16_t protocol = wire_protocol_version;
  std::uint64_t model = 0;
};

/// @brief welcome (kind 311): protocol u16 | status u16 | model u64 | max_frame_bytes u64 | text str.
struct wire_welcome {
  std::uint16_t protocol = wire_protocol_version;
  wire_status status = wire_status::ok;
  std::uint64_t model = 0;
  std::uint64_t max_frame_bytes = 0;
  std::string text;
};

/// @brief request (kind 312): frame_id u64 | plan_id u64 | budget_us u64 | count u32 |
/// count x layer id u32 | the cut tensors as one kind-301 envelope (the rest of the payload).
struct wire_request {
  std::uint64_t frame_id = 0;
  std::uint64_t plan_id = 0;
  std::uint64_t budget_us = 0;  ///< microseconds the server may still start within; 0 = no limit
  std::vector<partition::layer_id> device_layers;
  std::span<const std::byte> tensors;  ///< decoded: a view into the frame
};

/// @brief reply (kind 313): frame_id u64 | plan_id u64 | status u16 | reserved u16 = 0 |
/// server_ns u64 | text str | the outputs as one kind-301 envelope (empty unless status ok).
struct wire_reply {
  std::uint64_t frame_id = 0;
  std::uint64_t plan_id = 0;
  wire_status status = wire_status::ok;
  std::uint64_t server_ns = 0;  ///< decode + server part + encode, on the server
  std::string text;
  std::span<const std::byte> tensors;
};

/// @brief error (kind 314): code u16 (a wire_status) | text str.
struct wire_error {
  wire_status code = wire_status::failed;
  std::string text;
};

/// @brief Checks a frame header (magic, envelope version, payload length against the limit).
/// Call before allocating the body. @throws parse_error naming the problem.
[[nodiscard]] frame_header read_frame_header(std::span<const std::byte> header, const wire_limits& limits = {});

/// @brief A whole frame checked (header, length, CRC): its kind and payload (a view into @p frame).
struct opened_frame {
  std::uint16_t kind = 0;
  std::span<const std::byte> payload;
};
/// @throws parse_error naming the problem.
[[nodiscard]] opened_frame open_frame(std::span<const std::byte> frame, const wire_limits& limits = {});

/// @brief Encoders: the whole frame into @p out (resized; memory reused).
void encode(const wire_hello& m, std::vector<std::byte>& out);
void encode(const wire_welcome& m, std::vector<std::byte>& out);
void encode(const wire_error& m, std::vector<std::byte>& out);
/// @brief A request carrying @p cut (encoded straight into the frame, no intermediate copy).
void encode_request(std::uint64_t frame_id, std::uint64_t plan_id, std::uint64_t budget_us,
                    std::span<const partition::layer_id> device_layers, const tensor_list& cut,
                    std::vector<std::byte>& out);
/// @brief A reply; @p outputs is encoded only when @p status is ok.
void encode_reply(std::uint64_t frame_id, std::uint64_t plan_id, wire_status status, std::uint64_t server_ns,
                  std::string_view text, const tensor_list& outputs, std::vector<std::byte>& out);

/// @brief Decoders of an opened frame's payload. @throws parse_error naming the first bad field.
[[nodiscard]] wire_hello decode_hello(std::span<const std::byte> payload);
[[nodiscard]] wire_welcome decode_welcome(std::span<const std::byte> payload, const wire_limits& limits = {});
[[nodiscard]] wire_error decode_error(std::span<const std::byte> payload, const wire_limits& limits = {});
/// @brief Fills @p out (its device_layers memory reused); tensors views @p payload.
void decode_request(std::span<const std::byte> payload, wire_request& out, const wire_limits& limits = {});
[[nodiscard]] wire_reply decode_reply(std::span<const std::byte> payload, const wire_limits& limits = {});

/// @brief A fingerprint of a network: its layer graph (names, types, output bytes, MACs, edges;
/// not the profiled times) and its weights. Device and edge must agree on it.
[[nodiscard]] std::uint64_t model_fingerprint(const network& net);
/// @brief A plan id for a device set (FNV-1a of its ids): names the plan in requests and logs.
[[nodiscard]] std::uint64_t plan_fingerprint(std::span<const partition::layer_id> device_layers) noexcept;

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {

[[noreturn]] inline void wire_fail(std::string_view what, const std::string& why) {
  INCISION_THROW(parse_error(incision::detail::message("net", std::string(what) + ": " + why)));
}

// Writes the envelope around a payload of n bytes filled by fill(payload_pointer).
template <class Fill>
void wire_seal(std::vector<std::byte>& out, wire_kind kind, std::size_t n, Fill fill) {
  seal_into(out, static_cast<std::uint16_t>(kind), n, fill);
}

struct fnv {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void bytes(const void* p, std::size_t n) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  }
  void u64(std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) {
      const auto c = static_cast<unsigned char>((v >> (8 * i)) & 0xFFU);
      bytes(&c, 1);
    }
  }
  void str(std::string_view s) noexcept {
    u64(s.size());
    bytes(s.data(), s.size());
  }
};

// A frame whose payload is a head of head_n bytes (filled by fill) followed, when with_tensors,
// by the kind-301 envelope of ts; the outer CRC is taken while the inner envelope is copied in.
template <class Fill>
void seal_with_tensors(std::vector<std::byte>& out, wire_kind kind, std::size_t head_n, const tensor_list& ts,
                       bool with_tensors, Fill fill) {
  thread_local std::vector<std::byte> inner;
  if (with_tensors)
    encode(ts, inner);
  else
    inner.clear();
  const std::size_t n = head_n + inner.size();
  out.resize(frame_header_size + n + frame_trailer_size);
  std::byte* p = out.data();
  std::memcpy(p, incision::detail::envelope_magic.data(), 4);
  put_le(p + 4, incision::detail::envelope_version, 2);
  put_le(p + 6, static_cast<std::uint16_t>(kind), 2);
  put_le(p + 8, n, 8);
  fill(p + frame_header_size);
  std::uint32_t crc = incision::detail::crc32(std::span<const std::byte>(p, frame_header_size + head_n));
  crc = incision::detail::crc32_copy(crc, p + frame_header_size + head_n, inner.data(), inner.size());
  const std::size_t body = frame_header_size + n;
  put_le(p + body, crc, 4);
}

inline void put_str(std::byte* p, std::string_view s) noexcept {
  put_le(p, s.size(), 4);
  if (!s.empty()) std::memcpy(p + 4, s.data(), s.size());
}

}  // namespace detail

inline frame_header read_frame_header(std::span<const std::byte> h, const wire_limits& limits) {
  constexpr std::string_view what = "frame header";
  if (h.size() < frame_header_size) detail::wire_fail(what, "truncated: " + std::to_string(h.size()) + " of 16 bytes");
  if (std::memcmp(h.data(), incision::detail::envelope_magic.data(), 4) != 0)
    detail::wire_fail(what, "bad magic (not incision data)");
  const auto version = static_cast<std::uint16_t>(detail::get_le(h.data() + 4, 2));
  if (version != incision::detail::envelope_version)
    detail::wire_fail(what, "unsupported envelope version " + std::to_string(version));
  frame_header f;
  f.kind = static_cast<std::uint16_t>(detail::get_le(h.data() + 6, 2));
  f.payload_bytes = detail::get_le(h.data() + 8, 8);
  if (f.payload_bytes > limits.max_frame_bytes)
    detail::wire_fail(what, "payload of " + std::to_string(f.payload_bytes) + " bytes exceeds the limit " +
                                std::to_string(limits.max_frame_bytes));
  return f;
}

inline opened_frame open_frame(std::span<const std::byte> frame, const wire_limits& limits) {
  const frame_header h = read_frame_header(frame, limits);
  if (frame.size() - frame_header_size != h.rest())
    detail::wire_fail("frame", "length field says " + std::to_string(h.payload_bytes) + " payload bytes but " +
                                   std::to_string(frame.size() - frame_header_size) +
                                   " bytes follow the header (truncated or padded)");
  const std::size_t body = frame_header_size + static_cast<std::size_t>(h.payload_bytes);
  if (detail::get_le(frame.data() + body, 4) != incision::detail::crc32(frame.first(body)))
    detail::wire_fail("frame", "checksum mismatch (corrupted)");
  return {h.kind, frame.subspan(frame_header_size, static_cast<std::size_t>(h.payload_bytes))};
}

inline void encode(const wire_hello& m, std::vector<std::byte>& out) {
  detail::wire_seal(out, wire_kind::hello, 12, [&](std::byte* p) {
    detail::put_le(p, m.protocol, 2);
    detail::put_le(p + 2, 0, 2);
    detail::put_le(p + 4, m.model, 8);
  });
}

inline void encode(const wire_welcome& m, std::vector<std::byte>& out) {
  detail::wire_seal(out, wire_kind::welcome, 20 + 4 + m.text.size(), [&](std::byte* p) {
    detail::put_le(p, m.protocol, 2);
    detail::put_le(p + 2, static_cast<std::uint16_t>(m.status), 2);
    detail::put_le(p + 4, m.model, 8);
    detail::put_le(p + 12, m.max_frame_bytes, 8);
    detail::put_str(p + 20, m.text);
  });
}

inline void encode(const wire_error& m, std::vector<std::byte>& out) {
  detail::wire_seal(out, wire_kind::error, 2 + 4 + m.text.size(), [&](std::byte* p) {
    detail::put_le(p, static_cast<std::uint16_t>(m.code), 2);
    detail::put_str(p + 2, m.text);
  });
}

inline void encode_request(std::uint64_t frame_id, std::uint64_t plan_id, std::uint64_t budget_us,
                           std::span<const partition::layer_id> d, const tensor_list& cut,
                           std::vector<std::byte>& out) {
  const std::size_t head = 28 + 4 * d.size();
  if (d.size() > UINT32_MAX)
    INCISION_THROW(invalid_argument(incision::detail::message("net", "encode_request: device set too large")));
  detail::seal_with_tensors(out, wire_kind::request, head, cut, true, [&](std::byte* p) {
    detail::put_le(p, frame_id, 8);
    detail::put_le(p + 8, plan_id, 8);
    detail::put_le(p + 16, budget_us, 8);
    detail::put_le(p + 24, d.size(), 4);
    for (std::size_t i = 0; i < d.size(); ++i) detail::put_le(p + 28 + 4 * i, d[i], 4);
  });
}

inline void encode_reply(std::uint64_t frame_id, std::uint64_t plan_id, wire_status status, std::uint64_t server_ns,
                         std::string_view text, const tensor_list& outputs, std::vector<std::byte>& out) {
  const std::size_t head = 32 + 4 + text.size();
  detail::seal_with_tensors(out, wire_kind::reply, head, outputs, status == wire_status::ok, [&](std::byte* p) {
    detail::put_le(p, frame_id, 8);
    detail::put_le(p + 8, plan_id, 8);
    detail::put_le(p + 16, static_cast<std::uint16_t>(status), 2);
    detail::put_le(p + 18, 0, 2);
    detail::put_le(p + 20, server_ns, 8);
    detail::put_le(p + 28, 0, 4);  // reserved
    detail::put_str(p + 32, text);
  });
}

inline wire_hello decode_hello(std::span<const std::byte> p) {
  constexpr std::string_view what = "hello";
  if (p.size() != 12) detail::wire_fail(what, "payload is " + std::to_string(p.size()) + " bytes, expected 12");
  wire_hello m;
  m.protocol = static_cast<std::uint16_t>(detail::get_le(p.data(), 2));
  if (detail::get_le(p.data() + 2, 2) != 0) detail::wire_fail(what, "reserved field is not zero");
  m.model = detail::get_le(p.data() + 4, 8);
  return m;
}

namespace detail {
inline std::string read_text(std::span<const std::byte> p, std::size_t at, const wire_limits& lim,
                             std::string_view what, std::size_t& end) {
  if (p.size() < at + 4) wire_fail(what, "truncated text length");
  const std::uint64_t n = get_le(p.data() + at, 4);
  if (n > lim.max_text) wire_fail(what, "text of " + std::to_string(n) + " bytes exceeds the limit");
  if (n > p.size() - at - 4) wire_fail(what, "truncated text");
  end = at + 4 + static_cast<std::size_t>(n);
  return std::string(reinterpret_cast<const char*>(p.data() + at + 4), static_cast<std::size_t>(n));
}
inline wire_status read_status(std::uint64_t v, std::string_view what) {
  if (v > static_cast<std::uint64_t>(wire_status::busy)) wire_fail(what, "unknown status " + std::to_string(v));
  return static_cast<wire_status>(v);
}
}  // namespace detail

inline wire_welcome decode_welcome(std::span<const std::byte> p, const wire_limits& lim) {
  constexpr std::string_view what = "welcome";
  if (p.size() < 20) detail::wire_fail(what, "truncated");
  wire_welcome m;
  m.protocol = static_cast<std::uint16_t>(detail::get_le(p.data(), 2));
  m.status = detail::read_status(detail::get_le(p.data() + 2, 2), what);
  m.model = detail::get_le(p.data() + 4, 8);
  m.max_frame_bytes = detail::get_le(p.data() + 12, 8);
  std::size_t end = 0;
  m.text = detail::read_text(p, 20, lim, what, end);
  if (end != p.size()) detail::wire_fail(what, std::to_string(p.size() - end) + " unexpected trailing bytes");
  return m;
}

inline wire_error decode_error(std::span<const std::byte> p, const wire_limits& lim) {
  constexpr std::string_view what = "error";
  if (p.size() < 2) detail::wire_fail(what, "truncated");
  wire_error m;
  m.code = detail::read_status(detail::get_le(p.data(), 2), what);
  std::size_t end = 0;
  m.text = detail::read_text(p, 2, lim, what, end);
  if (end != p.size()) detail::wire_fail(what, std::to_string(p.size() - end) + " unexpected trailing bytes");
  return m;
}

inline void decode_request(std::span<const std::byte> p, wire_request& out, const wire_limits& lim) {
  constexpr std::string_view what = "request";
  if (p.size() < 28) detail::wire_fail(what, "truncated header");
  const std::uint64_t n = detail::get_le(p.data() + 24, 4);
  if (n > lim.max_device_layers)
    detail::wire_fail(what, "device set of " + std::to_string(n) + " layers exceeds the limit " +
                                std::to_string(lim.max_device_layers));
  if (n > (p.size() - 28) / 4)
    detail::wire_fail(what, "device set count " + std::to_string(n) + " exceeds the data present");
  out.frame_id = detail::get_le(p.data(), 8);
  out.plan_id = detail::get_le(p.data() + 8, 8);
  out.budget_us = detail::get_le(p.data() + 16, 8);
  out.device_layers.resize(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < n; ++i)
    out.device_layers[i] = static_cast<partition::layer_id>(detail::get_le(p.data() + 28 + 4 * i, 4));
  out.tensors = p.subspan(28 + 4 * static_cast<std::size_t>(n));
}

inline wire_reply decode_reply(std::span<const std::byte> p, const wire_limits& lim) {
  constexpr std::string_view what = "reply";
  if (p.size() < 32) detail::wire_fail(what, "truncated header");
  wire_reply m;
  m.frame_id = detail::get_le(p.data(), 8);
  m.plan_id = detail::get_le(p.data() + 8, 8);
  m.status = detail::read_status(detail::get_le(p.data() + 16, 2), what);
  if (detail::get_le(p.data() + 18, 2) != 0 || detail::get_le(p.data() + 28, 4) != 0)
    detail::wire_fail(what, "reserved field is not zero");
  m.server_ns = detail::get_le(p.data() + 20, 8);
  std::size_t end = 0;
  m.text = detail::read_text(p, 32, lim, what, end);
  m.tensors = p.subspan(end);
  if (m.status != wire_status::ok && !m.tensors.empty())
    detail::wire_fail(what,
                      "a reply with status " + std::to_string(static_cast<unsigned>(m.status)) + " carries tensors");
  return m;
}

inline std::uint64_t model_fingerprint(const network& net) {
  detail::fnv f;
  const partition::layer_graph& g = net.graph();
  f.u64(g.size());
  for (partition::layer_id v = 0; v < g.size(); ++v) {
    const partition::layer& l = g[v];
    f.str(l.name);
    f.str(l.type);
    f.u64(std::bit_cast<std::uint64_t>(l.out_bytes));
    f.u64(std::bit_cast<std::uint64_t>(l.macs));
    f.u64(g.successors(v).size());
    for (const partition::layer_id w : g.successors(v)) f.u64(w);
    for (const tensor* t : {&net.at(v).weight, &net.at(v).bias})
      f.u64(incision::detail::crc32(std::as_bytes(std::span<const float>(t->data(), t->size()))));
  }
  return f.h;
}

inline std::uint64_t plan_fingerprint(std::span<const partition::layer_id> d) noexcept {
  detail::fnv f;
  for (const partition::layer_id v : d) f.u64(v);
  return f.h;
}

}  // namespace exec
INCISION_END_NAMESPACE
