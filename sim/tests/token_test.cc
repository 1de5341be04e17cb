// sim/tests/token_test.cc — the replay token codec: round trips, the frozen format,
// rejection of every corruption and truncation, field rules, and token files.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/token.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace aiosim::sim {
namespace {

using token_internal::Base64UrlDecode;
using token_internal::Base64UrlEncode;
using token_internal::Crc32;

// The test's own SplitMix64, so the data is the same on every build.
class TestRng {
 public:
  explicit TestRng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }  // bias is irrelevant here

 private:
  uint64_t state_;
};

TokenData Minimal() {
  TokenData data;
  data.scenario = "S3";
  data.generation = "legacy";
  data.strategy = "random";
  return data;
}

TokenData Sample() {
  TokenData data = Minimal();
  data.scenario = "canary-lost-update";
  data.options = {
      {"preemptions", "2"}, {"revert", "aio_notify-barrier"}, {"steps", "5000"}};
  data.strategy = "pct";
  data.seed = 0xDEADBEEFCAFEF00Dull;
  data.deviations = {{1, 7, 0, 40, 0xBEEF, 0, 0, 2},  // thread 1 at point 7: run thread 2
                     {2, 19, 0, 133, 0x0001, 0, 1, 0},  // advance time
                     {2, 19, 1, 133, 0xFFFF, 2, 2, 1},  // a spurious wakeup
                     {0, UINT64_MAX, UINT32_MAX, UINT64_MAX, 0, 1, 0, UINT32_MAX}};
  data.checkpoints = {{64, 0x1234}, {128, 0}, {UINT64_MAX, 0xFFFF}};
  return data;
}

// Expects a decode error of the documented shape: InvalidArgument, one line.
void ExpectBad(const absl::StatusOr<TokenData>& result, std::string_view context) {
  ASSERT_FALSE(result.ok()) << context;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << context;
  const std::string message(result.status().message());
  EXPECT_EQ(message.substr(0, 7), "token: ") << context << ": " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << context << ": " << message;
}

// A token around raw payload bytes, with a correct checksum, to reach the parser.
std::string RawToken(std::string_view bytes) {
  const std::string payload = Base64UrlEncode(bytes);
  return absl::StrFormat("aiosim2:%s:%08x", payload, Crc32(payload));
}

void Varint(std::string* out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *out += static_cast<char>((v & 0x7F) | 0x80);
  *out += static_cast<char>(v);
}
void Str(std::string* out, std::string_view s) {
  Varint(out, s.size());
  *out += s;
}

// Raw payload of `d` up to (not including) the deviations, without any validation.
std::string FieldBytes(const TokenData& d) {
  std::string out;
  Str(&out, d.scenario);
  Str(&out, d.generation);
  Varint(&out, d.options.size());
  for (const auto& [key, value] : d.options) {
    Str(&out, key);
    Str(&out, value);
  }
  Str(&out, d.strategy);
  Varint(&out, d.seed);
  return out;
}

TEST(Crc32Test, CheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("a"), 0xE8B7BE43u);
}

TEST(Base64UrlTest, Rfc4648VectorsWithoutPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg"},
                                                                   {"fo", "Zm8"},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg"},
                                                                   {"fooba", "Zm9vYmE"},
                                                                   {"foobar", "Zm9vYmFy"},
                                                                   {"\xfb\xff", "-_8"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(Base64UrlEncode(bytes), text);
    std::string decoded;
    size_t bad = 0;
    ASSERT_TRUE(Base64UrlDecode(text, &decoded, &bad)) << text;
    EXPECT_EQ(decoded, bytes);
  }
}

TEST(Base64UrlTest, StrictDecode) {
  std::string out;
  size_t bad = 99;
  EXPECT_FALSE(Base64UrlDecode("Zm9v+", &out, &bad));  // standard alphabet, not url
  EXPECT_EQ(bad, 4u);
  EXPECT_FALSE(Base64UrlDecode("Zm9v=", &out, &bad));  // no padding
  EXPECT_FALSE(Base64UrlDecode("Zm9vA", &out, &bad));  // length % 4 == 1
  EXPECT_EQ(bad, 5u);
  EXPECT_FALSE(Base64UrlDecode("Zh", &out, &bad));  // unused bits set ("f" is "Zg")
  EXPECT_EQ(bad, 1u);
  EXPECT_FALSE(Base64UrlDecode("Zm9", &out, &bad));  // unused bits set ("fo" is "Zm8")
}

