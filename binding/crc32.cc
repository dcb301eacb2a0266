// CRC-32 for zip records (see crc32.h). The fast path folds 64 bytes per step with carry-less
// multiplication (the method of Intel's "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ Instruction", with the constants for the reflected polynomial 0x104C11DB7): about an
// order of magnitude faster than a table, which matters because torch.load checks every record's
// CRC (hundreds of MB for a checkpoint). Elsewhere, and for what the folding leaves over, a table.
#include "crc32.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TORCH_NODE_CRC_PCLMUL 1
#endif

namespace torch_node {
namespace {

// Slicing by 4, on the raw (not inverted) register.
uint32_t TableUpdate(uint32_t c, const uint8_t* p, size_t n) {
  static const auto t = [] {
    std::array<std::array<uint32_t, 256>, 4> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t v = i;
      for (int k = 0; k < 8; ++k) v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
      t[0][i] = v;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int k = 1; k < 4; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
    return t;
  }();
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);  // little-endian hosts (x86-64, arm64)
    c ^= w;
    c = t[3][c & 0xff] ^ t[2][(c >> 8) & 0xff] ^ t[1][(c >> 16) & 0xff] ^ t[0][c >> 24];
    p += 4;
    n -= 4;
  }
  while (n--) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

#ifdef TORCH_NODE_CRC_PCLMUL
#define TORCH_NODE_CLMUL __attribute__((target("pclmul,sse4.1")))

TORCH_NODE_CLMUL inline __m128i Load(const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); }

// x * k (both halves, each by its own constant) + next: one fold step.
TORCH_NODE_CLMUL inline __m128i Fold(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

// n >= 64 and a multiple of 16; c is the raw register. Returns the raw register.
TORCH_NODE_CLMUL uint32_t FoldUpdate(uint32_t c, const uint8_t* p, size_t n) {
  // x^(4*128+32) mod P, x^(4*128-32) mod P (64-byte folds); x^(128+32), x^(128-32) (16-byte folds);
  // x^64 mod P; and P with its Barrett constant, all bit-reflected.
  const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
  const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
  const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
  const __m128i poly = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
  const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
  __m128i x1 = _mm_xor_si128(Load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  __m128i x2 = Load(p + 16), x3 = Load(p + 32), x4 = Load(p + 48);
  p += 64;
  n -= 64;
  for (; n >= 64; p += 64, n -= 64) {
    x1 = Fold(x1, k1k2, Load(p));
    x2 = Fold(x2, k1k2, Load(p + 16));
    x3 = Fold(x3, k1k2, Load(p + 32));
    x4 = Fold(x4, k1k2, Load(p + 48));
  }
  // Four lanes into one, then the remaining 16-byte blocks.
  x1 = Fold(x1, k3k4, x2);
  x1 = Fold(x1, k3k4, x3);
  x1 = Fold(x1, k3k4, x4);
  for (; n >= 16; p += 16, n -= 16) x1 = Fold(x1, k3k4, Load(p));

  // 128 -> 64 bits, then 64 -> 32 (appending the 32 zero bits a CRC implies), then Barrett.
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(k3k4, x1, 0x01));
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), x2);
  x2 = x1;
  x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
  x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  return static_cast<uint32_t>(_mm_extract_epi32(x1, 1));
}
#endif

bool UseFold() {
#ifdef TORCH_NODE_CRC_PCLMUL
  static const bool use = [] {
    const char* forced = std::getenv("TORCH_NODE_CRC");
    if (forced && std::string(forced) == "table") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  }();
  return use;
#else
  return false;
#endif
}

}  // namespace

uint32_t Crc32(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
#ifdef TORCH_NODE_CRC_PCLMUL
  if (n >= 64 && UseFold()) {
    size_t whole = n & ~size_t{15};
    c = FoldUpdate(c, p, whole);
    p += whole;
    n -= whole;
  }
#endif
  return ~TableUpdate(c, p, n);
}

}  // namespace torch_node
