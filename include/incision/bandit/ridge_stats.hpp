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

#include <incision/bandit/detail/error.hpp>
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
inline void check_reg(double reg) {
  if (!(reg > 0.0) || !std::isfinite(reg)) throw_invalid("reg must be finite and > 0, got " + std::to_string(reg));
}

inline void check_dim(std::size_t dim, int fixed) {
  if (dim == 0) throw_invalid("dim must be >= 1");
  if (fixed != Eigen::Dynamic && dim != static_cast<std::size_t>(fixed))
    throw_invalid("dim " + std::to_string(dim) + " does not match the compile-time dimension " + std::to_string(fixed));
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
/// Every mutating member either succeeds or throws with the object unchanged. Learners that
/// cache per-arm quantities (x^T A^-1 x, x.theta) read the change journal (`journal_*`) after
/// each update to patch their caches in O(K d).
///
/// Numerical rule (what an update may do): an update is applied only if its result is usable.
/// It is rejected (invalid_argument, nothing changed) if a bound on the new A or b overflows
/// (|A|max + |w| |x|max^2 or |b|max + |w y| |x|max is not finite), or if the new A^-1, theta or
/// log det A would not be finite, or if a Cholesky factorisation of the new A is needed (a
/// periodic refresh is due, or the Sherman-Morrison denominator is tiny) and fails (A not
/// numerically positive definite). So A, b, A^-1 and theta are always finite and every state
/// that passed a refresh restores from its snapshot.
///
/// Work is done on a candidate copy (scratch kept between calls, so the hot path does not
/// allocate once warm) and swapped in on success.
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
  /// @throws invalid_argument on a wrong length, non-finite x or y, w not finite and > 0, or a
  /// result the numerical rule (class comment) rejects. Unchanged on throw.
  template <class Derived>
  void add(const Eigen::MatrixBase<Derived>& x, double y, double weight = 1.0) {
    detail::check_length(x.size(), dim(), "context");
    add_checked(x, y, weight);
  }

  /// @brief Removes one weighted sample previously added (rank-one downdate), in O(d^2).
  /// @pre the sample was added before.
  /// @throws invalid_argument as `add`, and if the downdate leaves A not numerically positive
  /// definite (unchanged on throw).
  template <class Derived>
  void remove(const Eigen::MatrixBase<Derived>& x, double y, double weight = 1.0) {
    detail::check_length(x.size(), dim(), "context");
    remove_checked(x, y, weight);
  }

  /// @brief Adds (x, y) and removes (x_old, y_old) in one step (a sliding window), O(d^2).
  /// @throws invalid_argument as `add` / `remove`; unchanged on throw.
  template <class D1, class D2>
  void replace(const Eigen::MatrixBase<D1>& x, double y, const Eigen::MatrixBase<D2>& x_old, double y_old) {
    detail::check_length(x.size(), dim(), "context");
    detail::check_length(x_old.size(), dim(), "removed context");
    replace_checked(x, y, x_old, y_old);
  }

  /// @brief One discounted observation in a single step (the D-LinUCB update): A, b and the
  /// prior are multiplied by `factor`, (x, y) is added, then the prior entries `first`,
  /// `first + 1`, ... (`count` of them, cyclically) are topped back up to reg(). O(d^2 (1 +
  /// count)); O(d^3) when a refresh is due. n_updates grows by one.
  /// @throws invalid_argument on a bad sample, factor outside (0, 1], first >= dim, count > dim,
  /// a prior entry that would underflow to 0, or a result the numerical rule rejects.
  template <class Derived>
  void discount_observe(double factor, const Eigen::MatrixBase<Derived>& x, double y, std::size_t first,
                        std::size_t count) {
    detail::check_length(x.size(), dim(), "context");
    discount_checked(factor, x, y, first, count);
  }

  /// @brief Multiplies A, b and the prior by `factor` in (0, 1] (discounting), in O(d^2).
  /// @throws invalid_argument if factor is outside (0, 1] or the result is rejected.
  void scale(double factor);

  /// @brief Adds `amount` > 0 to the prior's diagonal entry j (A_jj too), in O(d^2).
  /// @throws out_of_range if j >= dim; invalid_argument if amount is not finite and > 0.
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
  /// definite or a result is not finite; the object is then unchanged (the incremental values
  /// are kept). This is the one member that reports a numerical failure by status (an
  /// expected outcome, style guide 17.4 tier 3): every updating member throws instead.
  status refresh();

  /// @brief Cholesky refresh every `period` updates (0 = only on demand).
  void set_refresh_period(std::uint64_t period) noexcept { refresh_period_ = period; }
  [[nodiscard]] std::uint64_t refresh_period() const noexcept { return refresh_period_; }

  /// @brief Adds data statistics of any rank: A += dA, b += db, then refreshes.
  /// @throws invalid_argument on wrong sizes, non-finite entries, an asymmetric dA, or a dA
  /// that leaves A not positive definite. The object is unchanged on throw.
  void add_statistics(const Eigen::Ref<const Eigen::MatrixXd>& dA, const Eigen::Ref<const Eigen::VectorXd>& db,
                      std::uint64_t n_samples = 0);

  /// @brief Adds the other's data part (A_o - P_o, b_o) and its update count.
  /// @throws invalid_argument if the dimensions differ.
  void merge(const ridge_stats& other);

  /// @brief The data part A - P.
  [[nodiscard]] matrix_type data_gram() const {
    matrix_type d = a_;
    d.diagonal() -= prior_;
    return d;
  }

  /// @brief Appends the state to a byte writer. A, b, the prior and the counters are written
  /// as they are; A^-1, theta and log det A are written as a Cholesky refresh of A and b gives
  /// them (what `decode` recomputes), so `decode(encode(s))` encodes to the same bytes.
  void encode(incision::detail::byte_writer& w) const;
  /// @brief Reads a state written by `encode`. A^-1, theta and log det A are recomputed from A
  /// and b (the stored values are checked for finiteness only), so a snapshot whose derived
  /// fields were edited restores to the same learner as the unedited one.
  /// @throws parse_error on truncated or inconsistent data, or an A that is not numerically
  /// positive definite.
  static ridge_stats decode(incision::detail::byte_reader& r);

  /// @name Change journal (for learners that cache per-arm quantities)
  /// @{
  /// True if the statistics changed in a way the journal cannot describe (refresh, merge,
  /// replacement, overflow): caches must be recomputed from scratch.
  [[nodiscard]] bool journal_reset() const noexcept { return journal_reset_; }
  [[nodiscard]] std::size_t journal_size() const noexcept { return journal_size_; }
  [[nodiscard]] const detail::stats_change& journal_entry(std::size_t i) const noexcept { return journal_[i]; }
  [[nodiscard]] const vector_type& journal_direction(std::size_t i) const noexcept { return dirs_[i]; }
  void clear_journal() noexcept {
    journal_size_ = 0;
    journal_reset_ = false;
  }
  /// @}

  /// @brief Checks a sample without changing anything (length, finiteness, weight).
  /// @throws invalid_argument naming the problem.
  template <class Derived>
  void validate_sample(const Eigen::MatrixBase<Derived>& x, double y, double weight = 1.0) const {
    detail::check_length(x.size(), dim(), "context");
    check_sample(x, y, weight);
  }

  /// Statistics-policy interface: a plain ridge policy observes by adding.
  template <class Derived>
  void observe(const Eigen::MatrixBase<Derived>& x, double y) {
    add(x, y, 1.0);
  }
  [[nodiscard]] const ridge_stats& ridge() const noexcept { return *this; }
  /// Replaces the statistics by `other` (same dimension), keeping the refresh period.
  void set_ridge(const ridge_stats& other);
  static constexpr std::uint8_t policy_tag = 0;

 private:
  using vref = Eigen::Ref<const vector_type>;
  /// One weighted sample of a transaction.
  struct sample {
    const vref* x;
    double y;
    double w;  // negative for a removal
  };

  ridge_stats() = default;
  void allocate(std::size_t dim);
  void check_sample(const vref& x, double y, double weight) const;
  void add_checked(const vref& x, double y, double weight) {
    check_sample(x, y, weight);
    const sample s[1] = {{&x, y, weight}};
    transact(1.0, s, 1, 0, 0);
    ++n_updates_;
  }
  void remove_checked(const vref& x, double y, double weight) {
    check_sample(x, y, weight);
    const sample s[1] = {{&x, y, -weight}};
    transact(1.0, s, 1, 0, 0);
    if (n_updates_ > 0) --n_updates_;
  }
  void replace_checked(const vref& x, double y, const vref& x_old, double y_old) {
    check_sample(x, y, 1.0);
    check_sample(x_old, y_old, 1.0);
    const sample s[2] = {{&x, y, 1.0}, {&x_old, y_old, -1.0}};
    transact(1.0, s, 2, 0, 0);
  }
  void discount_checked(double factor, const vref& x, double y, std::size_t first, std::size_t count) {
    check_sample(x, y, 1.0);
    check_factor(factor);
    if (first >= dim() || count > dim()) detail::throw_range("prior refill range out of range");
    const sample s[1] = {{&x, y, 1.0}};
    transact(factor, s, 1, first, count);
    ++n_updates_;
  }
  static void check_factor(double factor) {
    if (!(factor > 0.0 && factor <= 1.0))
      detail::throw_invalid("discount factor must be in (0, 1], got " + std::to_string(factor));
  }
  /// The one update path: A, b, P <- factor (A, b, P) + samples, prior refills; strong guarantee.
  void transact(double factor, const sample* s, std::size_t n, std::size_t first, std::size_t count);
  /// Sherman-Morrison rank-one step on the candidate (ws_.inv, ws_.theta) along u_; false if the
  /// denominator is too small to trust.
  bool candidate_rank_one(double weight, double y_minus_pred, double s, double& ld) noexcept;
  /// Factors `a` and solves A^-1 and theta = A^-1 b into ws_.inv / ws_.theta; false if A is
  /// not numerically positive definite or a result is not finite. Changes nothing but ws_.
  bool solve_candidate(const matrix_type& a, const vector_type& b, double& ld);
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
  vector_type u_;  // scratch: A^-1 x (also the journal's direction source)
  // Candidate state and Cholesky workspace, reused between calls. Copies start empty: an
  // Eigen::LLT that has not computed anything holds an uninitialised status, which must not be
  // copied, and scratch need not travel with the object.
  struct workspace {
    Eigen::LLT<matrix_type> llt;
    matrix_type a, inv;
    vector_type b, theta, prior, refill;
    workspace() = default;
    workspace(const workspace&) noexcept {}
    workspace(workspace&&) noexcept {}
    workspace& operator=(const workspace&) noexcept { return *this; }
    workspace& operator=(workspace&&) noexcept { return *this; }
    ~workspace() = default;
  };
  workspace ws_;
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
  if (!std::isfinite(1.0 / reg) || !std::isfinite(log_det_))
    detail::throw_invalid("reg " + std::to_string(reg) + " is too small (1/reg overflows)");
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
  if (!detail::all_finite(inv_) || !std::isfinite(log_det_) || !std::isfinite(reg_))
    detail::throw_invalid("prior diagonal is too small or too large (1/prior or log det overflows)");
}