// The format is frozen: a change here breaks every token users have saved. Minimal()
// is the empty case: no options, no deviations, no checkpoints, seed 0.
TEST(TokenTest, GoldenTokensRoundTrip) {
  const std::pair<TokenData, std::string> goldens[] = {
      {Minimal(), "aiosim2:AlMzBmxlZ2FjeQAGcmFuZG9tAAAA:e4429eca"},
      {Sample(),
       "aiosim2:EmNhbmFyeS1sb3N0LXVwZGF0ZQZsZWdhY3kDC3ByZWVtcHRpb25zATIGcmV2ZXJ0EmFp"
       "b19ub3RpZnktYmFycmllcgVzdGVwcwQ1MDAwA3BjdI3g-9f83e_W3gEEAQcAKO_9AgACAhMAXQEBAAIT"
       "AQD__wMKAQD___________8B_____w_6_v________8BAAT_____DwM_tCQ_AP7-_________wH__wM:"
       "9bb8cf46"}};
  for (const auto& [data, golden] : goldens) {
    ASSERT_TRUE(ValidateTokenData(data).ok()) << ValidateTokenData(data);
    EXPECT_EQ(EncodeToken(data), golden);
    absl::StatusOr<TokenData> back = DecodeToken(golden);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, data);
  }
  EXPECT_FALSE(ValidateTokenData(TokenData{}).ok());  // no names: not a token
}

TEST(TokenTest, RoundTripLargeRandomSchedules) {
  TestRng rng(20240601);
  TokenData data = Sample();
  data.seed = UINT64_MAX;
  data.deviations.clear();
  data.checkpoints.clear();
  uint64_t step = 0;
  while (data.deviations.size() < 50'000) {
    TokenDeviation d;
    const bool same_step = !data.deviations.empty() && rng.Below(8) == 0;
    if (!same_step) step += rng.Below(4) == 0 ? rng.Next() % 100000 : 1 + rng.Below(30);
    d.step = step;
    d.sub = same_step ? data.deviations.back().sub + 1 : 0;
    d.thread = static_cast<uint32_t>(rng.Below(9));
    d.points = rng.Below(2) == 0 ? rng.Below(1000) : rng.Next();
    d.fingerprint = static_cast<uint32_t>(rng.Below(kTokenFingerprintMax + 1));
    d.choice_kind = static_cast<uint32_t>(rng.Below(kTokenChoiceKindMax + 1));
    d.option_kind = static_cast<uint32_t>(rng.Below(kTokenOptionKindMax + 1));
    d.option_arg = static_cast<uint32_t>(rng.Below(3) == 0 ? rng.Next() : rng.Below(9));
    data.deviations.push_back(d);
  }
  step = 0;
  while (data.checkpoints.size() < kTokenCheckpointsMax) {
    step += 1 + rng.Below(5000);
    data.checkpoints.push_back({step, static_cast<uint32_t>(rng.Below(0x10000))});
  }
  const std::string token = EncodeToken(data);
  for (char c : token) ASSERT_TRUE(c > ' ' && c <= '~');
  absl::StatusOr<TokenData> back = DecodeToken(token);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
  EXPECT_EQ(EncodeToken(*back), token);  // canonical
}

TEST(TokenTest, MinimisedSchedulesStayShort) {
  // A typical minimised failure: two deviations and a few checkpoints.
  TokenData data = Minimal();
  data.deviations = {{1, 40, 0, 310, 0x1A2B, 0, 0, 2}, {2, 77, 0, 512, 0x9C01, 0, 0, 1}};
  data.checkpoints = {{64, 1}, {128, 2}, {192, 3}, {256, 4}, {320, 5}, {384, 6}};
  const std::string token = EncodeToken(data);
  EXPECT_LT(token.size(), 110u) << token;
  absl::StatusOr<TokenData> back = DecodeToken(token);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
}

