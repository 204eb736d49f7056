/* civil.c - days since the epoch <-> civil dates, and the one date parser (civil.h). */
#include "util/civil.h"

#include <stddef.h>

#define ERA_YEARS 400L
#define ERA_DAYS 146097L
#define EPOCH_SHIFT 719468L /* days from 0000-03-01 to 1970-01-01 */

long civil_days(long y, int m, int d)
{
    /* H. Hinnant's days_from_civil: years counted from March, so the leap day ends one. */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - (ERA_YEARS - 1)) / ERA_YEARS;
    long yoe = y - era * ERA_YEARS;                             /* [0, 399] */
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * ERA_DAYS + doe - EPOCH_SHIFT;
}

void civil_from_days(long days, long *year, int *month, int *day)
{
    /* H. Hinnant's civil_from_days. */
    long z = days + EPOCH_SHIFT;
    long era = (z >= 0 ? z : z - (ERA_DAYS - 1)) / ERA_DAYS;
    long doe = z - era * ERA_DAYS;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * ERA_YEARS + (*month <= 2);
}

int civil_month_days(long y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : mdays[m - 1];
}

/* n decimal digits at s into *out. */
static bool digits(const char *s, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool civil_parse_date(const char *s, bool partial, long *days)
{
    long y = 0;
    long m = 1;
    long d = 1;
    if (s == NULL || !digits(s, 4, &y))
        return false;
    if (s[4] == '\0' && partial)
        goto done;
    if (s[4] != '-' || !digits(s + 5, 2, &m) || m < 1 || m > 12)
        return false;
    if (s[7] == '\0' && partial)
        goto done;
    if (s[7] != '-' || !digits(s + 8, 2, &d) || d < 1 || d > civil_month_days(y, (int)m))
        return false;
    if (s[CIVIL_DATE_LEN] != '\0' && s[CIVIL_DATE_LEN] != 'T')
        return false;
done:
    *days = civil_days(y, (int)m, (int)d);
    return true;
}
