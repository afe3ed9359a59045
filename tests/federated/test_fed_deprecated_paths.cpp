// The deprecated bandit/ paths and incision::bandit names still compile and name the same
// entities (the Python bindings use them until they move to incision::federated).
#include <incision/bandit/fed_aggregator.hpp>
#include <incision/bandit/fed_linucb_dw.hpp>
#include <incision/bandit/fed_messages.hpp>
#include <incision/federated.hpp>

#include <doctest/doctest.h>

#include <type_traits>
#include <variant>

namespace ib = incision::bandit;
namespace fed = incision::federated;

static_assert(std::is_same_v<ib::fed_aggregator, fed::fed_aggregator>);
static_assert(std::is_same_v<ib::fed_linucb_dw<>, fed::fed_linucb_dw<>>);
static_assert(std::is_same_v<ib::fed_message, fed::fed_message>);
static_assert(std::is_same_v<ib::fed_traffic, fed::fed_traffic>);
static_assert(ib::fed_protocol_version == fed::fed_protocol_version);

TEST_CASE("federated: the deprecated incision::bandit names still work") {
  ib::fed_aggregator edge;
  const auto reply = ib::decode_fed_message(edge.handle(ib::encode(ib::fed_hello{1, "g", 3, 0})));
  CHECK(std::holds_alternative<ib::fed_download>(reply));
  CHECK(ib::to_string(ib::fed_reject_code::limit_exceeded) == "limit_exceeded");
  CHECK(ib::fed_message_kind(edge.broadcast("g")) == ib::fed_kind::download);
}
