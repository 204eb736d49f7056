/* test_auth.c - JWT verification: every refusal and every acceptance, one table.
 *
 * Keys (EC P-384 x2, RSA 2048, EC P-256 and a rogue P-384 the issuer never published) are
 * generated when the group starts and published as a jwks_file (auth_fixture.c). Tokens are
 * signed with OpenSSL, independently of libjwt, so a hostile header (alg none, HS256 keyed
 * with the public PEM, no typ, ...) is easy to make.
 */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "auth_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JKU(u) ",\"jku\":\"" u "\""

static const struct tcase {
    const char *name;
    struct spec s;
    enum auth_reason want;
} cases[] = {
    {"ES384", {0}, AUTH_OK},
    {"RS384", {.alg = "RS384", .key = K_RSA}, AUTH_OK},
    {"aud as an array", {.aud = "[\"https://other.test\",\"" AUD "\"]"}, AUTH_OK},
    {"rotation: the second key of the set", {.key = K_EC_B}, AUTH_OK},
    {"jku = the configured jwks_uri", {.hdr_extra = JKU(PINNED_URI)}, AUTH_OK},
    {"typ in lower case", {.typ = "jwt"}, AUTH_OK},
    {"expired, but within the skew", {.exp = -30, .iat = -200}, AUTH_OK},
    {"iat ahead, but within the skew", {.exp = 330, .iat = 30}, AUTH_OK},
    {"nbf in the past", {.claims_extra = ",\"nbf\":1000"}, AUTH_OK},
    {"bad signature (rogue key, known kid)", {.key = K_ROGUE}, AUTH_R_SIGNATURE},
    {"unknown kid", {.kid = "nope"}, AUTH_R_KID_UNKNOWN},
    {"unknown issuer", {.iss = "https://evil.test"}, AUTH_R_ISSUER},
    {"iss not a string", {.iss = "x\",\"iss\":7,\"y\":\"z"}, AUTH_R_ISSUER},
    {"wrong aud", {.aud = "\"https://cds.test/cds-services\""}, AUTH_R_AUD},
    {"aud array without this endpoint", {.aud = "[\"https://a.test\",1]"}, AUTH_R_AUD},
    {"aud a number", {.aud = "42"}, AUTH_R_AUD},
    {"feedback aud on the service endpoint", {.aud = "\"" AUD_FEEDBACK "\""}, AUTH_R_AUD},
    {"expired", {.exp = -120, .iat = -300}, AUTH_R_EXPIRED},
    {"lifetime over the maximum", {.exp = 3600, .iat = 0}, AUTH_R_LIFETIME},
    {"lifetime one second over", {.exp = 301, .iat = 0}, AUTH_R_LIFETIME},
    {"exp before iat", {.exp = 10, .iat = 20}, AUTH_R_LIFETIME},
    {"iat in the future", {.exp = 900, .iat = 700}, AUTH_R_IAT_FUTURE},
    {"nbf in the future", {.claims_extra = ",\"nbf\":4102444800"}, AUTH_R_NBF},
    {"nbf a string", {.claims_extra = ",\"nbf\":\"0\""}, AUTH_R_NBF},
    {"exp missing", {.exp_raw = "-"}, AUTH_R_EXP},
    {"exp a string", {.exp_raw = "\"4102444800\""}, AUTH_R_EXP},
    {"exp negative", {.exp_raw = "-5"}, AUTH_R_EXP},
    {"iat missing", {.iat_raw = "-"}, AUTH_R_IAT},
    {"jti missing", {.jti = "-"}, AUTH_R_JTI},
    {"jti empty", {.jti = "\"\""}, AUTH_R_JTI},
    {"jti a number", {.jti = "12"}, AUTH_R_JTI},
    {"tenant not a string", {.claims_extra = ",\"tenant\":17"}, AUTH_R_CLAIMS},
    {"alg none, unsigned", {.alg = "none", .unsigned_ = true}, AUTH_R_ALG},
    {"alg NONE, unsigned", {.alg = "NONE", .unsigned_ = true}, AUTH_R_ALG},
    {"HS256 keyed with the RSA public PEM",
     {.alg = "HS256", .key = K_RSA, .kid = "rsa-1", .hmac = true},
     AUTH_R_ALG},
    {"HS384 keyed with the EC public PEM", {.alg = "HS384", .hmac = true}, AUTH_R_ALG},
    {"alg es384 (case)", {.alg = "es384", .sign_alg = "ES384"}, AUTH_R_ALG},
    {"ES256 not allowed by default", {.alg = "ES256", .key = K_EC256}, AUTH_R_ALG},
    {"RS256 not allowed by default", {.alg = "RS256", .key = K_RSA}, AUTH_R_ALG},
    {"PS384 unknown", {.alg = "PS384", .sign_alg = "RS384", .key = K_RSA}, AUTH_R_ALG},
    {"jku on an issuer without jwks_uri",
     {.iss = ISS_FILE_ONLY, .hdr_extra = JKU(PINNED_URI)},
     AUTH_R_JKU},
    {"jku chosen by the caller", {.hdr_extra = JKU("https://attacker.test/j.json")}, AUTH_R_JKU},
    {"jku not a string", {.hdr_extra = ",\"jku\":1"}, AUTH_R_MALFORMED},
    {"typ missing", {.typ = "-"}, AUTH_R_TYP},
    {"typ at+jwt", {.typ = "at+jwt"}, AUTH_R_TYP},
    {"kid missing", {.kid = "-"}, AUTH_R_KID},
    {"crit header", {.hdr_extra = ",\"crit\":[\"exp\"]"}, AUTH_R_CRIT},
    {"ES384 naming the RSA key", {.kid = "rsa-1"}, AUTH_R_KEY_TYPE},
    {"ES384 naming the P-256 key", {.key = K_EC256, .sign_alg = "ES256"}, AUTH_R_KEY_TYPE},
    {"RS384 naming an EC key", {.alg = "RS384", .key = K_RSA, .kid = "ec-a"}, AUTH_R_KEY_TYPE},
};

