#ifndef SKRR_KERNELS_H
#define SKRR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU (and OS) can run the AVX-512 BF16 kernels below, else 0.
int skrr_bf16_supported(void);

/// dst[i] = src[i] rounded to bf16 (nearest, ties to even; NaN stays NaN; subnormals become signed
/// zero, as the vcvtneps2bf16 instruction does).
void skrr_f32_to_bf16(const float *src, uint16_t *dst, size_t count);

/// C[m x n] = A[m x k] . B[n x k]^T (or C += it when accumulate != 0). A and B are bf16, row-major
/// with leading dimensions lda and ldb (in elements); products are summed in f32 by vdpbf16ps.
/// Only call when skrr_bf16_supported() returns 1.
void skrr_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *b, int ldb,
                    float *c, int ldc, int accumulate);

#endif
