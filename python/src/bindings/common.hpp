// Helpers shared by the binding TUs.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>

#include <cstddef>
#include <span>
#include <vector>

namespace incision_py {
namespace py = pybind11;

/// numpy's C order: a (K, d) float64 array maps onto this without a copy.
using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Bytes <-> Python bytes.
inline py::bytes to_py_bytes(const std::vector<std::byte>& b) {
  return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
}
inline std::span<const std::byte> as_byte_span(const py::bytes& b) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &data, &size) != 0) throw py::error_already_set();
  return {reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(size)};
}
}  // namespace incision_py
