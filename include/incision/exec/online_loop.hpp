/// @file
/// @brief online_loop: split inference frame by frame with a learner choosing the cut.
///
/// Per frame (virtual time t0, see sim_link): the learner picks an arm (one candidate device
/// set: chain cuts, or the bandwidth map's plans on a DAG); the device runs its part; the cut
/// tensors are encoded (tensor_codec) and sent over the simulated link; the server decodes them
/// and runs the rest; the frame's delay minus the device time (the offloading delay) goes back
/// to the learner with `update(arm, delay)`. Deadline: when the server's result is not back by
/// t0 + deadline (late, link down, or server gone), the device runs the server part itself from
/// the tensors it kept, starting at the deadline (or when its own part ends, if later). No frame
/// is lost, and every frame's outputs are the unsplit network's. The result download is not
/// modelled (a few bytes of class scores).
///
/// Compute times are measured with steady_clock, or modelled from a profiled layer graph
/// (sum of the device or server times of the layers run; deterministic, for tests and
/// simulations). A steady state allocates nothing: every buffer is kept between frames.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/run_split.hpp>
#include <incision/exec/sim_link.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/exec/tensor_codec.hpp>
#include <incision/partition/bandwidth_map.hpp>
#include <incision/partition/layer_graph.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief A learner picks an arm per frame and learns from the offloading delay:
/// `select(bool key_frame)` returning the arm, `update(arm, delay_seconds)` (mu_linucb and its
/// forgetting variants model it).
template <class L>
concept cut_learner = requires(L& l, std::size_t arm, double delay) {
  { l.select(true) } -> std::convertible_to<std::size_t>;
  l.update(arm, delay);
};

/// @brief Where compute times come from.
enum class compute_timing : std::uint8_t {
  measured,  ///< steady_clock around each part
  modeled,   ///< sums of the profile's device / server times (deterministic)
};

/// @brief Options of @ref online_loop.
struct loop_options {
  double deadline = std::numeric_limits<double>::infinity();  ///< seconds from a frame's start (> 0)
  double frame_interval = 0.0;  ///< a frame starts this long after the previous one, or when it ends if later
  compute_timing timing = compute_timing::measured;
  double server_slowdown = 1.0;  ///< modeled server times are multiplied by this (a loaded server), > 0
  std::size_t key_frame_every = 1;  ///< frame f is a key frame when f % key_frame_every == 0 (>= 1)
};

/// @brief What happened to one frame. Times in seconds.
struct frame_record {
  std::uint64_t frame = 0;
  std::size_t arm = 0;
  double start = 0.0;          ///< virtual time the frame started
  double device_time = 0.0;    ///< the device part
  double transfer_time = 0.0;  ///< from the end of the device part to delivery (+inf: never)
  double server_time = 0.0;    ///< the server part on the server (0 if not run)
  double fallback_time = 0.0;  ///< the server part run on the device after the deadline
  double latency = 0.0;        ///< frame start to outputs
  double shipped_bytes = 0.0;  ///< encoded bytes sent
  bool offloaded = false;      ///< the arm has server layers
  bool fallback = false;       ///< the device finished the frame itself
};

/// @brief Every topological prefix of @p g (ascending ids): the chain cuts (on a DAG, the
/// feasible sets that cut the topological order once).
[[nodiscard]] std::vector<std::vector<partition::layer_id>> chain_candidates(const partition::layer_graph& g);
/// @brief The device sets of a bandwidth map's plans (highest bandwidth first).
[[nodiscard]] std::vector<std::vector<partition::layer_id>> map_candidates(const partition::bandwidth_map& map);

/// @brief Arms for mu_linucb from a profile: per candidate the context (server MACs, shipped
/// bytes, 1), all zeros for the all-device set, and the front delay (its device time).
struct arm_table {
  Eigen::MatrixXd contexts;
  Eigen::VectorXd front_delay;
};
[[nodiscard]] arm_table make_arms(const partition::layer_graph& profile,
                                  const std::vector<std::vector<partition::layer_id>>& candidates);

