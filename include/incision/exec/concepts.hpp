/// @file
/// @brief The extension point of incision::exec: the inference backend, composed from small
/// named concepts so a diagnostic names the missing piece.
#pragma once

#include <incision/config.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <concepts>
#include <span>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief A device layer set: ascending layer ids of the backend's graph (partition::plan's
/// `device_layers`).
using device_set = std::span<const partition::layer_id>;

/// @brief B describes its network as a layer graph: `graph() const` returning a
/// `const partition::layer_graph&` (so DSL, DSH, chain scan and the bandwidth map apply as is).
template <class B>
concept has_graph = requires(const B& b) {
  { b.graph() } -> std::convertible_to<const partition::layer_graph&>;
};

/// @brief B runs the device part of a device set: `run_device(device_set, const tensor& input,
/// tensor_list& cut)`.
template <class B>
concept has_run_device = requires(B& b, device_set d, const tensor& input, tensor_list& cut) {
  b.run_device(d, input, cut);
};

/// @brief B runs the server part from the tensors crossing the cut: `run_server(device_set,
/// const tensor_list& cut, tensor_list& outputs)`.
template <class B>
concept has_run_server = requires(B& b, device_set d, const tensor_list& cut, tensor_list& outputs) {
  b.run_server(d, cut, outputs);
};

//! @brief An inference backend: runs any split of its network.
//!
//! Syntactic requirements: has_graph, has_run_device, has_run_server.
//!
//! Semantic contract:
//! - `graph()` is a layer graph with exactly one input layer (no predecessors), whose output is
//!   the frame's input tensor; it does not change while the backend is used. Layer ids name
//!   the tensors: the tensor of layer v is v's output.
//! - `run_device(d, x, cut)`: @p d is a feasible device set (ascending ids, holds the input and
//!   every predecessor of its members; partition::plan::device_layers is one). Computes every
//!   layer of d from the input @p x and sets @p cut to exactly the tensors of the layers of d
//!   that have a successor outside d or no successor at all (a network output computed on the
//!   device), in ascending id order. Several tensors cross a cut on a DAG.
//! - `run_server(d, cut, outputs)`: the same d; @p cut holds (at least) the tensors the device
//!   run produced. Computes every layer outside d and sets @p outputs to the tensors of the
//!   layers outside d without successors, in ascending id order (empty when d is every layer).
//! - A frame's outputs are the successor-less tensors of both lists. For every feasible d they
//!   equal those of the unsplit run (d = every layer): bit for bit when both parts run the same
//!   kernels, as the reference CPU backend does.
//! - Bad arguments (an infeasible or unknown set, a wrong input shape, a missing or misshapen
//!   cut tensor) throw incision::invalid_argument naming the problem. A backend reuses the
//!   memory of @p cut and @p outputs, so a steady state need not allocate.
//! - Backends that can only run fixed pieces (exported head/tail models) model the concept
//!   through `presplit_backend`, which offers chain cuts only.
template <class B>
concept inference_backend = has_graph<B> && has_run_device<B> && has_run_server<B>;

}  // namespace exec
INCISION_END_NAMESPACE

/// Static checks with API-qualified messages, used at the top of every exec entry point.
#define INCISION_EXEC_CHECK_BACKEND(fn, Backend)                                                                   \
  static_assert(::incision::exec::has_graph<Backend>, "incision::exec::" fn                                        \
                                                      ": Backend must provide `graph() const` returning a "        \
                                                      "`const incision::partition::layer_graph&`");                \
  static_assert(::incision::exec::has_run_device<Backend>, "incision::exec::" fn                                   \
                                                           ": Backend must provide `run_device(device_set, const " \
                                                           "tensor& input, tensor_list& cut)`");                   \
  static_assert(::incision::exec::has_run_server<Backend>, "incision::exec::" fn                                   \
                                                           ": Backend must provide `run_server(device_set, const " \
                                                           "tensor_list& cut, tensor_list& outputs)`")
