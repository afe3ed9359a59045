// Helpers shared by the binding TUs: numpy/bytes conversion and the per-object lock.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>  // paths: str or any os.PathLike

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <shared_mutex>
#include <span>
#include <type_traits>
#include <utility>
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

// ---------------------------------------------------------------------------------------
// Threading contract of every bound object: one mutex per object, taken by every method that
// reads or mutates it, so Python threads sharing an object are serialised. Deadlock freedom:
// - nobody blocks on an object mutex while holding the GIL (with the GIL held we only try-lock;
//   on contention the GIL is released while we wait);
// - several mutexes are always taken in address order;
// - long calls release the GIL first, then lock, and unlock before taking the GIL back.
// Python objects are built only after the lock is gone (a GC finalizer could run Python code).
using object_mutex = std::shared_mutex;

class object_lock {
 public:
  enum mode { exclusive, shared };

  explicit object_lock(object_mutex& m, mode how = exclusive) : object_lock({&m}, how) {}
  object_lock(std::initializer_list<object_mutex*> ms, mode how = exclusive)
      : object_lock(std::vector<object_mutex*>(ms), how) {}
  object_lock(std::vector<object_mutex*> ms, mode how = exclusive) : ms_(std::move(ms)), how_(how) {
    std::sort(ms_.begin(), ms_.end());
    ms_.erase(std::unique(ms_.begin(), ms_.end()), ms_.end());
    if (PyGILState_Check() != 0) {
      if (try_all()) return;
      py::gil_scoped_release release;
      lock_all();
    } else {
      lock_all();
    }
  }
  ~object_lock() {
    for (auto it = ms_.rbegin(); it != ms_.rend(); ++it) unlock(**it);
  }
  object_lock(const object_lock&) = delete;
  object_lock& operator=(const object_lock&) = delete;

 private:
  bool try_all() {
    for (std::size_t i = 0; i < ms_.size(); ++i) {
      if (!(how_ == shared ? ms_[i]->try_lock_shared() : ms_[i]->try_lock())) {
        while (i > 0) unlock(*ms_[--i]);
        return false;
      }
    }
    return true;
  }
  void lock_all() {
    for (auto* m : ms_) how_ == shared ? m->lock_shared() : m->lock();
  }
  void unlock(object_mutex& m) const { how_ == shared ? m.unlock_shared() : m.unlock(); }

  std::vector<object_mutex*> ms_;
  mode how_;
};

/// A C++ object bound to Python together with its mutex (see the threading contract above).
template <class T>
struct locked_object {
  T obj;
  mutable object_mutex m;

  locked_object() = default;
  explicit locked_object(T o) : obj(std::move(o)) {}
  locked_object(locked_object&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : obj(std::move(o.obj)) {}
  locked_object& operator=(locked_object&&) = delete;
};

namespace detail_ {
template <class W, class R, class C, class... A>
auto locked_call(R (C::*f)(A...) const) {
  return [f](const W& w, A... a) -> std::remove_cvref_t<R> {
    object_lock lock(w.m);
    return (w.obj.*f)(std::forward<A>(a)...);  // the result is copied before the unlock
  };
}
template <class W, class R, class C, class... A>
auto locked_call(R (C::*f)(A...)) {
  return [f](W& w, A... a) -> std::remove_cvref_t<R> {
    object_lock lock(w.m);
    return (w.obj.*f)(std::forward<A>(a)...);
  };
}
}  // namespace detail_

/// A member function of W::obj bound as a method of W that takes W's lock.
template <class W, class F>
auto locked(F f) {
  return detail_::locked_call<W>(f);
}
template <class W, class R, class C, class... A>
auto locked(R (C::*f)(A...) const noexcept) {
  R (C::*g)(A...) const = f;  // dropping noexcept is an implicit conversion
  return detail_::locked_call<W>(g);
}
template <class W, class R, class C, class... A>
auto locked(R (C::*f)(A...) noexcept) {
  R (C::*g)(A...) = f;
  return detail_::locked_call<W>(g);
}
}  // namespace incision_py
