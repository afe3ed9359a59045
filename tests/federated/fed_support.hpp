// Shared helpers for the FedLinUCB-DW tests: the ANS arm tables and a linear delay environment.
#pragma once

#include "support/arm_table.hpp"

#include <Eigen/Core>

#include <cstddef>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fed_test {

using incision_test::arm_table;
inline arm_table load_arms(const std::string& name) { return incision_test::load_arm_table(name); }

/// Offloading delay linear in the raw context: per-layer overheads, per-MAC server time and
/// 1/bandwidth on the bits; the all-on-device arm (zero context) has none.
struct linear_env {
  arm_table arms;
  Eigen::VectorXd theta;  // raw-space coefficients
  double noise = 0.01;

  static linear_env make(const arm_table& t, double bandwidth_bit_s, double server_speedup = 1.0) {
    linear_env e;
    e.arms = t;
    e.theta.resize(7);
    e.theta << 1e-3, 5e-4, 2e-4, 2e-12 / server_speedup, 4e-12 / server_speedup, 1e-11 / server_speedup,
        1.0 / bandwidth_bit_s;
    return e;
  }
  [[nodiscard]] double mean_offload(std::size_t arm) const {
    return arms.contexts.row(static_cast<Eigen::Index>(arm)).dot(theta);
  }
  [[nodiscard]] double mean_total(std::size_t arm) const {
    return arms.front(static_cast<Eigen::Index>(arm)) + mean_offload(arm);
  }
  [[nodiscard]] std::size_t best_arm() const {
    std::size_t best = 0;
    for (std::size_t a = 1; a < static_cast<std::size_t>(arms.front.size()); ++a)
      if (mean_total(a) < mean_total(best)) best = a;
    return best;
  }
  double sample_offload(std::size_t arm, std::mt19937_64& rng) const {
    std::normal_distribution<double> n(0.0, noise);
    return mean_offload(arm) + n(rng);
  }
};

}  // namespace fed_test
