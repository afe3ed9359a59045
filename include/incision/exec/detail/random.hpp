/// @file
/// @brief Portable pseudo-random floats for weights and test inputs (internal).
///
/// std::uniform_real_distribution is implementation-defined, so the same seed gives different
/// weights on libstdc++ and libc++. The raw output of std::mt19937_64 is specified by the
/// standard; the transform here is ours: the top 24 bits of a draw scaled to [0, 1), which is
/// exact in float. Same seed, same numbers, on every platform.
#pragma once

#include <incision/config.hpp>

#include <cstdint>
#include <random>

INCISION_BEGIN_NAMESPACE
namespace exec::detail {

/// @brief Seeded generator of uniform floats (see the file comment for the exact transform).
class uniform_source {
 public:
  explicit uniform_source(std::uint64_t seed) noexcept : engine_(seed) {}
  /// @brief (top 24 bits of the next mt19937_64 draw) * 2^-24, in [0, 1).
  float unit() noexcept { return static_cast<float>(engine_() >> 40) * (1.0F / 16777216.0F); }
  /// @brief lo + (hi - lo) * unit().
  float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * unit(); }

 private:
  std::mt19937_64 engine_;
};

/// @brief A per-object seed from a network seed and an index (splitmix64 finaliser), so layer k
/// gets the same weights whatever the layers built before it.
constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) noexcept {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace exec::detail
INCISION_END_NAMESPACE
