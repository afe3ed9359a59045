/// @file
/// @brief Portable random streams (internal): the same seed gives the same numbers everywhere.
///
/// The standard distributions (std::normal_distribution, std::bernoulli_distribution, ...) are
/// implementation-defined, so a seed gives different experiments under libstdc++, libc++ and
/// MSVC. This stream fixes every step:
/// - generator: xoshiro256** 1.0 (D. Blackman, S. Vigna, "Scrambled linear pseudorandom number
///   generators", ACM TOMS 2021), its 256-bit state filled by four outputs of splitmix64(seed)
///   as the authors recommend;
/// - uniform: the top 53 bits of one output times 2^-53, in [0, 1) (exact);
/// - standard normal: Marsaglia's polar method (u, v uniform in (-1, 1) by 2U - 1, exactly;
///   s = fma(u, u, v*v), rejected unless 0 < s < 1; both normals u*f and v*f with
///   f = sqrt(-2 ln s / s) are returned in turn, u*f first). fma is written out so that
///   floating-point contraction cannot change the result; sqrt and division are correctly
///   rounded by IEEE 754, so the stream is bit-identical wherever std::log is correctly
///   rounded for these arguments (glibc, and the reference script
///   tests/bandit/random_reference.py); elsewhere a normal may differ in its last bit;
/// - Bernoulli(p): one uniform u, true if u < p.
#pragma once

#include <incision/config.hpp>

#include <cmath>
#include <cstdint>

INCISION_BEGIN_NAMESPACE
namespace detail {

/// splitmix64 (S. Vigna, public domain): one step of the seeding generator.
constexpr std::uint64_t splitmix64_next(std::uint64_t& state) noexcept {
  state += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// @brief The portable stream described in the file comment.
class random_stream {
 public:
  explicit random_stream(std::uint64_t seed) noexcept {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64_next(sm);
  }

  /// Next 64-bit output of xoshiro256**.
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1): the top 53 bits of one output.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Standard normal (Marsaglia polar method, two per accepted pair).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0;
    double v = 0.0;
    double s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;  // exact: 2U is exact and 2U - 1 is representable
      v = 2.0 * uniform() - 1.0;
      s = std::fma(u, u, v * v);
    } while (!(s > 0.0 && s < 1.0));
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  /// True with probability p (one uniform per call, whatever p).
  bool bernoulli(double p) noexcept { return uniform() < p; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4] = {};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace detail
INCISION_END_NAMESPACE
