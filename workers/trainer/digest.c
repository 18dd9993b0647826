/*
 * SHA-256 via OpenSSL EVP (see digest.h).
 */
#include "digest.h"

#include <stdio.h>

#include <openssl/evp.h>

int hps_sha256_init(hps_sha256 *s)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    s->ctx = ctx;
    if (!ctx)
        return -1;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        hps_sha256_abort(s);
        return -1;
    }
    return 0;
}

int hps_sha256_update(hps_sha256 *s, const void *data, size_t len)
{
    if (!s->ctx)
        return -1;
    return EVP_DigestUpdate(s->ctx, data, len) == 1 ? 0 : -1;
}

int hps_sha256_final(hps_sha256 *s, unsigned char out[32])
{
    unsigned int n = 0;
    int rc = s->ctx && EVP_DigestFinal_ex(s->ctx, out, &n) == 1 && n == 32 ? 0 : -1;
    hps_sha256_abort(s);
    return rc;
}

void hps_sha256_abort(hps_sha256 *s)
{
    if (s && s->ctx) {
        EVP_MD_CTX_free(s->ctx);
        s->ctx = NULL;
    }
}

void hps_sha256_hex(const unsigned char digest[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[64] = '\0';
}
