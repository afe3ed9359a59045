/// @file
/// @brief FedLinUCB-DW device-side learner: muLinUCB on the group's pooled statistics, a bounded
/// warm start from offline experience, and an O(d^2) log-det upload trigger.
///
/// Z. Wu, Z. Zhang, C. Lin, Z. Xu, J. Liu, "CANS: Accelerating Multiuser Collaborative Edge Inference
/// via Cooperative Autodidactic NeuroSurgeon", arXiv:2606.09175, 2026. The abstract states what
/// FedLinUCB-DW does (devices of one type share feedback; exploration is warm-started from each
/// device's offline early-exit experience; a regret bound). Everything below the abstract is our
/// design, documented in docs/federated.md:
///
/// - Acting: a `mu_linucb` (ANS, Zhang, Chen, Xu, WWW 2021; forced sampling and key-frame
///   weighting kept) whose statistics are
///   A = P + G + w_off * sum_offline x x^T + (own data not yet in G),  b likewise,
///   where P is the learner's prior (reg*I), G/g the group's pooled data from the last download.
/// - Warm start: offline rows (arm, measured offloading delay) enter with weight
///   w_off = warm_weight * min(1, warm_max_rows / n_rows), warm_weight in [0, 1], so the offline
///   prior weighs at most warm_weight * warm_max_rows observations and online data outweighs it.
///   Offline data stays a local prior and is never uploaded: one device's bad offline data cannot
///   poison its group.
///   The prior fades with online data (factor h / (h + n_online), h = warm_half_life), applied at
///   each download and whenever the factor has dropped by a fifth (O(log n) refreshes in all).
/// - Upload trigger (DisLinUCB-style): upload when
///   (ln det A_now - ln det A_at_last_sync) * n_buffer >= upload_threshold;
///   ln det A is kept in O(d^2) per observation by the matrix-determinant lemma
///   (ln det(A + w x x^T) = ln det A + ln(1 + w x^T A^-1 x)), never recomputed in O(d^3).
///   A threshold of 0 uploads every offloading observation.
/// - Consistency: at most one upload in flight; a download includes it when it acknowledges the
///   upload's sequence number (personal download) or its version reaches the version in the
///   upload's ack (broadcast). Until then the in-flight data stays in the local statistics, so no
///   observation is ever counted twice or dropped (assuming the transport keeps each device's
///   messages in order, as TCP does).
#pragma once

#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/config.hpp>
#include <incision/detail/reserve.hpp>
#include <incision/error.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/messages.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace federated {

/// @brief Hyperparameters of @ref fed_linucb_dw.
struct fed_linucb_dw_options {
  bandit::mu_linucb_options learner{};  ///< the muLinUCB underneath (defaults: the official code's)
  double upload_threshold = 1.0;        ///< log-det ratio x buffered observations to trigger (>= 0)
  double warm_weight = 0.5;             ///< weight of each offline row, in [0, 1] (0 = no warm start)
  double warm_max_rows = 50.0;          ///< the offline prior weighs at most warm_weight * this (> 0)
  /// The offline prior fades as online data arrives: its weight is multiplied by
  /// h / (h + n_online), n_online = observations pooled by the group plus the device's own not yet
  /// pooled. Infinity keeps it forever. A wrong prior can otherwise keep the learner away from
  /// the arms it misjudges (forced sampling only visits the arm that looks best).
  double warm_half_life = 200.0;
};

/// @brief What a received message did.
enum class fed_event : std::uint8_t {
  download_applied,  ///< group statistics installed
  stale_download,    ///< a download older than the one installed; ignored
  acked,             ///< the in-flight upload was added to the group
  rejected,          ///< the edge refused a message (see last_reject())
};

/// @brief FedLinUCB-DW device-side learner (CANS): cooperative muLinUCB for one device.
/// @tparam Dim context dimension at compile time or Eigen::Dynamic.
///
/// @code{.cpp}
/// fed_aggregator edge;
/// fed_linucb_dw<> dev(1, "vgg16", contexts, front_delay);
/// dev.receive(edge.handle(dev.hello()));
/// for (;;) {
///   auto arm = dev.select(key_frame);
///   dev.update(arm, measured_offload_delay);
///   if (dev.wants_upload()) {
///     dev.receive(edge.handle(dev.make_upload()));    // ack
///     dev.receive(edge.download_for(dev.device_id()));  // fresh group statistics
///   }
/// }
/// @endcode
template <int Dim = Eigen::Dynamic>
class fed_linucb_dw {
 public:
  using learner_type = bandit::mu_linucb<Dim>;
  using ridge_type = bandit::ridge_stats<Dim>;
  using vector_type = typename ridge_type::vector_type;
  using matrix_type = typename ridge_type::matrix_type;

