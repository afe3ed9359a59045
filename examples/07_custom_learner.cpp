// A learner of your own in the online loop: epsilon-greedy over the cuts, keeping the mean
// offloading delay of each. The loop runs the ResNet-style example network split at the cut the
// learner picks, over a simulated 2 MB/s link; every frame's output must equal the unsplit one.
#include <incision/exec.hpp>

#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;

// [doc:learner]
// Models incision::exec::cut_learner: select(key_frame) returns an arm (an index into the loop's
// candidates), update(arm, delay) receives what the frame took beyond the device part, seconds.
class epsilon_greedy {
 public:
  epsilon_greedy(std::vector<double> front_delay, double epsilon, std::uint64_t seed)
      : front_(std::move(front_delay)), sum_(front_.size()), n_(front_.size()), eps_(epsilon), rng_(seed) {}

  std::size_t select(bool /*key_frame*/) {
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < eps_)
      return std::uniform_int_distribution<std::size_t>(0, front_.size() - 1)(rng_);
    std::size_t best = 0;
    double best_delay = std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < front_.size(); ++a) {  // untried arms first (delay estimate 0)
      const double d = front_[a] + (n_[a] > 0 ? sum_[a] / n_[a] : 0.0);
      if (d < best_delay) best = a, best_delay = d;
    }
    return best;
  }
  void update(std::size_t arm, double offload_delay) {
    sum_[arm] += offload_delay;
    n_[arm] += 1;
  }

 private:
  std::vector<double> front_, sum_, n_;  // known device time; measured delays and their count
  double eps_;
  std::mt19937_64 rng_;  // explicit seed: the run is reproducible
};
static_assert(ie::cut_learner<epsilon_greedy>);
// [doc:learner]

int main() {
  ie::cpu_backend net(ie::example_network("resnet", 0));
  const auto g = ie::profile(net, ie::random_tensor(net.input_shape(), 1), {.server_speedup = 10});
  // [doc:use]
  const auto cands = ie::chain_candidates(g);  // every topological prefix: one arm per cut
  const auto arms = ie::make_arms(g, cands);
  std::vector<double> front(arms.front_delay.data(), arms.front_delay.data() + arms.front_delay.size());
  epsilon_greedy learner(front, /*epsilon=*/0.1, /*seed=*/7);
  ie::sim_link link(ie::bandwidth_trace::constant(2e6, 1e-3));
  ie::loop_options opt;
  opt.timing = ie::compute_timing::modeled;  // compute times from the profile: reproducible
  ie::online_loop loop(learner, net, net, link, cands, g, opt);
  // [doc:use]

  const ie::tensor x = ie::random_tensor(net.input_shape(), 2);
  const auto whole = ie::run(net, x);
  ie::tensor_list out;
  bool equal = true;
  double sum = 0;
  for (int f = 0; f < 300; ++f) {
    const auto r = loop.run_frame(x, out);
    equal = equal && out[0].value == whole[0].value;
    sum += r.latency;
  }
  std::printf("%zu cuts; mean latency %.3f ms over 300 frames; outputs equal the unsplit run: %s\n", cands.size(),
              1e3 * sum / 300, equal ? "yes" : "NO");
  return equal ? 0 : 1;
}
