/// @file
/// @brief FedLinUCB-DW edge-side aggregator: pooled ridge statistics per device type (group).
///
/// CANS (Wu, Zhang, Lin, Xu, Liu, arXiv:2606.09175) groups devices of the same type and lets them
/// share feedback through the edge server. Only the abstract is public; the aggregation rule here
/// is ours (see docs/federated.md): the edge keeps, per group, the data part of the ridge statistics
/// G = sum w x x^T and g = sum w y x over every upload of every member, and serves them back. It
/// never adds a regulariser or any device's offline prior; each device adds its own.
///
/// The aggregator speaks only bytes (@ref fed_aggregator::handle), so the same object serves devices
/// in the same process or behind any transport. Consistency rule shared with @ref fed_device: a
/// download includes every upload the group absorbed up to its version; a personal download also
/// names the recipient's last included upload (acked_seq), so a device never counts its data twice.
///
/// Not thread-safe: one aggregator per thread, or external locking.
#pragma once

#include <incision/bandit/fed_messages.hpp>
#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/error.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace bandit {

/// @brief Messages and bytes that crossed one side of the link.
struct fed_traffic {
  std::uint64_t messages_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_out = 0;
};

/// @brief Edge-side aggregator of FedLinUCB-DW: one pooled statistic per device type.
///
/// @code{.cpp}
/// incision::bandit::fed_aggregator edge;
/// auto reply = edge.handle(device.hello());   // registers, answers with the group's statistics
/// device.receive(reply);
/// @endcode
class fed_aggregator {
 public:
  fed_aggregator() = default;

  /// @brief Handles one message from a device and returns the reply.
  ///
  /// hello -> personal download of the group (registers the device; a repeated hello from a known
  /// device re-sends its state); upload -> ack (the statistics are added to the group). A message
  /// the edge refuses (unknown device, another group, wrong dimension or features, out-of-order
  /// upload, unsupported protocol, a kind the edge does not accept) gets a reject reply and changes
  /// nothing but the traffic counters.
  /// @throws parse_error if the bytes are not a FedLinUCB-DW message; nothing changes then.
  [[nodiscard]] std::vector<std::byte> handle(std::span<const std::byte> message);

  /// @brief A download of the device's group addressed to it (acknowledges its last upload).
  /// @throws out_of_range if the device never registered.
  [[nodiscard]] std::vector<std::byte> download_for(std::uint64_t device_id);

  /// @brief A download of the group addressed to all its members (recipient 0).
  /// Counted once in the traffic; a transport that sends it to n devices sends n copies.
  /// @throws out_of_range if the group does not exist.
  [[nodiscard]] std::vector<std::byte> broadcast(std::string_view group);

  /// @brief Traffic seen by the edge.
  [[nodiscard]] const fed_traffic& traffic() const noexcept { return traffic_; }
  [[nodiscard]] std::size_t n_groups() const noexcept { return groups_.size(); }
  [[nodiscard]] std::size_t n_devices() const noexcept { return devices_.size(); }
  /// @brief Names of the groups, sorted.
  [[nodiscard]] std::vector<std::string> group_names() const;
  /// @brief The group a device registered with, if any.
  [[nodiscard]] std::optional<std::string> device_group(std::uint64_t device_id) const;
  /// @brief Last upload sequence number absorbed from a device (0: none).
  /// @throws out_of_range if the device never registered.
  [[nodiscard]] std::uint64_t last_seq(std::uint64_t device_id) const;
  /// @brief Pooled statistics of a group (data part only).
  /// @throws out_of_range if the group does not exist.
  [[nodiscard]] const Eigen::MatrixXd& group_gram(std::string_view group) const;
  [[nodiscard]] const Eigen::VectorXd& group_moment(std::string_view group) const;
  [[nodiscard]] std::uint64_t group_count(std::string_view group) const;
  [[nodiscard]] std::uint64_t group_version(std::string_view group) const;
  [[nodiscard]] std::size_t group_size(std::string_view group) const;