  /// @brief A device of type `group` over the given arms (see `mu_linucb` for the arm model).
  /// @throws invalid_argument on device id 0, a bad group name, bad arms or bad options.
  fed_linucb_dw(std::uint64_t device_id, std::string group,
                const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>>& contexts,
                const Eigen::Ref<const Eigen::VectorXd>& front_delay, const fed_linucb_dw_options& options = {});

  /// @brief Installs the offline experience as a bounded local prior (replaces any earlier one).
  /// @param arms offloading arms that were measured offline.
  /// @param delays the offloading delay measured for each (seconds, finite; a noisy measurement
  /// may be negative, as in update).
  /// @throws out_of_range for an unknown arm; invalid_argument for an on-device arm, sizes that
  /// differ or a bad delay. The learner is unchanged on throw.
  void warm_start(std::span<const std::size_t> arms, std::span<const double> delays);

  /// @brief The registration message for the edge.
  [[nodiscard]] std::vector<std::byte> hello();

  /// @brief Next frame's cut (see `mu_linucb::select`).
  std::size_t select(bool key_frame) { return learner_.select(key_frame); }
  /// @brief Next frame's cut with an explicit key-frame weight L in [0, 1).
  std::size_t select_weighted(double L) { return learner_.select_weighted(L); }
  /// @brief Feeds back the offloading delay observed for `arm`; buffers it for upload.
  /// @throws out_of_range for an unknown arm; invalid_argument for a delay that is not finite
  /// (as @ref warm_start). Nothing changes on throw.
  void update(std::size_t arm, double offload_delay);

  /// @brief (ln det A - ln det A_at_last_sync) * buffered observations.
  [[nodiscard]] double upload_score() const noexcept {
    return (learner_.stats().log_det() - log_det_sync_) * static_cast<double>(buffer_count_);
  }
  /// @brief Registered, no upload in flight, data buffered, and the trigger fired.
  [[nodiscard]] bool wants_upload() const noexcept {
    return registered_ && !inflight_ && buffer_count_ > 0 && upload_score() >= options_.upload_threshold;
  }
  /// @brief Packs the buffered observations into an upload (rows or dense, whichever is smaller)
  /// and marks it in flight.
  /// @throws invalid_argument if nothing is buffered or an upload is already in flight.
  [[nodiscard]] std::vector<std::byte> make_upload();

  /// @brief Applies a message from the edge (download, ack or reject).
  /// @throws parse_error on bytes that are not a FedLinUCB-DW message; invalid_argument on a
  /// download of another group or dimension, or a message addressed to another device, or a
  /// hello/upload. Nothing changes on throw.
  fed_event receive(std::span<const std::byte> message);

