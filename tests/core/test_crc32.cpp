// CRC-32 of the envelope: both paths (carry-less multiply folding where the CPU has it, and the
// portable slicing-by-8) against a bit-at-a-time oracle written from the polynomial, on every
// length 0..4096 at shifting alignments, and against published check values.
#include <incision/detail/crc32.hpp>

#include "support/crc32_oracle.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace d = incision::detail;

namespace {

using incision_test::bitwise_crc32;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng() & 0xFFU);
  return v;
}

}  // namespace

TEST_CASE("crc32: published check values, both paths") {
  MESSAGE("carry-less multiply kernel on this CPU: " << (d::crc32_has_clmul() ? "yes" : "no"));
  const std::string_view check = "123456789";
  const std::string_view fox = "The quick brown fox jumps over the lazy dog";
  CHECK(d::crc32(bytes_of(check)) == 0xCBF43926U);
  CHECK(d::crc32_update_portable(0, bytes_of(check)) == 0xCBF43926U);
  CHECK(d::crc32(bytes_of(fox)) == 0x414FA339U);
  CHECK(d::crc32({}) == 0U);
  // long enough for the folding kernel: 32 copies of the check string, and 4096 zero bytes
  std::string many;
  for (int i = 0; i < 32; ++i) many += check;
  CHECK(d::crc32(bytes_of(many)) == bitwise_crc32(bytes_of(many)));
  const std::vector<std::byte> zeros(4096);
  CHECK(d::crc32(zeros) == 0xC71C0011U);
  CHECK(d::crc32_update_portable(0, zeros) == 0xC71C0011U);
}

TEST_CASE("crc32: every length 0..4096 at shifting alignments equals the bitwise oracle, both paths") {
  const auto buf = random_bytes(4096 + 64, 1);
  std::vector<std::byte> dst(4096 + 64 + 16);
  std::size_t mismatches = 0;
  for (std::size_t n = 0; n <= 4096; ++n) {
    const std::size_t off = (n * 7) % 64;  // every alignment mod 16 many times over
    const auto s = std::span(buf).subspan(off, n);
    const std::uint32_t want = bitwise_crc32(s);
    mismatches += d::crc32(s) != want;
    mismatches += d::crc32_update_portable(0, s) != want;
    // copy variants: the copy is exact and nothing outside [dst_off, dst_off + n) is written
    const std::size_t dst_off = 8 + (n * 5) % 16;
    for (const bool portable : {false, true}) {
      std::fill(dst.begin(), dst.end(), std::byte{0xA5});
      const std::uint32_t got = portable ? d::crc32_copy_portable(0, dst.data() + dst_off, s.data(), n)
                                         : d::crc32_copy(0, dst.data() + dst_off, s.data(), n);
      mismatches += got != want;
      mismatches += n != 0 && std::memcmp(dst.data() + dst_off, s.data(), n) != 0;
      for (std::size_t i = 0; i < dst_off; ++i) mismatches += dst[i] != std::byte{0xA5};
      for (std::size_t i = dst_off + n; i < dst.size(); ++i) mismatches += dst[i] != std::byte{0xA5};
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("crc32: continuing over pieces equals one pass, across the kernel's size threshold") {
  const auto buf = random_bytes(1 << 16, 2);
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = rng() % buf.size();
    const std::size_t cut = n == 0 ? 0 : rng() % n;
    const auto all = std::span(buf).first(n);
    const std::uint32_t want = bitwise_crc32(all);
    CHECK(d::crc32_update(d::crc32(all.first(cut)), all.subspan(cut)) == want);
    CHECK(d::crc32_update_portable(d::crc32_update_portable(0, all.first(cut)), all.subspan(cut)) == want);
    std::vector<std::byte> dst(n);
    const std::uint32_t head = d::crc32(all.first(cut));
    CHECK(d::crc32_copy(head, dst.data() + cut, all.data() + cut, n - cut) == want);
  }
}

TEST_CASE("crc32: one megabyte of random bytes equals the bitwise oracle") {
  const auto buf = random_bytes(1 << 20, 4);
  const std::uint32_t want = bitwise_crc32(buf);
  CHECK(d::crc32(buf) == want);
  CHECK(d::crc32_update_portable(0, buf) == want);
  std::vector<std::byte> dst(buf.size());
  CHECK(d::crc32_copy(0, dst.data(), buf.data(), buf.size()) == want);
  CHECK(dst == buf);
}
