/// @file
/// @brief online_loop: split inference frame by frame with a learner choosing the cut.
///
/// Per frame (loop time t0): the learner picks an arm (one candidate device set: chain cuts, or
/// the bandwidth map's plans on a DAG); the device runs its part; the tensors crossing the cut go
/// to the server part through an offload link (offload_link.hpp): a simulated link in front of a
/// local server backend (sim_offload: the cut is encoded, sent over the sim_link, decoded and
/// run), or an edge server over TCP (tcp_link). The frame's delay minus the device time (the
/// offloading delay) goes back to the learner with `update(arm, delay)`. Deadline: when the
/// link does not deliver the server part's outputs by t0 + deadline (late, link down, or server
/// gone), the device runs the server part itself from the tensors it kept, starting when the
/// link gave up (a simulated link: at the deadline; a TCP link: at once when the edge is known
/// to be unreachable). No frame is lost, every frame's outputs are the unsplit network's, and
/// the server part is computed locally at most once per frame (the fallback). The result
/// download is modelled only by a real link (it is in its round trip).
///
/// Compute times are measured with steady_clock, or modeled from a profiled layer graph
/// (sum of the device or server times of the layers run; deterministic, for tests and
/// simulations). Over a real link, modeled timing replaces the compute times the learner sees
/// (device, server and fallback parts), while the wire time and the deadline stay real.
/// The loop's clock advances by each frame's latency (or the frame interval, if longer); it is
/// virtual: the loop never sleeps. A steady state allocates nothing: every buffer is kept
/// between frames.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/offload_link.hpp>
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
#include <type_traits>
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
  double server_slowdown = 1.0;     ///< modeled server times are multiplied by this (a loaded server), > 0
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

/// @brief The loop over a learner, a device backend and an offload link. Holds references to
/// the learner, the backends and the link: they must outlive it. Two ways in:
/// - `online_loop(learner, device, server, sim_link, ...)`: a simulated link in front of a local
///   server backend (Link = sim_offload<Server>, built by the loop); device and server may be the
///   same object.
/// - `online_loop(learner, device, link, ...)`: any offload link, e.g. a tcp_link to an edge
///   server (Server is then unused and defaults to Device).
template <class Learner, class Device, class Server = Device, class Link = sim_offload<Server>>
class online_loop {
 public:
  /// @brief The loop over a simulated link and a local server backend.
  /// @param profile the layer graph with times (e.g. from exec::profile), used by modeled timing
  /// @throws invalid_argument for no candidates, a candidate with an unknown id, a profile of
  /// another size, or bad options.
  online_loop(Learner& learner, Device& device, Server& server, sim_link& link,
              std::vector<std::vector<partition::layer_id>> candidates, partition::layer_graph profile,
              const loop_options& options = {}) requires std::same_as<Link, sim_offload<Server>>
      : online_loop(learner, device, Link(link, server), std::move(candidates), std::move(profile), options,
                    server.graph().size()) {}

  /// @brief The loop over an offload link (the server part runs wherever the link takes it).
  /// @throws invalid_argument as above.
  online_loop(Learner& learner, Device& device, Link& link, std::vector<std::vector<partition::layer_id>> candidates,
              partition::layer_graph profile, const loop_options& options = {})
      : online_loop(learner, device, link, std::move(candidates), std::move(profile), options, device.graph().size()) {}

  /// @brief Runs one frame of @p input; the network outputs go to @p outputs.
  /// @throws out_of_range if the learner returns an unknown arm; what the backends throw.
  frame_record run_frame(const tensor& input, tensor_list& outputs);

  /// @brief Takes the server away (every offloaded frame then falls back) or brings it back.
  /// Forwarded to a link that has `set_server_available` (a simulated server: the cut still
  /// travels and the device waits out the deadline); with any other link the loop itself stops
  /// offloading (the frame falls back at once, nothing is sent).
  void set_server_available(bool up) noexcept {
    if constexpr (requires { link().set_server_available(up); }) link().set_server_available(up);
    server_up_ = up;
  }
  [[nodiscard]] double now() const noexcept { return now_; }
  [[nodiscard]] std::uint64_t frames() const noexcept { return frame_; }
  [[nodiscard]] const std::vector<std::vector<partition::layer_id>>& candidates() const noexcept { return cand_; }
  /// @brief The offload link (the loop's own sim_offload when built from a sim_link).
  [[nodiscard]] Link& link() noexcept { return link_; }

