// A statistics policy of another compile-time dimension must be rejected.
// expected-error: linucb: Stats must have the same compile-time dimension
#include <incision/bandit/linucb.hpp>

int main() {
  incision::bandit::linucb<7, incision::bandit::ridge_stats<16>>* p = nullptr;
  (void)sizeof(*p);
  return 0;
}