 private:
  struct group_state {
    std::uint32_t dim = 0;
    std::uint64_t feature_tag = 0;
    std::uint64_t version = 0;
    std::uint64_t count = 0;
    std::size_t members = 0;
    Eigen::MatrixXd gram;
    Eigen::VectorXd moment;
    double abs_bound = 0.0;  // upper bound on every |entry| of gram and moment (overflow guard)
  };
  struct device_state {
    std::map<std::string, group_state, std::less<>>::iterator group;
    std::uint64_t last_seq = 0;
  };

  std::vector<std::byte> on_hello(const fed_hello& m);
  std::vector<std::byte> on_upload(incision::detail::byte_reader& r);
  std::vector<std::byte> reject(std::uint64_t device, std::uint64_t seq, fed_reject_code code,
                                std::string text);
  std::vector<std::byte> personal_download(const device_state& dev, std::uint64_t device_id) const;
  static std::vector<std::byte> download_bytes(const std::string& name, const group_state& g,
                                               std::uint64_t recipient, std::uint64_t acked_seq);
  const group_state& group_at(std::string_view group) const;
  std::vector<std::byte> sent(std::vector<std::byte> bytes) {
    ++traffic_.messages_out;
    traffic_.bytes_out += bytes.size();
    return bytes;
  }

  std::map<std::string, group_state, std::less<>> groups_;
  std::unordered_map<std::uint64_t, device_state> devices_;
  fed_traffic traffic_;
  fed_upload scratch_;           // reused upload buffers (no allocation per upload at steady state)
  Eigen::MatrixXd scratch_gram_;
  Eigen::VectorXd scratch_moment_;
};

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

inline std::vector<std::byte> fed_aggregator::handle(std::span<const std::byte> message) {
  // Validates the envelope and kind first: bad bytes throw and change nothing.
  const auto [kind, payload] = detail::fed_unseal(message);
  incision::detail::byte_reader r(payload, "FedLinUCB-DW message");
  const std::uint16_t protocol = r.u16();
  std::vector<std::byte> reply;
  if (protocol != fed_protocol_version) {
    reply = reject(0, 0, fed_reject_code::protocol_version,
                   "protocol version " + std::to_string(protocol) + " is not supported (this edge speaks " +
                       std::to_string(fed_protocol_version) + ")");
  } else if (kind == fed_kind::hello) {
    const auto decoded = decode_fed_message(message);
    reply = on_hello(std::get<fed_hello>(decoded));
  } else if (kind == fed_kind::upload) {
    reply = on_upload(r);
  } else {
    // Decode fully so malformed bytes still raise; a well-formed edge->device message is refused.
    (void)decode_fed_message(message);
    reply = reject(0, 0, fed_reject_code::unexpected_message,
                   "the edge accepts hello and upload messages, not kind " +
                       std::to_string(static_cast<unsigned>(kind)));
  }
  ++traffic_.messages_in;
  traffic_.bytes_in += message.size();
  return reply;
}

inline std::vector<std::byte> fed_aggregator::reject(std::uint64_t device, std::uint64_t seq,
                                                     fed_reject_code code, std::string text) {
  fed_reject m;
  m.device_id = device;
  m.seq = seq;
  m.code = code;
  m.text = incision::detail::message("federated", text);
  if (m.text.size() > fed_max_text_length) m.text.resize(fed_max_text_length);
  return sent(encode(m));
}

