// deprecated: moved to <incision/federated/aggregator.hpp> (namespace incision::federated)
#pragma once
#include <incision/bandit/fed_messages.hpp>
#include <incision/federated/aggregator.hpp>

INCISION_BEGIN_NAMESPACE
namespace bandit {  // the old names, for code not yet moved over
using federated::fed_aggregator;
using federated::fed_aggregator_options;
using federated::fed_traffic;
}  // namespace bandit
INCISION_END_NAMESPACE
