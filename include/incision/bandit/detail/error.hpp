/// @file
/// @brief The bandit area's error helpers (internal): "[incision.bandit] ..." messages, throws,
/// finiteness checks.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <string>

INCISION_BEGIN_NAMESPACE
namespace bandit::detail {

/// Builds "[incision.bandit] what".
inline std::string msg(const std::string& what) { return incision::detail::message("bandit", what); }

[[noreturn]] inline void throw_invalid(const std::string& what) {
  INCISION_THROW(incision::invalid_argument(msg(what)));
}
[[noreturn]] inline void throw_range(const std::string& what) { INCISION_THROW(incision::out_of_range(msg(what))); }

/// A NaN score must not pick an arm by accident (every comparison with NaN is false).
[[noreturn]] inline void throw_nan_score(std::size_t arm) {
  throw_invalid("the score of arm " + std::to_string(arm) + " is NaN (context magnitudes overflow the estimate)");
}

/// True if every entry is finite (no NaN, no infinity).
template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& v) noexcept {
  for (Eigen::Index j = 0; j < v.cols(); ++j)
    for (Eigen::Index i = 0; i < v.rows(); ++i)
      if (!std::isfinite(v(i, j))) return false;
  return true;
}

/// Throws invalid_argument unless a vector argument has `expected` entries. Public entries call
/// this before binding the argument to a fixed-size type (where Eigen would assert instead).
inline void check_length(long long got, std::size_t expected, const char* what) {
  if (got < 0 || static_cast<unsigned long long>(got) != expected)
    throw_invalid(std::string(what) + " has length " + std::to_string(got) + ", expected " + std::to_string(expected));
}

}  // namespace bandit::detail
INCISION_END_NAMESPACE
