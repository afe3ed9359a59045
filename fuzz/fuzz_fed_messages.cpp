// Fuzzes the FedLinUCB-DW messages: the decoder, the edge aggregator and the device learner must
// accept a valid message or throw (parse_error, or invalid_argument for a well-formed message the
// receiver refuses), never crash, and a refused message must leave the receiver usable.
#include <incision/federated/aggregator.hpp>
#include <incision/federated/linucb_dw.hpp>
#include <incision/federated/messages.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace fed = incision::federated;

namespace {
Eigen::MatrixXd contexts() {
  Eigen::MatrixXd x(4, 3);
  x << 1.0, 2.0, 3.0,  //
      0.5, 1.0, 0.25,  //
      0.1, 0.0, 0.05,  //
      0.0, 0.0, 0.0;   // all on the device
  return x;
}
}  // namespace

namespace {
void exercise(std::span<const std::byte> bytes);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto raw = std::as_bytes(std::span(data, size));
  exercise(raw);
  // The checksum stops most mutations at the envelope; also seal the input as a payload of the
  // kind named by its first byte, so the payload parsers see arbitrary bytes too.
  if (size > 0) {
    const auto kind = static_cast<std::uint16_t>(200 + data[0] % 5);
    exercise(incision::detail::seal(kind, raw.subspan(1)));
  }
  return 0;
}

namespace {
void exercise(std::span<const std::byte> bytes) {
  try {
    (void)fed::decode_fed_message(bytes);
  } catch (const incision::parse_error&) {
  }

  // An edge with one registered device of dimension 3 (id 1, group "g") and one upload absorbed.
  fed::fed_aggregator edge;
  fed::fed_linucb_dw<> dev(1, "g", contexts(), Eigen::Vector4d(0.1, 0.2, 0.3, 0.4));
  (void)dev.receive(edge.handle(dev.hello()));
  dev.update(0, 0.5);
  (void)dev.receive(edge.handle(dev.make_upload()));
  try {
    (void)edge.handle(bytes);
  } catch (const incision::parse_error&) {
  }
  // Whatever happened, the edge keeps serving consistent statistics.
  const auto& g = edge.group_gram("g");
  if (!g.allFinite() || g != g.transpose()) std::abort();
  try {
    (void)dev.receive(bytes);
  } catch (const incision::parse_error&) {
  } catch (const incision::invalid_argument&) {
  }
  if (!dev.stats().gram().allFinite()) std::abort();
  // The device still works after any input.
  const auto arm = dev.select(false);
  dev.update(arm, 0.25);
}
}  // namespace