template <int Dim>
void ridge_stats<Dim>::check_sample(const vref& x, double y, double weight) const {
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
bool ridge_stats<Dim>::candidate_rank_one(double weight, double y_minus_pred, double s, double& ld) noexcept {
  // Sherman-Morrison: (A + w x x^T)^-1 = A^-1 - g u u^T, u = A^-1 x, g = w / (1 + w x^T u).
  // A tiny or non-positive denominator means the incremental inverse lost accuracy (downdates
  // or extreme scales): the caller falls back to a Cholesky solve.
  const double den = 1.0 + weight * s;
  if (!(den > 1e-8) || !std::isfinite(den)) return false;
  const double g = weight / den;
  const double step = g * y_minus_pred;
  ws_.inv.noalias() -= g * u_ * u_.transpose();
  ws_.theta.noalias() += step * u_;
  ld += std::log(den);
  journal_push({detail::stats_change::rank_one, g, step, 1.0});
  return true;
}

template <int Dim>
bool ridge_stats<Dim>::solve_candidate(const matrix_type& a, const vector_type& b, double& ld) {
  auto& llt = ws_.llt;
  llt.compute(a);
  if (llt.info() != Eigen::Success) return false;
  const matrix_type& l = llt.matrixLLT();
  double sum = 0.0;
  for (Eigen::Index i = 0; i < l.rows(); ++i) sum += std::log(l(i, i));
  if (!std::isfinite(sum)) return false;
  const auto n = static_cast<Eigen::Index>(dim());
  ws_.inv.setIdentity(n, n);
  llt.solveInPlace(ws_.inv);
  for (Eigen::Index j = 0; j < ws_.inv.cols(); ++j)  // symmetrise in place (no temporary)
    for (Eigen::Index i = j + 1; i < ws_.inv.rows(); ++i) {
      const double v = 0.5 * (ws_.inv(i, j) + ws_.inv(j, i));
      ws_.inv(i, j) = v;
      ws_.inv(j, i) = v;
    }
  ws_.theta = b;
  llt.solveInPlace(ws_.theta);
  if (!detail::all_finite(ws_.inv) || !detail::all_finite(ws_.theta)) return false;
  ld = 2.0 * sum;
  return true;
}

template <int Dim>
void ridge_stats<Dim>::transact(double factor, const sample* s, std::size_t n, std::size_t first, std::size_t count) {
  // 1. Magnitude bounds of the new A and b, before anything is computed.
  double amax = factor * a_.cwiseAbs().maxCoeff();
  double bmax = factor * b_.cwiseAbs().maxCoeff();
  for (std::size_t i = 0; i < n; ++i) {
    const double xm = s[i].x->cwiseAbs().maxCoeff();
    amax += std::abs(s[i].w) * xm * xm;
    bmax += std::abs(s[i].w * s[i].y) * xm;
  }
  amax += reg_;  // refills add at most reg per diagonal entry
  if (!std::isfinite(amax) || !std::isfinite(bmax))
    detail::throw_invalid(
        "sample too large: A or b would overflow (|x|^2 * weight or "
        "|reward * weight| * |x| near the double range)");
  // 2. Candidate A, b and prior (same operations, in the same order, as in-place updates).
  const auto d = static_cast<Eigen::Index>(dim());
  ws_.a = a_;
  ws_.b = b_;
  ws_.prior = prior_;
  if (factor != 1.0) {
    ws_.a *= factor;
    ws_.b *= factor;
    ws_.prior *= factor;
  }
  for (std::size_t i = 0; i < n; ++i) {
    ws_.a.noalias() += s[i].w * *s[i].x * s[i].x->transpose();
    ws_.b.noalias() += (s[i].w * s[i].y) * *s[i].x;
  }
  ws_.refill.setZero(d);
  for (std::size_t c = 0; c < count; ++c) {
    const auto j = static_cast<Eigen::Index>((first + c) % dim());
    const double missing = reg_ - ws_.prior(j);
    if (missing > 0.0) {
      ws_.refill(j) += missing;
      ws_.a(j, j) += missing;
      ws_.prior(j) += missing;
    }
  }
  if (!(ws_.prior.minCoeff() > 0.0)) detail::throw_invalid("discounting underflows the prior to 0 (factor too small)");
  // 3. Derived state: Sherman-Morrison on a copy, or a Cholesky solve when a refresh is due or
  // the incremental path cannot be trusted.
  const std::size_t journal_size = journal_size_;
  const bool journal_reset = journal_reset_;
  const bool due = refresh_period_ != 0 && since_refresh_ + (n == 0 ? 1 : n) >= refresh_period_;
  bool fast = !due;
  double ld = log_det_;
  if (fast) {
    ws_.inv = inv_;
    ws_.theta = theta_;
    if (factor != 1.0) {
      ws_.inv *= 1.0 / factor;
      ld += static_cast<double>(dim()) * std::log(factor);
      journal_push({detail::stats_change::scale, 0.0, 0.0, factor});
    }
    for (std::size_t i = 0; i < n && fast; ++i) {
      const vref& x = *s[i].x;
      u_.noalias() = ws_.inv * x;
      fast = candidate_rank_one(s[i].w, s[i].y - x.dot(ws_.theta), x.dot(u_), ld);
    }
    for (Eigen::Index j = 0; j < d && fast; ++j) {
      const double amount = ws_.refill(j);
      if (!(amount > 0.0)) continue;
      // Rank-one update along e_j with y = 0: b unchanged.
      u_ = ws_.inv.col(j);
      fast = candidate_rank_one(amount, -ws_.theta(j), u_(j), ld);
    }
    fast = fast && std::isfinite(ld) && detail::all_finite(ws_.inv) && detail::all_finite(ws_.theta);
  }
  if (!fast && !solve_candidate(ws_.a, ws_.b, ld)) {
    journal_size_ = journal_size;
    journal_reset_ = journal_reset;
    detail::throw_invalid(n == 2 || (n == 1 && s[0].w < 0.0)
                              ? "removing the sample leaves A not numerically positive definite"
                              : "update rejected: A would not be numerically positive definite or "
                                "A^-1 / theta would not be finite");
  }
  // 4. Commit (no throw below).
  a_.swap(ws_.a);
  b_.swap(ws_.b);
  prior_.swap(ws_.prior);
  inv_.swap(ws_.inv);
  theta_.swap(ws_.theta);
  log_det_ = ld;
  if (fast) {
    since_refresh_ += n;
  } else {
    since_refresh_ = 0;
    journal_size_ = 0;
    journal_reset_ = true;
  }
}

template <int Dim>
void ridge_stats<Dim>::scale(double factor) {
  check_factor(factor);
  if (factor == 1.0) return;
  transact(factor, nullptr, 0, 0, 0);
}

template <int Dim>
void ridge_stats<Dim>::add_prior(std::size_t j, double amount) {
  if (j >= dim()) detail::throw_range("prior index " + std::to_string(j) + " out of range");
  if (!(amount > 0.0) || !std::isfinite(amount)) detail::throw_invalid("prior amount must be finite and > 0");
  const auto k = static_cast<Eigen::Index>(j);
  if (!std::isfinite(a_(k, k) + amount)) detail::throw_invalid("prior amount overflows A");
  // Rank-one update along e_j with y = 0: b unchanged. The denominator is >= 1 and the update
  // shrinks A^-1, so nothing can overflow.
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
  double ld = 0.0;
  if (!solve_candidate(a_, b_, ld)) return status::numerical_issue;
  inv_.swap(ws_.inv);
  theta_.swap(ws_.theta);
  log_det_ = ld;
  since_refresh_ = 0;
  journal_reset_ = true;
  journal_size_ = 0;
  return status::ok;
}

template <int Dim>
void ridge_stats<Dim>::add_statistics(const Eigen::Ref<const Eigen::MatrixXd>& dA,
                                      const Eigen::Ref<const Eigen::VectorXd>& db, std::uint64_t n_samples) {
  const auto n = static_cast<Eigen::Index>(dim());
  if (dA.rows() != n || dA.cols() != n || db.size() != n)
    detail::throw_invalid("statistics have shape (" + std::to_string(dA.rows()) + ", " + std::to_string(dA.cols()) +
                          ") and " + std::to_string(db.size()) + ", expected dimension " + std::to_string(dim()));
  if (!detail::all_finite(dA) || !detail::all_finite(db)) detail::throw_invalid("statistics contain NaN or infinity");
  const double scale_ref = std::max(1.0, dA.cwiseAbs().maxCoeff());
  if ((dA - dA.transpose()).cwiseAbs().maxCoeff() > 1e-9 * scale_ref)
    detail::throw_invalid("statistics matrix is not symmetric");
  if (dA.diagonal().minCoeff() < -1e-9 * scale_ref)
    detail::throw_invalid("statistics matrix has a negative diagonal (not positive semidefinite)");
  ws_.a = a_ + 0.5 * (dA + dA.transpose());
  ws_.b = b_ + db;
  double ld = 0.0;
  if (!detail::all_finite(ws_.a) || !detail::all_finite(ws_.b) || !solve_candidate(ws_.a, ws_.b, ld))
    detail::throw_invalid("adding the statistics leaves A not positive definite or not finite");
  // Commit (no throw below).
  a_.swap(ws_.a);
  b_.swap(ws_.b);
  inv_.swap(ws_.inv);
  theta_.swap(ws_.theta);
  log_det_ = ld;
  n_updates_ += n_samples;
  since_refresh_ = 0;
  journal_reset_ = true;
  journal_size_ = 0;
}

template <int Dim>
void ridge_stats<Dim>::merge(const ridge_stats& other) {
  if (other.dim() != dim())
    detail::throw_invalid("cannot merge statistics of dimension " + std::to_string(other.dim()) + " into dimension " +
                          std::to_string(dim()));
  add_statistics(other.data_gram(), other.b_, other.n_updates_);
}

template <int Dim>
void ridge_stats<Dim>::set_ridge(const ridge_stats& other) {
  if (other.dim() != dim())
    detail::throw_invalid("statistics have dimension " + std::to_string(other.dim()) + ", expected " +
                          std::to_string(dim()));
  const std::uint64_t period = refresh_period_;
  *this = other;
  refresh_period_ = period;
  journal_reset_ = true;
  journal_size_ = 0;
}

template <int Dim>
void ridge_stats<Dim>::encode(incision::detail::byte_writer& w) const {
  // The derived fields as a refresh gives them (decode recomputes them the same way); if A
  // cannot be factored the incremental values are written and decode will reject them.
  ridge_stats c = *this;
  (void)c.refresh();  // status ignored on purpose: see the comment above
  const std::size_t d = dim();
  w.u32(static_cast<std::uint32_t>(d));
  w.f64(reg_);
  w.u64(n_updates_);
  w.u64(since_refresh_);
  w.u64(refresh_period_);
  w.f64(c.log_det_);
  w.f64s({prior_.data(), d});
  w.f64s({b_.data(), d});
  w.f64s({c.theta_.data(), d});
  w.f64s({a_.data(), d * d});
  w.f64s({c.inv_.data(), d * d});
}

template <int Dim>
ridge_stats<Dim> ridge_stats<Dim>::decode(incision::detail::byte_reader& r) {
  const std::uint32_t d = r.u32();
  if (d == 0 || d > detail::max_decoded_dim)
    r.fail("ridge statistics dimension " + std::to_string(d) + " is out of range");
  if (Dim != Eigen::Dynamic && d != static_cast<std::uint32_t>(Dim))
    r.fail("ridge statistics dimension " + std::to_string(d) + " does not match the compile-time " + "dimension " +
           std::to_string(Dim));
  const std::size_t dd = d;
  if (r.remaining() < std::size_t{40} + (3 * dd + 2 * dd * dd) * 8)  // 5 scalars, 3 vectors, 2 matrices
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
  // Derived state is recomputed, never trusted (an edited A^-1 or theta must not steer).
  const std::uint64_t since = s.since_refresh_;
  if (s.refresh() != status::ok) r.fail("ridge statistics: A is not numerically positive definite");
  s.since_refresh_ = since;
  s.journal_reset_ = true;
  return s;
}

}  // namespace bandit
INCISION_END_NAMESPACE
