/// @file
/// @brief Exception types and the status enum shared by every area.
///
/// Invalid arguments at API boundaries throw (types derive from the standard hierarchy so
/// pybind11 maps them to ValueError / IndexError / RuntimeError / OSError without extra code).
/// Expected outcomes the caller must handle are returned as a @ref incision::status.
/// Messages start with a stable prefix naming the area, e.g. "[incision.partition] ...".
#pragma once

#include <incision/config.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

INCISION_BEGIN_NAMESPACE

/// @brief A bad argument: wrong dimension, NaN or negative cost, cycle, bad hyperparameter.
struct invalid_argument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// @brief An index (arm, layer, device) outside the valid range.
struct out_of_range : std::out_of_range {
  using std::out_of_range::out_of_range;
};

/// @brief Bytes or text that do not decode: truncated, corrupted, wrong version or kind.
struct parse_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// @brief A user-supplied cost oracle returned something unusable (NaN, negative, infinite).
struct oracle_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// @brief A file could not be opened, written or renamed.
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// @brief Outcome of a computation whose failure is an expected result, not a bug.
enum class status : std::uint8_t {
  ok,               ///< result is valid
  infeasible,       ///< no plan satisfies the constraints (e.g. a throughput target)
  numerical_issue,  ///< a factorisation or solve lost accuracy
  iteration_limit,  ///< a search stopped at its cap before converging
};

/// @brief A readable name for a status.
constexpr std::string_view to_string(status s) noexcept {
  switch (s) {
    case status::ok:
      return "ok";
    case status::infeasible:
      return "infeasible";
    case status::numerical_issue:
      return "numerical_issue";
    case status::iteration_limit:
      return "iteration_limit";
  }
  return "unknown";
}

namespace detail {
/// Builds "[incision.<area>] <what>".
inline std::string message(std::string_view area, std::string_view what) {
  std::string m;
  m.reserve(area.size() + what.size() + 13);
  m += "[incision.";
  m += area;
  m += "] ";
  m += what;
  return m;
}
}  // namespace detail

INCISION_END_NAMESPACE
