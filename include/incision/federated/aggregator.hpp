/// @file
/// @brief FedLinUCB-DW edge-side aggregator: pooled ridge statistics per device type (group).
///
/// CANS (Wu, Zhang, Lin, Xu, Liu, arXiv:2606.09175) groups devices of the same type and lets them
/// share feedback through the edge server. Only the abstract is public; the aggregation rule here
/// is ours (see docs/federated.md): the edge keeps, per group, the data part of the ridge statistics
/// G = sum w x x^T and g = sum w y x over every upload of every member, and serves them back. It
/// never adds a regulariser or any device's offline prior; each device adds its own.
///
/// The aggregator speaks only bytes (`fed_aggregator::handle`), so the same object serves devices
/// in the same process or behind any transport. Consistency rule shared with `fed_linucb_dw`: a
/// download includes every upload the group absorbed up to its version; a personal download also
/// names the recipient's last included upload (acked_seq), so a device never counts its data twice.
///
/// Nothing a device sends can break a group or grow the edge without bound: an upload is added
/// only if the group's Gram matrix G stays positive semi-definite (G + psd_slack I positive
/// definite, checked by a Cholesky factorisation) with every entry at most max_statistic and the
/// pooled count at most max_group_count; groups, devices, dimension, message size and the
/// storage estimate `fed_aggregator::memory_bytes` are capped by `fed_aggregator_options`,
/// checked before anything is allocated. A refusal is a reject reply and changes nothing.
///
/// Not thread-safe: one aggregator per thread, or external locking.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/error.hpp>
#include <incision/federated/messages.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace federated {

/// @brief Messages and bytes that crossed one side of the link.
struct fed_traffic {
  std::uint64_t messages_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_out = 0;
};

/// @brief Caps and tolerances of a @ref fed_aggregator. Memory is bounded by these, never by
/// what devices send; each cap is checked before the allocation it guards.
struct fed_aggregator_options {
  std::size_t max_groups = 1024;                  ///< groups (device types) kept
  std::size_t max_devices = 65536;                ///< registered devices
  std::uint32_t max_dim = 128;                    ///< feature dimension of a group, in [1, fed_max_dim]
  std::size_t max_message_bytes = 1U << 20;       ///< larger incoming messages are refused unread
  std::size_t memory_budget = 256U << 20;         ///< bound on memory_bytes() (groups and devices)
  std::uint64_t max_group_count = fed_max_count;  ///< observations one group may pool
  /// Every group's Gram G keeps G + psd_slack I positive definite, so a device whose prior
  /// (reg) exceeds psd_slack plus the rounding of its own factorisation installs every download.
  double psd_slack = 1e-3;
  /// Largest |entry| of a group's statistics. Bounds the rounding of the positive-definiteness
  /// check (about dim * 2^-52 * max_statistic), which must stay well below a device's prior.
  double max_statistic = 1e12;
};

/// @brief Edge-side aggregator of FedLinUCB-DW: one pooled statistic per device type.
///
/// @code{.cpp}
/// incision::federated::fed_aggregator edge;
/// auto reply = edge.handle(device.hello());   // registers, answers with the group's statistics
/// device.receive(reply);
/// @endcode
class fed_aggregator {
 public:
  /// @throws invalid_argument if an option is out of range (see @ref fed_aggregator_options).
  explicit fed_aggregator(const fed_aggregator_options& options = {});

