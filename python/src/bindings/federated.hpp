// Binding helpers for FedLinUCB-DW: message, traffic and options -> dict, event -> name.
#pragma once

#include "bindings/common.hpp"

#include <incision/federated/aggregator.hpp>
#include <incision/federated/exchange.hpp>
#include <incision/federated/linucb_dw.hpp>
#include <incision/federated/messages.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace incision_py {

using fed_device = incision::federated::fed_linucb_dw<>;

inline py::dict traffic_dict(const incision::federated::fed_traffic& t) {
  py::dict d;
  d["messages_in"] = t.messages_in;
  d["bytes_in"] = t.bytes_in;
  d["messages_out"] = t.messages_out;
  d["bytes_out"] = t.bytes_out;
  return d;
}

inline py::dict reject_dict(const incision::federated::fed_reject& r) {
  py::dict d;
  d["kind"] = "reject";
  d["device_id"] = r.device_id;
  d["seq"] = r.seq;
  d["code"] = std::string(incision::federated::to_string(r.code));
  d["text"] = r.text;
  return d;
}

/// A decoded message as a plain dict (numpy arrays for statistics), for inspection and tests.
inline py::dict message_dict(const incision::federated::fed_message& msg) {
  namespace fed = incision::federated;
  py::dict d;
  if (const auto* h = std::get_if<fed::fed_hello>(&msg)) {
    d["kind"] = "hello";
    d["device_id"] = h->device_id;
    d["group"] = h->group;
    d["dim"] = h->dim;
    d["feature_tag"] = h->feature_tag;
  } else if (const auto* u = std::get_if<fed::fed_upload>(&msg)) {
    d["kind"] = "upload";
    d["device_id"] = u->device_id;
    d["seq"] = u->seq;
    d["count"] = u->count;
    d["encoding"] = u->as_rows ? "rows" : "dense";
    d["gram"] = Eigen::MatrixXd(u->gram);
    d["moment"] = Eigen::VectorXd(u->moment);
  } else if (const auto* dl = std::get_if<fed::fed_download>(&msg)) {
    d["kind"] = "download";
    d["group"] = dl->group;
    d["version"] = dl->version;
    d["count"] = dl->count;
    d["recipient"] = dl->recipient;
    d["acked_seq"] = dl->acked_seq;
    d["gram"] = Eigen::MatrixXd(dl->gram);
    d["moment"] = Eigen::VectorXd(dl->moment);
  } else if (const auto* a = std::get_if<fed::fed_ack>(&msg)) {
    d["kind"] = "ack";
    d["device_id"] = a->device_id;
    d["seq"] = a->seq;
    d["version"] = a->version;
  } else {
    d = reject_dict(std::get<fed::fed_reject>(msg));
  }
  return d;
}

inline py::dict options_dict(const incision::federated::fed_aggregator_options& o) {
  py::dict d;
  d["max_groups"] = o.max_groups;
  d["max_devices"] = o.max_devices;
  d["max_dim"] = o.max_dim;
  d["max_message_bytes"] = o.max_message_bytes;
  d["memory_budget"] = o.memory_budget;
  d["max_group_count"] = o.max_group_count;
  d["psd_slack"] = o.psd_slack;
  d["max_statistic"] = o.max_statistic;
  return d;
}

inline std::string event_name(incision::federated::fed_event e) {
  switch (e) {
    case incision::federated::fed_event::download_applied:
      return "download_applied";
    case incision::federated::fed_event::stale_download:
      return "stale_download";
    case incision::federated::fed_event::acked:
      return "acked";
    case incision::federated::fed_event::rejected:
      return "rejected";
  }
  return "unknown";
}

inline py::dict exchange_dict(const incision::federated::exchange_result& r) {
  py::dict d;
  d["bytes"] = r.bytes;
  d["reply"] = event_name(r.reply);
  d["downloaded"] = r.downloaded;
  return d;
}

}  // namespace incision_py
