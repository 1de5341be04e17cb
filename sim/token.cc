// sim/token.cc — the replay token codec (format in token.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/token.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace aiosim::sim {
namespace token_internal {

namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

constexpr char kBase64Url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeBase64UrlValues() {  // -1: not in the alphabet
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (int8_t v = 0; v < 64; ++v) values[static_cast<uint8_t>(kBase64Url[v])] = v;
  return values;
}
constexpr std::array<int8_t, 256> kBase64UrlValues = MakeBase64UrlValues();

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8 | b) & 0xFFFF;
    for (bits += 8; bits >= 6;) out += kBase64Url[(acc >> (bits -= 6)) & 63];
  }
  if (bits > 0) out += kBase64Url[(acc << (6 - bits)) & 63];
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* bytes, size_t* bad_offset) {
  bytes->clear();
  bytes->reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int8_t value = kBase64UrlValues[static_cast<uint8_t>(text[i])];
    if (value < 0) {
      *bad_offset = i;
      return false;
    }
    acc = (acc << 6 | static_cast<uint32_t>(value)) & 0xFFFF;
    if ((bits += 6) >= 8) *bytes += static_cast<char>((acc >> (bits -= 8)) & 0xFF);
  }
  // Canonical form: no lone final character, and the 2 or 4 bits left over from the
  // last character are zero.
  if (text.size() % 4 == 1 || (acc & ((1u << bits) - 1)) != 0) {
    *bad_offset = text.size() % 4 == 1 ? text.size() : text.size() - 1;
    return false;
  }
  return true;
}

}  // namespace token_internal

namespace {

using token_internal::Base64UrlDecode;
using token_internal::Base64UrlEncode;
using token_internal::Crc32;

// Debian's Abseil has its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// which absl::StrCat wants; this concatenation takes std::string_view pieces.
template <typename... Pieces>
std::string Cat(const Pieces&... pieces) {
  std::string out;
  (out.append(std::string_view(pieces)), ...);
  return out;
}

std::string_view StripWhitespace(std::string_view text) {
  const absl::string_view s = absl::StripAsciiWhitespace({text.data(), text.size()});
  return {s.data(), s.size()};
}

// Quotes untrusted text for a one-line message: escaped, cut after `max` characters
// (paths are never cut: the message must name the file).
std::string Quote(std::string_view text, size_t max = 32) {
  const bool cut = text.size() > max;
  text = text.substr(0, max);
  return Cat("'", absl::CHexEscape(absl::string_view(text.data(), text.size())),
             cut ? "'..." : "'");
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(Cat("token: ", what));
}

std::string TooMany(std::string_view what, uint64_t n, size_t max) {
  return absl::StrFormat("too many %s (%d; at most %d)", what, n, max);
}

bool IsNameChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}
bool IsKeyChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || absl::ascii_isdigit(c) || c == '_' || c == '-';
}
bool IsValueChar(unsigned char c) { return c >= '!' && c <= '~'; }

// Checks length and charset of one field; `what` names it in the message.
absl::Status CheckField(std::string_view what, std::string_view text, size_t min_size,
                        size_t max_size, bool (*ok_char)(unsigned char),
                        std::string_view accepted) {
  if (text.size() < min_size) return Bad(Cat(what, " is empty"));
  if (text.size() > max_size) {
    return Bad(absl::StrFormat("%s is too long (%d chars; at most %d)", what, text.size(),
                               max_size));
  }
  for (unsigned char c : text) {
    if (!ok_char(c)) {
      return Bad(Cat(what, " has invalid character ",
                     Quote(std::string(1, static_cast<char>(c))),
                     " (accepted: ", accepted, ")"));
    }
  }
  return absl::OkStatus();
}

constexpr std::string_view kNameAccepted = "A-Z a-z 0-9 . _ -";

void PutVarint(std::string* out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *out += static_cast<char>((v & 0x7F) | 0x80);
  *out += static_cast<char>(v);
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  *out += s;
}

// Reads the payload front to back; every read is bounded by the bytes left. The first
// error sticks: later reads return zeros, and status() reports it.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  size_t left() const { return rest_.size(); }
  const absl::Status& status() const { return status_; }
  void Fail(std::string_view what) {
    if (status_.ok()) status_ = Bad(what);
    rest_ = {};
  }

  uint64_t Varint() {
    uint64_t result = 0;
    for (int i = 0; i < 10; ++i) {
      if (rest_.empty()) {
        Fail("truncated payload");
        return 0;
      }
      const uint8_t b = static_cast<uint8_t>(rest_[0]);
      rest_.remove_prefix(1);
      result |= uint64_t{b & 0x7Fu} << (7 * i);
      if (i == 9 && b > 1) break;
      if ((b & 0x80) != 0) continue;
      if (b == 0 && i > 0) Fail("number in payload is not minimally encoded");
      return status_.ok() ? result : 0;
    }
    Fail("number in payload exceeds 64 bits");
    return 0;
  }

  std::string String() {
    const uint64_t size = Varint();
    if (size > rest_.size()) Fail("truncated payload");
    if (!status_.ok()) return "";
    std::string s(rest_.substr(0, static_cast<size_t>(size)));
    rest_.remove_prefix(s.size());
    return s;
  }

 private:
  std::string_view rest_;
  absl::Status status_;
};

