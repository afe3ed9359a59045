/// @file
/// @brief reserve_one_more: room for one more element, with geometric growth.
///
/// Mutators with the strong guarantee reserve before their first visible change so that the
/// later push_back cannot throw. `v.reserve(v.size() + 1)` does that but reallocates on every
/// call, which makes n appends O(n^2); this keeps push_back's amortised O(1).
#pragma once

#include <incision/config.hpp>

#include <cstddef>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace detail {

/// @brief Ensures v.push_back() will not reallocate; grows the capacity by doubling.
template <class T, class Alloc>
void reserve_one_more(std::vector<T, Alloc>& v) {
  if (v.size() < v.capacity()) return;
  constexpr std::size_t smallest = 4;
  v.reserve(v.size() < smallest ? smallest : 2 * v.size());
}

}  // namespace detail
INCISION_END_NAMESPACE