static void test_cases(void **state)
{
    struct auth_verifier *v = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum auth_reason got = fx_verify_spec(v, &cases[i].s);
        print_message("case %s: %s\n", cases[i].name, auth_reason_label(got));
        assert_string_equal(auth_reason_label(got), auth_reason_label(cases[i].want));
    }
}

static void test_header_shapes(void **state)
{
    struct auth_verifier *v = *state;
    static const char *const auds[] = {AUD};
    struct auth_identity who;
    static const struct {
        const char *authorization;
        enum auth_reason want;
    } shapes[] = {
        {NULL, AUTH_R_NO_TOKEN},
        {"", AUTH_R_NO_TOKEN},
        {"Basic dXNlcjpwYXNz", AUTH_R_NO_TOKEN},
        {"Bearer", AUTH_R_NO_TOKEN},
        {"Bearer   ", AUTH_R_NO_TOKEN},
        {"Bearertoken", AUTH_R_NO_TOKEN},
        {"Bearer abc", AUTH_R_MALFORMED},
        {"Bearer a.b", AUTH_R_MALFORMED},
        {"Bearer a.b.c.d", AUTH_R_MALFORMED},
        {"Bearer ..", AUTH_R_MALFORMED},
        {"Bearer !!!.e30.c2ln", AUTH_R_MALFORMED},
        {"Bearer e30.e30.c2ln", AUTH_R_ALG},       /* {} header: no alg */
        {"Bearer W10.e30.c2ln", AUTH_R_MALFORMED}, /* [] header */
        {"Bearer eyJ.e30.c2ln", AUTH_R_MALFORMED}, /* truncated base64url */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        print_message("shape %zu\n", i);
        assert_int_equal(auth_verify(v, shapes[i].authorization, auds, 1, fx.now, &who),
                         shapes[i].want);
    }
    char *huge = malloc(AUTH_TOKEN_MAX + 64);
    memcpy(huge, "Bearer ", 7);
    memset(huge + 7, 'a', AUTH_TOKEN_MAX + 1);
    huge[7 + AUTH_TOKEN_MAX + 1] = '\0';
    assert_int_equal(auth_verify(v, huge, auds, 1, fx.now, &who), AUTH_R_MALFORMED);
    free(huge);
    /* The scheme is case-insensitive; spaces around the token are ignored. */
    char *tok = fx_token(&(struct spec){0}, fx.now);
    char header[TOK_MAX];
    snprintf(header, sizeof header, "  bearer \t%s  ", tok);
    assert_int_equal(auth_verify(v, header, auds, 1, fx.now, &who), AUTH_OK);
    free(tok);
}