// The count of items that follow, capped by `max` and by the bytes left (each item
// takes at least `min_bytes`).
uint64_t ReadCount(Reader* reader, std::string_view what, size_t max, size_t min_bytes) {
  const uint64_t count = reader->Varint();
  if (count > max) reader->Fail(TooMany(what, count, max));
  if (reader->status().ok() && count > reader->left() / min_bytes) {
    reader->Fail("truncated payload");
  }
  return reader->status().ok() ? count : 0;
}

uint32_t Read32(Reader* reader, std::string_view what) {
  const uint64_t v = reader->Varint();
  if (v > UINT32_MAX) reader->Fail(Cat(what, " exceeds 32 bits"));
  return static_cast<uint32_t>(v);
}

void ReadDeviations(Reader* reader, std::vector<TokenDeviation>* out) {
  const uint64_t count = ReadCount(reader, "deviations", kTokenDeviationsMax, 7);
  out->resize(static_cast<size_t>(count));
  uint64_t step = 0;
  for (TokenDeviation& d : *out) {
    d.thread = Read32(reader, "deviation thread");
    d.points = reader->Varint();
    d.sub = Read32(reader, "deviation sub");
    const uint64_t delta = reader->Varint();
    if (delta > UINT64_MAX - step) reader->Fail("deviation step exceeds 64 bits");
    d.step = step += delta;
    d.fingerprint = Read32(reader, "deviation fingerprint");
    const uint64_t kinds = reader->Varint();
    d.choice_kind = static_cast<uint32_t>(kinds >> 2);
    d.option_kind = static_cast<uint32_t>(kinds & 3);
    if ((kinds >> 2) > kTokenChoiceKindMax)
      reader->Fail("deviation choice kind out of range");
    d.option_arg = Read32(reader, "deviation option");
    if (!reader->status().ok()) {
      out->clear();
      return;
    }
  }
}

void ReadCheckpoints(Reader* reader, std::vector<TokenCheckpoint>* out) {
  const uint64_t count = ReadCount(reader, "checkpoints", kTokenCheckpointsMax, 2);
  out->resize(static_cast<size_t>(count));
  uint64_t step = 0;
  for (TokenCheckpoint& c : *out) {
    const uint64_t delta = reader->Varint();
    if (delta >= UINT64_MAX - step) reader->Fail("checkpoint step exceeds 64 bits");
    c.step = step += delta + 1;
    c.fingerprint = Read32(reader, "checkpoint fingerprint");
    if (!reader->status().ok()) {
      out->clear();
      return;
    }
  }
}

absl::Status ReadPayload(std::string_view bytes, TokenData* data) {
  Reader reader(bytes);
  data->scenario = reader.String();
  data->generation = reader.String();
  const uint64_t n_options = reader.Varint();
  if (n_options > kTokenOptionsMax) {
    reader.Fail(TooMany("options", n_options, kTokenOptionsMax));
  }
  data->options.resize(reader.status().ok() ? static_cast<size_t>(n_options) : 0);
  for (auto& [key, value] : data->options) {
    key = reader.String();
    value = reader.String();
  }
  data->strategy = reader.String();
  data->seed = reader.Varint();
  ReadDeviations(&reader, &data->deviations);
  ReadCheckpoints(&reader, &data->checkpoints);
  if (reader.status().ok() && reader.left() != 0) {
    reader.Fail("trailing bytes after payload");
  }
  return reader.status();
}

}  // namespace

