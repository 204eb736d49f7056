/* json.h - kept until src/rules/ moves to util/json.h: the JSON helpers live in src/util/. */
#include "util/json.h"
