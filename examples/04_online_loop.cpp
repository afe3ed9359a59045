// The online loop over a switching bandwidth trace: muLinUCB (sliding window) chooses among the
// bandwidth map's plans of the Inception-style network each frame; the link drops from 50 MB/s
// to 20 kB/s and back (the device 50 times slower than this machine). Compute times are modeled from a profile so the
// run is reproducible.
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>
#include <incision/exec.hpp>
#include <incision/partition/bandwidth_map.hpp>

#include <cstdio>

namespace ie = incision::exec;
namespace ip = incision::partition;
namespace ib = incision::bandit;

int main() {
  ie::cpu_backend net(ie::example_network("inception", 1));
  auto g = ie::profile(net, ie::random_tensor(net.input_shape(), 1), {.server_speedup = 50});
  for (ip::layer_id v = 0; v < g.size(); ++v)  // a device 50 times slower than this machine
    g.set_costs(v, 50 * g[v].device_time, 50 * g[v].server_time, g[v].out_bytes);
  const auto cands = ie::map_candidates(ip::bandwidth_map(g, 1e3, 1e9));
  const auto arms = ie::make_arms(g, cands);
  ib::mu_linucb_options mo;
  mo.alpha = 1e-3;
  ib::mu_linucb<Eigen::Dynamic, ib::window_stats<>> learner(arms.contexts, arms.front_delay,
                                                            ib::window_stats<>(3, 1.0, 60), mo);
  ie::sim_link link(ie::bandwidth_trace({{0.0, 5e7, 2e-3}, {20.0, 2e4, 2e-3}, {40.0, 5e7, 2e-3}}));
  ie::loop_options lo;
  lo.timing = ie::compute_timing::modeled;
  lo.frame_interval = 0.05;
  lo.deadline = 0.5;
  ie::online_loop loop(learner, net, net, link, cands, g, lo);

  const ie::tensor x = ie::random_tensor(net.input_shape(), 2);
  const auto whole = ie::run(net, x);
  ie::tensor_list out;
  std::printf("%zu candidate plans\n  frame  time[s]  arm  latency[ms]  fallback\n", cands.size());
  bool all_equal = true;
  for (int f = 0; f < 1200; ++f) {
    const auto r = loop.run_frame(x, out);
    all_equal = all_equal && out[0].value == whole[0].value;
    if (f % 100 == 99)
      std::printf("  %5d  %7.2f  %3zu  %11.3f  %s\n", f + 1, r.start, r.arm, r.latency * 1e3,
                  r.fallback ? "yes" : "no");
  }
  std::printf("every frame's output equals the unsplit output: %s\n", all_equal ? "yes" : "NO");
  return all_equal ? 0 : 1;
}
