// The portable random stream (include/incision/detail/random.hpp) pinned to values computed
// independently by tests/bandit/random_reference.py (the same published formulas in Python with
// exact integer arithmetic), so a seed gives the same experiment with any standard library.
#include <incision/detail/random.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

using incision::detail::random_stream;

TEST_CASE("random_stream: xoshiro256** outputs, uniforms and polar normals match the reference") {
  random_stream a(0);
  CHECK(a.next() == 0x99ec5f36cb75f2b4ULL);
  CHECK(a.next() == 0xbf6e1f784956452aULL);
  CHECK(a.next() == 0x1a5f849d4933e6e0ULL);
  random_stream b(20260523);
  CHECK(b.next() == 0x870d09a24d12c63dULL);
  CHECK(b.next() == 0x310edc9cfc20cf12ULL);
  CHECK(b.next() == 0x5bd8ec516dce9145ULL);
  random_stream u(0);
  CHECK(u.uniform() == 0x1.33d8be6d96ebep-1);
  CHECK(u.uniform() == 0x1.7edc3ef092ac8p-1);
  CHECK(u.uniform() == 0x1.a5f849d4933e0p-4);
  random_stream n(0);
  CHECK(n.normal() == 0x1.323a82a4bc9e5p-1);
  CHECK(n.normal() == 0x1.76a54f2c0effap+0);
  CHECK(n.normal() == -0x1.ca445408b789ap-1);
  CHECK(n.normal() == -0x1.81270d2ddbad5p-3);
  CHECK(n.normal() == -0x1.3532999190f0ap+1);
  random_stream m(20260523);
  CHECK(m.normal() == 0x1.f893877eb321cp-4);
  CHECK(m.normal() == -0x1.61137ecfe1785p+0);
  CHECK(m.normal() == 0x1.70226e0ef63cep-1);
  CHECK(m.normal() == -0x1.15a215fd7c7d5p+0);
  CHECK(m.normal() == 0x1.6101c1eb55afdp-4);
}

TEST_CASE("random_stream: uniforms lie in [0, 1), normals have mean 0 and variance 1") {
  random_stream r(7);
  double sum = 0.0;
  double sq = 0.0;
  constexpr int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.uniform();
    REQUIRE((x >= 0.0 && x < 1.0));
  }
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    sum += z;
    sq += z * z;
  }
  CHECK(std::abs(sum / n) < 0.01);       // sd of the mean: 1/sqrt(n) = 0.0022
  CHECK(std::abs(sq / n - 1.0) < 0.02);  // sd of the variance: sqrt(2/n) = 0.0032
  int hits = 0;
  for (int i = 0; i < n; ++i) hits += r.bernoulli(0.3) ? 1 : 0;
  CHECK(std::abs(hits / double(n) - 0.3) < 0.005);  // sd: 0.001
  CHECK_FALSE(random_stream(1).bernoulli(0.0));
  CHECK(random_stream(1).bernoulli(1.0));
}
