/// @file
/// @brief Portable byte encoding shared by snapshots and network messages (internal).
///
/// Every persisted or transmitted object is wrapped in one envelope:
///
///   offset  size  field
///   0       4     magic "INCS"
///   4       2     envelope format version (little endian), currently 1
///   6       2     kind: which object the payload holds (each area registers its own)
///   8       8     payload length n in bytes
///   16      n     payload (little-endian integers, IEEE-754 doubles as their 64-bit pattern)
///   16+n    4     CRC-32 (IEEE 802.3 polynomial, detail/crc32.hpp) of bytes [0, 16+n)
///
/// Decoding checks every field and throws incision::parse_error naming what is wrong; a
/// decoder never reads past the buffer.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/crc32.hpp>
#include <incision/error.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::array<char, 4> envelope_magic{'I', 'N', 'C', 'S'};
inline constexpr std::uint16_t envelope_version = 1;
inline constexpr std::size_t envelope_header_size = 16;
inline constexpr std::size_t envelope_trailer_size = 4;

/// Appends little-endian fields to a growing buffer.
class byte_writer {
 public:
  void u8(std::uint8_t v) { buf_.push_back(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) { put_le(v, 2); }
  void u32(std::uint32_t v) { put_le(v, 4); }
  void u64(std::uint64_t v) { put_le(v, 8); }
  void f64(double v) { put_le(std::bit_cast<std::uint64_t>(v), 8); }
  void f64s(std::span<const double> v) {
    for (double x : v) f64(x);
  }
  void bytes(std::span<const std::byte> v) { buf_.insert(buf_.end(), v.begin(), v.end()); }
  /// A length-prefixed string (u32 length, then the bytes).
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes(std::as_bytes(std::span(s.data(), s.size())));
  }
  [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }
  [[nodiscard]] std::vector<std::byte>& buffer() noexcept { return buf_; }
  [[nodiscard]] std::vector<std::byte> take() noexcept { return std::move(buf_); }

 private:
  void put_le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFFU));
  }
  std::vector<std::byte> buf_;
};

/// Reads little-endian fields with bounds checks; every overrun throws parse_error.
class byte_reader {
 public:
  byte_reader(std::span<const std::byte> data, std::string_view what) noexcept : data_(data), what_(what) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(get_le(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get_le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get_le(4)); }
  std::uint64_t u64() { return get_le(8); }
  double f64() { return std::bit_cast<double>(get_le(8)); }
  void f64s(std::span<double> out) {
    need(out.size() * 8);
    for (double& x : out) x = f64();
  }
  std::string str(std::size_t max_len = 1U << 20) {
    const std::uint32_t n = u32();
    if (n > max_len) fail("string length " + std::to_string(n) + " exceeds the limit");
    need(n);
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  /// A count that will size an allocation: checked against what the buffer can still hold.
  std::uint64_t count(std::size_t bytes_per_item, std::string_view field) {
    const std::uint64_t n = u64();
    if (bytes_per_item != 0 && n > remaining() / bytes_per_item)
      fail(std::string(field) + " count " + std::to_string(n) + " exceeds the data present");
    return n;
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
  /// Call after decoding: trailing bytes mean a different layout than expected.
  void expect_end() const {
    if (remaining() != 0) fail(std::to_string(remaining()) + " unexpected trailing bytes");
  }
  [[noreturn]] void fail(const std::string& why) const {
    INCISION_THROW(parse_error(message("io", std::string(what_) + ": " + why)));
  }

 private:
  void need(std::size_t n) const {
    if (n > remaining())
      fail("truncated (needs " + std::to_string(n) + " more bytes at offset " + std::to_string(pos_) + ", has " +
           std::to_string(remaining()) + ")");
  }
  std::uint64_t get_le(int n) {
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::to_integer<std::uint64_t>(data_[pos_ + static_cast<std::size_t>(i)]) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  std::string_view what_;
};

/// Wraps a payload in the envelope described in the file comment.
inline std::vector<std::byte> seal(std::uint16_t kind, std::span<const std::byte> payload) {
  byte_writer w;
  w.bytes(std::as_bytes(std::span(envelope_magic)));
  w.u16(envelope_version);
  w.u16(kind);
  w.u64(payload.size());
  w.bytes(payload);
  w.u32(crc32(w.buffer()));
  return w.take();
}

/// Checks the envelope (magic, version, kind, length, checksum) and returns the payload.
/// @throws parse_error naming the first thing that is wrong.
inline std::span<const std::byte> unseal(std::span<const std::byte> data, std::uint16_t kind, std::string_view what) {
  byte_reader r(data, what);
  if (data.size() < envelope_header_size + envelope_trailer_size)
    r.fail("truncated: " + std::to_string(data.size()) + " bytes is shorter than an envelope");
  if (std::memcmp(data.data(), envelope_magic.data(), envelope_magic.size()) != 0)
    r.fail("bad magic (not incision data)");
  byte_reader h(data.subspan(4), what);
  const std::uint16_t version = h.u16();
  if (version != envelope_version) r.fail("unsupported format version " + std::to_string(version));
  const std::uint16_t got_kind = h.u16();
  const std::uint64_t n = h.u64();
  if (n != data.size() - envelope_header_size - envelope_trailer_size)
    r.fail("length field says " + std::to_string(n) + " payload bytes but " +
           std::to_string(data.size() - envelope_header_size - envelope_trailer_size) +
           " are present (truncated or padded)");
  const std::size_t body = envelope_header_size + static_cast<std::size_t>(n);
  byte_reader t(data.subspan(body), what);
  if (t.u32() != crc32(data.first(body))) r.fail("checksum mismatch (corrupted)");
  if (got_kind != kind) r.fail("holds object kind " + std::to_string(got_kind) + ", expected " + std::to_string(kind));
  return data.subspan(envelope_header_size, static_cast<std::size_t>(n));
}

/// Reads the kind of a sealed buffer after full validation of everything but the kind.
inline std::uint16_t sealed_kind(std::span<const std::byte> data, std::string_view what) {
  if (data.size() >= 8) {
    const auto kind =
        static_cast<std::uint16_t>(std::to_integer<unsigned>(data[6]) | (std::to_integer<unsigned>(data[7]) << 8));
    (void)unseal(data, kind, what);
    return kind;
  }
  byte_reader(data, what).fail("truncated: shorter than an envelope");
}

}  // namespace detail
INCISION_END_NAMESPACE
