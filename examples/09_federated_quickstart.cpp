// Learn the cut of VGG16 online on one device (muLinUCB, ANS), then let two devices of one type
// pool what they learn at an edge aggregator (FedLinUCB-DW, CANS), in one process. The offloading
// delay is simulated: linear in the ANS arm context (the bits to ship over a 10 Mbit/s uplink plus
// 1 ps per server-side conv MAC) with noise. Checks, recomputed here with Eigen: the learner's
// theta is the ridge solution of what it observed, and the edge's pooled statistics are the sums
// of what the devices observed online (the offline warm start stays on its device).
#include <incision/federated.hpp>  // FedLinUCB-DW and, under it, muLinUCB (needs Eigen 3.4)

#include <Eigen/Cholesky>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using context_table = Eigen::Matrix<double, Eigen::Dynamic, 7>;

// data/ans/vgg16_arms.csv: arm, the seven context columns, the front-end delay (seconds).
std::pair<context_table, Eigen::VectorXd> load_vgg16() {
  std::ifstream in(INCISION_DATA_DIR "/ans/vgg16_arms.csv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<double> row;
    for (std::string f; std::getline(fields, f, ',');) row.push_back(std::stod(f));
    if (row.size() != 9) throw std::runtime_error("vgg16_arms.csv: expected 9 columns");
    rows.push_back(std::move(row));
  }
  const auto k = static_cast<Eigen::Index>(rows.size());
  context_table contexts(k, 7);
  Eigen::VectorXd front(k);
  for (Eigen::Index a = 0; a < k; ++a) {
    const auto& row = rows[static_cast<std::size_t>(a)];
    for (Eigen::Index j = 0; j < 7; ++j) contexts(a, j) = row[static_cast<std::size_t>(j + 1)];
    front(a) = row[8];
  }
  return {contexts, front};
}

// The sums x x^T and x y over observations (x, y), as a pooled ridge statistic holds them.
struct sums {
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(7, 7);
  Eigen::VectorXd moment = Eigen::VectorXd::Zero(7);
  std::uint64_t count = 0;
  void add(const Eigen::VectorXd& x, double y) {
    gram += x * x.transpose();
    moment += x * y;
    ++count;
  }
};

bool close(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() <= 1e-10 * b.norm(); }

}  // namespace

int main() {
  const auto table = load_vgg16();  // (a lambda may not capture a structured binding before Clang 16)
  const context_table& contexts = table.first;
  const Eigen::VectorXd& front_delay = table.second;
  const Eigen::Matrix<double, 7, 1> theta{0, 0, 0, 1e-12, 0, 0, 1 / 10e6};
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 0.005);
  std::vector<std::pair<std::size_t, double>> observed;  // (arm, delay) of every frame, for the checks
  auto measure = [&](std::size_t arm) {
    const double delay = contexts.row(static_cast<Eigen::Index>(arm)).dot(theta) + std::abs(noise(rng));
    observed.emplace_back(arm, delay);
    return delay;
  };

  // [doc:learn]
  incision::bandit::mu_linucb<> ans(contexts, front_delay);  // K x d arm contexts, K front delays
  for (int frame = 0; frame < 500; ++frame) {
    // The cut with the lowest confidence bound on its delay; then the offloading delay observed.
    const std::size_t cut = ans.select(/*key_frame=*/frame % 10 == 0);
    ans.update(cut, measure(cut));
  }
  // [doc:learn]

  sums alone;
  for (const auto& [arm, delay] : observed)
    if (!ans.is_local_arm(arm)) alone.add(ans.scaled_context(arm), delay);
  const Eigen::MatrixXd ridge = alone.gram + ans.stats().reg() * Eigen::MatrixXd::Identity(7, 7);
  const Eigen::VectorXd want = ridge.ldlt().solve(alone.moment);
  const bool learner_ok = close(ans.stats().theta(), want);
  observed.clear();
  // Device 1 measured four cuts offline (20% too slow): its warm start.
  const std::vector<std::size_t> offline_arms{0, 6, 14, 21};
  std::vector<double> offline_delays;
  offline_delays.reserve(offline_arms.size());
  for (std::size_t arm : offline_arms) offline_delays.push_back(1.2 * measure(arm));
  observed.clear();

  // [doc:federated]
  namespace fed = incision::federated;
  fed::fed_aggregator_options caps;  // on the edge server
  caps.max_devices = 1000;
  fed::fed_aggregator edge(caps);
  fed::fed_linucb_dw<> dev1(/*device_id=*/1, "vgg16/jetson-tx2", contexts, front_delay);
  fed::fed_linucb_dw<> dev2(/*device_id=*/2, "vgg16/jetson-tx2", contexts, front_delay);
  dev1.warm_start(offline_arms, offline_delays);  // optional: a local prior, never uploaded

  for (auto* dev : {&dev1, &dev2}) dev->receive(edge.handle(dev->hello()));  // bytes both ways
  for (int frame = 0; frame < 400; ++frame) {
    for (auto* dev : {&dev1, &dev2}) {
      const std::size_t arm = dev->select(/*key_frame=*/frame % 10 == 0);
      dev->update(arm, measure(arm));  // ignored for the on-device arm
      if (dev->wants_upload()) {
        // In one process: upload -> ack -> download. Over a network: send make_upload(), then
        // receive() the ack and the download. A rejected upload stays buffered.
        const fed::exchange_result r = fed::exchange(*dev, edge);
        if (r.reply != fed::fed_event::acked) return 1;
      }
    }
  }
  // [doc:federated]

  for (auto* dev : {&dev1, &dev2})  // send what is still buffered
    if (dev->buffered() > 0 && fed::exchange(*dev, edge).reply != fed::fed_event::acked) return 1;
  sums pooled;
  for (const auto& [arm, delay] : observed)
    if (!dev1.learner().is_local_arm(arm)) pooled.add(dev1.learner().scaled_context(arm), delay);
  const std::string group = "vgg16/jetson-tx2";
  const bool edge_ok = edge.group_count(group) == pooled.count && close(edge.group_gram(group), pooled.gram) &&
                       close(edge.group_moment(group), pooled.moment);

  std::printf("muLinUCB alone: cut %zu after 500 frames; theta is the ridge solution: %s\n", ans.select(false),
              learner_ok ? "yes" : "NO");
  std::printf("FedLinUCB-DW: %llu observations pooled by the edge, equal to the devices' own: %s\n",
              static_cast<unsigned long long>(edge.group_count(group)), edge_ok ? "yes" : "NO");
  return learner_ok && edge_ok ? 0 : 1;
}