  [[nodiscard]] std::uint64_t device_id() const noexcept { return id_; }
  [[nodiscard]] const std::string& group() const noexcept { return group_; }
  [[nodiscard]] const learner_type& learner() const noexcept { return learner_; }
  [[nodiscard]] const ridge_type& stats() const noexcept { return learner_.stats(); }
  [[nodiscard]] const fed_linucb_dw_options& options() const noexcept { return options_; }
  [[nodiscard]] std::size_t n_arms() const noexcept { return learner_.n_arms(); }
  [[nodiscard]] std::size_t dim() const noexcept { return learner_.dim(); }
  /// @brief Fingerprint of the scaled arm features, announced in hello.
  [[nodiscard]] std::uint64_t feature_tag() const noexcept { return feature_tag_; }
  [[nodiscard]] bool registered() const noexcept { return registered_; }
  [[nodiscard]] bool upload_in_flight() const noexcept { return inflight_.has_value(); }
  [[nodiscard]] std::uint64_t buffered() const noexcept { return buffer_count_; }
  /// @brief Group version and pooled observation count of the installed download.
  [[nodiscard]] std::uint64_t sync_version() const noexcept { return sync_version_; }
  [[nodiscard]] std::uint64_t sync_count() const noexcept { return sync_count_; }
  /// @brief Uploads made (acknowledged or not).
  [[nodiscard]] std::uint64_t n_uploads() const noexcept { return n_uploads_; }
  /// @brief Weight of the offline prior now (sum of row weights times the fading factor).
  [[nodiscard]] double warm_mass() const noexcept { return warm_mass_ * warm_factor_; }
  /// @brief Fading factor h / (h + n_online) of the offline prior for the data known now.
  [[nodiscard]] double warm_fade() const noexcept {
    if (std::isinf(options_.warm_half_life)) return 1.0;
    return options_.warm_half_life / (options_.warm_half_life + static_cast<double>(n_online()));
  }
  /// @brief Observations the device's statistics hold: pooled by the group plus own not pooled.
  [[nodiscard]] std::uint64_t n_online() const noexcept {
    return sync_count_ + buffer_count_ + (inflight_ ? inflight_->count : 0);
  }
  /// @brief Traffic seen by the device.
  [[nodiscard]] const fed_traffic& traffic() const noexcept { return traffic_; }
  /// @brief The last reject received, if any.
  [[nodiscard]] const std::optional<fed_reject>& last_reject() const noexcept { return last_reject_; }

 private:
  struct pending {
    std::uint64_t seq = 0;
    std::uint64_t count = 0;
    Eigen::MatrixXd gram;
    Eigen::VectorXd moment;
    std::optional<std::uint64_t> ack_version;
  };

  static void fail(const std::string& what) {
    INCISION_THROW(invalid_argument(incision::detail::message("federated", what)));
  }
  static void add_rank_one(Eigen::MatrixXd& g, Eigen::VectorXd& m, const Eigen::VectorXd& x, double y,
                           double w) noexcept;
  /// A = P + sync + f * warm + inflight + buffer, installed into the learner. With
  /// `reset_trigger` the log-det baseline becomes the new statistics (a synchronisation);
  /// otherwise it moves by the same amount, so the score keeps counting the buffered data.
  void rebuild(const Eigen::MatrixXd& sync_gram, const Eigen::VectorXd& sync_moment, const Eigen::MatrixXd& warm_gram,
               const Eigen::VectorXd& warm_moment, double warm_factor, const std::optional<pending>& inflight,
               std::uint64_t sync_count, bool reset_trigger);
  std::vector<std::byte> counted_out(std::vector<std::byte> b) {
    ++traffic_.messages_out;
    traffic_.bytes_out += b.size();
    return b;
  }

  std::uint64_t id_;
  std::string group_;
  fed_linucb_dw_options options_;
  learner_type learner_;
  std::uint64_t feature_tag_ = 0;
  Eigen::VectorXd prior_;  // the learner's prior diagonal at construction

  bool registered_ = false;
  Eigen::MatrixXd sync_gram_;
  Eigen::VectorXd sync_moment_;
  std::uint64_t sync_version_ = 0;
  std::uint64_t sync_count_ = 0;
  bool has_sync_ = false;

  Eigen::MatrixXd warm_gram_;  // offline rows at full (undecayed) weight
  Eigen::VectorXd warm_moment_;
  double warm_mass_ = 0.0;    // sum of offline row weights, before fading
  double warm_factor_ = 1.0;  // fading factor installed in the learner's statistics

  Eigen::MatrixXd buffer_gram_;
  Eigen::VectorXd buffer_moment_;
  std::uint64_t buffer_count_ = 0;
  std::vector<std::size_t> buffer_arms_;  // kept while rows are the smaller encoding
  std::vector<double> buffer_y_;
  bool rows_ok_ = true;  // buffer_arms_/buffer_y_ hold every buffered observation

  std::optional<pending> inflight_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t n_uploads_ = 0;
  double log_det_sync_ = 0.0;
  fed_traffic traffic_;
  std::optional<fed_reject> last_reject_;
};

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