static void test_tampered(void **state)
{
    struct auth_identity who;
    char *a = fx_token(&(struct spec){0}, fx.now);
    char *b = fx_token(&(struct spec){.aud = "[\"" AUD "\",\"x\"]"}, fx.now);
    char spliced[TOK_MAX];
    /* a's header and signature around b's claims: every part well-formed, not signed so. */
    snprintf(spliced, sizeof spliced, "%.*s%.*s%s", (int)(strchr(a, '.') - a), a,
             (int)(strrchr(b, '.') - strchr(b, '.')), strchr(b, '.'), strrchr(a, '.'));
    assert_int_equal(fx_verify_tok(*state, spliced, 1, &who), AUTH_R_SIGNATURE);
    assert_int_equal(fx_verify_tok(*state, a, 1, &who), AUTH_OK);
    free(a);
    free(b);
}

static void test_numeric_dates(void **state)
{
    char exp[32], iat[32];
    snprintf(exp, sizeof exp, "%ld.75", (long)fx.now + 200);
    snprintf(iat, sizeof iat, "%ld.25", (long)fx.now);
    assert_int_equal(fx_verify_spec(*state, &(struct spec){.exp_raw = exp, .iat_raw = iat}),
                     AUTH_OK);
    snprintf(exp, sizeof exp, "%ld.5", (long)fx.now - 61);
    assert_int_equal(fx_verify_spec(*state, &(struct spec){.exp_raw = exp, .iat_raw = iat}),
                     AUTH_R_EXPIRED);
    assert_int_equal(fx_verify_spec(*state, &(struct spec){.exp_raw = "2199023255552"}),
                     AUTH_R_EXP);
    /* Numbers libjwt's JSON parser refuses never get past the signature check. */
    assert_int_not_equal(fx_verify_spec(*state, &(struct spec){.exp_raw = "1e400"}), AUTH_OK);
    assert_int_not_equal(fx_verify_spec(*state, &(struct spec){.exp_raw = "99999999999999999999"}),
                         AUTH_OK);
}

static void test_feedback_audience(void **state)
{
    struct auth_identity who;
    char *tok = fx_token(&(struct spec){.aud = "\"" AUD_FEEDBACK "\""}, fx.now);
    assert_int_equal(fx_verify_tok(*state, tok, 1, &who), AUTH_R_AUD);
    assert_int_equal(fx_verify_tok(*state, tok, 2, &who), AUTH_OK);
    free(tok);
}

static void test_reasons(void **state)
{
    struct auth_verifier *v = *state;
    for (int i = 0; i < AUTH_REASON_COUNT; i++) {
        assert_true(i == AUTH_OK || strncmp(auth_reason_text(i), "jwt: ", 5) == 0);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(auth_reason_label(i), auth_reason_label(k));
        assert_int_equal(auth_count(v, i), 0);
    }
    assert_string_equal(auth_reason_label(AUTH_REASON_COUNT), "internal");
    assert_int_equal(fx_verify_spec(v, &(struct spec){.alg = "none", .unsigned_ = true}),
                     AUTH_R_ALG);
    assert_int_equal(fx_verify_spec(v, &(struct spec){.alg = "none", .unsigned_ = true}),
                     AUTH_R_ALG);
    assert_int_equal(auth_count(v, AUTH_R_ALG), 2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cases, fx_verifier_setup, fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_header_shapes, fx_verifier_setup,
                                        fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_tampered, fx_verifier_setup, fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_numeric_dates, fx_verifier_setup,
                                        fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_feedback_audience, fx_verifier_setup,
                                        fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_reasons, fx_verifier_setup, fx_verifier_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("auth", tests, fx_group_setup, fx_group_teardown);
}
