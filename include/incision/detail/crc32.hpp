/// @file
/// @brief CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320; the checksum of the shared
/// envelope, zlib's crc32) at memory speed (internal).
///
/// Two implementations, one answer:
/// - x86 with GCC or Clang, on a CPU that has PCLMULQDQ (checked once at run time with
///   __builtin_cpu_supports; the kernel is compiled for it through a function target attribute,
///   so users pass no -m flag): carry-less multiplication folds the data 64 bytes per step in four
///   independent 128-bit lanes (Gopal et al., "Fast CRC Computation for Generic Polynomials Using
///   PCLMULQDQ Instruction", Intel white paper 323102, 2009). Deviation: the last 128-bit lane and
///   the tail (under 16 bytes) are reduced with the tables below instead of the paper's Barrett
///   step; that costs a few table lookups per call and needs no SSE4.1. The folding constants are
///   computed here at compile time from the polynomial, not copied.
/// - everywhere else, and for short inputs: slicing-by-8 (eight 256-entry tables, 8 KiB; Kounavis
///   and Berry, "A Systematic Approach to Building High Performance Software-based CRC
///   Generators", ISCC 2005), eight bytes per step with independent lookups.
///
/// crc32_copy copies while it checksums, so an encoder touches its data once.
#pragma once

#include <incision/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define INCISION_DETAIL_CRC32_CLMUL 1
#include <immintrin.h>
#else
#define INCISION_DETAIL_CRC32_CLMUL 0
#endif

INCISION_BEGIN_NAMESPACE
namespace detail {

/// @brief CRC-32 of @p data (0 for an empty span).
[[nodiscard]] std::uint32_t crc32(std::span<const std::byte> data) noexcept;
/// @brief Continues a CRC-32: crc32_update(crc32(a), b) == crc32(a followed by b); start at 0.
[[nodiscard]] std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> data) noexcept;
/// @brief Copies @p n bytes from @p src to @p dst (not overlapping) and continues @p crc over them.
[[nodiscard]] std::uint32_t crc32_copy(std::uint32_t crc, std::byte* dst, const std::byte* src, std::size_t n) noexcept;
/// @brief True when crc32_update and crc32_copy use the carry-less multiply kernel on this CPU.
[[nodiscard]] bool crc32_has_clmul() noexcept;
/// @brief The portable slicing-by-8 path, whatever the CPU (the tests compare both paths).
[[nodiscard]] std::uint32_t crc32_update_portable(std::uint32_t crc, std::span<const std::byte> data) noexcept;
[[nodiscard]] std::uint32_t crc32_copy_portable(std::uint32_t crc, std::byte* dst, const std::byte* src,
                                                std::size_t n) noexcept;

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

/// t[0] is the byte-at-a-time table; t[k][i] is the CRC register after byte i followed by k zero
/// bytes, so eight bytes fold with eight independent lookups.
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t i = 0; i < 256; ++i)
    for (std::size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFU];
  return t;
}();

namespace crc32_impl {

// little-endian load; compilers turn it into one load on little-endian machines
INCISION_ALWAYS_INLINE std::uint32_t load_le32(const std::byte* p) noexcept {
  return std::to_integer<std::uint32_t>(p[0]) | (std::to_integer<std::uint32_t>(p[1]) << 8) |
         (std::to_integer<std::uint32_t>(p[2]) << 16) | (std::to_integer<std::uint32_t>(p[3]) << 24);
}

// Slicing-by-8 on the raw register (not inverted at either end).
inline std::uint32_t slice8(std::uint32_t c, const std::byte* p, std::size_t n) noexcept {
  const auto& t = crc32_tables;
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = load_le32(p) ^ c;
    const std::uint32_t hi = load_le32(p + 4);
    c = t[7][lo & 0xFFU] ^ t[6][(lo >> 8) & 0xFFU] ^ t[5][(lo >> 16) & 0xFFU] ^ t[4][lo >> 24] ^ t[3][hi & 0xFFU] ^
        t[2][(hi >> 8) & 0xFFU] ^ t[1][(hi >> 16) & 0xFFU] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ std::to_integer<std::uint32_t>(*p)) & 0xFFU] ^ (c >> 8);
  return c;
}

#if INCISION_DETAIL_CRC32_CLMUL

// x^e mod P for the (unreflected) CRC-32 polynomial P = x^32 + 0x04C11DB7.
constexpr std::uint32_t x_pow_mod_p(unsigned e) noexcept {
  std::uint32_t r = 1;
  for (unsigned i = 0; i < e; ++i) r = (r & 0x80000000U) ? (r << 1) ^ 0x04C11DB7U : r << 1;
  return r;
}
constexpr std::uint32_t reflect32(std::uint32_t v) noexcept {
  std::uint32_t r = 0;
  for (int i = 0; i < 32; ++i) r |= ((v >> i) & 1U) << (31 - i);
  return r;
}
// In the reflected bit order a 64-bit lane a stands for A(x) = sum a_i x^(63-i), and the 128-bit
// carry-less product of lanes a and k stands for A(x) K(x) x. With k = reflect32(x^(n-33) mod P),
// K = x^32 (x^(n-33) mod P), so the product is congruent to A(x) x^n: the lane moved n bits on.
constexpr std::uint64_t fold_constant(unsigned n) noexcept { return reflect32(x_pow_mod_p(n - 33)); }

// A 128-bit lane holds bytes [0, 8) in its low half (higher degree, 64 bits further from the
// end) and bytes [8, 16) in its high half. Folding it forward by d bits multiplies the low half by
// x^(d+64) and the high half by x^d.
inline constexpr std::uint64_t fold512_lo = fold_constant(512 + 64), fold512_hi = fold_constant(512);
inline constexpr std::uint64_t fold128_lo = fold_constant(128 + 64), fold128_hi = fold_constant(128);

