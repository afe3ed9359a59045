/// @file
/// @brief Tensor serialisation: (shape, dtype, bytes) in the project's envelope, versioned,
/// checksummed and size-limited; encoders write into a caller's buffer.
///
/// Envelope (see incision/detail/bytes.hpp): "INCS", u16 version 1, u16 kind, u64 payload
/// length n, payload, u32 CRC-32 of everything before it. All integers little endian.
/// Kind 300 holds one tensor, kind 301 a list of named tensors (the exec range is 300-399).
///
/// A tensor record (offsets from the record start, r = rank, m = element count):
///
///   offset   size  field
///   0        4     layer id naming the tensor (0 in a kind-300 payload)
///   4        1     dtype: 1 = float32, IEEE-754 binary32, little endian
///   5        1     rank r (at most codec_limits::max_rank)
///   6        2     reserved, 0
///   8        8 r   extents, u64 each
///   8 + 8 r  4 m   elements, row-major
///
/// Kind 300 payload: one record. Kind 301 payload: u32 count, u32 reserved 0, then count records.
/// Decoding checks every field against the limits *before* allocating and throws
/// incision::parse_error naming what is wrong; the output is untouched when it throws.
///
/// Passes over the elements: the encoder checksums them while it copies them (one pass); the
/// decoder checks the CRC, then copies (two: copying first would touch the output of a frame that
/// turns out corrupt).
#pragma once

#include <incision/config.hpp>
#include <incision/detail/bytes.hpp>
#include <incision/detail/crc32.hpp>
#include <incision/error.hpp>
#include <incision/exec/tensor.hpp>