template <int Dim>
fed_linucb_dw<Dim>::fed_linucb_dw(
    std::uint64_t device_id, std::string group,
    const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>>& contexts,
    const Eigen::Ref<const Eigen::VectorXd>& front_delay, const fed_linucb_dw_options& options)
    : id_(device_id), group_(std::move(group)), options_(options), learner_(contexts, front_delay, options.learner) {
  if (id_ == 0) fail("fed_linucb_dw: device id 0 is reserved");
  if (group_.empty() || group_.size() > fed_max_group_length)
    fail("fed_linucb_dw: group name must have 1 to 256 bytes");
  if (!(options_.upload_threshold >= 0.0) || std::isnan(options_.upload_threshold))
    fail("fed_linucb_dw: upload_threshold must be >= 0");
  if (!(options_.warm_weight >= 0.0 && options_.warm_weight <= 1.0))
    fail("fed_linucb_dw: warm_weight must be in [0, 1]");
  if (!(options_.warm_max_rows > 0.0) || !std::isfinite(options_.warm_max_rows))
    fail("fed_linucb_dw: warm_max_rows must be finite and > 0");
  if (!(options_.warm_half_life > 0.0)) fail("fed_linucb_dw: warm_half_life must be > 0");
  if (learner_.dim() > fed_max_dim) fail("fed_linucb_dw: dimension above 1024");
  const auto d = static_cast<Eigen::Index>(learner_.dim());
  prior_ = learner_.stats().prior();
  // FNV-1a over the scaled feature bit patterns: devices of one type must share a feature space.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xFFU;
      h *= 1099511628211ULL;
    }
  };
  mix(learner_.n_arms());
  mix(static_cast<std::uint64_t>(d));
  for (std::size_t a = 0; a < learner_.n_arms(); ++a) {
    const vector_type x = learner_.scaled_context(a);
    for (Eigen::Index j = 0; j < d; ++j) mix(std::bit_cast<std::uint64_t>(x(j)));
  }
  feature_tag_ = h;
  sync_gram_ = Eigen::MatrixXd::Zero(d, d);
  sync_moment_ = Eigen::VectorXd::Zero(d);
  warm_gram_ = Eigen::MatrixXd::Zero(d, d);
  warm_moment_ = Eigen::VectorXd::Zero(d);
  buffer_gram_ = Eigen::MatrixXd::Zero(d, d);
  buffer_moment_ = Eigen::VectorXd::Zero(d);
  log_det_sync_ = learner_.stats().log_det();
}

template <int Dim>
void fed_linucb_dw<Dim>::add_rank_one(Eigen::MatrixXd& g, Eigen::VectorXd& m, const Eigen::VectorXd& x, double y,
                                      double w) noexcept {
  // w * (x_i x_j), entry by entry: exactly symmetric, so sums stay symmetric bit for bit.
  const Eigen::Index d = x.size();
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = 0; i < d; ++i) g(i, j) += w * (x(i) * x(j));
  m += (w * y) * x;
}

template <int Dim>
void fed_linucb_dw<Dim>::warm_start(std::span<const std::size_t> arms, std::span<const double> delays) {
  if (arms.size() != delays.size())
    fail("fed_linucb_dw::warm_start: " + std::to_string(arms.size()) + " arms but " + std::to_string(delays.size()) +
         " delays");
  for (std::size_t k = 0; k < arms.size(); ++k) {
    if (learner_.is_local_arm(arms[k]))  // throws out_of_range for an unknown arm
      fail("fed_linucb_dw::warm_start: arm " + std::to_string(arms[k]) +
           " runs on the device and has no offloading delay");
    // Finite, of any sign, as update() and mu_linucb take them: a noisy observation of a small
    // delay may be negative, and refusing (or clipping) it would bias the regression.
    if (!std::isfinite(delays[k]))
      fail("fed_linucb_dw::warm_start: delay " + std::to_string(k) + " is NaN or infinite");
  }
  const auto d = static_cast<Eigen::Index>(learner_.dim());
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd m = Eigen::VectorXd::Zero(d);
  const double n = static_cast<double>(arms.size());
  const double w = arms.empty() ? 0.0 : options_.warm_weight * std::min(1.0, options_.warm_max_rows / n);
  if (w > 0.0)
    for (std::size_t k = 0; k < arms.size(); ++k) {
      const Eigen::VectorXd x = learner_.scaled_context(arms[k]);
      add_rank_one(g, m, x, delays[k], w);
    }
  rebuild(sync_gram_, sync_moment_, g, m, warm_fade(), inflight_, sync_count_, false);
  warm_gram_.swap(g);
  warm_moment_.swap(m);
  warm_mass_ = w * n;
}

