/* rand_uuid.h - random (version 4) and time-ordered (version 7) UUIDs as lowercase text,
 * cheaply.
 *
 * A request makes one UUID per card and per suggestion, plus its request id: ten or more.
 * libuuid's uuid_generate_random() makes a system call and reseeds random(3) for each one;
 * here the random bits come from OpenSSL's DRBG (RAND_bytes, seeded from the kernel) and
 * libuuid writes the text. Falls back to libuuid's own randomness if OpenSSL has none to
 * give. Thread-safe.
 */
#ifndef MYOCDS_UTIL_RAND_UUID_H
#define MYOCDS_UTIL_RAND_UUID_H

#define RAND_UUID_TEXT 37 /* 36 characters and the NUL */

/* Writes a new random UUID, e.g. "0f8fad5b-d9cb-469f-a165-70867728950e", into out. */
void rand_uuid(char out[RAND_UUID_TEXT]);

/* Writes a new version-7 UUID (RFC 9562 5.7): the Unix time in milliseconds in the first
 * 48 bits, then 74 random bits. Such ids sort by the millisecond they were made in, so an
 * index of them grows at its end: the card store's index of card uuids stays in SQLite's
 * page cache however large the table (random ids land on any page of it). */
void rand_uuid_v7(char out[RAND_UUID_TEXT]);

#endif
