// tools/json.h — hand-written JSON output for the `aiosim` subcommands: a string
// escaper and a small builder for one object per line of keys.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The output is RFC 8259 JSON: strings escaped by JsonString, numbers in decimal,
// non-finite doubles as null. JsonObject writes `{`, one `"key": value` per line
// (indented by `indent` + 2 spaces) and `}`; nested values are passed in already
// rendered (Raw), e.g. a JsonObject's Close() or a JsonArray(...) of strings.
//
// Threading: header-only, no state; thread-compatible.
#ifndef AIOSIM_TOOLS_JSON_H_
#define AIOSIM_TOOLS_JSON_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"

namespace aiosim::tools {

// A JSON string literal (RFC 8259): quotes and backslashes escaped, control
// characters as \u00XX (\n, \t as themselves, for readability); UTF-8 passes through.
inline std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\u%04x", byte);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A JSON array of strings, on one line.
inline std::string JsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); i++) {
    if (i > 0) out += ", ";
    out += JsonString(items[i]);
  }
  return out + "]";
}

// A JSON object of string values, on one line: {"canceller": "foreign"}.
inline std::string JsonStringMap(
    const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out = "{";
  for (size_t i = 0; i < kv.size(); i++) {
    if (i > 0) out += ", ";
    out += JsonString(kv[i].first) + ": " + JsonString(kv[i].second);
  }
  return out + "}";
}

class JsonObject {
 public:
  explicit JsonObject(int indent = 0) : indent_(indent) {}

  JsonObject& Str(std::string_view key, std::string_view value) {
    return Raw(key, JsonString(value));
  }
  JsonObject& Bool(std::string_view key, bool value) {
    return Raw(key, value ? "true" : "false");
  }
  JsonObject& Int(std::string_view key, int64_t value) {
    return Raw(key, absl::StrFormat("%d", value));
  }
  JsonObject& Uint(std::string_view key, uint64_t value) {
    return Raw(key, absl::StrFormat("%d", value));
  }
  // `decimals` digits after the point; NaN and infinities as null.
  JsonObject& Num(std::string_view key, double value, int decimals) {
    return Raw(key, std::isfinite(value) ? absl::StrFormat("%.*f", decimals, value)
                                         : std::string("null"));
  }
  JsonObject& Null(std::string_view key) { return Raw(key, "null"); }
  // `json` must be one rendered JSON value.
  JsonObject& Raw(std::string_view key, std::string_view json) {
    absl::StrAppendFormat(&body_, "%s\n%*s%s: %s", body_.empty() ? "" : ",", indent_ + 2,
                          "", JsonString(key), json);
    return *this;
  }
  // The object's text, without a final newline.
  std::string Close() const {
    return body_.empty() ? "{}" : absl::StrFormat("{%s\n%*s}", body_, indent_, "");
  }

 private:
  int indent_;
  std::string body_;
};

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_JSON_H_
