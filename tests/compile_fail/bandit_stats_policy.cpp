// A statistics policy without observe/ridge/encode must be rejected with a readable message.
// expected-error: mu_linucb: Stats must model statistics_policy
#include <incision/bandit/mu_linucb.hpp>

#include <cstddef>

struct not_a_policy {
  static constexpr int dim_at_compile_time = 7;
  [[nodiscard]] std::size_t dim() const { return 7; }
};

int main() {
  incision::bandit::mu_linucb<7, not_a_policy>* p = nullptr;
  (void)sizeof(*p);
  return 0;
}
