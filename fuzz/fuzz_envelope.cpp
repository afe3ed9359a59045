// Fuzzes the shared envelope decoder: any input must decode or throw parse_error, never crash.
#include <incision/detail/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  try {
    (void)incision::detail::sealed_kind(bytes, "fuzz input");
  } catch (const incision::parse_error&) {
  }
  return 0;
}