#include <algorithm>
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
namespace exec {

/// @brief Envelope kinds of exec objects.
inline constexpr std::uint16_t tensor_kind = 300;
inline constexpr std::uint16_t tensor_list_kind = 301;
/// @brief The only dtype today.
inline constexpr std::uint8_t dtype_float32 = 1;

/// @brief What a decoder accepts; anything larger is a parse_error before any allocation.
struct codec_limits {
  std::size_t max_rank = 8;
  std::uint64_t max_elements = std::uint64_t{1} << 28;  ///< per tensor (1 GiB of float32)
  std::size_t max_tensors = 4096;                       ///< per list
};

/// @brief Exact size of the encoding of @p t (or of the list @p ts).
[[nodiscard]] std::size_t encoded_size(const tensor& t) noexcept;
[[nodiscard]] std::size_t encoded_size(const tensor_list& ts) noexcept;

/// @brief Encodes @p t into @p out (resized to exactly encoded_size(t); no allocation when its
/// capacity suffices). @throws invalid_argument if the rank exceeds 255.
void encode(const tensor& t, std::vector<std::byte>& out);
/// @brief Encodes the named tensors @p ts (kind 301) into @p out, likewise.
void encode(const tensor_list& ts, std::vector<std::byte>& out);

/// @brief Decodes one tensor into @p out (its memory reused when the size fits).
/// @throws parse_error naming the first bad field; @p out unchanged then.
void decode(std::span<const std::byte> data, tensor& out, const codec_limits& limits = {});
/// @brief Decodes a list of named tensors into @p out (entries and their memory reused).
/// @throws parse_error naming the first bad field (also: a layer id present twice); @p out
/// unchanged then.
void decode(std::span<const std::byte> data, tensor_list& out, const codec_limits& limits = {});
/// @brief Decodes one tensor into a new tensor.
[[nodiscard]] inline tensor decode_tensor(std::span<const std::byte> data, const codec_limits& limits = {}) {
  tensor t;
  decode(data, t, limits);
  return t;
}

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {

inline void put_le(std::byte* p, std::uint64_t v, int n) noexcept {
  for (int i = 0; i < n; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFU);
}
inline std::uint64_t get_le(const std::byte* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::to_integer<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

inline std::size_t record_size(const tensor& t) noexcept { return 8 + 8 * t.dimension() + 4 * t.size(); }

// The CRC of an envelope being written front to back: bytes up to `done` are checksummed.
struct running_crc {
  std::byte* done;
  std::uint32_t value = 0;
  // checksums the bytes written since the last call, up to p
  void upto(std::byte* p) noexcept {
    value = incision::detail::crc32_update(value, std::span<const std::byte>(done, static_cast<std::size_t>(p - done)));
    done = p;
  }
  // writes n floats little endian at dst (at or after `done`), checksummed as they are copied
  void copy_floats(std::byte* dst, const float* src, std::size_t n) noexcept {
    upto(dst);
    if constexpr (std::endian::native == std::endian::little) {
      if (n != 0) value = incision::detail::crc32_copy(value, dst, reinterpret_cast<const std::byte*>(src), 4 * n);
    } else {
      for (std::size_t i = 0; i < n; ++i) put_le(dst + 4 * i, std::bit_cast<std::uint32_t>(src[i]), 4);
      value = incision::detail::crc32_update(value, std::span<const std::byte>(dst, 4 * n));
    }
    done = dst + 4 * n;
  }
};
inline void copy_floats_in(float* dst, const std::byte* src, std::size_t n) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (n != 0) std::memcpy(dst, src, 4 * n);
  } else {
    for (std::size_t i = 0; i < n; ++i)
      dst[i] = std::bit_cast<float>(static_cast<std::uint32_t>(get_le(src + 4 * i, 4)));
  }
}

inline std::byte* write_record(std::byte* p, partition::layer_id id, const tensor& t, running_crc& crc) {
  put_le(p, id, 4);
  p[4] = static_cast<std::byte>(dtype_float32);
  p[5] = static_cast<std::byte>(t.dimension());
  put_le(p + 6, 0, 2);
  p += 8;
  for (const std::size_t d : t.shape()) {
    put_le(p, d, 8);
    p += 8;
  }
  crc.copy_floats(p, t.data(), t.size());
  return p + 4 * t.size();
}

inline void check_rank(const tensor& t) {
  if (t.dimension() > 255)
    INCISION_THROW(invalid_argument(
        incision::detail::message("exec", "encode: rank " + std::to_string(t.dimension()) + " exceeds 255")));
}

// Writes the envelope around a payload of n bytes filled by fill(payload_pointer, crc): fill
// may checksum the bulk of what it writes as it copies it (crc.copy_floats); the rest is
// checksummed after it returns, so the CRC covers the whole envelope either way.
template <class Fill>
void seal_checksummed_into(std::vector<std::byte>& out, std::uint16_t kind, std::size_t n, Fill fill) {
  const std::size_t total = incision::detail::envelope_header_size + n + incision::detail::envelope_trailer_size;
  out.resize(total);
  std::byte* p = out.data();
  std::memcpy(p, incision::detail::envelope_magic.data(), 4);
  put_le(p + 4, incision::detail::envelope_version, 2);
  put_le(p + 6, kind, 2);
  put_le(p + 8, n, 8);
  running_crc crc{p};
  fill(p + incision::detail::envelope_header_size, crc);
  const std::size_t body = incision::detail::envelope_header_size + n;
  crc.upto(p + body);
  put_le(p + body, crc.value, 4);
}

// The same for a payload filled by fill(payload_pointer) alone (checksummed once it is written).
template <class Fill>
void seal_into(std::vector<std::byte>& out, std::uint16_t kind, std::size_t n, Fill fill) {
  seal_checksummed_into(out, kind, n, [&](std::byte* p, running_crc&) { fill(p); });
}

[[noreturn]] inline void fail(std::string_view what, const std::string& why) {
  INCISION_THROW(parse_error(incision::detail::message("exec", std::string(what) + ": " + why)));
}

// Checks the envelope (same rules and order as incision::detail::unseal, with the fast CRC).
inline std::span<const std::byte> open(std::span<const std::byte> data, std::uint16_t kind, std::string_view what) {
  using incision::detail::envelope_header_size;
  using incision::detail::envelope_trailer_size;
  if (data.size() < envelope_header_size + envelope_trailer_size)
    fail(what, "truncated: " + std::to_string(data.size()) + " bytes is shorter than an envelope");
  if (std::memcmp(data.data(), incision::detail::envelope_magic.data(), 4) != 0)
    fail(what, "bad magic (not incision data)");
  const auto version = static_cast<std::uint16_t>(get_le(data.data() + 4, 2));
  if (version != incision::detail::envelope_version)
    fail(what, "unsupported format version " + std::to_string(version));
  const auto got_kind = static_cast<std::uint16_t>(get_le(data.data() + 6, 2));
  const std::uint64_t n = get_le(data.data() + 8, 8);
  const std::size_t present = data.size() - envelope_header_size - envelope_trailer_size;
  if (n != present)
    fail(what, "length field says " + std::to_string(n) + " payload bytes but " + std::to_string(present) +
                   " are present (truncated or padded)");
  const std::size_t body = envelope_header_size + present;
  if (get_le(data.data() + body, 4) != incision::detail::crc32(data.first(body)))
    fail(what, "checksum mismatch (corrupted)");
  if (got_kind != kind)
    fail(what, "holds object kind " + std::to_string(got_kind) + ", expected " + std::to_string(kind));
  return data.subspan(envelope_header_size, present);
}

// One record's header, validated against the limits and the bytes present.
struct record_view {
  partition::layer_id id = 0;
  std::size_t rank = 0;
  tensor::shape_type shape;
  std::size_t elements = 0;
  const std::byte* data = nullptr;
};

inline std::size_t read_record(std::span<const std::byte> p, std::size_t pos, const codec_limits& lim,
                               std::string_view what, record_view& r) {
  const std::size_t left = p.size() - pos;
  // the message suffix is built only on failure: decoding a good frame must not allocate
  const auto at = [pos] { return " (record at payload offset " + std::to_string(pos) + ")"; };
  if (left < 8) fail(what, "truncated record header" + at());
  const std::byte* h = p.data() + pos;
  r.id = static_cast<partition::layer_id>(get_le(h, 4));
  const unsigned dtype = std::to_integer<unsigned>(h[4]);
  if (dtype != dtype_float32) fail(what, "unknown dtype " + std::to_string(dtype) + at());
  r.rank = std::to_integer<std::size_t>(h[5]);
  if (r.rank > lim.max_rank)
    fail(what, "rank " + std::to_string(r.rank) + " exceeds the limit " + std::to_string(lim.max_rank) + at());
  if (get_le(h + 6, 2) != 0) fail(what, "reserved field is not zero" + at());
  if (left - 8 < 8 * r.rank) fail(what, "truncated shape" + at());
  r.shape.resize(r.rank);
  std::uint64_t m = 1;
  for (std::size_t i = 0; i < r.rank; ++i) {
    const std::uint64_t d = get_le(h + 8 + 8 * i, 8);
    if (d > lim.max_elements || (d != 0 && m > lim.max_elements / d))
      fail(what, "element count exceeds the limit " + std::to_string(lim.max_elements) + at());
    m *= d;
    r.shape[i] = static_cast<std::size_t>(d);
  }
  const std::size_t after_shape = left - 8 - 8 * r.rank;
  if (m > after_shape / 4)
    fail(what, "truncated data: " + std::to_string(m) + " elements need " + std::to_string(4 * m) + " bytes, " +
                   std::to_string(after_shape) + " present" + at());
  r.elements = static_cast<std::size_t>(m);
  r.data = h + 8 + 8 * r.rank;
  return pos + 8 + 8 * r.rank + 4 * r.elements;
}

inline void fill_from(const record_view& r, tensor& out) {
  resize(out, r.shape);
  copy_floats_in(out.data(), r.data, r.elements);
}

}  // namespace detail

