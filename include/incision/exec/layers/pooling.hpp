/// @file
/// @brief Pooling kernels: max and average (square window, padding; the average divides by
/// the full window, PyTorch's count_include_pad=True), and global average pooling.
#pragma once

#include <incision/config.hpp>
#include <incision/exec/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

INCISION_BEGIN_NAMESPACE
namespace exec::layers {

/// @brief Window of a pooling layer.
struct pool_geometry {
  std::size_t kernel = 2, stride = 2, padding = 0;
};

enum class pool_kind : std::uint8_t { max, average };

/// @brief y = pool(x). x: (N, C, H, W); y: (N, C, Ho, Wo), sized by the caller.
void pool2d(const tensor& x, const pool_geometry& g, pool_kind kind, tensor& y) noexcept;
/// @brief y = mean over H and W. x: (N, C, H, W); y: (N, C, 1, 1), sized by the caller.
void global_avg_pool(const tensor& x, tensor& y) noexcept;

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void pool2d(const tensor& x, const pool_geometry& g, pool_kind kind, tensor& y) noexcept {
  const std::size_t planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const std::size_t ho = y.shape()[2], wo = y.shape()[3];
  const auto ih = static_cast<std::ptrdiff_t>(h), iw = static_cast<std::ptrdiff_t>(w);
  const float scale = 1.0F / static_cast<float>(g.kernel * g.kernel);
  for (std::size_t pl = 0; pl < planes; ++pl) {
    const float* in = x.data() + pl * h * w;
    float* out = y.data() + pl * ho * wo;
    for (std::size_t oy = 0; oy < ho; ++oy)
      for (std::size_t ox = 0; ox < wo; ++ox) {
        const std::ptrdiff_t y0 = static_cast<std::ptrdiff_t>(oy * g.stride) - static_cast<std::ptrdiff_t>(g.padding);
        const std::ptrdiff_t x0 = static_cast<std::ptrdiff_t>(ox * g.stride) - static_cast<std::ptrdiff_t>(g.padding);
        const std::ptrdiff_t kk = static_cast<std::ptrdiff_t>(g.kernel);
        float acc = kind == pool_kind::max ? -std::numeric_limits<float>::infinity() : 0.0F;
        for (std::ptrdiff_t yy = std::max<std::ptrdiff_t>(y0, 0); yy < std::min(y0 + kk, ih); ++yy)
          for (std::ptrdiff_t xx = std::max<std::ptrdiff_t>(x0, 0); xx < std::min(x0 + kk, iw); ++xx) {
            const float v = in[yy * iw + xx];
            acc = kind == pool_kind::max ? (v > acc ? v : acc) : acc + v;
          }
        out[oy * wo + ox] = kind == pool_kind::max ? acc : acc * scale;
      }
  }
}

inline void global_avg_pool(const tensor& x, tensor& y) noexcept {
  const std::size_t planes = x.shape()[0] * x.shape()[1], hw = x.shape()[2] * x.shape()[3];
  const float scale = 1.0F / static_cast<float>(hw);
  for (std::size_t pl = 0; pl < planes; ++pl) {
    const float* in = x.data() + pl * hw;
    float acc = 0.0F;
    for (std::size_t i = 0; i < hw; ++i) acc += in[i];
    y.data()[pl] = acc * scale;
  }
}

}  // namespace exec::layers
INCISION_END_NAMESPACE
