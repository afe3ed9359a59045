// Bindings for FedLinUCB-DW (incision::bandit federated learners and messages).
#include "bindings/common.hpp"

namespace py = pybind11;

void register_federated(py::module_& m) { (void)m; }
