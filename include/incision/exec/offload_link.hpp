/// @file
/// @brief The offload link concept of the online loop: "ship this frame's cut to a server part
/// and give me its outputs and timings by a deadline". Models: sim_offload (sim_link.hpp, a
/// simulated link in front of a local server backend) and tcp_link (tcp_link.hpp, an edge
/// server over TCP).
#pragma once

#include <incision/config.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/tensor.hpp>

#include <concepts>
#include <cstdint>
#include <limits>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief One frame's server part, as the loop hands it to a link. Times in seconds on the
/// loop's clock (virtual for a simulated link; a real link measures its own wall time).
struct offload_request {
  std::uint64_t frame = 0;           ///< the loop's frame number
  device_set device_layers;          ///< the plan: the layers the device ran (ascending ids)
  const tensor_list* cut = nullptr;  ///< the tensors crossing the cut (the device keeps them for a fallback)
  double sent_at = 0.0;              ///< the device part ended and the cut is ready
  double budget = std::numeric_limits<double>::infinity();  ///< seconds from sent_at to the frame's deadline
  /// Modeled timing: the seconds the server part takes (the profile's, times the slowdown).
  /// NaN under measured timing. A simulated server uses it instead of a clock; a real one ignores it.
  double modeled_server_time = std::numeric_limits<double>::quiet_NaN();
  /// A simulated server's measured compute time is multiplied by this (a loaded server).
  double server_slowdown = 1.0;
};

/// @brief What became of it.
struct offload_result {
  bool delivered = false;  ///< the outputs argument holds the server part's outputs, in time
  /// Seconds from sent_at until the outputs were back (delivered) or the link gave up (not
  /// delivered: at once when the server is known to be unreachable, else at the deadline).
  double elapsed = 0.0;
  /// The wire's part: cut upload (plus, over a real link, the reply's way back and queueing).
  /// +infinity when the cut is not known to have arrived.
  double transfer_time = 0.0;
  double server_time = 0.0;    ///< compute on the server (0 if it did not run)
  double shipped_bytes = 0.0;  ///< bytes put on the wire (0 if nothing was sent)
};

/// @brief L ships a frame's cut to a server part: `offload(const offload_request&, tensor_list&
/// outputs)` returning an `offload_result`.
template <class L>
concept has_offload = requires(L& l, const offload_request& r, tensor_list& outputs) {
  { l.offload(r, outputs) } -> std::same_as<offload_result>;
};

//! @brief A link the online loop can offload through.
//!
//! Syntactic requirement: has_offload. Optional: `set_server_available(bool)` (a simulated
//! server taken away and brought back; the loop forwards its own switch to it).
//!
//! Semantic contract of `offload(r, outputs)`:
//! - Runs the server part of `r.device_layers` on the tensors `*r.cut` somewhere else and, when
//!   they are back within `r.budget` seconds of `r.sent_at`, sets @p outputs to the server
//!   part's outputs (the backend's `run_server` contract: successor-less tensors outside the
//!   device set, ascending ids) and returns `delivered = true`.
//! - Otherwise returns `delivered = false` no later than the budget (a real link never blocks
//!   beyond it, connects included) and leaves @p outputs unspecified; the loop then completes
//!   the frame on the device. A result that arrives later is dropped, never handed to a later
//!   frame. The link computes nothing locally: the fallback is the loop's, once per frame.
//! - `elapsed`, `transfer_time`, `server_time` and `shipped_bytes` as documented on
//!   offload_result; a delivered frame's `elapsed` is `transfer_time + server_time`.
//! - Bad arguments throw as the server backend does; a broken connection is not an error (the
//!   frame is simply not delivered).
template <class L>
concept offload_link = has_offload<L>;

}  // namespace exec
INCISION_END_NAMESPACE

/// Static check with an API-qualified message, used at the entry points taking a link.
#define INCISION_EXEC_CHECK_LINK(fn, Link)                                                                   \
  static_assert(::incision::exec::has_offload<Link>, "incision::exec::" fn                                   \
                                                     ": Link must provide `offload(const offload_request&, " \
                                                     "tensor_list& outputs)` returning `offload_result`")
