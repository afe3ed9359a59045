/// @file
/// @brief Tensors of incision::exec: xtensor float32 arrays (row-major, any rank), and the named
/// tensors that cross a cut (named by the id of the layer that produced them).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/detail/random.hpp>
#include <incision/partition/layer_graph.hpp>

#include <xtensor/xarray.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief The tensor type: a row-major float32 xtensor array of any rank (NCHW for images).
using tensor = xt::xarray<float, xt::layout_type::row_major>;
/// @brief A shape: one extent per axis.
using shape_type = std::vector<std::size_t>;

/// @brief A tensor that crosses a cut, named by the layer that produced it.
struct named_tensor {
  partition::layer_id id = 0;
  tensor value;
};
/// @brief The tensors crossing a cut (any order; each id at most once).
using tensor_list = std::vector<named_tensor>;

/// @brief Number of elements of @p shape (1 for rank 0).
/// @throws invalid_argument if the product overflows std::size_t.
[[nodiscard]] inline std::size_t element_count(std::span<const std::size_t> shape) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d)
      INCISION_THROW(invalid_argument(incision::detail::message("exec", "tensor shape overflows size_t")));
    n *= d;
  }
  return n;
}

/// @brief The tensor named @p id in @p list, or nullptr.
[[nodiscard]] inline const tensor* find(const tensor_list& list, partition::layer_id id) noexcept {
  for (const named_tensor& t : list)
    if (t.id == id) return &t.value;
  return nullptr;
}

/// @brief Reshapes @p t to @p shape, keeping its memory when the element count is unchanged or
/// smaller than what it holds (no allocation in a steady state).
template <class Shape>
void resize(tensor& t, const Shape& shape) {
  if (t.dimension() == shape.size() && std::equal(t.shape().begin(), t.shape().end(), shape.begin())) return;
  t.resize(shape);
}

/// @brief A tensor of @p shape with uniform values in [lo, hi) from @p seed (portable, see
/// detail/random.hpp).
[[nodiscard]] inline tensor random_tensor(const shape_type& shape, std::uint64_t seed, float lo = -1.0F,
                                          float hi = 1.0F) {
  (void)element_count(shape);
  tensor t = tensor::from_shape(shape);
  detail::uniform_source u(seed);
  for (float& x : t) x = u.uniform(lo, hi);
  return t;
}

/// @brief A readable shape, e.g. "(1, 3, 32, 32)".
template <class Shape>
[[nodiscard]] std::string shape_string(const Shape& shape) {
  std::string s = "(";
  bool first = true;
  for (const auto d : shape) {
    if (!first) s += ", ";
    s += std::to_string(d);
    first = false;
  }
  return s + ")";
}

}  // namespace exec
INCISION_END_NAMESPACE
