/// @file
/// @brief conv2d kernel: im2col + GEMM (layers/gemm.hpp: AVX2 + FMA chosen at run time, else
/// Eigen) over the xtensor buffers, output channels x pixels; 1x1 stride-1 convolutions skip
/// im2col (the input already is the column matrix); the column scratch is the caller's, kept.
#pragma once

#include <incision/config.hpp>
#include <incision/exec/layers/gemm.hpp>
#include <incision/exec/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
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
/// y: (N, K, Ho, Wo), sized by the caller. @p cols is scratch (grown when needed, kept). With the
/// AVX2 kernel (layers/gemm.hpp) stride-1 convolutions read their taps from a padded copy of the
/// input instead of a column matrix; everything else goes through im2col.
void conv2d(const tensor& x, const tensor& w, const tensor& b, const conv2d_geometry& g, tensor& y,
            std::vector<float>& cols);
/// @brief The same; @p use_avx2 = false takes the portable path (im2col + Eigen) whatever the
/// CPU, so the tests cover both.
void conv2d_with(const tensor& x, const tensor& w, const tensor& b, const conv2d_geometry& g, tensor& y,
                 std::vector<float>& cols, bool use_avx2);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {

// The column matrix of one image and group: cols[(ci * k + i) * k + j][oy * wo + ox] =
// x[ci][oy * s - p + i][ox * s - p + j], 0 outside the image. The valid ox of a row are one
// interval, worked out once per (i, j): the copy has no per-element bounds test, and with
// stride 1 it is a memcpy.
inline void im2col(const float* x, std::size_t c, std::size_t h, std::size_t wd, const conv2d_geometry& g,
                   std::size_t ho, std::size_t wo, float* out) noexcept {
  using idx = std::ptrdiff_t;
  const auto k = static_cast<idx>(g.kernel), s = static_cast<idx>(g.stride), p = static_cast<idx>(g.padding);
  const auto ih = static_cast<idx>(h), iw = static_cast<idx>(wd), oh = static_cast<idx>(ho), ow = static_cast<idx>(wo);
  // [lo, hi): the outputs o with 0 <= o * s + shift < extent
  const auto valid = [s](idx shift, idx extent, idx outs, idx& lo, idx& hi) {
    lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
    hi = extent - shift <= 0 ? 0 : (extent - 1 - shift) / s + 1;
    hi = std::min(hi, outs);
    lo = std::min(lo, hi);
  };
  for (std::size_t ci = 0; ci < c; ++ci) {
    const float* plane = x + ci * h * wd;
    for (idx i = 0; i < k; ++i) {
      idx y_lo = 0, y_hi = 0;
      valid(i - p, ih, oh, y_lo, y_hi);
      for (idx j = 0; j < k; ++j) {
        const idx shift = j - p;
        idx x_lo = 0, x_hi = 0;
        valid(shift, iw, ow, x_lo, x_hi);
        std::fill(out, out + y_lo * ow, 0.0F);
        out += y_lo * ow;
        // rows are short (4 to 32 outputs here): plain loops, no library calls per row
        for (idx oy = y_lo; oy < y_hi; ++oy, out += ow) {
          const float* line = plane + (oy * s + i - p) * iw + shift;  // line[ox * s] for ox in [x_lo, x_hi)
          idx ox = 0;
          for (; ox < x_lo; ++ox) out[ox] = 0.0F;
          if (s == 1) {
            if (x_hi > ox) std::memcpy(out + ox, line + ox, static_cast<std::size_t>(x_hi - ox) * sizeof(float));
            ox = std::max(ox, x_hi);
          } else {
            for (; ox < x_hi; ++ox) out[ox] = line[ox * s];
          }
          for (; ox < ow; ++ox) out[ox] = 0.0F;
        }
        std::fill(out, out + (oh - y_hi) * ow, 0.0F);
        out += (oh - y_hi) * ow;
      }
    }
  }
}

#if INCISION_DETAIL_GEMM_AVX2
// Floats of scratch the implicit path needs: the padded input with k floats of slack, and the
// output on the padded width.
constexpr std::size_t implicit_scratch(std::size_t cg, std::size_t h, std::size_t wd, std::size_t kg, std::size_t ho,
                                       const conv2d_geometry& g) noexcept {
  const std::size_t wp = wd + 2 * g.padding;
  return cg * (h + 2 * g.padding) * wp + g.kernel + kg * ho * wp;
}

// A stride-1 convolution of one image and group with no column matrix: the input is copied once
// into a zero-padded plane, and output row oy, column ox of the "wide" result (the padded width
// wp) is sum over (ci, i, j) of w * xpad[ci][oy + i][ox + j] = xpad_flat[ci][oy wp + ox + i wp + j].
// So tap (ci, i, j) is the padded plane read from offset i wp + j, a row of C at a fixed stride
// from the next, which the AVX2 kernel takes as it is. The k - 1 columns past wo in each wide
// row wrap into the next input row; they are computed and dropped.
inline void conv2d_implicit(const float* xg, std::size_t cg, std::size_t h, std::size_t wd, const conv2d_geometry& g,
                            const float* wg, std::size_t kg, const float* bias, std::size_t ho, std::size_t wo,
                            float* yg, float* scratch) noexcept {
  const std::size_t k = g.kernel, p = g.padding, hp = h + 2 * p, wp = wd + 2 * p, plane = hp * wp;
  float* xpad = scratch;
  std::fill(xpad, xpad + cg * plane + k, 0.0F);
  for (std::size_t ci = 0; ci < cg; ++ci)
    for (std::size_t row = 0; row < h; ++row)
      std::copy(xg + (ci * h + row) * wd, xg + (ci * h + row + 1) * wd, xpad + ci * plane + (row + p) * wp + p);
  float* wide = xpad + cg * plane + k;
  const std::size_t n = ho * wp;
  for (std::size_t o = 0; o < kg; ++o) std::fill(wide + o * n, wide + (o + 1) * n, bias != nullptr ? bias[o] : 0.0F);
  avx2_gemm(wg, xpad, {cg, k, k, plane, wp, 1}, wide, kg, n);
  for (std::size_t o = 0; o < kg; ++o)
    for (std::size_t oy = 0; oy < ho; ++oy)
      std::copy(wide + o * n + oy * wp, wide + o * n + oy * wp + wo, yg + (o * ho + oy) * wo);
}
#endif

}  // namespace detail

