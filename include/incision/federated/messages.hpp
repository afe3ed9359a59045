/// @file
/// @brief FedLinUCB-DW wire format: hello, upload, acknowledgement, download and reject messages.
///
/// CANS (Wu, Zhang, Lin, Xu, Liu, "CANS: Accelerating Multiuser Collaborative Edge Inference via
/// Cooperative Autodidactic NeuroSurgeon", arXiv:2606.09175) lets devices of one type share what they
/// learn through an edge server. Only its abstract is public; this message set is our design.
///
/// Every message is a sealed envelope (incision/detail/bytes.hpp: magic, version, kind, length,
/// CRC-32) whose payload starts with the FedLinUCB-DW protocol version (u16). Payload layouts (all
/// little endian, doubles as IEEE-754 bit patterns):
///
///   kind 200 hello     protocol u16 | device_id u64 | group str | dim u32 | feature_tag u64
///   kind 201 upload    protocol u16 | device_id u64 | seq u64 | dim u32 | count u64 | encoding u8 |
///                      encoding 0 (dense): upper triangle of dA row by row (d(d+1)/2 f64), db (d f64)
///                      encoding 1 (rows):  n_rows u64, then per row: weight f64, y f64, x (d f64)
///   kind 202 download  protocol u16 | group str | version u64 | dim u32 | count u64 |
///                      recipient u64 (0 = broadcast) | acked_seq u64 | upper triangle of A (data part) |
///                      b (d f64)
///   kind 203 ack       protocol u16 | device_id u64 | seq u64 | version u64
///   kind 204 reject    protocol u16 | device_id u64 | seq u64 | code u16 | text str
///
/// The decoders validate everything a receiver relies on (finite numbers, dimensions within
/// `fed_max_dim`, counts at most `fed_max_count` and consistent with the bytes present,
/// non-negative weights and diagonal, known encodings and reject codes) and throw
/// incision::parse_error otherwise; they never read past the buffer and never allocate more than
/// the buffer can describe.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/error.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace federated {

/// @brief Version of the FedLinUCB-DW payload layout (inside the envelope's own version).
inline constexpr std::uint16_t fed_protocol_version = 1;
/// @brief Largest feature dimension a message may carry (bounds allocations of decoders).
inline constexpr std::uint32_t fed_max_dim = 1024;
/// @brief Longest group name a message may carry, in bytes.
inline constexpr std::size_t fed_max_group_length = 256;
/// @brief Longest reject text, in bytes.
inline constexpr std::size_t fed_max_text_length = 4096;
/// @brief Largest observation count an upload or download may carry (2^53: exact as a double,
/// and far from wrapping a u64 when summed).
inline constexpr std::uint64_t fed_max_count = std::uint64_t{1} << 53;

/// @brief Envelope kinds of the FedLinUCB-DW messages (federated range 200-299).
enum class fed_kind : std::uint16_t {
  hello = 200,     ///< device -> edge: register with a group
  upload = 201,    ///< device -> edge: statistics gathered since the last synchronisation
  download = 202,  ///< edge -> device: the group's pooled statistics
  ack = 203,       ///< edge -> device: an upload was added to the group
  reject = 204,    ///< edge -> device: a message was refused, nothing changed
};

/// @brief Why the edge refused a message.
enum class fed_reject_code : std::uint16_t {
  protocol_version = 1,    ///< unsupported FedLinUCB-DW protocol version
  unknown_device = 2,      ///< upload or request from a device that never said hello
  wrong_group = 3,         ///< hello names a different group than the device registered with
  dimension_mismatch = 4,  ///< feature dimension differs from the group's
  feature_mismatch = 5,    ///< the device's arm features differ from the group's
  out_of_order = 6,        ///< upload sequence number is not the next one expected
  unexpected_message = 7,  ///< a message kind the edge does not accept (e.g. a download)
  invalid_statistics = 8,  ///< the upload would leave the group not positive semi-definite or out of bounds
  limit_exceeded = 9,      ///< the edge's configured caps (groups, devices, dimension, size, memory)
};

