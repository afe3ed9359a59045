// The ANS arm tables (data/ans/*.csv) as Eigen arrays, for the bandit and federated tests.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace incision_test {

/// One ANS arm table: contexts (K x 7, CSV column order) and front-end delays (seconds).
struct arm_table {
  Eigen::MatrixXd contexts;  // n_conv, n_fc, n_act, mac_conv, mac_fc, mac_act, tx_bits
  Eigen::VectorXd front;
};

/// Reads data/ans/<name>.
inline arm_table load_arm_table(const std::string& name) {
  std::ifstream in(std::string(INCISION_DATA_DIR) + "/ans/" + name);
  if (!in) throw std::runtime_error("cannot open " + name);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> row;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    if (row.size() != 9) throw std::runtime_error(name + ": expected 9 columns");
    rows.push_back(row);
  }
  arm_table t;
  const auto k = static_cast<Eigen::Index>(rows.size());
  t.contexts.resize(k, 7);
  t.front.resize(k);
  for (Eigen::Index a = 0; a < k; ++a) {
    const auto& r = rows[static_cast<std::size_t>(a)];
    for (Eigen::Index j = 0; j < 7; ++j) t.contexts(a, j) = r[static_cast<std::size_t>(j + 1)];
    t.front(a) = r[8];
  }
  return t;
}

}  // namespace incision_test
