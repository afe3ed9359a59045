/// @file
/// @brief Ridge-regression sufficient statistics with O(d^2) Sherman-Morrison updates.
///
/// The shared machinery of every linear bandit in incision::bandit (LinUCB, Li et al., WWW 2010;
/// muLinUCB, Zhang, Chen, Xu, WWW 2021; their forgetting variants): the Gram matrix
/// A = P + sum_i w_i x_i x_i^T (P = the diagonal prior, reg*I unless a learner changes it), the
/// moment b = sum_i w_i y_i x_i, and, kept current in O(d^2) per sample, A^-1 (Sherman-Morrison),
/// theta = A^-1 b and log det A (matrix-determinant lemma). A Cholesky refresh recomputes A^-1,
/// theta and log det A from A and b, periodically (every `refresh_period()` updates) and on demand,
/// so long streams do not drift.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/error.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

INCISION_BEGIN_NAMESPACE
namespace bandit {

namespace detail {
/// Builds "[incision.bandit] what".
inline std::string msg(const std::string& what) { return incision::detail::message("bandit", what); }

[[noreturn]] inline void throw_invalid(const std::string& what) {
  INCISION_THROW(incision::invalid_argument(msg(what)));
}
[[noreturn]] inline void throw_range(const std::string& what) {
  INCISION_THROW(incision::out_of_range(msg(what)));
}

template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& v) noexcept {
  for (Eigen::Index j = 0; j < v.cols(); ++j)
    for (Eigen::Index i = 0; i < v.rows(); ++i)
      if (!std::isfinite(v(i, j))) return false;
  return true;
}

inline void check_reg(double reg) {
  if (!(reg > 0.0) || !std::isfinite(reg))
    throw_invalid("reg must be finite and > 0, got " + std::to_string(reg));
}

inline void check_dim(std::size_t dim, int fixed) {
  if (dim == 0) throw_invalid("dim must be >= 1");
  if (fixed != Eigen::Dynamic && dim != static_cast<std::size_t>(fixed))
    throw_invalid("dim " + std::to_string(dim) + " does not match the compile-time dimension " +
                  std::to_string(fixed));
}

/// Largest dimension a decoder accepts (guards allocations on hostile input).
inline constexpr std::uint32_t max_decoded_dim = 4096;

/// One entry of the change journal a @ref ridge_stats keeps for per-arm caches.
struct stats_change {
  enum kind_type : std::uint8_t {
    rank_one,  ///< A^-1 -= gain * u u^T, theta += step * u (u = journal direction)
    scale,     ///< A, b, P multiplied by `factor`: A^-1 /= factor, theta unchanged
  };
  kind_type kind = rank_one;
  double gain = 0.0;
  double step = 0.0;
  double factor = 1.0;
};
}  // namespace detail

/// @brief Ridge sufficient statistics A = P + sum w x x^T, b = sum w y x with O(d^2) updates.
///
/// @tparam Dim compile-time dimension (a fixed-size fast path for small d) or Eigen::Dynamic.
///
/// Every mutating member either succeeds or throws with the object unchanged. `add` and
/// `remove` do not allocate. Learners that cache per-arm quantities (x^T A^-1 x, x.theta) read
/// the change journal (`journal_*`) after each update to patch their caches in O(K d).
template <int Dim = Eigen::Dynamic>
class ridge_stats {
 public:
  static constexpr int dim_at_compile_time = Dim;
  using vector_type = Eigen::Matrix<double, Dim, 1>;
  using matrix_type = Eigen::Matrix<double, Dim, Dim>;

  /// Default refresh period: a Cholesky recompute every this many updates.
  static constexpr std::uint64_t default_refresh_period = 1024;
  /// Most journal entries kept between two `clear_journal()` calls before it reports a reset.
  static constexpr std::size_t journal_capacity = 4;

