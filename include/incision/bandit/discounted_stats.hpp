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
  }

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

  /// @brief Discounts the past by gamma, adds (x, y), refills one prior coordinate. O(d^2).
  /// @throws invalid_argument for a bad sample (statistics unchanged).
  void observe(const Eigen::Ref<const vector_type>& x, double y) {
    ridge_.validate_sample(x, y);
    ridge_.scale(gamma_);
    ridge_.add(x, y);
    const auto j = static_cast<Eigen::Index>(next_);
    const double missing = ridge_.reg() - ridge_.prior()(j);
    if (missing > 0.0) ridge_.add_prior(next_, missing);
    next_ = (next_ + 1) % dim();
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
      : ridge_(std::move(ridge)), gamma_(gamma), next_(next) {}
  static void check_gamma(double gamma) {
    if (!(gamma > 0.0 && gamma <= 1.0))
      detail::throw_invalid("gamma must be in (0, 1], got " + std::to_string(gamma));
  }
  ridge_type ridge_;
  double gamma_;
  std::size_t next_ = 0;
};

static_assert(statistics_policy<discounted_stats<>>);
static_assert(statistics_policy<discounted_stats<7>>);

}  // namespace bandit
INCISION_END_NAMESPACE
