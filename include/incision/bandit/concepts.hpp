/// @file
/// @brief Concepts of incision::bandit: the statistics policy every linear learner is built on.
#pragma once

#include <incision/bandit/ridge_stats.hpp>
#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>

#include <Eigen/Core>

#include <concepts>
#include <cstddef>
#include <cstdint>

INCISION_BEGIN_NAMESPACE
namespace bandit {

/// @brief S has a compile-time dimension and exposes its ridge statistics.
template <class S>
concept has_ridge_statistics = requires(const S& cs) {
  { S::dim_at_compile_time } -> std::convertible_to<int>;
  { cs.ridge() } -> std::same_as<const ridge_stats<S::dim_at_compile_time>&>;
  { cs.dim() } -> std::convertible_to<std::size_t>;
};

/// @brief S takes one observation (context, reward or delay) and folds it into its statistics.
template <class S>
concept has_observe = requires(S& s, const typename ridge_stats<S::dim_at_compile_time>::vector_type& x, double y) {
  s.observe(x, y);
};

/// @brief S can be persisted: `encode(byte_writer&) const`, `static decode(byte_reader&)`, a tag.
template <class S>
concept has_codec = requires(const S& cs, incision::detail::byte_writer& w, incision::detail::byte_reader& r) {
  cs.encode(w);
  { S::decode(r) } -> std::same_as<S>;
  { S::policy_tag } -> std::convertible_to<std::uint8_t>;
};

/// @brief S's statistics can be replaced (federated synchronisation, warm start).
template <class S>
concept has_set_ridge = requires(S& s, const S& other, const ridge_stats<S::dim_at_compile_time>& r) {
  s.set_ridge(r);
  s.merge(other);
  s.clear_journal();
};

/// @brief A statistics policy: how a linear learner accumulates (and possibly forgets) evidence.
///
/// Syntactic requirements: `dim_at_compile_time`, `dim()`, `ridge()` returning the current
/// `ridge_stats`, `observe(x, y)`, `set_ridge(r)`, `merge(other)`, `clear_journal()`, `encode`/`decode`/`policy_tag`,
/// and copy.
///
/// Semantic requirements: after `observe(x, y)` the ridge statistics reflect the sample (and
/// whatever forgetting the policy applies), every change to them is either described by the
/// ridge_stats change journal or flagged as a journal reset; `observe` validates its inputs
/// (length, finiteness) and leaves the policy unchanged when it throws; O(d^2) per observe.
///
/// Shipped models: `ridge_stats` (never forgets), discounted_stats (D-LinUCB weights),
/// window_stats (sliding window).
/// @code{.cpp}
/// static_assert(incision::bandit::statistics_policy<incision::bandit::ridge_stats<7>>);
/// @endcode
template <class S>
concept statistics_policy =
    std::copy_constructible<S> && has_ridge_statistics<S> && has_observe<S> && has_set_ridge<S> && has_codec<S>;

static_assert(statistics_policy<ridge_stats<>>);
static_assert(statistics_policy<ridge_stats<7>>);

}  // namespace bandit
INCISION_END_NAMESPACE
