/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every fuzz target shares: the input as a stream of choices,
 * failure injection into the platform's allocation hooks, and the check that
 * stops a run with a message (a crash libFuzzer keeps as a reproducer).
 *
 * Each target is one LLVMFuzzerTestOneInput that decodes its input as an
 * operation sequence and checks the library against a reference model after
 * every step. Built with libFuzzer (the fuzz preset, clang) or with replay.c
 * (every other build: the committed corpora and regressions run as tests).
 */
#ifndef XMM_TESTS_FUZZ_H
#define XMM_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};

/* An exhausted input reads zeros: every op sequence is finite. */
static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	return fz_u32(f) | (uint64_t)fz_u32(f) << 32;
}

/* A value in [0, n), n > 0. */
static inline uint64_t fz_below(struct fz *f, uint64_t n)
{
	return (n <= 256 ? fz_u8(f) : n <= 65536 ? fz_u16(f) : fz_u64(f)) % n;
}

static inline bool fz_more(const struct fz *f)
{
	return f->n != 0;
}

/* Split off the next @n bytes as a stream of their own (a thread's ops). */
static inline struct fz fz_split(struct fz *f, size_t n)
{
	struct fz s = { f->p, n < f->n ? n : f->n };

	f->p += s.n;
	f->n -= s.n;
	return s;
}

#define FZ_CHECK(cond, ...)                                                            \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                  \
			fputc('\n', stderr);                                           \
			abort();                                                       \
		}                                                                      \
	} while (0)

/*
 * Failure injection (inject.c, linked with -Wl,--wrap=xmm_pages_alloc
 * -Wl,--wrap=xmm_vm_populate): while fz_inject_bits is not zero, each call of
 * a hook takes its low bit (and shifts it out); a set bit makes the call fail
 * as the host would (NULL, XMM_ENOMEM). fz_injected counts the failures.
 */
extern _Thread_local uint64_t fz_inject_bits;
extern _Thread_local uint64_t fz_injected;

#endif /* XMM_TESTS_FUZZ_H */
