#include <incision/error.hpp>
#include <incision/version.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>

TEST_CASE("exception types derive from the standard hierarchy") {
  static_assert(std::is_base_of_v<std::invalid_argument, incision::invalid_argument>);
  static_assert(std::is_base_of_v<std::invalid_argument, incision::parse_error>);
  static_assert(std::is_base_of_v<std::out_of_range, incision::out_of_range>);
  static_assert(std::is_base_of_v<std::runtime_error, incision::oracle_error>);
  static_assert(std::is_base_of_v<std::runtime_error, incision::io_error>);
  CHECK(incision::detail::message("bandit", "alpha must be >= 0") == "[incision.bandit] alpha must be >= 0");
  CHECK(incision::to_string(incision::status::infeasible) == "infeasible");
}

TEST_CASE("version macros agree") {
  CHECK(INCISION_VERSION == INCISION_VERSION_MAJOR * 10000 + INCISION_VERSION_MINOR * 100 + INCISION_VERSION_PATCH);
}

TEST_CASE("the inline namespace is named after the version, so two versions mangle apart") {
  // Independent of the macro: the name is spelled out from the version numbers.
  const std::string expected =
      "v" + std::to_string(INCISION_VERSION_MAJOR) + "_" + std::to_string(INCISION_VERSION_MINOR);
  const std::string mangled = typeid(incision::io_error).name();
  CHECK(mangled.find(expected) != std::string::npos);
  CHECK(mangled.find("incision") != std::string::npos);
  static_assert(std::is_same_v<incision::INCISION_ABI_NAMESPACE::io_error, incision::io_error>);
}
