/// @file
/// @brief The device <-> edge round trip, written once: `exchange` (upload -> ack -> personal
/// download, in one process) and `run_lockstep` (devices in lockstep over recorded delays).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/linucb_dw.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace federated {

/// @brief What one @ref exchange moved and did.
struct exchange_result {
  std::size_t bytes = 0;               ///< upload + reply + download bytes
  fed_event reply = fed_event::acked;  ///< acked, or rejected (then the data stays buffered)
  bool downloaded = false;             ///< a personal download was installed (only after an ack)
};

/// @brief One round trip in one process: the device's upload, the edge's reply (ack or reject)
/// and, after an ack, the device's fresh personal download.
/// @throws invalid_argument if the device has nothing buffered or an upload in flight (nothing
/// changes then).
template <int Dim>
exchange_result exchange(fed_linucb_dw<Dim>& device, fed_aggregator& edge) {
  exchange_result r;
  const auto up = device.make_upload();  // throws first if there is nothing to send
  const auto reply = edge.handle(up);
  r.reply = device.receive(reply);
  r.bytes = up.size() + reply.size();
  if (r.reply == fed_event::acked) {
    const auto down = edge.download_for(device.device_id());
    r.downloaded = device.receive(down) == fed_event::download_applied;
    r.bytes += down.size();
  }
  return r;
}

/// @brief Chosen arms of `run_lockstep`: one row per device, one column per frame.
using lockstep_arms = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// @brief One device's offloading delays: frames x arms, row-major.
using delay_table = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// @brief Key-frame flags: devices x frames, row-major.
using key_frame_table = Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// @brief Runs devices in lockstep over recorded offloading delays.
///
/// Frame t of device i: select (key frame flag key_frames(i, t)); if the arm offloads, update with
/// delays[i](t, arm); with an edge, @ref exchange whenever the device's trigger fires. Without an
/// edge (nullptr) the devices learn alone.
/// @returns the chosen arms (devices x frames).
/// @throws invalid_argument before any change if a device pointer is null or repeated, the table
/// count or a table's shape (frames x n_arms) or key_frames' shape (devices x frames) is wrong, or
/// a delay is not finite. After that a run changes every device, and the edge, frame by frame.
template <int Dim = Eigen::Dynamic>
lockstep_arms run_lockstep(std::type_identity_t<std::span<fed_linucb_dw<Dim>* const>> devices, fed_aggregator* edge,
                           std::span<const Eigen::Ref<const delay_table>> delays,
                           const Eigen::Ref<const key_frame_table>& key_frames) {
  auto fail = [](const std::string& what) {
    INCISION_THROW(invalid_argument(incision::detail::message("federated", "run_lockstep: " + what)));
  };
  const auto n = static_cast<Eigen::Index>(devices.size());
  const Eigen::Index frames = key_frames.cols();
  if (delays.size() != devices.size() || key_frames.rows() != n)
    fail("need one delay table and one key-frame row per device (" + std::to_string(devices.size()) + " devices, " +
         std::to_string(delays.size()) + " tables, " + std::to_string(key_frames.rows()) + " rows)");
  std::vector<const void*> seen(devices.begin(), devices.end());
  std::sort(seen.begin(), seen.end());
  if (std::find(seen.begin(), seen.end(), nullptr) != seen.end()) fail("a device is null");
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) fail("a device appears twice");
  for (std::size_t i = 0; i < devices.size(); ++i) {
    if (delays[i].rows() != frames || delays[i].cols() != static_cast<Eigen::Index>(devices[i]->n_arms()))
      fail("delay table " + std::to_string(i) + " must be (frames, n_arms) = (" + std::to_string(frames) + ", " +
           std::to_string(devices[i]->n_arms()) + ")");
    if (!delays[i].allFinite()) fail("delay table " + std::to_string(i) + " holds NaN or infinity");
  }
  lockstep_arms arms(n, frames);
  for (Eigen::Index t = 0; t < frames; ++t) {
    for (Eigen::Index i = 0; i < n; ++i) {
      fed_linucb_dw<Dim>& dev = *devices[static_cast<std::size_t>(i)];
      const std::size_t a = dev.select(key_frames(i, t));
      arms(i, t) = static_cast<std::int64_t>(a);
      if (dev.learner().is_local_arm(a)) continue;
      dev.update(a, delays[static_cast<std::size_t>(i)](t, static_cast<Eigen::Index>(a)));
      if (edge != nullptr && dev.wants_upload()) (void)exchange(dev, *edge);
    }
  }
  return arms;
}

}  // namespace federated
INCISION_END_NAMESPACE
