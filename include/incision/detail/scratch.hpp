/// @file
/// @brief scratch_array: an uninitialised working array that keeps its memory.
///
/// For buffers a pass writes before it reads them: std::vector::resize would first fill them
/// (measured: about a tenth of DSL's graph construction on ResNet-50). Copies start empty, since
/// the contents only live during one call.
#pragma once

#include <incision/config.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>

INCISION_BEGIN_NAMESPACE
namespace detail {

template <class T>
class scratch_array {
  static_assert(std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T>);

 public:
  scratch_array() = default;
  scratch_array(const scratch_array&) noexcept {}
  scratch_array(scratch_array&&) noexcept = default;
  scratch_array& operator=(const scratch_array&) noexcept { return *this; }
  scratch_array& operator=(scratch_array&&) noexcept = default;
  ~scratch_array() = default;

  /// @brief Room for @p n elements, uninitialised (the earlier contents when it did not grow).
  [[nodiscard]] T* get(std::size_t n) {
    if (n > capacity_) {
      data_ = std::make_unique_for_overwrite<T[]>(n);
      capacity_ = n;
    }
    return data_.get();
  }
  [[nodiscard]] T* data() noexcept { return data_.get(); }
  [[nodiscard]] const T* data() const noexcept { return data_.get(); }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t capacity_ = 0;
};

}  // namespace detail
INCISION_END_NAMESPACE
