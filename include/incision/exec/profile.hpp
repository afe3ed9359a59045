/// @file
/// @brief profile: times each layer of a backend on this machine and returns its layer graph
/// with device time, server time and output bytes filled, ready for any partitioner:
/// @code{.cpp}
/// exec::cpu_backend net(exec::example_network("resnet"));
/// auto g = exec::profile(net, exec::random_tensor(net.input_shape(), 1), {.server_speedup = 10});
/// auto plan = partition::dsl(g, 1e6);  // 1 MB/s uplink
/// @endcode
///
/// Per layer time = the median of `repeats` timed runs after `warmup` untimed ones. A backend
/// that can recompute one layer (optional members `run_layer(layer_id)` and `value(layer_id)`,
/// as cpu_backend has) is timed layer by layer after one full run. Any other backend is timed by
/// device prefixes in topological order: layer k's time = median(prefix k) - median(prefix
/// k - 1), clamped at 0 (coarser: includes the cut copies; noise can move time between layers).
/// Output bytes: 4 per element of the layer's tensor as the backend produced it (layers never
/// seen in a cut keep the graph's value). Server times: device time / server_speedup, or
/// measured on a second backend (the two-backend overload).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/run_split.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Options of @ref profile.
struct profile_options {
  std::size_t repeats = 5;      ///< timed runs per layer (>= 1); the median is kept
  std::size_t warmup = 1;       ///< untimed runs first
  double server_speedup = 1.0;  ///< server time = device time / server_speedup (> 0, finite)
};

/// @brief Optional capability: recompute one layer from the stored values and read its output.
template <class B>
concept has_run_layer = requires(B& b, const B& cb, partition::layer_id v) {
  b.run_layer(v);
  { cb.value(v) } -> std::convertible_to<const tensor&>;
};

/// @brief Times every layer of @p backend on @p input; server times by the speed factor.
/// @throws invalid_argument for bad options, and what the backend throws.
template <class Backend>
[[nodiscard]] partition::layer_graph profile(Backend& backend, const tensor& input,
                                             const profile_options& options = {});
/// @brief Times every layer on @p device and on @p server (same network); the server's
/// measured times become the server times (server_speedup ignored).
/// @throws invalid_argument if the two graphs differ in size.
template <class Device, class Server>
requires has_graph<Server>  // tells this overload from profile(backend, input, options)
[[nodiscard]] partition::layer_graph profile(Device& device, Server& server, const tensor& input,
                                             const profile_options& options = {});

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {

inline void check_profile_options(const profile_options& o) {
  if (o.repeats == 0 || !(o.server_speedup > 0.0) || !std::isfinite(o.server_speedup))
    INCISION_THROW(invalid_argument(
        incision::detail::message("exec", "profile: repeats must be >= 1 and server_speedup finite and > 0")));
}

template <class F>
double median_seconds(const profile_options& o, std::vector<double>& samples, F&& f) {
  for (std::size_t i = 0; i < o.warmup; ++i) f();
  samples.clear();
  for (std::size_t i = 0; i < o.repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2), samples.end());
  return samples[samples.size() / 2];
}

// Per-layer device times and output bytes of one backend.
template <class Backend>
void time_layers(Backend& b, const tensor& input, const profile_options& o, std::vector<double>& times,
                 std::vector<double>& bytes) {
  const partition::layer_graph& g = b.graph();
  g.require_nonempty("profile");
  const std::size_t n = g.size();
  times.assign(n, 0.0);
  bytes.assign(g.out_bytes().begin(), g.out_bytes().end());
  std::vector<double> samples;
  tensor_list cut;
  if constexpr (has_run_layer<Backend>) {
    const auto all = all_layers(g);
    b.run_device(all, input, cut);
    for (partition::layer_id v = 0; v < n; ++v) {
      times[v] = median_seconds(o, samples, [&] { b.run_layer(v); });
      bytes[v] = 4.0 * static_cast<double>(b.value(v).size());
    }
  } else {
    const auto& order = g.topological_order();
    std::vector<partition::layer_id> prefix;
    double before = 0.0;
    for (std::size_t k = 1; k <= n; ++k) {
      prefix.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
      std::sort(prefix.begin(), prefix.end());
      const double t = median_seconds(o, samples, [&] { b.run_device(prefix, input, cut); });
      times[order[k - 1]] = std::max(0.0, t - before);
      before = t;
      for (const named_tensor& c : cut)
        if (c.id < n) bytes[c.id] = 4.0 * static_cast<double>(c.value.size());
    }
  }
}

}  // namespace detail

template <class Backend>
partition::layer_graph profile(Backend& backend, const tensor& input, const profile_options& options) {
  INCISION_EXEC_CHECK_BACKEND("profile", Backend);
  detail::check_profile_options(options);
  std::vector<double> times, bytes;
  detail::time_layers(backend, input, options, times, bytes);
  partition::layer_graph g = backend.graph();
  for (partition::layer_id v = 0; v < g.size(); ++v)
    g.set_costs(v, times[v], times[v] / options.server_speedup, bytes[v]);
  return g;
}

template <class Device, class Server>
requires has_graph<Server> partition::layer_graph profile(Device& device, Server& server, const tensor& input,
                                                          const profile_options& options) {
  INCISION_EXEC_CHECK_BACKEND("profile", Device);
  INCISION_EXEC_CHECK_BACKEND("profile", Server);
  detail::check_profile_options(options);
  if (device.graph().size() != server.graph().size())
    INCISION_THROW(invalid_argument(incision::detail::message(
        "exec", "profile: the device and server networks differ (" + std::to_string(device.graph().size()) + " and " +
                    std::to_string(server.graph().size()) + " layers)")));
  std::vector<double> dev, srv, bytes, unused;
  detail::time_layers(device, input, options, dev, bytes);
  detail::time_layers(server, input, options, srv, unused);
  partition::layer_graph g = device.graph();
  for (partition::layer_id v = 0; v < g.size(); ++v) g.set_costs(v, dev[v], srv[v], bytes[v]);
  return g;
}

}  // namespace exec
INCISION_END_NAMESPACE
