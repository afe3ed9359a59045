/// @file
/// @brief LinUCB with one shared parameter vector over arm contexts (Li et al., WWW 2010).
///
/// L. Li, W. Chu, J. Langford, R. E. Schapire, "A Contextual-Bandit Approach to Personalized
/// News Article Recommendation", WWW 2010 (the shared-parameter form: each arm is described by
/// its own context row, one theta is learned for all). Reward convention: `select` returns
/// argmax_k x_k.theta + alpha * sqrt(x_k^T A^-1 x_k), ties to the lowest index; `update(x, r)`
/// folds the chosen arm's context and its reward into the statistics policy (plain ridge,
/// discounted or sliding window), O(d^2) per update and O(K d^2) per select, no allocation.
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
#include <span>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace bandit {

namespace detail {
inline void check_alpha(double alpha) {
  if (!(alpha >= 0.0) || !std::isfinite(alpha))
    throw_invalid("alpha must be finite and >= 0, got " + std::to_string(alpha));
}
}  // namespace detail

/// @brief Shared-parameter LinUCB over a statistics policy.
/// @tparam Dim context dimension at compile time, or Eigen::Dynamic.
/// @tparam Stats a `statistics_policy` (ridge_stats, discounted_stats, window_stats).
template <int Dim = Eigen::Dynamic, class Stats = ridge_stats<Dim>>
class linucb {
  static_assert(statistics_policy<Stats>, "incision::bandit::linucb: Stats must model statistics_policy");
  static_assert(Stats::dim_at_compile_time == Dim,
                "incision::bandit::linucb: Stats must have the same compile-time dimension");

 public:
  using stats_type = Stats;
  using ridge_type = ridge_stats<Dim>;
  using vector_type = typename ridge_type::vector_type;
  static constexpr std::uint16_t snapshot_kind = 10;

  /// @throws invalid_argument if dim == 0, alpha < 0 or reg <= 0.
  linucb(std::size_t dim, double alpha, double reg = 1.0) requires std::constructible_from<Stats, std::size_t, double>
      : linucb(Stats(dim, reg), alpha) {}
  /// @brief Over a ready statistics policy (e.g. discounted_stats(d, reg, gamma)).
  linucb(Stats stats, double alpha) : stats_(std::move(stats)), alpha_(alpha) {
    detail::check_alpha(alpha);
    u_.setZero(static_cast<Eigen::Index>(stats_.dim()));
  }

  /// @brief The arm (row of X, K x d) maximising x.theta + alpha sqrt(x^T A^-1 x).
  /// @throws invalid_argument on a wrong shape, no rows, non-finite entries, or a NaN score
  /// (contexts so large that x.theta and the bonus overflow with opposite signs).
  template <class Derived>
  std::size_t select(const Eigen::MatrixBase<Derived>& X) const;
  /// @brief The UCB score of every row of X into `out` (size K).
  template <class Derived>
  void scores(const Eigen::MatrixBase<Derived>& X, Eigen::Ref<Eigen::VectorXd> out) const;

  /// @brief Folds the chosen context and its reward into the statistics.
  /// @throws invalid_argument on a wrong length or non-finite x or reward (unchanged).
  template <class Derived>
  void update(const Eigen::MatrixBase<Derived>& x, double reward) {
    detail::check_length(x.size(), dim(), "context");  // before any fixed-size binding
    const Eigen::Ref<const vector_type> xr(x);         // bound once (a copy only if strided)
    stats_.observe(xr, reward);
    stats_.clear_journal();
  }

  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  void set_alpha(double alpha) {
    detail::check_alpha(alpha);
    alpha_ = alpha;
  }
  [[nodiscard]] std::size_t dim() const noexcept { return stats_.dim(); }
  [[nodiscard]] const ridge_type& stats() const noexcept { return stats_.ridge(); }
  [[nodiscard]] const Stats& policy() const noexcept { return stats_; }
  /// @brief Replaces the statistics (warm start, federated sync).
  void set_stats(const ridge_type& r) {
    stats_.set_ridge(r);
    stats_.clear_journal();
  }
  /// @brief Adds another learner's data statistics to this one.
  void merge(const linucb& other) {
    stats_.merge(other.stats_);
    stats_.clear_journal();
  }

  [[nodiscard]] std::vector<std::byte> snapshot() const {
    incision::detail::byte_writer w;
    w.u8(Stats::policy_tag);
    w.f64(alpha_);
    stats_.encode(w);
    return incision::detail::seal(snapshot_kind, w.buffer());
  }
  static linucb restore(std::span<const std::byte> bytes) {
    const auto payload = incision::detail::unseal(bytes, snapshot_kind, "linucb snapshot");
    incision::detail::byte_reader r(payload, "linucb snapshot");
    if (r.u8() != Stats::policy_tag) r.fail("statistics policy does not match this learner");
    const double alpha = r.f64();
    if (!(alpha >= 0.0) || !std::isfinite(alpha)) r.fail("alpha is not finite and >= 0");
    Stats s = Stats::decode(r);
    r.expect_end();
    return linucb(std::move(s), alpha);
  }
  void save(const std::filesystem::path& path) const {
    const auto b = snapshot();
    incision::detail::write_file_atomic(path, b);
  }
  static linucb load(const std::filesystem::path& path) {
    const auto b = incision::detail::read_file_bytes(path);
    return restore(b);
  }

 private:
  template <class Derived>
  void check_contexts(const Eigen::MatrixBase<Derived>& X) const {
    if (static_cast<std::size_t>(X.cols()) != dim() || X.rows() < 1)
      detail::throw_invalid("contexts have shape (" + std::to_string(X.rows()) + ", " + std::to_string(X.cols()) +
                            "), expected (K >= 1, " + std::to_string(dim()) + ")");
    if (!detail::all_finite(X)) detail::throw_invalid("contexts contain NaN or infinity");
  }
  Stats stats_;
  double alpha_;
  mutable vector_type u_;  // scratch: A^-1 x
};

template <int Dim, class Stats>
template <class Derived>
std::size_t linucb<Dim, Stats>::select(const Eigen::MatrixBase<Derived>& X) const {
  check_contexts(X);
  const ridge_type& r = stats_.ridge();
  std::size_t best = 0;
  double best_score = 0.0;
  for (Eigen::Index k = 0; k < X.rows(); ++k) {
    u_.noalias() = r.inverse() * X.row(k).transpose();
    const double q = X.row(k).dot(u_.transpose());
    const double sc = X.row(k).dot(r.theta().transpose()) + alpha_ * std::sqrt(std::max(q, 0.0));
    if (std::isnan(sc)) detail::throw_nan_score(static_cast<std::size_t>(k));
    if (k == 0 || sc > best_score) {
      best = static_cast<std::size_t>(k);
      best_score = sc;
    }
  }
  return best;
}

template <int Dim, class Stats>
template <class Derived>
void linucb<Dim, Stats>::scores(const Eigen::MatrixBase<Derived>& X, Eigen::Ref<Eigen::VectorXd> out) const {
  check_contexts(X);
  if (out.size() != X.rows()) detail::throw_invalid("output has the wrong length");
  const ridge_type& r = stats_.ridge();
  for (Eigen::Index k = 0; k < X.rows(); ++k) {
    u_.noalias() = r.inverse() * X.row(k).transpose();
    out(k) = X.row(k).dot(r.theta().transpose()) + alpha_ * std::sqrt(std::max(X.row(k).dot(u_.transpose()), 0.0));
  }
}

}  // namespace bandit
INCISION_END_NAMESPACE