 private:
  // The simulated link's adapter is the loop's own (two pointers and its buffers); any other link
  // is the caller's object, held by reference.
  using link_storage = std::conditional_t<std::is_same_v<Link, sim_offload<Server>>, Link, Link&>;

  template <class L>
  online_loop(Learner& learner, Device& device, L&& link, std::vector<std::vector<partition::layer_id>> candidates,
              partition::layer_graph profile, const loop_options& options, std::size_t server_layers);

  Learner& learner_;
  Device& device_;
  link_storage link_;
  std::vector<std::vector<partition::layer_id>> cand_;
  partition::layer_graph profile_;
  loop_options opt_;
  std::vector<double> model_device_, model_server_, model_rest_;  // per candidate
  std::vector<char> all_device_;
  tensor_list cut_, server_out_;
  const tensor_list no_outputs_{};  // the server outputs of an all-device frame (server_out_ keeps its memory)
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

inline arm_table make_arms(const partition::layer_graph& g,
                           const std::vector<std::vector<partition::layer_id>>& cands) {
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

template <class Learner, class Device, class Server, class Link>
template <class L>
online_loop<Learner, Device, Server, Link>::online_loop(Learner& learner, Device& device, L&& link,
                                                        std::vector<std::vector<partition::layer_id>> candidates,
                                                        partition::layer_graph profile, const loop_options& options,
                                                        std::size_t server_layers)
    : learner_(learner),
      device_(device),
      link_(std::forward<L>(link)),
      cand_(std::move(candidates)),
      profile_(std::move(profile)),
      opt_(options) {
  static_assert(cut_learner<Learner>,
                "incision::exec::online_loop: Learner must provide `select(bool key_frame)` "
                "returning an arm and `update(std::size_t arm, double delay)`");
  INCISION_EXEC_CHECK_BACKEND("online_loop", Device);
  INCISION_EXEC_CHECK_LINK("online_loop", Link);
  const auto bad = [](const std::string& why) {
    INCISION_THROW(invalid_argument(incision::detail::message("exec", "online_loop: " + why)));
  };
  const std::size_t n = device_.graph().size();
  if (cand_.empty()) bad("no candidate device sets");
  if (profile_.size() != n || server_layers != n)
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
      if (on[v])
        dev += profile_[v].device_time;
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

template <class Learner, class Device, class Server, class Link>
frame_record online_loop<Learner, Device, Server, Link>::run_frame(const tensor& input, tensor_list& outputs) {
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
    const double deadline_at = now_ + opt_.deadline;
    offload_request q;
    q.frame = frame_;
    q.device_layers = d;
    q.cut = &cut_;
    q.sent_at = t_sent;
    q.budget = deadline_at - t_sent;
    if (opt_.timing == compute_timing::modeled) q.modeled_server_time = model_server_[arm] * opt_.server_slowdown;
    q.server_slowdown = opt_.server_slowdown;
    offload_result o;  // not delivered, given up at once
    constexpr bool forwards = requires { link().set_server_available(true); };
    if (forwards || server_up_) o = link_.offload(q, server_out_);
    r.shipped_bytes = o.shipped_bytes;
    r.transfer_time = o.transfer_time;
    r.server_time = o.delivered && opt_.timing == compute_timing::modeled ? q.modeled_server_time : o.server_time;
    if (o.delivered) {
      r.latency = r.device_time + r.transfer_time + r.server_time;
    } else {
      r.fallback = true;
      // the device completes the frame from the tensors it kept, from when the link gave up
      const double gave_up = o.elapsed >= q.budget ? std::max(t_sent, deadline_at) : t_sent + o.elapsed;
      r.fallback_time = timed(model_rest_[arm], [&] { device_.run_server(d, cut_, server_out_); });
      r.latency = gave_up + r.fallback_time - now_;
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
