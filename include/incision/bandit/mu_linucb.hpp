/// @file
/// @brief muLinUCB: online learning of the DNN cut (ANS, Zhang, Chen, Xu, WWW 2021).
///
/// L. Zhang, L. Chen, J. Xu, "Autodidactic Neurosurgeon: Collaborative Deep Inference for Mobile
/// Edge Intelligence via Online Learning", The Web Conference (WWW) 2021, arXiv:2102.02638.
///
/// Arms are partition points. Each has a known front-end (on-device) delay f_p and a static
/// context x_p describing the server-side part; the offloading delay is learned as x_p.theta.
/// Per frame: est_p = x_p.theta - alpha(T) * sqrt((1 - L) x_p^T A^-1 x_p) + f_p (a lower
/// confidence bound on the delay), choose argmin (lowest index on ties); every ceil(T^mu) frames
/// the choice is restricted to offloading arms (forced sampling) with a doubling horizon T
/// starting at T0; the all-on-device arm (zero context) yields no feedback. This follows the
/// official loop (muLinUCB.py + client_camera_main.py) frame for frame, with two named
/// deviations: a reg*I prior instead of the random diagonal diag(randint(1, 9)), and per-column
/// feature scaling (each context column divided by its largest magnitude over the arms, so
/// columns are O(1); C_x = max_p ||scaled x_p||^2, still squared inside alpha(T) as the official
/// code does). Both can be turned off (`feature_scaling::none`, `set_stats` with a diagonal prior).
#pragma once

#include <incision/bandit/concepts.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/config.hpp>
#include <incision/detail/atomic_file.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/error.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace bandit {

/// @brief How contexts are scaled before they enter the statistics.
enum class feature_scaling : std::uint8_t {
  none,        ///< raw contexts (the official code; ill-conditioned with raw MAC counts)
  column_max,  ///< each column divided by its largest |value| over the arms (1 if all zero)
};

/// @brief Hyperparameters of @ref mu_linucb; defaults are the official code's values.
struct mu_linucb_options {
  double reg = 1.0;  ///< prior A = reg*I (deviation: official is a random diagonal)
  feature_scaling scaling = feature_scaling::column_max;  ///< deviation, see the file comment
  double mu = 0.25;                                       ///< forced-sampling exponent: period ceil(T^mu)
  std::uint64_t initial_horizon = 200;                    ///< T0 of the doubling trick
  double delta = 0.1;                                     ///< confidence parameter in alpha(T)
  double c_noise = 0.05;                                  ///< noise scale in alpha(T)
  double c_theta = 1.0;                                   ///< parameter-norm bound in alpha(T)
  double l_key = 0.8;                                     ///< key-frame weight L
  double l_nonkey = 0.2;                                  ///< non-key-frame weight L
  std::optional<double> alpha{};                          ///< fixed exploration scale instead of alpha(T) (>= 0)
  bool forced_sampling = true;                            ///< forced sampling of offloading arms every ceil(T^mu)
  bool arm_cache = true;                                  ///< keep x.theta and x^T A^-1 x per arm current in O(K d)
};

/// @brief muLinUCB (ANS) over a statistics policy (plain ridge by default, or a forgetting one).
/// @tparam Dim context dimension at compile time (7 for the ANS tables) or Eigen::Dynamic.
/// @tparam Stats a `statistics_policy` over ridge_stats<Dim>.
template <int Dim = Eigen::Dynamic, class Stats = ridge_stats<Dim>>
class mu_linucb {
  static_assert(statistics_policy<Stats>,
                "incision::bandit::mu_linucb: Stats must model statistics_policy (ridge(), "
                "observe(x, y), set_ridge(r), encode/decode)");
  static_assert(Stats::dim_at_compile_time == Dim,
                "incision::bandit::mu_linucb: Stats must have the same compile-time dimension");

 public:
  using stats_type = Stats;
  using ridge_type = ridge_stats<Dim>;
  using vector_type = typename ridge_type::vector_type;
  using matrix_type = typename ridge_type::matrix_type;
  using context_matrix = Eigen::Matrix<double, Eigen::Dynamic, Dim>;  // K x d, one row per arm

  /// Snapshot kind in the envelope (bandit range 1-99).
  static constexpr std::uint16_t snapshot_kind = 12;