  /// @brief Handles one message from a device and returns the reply.
  ///
  /// hello -> personal download of the group (registers the device; a repeated hello from a known
  /// device re-sends its state); upload -> ack (the statistics are added to the group). A message
  /// the edge refuses (unknown device, another group, wrong dimension or features, out-of-order
  /// upload, unsupported protocol, a kind the edge does not accept, statistics that would leave the
  /// group not positive semi-definite or out of bounds, a configured cap reached) gets a reject
  /// reply and changes nothing but the traffic counters.
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
  /// @brief Estimated bytes held for groups and devices (statistics, names, table nodes); never
  /// above options().memory_budget. Scratch buffers add at most about
  /// 3 * 8 * max_dim^2 + max_message_bytes more.
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return bytes_; }
  [[nodiscard]] const fed_aggregator_options& options() const noexcept { return options_; }
  /// @brief Estimated bytes of one group of dimension @p dim named by @p name_size bytes.
  [[nodiscard]] static constexpr std::size_t group_bytes(std::uint32_t dim, std::size_t name_size) noexcept {
    const std::size_t d = dim;
    return sizeof(std::string) + sizeof(group_state) + 4 * sizeof(void*) + name_size + 8 * (d * d + d);
  }
  /// @brief Estimated bytes of one registered device.
  [[nodiscard]] static constexpr std::size_t device_bytes() noexcept {
    return sizeof(std::uint64_t) + sizeof(device_state) + 3 * sizeof(void*);
  }
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
    double abs_bound = 0.0;  // upper bound on every |entry| of gram and moment
    double drift = 0.0;      // bound on eigenvalue rounding since gram was last checked
  };
  struct device_state {
    std::map<std::string, group_state, std::less<>>::iterator group;
    std::uint64_t last_seq = 0;
  };

  std::vector<std::byte> on_hello(const fed_hello& m);
  std::vector<std::byte> on_upload(incision::detail::byte_reader& r);
  std::vector<std::byte> reject(std::uint64_t device, std::uint64_t seq, fed_reject_code code, std::string_view text);
  std::vector<std::byte> personal_download(const device_state& dev, std::uint64_t device_id) const;
  static std::vector<std::byte> download_bytes(const std::string& name, const group_state& g, std::uint64_t recipient,
                                               std::uint64_t acked_seq);
  const group_state& group_at(std::string_view group) const;
  std::vector<std::byte> sent(std::vector<std::byte> bytes) {
    ++traffic_.messages_out;
    traffic_.bytes_out += bytes.size();
    return bytes;
  }

  fed_aggregator_options options_;
  std::size_t bytes_ = 0;
  std::map<std::string, group_state, std::less<>> groups_;
  std::unordered_map<std::uint64_t, device_state> devices_;
  fed_traffic traffic_;
  fed_upload scratch_;  // reused upload buffers (no allocation per upload at steady state)
  Eigen::MatrixXd scratch_gram_;
  Eigen::VectorXd scratch_moment_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
};

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

inline fed_aggregator::fed_aggregator(const fed_aggregator_options& options) : options_(options) {
  auto check = [](bool ok, const char* what) {
    if (!ok) INCISION_THROW(invalid_argument(incision::detail::message("federated", what)));
  };
  const auto& o = options_;
  check(o.max_groups >= 1, "fed_aggregator: max_groups must be >= 1");
  check(o.max_devices >= 1, "fed_aggregator: max_devices must be >= 1");
  check(o.max_dim >= 1 && o.max_dim <= fed_max_dim, "fed_aggregator: max_dim must be in [1, 1024]");
  check(o.max_message_bytes >= 64, "fed_aggregator: max_message_bytes must be >= 64");
  check(o.memory_budget >= 1, "fed_aggregator: memory_budget must be >= 1");
  check(o.max_group_count >= 1 && o.max_group_count <= fed_max_count,
        "fed_aggregator: max_group_count must be in [1, 2^53]");
  check(std::isfinite(o.psd_slack) && o.psd_slack > 0.0, "fed_aggregator: psd_slack must be finite and > 0");
  check(std::isfinite(o.max_statistic) && o.max_statistic > 0.0,
        "fed_aggregator: max_statistic must be finite and > 0");
}

inline std::vector<std::byte> fed_aggregator::handle(std::span<const std::byte> message) {
  if (message.size() > options_.max_message_bytes) {
    // Refused undecoded, nothing allocated for it; the envelope is still checked (bad bytes
    // throw as always) and an upload's reject names its device and sequence number, so the
    // device takes the upload back instead of waiting for an ack forever.
    const auto [kind, payload] = detail::fed_unseal(message);
    incision::detail::byte_reader head(payload, "FedLinUCB-DW message");
    std::uint64_t device = 0, seq = 0;
    if (kind == fed_kind::upload && payload.size() >= 18 && head.u16() == fed_protocol_version) {
      device = head.u64();
      seq = head.u64();
    }
    auto reply = reject(device, seq, fed_reject_code::limit_exceeded,
                        "message of " + std::to_string(message.size()) + " bytes is above max_message_bytes " +
                            std::to_string(options_.max_message_bytes));
    ++traffic_.messages_in;
    traffic_.bytes_in += message.size();
    return reply;
  }
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
    reply =
        reject(0, 0, fed_reject_code::unexpected_message,
               "the edge accepts hello and upload messages, not kind " + std::to_string(static_cast<unsigned>(kind)));
  }
  ++traffic_.messages_in;
  traffic_.bytes_in += message.size();
  return reply;
}