/// @brief A readable name for a reject code.
constexpr std::string_view to_string(fed_reject_code c) noexcept {
  switch (c) {
    case fed_reject_code::protocol_version:
      return "protocol_version";
    case fed_reject_code::unknown_device:
      return "unknown_device";
    case fed_reject_code::wrong_group:
      return "wrong_group";
    case fed_reject_code::dimension_mismatch:
      return "dimension_mismatch";
    case fed_reject_code::feature_mismatch:
      return "feature_mismatch";
    case fed_reject_code::out_of_order:
      return "out_of_order";
    case fed_reject_code::unexpected_message:
      return "unexpected_message";
    case fed_reject_code::invalid_statistics:
      return "invalid_statistics";
    case fed_reject_code::limit_exceeded:
      return "limit_exceeded";
  }
  return "unknown";
}

/// @brief Device -> edge: join a group (device type) with a feature space.
struct fed_hello {
  std::uint64_t device_id = 0;    ///< non-zero, unique per device
  std::string group;              ///< device type; statistics are pooled per group
  std::uint32_t dim = 0;          ///< feature dimension d
  std::uint64_t feature_tag = 0;  ///< fingerprint of the arm features (same type, same features)
};

/// @brief Device -> edge: data gathered since the last upload, as sufficient statistics.
///
/// The statistics are always held densely (dA = sum w x x^T, db = sum w y x) after decoding; when the
/// message was sent as rows (cheaper for a few observations) the rows are kept too, so the edge adds
/// them by rank-one updates in the sender's order.
struct fed_upload {
  std::uint64_t device_id = 0;
  std::uint64_t seq = 0;    ///< 1, 2, 3, ... per device; the edge accepts only the next one
  std::uint64_t count = 0;  ///< observations in this upload (>= 1)
  Eigen::MatrixXd gram;     ///< dA (d x d, symmetric)
  Eigen::VectorXd moment;   ///< db (d)
  bool as_rows = false;     ///< whether the message carried rows (then the next three are filled)
  Eigen::MatrixXd rows_x;   ///< n x d
  Eigen::VectorXd rows_y;   ///< n
  Eigen::VectorXd rows_w;   ///< n
  [[nodiscard]] std::uint32_t dim() const noexcept {
    return static_cast<std::uint32_t>(as_rows ? rows_x.cols() : moment.size());
  }
};

/// @brief Edge -> device: a group's pooled data statistics (no regulariser, no offline prior).
struct fed_download {
  std::string group;
  std::uint64_t version = 0;    ///< number of uploads the group has absorbed
  std::uint64_t count = 0;      ///< observations pooled
  std::uint64_t recipient = 0;  ///< the device it is addressed to, 0 = broadcast to the group
  std::uint64_t acked_seq = 0;  ///< recipient's last upload included (0 for broadcasts)
  Eigen::MatrixXd gram;         ///< sum of the group's w x x^T (d x d)
  Eigen::VectorXd moment;       ///< sum of the group's w y x (d)
  [[nodiscard]] std::uint32_t dim() const noexcept { return static_cast<std::uint32_t>(moment.size()); }
};

/// @brief Edge -> device: an upload was added; a download of version >= @ref version includes it.
struct fed_ack {
  std::uint64_t device_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t version = 0;
};

/// @brief Edge -> device: a message was refused and the edge's state did not change.
struct fed_reject {
  std::uint64_t device_id = 0;
  std::uint64_t seq = 0;  ///< sequence number of the refused upload, 0 otherwise
  fed_reject_code code = fed_reject_code::unexpected_message;
  std::string text;
};

/// @brief Any decoded message.
using fed_message = std::variant<fed_hello, fed_upload, fed_download, fed_ack, fed_reject>;

/// @brief Whether rows (n x (d+2) doubles) are smaller on the wire than dense statistics.
constexpr bool fed_rows_are_smaller(std::size_t n_rows, std::size_t dim) noexcept {
  return n_rows * (dim + 2) < dim * (dim + 1) / 2 + dim;
}

