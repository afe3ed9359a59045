// Built only when the downloaded xtensor gave incision::exec: the executor headers compile
// against it and a split run equals the unsplit one.
#include <incision/exec.hpp>

int main() {
  auto net = incision::exec::example_network("resnet", 1);
  return net.graph().size() > 0 ? 0 : 1;
}