  /// @brief Empty statistics: A = reg*I, b = 0.
  /// @throws invalid_argument if dim == 0, dim differs from Dim, or reg is not finite and > 0.
  ridge_stats(std::size_t dim, double reg);

  /// @brief Empty statistics with a diagonal prior A = diag(prior), b = 0 (e.g. the random
  /// diagonal of the official muLinUCB code). `reg()` reports the mean of the prior.
  /// @throws invalid_argument if the prior is empty, not finite or not > 0 everywhere.
  explicit ridge_stats(const Eigen::Ref<const Eigen::VectorXd>& prior);

  [[nodiscard]] std::size_t dim() const noexcept { return static_cast<std::size_t>(b_.size()); }
  [[nodiscard]] double reg() const noexcept { return reg_; }

  /// @brief Adds one weighted sample: A += w x x^T, b += w y x, in O(d^2).
  /// @throws invalid_argument on a wrong length, non-finite x or y, or w not finite and > 0.
  void add(const Eigen::Ref<const vector_type>& x, double y, double weight = 1.0);

  /// @brief Removes one weighted sample previously added (rank-one downdate), in O(d^2).
  /// @pre the sample was added before (otherwise A may stop being positive definite).
  /// @throws invalid_argument as `add`.
  void remove(const Eigen::Ref<const vector_type>& x, double y, double weight = 1.0);

  /// @brief Multiplies A, b and the prior by `factor` in (0, 1] (discounting), in O(d^2).
  /// @throws invalid_argument if factor is outside (0, 1].
  void scale(double factor);

  /// @brief Adds `amount` > 0 to the prior's diagonal entry j (A_jj too), in O(d^2).
  /// @throws invalid_argument if j >= dim or amount is not finite and > 0.
  void add_prior(std::size_t j, double amount);

  /// @brief The Gram matrix A.
  [[nodiscard]] const matrix_type& gram() const noexcept { return a_; }
  /// @brief The moment vector b.
  [[nodiscard]] const vector_type& moment() const noexcept { return b_; }
  /// @brief A^-1 (kept current by Sherman-Morrison, re-derived by `refresh`).
  [[nodiscard]] const matrix_type& inverse() const noexcept { return inv_; }
  /// @brief The ridge estimate theta = A^-1 b.
  [[nodiscard]] const vector_type& theta() const noexcept { return theta_; }
  /// @brief log det A.
  [[nodiscard]] double log_det() const noexcept { return log_det_; }
  /// @brief The diagonal prior P (A minus the data part).
  [[nodiscard]] const vector_type& prior() const noexcept { return prior_; }
  /// @brief Number of samples added (removals and merges counted as documented).
  [[nodiscard]] std::uint64_t n_updates() const noexcept { return n_updates_; }

  /// @brief Recomputes A^-1, theta and log det A from A and b by Cholesky.
  /// @returns status::ok, or status::numerical_issue if A is not numerically positive
  /// definite (the incremental values are then kept).
  status refresh();

  /// @brief Cholesky refresh every `period` updates (0 = only on demand).
  void set_refresh_period(std::uint64_t period) noexcept { refresh_period_ = period; }
  [[nodiscard]] std::uint64_t refresh_period() const noexcept { return refresh_period_; }

  /// @brief Adds data statistics of any rank: A += dA, b += db, then refreshes.
  /// @throws invalid_argument on wrong sizes, non-finite entries, an asymmetric dA, or a dA
  /// that leaves A not positive definite. The object is unchanged on throw.
  void add_statistics(const matrix_type& dA, const vector_type& db, std::uint64_t n_samples = 0);

  /// @brief Adds the other's data part (A_o - P_o, b_o) and its update count.
  /// @throws invalid_argument if the dimensions differ.
  void merge(const ridge_stats& other);

  /// @brief The data part A - P.
  [[nodiscard]] matrix_type data_gram() const {
    matrix_type d = a_;
    d.diagonal() -= prior_;
    return d;
  }

