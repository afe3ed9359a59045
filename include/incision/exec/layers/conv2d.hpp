/// @file
/// @brief conv2d kernel: im2col + Eigen GEMM over the xtensor buffers (1x1 stride-1 convolutions
/// skip im2col: the input already is the column matrix).
#pragma once

#include <incision/config.hpp>
#include <incision/exec/tensor.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec::layers {

/// @brief Geometry of a 2-D convolution (square kernel, equal stride and padding on both axes).
struct conv2d_geometry {
  std::size_t kernel = 3, stride = 1, padding = 0, groups = 1;
};

/// @brief Output extent of a convolution or pooling window along one axis.
constexpr std::size_t window_out(std::size_t in, std::size_t kernel, std::size_t stride, std::size_t padding) noexcept {
  return (in + 2 * padding - kernel) / stride + 1;
}

/// @brief y = conv2d(x, w) + b. x: (N, C, H, W); w: (K, C / groups, k, k); b: (K) or empty;
/// y: (N, K, Ho, Wo), sized by the caller. @p cols is scratch (grown when needed, kept).
void conv2d(const tensor& x, const tensor& w, const tensor& b, const conv2d_geometry& g, tensor& y,
            std::vector<float>& cols);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void conv2d(const tensor& x, const tensor& w, const tensor& b, const conv2d_geometry& g, tensor& y,
                   std::vector<float>& cols) {
  using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using map = Eigen::Map<row_matrix>;
  using const_map = Eigen::Map<const row_matrix>;
  const std::size_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const std::size_t k_out = w.shape()[0], k = g.kernel, s = g.stride, p = g.padding;
  const std::size_t ho = y.shape()[2], wo = y.shape()[3];
  const std::size_t cg = c / g.groups, kg = k_out / g.groups;
  const std::size_t rows = cg * k * k, pixels = ho * wo;
  INCISION_ASSERT(y.shape()[0] == n && y.shape()[1] == k_out && w.shape()[1] == cg, "conv2d: shapes");
  const bool direct = k == 1 && s == 1 && p == 0;
  if (!direct && cols.size() < rows * pixels) cols.resize(rows * pixels);
  const auto ei = [](std::size_t v) { return static_cast<Eigen::Index>(v); };
  for (std::size_t img = 0; img < n; ++img) {
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
      const float* xg = x.data() + (img * c + grp * cg) * h * wd;
      if (!direct) {
        // cols[(ci * k + i) * k + j][oy * wo + ox] = x[ci][oy * s - p + i][ox * s - p + j], 0 outside
        float* out = cols.data();
        for (std::size_t ci = 0; ci < cg; ++ci)
          for (std::size_t i = 0; i < k; ++i)
            for (std::size_t j = 0; j < k; ++j) {
              const float* plane = xg + ci * h * wd;
              for (std::size_t oy = 0; oy < ho; ++oy) {
                const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * s + i) - static_cast<std::ptrdiff_t>(p);
                if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(h)) {
                  std::fill(out, out + wo, 0.0F);
                  out += wo;
                  continue;
                }
                const float* line = plane + static_cast<std::size_t>(iy) * wd;
                for (std::size_t ox = 0; ox < wo; ++ox) {
                  const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * s + j) - static_cast<std::ptrdiff_t>(p);
                  *out++ = (ix < 0 || ix >= static_cast<std::ptrdiff_t>(wd)) ? 0.0F : line[ix];
                }
              }
            }
      }
      const const_map col(direct ? xg : cols.data(), ei(rows), ei(pixels));
      const const_map wg(w.data() + grp * kg * rows, ei(kg), ei(rows));
      map yg(y.data() + (img * k_out + grp * kg) * pixels, ei(kg), ei(pixels));
      yg.noalias() = wg * col;
      if (b.size() != 0)
        for (std::size_t o = 0; o < kg; ++o) yg.row(ei(o)).array() += b(grp * kg + o);
    }
  }
}

}  // namespace exec::layers
INCISION_END_NAMESPACE