  /// @brief A learner with prior reg*I over the given arms.
  /// @param contexts K x d, one row per arm; an all-zero row is an all-on-device arm.
  /// @param front_delay K known front-end delays (seconds, finite, >= 0).
  /// @throws invalid_argument on bad shapes, non-finite values or bad options.
  mu_linucb(const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>>& contexts,
            const Eigen::Ref<const Eigen::VectorXd>& front_delay,
            const mu_linucb_options& options = {}) requires std::constructible_from<Stats, std::size_t, double>
      : mu_linucb(contexts, front_delay, Stats(checked_cols(contexts), checked_reg(options.reg)), options) {}

  /// @brief A learner over a ready statistics policy (e.g. discounted_stats(d, reg, gamma)).
  mu_linucb(const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>>& contexts,
            const Eigen::Ref<const Eigen::VectorXd>& front_delay, Stats stats, const mu_linucb_options& options);

  /// @brief Next frame: advances the schedule and returns the cut (L = l_key or l_nonkey).
  std::size_t select(bool key_frame) { return select_weighted(key_frame ? options_.l_key : options_.l_nonkey); }
  /// @brief Next frame with an explicit key-frame weight L in [0, 1).
  /// @throws invalid_argument if L is outside [0, 1) or an estimate is NaN (schedule unchanged).
  std::size_t select_weighted(double L);

  /// @brief Feeds back the offloading delay observed for `arm` (ignored for on-device arms).
  /// @throws out_of_range for an unknown arm; invalid_argument for a non-finite delay.
  void update(std::size_t arm, double offload_delay);

  /// @brief The current estimates est_p for weight L, without advancing the schedule.
  [[nodiscard]] Eigen::VectorXd estimates(double L) const;
  /// @brief The exploration scale currently in force (alpha(T) or the fixed option).
  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  /// @brief Whether the last select was a forced sample.
  [[nodiscard]] bool last_forced() const noexcept { return last_forced_; }
  /// @brief Frame counter inside the current doubling epoch, the horizon T, the period.
  [[nodiscard]] std::uint64_t epoch_frame() const noexcept { return frame_; }
  [[nodiscard]] std::uint64_t horizon() const noexcept { return horizon_; }
  [[nodiscard]] std::uint64_t forced_period() const noexcept { return period_; }
  [[nodiscard]] std::uint64_t n_frames() const noexcept { return total_frames_; }
  [[nodiscard]] double c_x() const noexcept { return c_x_; }

  [[nodiscard]] const ridge_type& stats() const noexcept { return stats_.ridge(); }
  [[nodiscard]] const Stats& policy() const noexcept { return stats_; }
  /// @brief Replaces the learned statistics (federated sync, warm start); keeps the schedule.
  /// @throws invalid_argument if the dimension differs.
  void set_stats(const ridge_type& stats);

  /// @brief Adds another learner's data statistics (same dimension; contexts should be the
  /// same arms so the feature scaling agrees).
  /// @throws invalid_argument if the dimension or the feature scale differs.
  void merge(const mu_linucb& other) {
    if (other.dim() != dim() || other.scale_ != scale_)
      detail::throw_invalid("cannot merge learners with different dimension or feature scale");
    Stats merged = stats_;
    merged.merge(other.stats_);
    stats_ = std::move(merged);
    full_cache();
  }

  /// @brief The context of `arm` in the feature space the statistics live in (scaled).
  [[nodiscard]] vector_type scaled_context(std::size_t arm) const {
    check_arm(arm);
    return xs_.col(static_cast<Eigen::Index>(arm));
  }
  /// @brief The per-column scale s (scaled x = x / s).
  [[nodiscard]] const vector_type& feature_scale() const noexcept { return scale_; }
  [[nodiscard]] bool is_local_arm(std::size_t arm) const {
    check_arm(arm);
    return local_[arm] != 0;
  }
  [[nodiscard]] std::size_t n_arms() const noexcept { return static_cast<std::size_t>(front_.size()); }
  [[nodiscard]] std::size_t dim() const noexcept { return static_cast<std::size_t>(xs_.rows()); }
  [[nodiscard]] const mu_linucb_options& options() const noexcept { return options_; }
  [[nodiscard]] const context_matrix& contexts() const noexcept { return raw_; }
  [[nodiscard]] const Eigen::VectorXd& front_delay() const noexcept { return front_; }

