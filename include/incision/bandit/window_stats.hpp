/// @file
/// @brief Sliding-window ridge statistics, O(d^2) per observation.
///
/// The statistics of the last W samples only (the sliding-window idea of SW-LinUCB, Cheung,
/// Simchi-Levi, Zhu, AISTATS 2019): each observation adds the new sample (Sherman-Morrison
/// update) and, once W samples are held, removes the oldest one (Sherman-Morrison downdate).
/// Downdates lose accuracy faster than updates, so the ridge statistics' periodic Cholesky
/// refresh (every `refresh_period()` updates, default 1024) keeps A^-1 exact; a numerically
/// doubtful downdate triggers an immediate refresh. Samples are kept in a ring buffer of W x d
/// doubles, allocated whole by the constructor, so observing never allocates; a restored window
/// allocates only the samples its snapshot holds (a snapshot cannot make the reader allocate
/// more than its own size suggests) and its ring grows geometrically until the window is full.
#pragma once

#include <incision/bandit/concepts.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

INCISION_BEGIN_NAMESPACE
namespace bandit {

/// @brief Statistics policy over the last `window` observations.
template <int Dim = Eigen::Dynamic>
class window_stats {
 public:
  static constexpr int dim_at_compile_time = Dim;
  static constexpr std::uint8_t policy_tag = 2;
  using ridge_type = ridge_stats<Dim>;
  using vector_type = typename ridge_type::vector_type;
  using matrix_type = typename ridge_type::matrix_type;

  /// Largest ring buffer, in doubles (window * (dim + 1)): 128 MiB.
  static constexpr std::uint64_t max_doubles = std::uint64_t{1} << 24;

  /// @throws invalid_argument if dim == 0, reg <= 0 or window < 1.
  window_stats(std::size_t dim, double reg, std::size_t window) : ridge_(dim, reg) {
    if (window < 1) detail::throw_invalid("window must be >= 1, got " + std::to_string(window));
    if (window > max_doubles / (dim + 1))
      detail::throw_invalid("window " + std::to_string(window) + " is too large for dimension " + std::to_string(dim));
    window_ = window;
    allocate(window);
  }

  [[nodiscard]] std::size_t dim() const noexcept { return ridge_.dim(); }
  [[nodiscard]] std::size_t window() const noexcept { return window_; }
  /// @brief Slots allocated for samples (the window once it has filled; a restored window
  /// starts with only the samples its snapshot held).
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(ys_.size()); }
  /// @brief Samples currently in the window.
  [[nodiscard]] std::size_t held() const noexcept { return count_; }
  [[nodiscard]] const ridge_type& ridge() const noexcept { return ridge_; }

  /// @brief Adds (x, y); once the window is full, removes the oldest sample. O(d^2).
  /// @throws invalid_argument for a bad sample (statistics unchanged).
  template <class Derived>
  void observe(const Eigen::MatrixBase<Derived>& x, double y) {
    ridge_.validate_sample(x, y);
    if (count_ == window()) {
      const auto slot = static_cast<Eigen::Index>(head_);
      ridge_.replace(x, y, xs_.col(slot), ys_(slot));
    } else {
      if (count_ == capacity()) grow();  // may throw bad_alloc: nothing changed yet
      ridge_.add(x, y);
      ++count_;
    }
    const auto slot = static_cast<Eigen::Index>(head_);
    xs_.col(slot) = x;
    ys_(slot) = y;
    head_ = (head_ + 1) % window();
  }

  /// @brief Replaces the statistics; the window is emptied, so the imported statistics stay
  /// (they are never downdated) and new samples slide over them.
  void set_ridge(const ridge_type& r) {
    ridge_.set_ridge(r);
    count_ = 0;
    head_ = 0;
  }
  /// @brief Adds the other's data part; it never leaves the window (as after `set_ridge`).
  void merge(const window_stats& other) { ridge_.merge(other.ridge_); }
  void clear_journal() noexcept { ridge_.clear_journal(); }

  void encode(incision::detail::byte_writer& w) const {
    ridge_.encode(w);
    w.u64(window());
    w.u64(count_);
    // Only the held samples, oldest first.
    for (std::size_t i = 0; i < count_; ++i) {
      const auto slot = static_cast<Eigen::Index>((head_ + window() - count_ + i) % window());
      w.f64(ys_(slot));
      for (Eigen::Index j = 0; j < xs_.rows(); ++j) w.f64(xs_(j, slot));
    }
  }
  static window_stats decode(incision::detail::byte_reader& r) {
    ridge_type ridge = ridge_type::decode(r);
    const std::uint64_t window = r.u64();
    const std::uint64_t count = r.u64();
    const std::uint64_t d = ridge.dim();
    if (window < 1 || window > max_doubles / (d + 1)) r.fail("window out of range");
    if (count > window) r.fail("window sample count exceeds the window");
    if (count > r.remaining() / 8 / (d + 1)) r.fail("window samples truncated");
    window_stats s(std::move(ridge));
    s.window_ = static_cast<std::size_t>(window);
    // Only the held samples (backed by bytes present); the ring grows as samples arrive.
    s.allocate(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto slot = static_cast<Eigen::Index>(i);
      s.ys_(slot) = r.f64();
      for (Eigen::Index j = 0; j < s.xs_.rows(); ++j) s.xs_(j, slot) = r.f64();
    }
    if (!detail::all_finite(s.ys_) || !detail::all_finite(s.xs_)) r.fail("window samples are not finite");
    s.count_ = static_cast<std::size_t>(count);
    s.head_ = static_cast<std::size_t>(count % window);
    return s;
  }

 private:
  explicit window_stats(ridge_type ridge) : ridge_(std::move(ridge)) {}
  void allocate(std::size_t slots) {
    xs_.setZero(static_cast<Eigen::Index>(dim()), static_cast<Eigen::Index>(slots));
    ys_.setZero(static_cast<Eigen::Index>(slots));
  }
  // Before the window first fills, samples sit in slots [0, count) (head == count), so the
  // ring can grow by keeping its prefix. Geometric growth: amortised O(d) per observation.
  void grow() {
    const std::size_t want = std::min(window_, std::max<std::size_t>(16, 2 * capacity()));
    xs_.conservativeResize(Eigen::NoChange, static_cast<Eigen::Index>(want));
    ys_.conservativeResize(static_cast<Eigen::Index>(want));
  }
  ridge_type ridge_;
  Eigen::Matrix<double, Dim, Eigen::Dynamic> xs_;
  Eigen::VectorXd ys_;
  std::size_t window_ = 1;
  std::size_t count_ = 0;
  std::size_t head_ = 0;
};

static_assert(statistics_policy<window_stats<>>);
static_assert(statistics_policy<window_stats<7>>);

}  // namespace bandit
INCISION_END_NAMESPACE