// Encoders. They check their arguments (dimensions, finiteness) and throw invalid_argument.
[[nodiscard]] inline std::vector<std::byte> encode(const fed_hello& m);
/// Dense or rows encoding: rows are used when @p m.as_rows is set (rows must be present).
[[nodiscard]] inline std::vector<std::byte> encode(const fed_upload& m);
[[nodiscard]] inline std::vector<std::byte> encode(const fed_download& m);
[[nodiscard]] inline std::vector<std::byte> encode(const fed_ack& m);
[[nodiscard]] inline std::vector<std::byte> encode(const fed_reject& m);

/// @brief Decodes any FedLinUCB-DW message.
/// @throws parse_error if the bytes are not a valid message (the reason is in the text).
[[nodiscard]] inline fed_message decode_fed_message(std::span<const std::byte> bytes);

/// @brief The kind of a sealed message after checking its envelope.
/// @throws parse_error if the envelope is bad or the kind is outside the federated set.
[[nodiscard]] inline fed_kind fed_message_kind(std::span<const std::byte> bytes);

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

/// \cond
namespace detail {

inline void fed_check_arg(bool ok, const std::string& what) {
  if (!ok) INCISION_THROW(invalid_argument(incision::detail::message("federated", what)));
}

inline bool fed_all_finite(const Eigen::Ref<const Eigen::MatrixXd>& m) noexcept { return m.allFinite(); }

inline void fed_write_header(incision::detail::byte_writer& w, std::size_t payload_hint = 64) {
  w.buffer().reserve(payload_hint);
  w.u16(fed_protocol_version);
}

inline void fed_read_header(incision::detail::byte_reader& r) {
  const std::uint16_t v = r.u16();
  if (v != fed_protocol_version) r.fail("unsupported FedLinUCB-DW protocol version " + std::to_string(v));
}

inline std::uint32_t fed_read_dim(incision::detail::byte_reader& r) {
  const std::uint32_t d = r.u32();
  if (d == 0 || d > fed_max_dim)
    r.fail("dimension " + std::to_string(d) + " outside [1, " + std::to_string(fed_max_dim) + "]");
  return d;
}

inline void fed_write_upper(incision::detail::byte_writer& w, const Eigen::MatrixXd& a) {
  const Eigen::Index d = a.rows();
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = i; j < d; ++j) w.f64(a(i, j));
}

/// Reads an upper triangle into a symmetric matrix; checks finiteness and a non-negative diagonal.
inline void fed_read_upper(incision::detail::byte_reader& r, Eigen::MatrixXd& a, std::uint32_t dim,
                           std::string_view field) {
  const auto d = static_cast<Eigen::Index>(dim);
  const std::size_t n = static_cast<std::size_t>(dim) * (dim + 1) / 2;
  if (n * 8 > r.remaining()) r.fail(std::string(field) + " truncated");
  a.resize(d, d);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = i; j < d; ++j) {
      const double v = r.f64();
      if (!std::isfinite(v)) r.fail(std::string(field) + " holds a non-finite value");
      if (i == j && v < 0.0) r.fail(std::string(field) + " has a negative diagonal entry");
      a(i, j) = v;
      a(j, i) = v;
    }
}

inline void fed_read_vector(incision::detail::byte_reader& r, Eigen::VectorXd& v, std::uint32_t dim,
                            std::string_view field) {
  if (static_cast<std::size_t>(dim) * 8 > r.remaining()) r.fail(std::string(field) + " truncated");
  v.resize(static_cast<Eigen::Index>(dim));
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    v(i) = r.f64();
    if (!std::isfinite(v(i))) r.fail(std::string(field) + " holds a non-finite value");
  }
}

inline std::string fed_read_group(incision::detail::byte_reader& r) {
  std::string g = r.str(fed_max_group_length);
  if (g.empty()) r.fail("empty group name");
  return g;
}

inline std::uint64_t fed_read_device(incision::detail::byte_reader& r) {
  const std::uint64_t id = r.u64();
  if (id == 0) r.fail("device id 0 is reserved");
  return id;
}

