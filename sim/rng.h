// sim/rng.h — the simulator's own pseudo-random numbers: SplitMix64 to seed, and
// xoshiro256** with Lemire's bounded integers.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Determinism: a pure function of the seed on every build and host (no
// std::*_distribution, whose outputs differ between standard libraries, no
// absl::BitGen, which is randomly seeded per process). Not thread-safe; one per
// strategy.
#ifndef AIOSIM_SIM_RNG_H_
#define AIOSIM_SIM_RNG_H_

#include <cstdint>

namespace aiosim::sim {

// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): advances *state, returns a mixed value.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman & Vigna), seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& s : s_) s = SplitMix64(&sm);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n >= 1 (Lemire's multiply-shift with rejection).
  uint32_t Below(uint32_t n) {
    uint64_t m = static_cast<uint64_t>(static_cast<uint32_t>(Next() >> 32)) * n;
    uint32_t low = static_cast<uint32_t>(m);
    if (low < n) {
      const uint32_t threshold = static_cast<uint32_t>(-n) % n;
      while (low < threshold) {
        m = static_cast<uint64_t>(static_cast<uint32_t>(Next() >> 32)) * n;
        low = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }
  // Uniform in [0, n), n >= 1, for 64-bit ranges (rejection sampling).
  uint64_t Below64(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_RNG_H_