  /// @brief Appends the full state (bit-exact) to a byte writer.
  void encode(incision::detail::byte_writer& w) const;
  /// @brief Reads a state written by `encode`.
  /// @throws parse_error on truncated or inconsistent data.
  static ridge_stats decode(incision::detail::byte_reader& r);

  /// @name Change journal (for learners that cache per-arm quantities)
  /// @{
  /// True if the statistics changed in a way the journal cannot describe (refresh, merge,
  /// replacement, overflow): caches must be recomputed from scratch.
  [[nodiscard]] bool journal_reset() const noexcept { return journal_reset_; }
  [[nodiscard]] std::size_t journal_size() const noexcept { return journal_size_; }
  [[nodiscard]] const detail::stats_change& journal_entry(std::size_t i) const noexcept {
    return journal_[i];
  }
  [[nodiscard]] const vector_type& journal_direction(std::size_t i) const noexcept {
    return dirs_[i];
  }
  void clear_journal() noexcept {
    journal_size_ = 0;
    journal_reset_ = false;
  }
  /// @}

  /// @brief Checks a sample without changing anything (length, finiteness, weight).
  /// @throws invalid_argument naming the problem.
  void validate_sample(const Eigen::Ref<const vector_type>& x, double y, double weight = 1.0) const {
    check_sample(x, y, weight);
  }

  /// Statistics-policy interface: a plain ridge policy observes by adding.
  void observe(const Eigen::Ref<const vector_type>& x, double y) { add(x, y, 1.0); }
  [[nodiscard]] const ridge_stats& ridge() const noexcept { return *this; }
  /// Replaces the statistics by `other` (same dimension), keeping the refresh period.
  void set_ridge(const ridge_stats& other);
  static constexpr std::uint8_t policy_tag = 0;

 private:
  ridge_stats() = default;
  void allocate(std::size_t dim);
  void check_sample(const Eigen::Ref<const vector_type>& x, double y, double weight) const;
  void rank_one(const Eigen::Ref<const vector_type>& x, double y, double weight);
  void after_update();
  void journal_push(const detail::stats_change& c) noexcept;

  double reg_ = 1.0;
  matrix_type a_;
  vector_type b_;
  matrix_type inv_;
  vector_type theta_;
  vector_type prior_;
  double log_det_ = 0.0;
  std::uint64_t n_updates_ = 0;
  std::uint64_t since_refresh_ = 0;
  std::uint64_t refresh_period_ = default_refresh_period;
  vector_type u_;  // scratch: A^-1 x
  // Cholesky workspace, reused by refresh(). Copies start empty: an Eigen::LLT that has not
  // computed anything holds an uninitialised status, which must not be copied.
  struct llt_workspace {
    Eigen::LLT<matrix_type> llt;
    llt_workspace() = default;
    llt_workspace(const llt_workspace&) noexcept {}
    llt_workspace(llt_workspace&&) noexcept {}
    llt_workspace& operator=(const llt_workspace&) noexcept { return *this; }
    llt_workspace& operator=(llt_workspace&&) noexcept { return *this; }
    ~llt_workspace() = default;
  };
  llt_workspace ws_;
  std::array<detail::stats_change, journal_capacity> journal_{};
  std::array<vector_type, journal_capacity> dirs_{};
  std::size_t journal_size_ = 0;
  bool journal_reset_ = true;
};

// ------------------------------------------------------------------------------------------
// Definitions
// ------------------------------------------------------------------------------------------

template <int Dim>
void ridge_stats<Dim>::allocate(std::size_t dim) {
  const auto n = static_cast<Eigen::Index>(dim);
  a_.setZero(n, n);
  inv_.setZero(n, n);
  b_.setZero(n);
  theta_.setZero(n);
  prior_.setZero(n);
  u_.setZero(n);
  for (auto& d : dirs_) d.setZero(n);
}

