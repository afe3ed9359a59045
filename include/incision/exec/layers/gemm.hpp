/// @file
/// @brief The GEMM of the convolutions: Y += W C with W (m x k), C (k x n), Y (m x n), all
/// row-major and dense (output channels x pixels, the layout of NCHW). On x86 with GCC or Clang
/// and a CPU that has AVX2 and FMA (checked once at run time; the kernel is compiled for it
/// through a function target attribute, so no -m flag is needed), a register-blocked kernel of
/// our own; otherwise Eigen's GEMM (SSE2 on any x86-64, or whatever the build's flags allow).
///
/// Why a kernel of our own: Eigen picks its instruction set when it is compiled, so a portable
/// build gets 4-wide SSE2 multiplies and adds while the machine can do 8-wide fused
/// multiply-adds. The kernel keeps an 8 x 16 block of Y in registers and streams the rows of C
/// (contiguous along the pixels, so nothing is packed) against broadcast weights.
#pragma once

#include <incision/config.hpp>

#include <Eigen/Core>

#include <cstddef>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define INCISION_DETAIL_GEMM_AVX2 1
#include <immintrin.h>
#else
#define INCISION_DETAIL_GEMM_AVX2 0
#endif

INCISION_BEGIN_NAMESPACE
namespace exec::layers {

/// @brief y[m x n] += w[m x k] * c[k x n] (row-major, rows contiguous).
void gemm_accumulate(const float* w, const float* c, float* y, std::size_t m, std::size_t k, std::size_t n) noexcept;
/// @brief The same with Eigen whatever the CPU (the tests compare both).
void gemm_accumulate_eigen(const float* w, const float* c, float* y, std::size_t m, std::size_t k,
                           std::size_t n) noexcept;
/// @brief True when gemm_accumulate uses the AVX2 + FMA kernel on this CPU.
[[nodiscard]] bool gemm_has_avx2() noexcept;

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void gemm_accumulate_eigen(const float* w, const float* c, float* y, std::size_t m, std::size_t k,
                                  std::size_t n) noexcept {
  using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto ei = [](std::size_t v) { return static_cast<Eigen::Index>(v); };
  Eigen::Map<row_matrix> ym(y, ei(m), ei(n));
  ym.noalias() += Eigen::Map<const row_matrix>(w, ei(m), ei(k)) * Eigen::Map<const row_matrix>(c, ei(k), ei(n));
}

#if INCISION_DETAIL_GEMM_AVX2

namespace detail {

// Where the k rows of C start: row r = (a * ni + i) * nj + j is at c + a sa + i si + j sj. A
// dense C is {k, 1, 1, n, 0, 0}; a convolution reads its taps straight from a padded input with
// {channels, kernel, kernel, plane, row, 1}, and needs no column matrix.
struct row_layout {
  std::size_t na, ni, nj, sa, si, sj;
};

#define INCISION_DETAIL_AVX2_TARGET __attribute__((target("avx2,fma")))

// Y[0..Rows) x [p, p + 8 Vecs) += W[0..Rows) x C[.., p, p + 8 Vecs): Rows x Vecs accumulators
// (at most 16 of the 16 ymm registers' worth, the rest hold C and the broadcast weight).
template <std::size_t Rows, std::size_t Vecs>
INCISION_DETAIL_AVX2_TARGET inline void avx2_block(const float* w, std::size_t k, const float* c, const row_layout& l,
                                                   float* y, std::size_t n) noexcept {
  __m256 acc[Rows][Vecs];
#pragma GCC unroll 8
  for (std::size_t i = 0; i < Rows; ++i)
#pragma GCC unroll 2
    for (std::size_t v = 0; v < Vecs; ++v) acc[i][v] = _mm256_loadu_ps(y + i * n + 8 * v);
  const float* wr = w;  // weight column r
  for (std::size_t a = 0; a < l.na; ++a)
    for (std::size_t ii = 0; ii < l.ni; ++ii)
      for (std::size_t j = 0; j < l.nj; ++j, ++wr) {
        const float* cr = c + a * l.sa + ii * l.si + j * l.sj;
        __m256 cv[Vecs];
#pragma GCC unroll 2
        for (std::size_t v = 0; v < Vecs; ++v) cv[v] = _mm256_loadu_ps(cr + 8 * v);
#pragma GCC unroll 8
        for (std::size_t i = 0; i < Rows; ++i) {
          const __m256 wv = _mm256_broadcast_ss(wr + i * k);
#pragma GCC unroll 2
          for (std::size_t v = 0; v < Vecs; ++v) acc[i][v] = _mm256_fmadd_ps(wv, cv[v], acc[i][v]);
        }
      }
#pragma GCC unroll 8
  for (std::size_t i = 0; i < Rows; ++i)
#pragma GCC unroll 2
    for (std::size_t v = 0; v < Vecs; ++v) _mm256_storeu_ps(y + i * n + 8 * v, acc[i][v]);
}

// Rows of Y at a time; the columns in blocks of 16, then 8, then one by one.
template <std::size_t Rows>
INCISION_DETAIL_AVX2_TARGET inline void avx2_rows(const float* w, std::size_t k, const float* c, const row_layout& l,
                                                  float* y, std::size_t n) noexcept {
  std::size_t p = 0;
  for (; p + 16 <= n; p += 16) avx2_block<Rows, 2>(w, k, c + p, l, y + p, n);
  if (p + 8 <= n) {
    avx2_block<Rows, 1>(w, k, c + p, l, y + p, n);
    p += 8;
  }
  for (; p < n; ++p)
    for (std::size_t i = 0; i < Rows; ++i) {
      float s = y[i * n + p];
      const float* wr = w + i * k;
      for (std::size_t a = 0; a < l.na; ++a)
        for (std::size_t ii = 0; ii < l.ni; ++ii)
          for (std::size_t j = 0; j < l.nj; ++j) s += *wr++ * c[a * l.sa + ii * l.si + j * l.sj + p];
      y[i * n + p] = s;
    }
}

// y[m x n] += w[m x k] * C, k = na ni nj rows of C laid out as l says.
INCISION_DETAIL_AVX2_TARGET inline void avx2_gemm(const float* w, const float* c, const row_layout& l, float* y,
                                                  std::size_t m, std::size_t n) noexcept {
  const std::size_t k = l.na * l.ni * l.nj;
  std::size_t o = 0;
  for (; o + 8 <= m; o += 8) avx2_rows<8>(w + o * k, k, c, l, y + o * n, n);
  if (o + 4 <= m) {
    avx2_rows<4>(w + o * k, k, c, l, y + o * n, n);
    o += 4;
  }
  for (; o < m; ++o) avx2_rows<1>(w + o * k, k, c, l, y + o * n, n);
}

#undef INCISION_DETAIL_AVX2_TARGET

}  // namespace detail

#endif  // INCISION_DETAIL_GEMM_AVX2

inline bool gemm_has_avx2() noexcept {
#if INCISION_DETAIL_GEMM_AVX2
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
  }();
  return has;
#else
  return false;
#endif
}

inline void gemm_accumulate(const float* w, const float* c, float* y, std::size_t m, std::size_t k,
                            std::size_t n) noexcept {
#if INCISION_DETAIL_GEMM_AVX2
  if (gemm_has_avx2()) {
    detail::avx2_gemm(w, c, {k, 1, 1, n, 0, 0}, y, m, n);
    return;
  }
#endif
  gemm_accumulate_eigen(w, c, y, m, k, n);
}

}  // namespace exec::layers
INCISION_END_NAMESPACE