inline void conv2d(const tensor& x, const tensor& w, const tensor& b, const conv2d_geometry& g, tensor& y,
                   std::vector<float>& cols) {
  conv2d_with(x, w, b, g, y, cols, true);
}

inline void conv2d_with(const tensor& x, const tensor& w, const tensor& b, const conv2d_geometry& g, tensor& y,
                        std::vector<float>& cols, bool use_avx2) {
  const std::size_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const std::size_t k_out = w.shape()[0], k = g.kernel, s = g.stride, p = g.padding;
  const std::size_t ho = y.shape()[2], wo = y.shape()[3];
  const std::size_t cg = c / g.groups, kg = k_out / g.groups;
  const std::size_t rows = cg * k * k, pixels = ho * wo;
  INCISION_ASSERT(y.shape()[0] == n && y.shape()[1] == k_out && w.shape()[1] == cg, "conv2d: shapes");
  const bool direct = k == 1 && s == 1 && p == 0;
#if INCISION_DETAIL_GEMM_AVX2
  if (!direct && s == 1 && use_avx2 && gemm_has_avx2()) {
    const std::size_t need = detail::implicit_scratch(cg, h, wd, kg, ho, g);
    if (cols.size() < need) cols.resize(need);
    for (std::size_t img = 0; img < n; ++img)
      for (std::size_t grp = 0; grp < g.groups; ++grp)
        detail::conv2d_implicit(x.data() + (img * c + grp * cg) * h * wd, cg, h, wd, g, w.data() + grp * kg * rows, kg,
                                b.size() != 0 ? b.data() + grp * kg : nullptr, ho, wo,
                                y.data() + (img * k_out + grp * kg) * pixels, cols.data());
    return;
  }
#endif
  if (!direct && cols.size() < rows * pixels) cols.resize(rows * pixels);
  for (std::size_t img = 0; img < n; ++img) {
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
      const float* xg = x.data() + (img * c + grp * cg) * h * wd;
      if (!direct) detail::im2col(xg, cg, h, wd, g, ho, wo, cols.data());
      float* yg = y.data() + (img * k_out + grp * kg) * pixels;
      // the GEMM accumulates into y: starting from the bias instead of zero saves a pass over y
      for (std::size_t o = 0; o < kg; ++o)
        std::fill(yg + o * pixels, yg + (o + 1) * pixels, b.size() != 0 ? b(grp * kg + o) : 0.0F);
      const float* wg = w.data() + grp * kg * rows;
      if (use_avx2) {
        gemm_accumulate(wg, direct ? xg : cols.data(), yg, kg, rows, pixels);
      } else {
        gemm_accumulate_eigen(wg, direct ? xg : cols.data(), yg, kg, rows, pixels);
      }
    }
  }
}

}  // namespace exec::layers
INCISION_END_NAMESPACE