inline std::size_t encoded_size(const tensor& t) noexcept {
  return incision::detail::envelope_header_size + detail::record_size(t) + incision::detail::envelope_trailer_size;
}

inline std::size_t encoded_size(const tensor_list& ts) noexcept {
  std::size_t n = incision::detail::envelope_header_size + 8 + incision::detail::envelope_trailer_size;
  for (const named_tensor& t : ts) n += detail::record_size(t.value);
  return n;
}

inline void encode(const tensor& t, std::vector<std::byte>& out) {
  detail::check_rank(t);
  detail::seal_checksummed_into(out, tensor_kind, detail::record_size(t),
                                [&](std::byte* p, detail::running_crc& crc) { detail::write_record(p, 0, t, crc); });
}

inline void encode(const tensor_list& ts, std::vector<std::byte>& out) {
  std::size_t n = 8;
  for (const named_tensor& t : ts) {
    detail::check_rank(t.value);
    n += detail::record_size(t.value);
  }
  if (ts.size() > UINT32_MAX)
    INCISION_THROW(invalid_argument(incision::detail::message("exec", "encode: too many tensors")));
  detail::seal_checksummed_into(out, tensor_list_kind, n, [&](std::byte* p, detail::running_crc& crc) {
    detail::put_le(p, ts.size(), 4);
    detail::put_le(p + 4, 0, 4);
    p += 8;
    for (const named_tensor& t : ts) p = detail::write_record(p, t.id, t.value, crc);
  });
}

