// deprecated: moved to <incision/federated/messages.hpp> (namespace incision::federated)
#pragma once
#include <incision/federated/messages.hpp>

INCISION_BEGIN_NAMESPACE
namespace bandit {  // the old names, for code not yet moved over
using federated::decode_fed_message;
using federated::encode;
using federated::fed_ack;
using federated::fed_download;
using federated::fed_hello;
using federated::fed_kind;
using federated::fed_max_count;
using federated::fed_max_dim;
using federated::fed_max_group_length;
using federated::fed_max_text_length;
using federated::fed_message;
using federated::fed_message_kind;
using federated::fed_protocol_version;
using federated::fed_reject;
using federated::fed_reject_code;
using federated::fed_rows_are_smaller;
using federated::fed_upload;
using federated::to_string;
}  // namespace bandit
INCISION_END_NAMESPACE
