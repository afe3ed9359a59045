/// @file
/// @brief network: a DNN described layer by layer (shapes inferred, weights drawn from a seed),
/// with its partition::layer_graph. What cpu_backend runs.
///
/// Weights (portable, see detail/random.hpp): layer v draws from uniform_source(mix_seed(seed,
/// v)), in this order: weights uniform in [-a, a] with a = sqrt(6 / fan_in) (He uniform; fan_in
/// = in channels per group * k * k, or in features), then the bias in [-0.1, 0.1], then for a
/// convolution with batch norm gamma in [0.5, 1.5], beta in [-0.2, 0.2], running mean in
/// [-0.2, 0.2] and running variance in [0.5, 1.5] (eps 1e-5). Batch norm is folded into the
/// convolution in double: s = gamma / sqrt(var + eps), w' = w s, b' = (b - mean) s + beta.
/// The layer graph gets each layer's output bytes (4 per element), its type and its MACs
/// (multiply-accumulates for conv and linear, element operations otherwise); times are zero
/// until exec::profile fills them.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/reserve.hpp>
#include <incision/error.hpp>
#include <incision/exec/detail/random.hpp>
#include <incision/exec/layers/conv2d.hpp>
#include <incision/exec/layers/pooling.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <xtensor/xbuilder.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Operator of a layer.
enum class op_kind : std::uint8_t {
  input,
  conv2d,
  relu,
  max_pool,
  avg_pool,
  global_avg_pool,
  linear,
  flatten,
  add,
  concat,
  softmax
};

/// @brief Options of network::conv2d.
struct conv2d_options {
  std::size_t out_channels = 0;
  std::size_t kernel = 3, stride = 1, padding = 0, groups = 1;
  bool bias = true;
  bool batch_norm = false;  ///< draw batch-norm parameters and fold them into weight and bias
};

/// @brief One layer: its operator, parameters and output shape.
struct op {
  op_kind kind = op_kind::input;
  shape_type out_shape;
  layers::conv2d_geometry conv{};  ///< conv2d only
  layers::pool_geometry pool{};    ///< max_pool / avg_pool only
  // Absent parameters are empty (shape {0}): a default xarray is 0-d with ONE element, which the
  // kernels would take for a bias.
  tensor weight = tensor::from_shape({0});  ///< conv2d (folded) and linear
  tensor bias = tensor::from_shape({0});    ///< conv2d (folded) and linear; empty: no bias
  /// Before folding (conv2d with batch norm): the drawn weight and bias and the batch-norm
  /// parameters, kept so a test can check the folding against conv followed by batch norm.
  tensor raw_weight = tensor::from_shape({0}), raw_bias = tensor::from_shape({0});
  tensor bn_gamma = tensor::from_shape({0}), bn_beta = tensor::from_shape({0});
  tensor bn_mean = tensor::from_shape({0}), bn_var = tensor::from_shape({0});
  static constexpr float bn_eps = 1e-5F;
};

/// @brief A network under construction. Every builder validates its input (shapes, ids) and
/// throws invalid_argument / out_of_range naming the layer, leaving the network unchanged.
class network {
 public:
  explicit network(std::uint64_t seed = 0) noexcept : seed_(seed) {}

  /// @brief The input layer (exactly one, first). @throws invalid_argument if one exists.
  partition::layer_id input(std::string name, shape_type shape);
  partition::layer_id conv2d(std::string name, partition::layer_id x, const conv2d_options& o);
  partition::layer_id relu(std::string name, partition::layer_id x);
  partition::layer_id max_pool(std::string name, partition::layer_id x, layers::pool_geometry g);
  partition::layer_id avg_pool(std::string name, partition::layer_id x, layers::pool_geometry g);
  /// @brief Mean over H and W: (N, C, H, W) -> (N, C, 1, 1).
  partition::layer_id global_avg_pool(std::string name, partition::layer_id x);
  /// @brief (N, ...) -> (N, product of the rest).
  partition::layer_id flatten(std::string name, partition::layer_id x);
  /// @brief (N, F) -> (N, out_features).
  partition::layer_id linear(std::string name, partition::layer_id x, std::size_t out_features, bool bias = true);
  partition::layer_id add(std::string name, partition::layer_id a, partition::layer_id b);
  /// @brief Concatenation along the channel axis (axis 1) of rank-4 tensors.
  partition::layer_id concat(std::string name, std::span<const partition::layer_id> xs);
  /// @brief Softmax over axis 1 of a rank-2 tensor.
  partition::layer_id softmax(std::string name, partition::layer_id x);