inline void fed_check_stats(const Eigen::MatrixXd& gram, const Eigen::VectorXd& moment, std::string_view what) {
  fed_check_arg(moment.size() > 0 && moment.size() <= static_cast<Eigen::Index>(fed_max_dim),
                std::string(what) + ": dimension outside [1, 1024]");
  fed_check_arg(gram.rows() == moment.size() && gram.cols() == moment.size(),
                std::string(what) + ": gram must be d x d with d = moment size");
  fed_check_arg(gram.allFinite() && moment.allFinite(), std::string(what) + ": non-finite statistics");
  fed_check_arg((gram.diagonal().array() >= 0.0).all(), std::string(what) + ": negative diagonal in the gram matrix");
}

inline void fed_check_group(const std::string& g) {
  fed_check_arg(!g.empty() && g.size() <= fed_max_group_length, "group name must have 1 to 256 bytes");
}

/// Decodes an upload payload into @p m, reusing its storage. Rows are not summed into the dense
/// statistics unless @p densify is set (the edge adds rows by rank-one updates instead).
inline void fed_decode_upload(incision::detail::byte_reader& r, fed_upload& m, bool densify) {
  m.as_rows = false;
  m.device_id = fed_read_device(r);
  m.seq = r.u64();
  if (m.seq == 0) r.fail("upload sequence number 0 is reserved");
  const std::uint32_t dim = fed_read_dim(r);
  const auto d = static_cast<Eigen::Index>(dim);
  m.count = r.u64();
  if (m.count == 0) r.fail("upload holds no observation");
  if (m.count > fed_max_count) r.fail("upload count " + std::to_string(m.count) + " above 2^53");
  const std::uint8_t enc = r.u8();
  if (enc == 0) {
    fed_read_upper(r, m.gram, dim, "upload gram");
    fed_read_vector(r, m.moment, dim, "upload moment");
  } else if (enc == 1) {
    const std::uint64_t n = r.count((static_cast<std::size_t>(dim) + 2) * 8, "upload rows");
    if (n != m.count) r.fail("upload has " + std::to_string(n) + " rows but count " + std::to_string(m.count));
    m.as_rows = true;
    m.rows_x.resize(static_cast<Eigen::Index>(n), d);
    m.rows_y.resize(static_cast<Eigen::Index>(n));
    m.rows_w.resize(static_cast<Eigen::Index>(n));
    for (Eigen::Index k = 0; k < static_cast<Eigen::Index>(n); ++k) {
      m.rows_w(k) = r.f64();
      m.rows_y(k) = r.f64();
      if (!std::isfinite(m.rows_w(k)) || m.rows_w(k) < 0.0) r.fail("upload row weight must be finite and >= 0");
      if (!std::isfinite(m.rows_y(k))) r.fail("upload row value is not finite");
      for (Eigen::Index j = 0; j < d; ++j) {
        m.rows_x(k, j) = r.f64();
        if (!std::isfinite(m.rows_x(k, j))) r.fail("upload row context is not finite");
      }
    }
    if (densify) {
      m.gram.noalias() = m.rows_x.transpose() * m.rows_w.asDiagonal() * m.rows_x;
      m.moment.noalias() = m.rows_x.transpose() * (m.rows_w.array() * m.rows_y.array()).matrix();
      // Huge finite rows can still overflow once squared and summed.
      if (!m.gram.allFinite() || !m.moment.allFinite()) r.fail("upload rows overflow to non-finite statistics");
    }
  } else {
    r.fail("unknown upload encoding " + std::to_string(enc));
  }
}

}  // namespace detail
/// \endcond

inline std::vector<std::byte> encode(const fed_hello& m) {
  detail::fed_check_arg(m.device_id != 0, "hello: device id 0 is reserved");
  detail::fed_check_group(m.group);
  detail::fed_check_arg(m.dim >= 1 && m.dim <= fed_max_dim, "hello: dimension outside [1, 1024]");
  incision::detail::byte_writer w;
  detail::fed_write_header(w);
  w.u64(m.device_id);
  w.str(m.group);
  w.u32(m.dim);
  w.u64(m.feature_tag);
  return incision::detail::seal(static_cast<std::uint16_t>(fed_kind::hello), w.buffer());
}