template <int Dim>
std::vector<std::byte> fed_linucb_dw<Dim>::hello() {
  fed_hello m;
  m.device_id = id_;
  m.group = group_;
  m.dim = static_cast<std::uint32_t>(learner_.dim());
  m.feature_tag = feature_tag_;
  return counted_out(encode(m));
}

template <int Dim>
void fed_linucb_dw<Dim>::update(std::size_t arm, double offload_delay) {
  const bool local = learner_.is_local_arm(arm);  // throws out_of_range first
  if (!local) {
    incision::detail::reserve_one_more(buffer_arms_);  // may throw before any change
    incision::detail::reserve_one_more(buffer_y_);
  }
  learner_.update(arm, offload_delay);
  if (local) return;
  const Eigen::VectorXd x = learner_.scaled_context(arm);
  add_rank_one(buffer_gram_, buffer_moment_, x, offload_delay, 1.0);
  ++buffer_count_;
  if (rows_ok_ && fed_rows_are_smaller(buffer_count_, learner_.dim())) {
    buffer_arms_.push_back(arm);
    buffer_y_.push_back(offload_delay);
  } else {
    rows_ok_ = false;
    buffer_arms_.clear();
    buffer_y_.clear();
  }
  // Fade the offline prior geometrically: a refresh each time its factor drops by a fifth.
  // (A >= P > 0 always; the rebuild can only fail if the statistics overflow.)
  if (warm_mass_ > 0.0 && warm_fade() < 0.8 * warm_factor_)
    rebuild(sync_gram_, sync_moment_, warm_gram_, warm_moment_, warm_fade(), inflight_, sync_count_, false);
}

template <int Dim>
std::vector<std::byte> fed_linucb_dw<Dim>::make_upload() {
  if (inflight_) fail("fed_linucb_dw::make_upload: an upload is already in flight");
  if (buffer_count_ == 0) fail("fed_linucb_dw::make_upload: no observation buffered");
  fed_upload u;
  u.device_id = id_;
  u.seq = next_seq_;
  u.count = buffer_count_;
  if (rows_ok_ && buffer_arms_.size() == buffer_count_) {
    const auto n = static_cast<Eigen::Index>(buffer_count_);
    const auto d = static_cast<Eigen::Index>(learner_.dim());
    u.as_rows = true;
    u.rows_x.resize(n, d);
    u.rows_y.resize(n);
    u.rows_w = Eigen::VectorXd::Ones(n);
    for (Eigen::Index k = 0; k < n; ++k) {
      u.rows_x.row(k) = learner_.scaled_context(buffer_arms_[static_cast<std::size_t>(k)]).transpose();
      u.rows_y(k) = buffer_y_[static_cast<std::size_t>(k)];
    }
  } else {
    u.gram = buffer_gram_;
    u.moment = buffer_moment_;
  }
  auto bytes = encode(u);
  pending p;
  p.seq = next_seq_;
  p.count = buffer_count_;
  p.gram = buffer_gram_;
  p.moment = buffer_moment_;
  inflight_ = std::move(p);  // no throw below
  ++next_seq_;
  ++n_uploads_;
  buffer_gram_.setZero();
  buffer_moment_.setZero();
  buffer_count_ = 0;
  buffer_arms_.clear();
  buffer_y_.clear();
  rows_ok_ = true;
  log_det_sync_ = learner_.stats().log_det();
  return counted_out(std::move(bytes));
}

template <int Dim>
void fed_linucb_dw<Dim>::rebuild(const Eigen::MatrixXd& sync_gram, const Eigen::VectorXd& sync_moment,
                                 const Eigen::MatrixXd& warm_gram, const Eigen::VectorXd& warm_moment,
                                 double warm_factor, const std::optional<pending>& inflight, std::uint64_t sync_count,
                                 bool reset_trigger) {
  Eigen::MatrixXd g = sync_gram + warm_factor * warm_gram + buffer_gram_;
  Eigen::VectorXd m = sync_moment + warm_factor * warm_moment + buffer_moment_;
  std::uint64_t n = sync_count + buffer_count_;
  if (inflight) {
    g += inflight->gram;
    m += inflight->moment;
    n += inflight->count;
  }
  ridge_type s(prior_);
  s.add_statistics(g, m, n);  // throws invalid_argument (nothing changed) if not usable
  const double old_log_det = learner_.stats().log_det();
  learner_.set_stats(s);
  if (reset_trigger)
    log_det_sync_ = learner_.stats().log_det();
  else
    log_det_sync_ += learner_.stats().log_det() - old_log_det;
  warm_factor_ = warm_factor;
}