TEST(TokenTest, ScheduleFieldRules) {
  auto bad = [](auto mutate) {
    TokenData d = Sample();
    mutate(d);
    return d;
  };
  const std::pair<std::string_view, TokenData> cases[] = {
      {"fingerprint over 16 bits",
       bad([](TokenData& d) { d.deviations[0].fingerprint = 0x10000; })},
      {"choice kind", bad([](TokenData& d) { d.deviations[0].choice_kind = 4; })},
      {"option kind", bad([](TokenData& d) { d.deviations[0].option_kind = 3; })},
      {"same step and sub", bad([](TokenData& d) { d.deviations[2].sub = 0; })},
      {"steps decrease",
       bad([](TokenData& d) { std::swap(d.deviations[0], d.deviations[1]); })},
      {"checkpoint step 0", bad([](TokenData& d) { d.checkpoints[0].step = 0; })},
      {"checkpoint steps equal", bad([](TokenData& d) { d.checkpoints[1].step = 64; })},
      {"checkpoint fingerprint",
       bad([](TokenData& d) { d.checkpoints[0].fingerprint = 1 << 16; })},
      {"too many checkpoints", bad([](TokenData& d) {
         d.checkpoints.clear();
         for (uint64_t i = 1; i <= kTokenCheckpointsMax + 1; i++)
           d.checkpoints.push_back({i, 0});
       })},
  };
  for (const auto& [name, data] : cases) {
    const absl::Status status = ValidateTokenData(data);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(status.message().find('\n'), std::string_view::npos) << name;
    EXPECT_FALSE(LooksLikeToken(EncodeToken(data))) << name;
  }
}

TEST(TokenTest, EverySingleCharacterCorruptionIsRejected) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::string token = EncodeToken(Sample());
  for (size_t pos = 0; pos < token.size(); ++pos) {
    for (char c : kAlphabet) {
      if (c == token[pos]) continue;
      std::string bad = token;
      bad[pos] = c;
      ExpectBad(DecodeToken(bad), absl::StrFormat("pos %d -> '%c'", pos, c));
    }
  }
}

TEST(TokenTest, EveryTruncationIsRejected) {
  const std::string token = EncodeToken(Sample());
  for (size_t n = 0; n < token.size(); ++n) {
    ExpectBad(DecodeToken(token.substr(0, n)), absl::StrFormat("length %d", n));
    ExpectBad(DecodeToken(token.substr(n + 1)), absl::StrFormat("from %d", n + 1));
  }
}

TEST(TokenTest, VersionMismatch) {
  const std::string token = EncodeToken(Sample());
  absl::StatusOr<TokenData> result = DecodeToken("aiosim7" + token.substr(7));
  ExpectBad(result, "aiosim7");
  EXPECT_EQ(result.status().message(),
            "token: unknown version 'aiosim7' (this build reads aiosim2)");
  ExpectBad(DecodeToken("aiosim1" + token.substr(7)), "aiosim1");
  EXPECT_NE(
      DecodeToken("aiosim1" + token.substr(7)).status().message().find("older aiosim"),
      std::string_view::npos);
  ExpectBad(DecodeToken("aiosim12" + token.substr(7)), "aiosim12");
  EXPECT_NE(
      DecodeToken("aiosim12" + token.substr(7)).status().message().find("'aiosim12'"),
      std::string_view::npos);
  ExpectBad(DecodeToken("aiosim" + token.substr(7)), "no version");
  ExpectBad(DecodeToken("hello"), "not a token");
  ExpectBad(DecodeToken(""), "empty");
  ExpectBad(DecodeToken(" \n"), "blank");
}

