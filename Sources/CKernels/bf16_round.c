// Activations rounded to bf16 but kept as f32 values, for `--compute bf16` on CPUs without
// AVX-512 BF16: the rounded activations then go through the half-weight GEMM
// (widening_gemm.c) with the stored bf16 weights. A product of two bf16 values is exact in f32,
// so this is the AVX-512 BF16 kernel's arithmetic (bf16 activations, bf16 weights, f32 sums)
// with the sums in another order. The rounding is vcvtneps2bf16's, as skrr_f32_to_bf16 does it:
// nearest, ties to even; NaN stays (quiet) NaN; subnormal inputs become signed zero.
#include "skrr_kernels.h"

#include <string.h>

static inline float round_one(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) bits = (bits & 0xFFFF0000u) | 0x00400000u;
    else if ((bits & 0x7F800000u) == 0) bits &= 0x80000000u;
    else bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
    memcpy(&value, &bits, 4);
    return value;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2"))) static void round_avx2(const float *src, float *dst, size_t count) {
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF), infinity = _mm256_set1_epi32(0x7F800000);
    const __m256i high = _mm256_set1_epi32((int)0xFFFF0000u), quiet = _mm256_set1_epi32(0x00400000);
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u), half = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i bits = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, magnitude), infinity);
        __m256i tiny = _mm256_cmpeq_epi32(_mm256_and_si256(bits, infinity), _mm256_setzero_si256());
        __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), one);
        __m256i rounded = _mm256_and_si256(_mm256_add_epi32(bits, _mm256_add_epi32(half, lsb)), high);
        rounded = _mm256_blendv_epi8(rounded, _mm256_or_si256(_mm256_and_si256(bits, high), quiet), nan);
        rounded = _mm256_blendv_epi8(rounded, _mm256_and_si256(bits, sign), tiny);
        _mm256_storeu_si256((__m256i *)(dst + i), rounded);
    }
    for (; i < count; i++) dst[i] = round_one(src[i]);
}

void skrr_round_to_bf16_f32(const float *src, float *dst, size_t count) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        round_avx2(src, dst, count);
        return;
    }
    for (size_t i = 0; i < count; i++) dst[i] = round_one(src[i]);
}

#else

void skrr_round_to_bf16_f32(const float *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = round_one(src[i]);
}

#endif