template <int Dim>
fed_event fed_linucb_dw<Dim>::receive(std::span<const std::byte> message) {
  fed_message msg = decode_fed_message(message);
  fed_event ev = fed_event::rejected;
  if (auto* d = std::get_if<fed_download>(&msg)) {
    if (d->group != group_)
      fail("fed_linucb_dw::receive: download of group '" + d->group + "' sent to a device of group '" + group_ + "'");
    if (d->dim() != learner_.dim())
      fail("fed_linucb_dw::receive: download has dimension " + std::to_string(d->dim()) + ", device has " +
           std::to_string(learner_.dim()));
    if (d->recipient != 0 && d->recipient != id_)
      fail("fed_linucb_dw::receive: download addressed to device " + std::to_string(d->recipient));
    // An older version is stale, except the answer to a hello (not registered): after an edge
    // restart the group starts again at version 0.
    const bool answers_hello = d->recipient == id_ && !registered_;
    if (has_sync_ && d->version < sync_version_ && !answers_hello) {
      ev = fed_event::stale_download;
    } else {
      std::optional<pending> inflight = inflight_;
      if (inflight && ((d->recipient == id_ && d->acked_seq >= inflight->seq) ||
                       (inflight->ack_version && d->version >= *inflight->ack_version)))
        inflight.reset();
      const std::uint64_t online = d->count + buffer_count_ + (inflight ? inflight->count : 0);
      const double fade = std::isinf(options_.warm_half_life)
                              ? 1.0
                              : options_.warm_half_life / (options_.warm_half_life + static_cast<double>(online));
      rebuild(d->gram, d->moment, warm_gram_, warm_moment_, fade, inflight, d->count, true);
      sync_count_ = d->count;
      // Commit (no throw below).
      inflight_ = std::move(inflight);
      sync_gram_.swap(d->gram);
      sync_moment_.swap(d->moment);
      sync_version_ = d->version;
      has_sync_ = true;
      if (d->recipient == id_) {
        registered_ = true;
        if (!inflight_) next_seq_ = d->acked_seq + 1;  // resume the edge's numbering (reconnects)
      }
      ev = fed_event::download_applied;
    }
  } else if (auto* a = std::get_if<fed_ack>(&msg)) {
    if (a->device_id != id_) fail("fed_linucb_dw::receive: ack addressed to device " + std::to_string(a->device_id));
    if (inflight_ && inflight_->seq == a->seq) inflight_->ack_version = a->version;
    ev = fed_event::acked;
  } else if (auto* r = std::get_if<fed_reject>(&msg)) {
    if (r->device_id != 0 && r->device_id != id_)
      fail("fed_linucb_dw::receive: reject addressed to device " + std::to_string(r->device_id));
    if (inflight_ && r->seq == inflight_->seq) {
      // The edge did not take the upload: fold it back so it is retried with the same number.
      buffer_gram_ += inflight_->gram;
      buffer_moment_ += inflight_->moment;
      buffer_count_ += inflight_->count;
      buffer_arms_.clear();  // the retry goes dense
      buffer_y_.clear();
      rows_ok_ = false;
      next_seq_ = inflight_->seq;
      inflight_.reset();
    }
    if (r->code == fed_reject_code::unknown_device || r->code == fed_reject_code::wrong_group ||
        r->code == fed_reject_code::dimension_mismatch || r->code == fed_reject_code::feature_mismatch ||
        r->code == fed_reject_code::protocol_version)
      registered_ = false;
    last_reject_ = std::move(*r);
    ev = fed_event::rejected;
  } else {
    fail("fed_linucb_dw::receive: devices accept download, ack and reject messages, not hello or upload");
  }
  ++traffic_.messages_in;
  traffic_.bytes_in += message.size();
  return ev;
}

}  // namespace federated
INCISION_END_NAMESPACE
