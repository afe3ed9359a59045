/// @file
/// @brief Discounted ridge statistics (D-LinUCB weights), O(d^2) per observation.
///
/// Y. Russac, C. Vernade, O. Cappe, "Weighted Linear Bandits for Non-Stationary Environments",
/// NeurIPS 2019 (D-LinUCB). Each observation first discounts the past by gamma, then adds the
/// new sample: A_t = gamma A_{t-1} + x x^T + (prior refill), b_t = gamma b_{t-1} + y x, so a
/// sample s steps old weighs gamma^s.
///
/// Keeping A^-1 current in O(d^2): discounting multiplies A^-1 by 1/gamma exactly, the sample is
/// a Sherman-Morrison rank-one update, but the paper's (1 - gamma) reg I refill of the prior is
/// full rank. We refill one coordinate per step instead, in round robin: coordinate j = t mod d
/// gets its prior entry topped back up to reg (a rank-one update along e_j). So the prior
/// stays diagonal with every entry in [reg * gamma^(d-1), reg] (within gamma^(d-1) of reg*I,
/// e.g. 0.94 reg for gamma = 0.99 and d = 7) instead of exactly reg*I: a named deviation that
/// keeps the cost at O(d^2) and the statistics exact for their own definition. Because
/// discounting amplifies rounding error, the Cholesky refresh runs every
/// `stable_refresh_period(gamma)` observations (see there).
///
/// Small gamma: with one refill per step the prior would fall to reg * gamma^(d-1) (1e-48 reg
/// for gamma = 1e-8, d = 7), so A stops being numerically positive definite and, below about
/// gamma = 1e-20, A^-1 overflows. So the refill runs on as many coordinates per step as keep
/// every prior entry >= `min_prior_fraction` * reg (`refills_per_step`: 1 for the usual gamma
/// and d, all d coordinates when gamma < 1e-3): discounting then worsens the conditioning of A
/// by at most 1 / min_prior_fraction against undiscounted statistics of the same samples, for
/// any gamma in (0, 1]. Each observation is one transaction on the ridge statistics (see
/// ridge_stats::discount_observe), so a rejected one changes nothing.
#pragma once

#include <incision/bandit/concepts.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

INCISION_BEGIN_NAMESPACE
namespace bandit {

/// @brief Statistics policy that forgets geometrically: weight gamma^age per sample.
template <int Dim = Eigen::Dynamic>
class discounted_stats {
 public:
  static constexpr int dim_at_compile_time = Dim;
  static constexpr std::uint8_t policy_tag = 1;
  using ridge_type = ridge_stats<Dim>;
  using vector_type = typename ridge_type::vector_type;
  using matrix_type = typename ridge_type::matrix_type;

  /// @throws invalid_argument if dim == 0, reg <= 0 or gamma outside (0, 1].
  discounted_stats(std::size_t dim, double reg, double gamma) : ridge_(dim, reg), gamma_(gamma) {
    check_gamma(gamma);
    ridge_.set_refresh_period(stable_refresh_period(gamma));
    refills_ = refills_per_step(gamma, dim);
  }

  /// Lowest prior entry, as a fraction of reg, that the refill keeps (see the file comment).
  static constexpr double min_prior_fraction = 1e-3;

  /// @brief Prior coordinates refilled per observation: the fewest m such that each entry,
  /// refilled every ceil(d / m) steps, stays >= min_prior_fraction * reg between refills.
  static std::size_t refills_per_step(double gamma, std::size_t dim) noexcept {
    if (!(gamma < 1.0) || dim == 0) return 1;
    // Steps an entry may go unrefilled: gamma^(c - 1) >= min_prior_fraction.
    const double c = 1.0 + std::floor(std::log(min_prior_fraction) / std::log(gamma));
    if (!(c < static_cast<double>(dim))) return 1;
    const auto cycle = static_cast<std::size_t>(std::max(1.0, c));
    return (dim + cycle - 1) / cycle;
  }
  [[nodiscard]] std::size_t refills() const noexcept { return refills_; }

  /// @brief The Cholesky refresh period used for a discount factor.
  ///
  /// Discounting multiplies A^-1 (and any rounding error it carries) by 1/gamma per step,
  /// while a rank-one update only contracts the error along the new context: measured on
  /// random streams, the error of the incremental inverse grows like gamma^-t (1e-9 to 1e-3
  /// in 500 steps at gamma = 0.97). Refreshing every ln(1e4) / ln(1/gamma) steps (about
  /// 9.2 / (1 - gamma)) bounds the amplification by 1e4, at an amortised O(d^3 (1 - gamma) / 9)
  /// per step.
  static std::uint64_t stable_refresh_period(double gamma) noexcept {
    if (!(gamma < 1.0)) return ridge_type::default_refresh_period;
    const double n = std::floor(std::log(1e4) / -std::log(gamma));
    if (!(n >= 1.0)) return 1;
    return std::min<std::uint64_t>(ridge_type::default_refresh_period, static_cast<std::uint64_t>(n));
  }

  [[nodiscard]] std::size_t dim() const noexcept { return ridge_.dim(); }
  [[nodiscard]] double gamma() const noexcept { return gamma_; }
  [[nodiscard]] const ridge_type& ridge() const noexcept { return ridge_; }

  /// @brief Discounts the past by gamma, adds (x, y), refills `refills()` prior coordinates.
  /// O(d^2 refills()).
  /// @throws invalid_argument for a bad sample or a rejected result (statistics unchanged).
  template <class Derived>
  void observe(const Eigen::MatrixBase<Derived>& x, double y) {
    ridge_.discount_observe(gamma_, x, y, next_, refills_);
    next_ = (next_ + refills_) % dim();
  }

  /// @brief Replaces the statistics (federated sync, warm start); keeps gamma and the refill
  /// position.
  void set_ridge(const ridge_type& r) { ridge_.set_ridge(r); }
  /// @brief Adds the other's data part (its already discounted A - P, b).
  void merge(const discounted_stats& other) { ridge_.merge(other.ridge_); }
  void clear_journal() noexcept { ridge_.clear_journal(); }

  void encode(incision::detail::byte_writer& w) const {
    w.f64(gamma_);
    w.u64(next_);
    ridge_.encode(w);
  }
  static discounted_stats decode(incision::detail::byte_reader& r) {
    const double gamma = r.f64();
    const std::uint64_t next = r.u64();
    if (!(gamma > 0.0 && gamma <= 1.0)) r.fail("discount factor outside (0, 1]");
    ridge_type ridge = ridge_type::decode(r);
    if (next >= ridge.dim()) r.fail("refill position out of range");
    return discounted_stats(std::move(ridge), gamma, static_cast<std::size_t>(next));
  }

 private:
  discounted_stats(ridge_type ridge, double gamma, std::size_t next)
      : ridge_(std::move(ridge)), gamma_(gamma), next_(next), refills_(refills_per_step(gamma, ridge_.dim())) {}
  static void check_gamma(double gamma) {
    if (!(gamma > 0.0 && gamma <= 1.0)) detail::throw_invalid("gamma must be in (0, 1], got " + std::to_string(gamma));
  }
  ridge_type ridge_;
  double gamma_;
  std::size_t next_ = 0;
  std::size_t refills_ = 1;
};

static_assert(statistics_policy<discounted_stats<>>);
static_assert(statistics_policy<discounted_stats<7>>);

}  // namespace bandit
INCISION_END_NAMESPACE
