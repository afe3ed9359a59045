/// @file
/// @brief The tie tolerance shared by the partitioners: costs that differ by float rounding only
/// count as equal, so the tie rules (longer prefix, inclusion-maximal device set, all-device
/// on an RTT tie) do not depend on the order of additions.
#pragma once

#include <incision/config.hpp>

INCISION_BEGIN_NAMESPACE
namespace partition::detail {

/// Relative tie tolerance: two latencies a <= b tie when b - a <= tie_rel * b. Far above the
/// rounding of sums over 10^5 layers (about 2e-11 relative at worst), far below any difference
/// a profile can resolve.
inline constexpr double tie_rel = 1e-10;

/// Whether @p a is at most @p b up to the tie tolerance (both >= 0).
[[nodiscard]] constexpr bool tie_or_less(double a, double b) noexcept { return a <= b + tie_rel * b; }

}  // namespace partition::detail
INCISION_END_NAMESPACE