TEST(TokenTest, DocumentedMessages) {
  const std::string token = EncodeToken(Sample());
  std::string bad = token;
  bad[12] = '!';
  EXPECT_EQ(
      DecodeToken(bad).status().message(),
      "token: bad base64url character '!' at offset 12 (accepted: A-Z a-z 0-9 - _)");
  bad = token;
  bad[10] = bad[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(DecodeToken(bad).status().message(),
            "token: checksum mismatch (the token was truncated or altered)");
}

TEST(TokenTest, SurroundingWhitespaceOnly) {
  const std::string token = EncodeToken(Sample());
  for (const std::string& text :
       {"  " + token, token + "\n", "\t " + token + " \r\n", "\n\n" + token + "\n\n"}) {
    absl::StatusOr<TokenData> back = DecodeToken(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, Sample());
  }
  std::string inner = token;
  inner.insert(20, " ");
  ExpectBad(DecodeToken(inner), "inner space");
  inner = token;
  inner.insert(20, "\n");
  ExpectBad(DecodeToken(inner), "inner newline");
  ExpectBad(DecodeToken("x" + token), "leading junk");
  ExpectBad(DecodeToken(token + "x"), "trailing junk");
  ExpectBad(DecodeToken(token + ":"), "trailing colon");
  ExpectBad(DecodeToken("'" + token + "'"), "quoted");
}

TEST(TokenTest, CraftedPayloadsWithValidChecksum) {
  auto with = [](std::initializer_list<uint64_t> varints, std::string tail = "") {
    std::string bytes = FieldBytes(Minimal());
    for (uint64_t v : varints) Varint(&bytes, v);
    return RawToken(bytes + tail);
  };
  ASSERT_TRUE(DecodeToken(with({0, 0})).ok());  // no deviations, no checkpoints
  // One deviation (thread 1, point 2, sub 0, step 3, fingerprint 4, kinds 0, arg 5),
  // one checkpoint at step 64.
  ASSERT_TRUE(DecodeToken(with({1, 1, 2, 0, 3, 4, 0, 5, 1, 63, 9})).ok());
  std::string huge_string;
  Varint(&huge_string, uint64_t{1} << 62);
  std::string huge_options;
  Str(&huge_options, "S3");
  Str(&huge_options, "legacy");
  Varint(&huge_options, UINT64_MAX >> 1);
  const std::pair<std::string_view, std::string> cases[] = {
      {"empty payload", RawToken("")},
      {"no deviation count", with({})},
      {"no checkpoint count", with({0})},
      {"trailing byte", with({0, 0, 0})},
      {"fewer deviations than counted", with({2, 1, 2, 0, 3, 4, 0, 5, 0})},
      {"thread over 32 bits", with({1, uint64_t{1} << 33, 2, 0, 3, 4, 0, 5, 0})},
      {"choice kind out of range", with({1, 1, 2, 0, 3, 4, 16, 5, 0})},
      {"fingerprint over 16 bits", with({1, 1, 2, 0, 3, 1 << 16, 0, 5, 0})},
      {"step overflow", with({2, 1, 2, 0, UINT64_MAX, 4, 0, 5, 1, 2, 0, 1, 4, 0, 5, 0})},
      {"equal deviations", with({2, 1, 2, 0, 3, 4, 0, 5, 1, 2, 0, 0, 4, 0, 5, 0})},
      {"count over the cap", with({kTokenDeviationsMax + 1})},
      {"huge count", with({UINT64_MAX})},
      {"checkpoints over the cap", with({0, kTokenCheckpointsMax + 1})},
      {"checkpoint step overflow", with({0, 2, UINT64_MAX - 1, 0, 5, 0})},
      {"overlong varint", with({}, std::string("\x80\x00", 2))},
      {"varint over 64 bits", with({}, std::string(9, '\xff') + "\x02")},
      {"unterminated varint", with({}, std::string(5, '\x80'))},
      {"string length beyond payload", RawToken(huge_string + "S3")},
      {"huge option count", RawToken(huge_options)},
  };
  for (const auto& [name, token] : cases) ExpectBad(DecodeToken(token), name);
  EXPECT_EQ(DecodeToken(with({0, 0, 0})).status().message(),
            "token: trailing bytes after payload");
  EXPECT_EQ(DecodeToken(with({0})).status().message(), "token: truncated payload");
  EXPECT_EQ(DecodeToken(with({kTokenDeviationsMax + 1})).status().message(),
            absl::StrFormat("token: too many deviations (%d; at most %d)",
                            kTokenDeviationsMax + 1, kTokenDeviationsMax));
}

// Random and mutated payloads with a correct checksum reach the parser: each is
// rejected with a well-formed error, or accepted and then re-encodes to itself.
TEST(TokenTest, RandomPayloadsAreRejectedOrCanonical) {
  TestRng rng(7);
  std::string sample_bytes;
  size_t bad = 0;
  const std::string sample = EncodeToken(Sample());
  ASSERT_TRUE(Base64UrlDecode(sample.substr(8, sample.size() - 17), &sample_bytes, &bad));
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes = sample_bytes;
      for (uint64_t k = 1 + rng.Below(3); k > 0; --k) {
        bytes[rng.Below(bytes.size())] = static_cast<char>(rng.Next());
      }
      bytes.resize(bytes.size() - rng.Below(3));
    } else {
      bytes = FieldBytes(Minimal());
      for (uint64_t k = rng.Below(14); k > 0; --k) {
        bytes += static_cast<char>(rng.Below(4) == 0 ? rng.Next() : rng.Below(4));
      }
    }
    const std::string token = RawToken(bytes);
    absl::StatusOr<TokenData> result = DecodeToken(token);
    if (result.ok()) {
      ++accepted;
      ASSERT_EQ(EncodeToken(*result), token);
    } else {
      ExpectBad(result, token);
    }
  }
  EXPECT_GT(accepted, 100);  // the generator reaches both outcomes
}

