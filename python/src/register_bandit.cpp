// Bindings for incision::bandit.
#include "bindings/common.hpp"

namespace py = pybind11;

void register_bandit(py::module_& m) { (void)m; }
