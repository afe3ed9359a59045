// Fuzzes the tensor decoders (one tensor, a list of named tensors): any input must decode or
// throw parse_error, never crash, hang or over-allocate. Raw inputs rarely pass the envelope's
// CRC, so half of the runs mutate the payload of a valid encoding with the input bytes and
// re-seal it with a correct checksum, which drives the record validation. A decoded value must
// re-encode to bytes that decode to the same encoding.
#include <incision/exec/tensor_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace ie = incision::exec;

namespace {

std::vector<std::byte> mutate(const std::vector<std::byte>& valid, std::span<const std::byte> input,
                              std::uint16_t kind) {
  const auto payload = incision::detail::unseal(valid, kind, "seed");
  std::vector<std::byte> p(payload.begin(), payload.end());
  if (input.size() < 2 || p.empty()) return incision::detail::seal(kind, p);
  const std::size_t off =
      (std::to_integer<std::size_t>(input[0]) * 256 + std::to_integer<std::size_t>(input[1])) % p.size();
  const auto rest = input.subspan(2);
  for (std::size_t i = 0; i < rest.size() && off + i < p.size(); ++i) p[off + i] ^= rest[i];
  if (!rest.empty() && (std::to_integer<unsigned>(rest[0]) & 1U) != 0) p.resize(off + (p.size() - off) / 2);
  return incision::detail::seal(kind, p);
}

void exercise_tensor(std::span<const std::byte> bytes) {
  try {
    ie::tensor t;
    ie::decode(bytes, t);
    std::vector<std::byte> again, third;
    ie::encode(t, again);
    ie::encode(ie::decode_tensor(again), third);
    if (again != third) std::abort();
  } catch (const incision::parse_error&) {
  }
}

void exercise_list(std::span<const std::byte> bytes) {
  try {
    ie::tensor_list ts;
    ie::decode(bytes, ts);
    std::vector<std::byte> again, third;
    ie::encode(ts, again);
    ie::tensor_list back;
    ie::decode(again, back);
    ie::encode(back, third);
    if (again != third) std::abort();
  } catch (const incision::parse_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto raw = std::as_bytes(std::span(data, size));
  static const auto seed_tensor = [] {
    std::vector<std::byte> b;
    ie::encode(ie::random_tensor({1, 2, 3, 2}, 1), b);
    return b;
  }();
  static const auto seed_list = [] {
    std::vector<std::byte> b;
    ie::encode(ie::tensor_list{{3, ie::random_tensor({2, 2}, 2)}, {8, ie::random_tensor({3}, 3)}}, b);
    return b;
  }();
  if (size == 0) return 0;
  const auto in = raw.subspan(1);
  switch (std::to_integer<unsigned>(raw[0]) % 4) {
    case 0:
      exercise_tensor(in);
      break;
    case 1:
      exercise_list(in);
      break;
    case 2:
      exercise_tensor(mutate(seed_tensor, in, ie::tensor_kind));
      break;
    default:
      exercise_list(mutate(seed_list, in, ie::tensor_list_kind));
      break;
  }
  return 0;
}