inline void decode(std::span<const std::byte> data, tensor& out, const codec_limits& limits) {
  constexpr std::string_view what = "tensor";
  const auto p = detail::open(data, tensor_kind, what);
  detail::record_view r;
  const std::size_t end = detail::read_record(p, 0, limits, what, r);
  if (r.id != 0) detail::fail(what, "layer id field of a single tensor must be 0");
  if (end != p.size()) detail::fail(what, std::to_string(p.size() - end) + " unexpected trailing bytes");
  detail::fill_from(r, out);
}

inline void decode(std::span<const std::byte> data, tensor_list& out, const codec_limits& limits) {
  constexpr std::string_view what = "tensor list";
  const auto p = detail::open(data, tensor_list_kind, what);
  if (p.size() < 8) detail::fail(what, "truncated list header");
  const std::uint64_t count = detail::get_le(p.data(), 4);
  if (detail::get_le(p.data() + 4, 4) != 0) detail::fail(what, "reserved field is not zero");
  if (count > limits.max_tensors)
    detail::fail(what,
                 "tensor count " + std::to_string(count) + " exceeds the limit " + std::to_string(limits.max_tensors));
  if (count > (p.size() - 8) / 8)
    detail::fail(what, "tensor count " + std::to_string(count) + " exceeds the data present");
  // pass 1: validate every record (out untouched)
  detail::record_view r;
  std::size_t pos = 8;
  // ids seen so far: a cut ships a few tensors, so a small array (no allocation) and a linear
  // scan; a long list sorts a copy instead
  constexpr std::size_t few = 64;
  std::array<partition::layer_id, few> small_ids{};
  std::vector<partition::layer_id> many_ids;
  if (count > few) many_ids.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    pos = detail::read_record(p, pos, limits, what, r);
    if (count <= few) {
      for (std::size_t j = 0; j < i; ++j)
        if (small_ids[j] == r.id) detail::fail(what, "layer id " + std::to_string(r.id) + " present twice");
      small_ids[static_cast<std::size_t>(i)] = r.id;
    } else {
      many_ids.push_back(r.id);
    }
  }
  if (count > few) {
    std::sort(many_ids.begin(), many_ids.end());
    const auto dup = std::adjacent_find(many_ids.begin(), many_ids.end());
    if (dup != many_ids.end()) detail::fail(what, "layer id " + std::to_string(*dup) + " present twice");
  }
  if (pos != p.size()) detail::fail(what, std::to_string(p.size() - pos) + " unexpected trailing bytes");
  // pass 2: fill
  out.resize(static_cast<std::size_t>(count));
  pos = 8;
  for (named_tensor& t : out) {
    pos = detail::read_record(p, pos, limits, what, r);
    t.id = r.id;
    detail::fill_from(r, t.value);
  }
}

}  // namespace exec
INCISION_END_NAMESPACE
