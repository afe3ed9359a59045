// deprecated: moved to <incision/federated/linucb_dw.hpp> (namespace incision::federated)
#pragma once
#include <incision/bandit/fed_aggregator.hpp>
#include <incision/federated/linucb_dw.hpp>

INCISION_BEGIN_NAMESPACE
namespace bandit {  // the old names, for code not yet moved over
using federated::fed_event;
using federated::fed_linucb_dw;
using federated::fed_linucb_dw_options;
}  // namespace bandit
INCISION_END_NAMESPACE
