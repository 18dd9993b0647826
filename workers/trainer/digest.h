/*
 * SHA-256 through OpenSSL's EVP interface, for the dataset's provenance digest
 * and the checkpoint's integrity check. A thin wrapper so the rest of the
 * trainer does not include OpenSSL headers.
 */
#ifndef HPS_TRAINER_DIGEST_H
#define HPS_TRAINER_DIGEST_H

#include <stddef.h>

typedef struct hps_sha256 {
    void *ctx; /* EVP_MD_CTX */
} hps_sha256;

/* Start a digest. Returns 0, or -1 when OpenSSL cannot (out of memory). */
int hps_sha256_init(hps_sha256 *s);
/* Add len bytes. Returns 0 or -1. */
int hps_sha256_update(hps_sha256 *s, const void *data, size_t len);
/* Write the 32-byte digest to out and release the context. Returns 0 or -1. */
int hps_sha256_final(hps_sha256 *s, unsigned char out[32]);
/* Release the context without a digest (after an error); NULL-safe. */
void hps_sha256_abort(hps_sha256 *s);

/* The 64 lowercase hex digits of digest, terminated, into hex[65]. */
void hps_sha256_hex(const unsigned char digest[32], char hex[65]);

#endif
