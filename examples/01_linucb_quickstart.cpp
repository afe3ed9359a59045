// Learn which of 4 arms pays best with LinUCB (shared theta over arm contexts).
#include <incision/incision.hpp>

#include <cstdio>
#include <random>

int main() {
  incision::bandit::linucb<3> policy(/*dim=*/3, /*alpha=*/0.5);
  Eigen::Matrix<double, 4, 3> arms{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.5, 0.5, 0}};
  const Eigen::Vector3d truth(0.2, 0.9, 0.4);  // unknown to the learner
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 0.1);
  std::size_t a = 0;
  for (int t = 0; t < 500; ++t) {
    a = policy.select(arms);
    const Eigen::Vector3d x = arms.row(static_cast<Eigen::Index>(a));
    policy.update(x, x.dot(truth) + noise(rng));
  }
  std::printf("best arm after 500 rounds: %zu\n", a);  // prints 1
  return a == 1 ? 0 : 1;
}