inline std::vector<std::byte> encode(const fed_upload& m) {
  detail::fed_check_arg(m.device_id != 0, "upload: device id 0 is reserved");
  detail::fed_check_arg(m.seq != 0, "upload: sequence number 0 is reserved");
  detail::fed_check_arg(m.count != 0, "upload: no observation");
  detail::fed_check_arg(m.count <= fed_max_count, "upload: count above 2^53");
  incision::detail::byte_writer w;
  detail::fed_write_header(w, 40 + 8 * (m.as_rows ? static_cast<std::size_t>(m.rows_x.size() + 2 * m.rows_y.size())
                                                  : static_cast<std::size_t>(m.gram.size() + m.moment.size())));
  w.u64(m.device_id);
  w.u64(m.seq);
  if (m.as_rows) {
    const Eigen::Index d = m.rows_x.cols();
    detail::fed_check_arg(d > 0 && d <= static_cast<Eigen::Index>(fed_max_dim), "upload: dimension outside [1, 1024]");
    detail::fed_check_arg(m.rows_y.size() == m.rows_x.rows() && m.rows_w.size() == m.rows_x.rows() &&
                              static_cast<std::uint64_t>(m.rows_x.rows()) == m.count,
                          "upload: rows, values, weights and count disagree");
    detail::fed_check_arg(
        m.rows_x.allFinite() && m.rows_y.allFinite() && m.rows_w.allFinite() && (m.rows_w.array() >= 0.0).all(),
        "upload: rows must be finite with weights >= 0");
    w.u32(static_cast<std::uint32_t>(d));
    w.u64(m.count);
    w.u8(1);
    w.u64(m.count);
    for (Eigen::Index k = 0; k < m.rows_x.rows(); ++k) {
      w.f64(m.rows_w(k));
      w.f64(m.rows_y(k));
      for (Eigen::Index j = 0; j < d; ++j) w.f64(m.rows_x(k, j));
    }
  } else {
    detail::fed_check_stats(m.gram, m.moment, "upload");
    w.u32(static_cast<std::uint32_t>(m.moment.size()));
    w.u64(m.count);
    w.u8(0);
    detail::fed_write_upper(w, m.gram);
    for (Eigen::Index i = 0; i < m.moment.size(); ++i) w.f64(m.moment(i));
  }
  return incision::detail::seal(static_cast<std::uint16_t>(fed_kind::upload), w.buffer());
}

inline std::vector<std::byte> encode(const fed_download& m) {
  detail::fed_check_group(m.group);
  detail::fed_check_stats(m.gram, m.moment, "download");
  detail::fed_check_arg(m.count <= fed_max_count, "download: count above 2^53");
  incision::detail::byte_writer w;
  detail::fed_write_header(w, 64 + m.group.size() + 8 * static_cast<std::size_t>(m.gram.size() + m.moment.size()));
  w.str(m.group);
  w.u64(m.version);
  w.u32(static_cast<std::uint32_t>(m.moment.size()));
  w.u64(m.count);
  w.u64(m.recipient);
  w.u64(m.acked_seq);
  detail::fed_write_upper(w, m.gram);
  for (Eigen::Index i = 0; i < m.moment.size(); ++i) w.f64(m.moment(i));
  return incision::detail::seal(static_cast<std::uint16_t>(fed_kind::download), w.buffer());
}

inline std::vector<std::byte> encode(const fed_ack& m) {
  detail::fed_check_arg(m.device_id != 0 && m.seq != 0, "ack: device id and sequence number must be non-zero");
  incision::detail::byte_writer w;
  detail::fed_write_header(w);
  w.u64(m.device_id);
  w.u64(m.seq);
  w.u64(m.version);
  return incision::detail::seal(static_cast<std::uint16_t>(fed_kind::ack), w.buffer());
}