  /// @brief The full learner state as a sealed, versioned, checksummed byte string.
  [[nodiscard]] std::vector<std::byte> snapshot() const;
  /// @brief Rebuilds a learner from `snapshot()` bytes. Derived state (A^-1, theta, log det A,
  /// the per-arm caches) is recomputed from A and b, never read back.
  /// @throws parse_error on any truncation, corruption or mismatch.
  static mu_linucb restore(std::span<const std::byte> bytes);
  /// @brief Writes the snapshot to `path` atomically (temporary + rename).
  void save(const std::filesystem::path& path) const {
    const auto bytes = snapshot();
    incision::detail::write_file_atomic(path, bytes);
  }
  /// @brief Reads a learner saved by `save`.
  static mu_linucb load(const std::filesystem::path& path) {
    const auto bytes = incision::detail::read_file_bytes(path);
    return restore(bytes);
  }

 private:
  static std::size_t checked_cols(const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>>& c) {
    detail::check_dim(static_cast<std::size_t>(c.cols()), Dim);
    return static_cast<std::size_t>(c.cols());
  }
  static double checked_reg(double reg) {
    detail::check_reg(reg);
    return reg;
  }
  static void check_options(const mu_linucb_options& o);
  void check_arm(std::size_t arm) const {
    if (arm >= n_arms())
      detail::throw_range("arm " + std::to_string(arm) + " out of range (" + std::to_string(n_arms()) + " arms)");
  }
  void recompute_schedule_constants();
  void cache_of(const ridge_type& r, Eigen::VectorXd& m, Eigen::VectorXd& q,
                Eigen::Matrix<double, Dim, Eigen::Dynamic>& tmp) const;
  void full_cache();
  void sync_cache();
  double score(Eigen::Index k, double bonus_scale) const;

  context_matrix raw_;
  Eigen::Matrix<double, Dim, Eigen::Dynamic> xs_;  // d x K scaled contexts, one column per arm
  Eigen::VectorXd front_;
  std::vector<std::uint8_t> local_;
  bool has_offload_ = false;
  vector_type scale_;
  double c_x_ = 0.0;
  mu_linucb_options options_;
  Stats stats_;
  std::uint64_t frame_ = 0;
  std::uint64_t horizon_ = 200;
  std::uint64_t period_ = 1;
  std::uint64_t total_frames_ = 0;
  double alpha_ = 0.0;
  bool last_forced_ = false;
  // Per-arm caches: m_k = x_k.theta, q_k = x_k^T A^-1 x_k, and scratch.
  Eigen::VectorXd m_;
  Eigen::VectorXd q_;
  Eigen::VectorXd s_;
  Eigen::Matrix<double, Dim, Eigen::Dynamic> tmp_;
};

// ------------------------------------------------------------------------------------------
// Definitions
// ------------------------------------------------------------------------------------------

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::check_options(const mu_linucb_options& o) {
  detail::check_reg(o.reg);
  if (!(o.mu >= 0.0 && o.mu <= 1.0)) detail::throw_invalid("mu must be in [0, 1]");
  if (o.initial_horizon == 0 || o.initial_horizon > (std::uint64_t{1} << 40))
    detail::throw_invalid("initial_horizon must be in [1, 2^40]");
  if (!(o.delta > 0.0 && o.delta < 1.0)) detail::throw_invalid("delta must be in (0, 1)");
  if (!(o.c_noise >= 0.0) || !std::isfinite(o.c_noise)) detail::throw_invalid("c_noise must be finite and >= 0");
  if (!(o.c_theta >= 0.0) || !std::isfinite(o.c_theta)) detail::throw_invalid("c_theta must be finite and >= 0");
  if (!(o.l_key >= 0.0 && o.l_key < 1.0)) detail::throw_invalid("l_key must be in [0, 1)");
  if (!(o.l_nonkey >= 0.0 && o.l_nonkey < 1.0)) detail::throw_invalid("l_nonkey must be in [0, 1)");
  if (o.alpha && (!(*o.alpha >= 0.0) || !std::isfinite(*o.alpha)))
    detail::throw_invalid("alpha must be finite and >= 0, got " + std::to_string(*o.alpha));
  if (o.scaling != feature_scaling::none && o.scaling != feature_scaling::column_max)
    detail::throw_invalid("unknown feature scaling");
}