absl::Status ValidateTokenData(const TokenData& data) {
  // Update() keeps the first error.
  absl::Status st = CheckField("scenario name", data.scenario, 1, kTokenNameMax,
                               IsNameChar, kNameAccepted);
  st.Update(CheckField("generation name", data.generation, 1, kTokenNameMax, IsNameChar,
                       kNameAccepted));
  st.Update(CheckField("strategy name", data.strategy, 1, kTokenNameMax, IsNameChar,
                       kNameAccepted));
  if (st.ok() && data.options.size() > kTokenOptionsMax) {
    st = Bad(TooMany("options", data.options.size(), kTokenOptionsMax));
  }
  for (size_t i = 0; st.ok() && i < data.options.size(); ++i) {
    const auto& [key, value] = data.options[i];
    st.Update(
        CheckField("option key", key, 1, kTokenOptionMax, IsKeyChar, "a-z 0-9 _ -"));
    st.Update(CheckField(Cat("value of option ", Quote(key)), value, 0, kTokenOptionMax,
                         IsValueChar, "printable ASCII, no spaces"));
    if (st.ok() && i > 0 && !(data.options[i - 1].first < key)) {
      st = Bad(Cat("options not sorted or duplicated at key ", Quote(key),
                   " (keys must be strictly increasing)"));
    }
  }
  if (st.ok() && data.deviations.size() > kTokenDeviationsMax) {
    st = Bad(TooMany("deviations", data.deviations.size(), kTokenDeviationsMax));
  }
  for (size_t i = 0; st.ok() && i < data.deviations.size(); ++i) {
    const TokenDeviation& d = data.deviations[i];
    if (d.fingerprint > kTokenFingerprintMax) {
      st = Bad(absl::StrFormat("deviation %d: fingerprint %d exceeds 16 bits", i + 1,
                               d.fingerprint));
    } else if (d.choice_kind > kTokenChoiceKindMax ||
               d.option_kind > kTokenOptionKindMax) {
      st =
          Bad(absl::StrFormat("deviation %d: choice or option kind out of range", i + 1));
    } else if (i > 0) {
      const TokenDeviation& p = data.deviations[i - 1];
      if (!(p.step < d.step || (p.step == d.step && p.sub < d.sub))) {
        st = Bad(absl::StrFormat(
            "deviation %d is not after deviation %d (they must increase in step, sub)",
            i + 1, i));
      }
    }
  }
  if (st.ok() && data.checkpoints.size() > kTokenCheckpointsMax) {
    st = Bad(TooMany("checkpoints", data.checkpoints.size(), kTokenCheckpointsMax));
  }
  for (size_t i = 0; st.ok() && i < data.checkpoints.size(); ++i) {
    const TokenCheckpoint& c = data.checkpoints[i];
    if (c.fingerprint > kTokenFingerprintMax) {
      st = Bad(absl::StrFormat("checkpoint %d: fingerprint %d exceeds 16 bits", i + 1,
                               c.fingerprint));
    } else if (c.step == 0 || (i > 0 && data.checkpoints[i - 1].step >= c.step)) {
      st = Bad(
          absl::StrFormat("checkpoint %d: steps must start at 1 and increase", i + 1));
    }
  }
  return st;
}

std::string EncodeToken(const TokenData& data) {
  if (absl::Status st = ValidateTokenData(data); !st.ok()) {
    return Cat("<invalid ", std::string(st.message()), ">");  // "<invalid token: ...>"
  }
  std::string bytes;
  PutString(&bytes, data.scenario);
  PutString(&bytes, data.generation);
  PutVarint(&bytes, data.options.size());
  for (const auto& [key, value] : data.options) {
    PutString(&bytes, key);
    PutString(&bytes, value);
  }
  PutString(&bytes, data.strategy);
  PutVarint(&bytes, data.seed);
  PutVarint(&bytes, data.deviations.size());
  uint64_t step = 0;
  for (const TokenDeviation& d : data.deviations) {
    PutVarint(&bytes, d.thread);
    PutVarint(&bytes, d.points);
    PutVarint(&bytes, d.sub);
    PutVarint(&bytes, d.step - step);
    step = d.step;
    PutVarint(&bytes, d.fingerprint);
    PutVarint(&bytes, uint64_t{d.choice_kind} << 2 | d.option_kind);
    PutVarint(&bytes, d.option_arg);
  }
  PutVarint(&bytes, data.checkpoints.size());
  step = 0;
  for (const TokenCheckpoint& c : data.checkpoints) {
    PutVarint(&bytes, c.step - step - 1);
    step = c.step;
    PutVarint(&bytes, c.fingerprint);
  }
  const std::string payload = Base64UrlEncode(bytes);
  return absl::StrFormat("%s:%s:%08x", kTokenPrefix, payload, Crc32(payload));
}

