// Fuzzes the network frame decoder (exec/wire.hpp) the way a server reads a stream: header
// check against the limit, then the whole frame (CRC), then the message by kind, then the
// tensors a request or reply carries. Any input must decode or throw parse_error, never crash,
// hang or over-allocate. Raw inputs rarely pass the CRC, so half of the runs wrap the input as a
// payload of a kind chosen by its first byte and seal it with a correct checksum, which drives
// the message decoders' own field validation.
#include <incision/exec/wire.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ie = incision::exec;

namespace {
void decode_stream(std::span<const std::byte> bytes) {
  ie::wire_limits lim;
  lim.max_frame_bytes = 1U << 20;
  try {
    const ie::frame_header h = ie::read_frame_header(bytes, lim);
    if (bytes.size() < ie::frame_header_size + h.rest()) return;  // a reader would wait for more
    const auto f = ie::open_frame(bytes.first(ie::frame_header_size + h.rest()), lim);
    ie::codec_limits cl;
    cl.max_elements = 1U << 18;
    ie::tensor_list ts;
    switch (static_cast<ie::wire_kind>(f.kind)) {
      case ie::wire_kind::hello:
        (void)ie::decode_hello(f.payload);
        break;
      case ie::wire_kind::welcome:
        (void)ie::decode_welcome(f.payload, lim);
        break;
      case ie::wire_kind::error:
        (void)ie::decode_error(f.payload, lim);
        break;
      case ie::wire_kind::request: {
        ie::wire_request r;
        ie::decode_request(f.payload, r, lim);
        ie::decode(r.tensors, ts, cl);
        break;
      }
      case ie::wire_kind::reply: {
        const auto r = ie::decode_reply(f.payload, lim);
        if (r.status == ie::wire_status::ok) ie::decode(r.tensors, ts, cl);
        break;
      }
      default:
        break;
    }
  } catch (const incision::parse_error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  if (size == 0 || (data[0] & 1U) == 0) {
    decode_stream(bytes);
    return 0;
  }
  // sealed: kind 310 + (data[0] >> 1) % 5, payload = the rest
  const auto kind = static_cast<std::uint16_t>(310 + (data[0] >> 1) % 5);
  std::vector<std::byte> frame;
  ie::detail::seal_into(frame, kind, size - 1, [&](std::byte* p) {
    for (std::size_t i = 1; i < size; ++i) p[i - 1] = bytes[i];
  });
  decode_stream(frame);
  return 0;
}