template <int Dim, class Stats>
mu_linucb<Dim, Stats>::mu_linucb(
    const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>>& contexts,
    const Eigen::Ref<const Eigen::VectorXd>& front_delay, Stats stats, const mu_linucb_options& options)
    : options_(options), stats_(std::move(stats)) {
  const std::size_t d = checked_cols(contexts);
  check_options(options);
  if (contexts.rows() < 1) detail::throw_invalid("contexts must have at least one arm (row)");
  if (front_delay.size() != contexts.rows())
    detail::throw_invalid("front_delay has " + std::to_string(front_delay.size()) + " entries, expected one per arm (" +
                          std::to_string(contexts.rows()) + ")");
  if (!detail::all_finite(contexts)) detail::throw_invalid("contexts contain NaN or infinity");
  if (!detail::all_finite(front_delay) || front_delay.minCoeff() < 0.0)
    detail::throw_invalid("front_delay must be finite and >= 0");
  if (stats_.dim() != d)
    detail::throw_invalid("statistics have dimension " + std::to_string(stats_.dim()) + ", contexts have " +
                          std::to_string(d));
  const auto k = contexts.rows();
  const auto n = static_cast<Eigen::Index>(d);
  raw_ = contexts;
  front_ = front_delay;
  scale_.setOnes(n);
  if (options.scaling == feature_scaling::column_max) {
    for (Eigen::Index j = 0; j < n; ++j) {
      const double mx = raw_.col(j).cwiseAbs().maxCoeff();
      scale_(j) = mx > 0.0 ? mx : 1.0;
    }
  }
  xs_.resize(n, k);
  for (Eigen::Index a = 0; a < k; ++a) xs_.col(a) = raw_.row(a).transpose().cwiseQuotient(scale_);
  local_.assign(static_cast<std::size_t>(k), 0);
  c_x_ = 0.0;
  for (Eigen::Index a = 0; a < k; ++a) {
    const bool zero = (raw_.row(a).array() == 0.0).all();
    local_[static_cast<std::size_t>(a)] = zero ? 1 : 0;
    if (!zero) has_offload_ = true;
    c_x_ = std::max(c_x_, xs_.col(a).squaredNorm());
  }
  horizon_ = options.initial_horizon;
  recompute_schedule_constants();
  m_.setZero(k);
  q_.setZero(k);
  s_.setZero(k);
  tmp_.setZero(n, k);
  full_cache();
}

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::recompute_schedule_constants() {
  const double t = static_cast<double>(horizon_);
  if (options_.alpha) {
    alpha_ = *options_.alpha;
  } else {
    // Official: (C_theta + sqrt(ln((1 + T C_x^2) / delta) * d) * C_noise) / (1 - L_key).
    alpha_ =
        (options_.c_theta + std::sqrt(std::log((1.0 + t * c_x_ * c_x_) / options_.delta) * static_cast<double>(dim())) *
                                options_.c_noise) /
        (1.0 - options_.l_key);
  }
  period_ = static_cast<std::uint64_t>(std::ceil(std::pow(t, options_.mu)));
  if (period_ == 0) period_ = 1;
}

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::cache_of(const ridge_type& r, Eigen::VectorXd& m, Eigen::VectorXd& q,
                                     Eigen::Matrix<double, Dim, Eigen::Dynamic>& tmp) const {
  m.noalias() = xs_.transpose() * r.theta();
  tmp.noalias() = r.inverse() * xs_;
  for (Eigen::Index k = 0; k < q.size(); ++k) q(k) = xs_.col(k).dot(tmp.col(k));
}

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::full_cache() {
  cache_of(stats_.ridge(), m_, q_, tmp_);
  stats_.clear_journal();
}

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::sync_cache() {
  const ridge_type& r = stats_.ridge();
  if (!options_.arm_cache) {
    stats_.clear_journal();
    return;
  }
  if (r.journal_reset()) {
    full_cache();
    return;
  }
  for (std::size_t i = 0; i < r.journal_size(); ++i) {
    const auto& c = r.journal_entry(i);
    if (c.kind == detail::stats_change::scale) {
      q_ *= 1.0 / c.factor;
    } else {
      s_.noalias() = xs_.transpose() * r.journal_direction(i);
      q_.array() -= c.gain * s_.array().square();
      m_.noalias() += c.step * s_;
    }
  }
  stats_.clear_journal();
}

template <int Dim, class Stats>
double mu_linucb<Dim, Stats>::score(Eigen::Index k, double bonus_scale) const {
  if (local_[static_cast<std::size_t>(k)] != 0) return front_(k);
  double m = 0.0;
  double q = 0.0;
  if (options_.arm_cache) {
    m = m_(k);
    q = q_(k);
  } else {
    const ridge_type& r = stats_.ridge();
    m = xs_.col(k).dot(r.theta());
    q = xs_.col(k).dot(r.inverse() * xs_.col(k));
  }
  return m - bonus_scale * std::sqrt(std::max(q, 0.0)) + front_(k);
}