/// @brief The loop. Holds references to the learner, both backends and the link: they must
/// outlive it. Device and server may be the same object.
template <class Learner, class Device, class Server = Device>
class online_loop {
 public:
  /// @param profile the layer graph with times (e.g. from exec::profile), used by modeled timing
  /// @throws invalid_argument for no candidates, a candidate with an unknown id, a profile of
  /// another size, or bad options.
  online_loop(Learner& learner, Device& device, Server& server, sim_link& link,
              std::vector<std::vector<partition::layer_id>> candidates, partition::layer_graph profile,
              const loop_options& options = {});

  /// @brief Runs one frame of @p input; the network outputs go to @p outputs.
  /// @throws out_of_range if the learner returns an unknown arm; what the backends throw.
  frame_record run_frame(const tensor& input, tensor_list& outputs);

  /// @brief Takes the server away (every offloaded frame then falls back) or brings it back.
  void set_server_available(bool up) noexcept { server_up_ = up; }
  [[nodiscard]] double now() const noexcept { return now_; }
  [[nodiscard]] std::uint64_t frames() const noexcept { return frame_; }
  [[nodiscard]] const std::vector<std::vector<partition::layer_id>>& candidates() const noexcept { return cand_; }

 private:
  Learner& learner_;
  Device& device_;
  Server& server_;
  sim_link& link_;
  std::vector<std::vector<partition::layer_id>> cand_;
  partition::layer_graph profile_;
  loop_options opt_;
  std::vector<double> model_device_, model_server_, model_rest_;  // per candidate
  std::vector<char> all_device_;
  tensor_list cut_, received_, server_out_;
  const tensor_list no_outputs_{};  // the server outputs of an all-device frame (server_out_ keeps its memory)
  std::vector<std::byte> wire_;
  double now_ = 0.0;
  std::uint64_t frame_ = 0;
  bool server_up_ = true;