TEST(TokenTest, InvalidFieldsRejectedByValidateDecodeAndEncode) {
  std::vector<std::pair<std::string, TokenData>> cases;
  auto add = [&](std::string name, auto mutate) {
    TokenData d = Minimal();
    d.options = {{"a", "1"}, {"b", "2"}};
    mutate(d);
    cases.emplace_back(std::move(name), std::move(d));
  };
  add("empty scenario", [](TokenData& d) { d.scenario = ""; });
  add("scenario space", [](TokenData& d) { d.scenario = "S 3"; });
  add("scenario colon", [](TokenData& d) { d.scenario = "S3:x"; });
  add("scenario NUL", [](TokenData& d) { d.scenario = std::string("S3\0", 3); });
  add("scenario 65", [](TokenData& d) { d.scenario = std::string(65, 'a'); });
  add("generation slash", [](TokenData& d) { d.generation = "leg/acy"; });
  add("empty strategy", [](TokenData& d) { d.strategy = ""; });
  add("strategy high bit", [](TokenData& d) { d.strategy = "p\xc3\xa9t"; });
  add("key upper", [](TokenData& d) { d.options[0].first = "A"; });
  add("key empty", [](TokenData& d) { d.options[0].first = ""; });
  add("key 257", [](TokenData& d) { d.options[1].first = std::string(257, 'z'); });
  add("value space", [](TokenData& d) { d.options[0].second = "1 2"; });
  add("value tab", [](TokenData& d) { d.options[0].second = "1\t2"; });
  add("value DEL", [](TokenData& d) { d.options[0].second = "\x7f"; });
  add("value 257", [](TokenData& d) { d.options[0].second = std::string(257, 'v'); });
  add("unsorted", [](TokenData& d) { std::swap(d.options[0], d.options[1]); });
  add("duplicate", [](TokenData& d) { d.options[1].first = "a"; });
  add("257 options", [](TokenData& d) {
    d.options.clear();
    for (int i = 0; i < 257; ++i) d.options.emplace_back(absl::StrFormat("k%03d", i), "");
  });
  for (const auto& [name, data] : cases) {
    const absl::Status status = ValidateTokenData(data);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(status.message().find('\n'), std::string_view::npos) << name;
    ExpectBad(DecodeToken(RawToken(FieldBytes(data) + '\0')), name);
    const std::string encoded = EncodeToken(data);
    EXPECT_EQ(encoded, "<invalid " + std::string(status.message()) + ">") << name;
    EXPECT_FALSE(LooksLikeToken(encoded)) << name << ": " << encoded;
    ExpectBad(DecodeToken(encoded), name);
  }
  TokenData edge = Minimal();  // the limits themselves are valid
  edge.scenario = std::string(kTokenNameMax, 'x');
  edge.generation = "A.b_c-9";
  edge.options = {{std::string(kTokenOptionMax, 'k'), std::string(kTokenOptionMax, '~')},
                  {"l", ""},
                  {"m", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"}};
  ASSERT_TRUE(ValidateTokenData(edge).ok()) << ValidateTokenData(edge);
  absl::StatusOr<TokenData> back = DecodeToken(EncodeToken(edge));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, edge);
  EXPECT_EQ(
      ValidateTokenData(cases[1].second).message(),
      "token: scenario name has invalid character ' ' (accepted: A-Z a-z 0-9 . _ -)");
}

TEST(TokenTest, LooksLikeToken) {
  EXPECT_TRUE(LooksLikeToken(EncodeToken(Sample())));
  for (std::string_view yes :
       {"aiosim1:", "aiosim2:", "aiosim7:whatever", "aiosim12:x", "  aiosim1:x"}) {
    EXPECT_TRUE(LooksLikeToken(yes)) << yes;
  }
  for (std::string_view no : {"", "aiosim", "aiosim1", "aiosim:x", "aiosimX:x",
                              "aiosim1.token", "/tmp/aiosim1:x", "failing.token"}) {
    EXPECT_FALSE(LooksLikeToken(no)) << no;
  }
}

// A path of its own, so that concurrent runs (presets, ctest -j) never share a file.
std::string TempPath(std::string_view name) {
  return absl::StrFormat("%stoken_test_%d_%s", testing::TempDir(), getpid(), name);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TokenFileTest, WriteReadRoundTripAndOverwrite) {
  const std::string path = TempPath("round_trip.token");
  const std::string first = EncodeToken(Minimal());
  ASSERT_TRUE(WriteTokenFile(path, first).ok());
  EXPECT_EQ(Slurp(path), first + "\n");
  absl::StatusOr<TokenData> back = ReadTokenFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Minimal());

  const std::string second = EncodeToken(Sample());
  ASSERT_TRUE(WriteTokenFile(path, second).ok());
  EXPECT_EQ(Slurp(path), second + "\n");
  back = ReadTokenFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Sample());
  EXPECT_FALSE(std::ifstream(path + ".tmp").good()) << "temporary file left behind";
  std::remove(path.c_str());
}

