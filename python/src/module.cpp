// incision._core: one compiled module, one submodule per area, each filled by its own TU.
#include "bindings/common.hpp"

#include <incision/error.hpp>
#include <incision/version.hpp>

#include <string>

namespace py = pybind11;

void register_bandit(py::module_& m);
void register_partition(py::module_& m);
void register_federated(py::module_& m);
#if defined(INCISION_PY_HAVE_EXEC)
void register_exec(py::module_& m);
#endif
#if defined(INCISION_PY_HAVE_NET)
void register_net(py::module_& m);
#endif

PYBIND11_MODULE(_core, m) {
  m.doc() = "incision compiled core: bandits and partitioning over numpy arrays";
  m.attr("__version__") = std::to_string(INCISION_VERSION_MAJOR) + "." + std::to_string(INCISION_VERSION_MINOR) + "." +
                          std::to_string(INCISION_VERSION_PATCH);
  // std::invalid_argument (and incision::parse_error) -> ValueError and std::out_of_range ->
  // IndexError are pybind11 defaults; files that cannot be read or written are OSError.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const incision::io_error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });
  auto bandit = m.def_submodule("bandit", "Contextual bandits that learn the cut online");
  register_bandit(bandit);
  auto partition = m.def_submodule("partition", "Optimal cuts of layer graphs from profiles");
  register_partition(partition);
  auto federated = m.def_submodule("federated", "FedLinUCB-DW: devices of a type learn the cut together");
  register_federated(federated);
#if defined(INCISION_PY_HAVE_EXEC)
  auto exec = m.def_submodule("exec", "Run a split network: the reference CPU backend, simulated link, online loop");
  register_exec(exec);
#endif
#if defined(INCISION_PY_HAVE_NET)
  auto net = m.def_submodule("net", "The edge server and the device's TCP link (standalone Asio)");
  register_net(net);
#endif
}