inline std::vector<std::byte> encode(const fed_reject& m) {
  detail::fed_check_arg(m.text.size() <= fed_max_text_length, "reject: text longer than 4096 bytes");
  detail::fed_check_arg(to_string(m.code) != "unknown", "reject: unknown code");
  incision::detail::byte_writer w;
  detail::fed_write_header(w);
  w.u64(m.device_id);
  w.u64(m.seq);
  w.u16(static_cast<std::uint16_t>(m.code));
  w.str(m.text);
  return incision::detail::seal(static_cast<std::uint16_t>(fed_kind::reject), w.buffer());
}

/// \cond
namespace detail {
struct fed_sealed {
  fed_kind kind;
  std::span<const std::byte> payload;
};
/// Checks the envelope once (one CRC pass) and returns the kind and payload.
inline fed_sealed fed_unseal(std::span<const std::byte> bytes) {
  constexpr std::string_view what = "FedLinUCB-DW message";
  if (bytes.size() < 8) incision::detail::byte_reader(bytes, what).fail("truncated: shorter than an envelope");
  const auto k =
      static_cast<std::uint16_t>(std::to_integer<unsigned>(bytes[6]) | (std::to_integer<unsigned>(bytes[7]) << 8));
  const auto payload = incision::detail::unseal(bytes, k, what);  // magic, version, length, CRC
  if (k < static_cast<std::uint16_t>(fed_kind::hello) || k > static_cast<std::uint16_t>(fed_kind::reject))
    incision::detail::byte_reader(bytes, what)
        .fail("object kind " + std::to_string(k) + " is not a FedLinUCB-DW message");
  return {static_cast<fed_kind>(k), payload};
}
}  // namespace detail
/// \endcond

inline fed_kind fed_message_kind(std::span<const std::byte> bytes) { return detail::fed_unseal(bytes).kind; }

inline fed_message decode_fed_message(std::span<const std::byte> bytes) {
  const auto [kind, payload] = detail::fed_unseal(bytes);
  incision::detail::byte_reader r(payload, "FedLinUCB-DW message");
  detail::fed_read_header(r);
  fed_message out;
  switch (kind) {
    case fed_kind::hello: {
      fed_hello m;
      m.device_id = detail::fed_read_device(r);
      m.group = detail::fed_read_group(r);
      m.dim = detail::fed_read_dim(r);
      m.feature_tag = r.u64();
      out = std::move(m);
      break;
    }
    case fed_kind::upload: {
      fed_upload m;
      detail::fed_decode_upload(r, m, true);
      out = std::move(m);
      break;
    }
    case fed_kind::download: {
      fed_download m;
      m.group = detail::fed_read_group(r);
      m.version = r.u64();
      const std::uint32_t dim = detail::fed_read_dim(r);
      m.count = r.u64();
      if (m.count > fed_max_count) r.fail("download count " + std::to_string(m.count) + " above 2^53");
      m.recipient = r.u64();
      m.acked_seq = r.u64();
      if (m.recipient == 0 && m.acked_seq != 0) r.fail("broadcast download carries an acknowledgement");
      detail::fed_read_upper(r, m.gram, dim, "download gram");
      detail::fed_read_vector(r, m.moment, dim, "download moment");
      out = std::move(m);
      break;
    }
    case fed_kind::ack: {
      fed_ack m;
      m.device_id = detail::fed_read_device(r);
      m.seq = r.u64();
      if (m.seq == 0) r.fail("ack of sequence number 0");
      m.version = r.u64();
      out = m;
      break;
    }
    case fed_kind::reject: {
      fed_reject m;
      m.device_id = r.u64();
      m.seq = r.u64();
      const std::uint16_t c = r.u16();
      m.code = static_cast<fed_reject_code>(c);
      if (to_string(m.code) == "unknown") r.fail("unknown reject code " + std::to_string(c));
      m.text = r.str(fed_max_text_length);
      out = std::move(m);
      break;
    }
  }
  r.expect_end();
  return out;
}

}  // namespace federated
INCISION_END_NAMESPACE
