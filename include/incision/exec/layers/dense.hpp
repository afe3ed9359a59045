/// @file
/// @brief The remaining kernels: linear (Eigen GEMM), relu, add, channel concat, softmax, copy.
#pragma once

#include <incision/config.hpp>
#include <incision/exec/tensor.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

INCISION_BEGIN_NAMESPACE
namespace exec::layers {

/// @brief y = x w^T + b. x: (N, F); w: (O, F); b: (O) or empty; y: (N, O), sized by the caller.
void linear(const tensor& x, const tensor& w, const tensor& b, tensor& y);
/// @brief y = max(x, 0) elementwise (y sized like x by the caller).
void relu(const tensor& x, tensor& y) noexcept;
/// @brief y = a + b elementwise (same shapes).
void add(const tensor& a, const tensor& b, tensor& y) noexcept;
/// @brief y = the inputs concatenated along axis 1 (equal other extents).
void concat(std::span<const tensor* const> inputs, tensor& y) noexcept;
/// @brief y = softmax over the last axis of a rank-2 x (max subtracted first).
void softmax(const tensor& x, tensor& y) noexcept;
/// @brief y's elements = x's elements in order (flatten: same count, any shape).
void copy(const tensor& x, tensor& y) noexcept;

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void linear(const tensor& x, const tensor& w, const tensor& b, tensor& y) {
  using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto ei = [](std::size_t v) { return static_cast<Eigen::Index>(v); };
  const std::size_t n = x.shape()[0], f = x.shape()[1], o = w.shape()[0];
  const Eigen::Map<const row_matrix> xm(x.data(), ei(n), ei(f));
  const Eigen::Map<const row_matrix> wm(w.data(), ei(o), ei(f));
  Eigen::Map<row_matrix> ym(y.data(), ei(n), ei(o));
  ym.noalias() = xm * wm.transpose();
  if (b.size() != 0) ym.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b.data(), ei(o));
}

inline void relu(const tensor& x, tensor& y) noexcept {
  const float* in = x.data();
  float* out = y.data();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) out[i] = in[i] > 0.0F ? in[i] : 0.0F;
}

inline void add(const tensor& a, const tensor& b, tensor& y) noexcept {
  const float* pa = a.data();
  const float* pb = b.data();
  float* out = y.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) out[i] = pa[i] + pb[i];
}

inline void concat(std::span<const tensor* const> inputs, tensor& y) noexcept {
  const std::size_t n = y.shape()[0];
  float* out = y.data();
  for (std::size_t img = 0; img < n; ++img)
    for (const tensor* t : inputs) {
      const std::size_t block = t->size() / n;
      out = std::copy(t->data() + img * block, t->data() + (img + 1) * block, out);
    }
}

inline void softmax(const tensor& x, tensor& y) noexcept {
  const std::size_t rows = x.shape()[0], cols = x.shape()[1];
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = x.data() + r * cols;
    float* out = y.data() + r * cols;
    const float m = *std::max_element(in, in + cols);
    float sum = 0.0F;
    for (std::size_t i = 0; i < cols; ++i) sum += out[i] = std::exp(in[i] - m);
    for (std::size_t i = 0; i < cols; ++i) out[i] /= sum;
  }
}

inline void copy(const tensor& x, tensor& y) noexcept { std::copy(x.data(), x.data() + x.size(), y.data()); }

}  // namespace exec::layers
INCISION_END_NAMESPACE