inline std::vector<std::byte> fed_aggregator::on_hello(const fed_hello& m) {
  if (auto it = devices_.find(m.device_id); it != devices_.end()) {
    const auto& g = it->second.group;
    if (g->first != m.group)
      return reject(m.device_id, 0, fed_reject_code::wrong_group,
                    "device " + std::to_string(m.device_id) + " belongs to group '" + g->first +
                        "', not '" + m.group + "'");
    if (g->second.dim != m.dim)
      return reject(m.device_id, 0, fed_reject_code::dimension_mismatch,
                    "group '" + m.group + "' has dimension " + std::to_string(g->second.dim) + ", hello says " +
                        std::to_string(m.dim));
    if (g->second.feature_tag != m.feature_tag)
      return reject(m.device_id, 0, fed_reject_code::feature_mismatch,
                    "device " + std::to_string(m.device_id) + " announces other arm features than group '" +
                        m.group + "'");
    return sent(personal_download(it->second, m.device_id));  // reconnect: re-send the state
  }
  auto git = groups_.find(m.group);
  if (git != groups_.end()) {
    if (git->second.dim != m.dim)
      return reject(m.device_id, 0, fed_reject_code::dimension_mismatch,
                    "group '" + m.group + "' has dimension " + std::to_string(git->second.dim) +
                        ", hello says " + std::to_string(m.dim));
    if (git->second.feature_tag != m.feature_tag)
      return reject(m.device_id, 0, fed_reject_code::feature_mismatch,
                    "device " + std::to_string(m.device_id) + " announces other arm features than group '" +
                        m.group + "'");
  }
  // Build the reply before the first visible change (a new group starts empty).
  std::vector<std::byte> reply;
  if (git == groups_.end()) {
    group_state g;
    g.dim = m.dim;
    g.feature_tag = m.feature_tag;
    g.gram = Eigen::MatrixXd::Zero(m.dim, m.dim);
    g.moment = Eigen::VectorXd::Zero(m.dim);
    reply = download_bytes(m.group, g, m.device_id, 0);
    devices_.reserve(devices_.size() + 1);
    git = groups_.emplace(m.group, std::move(g)).first;
  } else {
    reply = download_bytes(git->first, git->second, m.device_id, 0);
    devices_.reserve(devices_.size() + 1);
  }
  devices_.emplace(m.device_id, device_state{git, 0});
  ++git->second.members;
  return sent(std::move(reply));
}

inline std::vector<std::byte> fed_aggregator::on_upload(incision::detail::byte_reader& r) {
  fed_upload& m = scratch_;
  detail::fed_decode_upload(r, m, false);  // validates every field; throws parse_error
  r.expect_end();
  const auto it = devices_.find(m.device_id);
  if (it == devices_.end())
    return reject(m.device_id, m.seq, fed_reject_code::unknown_device,
                  "device " + std::to_string(m.device_id) + " has not said hello");
  device_state& dev = it->second;
  group_state& g = dev.group->second;
  if (m.dim() != g.dim)
    return reject(m.device_id, m.seq, fed_reject_code::dimension_mismatch,
                  "upload has dimension " + std::to_string(m.dim()) + ", group '" + dev.group->first +
                      "' has " + std::to_string(g.dim));
  if (m.seq != dev.last_seq + 1)
    return reject(m.device_id, m.seq, fed_reject_code::out_of_order,
                  "upload " + std::to_string(m.seq) + " from device " + std::to_string(m.device_id) +
                      ", expected " + std::to_string(dev.last_seq + 1));
  std::vector<std::byte> reply = encode(fed_ack{m.device_id, m.seq, g.version + 1});
  // A sum that would overflow must leave the group untouched. Cheap path: a running bound on the
  // group's entries plus a bound on this upload's proves the sum finite, then add in place.
  const Eigen::Index d = static_cast<Eigen::Index>(g.dim);
  double contrib = 0.0;
  if (m.as_rows) {
    for (Eigen::Index k = 0; k < m.rows_x.rows(); ++k) {
      const double xmax = m.rows_x.row(k).cwiseAbs().maxCoeff();
      contrib += m.rows_w(k) * std::max(xmax * xmax, std::abs(m.rows_y(k)) * xmax);
    }
  } else {
    contrib = std::max(m.gram.cwiseAbs().maxCoeff(), m.moment.cwiseAbs().maxCoeff());
  }
  constexpr double safe = 1e300;  // far below DBL_MAX: rounding cannot reach infinity
  const bool fast = std::isfinite(contrib) && g.abs_bound + contrib < safe;
  Eigen::MatrixXd& gram = fast ? g.gram : (scratch_gram_ = g.gram);
  Eigen::VectorXd& moment = fast ? g.moment : (scratch_moment_ = g.moment);
  if (m.as_rows) {
    for (Eigen::Index k = 0; k < m.rows_x.rows(); ++k) {
      const double w = m.rows_w(k);
      // w * (x_i x_j) entry by entry: the group's matrix stays exactly symmetric.
      for (Eigen::Index j = 0; j < d; ++j) {
        const double xj = m.rows_x(k, j);
        for (Eigen::Index i = 0; i < d; ++i) gram(i, j) += w * (m.rows_x(k, i) * xj);
      }
      moment.noalias() += (w * m.rows_y(k)) * m.rows_x.row(k).transpose();
    }
  } else {
    gram += m.gram;
    moment += m.moment;
  }
  if (fast) {
    g.abs_bound += contrib;
  } else {
    if (!scratch_gram_.allFinite() || !scratch_moment_.allFinite())
      incision::detail::byte_reader(std::span<const std::byte>{}, "FedLinUCB-DW upload")
          .fail("adding it would overflow the group's statistics");
    g.gram.swap(scratch_gram_);
    g.moment.swap(scratch_moment_);
    g.abs_bound = std::max(g.gram.cwiseAbs().maxCoeff(), g.moment.cwiseAbs().maxCoeff());
  }
  ++g.version;
  g.count += m.count;
  dev.last_seq = m.seq;
  return sent(std::move(reply));
}

