// Bindings for incision::partition.
#include "bindings/common.hpp"

namespace py = pybind11;

void register_partition(py::module_& m) { (void)m; }
