/// @file
/// @brief UTF-8 validation of stored text (layer names and types, JSON strings): what Python and
/// the JSON exporter hand on must decode. Internal.
#pragma once

#include <incision/config.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

INCISION_BEGIN_NAMESPACE
namespace detail {

/// @brief True when @p s is well-formed UTF-8 (RFC 3629: shortest forms only, no surrogates,
/// nothing above U+10FFFF).
[[nodiscard]] constexpr bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1FU, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0FU, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07U, min = 0x10000;
    } else {
      return false;  // a continuation byte or 0xF8..0xFF where a sequence must start
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<std::uint8_t>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3FU);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace detail
INCISION_END_NAMESPACE