absl::StatusOr<TokenData> DecodeToken(std::string_view text) {
  constexpr std::string_view kShape = "expected aiosim2:<payload>:<crc>";
  const std::string_view token = StripWhitespace(text);
  if (token.empty()) return Bad(Cat("empty (", kShape, ")"));

  // Version: "aiosim" + digits, up to the first ':'.
  const size_t colon = token.find(':');
  const std::string_view head = token.substr(0, colon);
  if (head != kTokenPrefix) {
    if (head == "aiosim1") {
      return Bad(
          Cat("version aiosim1 was written by an older aiosim; its raw schedules "
              "cannot be checked against this program (this build reads ",
              kTokenPrefix, "; re-run the search for a new token)"));
    }
    if (LooksLikeToken(token)) {
      return Bad(Cat("unknown version ", Quote(head, 16), " (this build reads ",
                     kTokenPrefix, ")"));
    }
    return Bad(Cat("does not start with '", kTokenPrefix, ":' (", kShape, ")"));
  }

  // Checksum: after the last ':', exactly 8 lowercase hex digits.
  const size_t last = token.rfind(':');
  if (last == colon) return Bad(Cat("missing checksum (", kShape, ")"));
  const std::string_view payload = token.substr(colon + 1, last - colon - 1);
  const std::string_view crc_text = token.substr(last + 1);

  // Characters first (to name a stray one), then the checksum, then the structure.
  std::string bytes;
  size_t bad = 0;
  const bool canonical = Base64UrlDecode(payload, &bytes, &bad);
  if (!canonical && bad < payload.size() && !absl::ascii_isalnum(payload[bad]) &&
      payload[bad] != '-' && payload[bad] != '_') {
    return Bad(absl::StrFormat(
        "bad base64url character %s at offset %d (accepted: A-Z a-z 0-9 - _)",
        Quote(payload.substr(bad, 1)), colon + 1 + bad));
  }
  if (crc_text.size() != 8 ||
      crc_text.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Bad(
        Cat("checksum ", Quote(crc_text),
            " is not 8 lowercase hex digits (the token was truncated or altered)"));
  }
  if (absl::StrFormat("%08x", Crc32(payload)) != crc_text) {
    return Bad("checksum mismatch (the token was truncated or altered)");
  }
  if (!canonical) {
    return Bad("payload is not canonical base64url (bad length or final character)");
  }
  TokenData data;
  if (absl::Status st = ReadPayload(bytes, &data); !st.ok()) return st;
  if (absl::Status st = ValidateTokenData(data); !st.ok()) return st;
  return data;
}

bool LooksLikeToken(std::string_view arg) {
  arg = StripWhitespace(arg);
  if (arg.substr(0, 6) != "aiosim") return false;
  const size_t end = arg.find_first_not_of("0123456789", 6);
  return end != std::string_view::npos && end > 6 && arg[end] == ':';
}

namespace {

constexpr size_t kTokenFileMax = size_t{128} << 20;  // > the largest valid token

std::string QuotePath(std::string_view path) { return Quote(path, path.size()); }

absl::Status FileError(std::string_view what, const std::string& path, int err) {
  return absl::Status(
      absl::ErrnoToStatusCode(err),
      Cat("token file ", QuotePath(path), ": ", what, " (", std::strerror(err), ")"));
}

}  // namespace

absl::StatusOr<TokenData> ReadTokenFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError("cannot open", path, errno);
  std::string text;
  char buffer[1 << 16];
  ssize_t n;  // bounded: stops once past kTokenFileMax
  while ((n = read(fd, buffer, sizeof buffer)) != 0 && text.size() <= kTokenFileMax) {
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (errno != EINTR) {
      break;
    }
  }
  const int err = errno;
  close(fd);  // read-only: a close error loses nothing
  if (n < 0) return FileError("cannot read", path, err);
  if (text.size() > kTokenFileMax) {
    return absl::InvalidArgumentError(
        absl::StrFormat("token file %s: larger than %d MiB, not a token", QuotePath(path),
                        kTokenFileMax >> 20));
  }
  if (StripWhitespace(text).empty()) {
    return absl::InvalidArgumentError(
        Cat("token file ", QuotePath(path), ": empty (expected one aiosim2:... token)"));
  }
  absl::StatusOr<TokenData> data = DecodeToken(text);
  if (!data.ok()) {
    return absl::InvalidArgumentError(
        Cat(std::string(data.status().message()), " (in file ", QuotePath(path), ")"));
  }
  return data;
}

absl::Status WriteTokenFile(const std::string& path, std::string_view token) {
  if (token.empty() || token.find_first_of("\r\n") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat("token file ", QuotePath(path),
            ": refusing to write an empty or multi-line token"));
  }
  const std::string tmp = path + ".tmp";
  const std::string content = Cat(token, "\n");
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return FileError("cannot create", tmp, errno);
  std::string_view failed;  // the first step that failed, with its errno in `err`
  int err = 0;
  for (size_t done = 0; failed.empty() && done < content.size();) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      failed = "cannot write";
      err = n == 0 ? EIO : errno;
    }
  }
  if (failed.empty() && fsync(fd) != 0) failed = "cannot fsync", err = errno;
  if (close(fd) != 0 && failed.empty()) failed = "cannot close", err = errno;
  if (failed.empty() && rename(tmp.c_str(), path.c_str()) != 0) {
    failed = "cannot rename over the token file", err = errno;
  }
  if (!failed.empty()) {
    unlink(tmp.c_str());
    return FileError(failed, tmp, err);
  }
  // Make the rename durable; a failure here leaves valid content, so it is ignored.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace aiosim::sim
