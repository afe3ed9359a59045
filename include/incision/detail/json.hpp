/// @file
/// @brief A small strict JSON reader and writer helpers (RFC 8259), used by the graph loaders.
/// Internal.
///
/// Rejects anything malformed or truncated with incision::parse_error (strings that are not
/// UTF-8 and objects with a duplicate key included); never reads out of bounds; nesting depth is
/// capped so hostile input cannot exhaust the stack.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/utf8.hpp>
#include <incision/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace detail {

struct json_member;

/// @brief One JSON value (a tiny DOM; objects keep member order).
struct json_value {
  enum class kind : std::uint8_t { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<json_value> array;
  std::vector<json_member> object;

  /// @brief Member lookup; nullptr when absent or when this is not an object.
  [[nodiscard]] const json_value* find(std::string_view key) const noexcept;
};

/// @brief One "key": value pair of an object.
struct json_member {
  std::string key;
  json_value value;
};

inline const json_value* json_value::find(std::string_view key) const noexcept {
  if (type != kind::object) return nullptr;
  for (const auto& m : object)
    if (m.key == key) return &m.value;
  return nullptr;
}

/// @brief Parses one JSON document (surrounding whitespace allowed, nothing else).
/// @throws parse_error, its message prefixed with `[incision.<area>]`.
[[nodiscard]] json_value parse_json(std::string_view text, std::string_view area = "json");

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

class json_parser {
 public:
  json_parser(std::string_view text, std::string_view area) noexcept : s_(text), area_(area) {}

  json_value document() {
    skip_ws();
    json_value v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("trailing characters after the JSON value");
    return v;
  }

 private:
  static constexpr int max_depth = 256;
  std::string_view s_;
  std::string_view area_;  // of the error messages
  std::size_t pos_ = 0;

  [[noreturn]] void fail(std::string_view what) const {
    INCISION_THROW(parse_error(
        incision::detail::message(area_, "JSON: " + std::string(what) + " at offset " + std::to_string(pos_))));
  }
  void skip_ws() noexcept {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  char peek() const {
    if (pos_ >= s_.size()) fail("unexpected end of input");
    return s_[pos_];
  }
  void expect_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) fail("invalid literal");
    pos_ += lit.size();
  }

  json_value value(int depth) {
    if (depth > max_depth) fail("nesting too deep");
    json_value v;
    switch (peek()) {
      case '{':
        object(v, depth);
        break;
      case '[':
        array(v, depth);
        break;
      case '"':
        v.type = json_value::kind::string;
        v.string = string();
        break;
      case 't':
        expect_literal("true");
        v.type = json_value::kind::boolean;
        v.boolean = true;
        break;
      case 'f':
        expect_literal("false");
        v.type = json_value::kind::boolean;
        break;
      case 'n':
        expect_literal("null");
        break;
      default:
        v.type = json_value::kind::number;
        v.number = number();
        break;
    }
    return v;
  }

  void object(json_value& v, int depth) {
    v.type = json_value::kind::object;
    ++pos_;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      skip_ws();
      if (peek() != ':') fail("expected ':'");
      ++pos_;
      skip_ws();
      json_value member = value(depth + 1);
      v.object.push_back(json_member{std::move(key), std::move(member)});
      skip_ws();
      const char c = peek();
      ++pos_;
      if (c == '}') return reject_duplicate_keys(v);
      if (c != ',') fail("expected ',' or '}'");
    }
  }

  // RFC 8259 leaves duplicate names to the reader; accepting one would silently drop a value
  void reject_duplicate_keys(const json_value& v) const {
    const auto& m = v.object;
    std::vector<std::string_view> keys;
    keys.reserve(m.size());
    for (const json_member& x : m) keys.push_back(x.key);
    std::sort(keys.begin(), keys.end());  // O(k log k): a hostile object may have many keys
    const auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) fail("duplicate key \"" + std::string(*dup) + "\" in the object ending");
  }

  void array(json_value& v, int depth) {
    v.type = json_value::kind::array;
    ++pos_;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      v.array.push_back(value(depth + 1));
      skip_ws();
      const char c = peek();
      ++pos_;
      if (c == ']') return;
      if (c != ',') fail("expected ',' or ']'");
    }
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::uint32_t hex4() {
    if (s_.size() - pos_ < 4) fail("truncated \\u escape");
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return cp;
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      const char c = peek();
      ++pos_;
      if (c == '"') {
        if (!valid_utf8(out)) fail("string is not valid UTF-8");
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail("unpaired surrogate");
            pos_ += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail("invalid escape");
      }
    }
  }

  double number() {
    const std::size_t start = pos_;
    auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (!digit()) fail("invalid value");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digit()) fail("digit expected after '.'");
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit()) fail("digit expected in exponent");
      while (digit()) ++pos_;
    }
    double out = 0.0;
    const auto res = std::from_chars(s_.data() + start, s_.data() + pos_, out);
    if (res.ec == std::errc::result_out_of_range || !std::isfinite(out)) fail("number out of range");
    if (res.ec != std::errc() || res.ptr != s_.data() + pos_) fail("invalid number");
    return out;
  }
};

inline json_value parse_json(std::string_view text, std::string_view area) {
  return json_parser(text, area).document();
}

/// @brief Writes a JSON string literal (with escapes) to @p out.
inline void write_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
          out += hex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

/// @brief Writes a double so that it reads back bit-exactly (shortest round-trip form).
inline void write_json_number(std::string& out, double x) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, res.ptr);
}

}  // namespace detail
INCISION_END_NAMESPACE
