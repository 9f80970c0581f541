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

/// Which narrow format a weight matrix is stored in (skrr_wgemm's half_kind; SKRR_WEIGHT_I8 is
/// skrr_wgemm_i8's, for skrr_wgemm_supported).
#define SKRR_HALF_BF16 0
#define SKRR_HALF_F16 1
#define SKRR_WEIGHT_I8 2

/// 1 when skrr_wgemm can run on this CPU for weights of `half_kind` (AVX2 and FMA; F16C too for
/// f16), else 0: the caller then widens the weights itself (Runtime/Kernels/WidenedProduct.swift).
int skrr_wgemm_supported(int half_kind);

/// Floats of scratch skrr_wgemm needs, whatever the matrix sizes (about 1.2 MB): one packed block
/// of W and one of X. Each concurrent call needs its own.
size_t skrr_wgemm_scratch_floats(void);

/// C[m x n] = X[m x k] . W[n x k]^T (or C += it when accumulate != 0), with X and C f32 and W
/// stored as `half_kind`, all row-major with leading dimensions in elements. Every product is
/// exact in f32 and summed in f32 (k in chunks of 256, each chunk one FMA chain, chunks added to C
/// in order), so an output does not depend on m, n or how a caller splits them. `scratch` holds
/// skrr_wgemm_scratch_floats() floats. Only call when skrr_wgemm_supported(half_kind) returns 1.
void skrr_wgemm(int m, int n, int k, const float *x, int ldx, const uint16_t *w, int ldw, int half_kind, float *c,
                int ldc, int accumulate, float *scratch);

/// skrr_wgemm for int8 weights with one f32 scale per row of W (`scales[n]`, per output channel):
/// C (+)= X . (scale * W)^T, where each weight is widened to fl(q * scale[row]) while packing, so
/// the result is that of skrr_wgemm's sums on the dequantized f32 matrix. Only call when
/// skrr_wgemm_supported(SKRR_WEIGHT_I8) returns 1.
void skrr_wgemm_i8(int m, int n, int k, const float *x, int ldx, const int8_t *w, int ldw, const float *scales,
                   float *c, int ldc, int accumulate, float *scratch);

/// dst[i] = src[i] rounded to bf16 and widened back to f32, exactly as skrr_f32_to_bf16 rounds
/// (nearest, ties to even; NaN stays NaN; subnormals become signed zero). Any CPU (AVX2 when
/// present); dst may be src. With skrr_wgemm on bf16 weights this is `--compute bf16` without
/// AVX-512 BF16.
void skrr_round_to_bf16_f32(const float *src, float *dst, size_t count);

/// `--compute int8` (int8_gemm.c). 1 when this CPU runs skrr_i8_gemm with AVX-512 VNNI, else 0
/// (it then runs a portable loop with bit-identical results, much slower).
int skrr_i8_vnni_supported(void);

/// Bytes per quantized activation row for depth k: k rounded up to a multiple of 4.
int skrr_i8_quantized_stride(int k);

/// Quantizes each of m rows of X (k floats, leading dimension ldx) to int8 with its own scale:
/// scales[r] = amax / 127 and q = round-half-even(x * (127 / amax)) clamped to +-127, stored as
/// q + 128 in q[r * ldq ...] (ldq >= skrr_i8_quantized_stride(k); the padding holds 128, i.e. 0).
/// A zero row gets scale 0; a row holding NaN or infinity gets scale NaN (its outputs are NaN).
void skrr_i8_quantize_rows(int m, int k, const float *x, int ldx, uint8_t *q, int ldq, float *scales);

/// Bytes of scratch one skrr_i8_gemm call needs for depth k (a packed 48-row panel of W). Each
/// concurrent call needs its own.
size_t skrr_i8_gemm_scratch_bytes(int k);

/// C[m x n] (+)= dequantized: C[r][j] = fl(fl(acc) * fl(xscales[r] * wscales[j])) where acc =
/// sum over i of (xq[r][i] - 128) * w[j][i], exact in int32. xq comes from skrr_i8_quantize_rows;
/// W is [n x k] int8 with one scale per row. The same outputs on every CPU and for any split of m
/// or n.
void skrr_i8_gemm(int m, int n, int k, const uint8_t *xq, int ldq, const float *xscales, const int8_t *w, int ldw,
                  const float *wscales, float *c, int ldc, int accumulate, void *scratch);

/// skrr_i8_quantize_rows's portable loop (the AVX-512 one must give the same codes and scales).
void skrr_i8_quantize_rows_reference(int m, int k, const float *x, int ldx, uint8_t *q, int ldq, float *scales);

/// skrr_i8_gemm's portable loop, for tests to compare the VNNI kernel against.
void skrr_i8_gemm_reference(int m, int n, int k, const uint8_t *xq, int ldq, const float *xscales, const int8_t *w,
                            int ldw, const float *wscales, float *c, int ldc, int accumulate);

/// `--compute bf16` on Intel AMX (amx_gemm.c). 1 when this CPU has AMX-BF16 and the OS let this
/// process use the tile registers (Linux: asked for once, on the first call), else 0.
int skrr_amx_bf16_supported(void);

/// count rounded up to a multiple of 32: the rows and depth skrr_amx_bf16_gemm's A is laid out in.
int skrr_amx_padded(int count);

/// Bytes of scratch one skrr_amx_bf16_gemm call needs (about 0.5 MB, any shape). Each concurrent
/// call needs its own.
size_t skrr_amx_bf16_scratch_bytes(void);

/// rows rows of X (k floats each, leading dimension ldx) rounded to bf16 as skrr_f32_to_bf16
/// rounds, into a (leading dimension lda >= k), zeros in columns k..lda. Any CPU.
void skrr_bf16_rows_padded(int rows, int k, const float *x, int ldx, uint16_t *a, int lda);

/// C[m x n] = A . W^T, or C += it when accumulate != 0. A is bf16 with skrr_amx_padded(m) rows of
/// lda >= skrr_amx_padded(k) values, zero past row m and column k; W is bf16 [n x k], leading
/// dimension ldw. Sums as the AMX tiles do them (per 32 values of k: even and odd products in two
/// f32 chains, added, then added to the output, which starts from +0 or C; denormals flushed):
/// skrr_amx_bf16_gemm_reference computes the same bits on any CPU, and no split of m or n changes
/// them. Without AMX (skrr_amx_bf16_supported() == 0) this runs the reference.
void skrr_amx_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w, int ldw, float *c, int ldc,
                        int accumulate, void *scratch);

/// skrr_amx_bf16_gemm's portable loop (one output at a time), for tests and CPUs without AMX.
void skrr_amx_bf16_gemm_reference(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w, int ldw, float *c,
                                  int ldc, int accumulate);

#endif