template <int Dim>
ridge_stats<Dim>::ridge_stats(std::size_t dim, double reg) {
  detail::check_dim(dim, Dim);
  detail::check_reg(reg);
  allocate(dim);
  reg_ = reg;
  prior_.setConstant(reg);
  a_.diagonal() = prior_;
  inv_.diagonal().setConstant(1.0 / reg);
  log_det_ = static_cast<double>(dim) * std::log(reg);
}

template <int Dim>
ridge_stats<Dim>::ridge_stats(const Eigen::Ref<const Eigen::VectorXd>& prior) {
  detail::check_dim(static_cast<std::size_t>(prior.size()), Dim);
  if (!detail::all_finite(prior) || !(prior.minCoeff() > 0.0))
    detail::throw_invalid("prior diagonal must be finite and > 0 everywhere");
  allocate(static_cast<std::size_t>(prior.size()));
  reg_ = prior.mean();
  prior_ = prior;
  a_.diagonal() = prior_;
  inv_.diagonal() = prior_.cwiseInverse();
  log_det_ = prior_.array().log().sum();
}

template <int Dim>
void ridge_stats<Dim>::check_sample(const Eigen::Ref<const vector_type>& x, double y,
                                    double weight) const {
  if (static_cast<std::size_t>(x.size()) != dim())
    detail::throw_invalid("context has length " + std::to_string(x.size()) + ", expected " +
                          std::to_string(dim()));
  if (!detail::all_finite(x)) detail::throw_invalid("context contains NaN or infinity");
  if (!std::isfinite(y)) detail::throw_invalid("reward/delay is NaN or infinite");
  if (!(weight > 0.0) || !std::isfinite(weight))
    detail::throw_invalid("weight must be finite and > 0, got " + std::to_string(weight));
}

template <int Dim>
void ridge_stats<Dim>::journal_push(const detail::stats_change& c) noexcept {
  if (journal_size_ >= journal_capacity) {
    journal_reset_ = true;
    return;
  }
  journal_[journal_size_] = c;
  if (c.kind == detail::stats_change::rank_one) dirs_[journal_size_] = u_;
  ++journal_size_;
}

template <int Dim>
void ridge_stats<Dim>::rank_one(const Eigen::Ref<const vector_type>& x, double y, double weight) {
  // Sherman-Morrison: (A + w x x^T)^-1 = A^-1 - g u u^T, u = A^-1 x, g = w / (1 + w x^T u).
  u_.noalias() = inv_ * x;
  const double s = x.dot(u_);
  const double den = 1.0 + weight * s;
  a_.noalias() += weight * x * x.transpose();
  b_.noalias() += (weight * y) * x;
  // A tiny or non-positive denominator means the incremental inverse lost accuracy (only
  // possible for downdates or extreme scales): fall back to a Cholesky recompute.
  if (!(den > 1e-8) || !std::isfinite(den)) {
    (void)refresh();
    return;
  }
  const double g = weight / den;
  const double step = g * (y - x.dot(theta_));
  inv_.noalias() -= g * u_ * u_.transpose();
  theta_.noalias() += step * u_;
  log_det_ += std::log(den);
  journal_push({detail::stats_change::rank_one, g, step, 1.0});
}

template <int Dim>
void ridge_stats<Dim>::after_update() {
  ++since_refresh_;
  if (refresh_period_ != 0 && since_refresh_ >= refresh_period_) (void)refresh();
}

template <int Dim>
void ridge_stats<Dim>::add(const Eigen::Ref<const vector_type>& x, double y, double weight) {
  check_sample(x, y, weight);
  rank_one(x, y, weight);
  ++n_updates_;
  after_update();
}

template <int Dim>
void ridge_stats<Dim>::remove(const Eigen::Ref<const vector_type>& x, double y, double weight) {
  check_sample(x, y, weight);
  rank_one(x, y, -weight);
  if (n_updates_ > 0) --n_updates_;
  after_update();
}

