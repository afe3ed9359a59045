// null_backend and round_robin_learner: the backend contract (split runs equal unsplit runs on
// every chain cut), its errors, and the learner's turn order.
#include <incision/exec/null_backend.hpp>
#include <incision/exec/run_split.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;

static_assert(ie::inference_backend<ie::null_backend>);

TEST_CASE("null_backend: every chain cut gives the unsplit output, which is the input") {
  for (const std::size_t layers : {1, 2, 5}) {
    ie::null_backend b(layers);
    REQUIRE(b.graph().size() == layers);
    const ie::tensor x = ie::random_tensor({2, 3, 4}, 9);
    std::vector<ip::layer_id> d;
    for (ip::layer_id k = 0; k < layers; ++k) {
      d.push_back(k);
      ie::tensor_list cut, out;
      b.run_device(d, x, cut);
      REQUIRE(cut.size() == 1);
      CHECK(cut[0].id == k);
      CHECK(cut[0].value == x);
      b.run_server(d, cut, out);
      if (k + 1 == layers) {
        CHECK(out.empty());
      } else {
        REQUIRE(out.size() == 1);
        CHECK(out[0].id == layers - 1);
        CHECK(out[0].value == x);
      }
    }
  }
}

TEST_CASE("null_backend: bad sets and missing cut tensors are invalid_argument naming the problem") {
  CHECK_THROWS_WITH_AS(ie::null_backend(0), "[incision.exec] null_backend: needs at least one layer",
                       incision::invalid_argument);
  ie::null_backend b(3);
  const ie::tensor x = ie::random_tensor({4}, 1);
  ie::tensor_list cut{{7, x}}, out{{1, x}};
  const std::string bad_set =
      "[incision.exec] null_backend::run_device: the device set must be layers 0..k of the 3-layer chain";
  for (const std::vector<ip::layer_id>& d : {std::vector<ip::layer_id>{}, {1}, {0, 2}, {0, 1, 2, 3}}) {
    CHECK_THROWS_WITH_AS(b.run_device(d, x, cut), bad_set.c_str(), incision::invalid_argument);
    CHECK(cut.size() == 1);  // unchanged
    CHECK(cut[0].id == 7);
  }
  const std::vector<ip::layer_id> d{0, 1};
  CHECK_THROWS_WITH_AS(b.run_server(d, cut, out),
                       "[incision.exec] null_backend::run_server: the cut lacks the tensor of layer 1",
                       incision::invalid_argument);
  CHECK(out.size() == 1);  // unchanged
  CHECK(out[0].id == 1);
}

TEST_CASE("round_robin_learner visits every arm in turn") {
  ie::round_robin_learner l{3};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 7; ++i) {
    picks.push_back(l.select(i % 2 == 0));
    l.update(picks.back(), 1.0);
  }
  CHECK(picks == std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0});
}