TEST(TokenFileTest, Errors) {
  const std::string dir = testing::TempDir();
  const std::string missing = TempPath("no_such_file.token");
  absl::StatusOr<TokenData> result = ReadTokenFile(missing);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(result.status().message()),
            "token file '" + missing + "': cannot open (No such file or directory)");
  EXPECT_EQ(result.status().message().find('\n'), std::string_view::npos);

  const std::string empty = TempPath("empty.token");
  { std::ofstream(empty) << "\n"; }
  result = ReadTokenFile(empty);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("empty"), std::string_view::npos);

  const std::string garbage = TempPath("garbage.token");
  { std::ofstream(garbage) << "aiosim2:AAAA:00000000\n"; }
  result = ReadTokenFile(garbage);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("checksum mismatch"), std::string_view::npos);
  EXPECT_NE(result.status().message().find("garbage.token"), std::string_view::npos);

  EXPECT_FALSE(ReadTokenFile(dir).ok());  // a directory

  const absl::Status write = WriteTokenFile(dir + "no_such_dir/x.token", "aiosim2:x:y");
  EXPECT_FALSE(write.ok());
  EXPECT_NE(write.message().find("no_such_dir"), std::string_view::npos) << write;
  EXPECT_FALSE(WriteTokenFile(TempPath("multi.token"), "a\nb").ok());
  EXPECT_FALSE(WriteTokenFile(TempPath("multi.token"), "").ok());
  EXPECT_FALSE(std::ifstream(TempPath("multi.token")).good());
  std::remove(empty.c_str());
  std::remove(garbage.c_str());
}

}  // namespace
}  // namespace aiosim::sim
