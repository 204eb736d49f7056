/* rand_uuid.h - random (version 4) UUIDs as lowercase text, cheaply.
 *
 * A request makes one UUID per card and per suggestion, plus its request id: ten or more.
 * libuuid's uuid_generate_random() makes a system call and reseeds random(3) for each one;
 * here the 122 random bits come from OpenSSL's DRBG (RAND_bytes, seeded from
 * the kernel) and libuuid writes the text. Falls back to uuid_generate_random() if OpenSSL
 * has no randomness to give. Thread-safe.
 */
#ifndef MYOCDS_UTIL_RAND_UUID_H
#define MYOCDS_UTIL_RAND_UUID_H

#define RAND_UUID_TEXT 37 /* 36 characters and the NUL */

/* Writes a new random UUID, e.g. "0f8fad5b-d9cb-469f-a165-70867728950e", into out. */
void rand_uuid(char out[RAND_UUID_TEXT]);

#endif
