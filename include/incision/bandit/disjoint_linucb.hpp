/// @file
/// @brief Disjoint LinUCB: one ridge model per arm (Li et al., WWW 2010, Algorithm 1).
///
/// L. Li, W. Chu, J. Langford, R. E. Schapire, "A Contextual-Bandit Approach to Personalized
/// News Article Recommendation", WWW 2010. One context x per round, shared by all arms; arm k
/// keeps its own statistics (A_k, b_k). `select(x)` returns argmax_k x.theta_k +
/// alpha sqrt(x^T A_k^-1 x), ties to the lowest index; `update(k, x, r)` updates arm k only.
/// O(K d^2) per select, O(d^2) per update, no allocation.
#pragma once

#include <incision/bandit/concepts.hpp>
#include <incision/bandit/linucb.hpp>
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

/// @brief Disjoint LinUCB over a statistics policy (one copy per arm).
template <int Dim = Eigen::Dynamic, class Stats = ridge_stats<Dim>>
class disjoint_linucb {
  static_assert(statistics_policy<Stats>, "incision::bandit::disjoint_linucb: Stats must model statistics_policy");
  static_assert(Stats::dim_at_compile_time == Dim,
                "incision::bandit::disjoint_linucb: Stats must have the same compile-time dimension");

 public:
  using stats_type = Stats;
  using ridge_type = ridge_stats<Dim>;
  using vector_type = typename ridge_type::vector_type;
  static constexpr std::uint16_t snapshot_kind = 11;
  /// Most arms a decoder accepts.
  static constexpr std::uint32_t max_arms = 1U << 20;

  /// @throws invalid_argument if n_arms == 0, dim == 0, alpha < 0 or reg <= 0.
  disjoint_linucb(std::size_t n_arms, std::size_t dim, double alpha,
                  double reg = 1.0) requires std::constructible_from<Stats, std::size_t, double>
      : disjoint_linucb(n_arms, Stats(dim, reg), alpha) {}
  /// @brief Every arm starts as a copy of `prototype`.
  disjoint_linucb(std::size_t n_arms, const Stats& prototype, double alpha) : alpha_(alpha) {
    detail::check_alpha(alpha);
    if (n_arms == 0 || n_arms > max_arms) detail::throw_invalid("n_arms must be in [1, 2^20]");
    arms_.assign(n_arms, prototype);
    u_.setZero(static_cast<Eigen::Index>(prototype.dim()));
  }

  /// @brief argmax_k x.theta_k + alpha sqrt(x^T A_k^-1 x), lowest index on ties.
  /// @throws invalid_argument on a wrong length, non-finite x or a NaN score.
  template <class Derived>
  std::size_t select(const Eigen::MatrixBase<Derived>& x) const {
    check_context(x);
    const Eigen::Ref<const vector_type> xr(x);  // bound once, after the length check
    std::size_t best = 0;
    double best_score = 0.0;
    for (std::size_t k = 0; k < arms_.size(); ++k) {
      const double sc = score(k, xr);
      if (std::isnan(sc)) detail::throw_nan_score(k);
      if (k == 0 || sc > best_score) {
        best = k;
        best_score = sc;
      }
    }
    return best;
  }
  /// @brief The UCB score of every arm for context x.
  template <class Derived>
  void scores(const Eigen::MatrixBase<Derived>& x, Eigen::Ref<Eigen::VectorXd> out) const {
    check_context(x);
    if (static_cast<std::size_t>(out.size()) != arms_.size()) detail::throw_invalid("output has the wrong length");
    const Eigen::Ref<const vector_type> xr(x);
    for (std::size_t k = 0; k < arms_.size(); ++k) out(static_cast<Eigen::Index>(k)) = score(k, xr);
  }

  /// @throws out_of_range for an unknown arm; invalid_argument for a bad x or reward.
  template <class Derived>
  void update(std::size_t arm, const Eigen::MatrixBase<Derived>& x, double reward) {
    check_arm(arm);
    detail::check_length(x.size(), dim(), "context");  // before any fixed-size binding
    const Eigen::Ref<const vector_type> xr(x);         // bound once (a copy only if strided)
    arms_[arm].observe(xr, reward);
    arms_[arm].clear_journal();
  }

