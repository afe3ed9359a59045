// Tensor codec: layout against a second encoder built from the envelope helpers, bit-exact round
// trips, and every kind of bad bytes refused with a parse_error that names the problem.
#include <incision/detail/bytes.hpp>
#include <incision/exec/tensor_codec.hpp>

#include "support/crc32_oracle.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace ie = incision::exec;
using incision::detail::byte_writer;

namespace {

// The reference encoding, written field by field from the table in tensor_codec.hpp.
void reference_record(byte_writer& w, std::uint32_t id, const ie::tensor& t) {
  w.u32(id);
  w.u8(1);
  w.u8(static_cast<std::uint8_t>(t.dimension()));
  w.u16(0);
  for (const auto d : t.shape()) w.u64(d);
  for (const float x : t) w.u32(std::bit_cast<std::uint32_t>(x));
}
std::vector<std::byte> reference_encode(const ie::tensor& t) {
  byte_writer w;
  reference_record(w, 0, t);
  return incision::detail::seal(300, w.buffer());
}
std::vector<std::byte> reference_encode(const ie::tensor_list& ts) {
  byte_writer w;
  w.u32(static_cast<std::uint32_t>(ts.size()));
  w.u32(0);
  for (const auto& t : ts) reference_record(w, t.id, t.value);
  return incision::detail::seal(301, w.buffer());
}

bool bit_equal(const ie::tensor& a, const ie::tensor& b) {
  return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
}

std::string parse_message(std::span<const std::byte> bytes, ie::tensor& out, const ie::codec_limits& lim = {}) {
  try {
    ie::decode(bytes, out, lim);
  } catch (const incision::parse_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the trailer is the CRC-32 of everything before it (checksummed while copying)") {
  const auto bitwise = incision_test::bitwise_crc32;  // independent of incision::detail::crc32
  const auto trailer = [](const std::vector<std::byte>& b) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v |= std::to_integer<std::uint32_t>(b[b.size() - 4 + i]) << (8 * i);
    return v;
  };
  std::vector<std::byte> wire;
  // element data below, at and above the size where the CRC switches kernels, odd lengths too
  for (const std::size_t m : {0, 1, 7, 31, 32, 33, 100, 4097, 70001}) {
    ie::encode(ie::random_tensor({m}, 5), wire);
    CHECK(trailer(wire) == bitwise(std::span(wire).first(wire.size() - 4)));
  }
  ie::tensor_list list{{2, ie::random_tensor({3, 5}, 6)},
                       {4, ie::tensor::from_shape({})},
                       {9, ie::random_tensor({1, 16, 9, 9}, 7)},
                       {11, ie::tensor::from_shape({2, 0})},
                       {12, ie::random_tensor({33}, 8)}};
  list[1].value() = -1.5F;
  ie::encode(list, wire);
  CHECK(trailer(wire) == bitwise(std::span(wire).first(wire.size() - 4)));
  ie::tensor_list back;
  ie::decode(wire, back);
  REQUIRE(back.size() == list.size());
  for (std::size_t i = 0; i < list.size(); ++i) CHECK(bit_equal(back[i].value, list[i].value));
}

TEST_CASE("encode writes the documented layout and round-trips bit-exactly") {
  std::vector<ie::tensor> cases;
  cases.push_back(ie::random_tensor({1, 3, 32, 32}, 1));
  cases.push_back(ie::random_tensor({7}, 2));
  cases.push_back(ie::tensor::from_shape({2, 0, 3}));  // empty
  cases.push_back(ie::tensor::from_shape({}));         // rank 0: one element
  cases.back()() = -0.0F;
  ie::tensor specials = ie::tensor::from_shape({4});
  specials(0) = std::numeric_limits<float>::quiet_NaN();
  specials(1) = -std::numeric_limits<float>::infinity();
  specials(2) = std::numeric_limits<float>::denorm_min();
  specials(3) = -0.0F;
  cases.push_back(specials);
  std::vector<std::byte> buf;
  for (const auto& t : cases) {
    ie::encode(t, buf);
    CHECK(buf == reference_encode(t));
    CHECK(buf.size() == ie::encoded_size(t));
    CHECK(bit_equal(ie::decode_tensor(buf), t));
  }
  ie::tensor_list list{{4, ie::random_tensor({1, 8, 4, 4}, 3)}, {9, ie::random_tensor({1, 16}, 4)}, {2, cases[2]}};
  ie::encode(list, buf);
  CHECK(buf == reference_encode(list));
  CHECK(buf.size() == ie::encoded_size(list));
  ie::tensor_list back{{77, ie::random_tensor({3}, 9)}};
  ie::decode(buf, back);
  REQUIRE(back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back[i].id == list[i].id);
    CHECK(bit_equal(back[i].value, list[i].value));
  }
}