inline std::vector<std::byte> fed_aggregator::reject(std::uint64_t device, std::uint64_t seq, fed_reject_code code,
                                                     std::string_view text) {
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
      return reject(
          m.device_id, 0, fed_reject_code::wrong_group,
          "device " + std::to_string(m.device_id) + " belongs to group '" + g->first + "', not '" + m.group + "'");
    if (g->second.dim != m.dim)
      return reject(m.device_id, 0, fed_reject_code::dimension_mismatch,
                    "group '" + m.group + "' has dimension " + std::to_string(g->second.dim) + ", hello says " +
                        std::to_string(m.dim));
    if (g->second.feature_tag != m.feature_tag)
      return reject(
          m.device_id, 0, fed_reject_code::feature_mismatch,
          "device " + std::to_string(m.device_id) + " announces other arm features than group '" + m.group + "'");
    return sent(personal_download(it->second, m.device_id));  // reconnect: re-send the state
  }
  auto git = groups_.find(m.group);
  if (git != groups_.end()) {
    if (git->second.dim != m.dim)
      return reject(m.device_id, 0, fed_reject_code::dimension_mismatch,
                    "group '" + m.group + "' has dimension " + std::to_string(git->second.dim) + ", hello says " +
                        std::to_string(m.dim));
    if (git->second.feature_tag != m.feature_tag)
      return reject(
          m.device_id, 0, fed_reject_code::feature_mismatch,
          "device " + std::to_string(m.device_id) + " announces other arm features than group '" + m.group + "'");
  }
  // Caps first, before anything is allocated for this device or group.
  const bool new_group = git == groups_.end();
  if (new_group && m.dim > options_.max_dim)
    return reject(m.device_id, 0, fed_reject_code::limit_exceeded,
                  "dimension " + std::to_string(m.dim) + " is above max_dim " + std::to_string(options_.max_dim));
  if (new_group && groups_.size() >= options_.max_groups)
    return reject(m.device_id, 0, fed_reject_code::limit_exceeded,
                  "the edge already keeps max_groups = " + std::to_string(options_.max_groups) + " groups");
  if (devices_.size() >= options_.max_devices)
    return reject(m.device_id, 0, fed_reject_code::limit_exceeded,
                  "the edge already has max_devices = " + std::to_string(options_.max_devices) + " devices");
  const std::size_t cost = device_bytes() + (new_group ? group_bytes(m.dim, m.group.size()) : 0);
  if (cost > options_.memory_budget - bytes_)  // bytes_ <= budget always
    return reject(m.device_id, 0, fed_reject_code::limit_exceeded,
                  "registering would take the edge's storage above memory_budget = " +
                      std::to_string(options_.memory_budget) + " bytes");
  // Build the reply before the first visible change (a new group starts empty).
  std::vector<std::byte> reply;
  if (new_group) {
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
  bytes_ += cost;
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
                  "upload has dimension " + std::to_string(m.dim()) + ", group '" + dev.group->first + "' has " +
                      std::to_string(g.dim));
  if (m.seq != dev.last_seq + 1)
    return reject(m.device_id, m.seq, fed_reject_code::out_of_order,
                  "upload " + std::to_string(m.seq) + " from device " + std::to_string(m.device_id) + ", expected " +
                      std::to_string(dev.last_seq + 1));
  auto refuse = [&](const std::string& why) {
    return reject(
        m.device_id, m.seq, fed_reject_code::invalid_statistics,
        "upload " + std::to_string(m.seq) + " from device " + std::to_string(m.device_id) + " refused: " + why);
  };
  if (m.count > options_.max_group_count - g.count)
    return refuse("group '" + dev.group->first + "' would pool more than max_group_count = " +
                  std::to_string(options_.max_group_count) + " observations");
  std::vector<std::byte> reply = encode(fed_ack{m.device_id, m.seq, g.version + 1});
  const Eigen::Index d = static_cast<Eigen::Index>(g.dim);
  auto add_rows = [&](Eigen::MatrixXd& gram, Eigen::VectorXd& moment) {
    for (Eigen::Index k = 0; k < m.rows_x.rows(); ++k) {
      const double w = m.rows_w(k);
      // w * (x_i x_j) entry by entry: the group's matrix stays exactly symmetric.
      for (Eigen::Index j = 0; j < d; ++j) {
        const double xj = m.rows_x(k, j);
        for (Eigen::Index i = 0; i < d; ++i) gram(i, j) += w * (m.rows_x(k, i) * xj);
      }
      moment.noalias() += (w * m.rows_y(k)) * m.rows_x.row(k).transpose();
    }
  };
  // Rows are positive semi-definite by construction (weights >= 0), so only rounding can push
  // the Gram below zero: each rank-one sum moves its eigenvalues by at most about
  // 4 d eps (|entries| + contribution). While that drift stays within half the slack the rows are
  // added in place unchecked; dense uploads, and rows once the drift could matter, are summed
  // into scratch and checked by a Cholesky of G + (slack / 2) I before they replace the group's.
  double contrib = 0.0;
  if (m.as_rows) {
    for (Eigen::Index k = 0; k < m.rows_x.rows(); ++k) {
      const double xmax = m.rows_x.row(k).cwiseAbs().maxCoeff();
      contrib += m.rows_w(k) * std::max(xmax * xmax, std::abs(m.rows_y(k)) * xmax);
    }
  }
  const double half_slack = 0.5 * options_.psd_slack;
  const double drift = 4.0 * static_cast<double>(d) * std::numeric_limits<double>::epsilon() *
                       static_cast<double>(m.rows_x.rows()) * (g.abs_bound + contrib);
  if (m.as_rows && std::isfinite(contrib) && g.abs_bound + contrib <= options_.max_statistic &&
      g.drift + drift <= half_slack) {
    add_rows(g.gram, g.moment);
    g.abs_bound += contrib;
    g.drift += drift;
  } else {
    if (m.as_rows) {
      scratch_gram_ = g.gram;
      scratch_moment_ = g.moment;
      add_rows(scratch_gram_, scratch_moment_);
    } else {
      scratch_gram_ = g.gram + m.gram;
      scratch_moment_ = g.moment + m.moment;
    }
    if (!scratch_gram_.allFinite() || !scratch_moment_.allFinite())
      return refuse("adding it would overflow the group's statistics");
    const double bound = std::max(scratch_gram_.cwiseAbs().maxCoeff(), scratch_moment_.cwiseAbs().maxCoeff());
    if (bound > options_.max_statistic)
      return refuse("an entry of the group's statistics would reach " + std::to_string(bound) +
                    ", above max_statistic = " + std::to_string(options_.max_statistic));
    llt_.compute(scratch_gram_ + half_slack * Eigen::MatrixXd::Identity(d, d));
    if (llt_.info() != Eigen::Success)
      return refuse("the group's Gram matrix would not be positive semi-definite (G + " + std::to_string(half_slack) +
                    " I has no Cholesky factor)");
    g.gram.swap(scratch_gram_);
    g.moment.swap(scratch_moment_);
    g.abs_bound = bound;
    g.drift = 0.0;
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
    INCISION_THROW(
        out_of_range(incision::detail::message("federated", "fed_aggregator: no group '" + std::string(group) + "'")));
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

inline const Eigen::MatrixXd& fed_aggregator::group_gram(std::string_view group) const { return group_at(group).gram; }
inline const Eigen::VectorXd& fed_aggregator::group_moment(std::string_view group) const {
  return group_at(group).moment;
}
inline std::uint64_t fed_aggregator::group_count(std::string_view group) const { return group_at(group).count; }
inline std::uint64_t fed_aggregator::group_version(std::string_view group) const { return group_at(group).version; }
inline std::size_t fed_aggregator::group_size(std::string_view group) const { return group_at(group).members; }

}  // namespace federated
INCISION_END_NAMESPACE
