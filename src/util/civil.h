/* civil.h - the one calendar of the project: dates as days since 1970-01-01 (proleptic
 * Gregorian), parsed and validated in one place. FHIR dates, dose periods and the report's
 * --since/--until all read dates through it, so each accepts and refuses the same dates
 * (2025-02-31 nowhere). */
#ifndef MYOCDS_UTIL_CIVIL_H
#define MYOCDS_UTIL_CIVIL_H

#include <stdbool.h>

#define CIVIL_DATE_LEN 10 /* YYYY-MM-DD */

/* Days since 1970-01-01 of y-m-d (m 1-12, d 1-31; not checked). */
long civil_days(long y, int m, int d);

/* The civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01. */
void civil_from_days(long days, long *year, int *month, int *day);

/* The days in month m (1-12) of year y. */
int civil_month_days(long y, int m);

/* The date at the start of s: "YYYY-MM-DD", then the end of s or 'T' (a FHIR dateTime);
 * with partial, also "YYYY" and "YYYY-MM" (their first day). The day must exist in its
 * month. True and *days set, or false. */
bool civil_parse_date(const char *s, bool partial, long *days);

#endif
