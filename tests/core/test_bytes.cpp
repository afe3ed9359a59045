#include <incision/detail/bytes.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

using namespace incision;
using incision::detail::byte_reader;
using incision::detail::byte_writer;

namespace {
std::vector<std::byte> sample_payload() {
  byte_writer w;
  w.u8(7);
  w.u16(0xBEEF);
  w.u32(0xDEADBEEF);
  w.u64(0x0123456789ABCDEFULL);
  w.f64(-0.0);
  w.f64(std::numeric_limits<double>::infinity());
  w.f64(3.141592653589793);
  w.str("conv1");
  return w.take();
}
}  // namespace

TEST_CASE("crc32 matches the standard check value") {
  const std::string s = "123456789";
  CHECK(detail::crc32(std::as_bytes(std::span(s.data(), s.size()))) == 0xCBF43926U);
}

TEST_CASE("fields round-trip bit-exactly, little endian") {
  const auto payload = sample_payload();
  CHECK(std::to_integer<int>(payload[1]) == 0xEF);  // low byte first
  byte_reader r(payload, "sample");
  CHECK(r.u8() == 7);
  CHECK(r.u16() == 0xBEEF);
  CHECK(r.u32() == 0xDEADBEEFU);
  CHECK(r.u64() == 0x0123456789ABCDEFULL);
  const double z = r.f64();
  CHECK((z == 0.0 && std::signbit(z)));
  CHECK(std::isinf(r.f64()));
  CHECK(r.f64() == 3.141592653589793);
  CHECK(r.str() == "conv1");
  r.expect_end();
}

TEST_CASE("reader refuses to read past the end") {
  const auto payload = sample_payload();
  byte_reader r{std::span(payload).first(5), "sample"};
  CHECK(r.u8() == 7);
  CHECK(r.u16() == 0xBEEF);
  CHECK_THROWS_WITH_AS(r.u32(), doctest::Contains("truncated"), parse_error);
  byte_reader big(payload, "sample");
  CHECK_THROWS_WITH_AS(big.count(8, "arms"), doctest::Contains("exceeds the data present"), parse_error);
}

TEST_CASE("envelope: round trip, and every truncation and single-bit flip is rejected") {
  const auto payload = sample_payload();
  const auto sealed = detail::seal(42, payload);
  const auto back = detail::unseal(sealed, 42, "sample");
  CHECK(std::vector<std::byte>(back.begin(), back.end()) == payload);
  CHECK(detail::sealed_kind(sealed, "sample") == 42);
  CHECK_THROWS_WITH_AS(detail::unseal(sealed, 43, "sample"), doctest::Contains("kind 42"), parse_error);

  for (std::size_t n = 0; n < sealed.size(); ++n)
    CHECK_THROWS_AS(detail::unseal(std::span(sealed).first(n), 42, "sample"), parse_error);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = sealed;
      bad[i] ^= static_cast<std::byte>(1U << bit);
      CHECK_THROWS_AS(detail::unseal(bad, 42, "sample"), parse_error);
    }
  }
  auto padded = sealed;
  padded.push_back(std::byte{0});
  CHECK_THROWS_WITH_AS(detail::unseal(padded, 42, "sample"), doctest::Contains("padded"), parse_error);
}