  [[nodiscard]] std::size_t n_arms() const noexcept { return arms_.size(); }
  [[nodiscard]] std::size_t dim() const noexcept { return arms_.front().dim(); }
  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  void set_alpha(double alpha) {
    detail::check_alpha(alpha);
    alpha_ = alpha;
  }
  [[nodiscard]] const ridge_type& stats(std::size_t arm) const {
    check_arm(arm);
    return arms_[arm].ridge();
  }
  void set_stats(std::size_t arm, const ridge_type& r) {
    check_arm(arm);
    arms_[arm].set_ridge(r);
    arms_[arm].clear_journal();
  }
  /// @brief Adds another learner's per-arm data statistics (same arms and dimension).
  void merge(const disjoint_linucb& other) {
    if (other.n_arms() != n_arms() || other.dim() != dim())
      detail::throw_invalid("cannot merge learners with different arms or dimension");
    std::vector<Stats> merged = arms_;  // strong guarantee
    for (std::size_t k = 0; k < arms_.size(); ++k) {
      merged[k].merge(other.arms_[k]);
      merged[k].clear_journal();
    }
    arms_ = std::move(merged);
  }

  [[nodiscard]] std::vector<std::byte> snapshot() const {
    incision::detail::byte_writer w;
    w.u8(Stats::policy_tag);
    w.f64(alpha_);
    w.u32(static_cast<std::uint32_t>(arms_.size()));
    for (const auto& a : arms_) a.encode(w);
    return incision::detail::seal(snapshot_kind, w.buffer());
  }
  static disjoint_linucb restore(std::span<const std::byte> bytes) {
    const auto payload = incision::detail::unseal(bytes, snapshot_kind, "disjoint_linucb snapshot");
    incision::detail::byte_reader r(payload, "disjoint_linucb snapshot");
    if (r.u8() != Stats::policy_tag) r.fail("statistics policy does not match this learner");
    const double alpha = r.f64();
    if (!(alpha >= 0.0) || !std::isfinite(alpha)) r.fail("alpha is not finite and >= 0");
    const std::uint32_t k = r.u32();
    if (k == 0 || k > max_arms || k > r.remaining() / 64) r.fail("arm count out of range");
    std::vector<Stats> arms;
    arms.reserve(k);
    for (std::uint32_t i = 0; i < k; ++i) {
      arms.push_back(Stats::decode(r));
      if (arms.back().dim() != arms.front().dim()) r.fail("arms have different dimensions");
    }
    r.expect_end();
    return disjoint_linucb(std::move(arms), alpha);
  }
  void save(const std::filesystem::path& path) const {
    const auto b = snapshot();
    incision::detail::write_file_atomic(path, b);
  }
  static disjoint_linucb load(const std::filesystem::path& path) {
    const auto b = incision::detail::read_file_bytes(path);
    return restore(b);
  }

 private:
  disjoint_linucb(std::vector<Stats> arms, double alpha) : arms_(std::move(arms)), alpha_(alpha) {
    u_.setZero(static_cast<Eigen::Index>(arms_.front().dim()));
  }
  void check_arm(std::size_t arm) const {
    if (arm >= arms_.size())
      detail::throw_range("arm " + std::to_string(arm) + " out of range (" + std::to_string(arms_.size()) + " arms)");
  }
  template <class Derived>
  void check_context(const Eigen::MatrixBase<Derived>& x) const {
    detail::check_length(x.size(), dim(), "context");
    if (!detail::all_finite(x)) detail::throw_invalid("context contains NaN or infinity");
  }
  double score(std::size_t k, const Eigen::Ref<const vector_type>& x) const {
    const ridge_type& r = arms_[k].ridge();
    u_.noalias() = r.inverse() * x;
    return x.dot(r.theta()) + alpha_ * std::sqrt(std::max(x.dot(u_), 0.0));
  }
  std::vector<Stats> arms_;
  double alpha_;
  mutable vector_type u_;
};

}  // namespace bandit
INCISION_END_NAMESPACE
