/// @file
/// @brief Two example networks for the (1, 3, 32, 32) input: "resnet" (residual blocks: adds
/// across branches) and "inception" (parallel branches joined by concat), a few MFLOPs each.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/network.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief A small ResNet: stem conv 3->16 (batch norm, relu), max pool to 16x16, a basic block
/// at 16 channels, two down-sampling blocks (stride 2, 1x1 projection shortcut) to 32 and 64
/// channels, global average pooling, linear to 10 classes, softmax. 25 layers, about 7 MFLOPs
/// (twice network::total_macs, element operations included).
[[nodiscard]] network resnet_network(std::uint64_t seed = 0);
/// @brief A small Inception: stem conv 3->16, max pool, two inception modules (1x1; 1x1 then
/// 3x3; 1x1 then 5x5; pool then 1x1; the second module's 3x3 branch is depthwise, groups = its
/// channels, and its pool branch averages), a max pool between them, global average pooling,
/// linear, softmax. 37 layers, about 4.7 MFLOPs.
[[nodiscard]] network inception_network(std::uint64_t seed = 0);
/// @brief "resnet" or "inception". @throws invalid_argument for another name.
[[nodiscard]] network example_network(std::string_view name, std::uint64_t seed = 0);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {
inline partition::layer_id conv_bn_relu(network& net, const std::string& name, partition::layer_id x, std::size_t out,
                                        std::size_t kernel, std::size_t stride, bool relu = true,
                                        std::size_t groups = 1) {
  conv2d_options o;
  o.out_channels = out;
  o.kernel = kernel;
  o.stride = stride;
  o.padding = kernel / 2;
  o.groups = groups;
  o.bias = false;
  o.batch_norm = true;
  const partition::layer_id c = net.conv2d(name, x, o);
  return relu ? net.relu(name + ".relu", c) : c;
}

inline partition::layer_id basic_block(network& net, const std::string& name, partition::layer_id x, std::size_t in,
                                       std::size_t out, std::size_t stride) {
  const partition::layer_id a = conv_bn_relu(net, name + ".conv1", x, out, 3, stride);
  const partition::layer_id b = conv_bn_relu(net, name + ".conv2", a, out, 3, 1, false);
  partition::layer_id shortcut = x;
  if (stride != 1 || in != out) shortcut = conv_bn_relu(net, name + ".proj", x, out, 1, stride, false);
  return net.relu(name + ".relu", net.add(name + ".add", b, shortcut));
}

struct inception_widths {
  std::size_t b1, b2_reduce, b2, b3_reduce, b3, b4;
};

inline partition::layer_id inception_module(network& net, const std::string& name, partition::layer_id x,
                                            const inception_widths& w, bool second) {
  const partition::layer_id b1 = conv_bn_relu(net, name + ".b1", x, w.b1, 1, 1);
  const partition::layer_id b2r = conv_bn_relu(net, name + ".b2.reduce", x, w.b2_reduce, 1, 1);
  // the second module's 3x3 branch is depthwise (groups = channels)
  const partition::layer_id b2 =
      conv_bn_relu(net, name + ".b2", b2r, second ? w.b2_reduce : w.b2, 3, 1, true, second ? w.b2_reduce : 1);
  const partition::layer_id b3r = conv_bn_relu(net, name + ".b3.reduce", x, w.b3_reduce, 1, 1);
  const partition::layer_id b3 = conv_bn_relu(net, name + ".b3", b3r, w.b3, 5, 1);
  const layers::pool_geometry p{3, 1, 1};
  const partition::layer_id pool =
      second ? net.avg_pool(name + ".b4.pool", x, p) : net.max_pool(name + ".b4.pool", x, p);
  const partition::layer_id b4 = conv_bn_relu(net, name + ".b4", pool, w.b4, 1, 1);
  const std::array<partition::layer_id, 4> branches{b1, b2, b3, b4};
  return net.concat(name + ".concat", branches);
}
}  // namespace detail

inline network resnet_network(std::uint64_t seed) {
  network net(seed);
  partition::layer_id x = net.input("input", {1, 3, 32, 32});
  x = detail::conv_bn_relu(net, "stem", x, 16, 3, 1);
  x = net.max_pool("stem.pool", x, {2, 2, 0});
  x = detail::basic_block(net, "block1", x, 16, 16, 1);
  x = detail::basic_block(net, "block2", x, 16, 32, 2);
  x = detail::basic_block(net, "block3", x, 32, 64, 2);
  x = net.global_avg_pool("gap", x);
  x = net.flatten("flatten", x);
  x = net.linear("fc", x, 10);
  (void)net.softmax("softmax", x);
  return net;
}

inline network inception_network(std::uint64_t seed) {
  network net(seed);
  partition::layer_id x = net.input("input", {1, 3, 32, 32});
  x = detail::conv_bn_relu(net, "stem", x, 16, 3, 1);
  x = net.max_pool("stem.pool", x, {2, 2, 0});
  x = detail::inception_module(net, "mixed1", x, {16, 16, 24, 4, 8, 8}, false);  // 56 channels, 16x16
  x = net.max_pool("pool1", x, {2, 2, 0});
  x = detail::inception_module(net, "mixed2", x, {32, 24, 24, 8, 16, 16}, true);  // 88 channels, 8x8
  x = net.global_avg_pool("gap", x);
  x = net.flatten("flatten", x);
  x = net.linear("fc", x, 10);
  (void)net.softmax("softmax", x);
  return net;
}

inline network example_network(std::string_view name, std::uint64_t seed) {
  if (name == "resnet") return resnet_network(seed);
  if (name == "inception") return inception_network(seed);
  INCISION_THROW(invalid_argument(incision::detail::message(
      "exec", "unknown example network '" + std::string(name) + "' (known: resnet, inception)")));
}

}  // namespace exec
INCISION_END_NAMESPACE
