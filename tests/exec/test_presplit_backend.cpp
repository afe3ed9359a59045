// The backend concept and the pre-split adaptor: every chain cut equals the unsplit run; sets
// that are not chain prefixes are refused.
#include <incision/exec/presplit_backend.hpp>
#include <incision/exec/run_split.hpp>

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include <string>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;

namespace {
struct no_graph {
  void run_device(ie::device_set, const ie::tensor&, ie::tensor_list&) {}
  void run_server(ie::device_set, const ie::tensor_list&, ie::tensor_list&) {}
};
static_assert(!ie::inference_backend<no_graph>);
static_assert(!ie::has_graph<no_graph>);
static_assert(ie::has_run_device<no_graph> && ie::has_run_server<no_graph>);

// input -> +1 -> *2 -> -3, pre-split at every cut
ie::presplit_backend affine_chain() {
  ip::layer_graph g;
  for (const char* name : {"input", "plus1", "times2", "minus3"}) (void)g.add_layer(name, 0, 0, 4);
  for (ip::layer_id v = 0; v + 1 < 4; ++v) g.add_edge(v, v + 1);
  using part = ie::presplit_backend::part;
  const auto f = [](int from, int to) {
    return part([from, to](const ie::tensor& in, ie::tensor& out) {
      out = in;
      if (from < 1 && to >= 1) out = out + 1.0F;
      if (from < 2 && to >= 2) out = out * 2.0F;
      if (from < 3 && to >= 3) out = out - 3.0F;
    });
  };
  return ie::presplit_backend(g, {f(0, 0), f(0, 1), f(0, 2), f(0, 3)}, {f(0, 3), f(1, 3), f(2, 3)});
}
}  // namespace

TEST_CASE("presplit_backend: every chain cut gives the unsplit output") {
  auto b = affine_chain();
  const ie::tensor x = ie::random_tensor({2, 3}, 11);
  const auto whole = ie::run(b, x);
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].id == 3);
  CHECK(whole[0].value == (x + 1.0F) * 2.0F - 3.0F);
  for (std::size_t k = 1; k <= 4; ++k) {
    std::vector<ip::layer_id> d;
    for (ip::layer_id v = 0; v < k; ++v) d.push_back(v);
    const auto split = ie::run_split(b, d, x);
    REQUIRE(split.size() == 1);
    CHECK(split[0].id == 3);
    CHECK(split[0].value == whole[0].value);
  }
}

TEST_CASE("presplit_backend refuses non-prefix sets, a missing cut tensor and bad parts") {
  auto b = affine_chain();
  const ie::tensor x = ie::random_tensor({2}, 1);
  ie::tensor_list cut, out;
  const std::vector<ip::layer_id> gap{0, 2}, empty{}, unsorted{1, 0};
  CHECK_THROWS_AS(b.run_device(gap, x, cut), incision::invalid_argument);
  CHECK_THROWS_AS(b.run_device(empty, x, cut), incision::invalid_argument);
  CHECK_THROWS_AS(b.run_device(unsorted, x, cut), incision::invalid_argument);
  const std::vector<ip::layer_id> two{0, 1};
  CHECK_THROWS_WITH_AS(b.run_server(two, ie::tensor_list{}, out), doctest::Contains("lacks the tensor of layer 1"),
                       incision::invalid_argument);
  ip::layer_graph g;
  (void)g.add_layer("a", 0, 0, 0);
  (void)g.add_layer("b", 0, 0, 0);
  (void)g.add_layer("c", 0, 0, 0);
  g.add_edge(0, 1);
  g.add_edge(0, 2);
  CHECK_THROWS_WITH_AS(ie::presplit_backend(g, {}, {}), doctest::Contains("non-empty chain"),
                       incision::invalid_argument);
}
