/// @file
/// @brief CRC-32 by slicing-by-8 (internal): the same checksum as incision::detail::crc32 (IEEE
/// 802.3, reflected), eight bytes per step.
///
/// Tensors are large: the byte-at-a-time table runs near 1 GB/s, which alone would miss the
/// codec's target of 2 GB/s for encode plus decode. Eight tables of 256 entries (8 KiB) let one
/// step fold eight bytes with independent lookups.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

INCISION_BEGIN_NAMESPACE
namespace exec::detail {

inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_slices = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  t[0] = incision::detail::crc32_table;
  for (std::size_t i = 0; i < 256; ++i)
    for (std::size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFU];
  return t;
}();

// little-endian load; compilers turn it into one load on little-endian machines
INCISION_ALWAYS_INLINE std::uint32_t load_le32(const std::byte* p) noexcept {
  return std::to_integer<std::uint32_t>(p[0]) | (std::to_integer<std::uint32_t>(p[1]) << 8) |
         (std::to_integer<std::uint32_t>(p[2]) << 16) | (std::to_integer<std::uint32_t>(p[3]) << 24);
}

/// @brief Continues a CRC-32 over @p data; start with crc = 0 (the value of an empty span).
inline std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> data) noexcept {
  const auto& t = crc32_slices;
  std::uint32_t c = ~crc;
  const std::byte* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = load_le32(p) ^ c;
    const std::uint32_t hi = load_le32(p + 4);
    c = t[7][lo & 0xFFU] ^ t[6][(lo >> 8) & 0xFFU] ^ t[5][(lo >> 16) & 0xFFU] ^ t[4][lo >> 24] ^
        t[3][hi & 0xFFU] ^ t[2][(hi >> 8) & 0xFFU] ^ t[1][(hi >> 16) & 0xFFU] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ std::to_integer<std::uint32_t>(*p)) & 0xFFU] ^ (c >> 8);
  return ~c;
}

inline std::uint32_t crc32(std::span<const std::byte> data) noexcept { return crc32_update(0, data); }

}  // namespace exec::detail
INCISION_END_NAMESPACE