template <int Dim, class Stats>
Eigen::VectorXd mu_linucb<Dim, Stats>::estimates(double L) const {
  if (!(L >= 0.0 && L < 1.0)) detail::throw_invalid("key-frame weight L must be in [0, 1)");
  const double bonus = alpha_ * std::sqrt(1.0 - L);
  Eigen::VectorXd e(front_.size());
  for (Eigen::Index k = 0; k < e.size(); ++k) e(k) = score(k, bonus);
  return e;
}

template <int Dim, class Stats>
std::size_t mu_linucb<Dim, Stats>::select_weighted(double L) {
  if (!(L >= 0.0 && L < 1.0)) detail::throw_invalid("key-frame weight L must be in [0, 1), got " + std::to_string(L));
  // Doubling trick exactly as the official loop: count, and on passing T double T and restart
  // the epoch count at 0 (statistics are kept).
  const std::uint64_t old_total = total_frames_;
  const std::uint64_t old_frame = frame_;
  const std::uint64_t old_horizon = horizon_;
  const bool old_forced = last_forced_;
  ++total_frames_;
  ++frame_;
  if (frame_ > horizon_) {
    horizon_ *= 2;
    recompute_schedule_constants();
    frame_ = 0;
  }
  last_forced_ = options_.forced_sampling && has_offload_ && (frame_ % period_ == 0);
  const double bonus = alpha_ * std::sqrt(1.0 - L);
  std::size_t best = n_arms();
  double best_score = std::numeric_limits<double>::infinity();
  const auto k = front_.size();
  for (Eigen::Index a = 0; a < k; ++a) {
    if (last_forced_ && local_[static_cast<std::size_t>(a)] != 0) continue;
    const double sc = score(a, bonus);
    if (std::isnan(sc)) {  // never pick an arm by accident: restore the schedule and report
      total_frames_ = old_total;
      frame_ = old_frame;
      if (horizon_ != old_horizon) {
        horizon_ = old_horizon;
        recompute_schedule_constants();
      }
      last_forced_ = old_forced;
      detail::throw_nan_score(static_cast<std::size_t>(a));
    }
    if (best == n_arms() || sc < best_score) {
      best = static_cast<std::size_t>(a);
      best_score = sc;
    }
  }
  return best;
}

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::update(std::size_t arm, double offload_delay) {
  check_arm(arm);
  if (!std::isfinite(offload_delay)) detail::throw_invalid("offload delay is NaN or infinite");
  if (local_[arm] != 0) return;  // the all-on-device arm gives no offloading feedback
  stats_.observe(xs_.col(static_cast<Eigen::Index>(arm)), offload_delay);
  sync_cache();
}

template <int Dim, class Stats>
void mu_linucb<Dim, Stats>::set_stats(const ridge_type& stats) {
  stats_.set_ridge(stats);
  full_cache();
}

template <int Dim, class Stats>
std::vector<std::byte> mu_linucb<Dim, Stats>::snapshot() const {
  incision::detail::byte_writer w;
  w.u8(Stats::policy_tag);
  w.u32(static_cast<std::uint32_t>(n_arms()));
  w.u32(static_cast<std::uint32_t>(dim()));
  for (Eigen::Index a = 0; a < raw_.rows(); ++a)
    for (Eigen::Index j = 0; j < raw_.cols(); ++j) w.f64(raw_(a, j));
  w.f64s({front_.data(), n_arms()});
  w.f64(options_.reg);
  w.u8(static_cast<std::uint8_t>(options_.scaling));
  w.f64(options_.mu);
  w.u64(options_.initial_horizon);
  w.f64(options_.delta);
  w.f64(options_.c_noise);
  w.f64(options_.c_theta);
  w.f64(options_.l_key);
  w.f64(options_.l_nonkey);
  w.u8(options_.alpha ? 1 : 0);
  w.f64(options_.alpha ? *options_.alpha : 0.0);
  w.u8(options_.forced_sampling ? 1 : 0);
  w.u8(options_.arm_cache ? 1 : 0);
  w.u64(frame_);
  w.u64(horizon_);
  w.u64(total_frames_);
  w.u8(last_forced_ ? 1 : 0);
  // The arm caches as restore recomputes them: from the refreshed statistics (see
  // ridge_stats::encode), so a restored learner re-snapshots to the same bytes.
  ridge_type r = stats_.ridge();
  (void)r.refresh();  // a failure keeps the incremental values; restore then rejects A anyway
  Eigen::VectorXd m(m_.size());
  Eigen::VectorXd q(q_.size());
  Eigen::Matrix<double, Dim, Eigen::Dynamic> tmp(xs_.rows(), xs_.cols());
  cache_of(r, m, q, tmp);
  w.f64s({m.data(), n_arms()});
  w.f64s({q.data(), n_arms()});
  stats_.encode(w);
  return incision::detail::seal(snapshot_kind, w.buffer());
}

