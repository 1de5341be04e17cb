// tools/flags.cc — see flags.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/flags.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace aiosim::tools {

namespace {

const FlagSpec* FindSpec(absl::Span<const FlagSpec> specs, std::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// "-5" and "-.5" are (bad) values, so that `--seed -5` says what is wrong with -5.
bool IsFlag(std::string_view arg) {
  return arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9') &&
         arg[1] != '.';
}

}  // namespace

std::string Shown(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out;
  for (const char c : text.substr(0, kMax)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? '?' : c;
  }
  if (text.size() > kMax) out += "...";
  return out;
}

absl::StatusOr<ParsedArgs> ParseArgs(std::string_view command, Args args,
                                     absl::Span<const FlagSpec> specs) {
  ParsedArgs parsed;
  for (std::string_view arg : args) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      return parsed;
    }
  }
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string_view arg = args[i];
    if (flags_ended || !IsFlag(arg)) {
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    std::string_view name = arg.starts_with("--") ? arg.substr(2) : std::string_view();
    std::string_view value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = name.empty() ? nullptr : FindSpec(specs, name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown flag '%s' (see 'aiosim %s --help')",
          Shown(has_value ? arg.substr(0, arg.find('=')) : arg), command));
    }
    if (spec->value.empty() && has_value && !spec->optional_value) {
      return absl::InvalidArgumentError(
          absl::StrFormat("flag '--%s' takes no value, got '%s'", name, Shown(arg)));
    }
    if (!spec->value.empty() && !has_value) {
      if (i + 1 >= args.size() || IsFlag(args[i + 1])) {
        return absl::InvalidArgumentError(
            absl::StrFormat("flag '--%s' needs a value: --%s %s or --%s=%s", name, name,
                            spec->value, name, spec->value));
      }
      value = args[++i];
    }
    if (!spec->repeatable) {
      for (const ParsedFlag& seen : parsed.flags) {
        if (seen.name == spec->name) {
          return absl::InvalidArgumentError(
              absl::StrFormat("flag '--%s' given twice (it may be given once)", name));
        }
      }
    }
    parsed.flags.push_back(ParsedFlag{spec->name, value});
  }
  return parsed;
}

absl::StatusOr<uint64_t> ParseUint(std::string_view flag, std::string_view text,
                                   uint64_t min, uint64_t max) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  const bool digits_only = !text.empty() && text[0] >= '0' && text[0] <= '9';
  if (!digits_only || ptr != end ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s: '%s' is not a number (expected an integer from %d to %d)",
                        flag, Shown(text), min, max));
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s: %s is out of range (expected an integer from %d to %d)",
                        flag, Shown(text), min, max));
  }
  return value;
}

absl::StatusOr<double> ParseSeconds(std::string_view flag, std::string_view text) {
  constexpr double kMax = 1e7;
  double value = 0;
  const bool plain =
      !text.empty() && ((text[0] >= '0' && text[0] <= '9') || text[0] == '.');
  const char* end = text.data() + text.size();
  const auto [ptr, ec] =
      std::from_chars(text.data(), end, value, std::chars_format::general);
  if (!plain || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s: '%s' is not a number of seconds (expected e.g. 30 or 0.5, at most %g)",
        flag, Shown(text), kMax));
  }
  if (value < 0 || value > kMax) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s: %s is out of range (expected 0 to %g seconds)", flag, Shown(text), kMax));
  }
  return value;
}

std::string OneLine(const absl::Status& status) {
  std::string out(status.message());
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return out;
}

std::string Hex64(uint64_t value) { return absl::StrFormat("0x%016x", value); }

namespace {
int g_stdout_errno = 0;  // the errno of the first failed FlushStdout
}  // namespace

bool FlushStdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 && g_stdout_errno == 0) g_stdout_errno = errno;
  return std::ferror(stdout) == 0;
}

void WriteStdout(std::string_view text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() &&
      g_stdout_errno == 0) {
    g_stdout_errno = errno;
  }
}

std::string StdoutError() {
  return g_stdout_errno != 0 ? std::string(std::strerror(g_stdout_errno))
                             : std::string("a write failed");
}

}  // namespace aiosim::tools