template <int Dim>
void ridge_stats<Dim>::scale(double factor) {
  if (!(factor > 0.0 && factor <= 1.0))
    detail::throw_invalid("discount factor must be in (0, 1], got " + std::to_string(factor));
  if (factor == 1.0) return;
  a_ *= factor;
  b_ *= factor;
  prior_ *= factor;
  inv_ *= 1.0 / factor;
  log_det_ += static_cast<double>(dim()) * std::log(factor);
  journal_push({detail::stats_change::scale, 0.0, 0.0, factor});
}

template <int Dim>
void ridge_stats<Dim>::add_prior(std::size_t j, double amount) {
  if (j >= dim()) detail::throw_range("prior index " + std::to_string(j) + " out of range");
  if (!(amount > 0.0) || !std::isfinite(amount))
    detail::throw_invalid("prior amount must be finite and > 0");
  const auto k = static_cast<Eigen::Index>(j);
  // Rank-one update along e_j with y = 0: b unchanged.
  u_ = inv_.col(k);
  const double den = 1.0 + amount * u_(k);
  a_(k, k) += amount;
  prior_(k) += amount;
  const double g = amount / den;
  const double step = -g * theta_(k);
  inv_.noalias() -= g * u_ * u_.transpose();
  theta_.noalias() += step * u_;
  log_det_ += std::log(den);
  journal_push({detail::stats_change::rank_one, g, step, 1.0});
}

template <int Dim>
status ridge_stats<Dim>::refresh() {
  since_refresh_ = 0;
  auto& llt = ws_.llt;
  llt.compute(a_);
  if (llt.info() != Eigen::Success) return status::numerical_issue;
  const matrix_type& l = llt.matrixLLT();
  double ld = 0.0;
  for (Eigen::Index i = 0; i < l.rows(); ++i) ld += std::log(l(i, i));
  if (!std::isfinite(ld)) return status::numerical_issue;
  inv_.setIdentity();
  llt.solveInPlace(inv_);
  for (Eigen::Index j = 0; j < inv_.cols(); ++j)  // symmetrise in place (no temporary)
    for (Eigen::Index i = j + 1; i < inv_.rows(); ++i) {
      const double v = 0.5 * (inv_(i, j) + inv_(j, i));
      inv_(i, j) = v;
      inv_(j, i) = v;
    }
  theta_ = b_;
  llt.solveInPlace(theta_);
  log_det_ = 2.0 * ld;
  journal_reset_ = true;
  journal_size_ = 0;
  return status::ok;
}

template <int Dim>
void ridge_stats<Dim>::add_statistics(const matrix_type& dA, const vector_type& db,
                                      std::uint64_t n_samples) {
  const auto n = static_cast<Eigen::Index>(dim());
  if (dA.rows() != n || dA.cols() != n || db.size() != n)
    detail::throw_invalid("statistics have shape (" + std::to_string(dA.rows()) + ", " +
                          std::to_string(dA.cols()) + ") and " + std::to_string(db.size()) +
                          ", expected dimension " + std::to_string(dim()));
  if (!detail::all_finite(dA) || !detail::all_finite(db))
    detail::throw_invalid("statistics contain NaN or infinity");
  const double scale_ref = std::max(1.0, dA.cwiseAbs().maxCoeff());
  if ((dA - dA.transpose()).cwiseAbs().maxCoeff() > 1e-9 * scale_ref)
    detail::throw_invalid("statistics matrix is not symmetric");
  if (dA.diagonal().minCoeff() < -1e-9 * scale_ref)
    detail::throw_invalid("statistics matrix has a negative diagonal (not positive semidefinite)");
  matrix_type a_new = a_ + 0.5 * (dA + dA.transpose());
  Eigen::LLT<matrix_type> llt(a_new);
  if (llt.info() != Eigen::Success)
    detail::throw_invalid("adding the statistics leaves A not positive definite");
  // Commit (no throw below).
  a_ = a_new;
  b_ += db;
  n_updates_ += n_samples;
  (void)refresh();
}

