/// @file
/// @brief Configuration macros: versioned namespace, assertions, throwing.
#pragma once

#include <incision/version.hpp>

#include <cstdio>
#include <exception>

// Everything lives in an inline namespace named after the version (v<major>_<minor>, e.g.
// incision::v0_1), so that two extensions built against different versions of these headers can
// share a process without ODR violations: their symbols mangle differently. A patch release keeps
// the name, so it must keep every layout. No configuration macro changes a layout today; one that
// does must be pasted into INCISION_ABI_NAMESPACE as well.
#define INCISION_DETAIL_PASTE_(a, b) a##b
#define INCISION_DETAIL_PASTE(a, b) INCISION_DETAIL_PASTE_(a, b)
/// INCISION_ABI_NAMESPACE: the name of the inline namespace, e.g. `v0_1`.
#define INCISION_ABI_NAMESPACE                                                                      \
  INCISION_DETAIL_PASTE(INCISION_DETAIL_PASTE(INCISION_DETAIL_PASTE(v, INCISION_VERSION_MAJOR), _), \
                        INCISION_VERSION_MINOR)
#define INCISION_BEGIN_NAMESPACE \
  namespace incision {           \
  inline namespace INCISION_ABI_NAMESPACE {
#define INCISION_END_NAMESPACE \
  }                            \
  }

/// INCISION_ASSERT(cond, msg): checks programming errors on hot paths. On when
/// INCISION_ENABLE_ASSERT is defined or NDEBUG is not; users may define their own before
/// including any incision header.
#ifndef INCISION_ASSERT
#if defined(INCISION_ENABLE_ASSERT) || !defined(NDEBUG)
#define INCISION_ASSERT(cond, msg)                                                                                \
  ((cond) ? static_cast<void>(0)                                                                                  \
          : (std::fprintf(stderr, "%s:%d: incision assertion failed: %s (%s)\n", __FILE__, __LINE__, #cond, msg), \
             std::terminate()))
#else
#define INCISION_ASSERT(cond, msg) static_cast<void>(0)
#endif
#endif

/// INCISION_ALWAYS_INLINE: for small helpers on hot loops that the compiler's heuristics leave
/// out of line (measured, not guessed).
#if defined(__GNUC__) || defined(__clang__)
#define INCISION_ALWAYS_INLINE [[gnu::always_inline]] inline
#elif defined(_MSC_VER)
#define INCISION_ALWAYS_INLINE __forceinline
#else
#define INCISION_ALWAYS_INLINE inline
#endif
/// INCISION_ALWAYS_INLINE_LAMBDA: the same for a lambda (after its parameter list).
#if defined(__GNUC__) || defined(__clang__)
#define INCISION_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))
#else
#define INCISION_ALWAYS_INLINE_LAMBDA
#endif

/// INCISION_THROW(ex): every throw goes through here, so -fno-exceptions builds terminate
/// with the message instead of failing to compile.
#ifndef INCISION_THROW
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define INCISION_THROW(ex) throw ex
#else
#define INCISION_THROW(ex) (std::fprintf(stderr, "incision: %s\n", (ex).what()), std::terminate())
#endif
#endif
