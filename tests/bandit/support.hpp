// Shared helpers for the bandit tests: ANS arm tables, seeded streams, direct (non-incremental) oracles.
#pragma once

#include "support/arm_table.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bandit_test {

using incision_test::arm_table;
using incision_test::load_arm_table;

/// Seed for statistical loops; override with INCISION_TEST_SEED to loop seeds locally.
inline std::uint64_t base_seed() {
  if (const char* s = std::getenv("INCISION_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return 20260523;
}

/// True under AddressSanitizer (big loops are cut down there).
constexpr bool under_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

/// A direct ridge oracle: accumulates A and b, solves with LDLT each time it is asked.
struct direct_ridge {
  Eigen::MatrixXd a;
  Eigen::VectorXd b;
  direct_ridge(Eigen::Index d, double reg) : a(reg * Eigen::MatrixXd::Identity(d, d)), b(Eigen::VectorXd::Zero(d)) {}
  void add(const Eigen::VectorXd& x, double y, double w = 1.0) {
    a += w * x * x.transpose();
    b += w * y * x;
  }
  [[nodiscard]] Eigen::VectorXd theta() const { return a.ldlt().solve(b); }
  [[nodiscard]] Eigen::MatrixXd inverse() const {
    return a.ldlt().solve(Eigen::MatrixXd::Identity(a.rows(), a.cols()));
  }
  [[nodiscard]] double log_det() const {
    const Eigen::LDLT<Eigen::MatrixXd> l(a);
    return l.vectorD().array().log().sum();
  }
};

}  // namespace bandit_test
