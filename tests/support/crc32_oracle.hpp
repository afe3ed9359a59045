// A bit-at-a-time CRC-32 (IEEE: reflected polynomial 0xEDB88320, register preset and final value
// inverted), independent of incision::detail::crc32: the oracle of the CRC and envelope tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace incision_test {

inline std::uint32_t bitwise_crc32(std::span<const std::byte> data) {
  std::uint32_t c = 0xFFFFFFFFU;
  for (const std::byte b : data) {
    c ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? (c >> 1) ^ 0xEDB88320U : c >> 1;
  }
  return ~c;
}

}  // namespace incision_test
