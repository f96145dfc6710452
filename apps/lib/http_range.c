/* Byte ranges (RFC 9110 14): the one part of a Range header field this
 * server honours, a single range, so that a download can be resumed. */
#include <string.h>
#include <strings.h>

#include "apps/lib/http.h"

/* Reads 1*DIGIT from s[*i] on. Returns 0, or -1 if no digit or too big. */
static int read_number(struct http_str s, size_t *i, uint64_t *v)
{
	size_t start = *i;
	*v = 0;
	while (*i < s.n && s.p[*i] >= '0' && s.p[*i] <= '9') {
		if (*i - start >= 19)
			return -1;
		*v = *v * 10 + (uint64_t)(s.p[*i] - '0');
		(*i)++;
	}
	return *i > start ? 0 : -1;
}

enum http_range_result http_range_parse(struct http_str value, uint64_t size, uint64_t *first,
					uint64_t *last)
{
	/* RFC 9110 14.1.2: ranges-specifier = range-unit "=" range-set; the
	 * unit is case-insensitive */
	if (value.n < 6 || strncasecmp(value.p, "bytes=", 6) != 0)
		return HTTP_RANGE_NONE;
	size_t i = 6;
	while (i < value.n && (value.p[i] == ' ' || value.p[i] == '\t'))
		i++;
	uint64_t a = 0, b = 0;
	bool has_a = false, has_b = false;
	if (i < value.n && value.p[i] != '-') {
		if (read_number(value, &i, &a) < 0)
			return HTTP_RANGE_NONE;
		has_a = true;
	}
	if (i >= value.n || value.p[i] != '-')
		return HTTP_RANGE_NONE;
	i++;
	if (i < value.n && value.p[i] >= '0' && value.p[i] <= '9') {
		if (read_number(value, &i, &b) < 0)
			return HTTP_RANGE_NONE;
		has_b = true;
	}
	while (i < value.n && (value.p[i] == ' ' || value.p[i] == '\t'))
		i++;
	if (i != value.n)
		return HTTP_RANGE_NONE; /* several ranges or junk: ignored (14.2) */
	if (!has_a && !has_b)
		return HTTP_RANGE_NONE;
	if (!has_a) {
		/* 14.1.3 suffix-range: the last b bytes; "-0" is unsatisfiable */
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return HTTP_RANGE_OK;
	}
	if (has_b && b < a)
		return HTTP_RANGE_NONE; /* 14.1.1: invalid, so the field is ignored */
	/* 14.1.1: satisfiable if the first position is below the length; a
	 * last position past the end means "to the end" */
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = a;
	*last = has_b && b < size ? b : size - 1;
	return HTTP_RANGE_OK;
}
