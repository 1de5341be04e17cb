// sim/token.h — the replay token: one printable line that reproduces one simulated
// execution exactly (scenario, QEMU generation, options, strategy, seed, and the
// schedule as its deviations from the default, with checks), and the codec that writes
// and strictly reads it.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Format, version 2:  aiosim2:<payload>:<crc>
//   <payload>  base64url (RFC 4648 §5, alphabet A-Z a-z 0-9 - _, no padding) of:
//                str scenario, str generation, varint n_options,
//                n_options x (str key, str value), str strategy, varint seed,
//                varint n_deviations, n_deviations x deviation,
//                varint n_checkpoints, n_checkpoints x checkpoint.
//              varint = unsigned LEB128, minimal length (at most 10 bytes, <= 2^64-1);
//              str = varint length + that many bytes.
//              deviation = varint thread, varint points, varint sub,
//                varint (step - previous deviation's step, 0 for the first),
//                varint fingerprint, varint (choice kind * 4 + option kind),
//                varint option arg. Deviations are in strictly increasing (step, sub).
//              checkpoint = varint (step - previous checkpoint's step - 1, or step - 1
//                for the first), varint fingerprint. Steps strictly increase.
//   <crc>      8 lowercase hex digits of CRC-32 (IEEE 802.3, as zlib's crc32) of the
//              <payload> text.
// Version 1 (aiosim1: raw choice values, no expectations) is no longer read: its
// schedules cannot be checked against the program; the decoder says so.
// A new binary layout means a new version prefix (aiosim3).
//
// Determinism contract: EncodeToken is a pure function of TokenData; it uses no
// clock, no randomness, no hashing, no host byte order, so every build on every host
// writes the same bytes for the same data. The encoding is canonical: the decoder
// rejects overlong varints, unmerged runs, unsorted options and non-zero base64
// padding bits, so every valid TokenData has exactly one token, and
// DecodeToken(EncodeToken(d)) == d, EncodeToken(*DecodeToken(t)) == t.
//
// Errors: DecodeToken never crashes, never reads out of bounds, and never allocates
// more than the text's size from a length field (every length and count is capped by
// the bytes left, and by kTokenOptionsMax, kTokenDeviationsMax, kTokenCheckpointsMax).
// A bad token gets
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

inline constexpr std::string_view kTokenPrefix = "aiosim2";  // the version we write
inline constexpr size_t kTokenNameMax = 64;      // scenario, generation, strategy
inline constexpr size_t kTokenOptionMax = 256;   // option key or value
inline constexpr size_t kTokenOptionsMax = 256;  // number of options
inline constexpr size_t kTokenDeviationsMax = 1'000'000;
inline constexpr size_t kTokenCheckpointsMax = 1024;
inline constexpr uint32_t kTokenFingerprintMax = 0xFFFF;
inline constexpr uint32_t kTokenChoiceKindMax = 3;  // sim/choice.h ChoiceKind
inline constexpr uint32_t kTokenOptionKindMax = 2;  // sim/choice.h OptionKind

// A recorded deviation from the default schedule (sim/choice.h's Deviation, as
// numbers): where (thread, its scheduling-point count, the choice's number there),
// the checks (step, fingerprint <= kTokenFingerprintMax) and the option taken.
struct TokenDeviation {
  uint32_t thread = 0;
  uint64_t points = 0;
  uint32_t sub = 0;
  uint64_t step = 0;
  uint32_t fingerprint = 0;
  uint32_t choice_kind = 0;  // <= kTokenChoiceKindMax
  uint32_t option_kind = 0;  // <= kTokenOptionKindMax
  uint32_t option_arg = 0;
  friend bool operator==(const TokenDeviation&, const TokenDeviation&) = default;
};

// The low 16 bits of the trace hash after `step` scheduling points.
struct TokenCheckpoint {
  uint64_t step = 0;         // >= 1
  uint32_t fingerprint = 0;  // <= kTokenFingerprintMax
  friend bool operator==(const TokenCheckpoint&, const TokenCheckpoint&) = default;
};

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
  // At most kTokenDeviationsMax, strictly increasing in (step, sub).
  std::vector<TokenDeviation> deviations;
  // At most kTokenCheckpointsMax, steps strictly increasing.
  std::vector<TokenCheckpoint> checkpoints;

  friend bool operator==(const TokenData&, const TokenData&) = default;
};

// OK if `data` satisfies every rule written on TokenData's fields, else
// InvalidArgumentError with one line naming the first bad field ("token: scenario name
// has invalid character '!' (accepted: A-Z a-z 0-9 . _ -)"). DecodeToken applies the
// same check, so anything EncodeToken accepts, DecodeToken reads back.
absl::Status ValidateTokenData(const TokenData& data);

// Returns "aiosim2:<payload>:<crc>" for `data`.
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
