/* b64url.c - base64url (RFC 4648 section 5, unpadded) over OpenSSL's base64 block coder. */
#include "auth/jwk.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define B64_GROUP 4 /* base64 characters per 3 bytes */

static int b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Ownership: *out is malloc'd for the caller on success, untouched on failure. */
int jwk_b64url_decode(const char *in, size_t len, size_t max_out, unsigned char **out,
                      size_t *out_len)
{
    size_t pad = (B64_GROUP - len % B64_GROUP) % B64_GROUP;
    size_t b64_len = len + pad;
    char *b64 = NULL;
    unsigned char *bin = NULL;
    int rc = -1;
    if (len == 0 || pad == 3 || len > (max_out / 3 + 1) * B64_GROUP)
        return -1;
    b64 = malloc(b64_len + 1);
    bin = malloc(b64_len / B64_GROUP * 3 + 1);
    if (b64 == NULL || bin == NULL)
        goto out;
    for (size_t i = 0; i < len; i++) {
        if (!b64url_char(in[i]))
            goto out;
        b64[i] = in[i] == '-' ? '+' : (in[i] == '_' ? '/' : in[i]);
    }
    memset(b64 + len, '=', pad);
    b64[b64_len] = '\0';
    int n = EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)b64_len);
    if (n < 0 || (size_t)n < pad || (size_t)n - pad > max_out)
        goto out;
    *out_len = (size_t)n - pad; /* EVP_DecodeBlock counts the pad as zero bytes */
    bin[*out_len] = '\0';
    *out = bin;
    bin = NULL;
    rc = 0;
out:
    free(b64);
    free(bin);
    return rc;
}

/* Ownership: returns a malloc'd string for the caller, or NULL. */
char *jwk_b64url_encode(const unsigned char *in, size_t len)
{
    size_t cap = (len + 2) / 3 * B64_GROUP + 1;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)s, in, (int)len);
    while (n > 0 && s[n - 1] == '=')
        n--;
    s[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (s[i] == '+')
            s[i] = '-';
        else if (s[i] == '/')
            s[i] = '_';
    }
    return s;
}