  template <class F>
  double timed(double modeled, F&& f) {
    if (opt_.timing == compute_timing::modeled) {
      f();
      return modeled;
    }
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline std::vector<std::vector<partition::layer_id>> chain_candidates(const partition::layer_graph& g) {
  std::vector<std::vector<partition::layer_id>> out;
  const auto& order = g.topological_order();
  for (std::size_t k = 1; k <= order.size(); ++k) {
    std::vector<partition::layer_id> d(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    std::sort(d.begin(), d.end());
    out.push_back(std::move(d));
  }
  return out;
}

inline std::vector<std::vector<partition::layer_id>> map_candidates(const partition::bandwidth_map& map) {
  std::vector<std::vector<partition::layer_id>> out;
  for (const auto& p : map.plans()) out.push_back(p.device_layers);
  return out;
}

inline arm_table make_arms(const partition::layer_graph& g, const std::vector<std::vector<partition::layer_id>>& cands) {
  arm_table t;
  const auto k = static_cast<Eigen::Index>(cands.size());
  t.contexts.setZero(k, 3);
  t.front_delay.setZero(k);
  std::vector<char> on(g.size());
  for (Eigen::Index a = 0; a < k; ++a) {
    std::fill(on.begin(), on.end(), char{0});
    for (const partition::layer_id v : cands[static_cast<std::size_t>(a)]) {
      (void)g.at(v);  // range check
      on[v] = 1;
    }
    double macs = 0.0, bytes = 0.0;
    for (partition::layer_id v = 0; v < g.size(); ++v) {
      if (!on[v]) {
        macs += g[v].macs;
        continue;
      }
      t.front_delay(a) += g[v].device_time;
      for (const partition::layer_id w : g.successors(v))
        if (!on[w]) {
          bytes += g[v].out_bytes;
          break;
        }
    }
    if (cands[static_cast<std::size_t>(a)].size() < g.size()) t.contexts.row(a) << macs, bytes, 1.0;
  }
  return t;
}

template <class Learner, class Device, class Server>
online_loop<Learner, Device, Server>::online_loop(Learner& learner, Device& device, Server& server, sim_link& link,
                                                  std::vector<std::vector<partition::layer_id>> candidates,
                                                  partition::layer_graph profile, const loop_options& options)
    : learner_(learner), device_(device), server_(server), link_(link), cand_(std::move(candidates)),
      profile_(std::move(profile)), opt_(options) {
  static_assert(cut_learner<Learner>, "incision::exec::online_loop: Learner must provide `select(bool key_frame)` "
                                      "returning an arm and `update(std::size_t arm, double delay)`");
  INCISION_EXEC_CHECK_BACKEND("online_loop", Device);
  INCISION_EXEC_CHECK_BACKEND("online_loop", Server);
  const auto bad = [](const std::string& why) {
    INCISION_THROW(invalid_argument(incision::detail::message("exec", "online_loop: " + why)));
  };
  const std::size_t n = device_.graph().size();
  if (cand_.empty()) bad("no candidate device sets");
  if (profile_.size() != n || server_.graph().size() != n)
    bad("the profile and both backends must describe the same network (" + std::to_string(n) + " layers)");
  if (!(opt_.deadline > 0.0) || !(opt_.frame_interval >= 0.0) || !std::isfinite(opt_.frame_interval) ||
      !(opt_.server_slowdown > 0.0) || !std::isfinite(opt_.server_slowdown) || opt_.key_frame_every == 0)
    bad("need deadline > 0, a finite frame_interval >= 0, a finite server_slowdown > 0 and key_frame_every >= 1");
  std::vector<char> on(n);
  for (const auto& d : cand_) {
    std::fill(on.begin(), on.end(), char{0});
    for (const partition::layer_id v : d) {
      if (v >= n) bad("candidate names layer " + std::to_string(v) + ", the network has " + std::to_string(n));
      on[v] = 1;
    }
    double dev = 0.0, srv = 0.0, rest = 0.0;
    for (partition::layer_id v = 0; v < n; ++v) {
      if (on[v]) dev += profile_[v].device_time;
      else {
        srv += profile_[v].server_time;
        rest += profile_[v].device_time;
      }
    }
    model_device_.push_back(dev);
    model_server_.push_back(srv);
    model_rest_.push_back(rest);
    all_device_.push_back(d.size() == n ? 1 : 0);
  }
}

template <class Learner, class Device, class Server>
frame_record online_loop<Learner, Device, Server>::run_frame(const tensor& input, tensor_list& outputs) {
  frame_record r;
  r.frame = frame_;
  r.start = now_;
  const std::size_t arm = static_cast<std::size_t>(learner_.select(frame_ % opt_.key_frame_every == 0));
  if (arm >= cand_.size())
    INCISION_THROW(out_of_range(incision::detail::message(
        "exec", "online_loop: the learner chose arm " + std::to_string(arm) + " of " + std::to_string(cand_.size()))));
  r.arm = arm;
  const device_set d = cand_[arm];
  r.device_time = timed(model_device_[arm], [&] { device_.run_device(d, input, cut_); });
  const double t_sent = now_ + r.device_time;
  if (all_device_[arm]) {
    r.latency = r.device_time;
  } else {
    r.offloaded = true;
    encode(cut_, wire_);
    r.shipped_bytes = static_cast<double>(wire_.size());
    const double arrival = link_.send(t_sent, wire_);
    r.transfer_time = arrival - t_sent;
    const double deadline_at = now_ + opt_.deadline;
    bool in_time = server_up_ && arrival < deadline_at;
    if (in_time) {
      const double modeled = model_server_[arm] * opt_.server_slowdown;
      if (opt_.timing == compute_timing::modeled && arrival + modeled > deadline_at) {
        in_time = false;  // known to be late: skip the work whose result would be dropped
      } else {
        r.server_time = timed(modeled, [&] {
          decode(wire_, received_);
          server_.run_server(d, received_, server_out_);
        });
        if (opt_.timing == compute_timing::measured) r.server_time *= opt_.server_slowdown;
        in_time = arrival + r.server_time <= deadline_at;
      }
    }
    if (in_time) {
      r.latency = arrival + r.server_time - now_;
    } else {
      r.fallback = true;
      r.fallback_time = timed(model_rest_[arm], [&] { device_.run_server(d, cut_, server_out_); });
      r.latency = std::max(t_sent, deadline_at) + r.fallback_time - now_;
    }
  }
  collect_outputs(device_.graph(), cut_, r.offloaded ? server_out_ : no_outputs_, outputs);
  learner_.update(arm, r.latency - r.device_time);
  now_ += std::max(r.latency, opt_.frame_interval);
  ++frame_;
  return r;
}

}  // namespace exec
INCISION_END_NAMESPACE