  [[nodiscard]] const partition::layer_graph& graph() const noexcept { return g_; }
  /// @brief The layer's operator. @throws out_of_range for an unknown id.
  [[nodiscard]] const op& at(partition::layer_id v) const {
    (void)g_.at(v);
    return ops_[v];
  }
  [[nodiscard]] std::size_t size() const noexcept { return ops_.size(); }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  /// @brief The input's shape. @throws invalid_argument if there is no input yet.
  [[nodiscard]] const shape_type& input_shape() const;
  /// @brief Multiply-accumulates of one inference, summed over the layers.
  [[nodiscard]] double total_macs() const noexcept;

 private:
  std::uint64_t seed_;
  partition::layer_graph g_;
  std::vector<op> ops_;

  [[noreturn]] static void bad(const std::string& name, const std::string& why);
  const op& operand(const std::string& name, partition::layer_id x, std::size_t rank) const;
  partition::layer_id append(std::string name, op o, std::span<const partition::layer_id> from, const char* type,
                             double macs);
  static void fill_uniform(tensor& t, detail::uniform_source& u, float a);
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void network::bad(const std::string& name, const std::string& why) {
  INCISION_THROW(invalid_argument(incision::detail::message("exec", "layer '" + name + "': " + why)));
}

inline const shape_type& network::input_shape() const {
  if (ops_.empty()) INCISION_THROW(invalid_argument(incision::detail::message("exec", "the network has no input")));
  return ops_[0].out_shape;
}

inline double network::total_macs() const noexcept {
  double m = 0.0;
  for (partition::layer_id v = 0; v < g_.size(); ++v) m += g_[v].macs;
  return m;
}

inline const op& network::operand(const std::string& name, partition::layer_id x, std::size_t rank) const {
  if (x >= ops_.size())
    INCISION_THROW(out_of_range(incision::detail::message(
        "exec", "layer '" + name + "': operand id " + std::to_string(x) + " does not exist")));
  const op& o = ops_[x];
  if (rank != 0 && o.out_shape.size() != rank)
    bad(name,
        "needs a rank-" + std::to_string(rank) + " operand, '" + g_[x].name + "' is " + shape_string(o.out_shape));
  return o;
}

inline void network::fill_uniform(tensor& t, detail::uniform_source& u, float a) {
  for (float& x : t) x = u.uniform(-a, a);
}

inline partition::layer_id network::append(std::string name, op o, std::span<const partition::layer_id> from,
                                           const char* type, double macs) {
  const std::size_t elements = element_count(o.out_shape);
  // the builders checked the operands (distinct, existing), so after add_layer the edges can
  // fail only to allocate; room for the op first, so nothing throws after the graph changed
  // but add_edge's allocation
  incision::detail::reserve_one_more(ops_);
  const partition::layer_id v =
      g_.add_layer(std::move(name), 0.0, 0.0, 4.0 * static_cast<double>(elements), type, macs);
  for (const partition::layer_id u : from) g_.add_edge(u, v);
  ops_.push_back(std::move(o));
  return v;
}

inline partition::layer_id network::input(std::string name, shape_type shape) {
  if (!ops_.empty()) bad(name, "the network already has an input");
  if (shape.empty() || element_count(shape) == 0) bad(name, "the input shape must be non-empty");
  op o;
  o.out_shape = std::move(shape);
  return append(std::move(name), std::move(o), {}, "input", 0.0);
}

inline partition::layer_id network::conv2d(std::string name, partition::layer_id x, const conv2d_options& opt) {
  const op& in = operand(name, x, 4);
  const std::size_t n = in.out_shape[0], c = in.out_shape[1], h = in.out_shape[2], w = in.out_shape[3];
  if (opt.out_channels == 0 || opt.kernel == 0 || opt.stride == 0 || opt.groups == 0)
    bad(name, "out_channels, kernel, stride and groups must be >= 1");
  if (c % opt.groups != 0 || opt.out_channels % opt.groups != 0)
    bad(name, "groups " + std::to_string(opt.groups) + " must divide the input channels " + std::to_string(c) +
                  " and the output channels " + std::to_string(opt.out_channels));
  if (h + 2 * opt.padding < opt.kernel || w + 2 * opt.padding < opt.kernel)
    bad(name, "kernel " + std::to_string(opt.kernel) + " larger than the padded input " + shape_string(in.out_shape));
  op o;
  o.kind = op_kind::conv2d;
  o.conv = {opt.kernel, opt.stride, opt.padding, opt.groups};
  const std::size_t ho = layers::window_out(h, opt.kernel, opt.stride, opt.padding);
  const std::size_t wo = layers::window_out(w, opt.kernel, opt.stride, opt.padding);
  o.out_shape = {n, opt.out_channels, ho, wo};
  const std::size_t fan_in = c / opt.groups * opt.kernel * opt.kernel;
  detail::uniform_source u(detail::mix_seed(seed_, ops_.size()));
  o.weight = tensor::from_shape({opt.out_channels, c / opt.groups, opt.kernel, opt.kernel});
  fill_uniform(o.weight, u, std::sqrt(6.0F / static_cast<float>(fan_in)));
  if (opt.bias) {
    o.bias = tensor::from_shape({opt.out_channels});
    fill_uniform(o.bias, u, 0.1F);
  }
  if (opt.batch_norm) {
    const auto draw = [&](float lo, float hi) {
      tensor t = tensor::from_shape({opt.out_channels});
      for (float& v : t) v = u.uniform(lo, hi);
      return t;
    };
    o.bn_gamma = draw(0.5F, 1.5F);
    o.bn_beta = draw(-0.2F, 0.2F);
    o.bn_mean = draw(-0.2F, 0.2F);
    o.bn_var = draw(0.5F, 1.5F);
    o.raw_weight = o.weight;
    o.raw_bias = o.bias;
    if (o.bias.size() == 0) o.bias = xt::zeros<float>({opt.out_channels});
    const std::size_t per = o.weight.size() / opt.out_channels;
    for (std::size_t k = 0; k < opt.out_channels; ++k) {
      const double s = static_cast<double>(o.bn_gamma(k)) / std::sqrt(static_cast<double>(o.bn_var(k)) + op::bn_eps);
      for (std::size_t i = 0; i < per; ++i)
        o.weight.data()[k * per + i] = static_cast<float>(static_cast<double>(o.weight.data()[k * per + i]) * s);
      o.bias(k) = static_cast<float>((static_cast<double>(o.bias(k)) - o.bn_mean(k)) * s + o.bn_beta(k));
    }
  }
  const double macs = static_cast<double>(n * opt.out_channels * ho * wo * fan_in);
  return append(std::move(name), std::move(o), std::span(&x, 1), "conv", macs);
}

inline partition::layer_id network::relu(std::string name, partition::layer_id x) {
  op o;
  o.kind = op_kind::relu;
  o.out_shape = operand(name, x, 0).out_shape;
  const double m = static_cast<double>(element_count(o.out_shape));
  return append(std::move(name), std::move(o), std::span(&x, 1), "relu", m);
}

inline partition::layer_id network::max_pool(std::string name, partition::layer_id x, layers::pool_geometry g) {
  const op& in = operand(name, x, 4);
  if (g.kernel == 0 || g.stride == 0 || 2 * g.padding > g.kernel)
    bad(name, "pooling needs kernel, stride >= 1 and padding <= kernel / 2");
  if (in.out_shape[2] + 2 * g.padding < g.kernel || in.out_shape[3] + 2 * g.padding < g.kernel)
    bad(name, "window larger than the padded input " + shape_string(in.out_shape));
  op o;
  o.kind = op_kind::max_pool;
  o.pool = g;
  o.out_shape = {in.out_shape[0], in.out_shape[1], layers::window_out(in.out_shape[2], g.kernel, g.stride, g.padding),
                 layers::window_out(in.out_shape[3], g.kernel, g.stride, g.padding)};
  const double m = static_cast<double>(element_count(o.out_shape) * g.kernel * g.kernel);
  return append(std::move(name), std::move(o), std::span(&x, 1), "max_pool", m);
}

inline partition::layer_id network::avg_pool(std::string name, partition::layer_id x, layers::pool_geometry g) {
  const partition::layer_id v = max_pool(std::move(name), x, g);  // same checks and shape
  ops_[v].kind = op_kind::avg_pool;
  g_.set_metadata(v, "avg_pool", g_[v].macs);
  return v;
}

inline partition::layer_id network::global_avg_pool(std::string name, partition::layer_id x) {
  const op& in = operand(name, x, 4);
  op o;
  o.kind = op_kind::global_avg_pool;
  o.out_shape = {in.out_shape[0], in.out_shape[1], 1, 1};
  const double m = static_cast<double>(element_count(in.out_shape));
  return append(std::move(name), std::move(o), std::span(&x, 1), "global_avg_pool", m);
}

inline partition::layer_id network::flatten(std::string name, partition::layer_id x) {
  const op& in = operand(name, x, 0);
  if (in.out_shape.size() < 2) bad(name, "flatten needs rank >= 2");
  op o;
  o.kind = op_kind::flatten;
  o.out_shape = {in.out_shape[0], element_count(in.out_shape) / std::max<std::size_t>(in.out_shape[0], 1)};
  return append(std::move(name), std::move(o), std::span(&x, 1), "flatten", 0.0);
}

inline partition::layer_id network::linear(std::string name, partition::layer_id x, std::size_t out_features,
                                           bool bias) {
  const op& in = operand(name, x, 2);
  if (out_features == 0) bad(name, "out_features must be >= 1");
  const std::size_t n = in.out_shape[0], f = in.out_shape[1];
  if (f == 0) bad(name, "no input features");
  op o;
  o.kind = op_kind::linear;
  o.out_shape = {n, out_features};
  detail::uniform_source u(detail::mix_seed(seed_, ops_.size()));
  o.weight = tensor::from_shape({out_features, f});
  fill_uniform(o.weight, u, std::sqrt(6.0F / static_cast<float>(f)));
  if (bias) {
    o.bias = tensor::from_shape({out_features});
    fill_uniform(o.bias, u, 0.1F);
  }
  return append(std::move(name), std::move(o), std::span(&x, 1), "linear", static_cast<double>(n * f * out_features));
}

inline partition::layer_id network::add(std::string name, partition::layer_id a, partition::layer_id b) {
  const op& oa = operand(name, a, 0);
  const op& ob = operand(name, b, 0);
  if (a == b) bad(name, "add needs two different operands");
  if (oa.out_shape != ob.out_shape)
    bad(name, "add needs equal shapes, got " + shape_string(oa.out_shape) + " and " + shape_string(ob.out_shape));
  op o;
  o.kind = op_kind::add;
  o.out_shape = oa.out_shape;
  const partition::layer_id from[2] = {a, b};
  const double m = static_cast<double>(element_count(o.out_shape));
  return append(std::move(name), std::move(o), from, "add", m);
}

inline partition::layer_id network::concat(std::string name, std::span<const partition::layer_id> xs) {
  if (xs.size() < 2) bad(name, "concat needs at least two operands");
  shape_type s = operand(name, xs[0], 4).out_shape;
  s[1] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const op& in = operand(name, xs[i], 4);
    if (in.out_shape[0] != s[0] || in.out_shape[2] != s[2] || in.out_shape[3] != s[3])
      bad(name, "concat operands must agree on N, H and W, got " + shape_string(in.out_shape));
    for (std::size_t j = 0; j < i; ++j)
      if (xs[j] == xs[i]) bad(name, "concat operand " + std::to_string(xs[i]) + " given twice");
    s[1] += in.out_shape[1];
  }
  op o;
  o.kind = op_kind::concat;
  o.out_shape = std::move(s);
  return append(std::move(name), std::move(o), xs, "concat", 0.0);
}

inline partition::layer_id network::softmax(std::string name, partition::layer_id x) {
  op o;
  o.kind = op_kind::softmax;
  o.out_shape = operand(name, x, 2).out_shape;
  const double m = static_cast<double>(element_count(o.out_shape));
  return append(std::move(name), std::move(o), std::span(&x, 1), "softmax", m);
}

}  // namespace exec
INCISION_END_NAMESPACE
