// Binding helpers for FedLinUCB-DW: message -> dict, traffic -> dict, the batched simulation loop.
#pragma once

#include "bindings/common.hpp"

#include <incision/bandit/fed_aggregator.hpp>
#include <incision/bandit/fed_linucb_dw.hpp>
#include <incision/bandit/fed_messages.hpp>
#include <incision/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace incision_py {

using fed_device = incision::bandit::fed_linucb_dw<>;

inline py::dict traffic_dict(const incision::bandit::fed_traffic& t) {
  py::dict d;
  d["messages_in"] = t.messages_in;
  d["bytes_in"] = t.bytes_in;
  d["messages_out"] = t.messages_out;
  d["bytes_out"] = t.bytes_out;
  return d;
}

inline py::dict reject_dict(const incision::bandit::fed_reject& r) {
  py::dict d;
  d["kind"] = "reject";
  d["device_id"] = r.device_id;
  d["seq"] = r.seq;
  d["code"] = std::string(incision::bandit::to_string(r.code));
  d["text"] = r.text;
  return d;
}

/// A decoded message as a plain dict (numpy arrays for statistics), for inspection and tests.
inline py::dict message_dict(const incision::bandit::fed_message& msg) {
  namespace ib = incision::bandit;
  py::dict d;
  if (const auto* h = std::get_if<ib::fed_hello>(&msg)) {
    d["kind"] = "hello";
    d["device_id"] = h->device_id;
    d["group"] = h->group;
    d["dim"] = h->dim;
    d["feature_tag"] = h->feature_tag;
  } else if (const auto* u = std::get_if<ib::fed_upload>(&msg)) {
    d["kind"] = "upload";
    d["device_id"] = u->device_id;
    d["seq"] = u->seq;
    d["count"] = u->count;
    d["encoding"] = u->as_rows ? "rows" : "dense";
    d["gram"] = Eigen::MatrixXd(u->gram);
    d["moment"] = Eigen::VectorXd(u->moment);
  } else if (const auto* dl = std::get_if<ib::fed_download>(&msg)) {
    d["kind"] = "download";
    d["group"] = dl->group;
    d["version"] = dl->version;
    d["count"] = dl->count;
    d["recipient"] = dl->recipient;
    d["acked_seq"] = dl->acked_seq;
    d["gram"] = Eigen::MatrixXd(dl->gram);
    d["moment"] = Eigen::VectorXd(dl->moment);
  } else if (const auto* a = std::get_if<ib::fed_ack>(&msg)) {
    d["kind"] = "ack";
    d["device_id"] = a->device_id;
    d["seq"] = a->seq;
    d["version"] = a->version;
  } else {
    d = reject_dict(std::get<ib::fed_reject>(msg));
  }
  return d;
}

inline std::string event_name(incision::bandit::fed_event e) {
  switch (e) {
    case incision::bandit::fed_event::download_applied: return "download_applied";
    case incision::bandit::fed_event::stale_download: return "stale_download";
    case incision::bandit::fed_event::acked: return "acked";
    case incision::bandit::fed_event::rejected: return "rejected";
  }
  return "unknown";
}

/// Runs devices in lockstep over precomputed offloading delays. Frame t of device i: select
/// (key frame flag), observe delays[i](t, arm) if the arm offloads, update; with an edge, upload
/// when the trigger fires and install the uploader's fresh download (ack + personal download).
/// Returns the chosen arms (n_devices x T).
inline Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> run_lockstep(
    const std::vector<fed_device*>& devices, incision::bandit::fed_aggregator* edge,
    const std::vector<Eigen::Ref<const row_matrix>>& delays,
    const Eigen::Ref<const Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>& key_frames) {
  const auto n = static_cast<Eigen::Index>(devices.size());
  const Eigen::Index frames = key_frames.cols();
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> arms(n, frames);
  for (Eigen::Index t = 0; t < frames; ++t) {
    for (Eigen::Index i = 0; i < n; ++i) {
      fed_device& dev = *devices[static_cast<std::size_t>(i)];
      const std::size_t a = dev.select(key_frames(i, t));
      arms(i, t) = static_cast<std::int64_t>(a);
      if (dev.learner().is_local_arm(a)) continue;
      dev.update(a, delays[static_cast<std::size_t>(i)](t, static_cast<Eigen::Index>(a)));
      if (edge != nullptr && dev.wants_upload()) {
        (void)dev.receive(edge->handle(dev.make_upload()));
        (void)dev.receive(edge->download_for(dev.device_id()));
      }
    }
  }
  return arms;
}

}  // namespace incision_py