inline std::vector<std::byte> fed_aggregator::download_bytes(const std::string& name, const group_state& g,
                                                             std::uint64_t recipient, std::uint64_t acked_seq) {
  fed_download d;
  d.group = name;
  d.version = g.version;
  d.count = g.count;
  d.recipient = recipient;
  d.acked_seq = acked_seq;
  d.gram = g.gram;
  d.moment = g.moment;
  return encode(d);
}

inline std::vector<std::byte> fed_aggregator::personal_download(const device_state& dev,
                                                                std::uint64_t device_id) const {
  return download_bytes(dev.group->first, dev.group->second, device_id, dev.last_seq);
}

inline std::vector<std::byte> fed_aggregator::download_for(std::uint64_t device_id) {
  const auto it = devices_.find(device_id);
  if (it == devices_.end())
    INCISION_THROW(out_of_range(incision::detail::message(
        "federated", "fed_aggregator::download_for: device " + std::to_string(device_id) + " is not registered")));
  return sent(personal_download(it->second, device_id));
}

inline std::vector<std::byte> fed_aggregator::broadcast(std::string_view group) {
  const group_state& g = group_at(group);
  fed_download d;
  d.group = std::string(group);
  d.version = g.version;
  d.count = g.count;
  d.gram = g.gram;
  d.moment = g.moment;
  return sent(encode(d));
}

inline const fed_aggregator::group_state& fed_aggregator::group_at(std::string_view group) const {
  const auto it = groups_.find(group);
  if (it == groups_.end())
    INCISION_THROW(out_of_range(incision::detail::message(
        "federated", "fed_aggregator: no group '" + std::string(group) + "'")));
  return it->second;
}

inline std::vector<std::string> fed_aggregator::group_names() const {
  std::vector<std::string> out;
  out.reserve(groups_.size());
  for (const auto& [name, g] : groups_) out.push_back(name);
  return out;
}

inline std::optional<std::string> fed_aggregator::device_group(std::uint64_t device_id) const {
  const auto it = devices_.find(device_id);
  if (it == devices_.end()) return std::nullopt;
  return it->second.group->first;
}

inline std::uint64_t fed_aggregator::last_seq(std::uint64_t device_id) const {
  const auto it = devices_.find(device_id);
  if (it == devices_.end())
    INCISION_THROW(out_of_range(incision::detail::message(
        "federated", "fed_aggregator::last_seq: device " + std::to_string(device_id) + " is not registered")));
  return it->second.last_seq;
}

inline const Eigen::MatrixXd& fed_aggregator::group_gram(std::string_view group) const {
  return group_at(group).gram;
}
inline const Eigen::VectorXd& fed_aggregator::group_moment(std::string_view group) const {
  return group_at(group).moment;
}
inline std::uint64_t fed_aggregator::group_count(std::string_view group) const {
  return group_at(group).count;
}
inline std::uint64_t fed_aggregator::group_version(std::string_view group) const {
  return group_at(group).version;
}
inline std::size_t fed_aggregator::group_size(std::string_view group) const {
  return group_at(group).members;
}

}  // namespace bandit
INCISION_END_NAMESPACE