template <int Dim, class Stats>
mu_linucb<Dim, Stats> mu_linucb<Dim, Stats>::restore(std::span<const std::byte> bytes) {
  const auto payload = incision::detail::unseal(bytes, snapshot_kind, "mu_linucb snapshot");
  incision::detail::byte_reader r(payload, "mu_linucb snapshot");
  const std::uint8_t tag = r.u8();
  if (tag != Stats::policy_tag)
    r.fail("statistics policy tag " + std::to_string(tag) + " does not match this learner's " +
           std::to_string(Stats::policy_tag));
  const std::uint32_t k = r.u32();
  const std::uint32_t d = r.u32();
  if (k == 0 || d == 0 || d > detail::max_decoded_dim) r.fail("bad arm count or dimension");
  if (Dim != Eigen::Dynamic && d != static_cast<std::uint32_t>(Dim))
    r.fail("dimension " + std::to_string(d) + " does not match the compile-time dimension");
  if (static_cast<std::uint64_t>(k) * (d + 3) > r.remaining() / 8) r.fail("truncated contexts");
  Eigen::MatrixXd ctx(k, d);
  for (Eigen::Index a = 0; a < ctx.rows(); ++a)
    for (Eigen::Index j = 0; j < ctx.cols(); ++j) ctx(a, j) = r.f64();
  Eigen::VectorXd front(k);
  r.f64s({front.data(), k});
  mu_linucb_options o;
  o.reg = r.f64();
  const std::uint8_t sc = r.u8();
  if (sc > 1) r.fail("unknown feature scaling " + std::to_string(sc));
  o.scaling = static_cast<feature_scaling>(sc);
  o.mu = r.f64();
  o.initial_horizon = r.u64();
  o.delta = r.f64();
  o.c_noise = r.f64();
  o.c_theta = r.f64();
  o.l_key = r.f64();
  o.l_nonkey = r.f64();
  const std::uint8_t has_alpha = r.u8();
  const double alpha = r.f64();
  if (has_alpha > 1) r.fail("bad alpha flag");
  if (has_alpha != 0) o.alpha = alpha;
  const std::uint8_t forced = r.u8();
  const std::uint8_t cache = r.u8();
  if (forced > 1 || cache > 1) r.fail("bad flag");
  o.forced_sampling = forced != 0;
  o.arm_cache = cache != 0;
  const std::uint64_t frame = r.u64();
  const std::uint64_t horizon = r.u64();
  const std::uint64_t total = r.u64();
  const std::uint8_t last_forced = r.u8();
  if (last_forced > 1) r.fail("bad flag");
  Eigen::VectorXd m(k);
  Eigen::VectorXd q(k);
  r.f64s({m.data(), k});
  r.f64s({q.data(), k});
  Stats stats = Stats::decode(r);
  r.expect_end();
  if (!detail::all_finite(m) || !detail::all_finite(q)) r.fail("non-finite arm cache");
  if (horizon < o.initial_horizon || horizon > (std::uint64_t{1} << 62) || frame > horizon)
    r.fail("inconsistent frame schedule");
  const auto build = [&]() {
    mu_linucb out(ctx, front, std::move(stats), o);
    // Reproduce the schedule state; recompute T-dependent constants bit-exactly.
    out.frame_ = frame;
    out.horizon_ = horizon;
    out.total_frames_ = total;
    out.last_forced_ = last_forced != 0;
    out.recompute_schedule_constants();
    // The arm caches were recomputed by the constructor from the (recomputed) statistics; the
    // stored ones are derived state and are not trusted.
    return out;
  };
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
  try {
    return build();
  } catch (const incision::invalid_argument& e) {
    r.fail(std::string("invalid learner: ") + e.what());
  }
#else
  return build();
#endif
}

}  // namespace bandit
INCISION_END_NAMESPACE