TEST_CASE("bad bytes: every truncation and every flipped byte is a parse_error; output unchanged") {
  const ie::tensor t = ie::random_tensor({2, 3, 5}, 7);
  std::vector<std::byte> good;
  ie::encode(t, good);
  const ie::tensor keep = ie::random_tensor({4}, 8);
  ie::tensor out = keep;
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(parse_message(std::span(good).first(n), out).empty());
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= std::byte{0x5A};
    CHECK_FALSE(parse_message(bad, out).empty());
  }
  CHECK(bit_equal(out, keep));
  CHECK(parse_message(std::span(good).first(10), out).find("[incision.exec] tensor: truncated") == 0);
  auto bad_crc = good;
  bad_crc[30] ^= std::byte{1};
  CHECK(parse_message(bad_crc, out).find("checksum mismatch") != std::string::npos);
  std::vector<std::byte> list_bytes;
  ie::encode(ie::tensor_list{{1, t}}, list_bytes);
  CHECK(parse_message(list_bytes, out).find("holds object kind 301, expected 300") != std::string::npos);
}

TEST_CASE("bad fields inside a valid envelope name the field, before any allocation") {
  const auto reseal = [](const std::vector<std::byte>& payload, std::uint16_t kind = 300) {
    return incision::detail::seal(kind, payload);
  };
  ie::tensor out = ie::random_tensor({2}, 1);
  const ie::tensor keep = out;
  const auto record = [](std::uint32_t id, std::uint8_t dtype, std::uint8_t rank, std::uint16_t reserved,
                         std::vector<std::uint64_t> dims, std::size_t data_bytes) {
    byte_writer w;
    w.u32(id);
    w.u8(dtype);
    w.u8(rank);
    w.u16(reserved);
    for (auto d : dims) w.u64(d);
    for (std::size_t i = 0; i < data_bytes; ++i) w.u8(0);
    return w.take();
  };
  CHECK(parse_message(reseal(record(0, 2, 1, 0, {1}, 4)), out).find("unknown dtype 2") != std::string::npos);
  CHECK(parse_message(reseal(record(0, 1, 9, 0, std::vector<std::uint64_t>(9, 1), 4)), out)
            .find("rank 9 exceeds the limit 8") != std::string::npos);
  CHECK(parse_message(reseal(record(0, 1, 1, 3, {1}, 4)), out).find("reserved field") != std::string::npos);
  CHECK(parse_message(reseal(record(0, 1, 2, 0, {1ULL << 40, 1ULL << 40}, 4)), out)
            .find("element count exceeds the limit") != std::string::npos);
  CHECK(parse_message(reseal(record(0, 1, 1, 0, {1000}, 8)), out).find("truncated data: 1000 elements") !=
        std::string::npos);
  CHECK(parse_message(reseal(record(0, 1, 1, 0, {1}, 8)), out).find("4 unexpected trailing bytes") !=
        std::string::npos);
  CHECK(parse_message(reseal(record(3, 1, 1, 0, {1}, 4)), out).find("layer id field") != std::string::npos);
  ie::codec_limits tight;
  tight.max_elements = 10;
  CHECK(parse_message(reseal(record(0, 1, 1, 0, {11}, 44)), out, tight).find("exceeds the limit 10") !=
        std::string::npos);
  CHECK(bit_equal(out, keep));

  // lists: count over the limit, duplicate ids
  ie::tensor_list lout{{5, keep}};
  const auto list_message = [&](const std::vector<std::byte>& bytes, const ie::codec_limits& lim = {}) {
    try {
      ie::decode(bytes, lout, lim);
    } catch (const incision::parse_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  byte_writer w;
  w.u32(2);
  w.u32(0);
  w.bytes(record(7, 1, 1, 0, {1}, 4));
  w.bytes(record(7, 1, 1, 0, {1}, 4));
  CHECK(list_message(reseal(w.buffer(), 301)).find("layer id 7 present twice") != std::string::npos);
  ie::codec_limits one;
  one.max_tensors = 1;
  CHECK(list_message(reseal(w.buffer(), 301), one).find("tensor count 2 exceeds the limit 1") != std::string::npos);
  byte_writer huge;
  huge.u32(4000);
  huge.u32(0);
  CHECK(list_message(reseal(huge.buffer(), 301)).find("exceeds the data present") != std::string::npos);
  REQUIRE(lout.size() == 1);
  CHECK(lout[0].id == 5);
  CHECK(bit_equal(lout[0].value, keep));
}
