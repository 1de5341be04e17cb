// sim/token.h — the replay token: one printable line that reproduces one simulated
// execution exactly (scenario, QEMU generation, options, strategy, seed, and the
// recorded list of choices), and the codec that writes and strictly reads it.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Format, version 1:  aiosim1:<payload>:<crc>
//   <payload>  base64url (RFC 4648 §5, alphabet A-Z a-z 0-9 - _, no padding) of:
//                str scenario, str generation, varint n_options,
//                n_options x (str key, str value), str strategy, varint seed,
//                varint n_choices, then choice items until n_choices are covered.
//              varint = unsigned LEB128, minimal length (at most 10 bytes, <= 2^64-1);
//              str = varint length + that many bytes.
//              A choice item is varint (v << 1 | r): r = 0 is the single choice v;
//              r = 1 is followed by varint (k - 2), a run of k >= 2 copies of v.
//              Items are maximal runs: two adjacent items never carry equal values.
//   <crc>      8 lowercase hex digits of CRC-32 (IEEE 802.3, as zlib's crc32) of the
//              <payload> text.
// A new binary layout means a new version prefix (aiosim2); this build reads aiosim1.
//
// Determinism contract: EncodeToken is a pure function of TokenData; it uses no
// clock, no randomness, no hashing, no host byte order, so every build on every host
// writes the same bytes for the same data. The encoding is canonical: the decoder
// rejects overlong varints, unmerged runs, unsorted options and non-zero base64
// padding bits, so every valid TokenData has exactly one token, and
// DecodeToken(EncodeToken(d)) == d, EncodeToken(*DecodeToken(t)) == t.
//
// Errors: DecodeToken never crashes, never reads out of bounds, and never allocates
// more than the text's size from a length field (every length is capped by the bytes
// left, the option count by kTokenOptionsMax; the choice count, which run-length
// encoding can multiply, by kTokenChoicesMax). A bad token gets
// absl::InvalidArgumentError with one line that starts with "token: " and says what was
// wrong and what is accepted.
//
// Threading: all functions are thread-compatible and keep no state; the file
// functions touch only the given path (and path + ".tmp").
#ifndef AIOSIM_SIM_TOKEN_H_
#define AIOSIM_SIM_TOKEN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace aiosim::sim {

inline constexpr std::string_view kTokenPrefix = "aiosim1";  // the version we write
inline constexpr size_t kTokenNameMax = 64;             // scenario, generation, strategy
inline constexpr size_t kTokenOptionMax = 256;          // option key or value
inline constexpr size_t kTokenOptionsMax = 256;         // number of options
inline constexpr size_t kTokenChoicesMax = 10'000'000;  // recorded choices

struct TokenData {
  // [A-Za-z0-9._-]+, 1..kTokenNameMax chars: "S3", "R4", "canary-lost-update".
  std::string scenario;
  // Same charset: "legacy", "modern".
  std::string generation;
  // At most kTokenOptionsMax, sorted by key, keys unique. Keys
  // [a-z0-9_-]+, 1..kTokenOptionMax chars; values printable ASCII without spaces
  // ('!'..'~'), 0..kTokenOptionMax chars.
  std::vector<std::pair<std::string, std::string>> options;
  // Same charset as scenario: "random", "pct", "dfs", "replay". The codec does not
  // know the list; the caller checks the name.
  std::string strategy;
  uint64_t seed = 0;
  // The recorded choice values, in order; at most kTokenChoicesMax.
  std::vector<uint32_t> choices;

  friend bool operator==(const TokenData&, const TokenData&) = default;
};

// OK if `data` satisfies every rule written on TokenData's fields, else
// InvalidArgumentError with one line naming the first bad field ("token: scenario name
// has invalid character '!' (accepted: A-Z a-z 0-9 . _ -)"). DecodeToken applies the
// same check, so anything EncodeToken accepts, DecodeToken reads back.
absl::Status ValidateTokenData(const TokenData& data);

// Returns "aiosim1:<payload>:<crc>" for `data`.
// REQUIRES: ValidateTokenData(data).ok(). The CLI calls it first and reports the
// error. If the requirement is broken anyway, EncodeToken does not abort (the failure
// report that carries the token must survive) and does not write a token that holds
// bad fields: it returns "<invalid token: REASON>", which neither DecodeToken nor
// LooksLikeToken accepts.
std::string EncodeToken(const TokenData& data);

// Strict parse of one token. Accepts ASCII whitespace around it (a token pasted from
// a terminal) and nothing else. Errors: InvalidArgumentError, one line, "token: ...";
// an offset in a message counts from the token's first non-blank character.
absl::StatusOr<TokenData> DecodeToken(std::string_view text);

// Reads a token from a file written by WriteTokenFile (surrounding whitespace, such
// as the final newline, is allowed). Errors name the path: an unreadable file
// (status code from errno), an empty or oversized file, or a bad token
// (InvalidArgumentError, the DecodeToken line plus " (in file 'PATH')").
absl::StatusOr<TokenData> ReadTokenFile(const std::string& path);

// Writes "<token>\n" to `path` so that a crash leaves either the old or the new
// content: writes path + ".tmp", fsyncs it, renames it over `path`, then fsyncs the
// directory (best effort). Returns an error status naming the path on failure and
// removes the temporary file; never aborts. `token` must be one non-empty line.
absl::Status WriteTokenFile(const std::string& path, std::string_view token);

// True if `arg`, after leading ASCII whitespace, starts with "aiosim", one or more
// digits and ':' (a token of any version, so that a future version gets a version
// error rather than "no such file"). Otherwise the CLI takes `arg` as a file path.
bool LooksLikeToken(std::string_view arg);

namespace token_internal {

// CRC-32, IEEE polynomial (reflected 0xEDB88320), init and final xor 0xFFFFFFFF:
// the same value as zlib's crc32(0, bytes, n). Crc32("123456789") == 0xCBF43926.
uint32_t Crc32(std::string_view bytes);

// base64url without padding. Decode is strict: alphabet only, length % 4 != 1, and the
// unused low bits of the last character are zero. On error returns false and sets
// `*bad_offset` to the offset of the first bad character, the last character's offset
// if its unused bits are set, or the text's size if the length is wrong.
std::string Base64UrlEncode(std::string_view bytes);
bool Base64UrlDecode(std::string_view text, std::string* bytes, size_t* bad_offset);

}  // namespace token_internal
}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_TOKEN_H_