#define INCISION_DETAIL_CLMUL_TARGET __attribute__((target("sse2,pclmul")))

INCISION_ALWAYS_INLINE INCISION_DETAIL_CLMUL_TARGET __m128i fold(__m128i lane, __m128i k) noexcept {
  // k holds (low-half constant, high-half constant)
  return _mm_xor_si128(_mm_clmulepi64_si128(lane, k, 0x00), _mm_clmulepi64_si128(lane, k, 0x11));
}

INCISION_ALWAYS_INLINE INCISION_DETAIL_CLMUL_TARGET __m128i load128(const std::byte* p) noexcept {
  __m128i v;
  std::memcpy(&v, p, sizeof v);  // an unaligned load
  return v;
}

INCISION_ALWAYS_INLINE INCISION_DETAIL_CLMUL_TARGET void store128(std::byte* p, __m128i v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

// The raw register after n >= 64 bytes (copied to dst on the way when Copy).
template <bool Copy>
INCISION_DETAIL_CLMUL_TARGET std::uint32_t clmul(std::uint32_t c, std::byte* dst, const std::byte* p,
                                                 std::size_t n) noexcept {
  const __m128i k512 = _mm_set_epi64x(static_cast<long long>(fold512_hi), static_cast<long long>(fold512_lo));
  const __m128i k128 = _mm_set_epi64x(static_cast<long long>(fold128_hi), static_cast<long long>(fold128_lo));
  __m128i x0 = load128(p), x1 = load128(p + 16), x2 = load128(p + 32), x3 = load128(p + 48);
  if constexpr (Copy) {
    store128(dst, x0), store128(dst + 16, x1), store128(dst + 32, x2), store128(dst + 48, x3);
    dst += 64;
  }
  x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128(static_cast<int>(c)));  // the register enters the first bytes
  p += 64;
  n -= 64;
  for (; n >= 64; n -= 64, p += 64) {
    const __m128i y0 = load128(p), y1 = load128(p + 16), y2 = load128(p + 32), y3 = load128(p + 48);
    if constexpr (Copy) {
      store128(dst, y0), store128(dst + 16, y1), store128(dst + 32, y2), store128(dst + 48, y3);
      dst += 64;
    }
    x0 = _mm_xor_si128(fold(x0, k512), y0);
    x1 = _mm_xor_si128(fold(x1, k512), y1);
    x2 = _mm_xor_si128(fold(x2, k512), y2);
    x3 = _mm_xor_si128(fold(x3, k512), y3);
  }
  // four lanes into one, then one 16-byte block at a time
  x1 = _mm_xor_si128(fold(x0, k128), x1);
  x2 = _mm_xor_si128(fold(x1, k128), x2);
  x0 = _mm_xor_si128(fold(x2, k128), x3);
  for (; n >= 16; n -= 16, p += 16) {
    const __m128i y = load128(p);
    if constexpr (Copy) {
      store128(dst, y);
      dst += 16;
    }
    x0 = _mm_xor_si128(fold(x0, k128), y);
  }
  // the folded lane stands for everything read so far: its CRC from a zero register, then the tail
  alignas(16) std::array<std::byte, 16> last{};
  store128(last.data(), x0);
  c = slice8(0, last.data(), 16);
  if constexpr (Copy)
    if (n != 0) std::memcpy(dst, p, n);
  return slice8(c, p, n);
}

#undef INCISION_DETAIL_CLMUL_TARGET

// below this the tables are as fast (and the kernel needs 64 bytes to start)
inline constexpr std::size_t clmul_min_bytes = 128;

#endif  // INCISION_DETAIL_CRC32_CLMUL

}  // namespace crc32_impl

inline bool crc32_has_clmul() noexcept {
#if INCISION_DETAIL_CRC32_CLMUL
  static const bool has = [] {
    __builtin_cpu_init();  // safe even when called from a static initialiser
    return __builtin_cpu_supports("pclmul") != 0;
  }();
  return has;
#else
  return false;
#endif
}

inline std::uint32_t crc32_update_portable(std::uint32_t crc, std::span<const std::byte> data) noexcept {
  return ~crc32_impl::slice8(~crc, data.data(), data.size());
}

inline std::uint32_t crc32_copy_portable(std::uint32_t crc, std::byte* dst, const std::byte* src,
                                         std::size_t n) noexcept {
  // in L1-sized blocks: each block is checksummed while it is still in cache from the copy
  constexpr std::size_t block = 4096;
  std::uint32_t c = ~crc;
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = n - done < block ? n - done : block;
    std::memcpy(dst + done, src + done, m);
    c = crc32_impl::slice8(c, src + done, m);
    done += m;
  }
  return ~c;
}

inline std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> data) noexcept {
#if INCISION_DETAIL_CRC32_CLMUL
  if (data.size() >= crc32_impl::clmul_min_bytes && crc32_has_clmul())
    return ~crc32_impl::clmul<false>(~crc, nullptr, data.data(), data.size());
#endif
  return crc32_update_portable(crc, data);
}

inline std::uint32_t crc32_copy(std::uint32_t crc, std::byte* dst, const std::byte* src, std::size_t n) noexcept {
#if INCISION_DETAIL_CRC32_CLMUL
  if (n >= crc32_impl::clmul_min_bytes && crc32_has_clmul()) return ~crc32_impl::clmul<true>(~crc, dst, src, n);
#endif
  return crc32_copy_portable(crc, dst, src, n);
}

inline std::uint32_t crc32(std::span<const std::byte> data) noexcept { return crc32_update(0, data); }

}  // namespace detail
INCISION_END_NAMESPACE