template <int Dim>
void ridge_stats<Dim>::merge(const ridge_stats& other) {
  if (other.dim() != dim())
    detail::throw_invalid("cannot merge statistics of dimension " + std::to_string(other.dim()) +
                          " into dimension " + std::to_string(dim()));
  add_statistics(other.data_gram(), other.b_, other.n_updates_);
}

template <int Dim>
void ridge_stats<Dim>::set_ridge(const ridge_stats& other) {
  if (other.dim() != dim())
    detail::throw_invalid("statistics have dimension " + std::to_string(other.dim()) +
                          ", expected " + std::to_string(dim()));
  const std::uint64_t period = refresh_period_;
  *this = other;
  refresh_period_ = period;
  journal_reset_ = true;
  journal_size_ = 0;
}

template <int Dim>
void ridge_stats<Dim>::encode(incision::detail::byte_writer& w) const {
  const std::size_t d = dim();
  w.u32(static_cast<std::uint32_t>(d));
  w.f64(reg_);
  w.u64(n_updates_);
  w.u64(since_refresh_);
  w.u64(refresh_period_);
  w.f64(log_det_);
  w.f64s({prior_.data(), d});
  w.f64s({b_.data(), d});
  w.f64s({theta_.data(), d});
  w.f64s({a_.data(), d * d});
  w.f64s({inv_.data(), d * d});
}

template <int Dim>
ridge_stats<Dim> ridge_stats<Dim>::decode(incision::detail::byte_reader& r) {
  const std::uint32_t d = r.u32();
  if (d == 0 || d > detail::max_decoded_dim)
    r.fail("ridge statistics dimension " + std::to_string(d) + " is out of range");
  if (Dim != Eigen::Dynamic && d != static_cast<std::uint32_t>(Dim))
    r.fail("ridge statistics dimension " + std::to_string(d) + " does not match the compile-time " +
           "dimension " + std::to_string(Dim));
  const std::size_t dd = d;
  if (r.remaining() < (5 * 8) + (3 * dd + 2 * dd * dd) * 8)
    r.fail("ridge statistics truncated");
  ridge_stats s;
  s.allocate(dd);
  s.reg_ = r.f64();
  s.n_updates_ = r.u64();
  s.since_refresh_ = r.u64();
  s.refresh_period_ = r.u64();
  s.log_det_ = r.f64();
  r.f64s({s.prior_.data(), dd});
  r.f64s({s.b_.data(), dd});
  r.f64s({s.theta_.data(), dd});
  r.f64s({s.a_.data(), dd * dd});
  r.f64s({s.inv_.data(), dd * dd});
  if (!(s.reg_ > 0.0) || !std::isfinite(s.reg_)) r.fail("ridge statistics: reg is not > 0");
  if (!std::isfinite(s.log_det_) || !detail::all_finite(s.prior_) || !detail::all_finite(s.b_) ||
      !detail::all_finite(s.theta_) || !detail::all_finite(s.a_) || !detail::all_finite(s.inv_))
    r.fail("ridge statistics contain NaN or infinity");
  if (!(s.prior_.minCoeff() > 0.0)) r.fail("ridge statistics: prior is not > 0");
  const double scale_ref = std::max(1.0, s.a_.cwiseAbs().maxCoeff());
  if ((s.a_ - s.a_.transpose()).cwiseAbs().maxCoeff() > 1e-9 * scale_ref)
    r.fail("ridge statistics: A is not symmetric");
  Eigen::LLT<matrix_type> llt(s.a_);
  if (llt.info() != Eigen::Success) r.fail("ridge statistics: A is not positive definite");
  s.journal_reset_ = true;
  return s;
}

}  // namespace bandit
INCISION_END_NAMESPACE
