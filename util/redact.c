/* Secrets kept out of every message, log and file: the one place that knows where a password
 * hides in a connection string. Over-redacting is harmless, under-redacting is a leak, so each
 * rule errs wide: the whole text is redacted before anything cuts it to a buffer's size. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/util.h"

#define MASK "***"

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0'
	       : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 : -1;
}

/* One character of s at *i, %XX decoded (a URL's query keys are decoded by libpq). */
static int decoded_char(const char *s, size_t *i)
{
	if (s[*i] == '%' && hexval(s[*i + 1]) >= 0 && hexval(s[*i + 2]) >= 0) {
		int c = hexval(s[*i + 1]) * 16 + hexval(s[*i + 2]);
		*i += 3;
		return c;
	}
	return (unsigned char)s[(*i)++];
}

/* Does "password" (any case, letters perhaps %-encoded) start at s[i]? Its end in *end. */
static bool password_key(const char *s, size_t i, size_t *end)
{
	static const char word[] = "password";
	for (size_t k = 0; word[k]; k++) {
		if (!s[i])
			return false;
		if (tolower(decoded_char(s, &i)) != word[k])
			return false;
	}
	*end = i;
	return true;
}

/* [start, end) of the value after "password" ending at key_end: '=' (spaces around it, as
 * key=value strings allow), then a 'quoted' value or one up to '&' or a space. */
static bool password_value(const char *s, size_t key_end, size_t *start, size_t *end)
{
	size_t i = key_end;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != '=')
		return false;
	i++;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	*start = i;
	if (s[i] == '\'') {
		for (i++; s[i] && s[i] != '\''; i++)
			if (s[i] == '\\' && s[i + 1])
				i++;
		*end = s[i] ? i + 1 : i;
	} else {
		*end = i + strcspn(s + i, "& \t\r\n");
	}
	return true;
}

/* A URL's authority from a (after "://"): [start, end) of its password, when it has one.
 * The '@' is the last one before the first space, else the last one at all (a password may
 * hold an unencoded '/', '@' or space); without any '@', a ':' followed by other than a port
 * (a URL cut short, a user name alone) is taken as a password too. */
static bool url_password(const char *s, size_t a, size_t *start, size_t *end)
{
	size_t word = a + strcspn(s + a, " \t\r\n"), at = 0, path = a + strcspn(s + a, "/?#");
	bool found = false, in_word = false;
	for (size_t i = a; i < word; i++)
		if (s[i] == '@')
			at = i, found = in_word = true;
	for (size_t i = word; !found && s[i]; i++)
		if (s[i] == '@')
			at = i, found = true;
	size_t host = a;
	if (s[host] == '[') /* [::1]:5432 */
		host += strcspn(s + host, "]");
	/* the user's colon: before the '@' of the first word; beyond it (a password with a
	 * space), in the first word's authority only, so that a later "x@y" is no password */
	size_t limit = in_word ? at : word < path ? word : path;
	if (found && at < limit)
		limit = at;
	const char *colon = memchr(s + host, ':', limit > host ? limit - host : 0);
	if (!colon)
		return false;
	*start = (size_t)(colon - s) + 1;
	if (in_word) {
		*end = at;
		return true;
	}
	size_t port = strspn(s + *start, "0123456789");
	if (port && strchr(",/?# \t\r\n", s[*start + port]))
		return false; /* host:port (a NUL ends it too) */
	*end = found ? at : *start + strcspn(s + *start, " \t\r\n");
	return *end > *start;
}

/* Where the next secret of s from i lies: [start, end); false when none is left. */
static bool next_secret(const char *s, size_t i, size_t *start, size_t *end)
{
	for (; s[i]; i++) {
		size_t key_end;
		if (!strncmp(s + i, "://", 3) && url_password(s, i + 3, start, end))
			return true;
		if ((s[i] == 'p' || s[i] == 'P' || s[i] == '%') && password_key(s, i, &key_end) &&
		    password_value(s, key_end, start, end))
			return true;
	}
	return false;
}

char *cm_redact(const char *text)
{
	struct cm_buf b = { 0 };
	size_t i = 0, start, end;
	if (!text)
		return cm_xstrdup("");
	while (next_secret(text, i, &start, &end)) {
		cm_buf_append(&b, text + i, start - i);
		cm_buf_puts(&b, MASK);
		i = end;
	}
	cm_buf_puts(&b, text + i);
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

void cm_redact_to(const char *text, char *out, size_t n)
{
	char *r = cm_redact(text);
	if (n) {
		size_t len = strlen(r) < n - 1 ? strlen(r) : n - 1;
		memcpy(out, r, len);
		out[len] = 0;
	}
	free(r);
}

bool cm_holds_secret(const char *text)
{
	size_t start, end;
	return text && next_secret(text, 0, &start, &end);
}

/* The secrets of conninfo, as written and %-decoded (libpq quotes either in its messages). */
static size_t secrets_of(const char *conninfo, char **out, size_t max)
{
	size_t n = 0, i = 0, start, end;
	while (n + 2 <= max && next_secret(conninfo, i, &start, &end)) {
		out[n] = cm_xasprintf("%.*s", (int)(end - start), conninfo + start);
		char *dec = cm_xmalloc(end - start + 1);
		size_t k = 0, j = 0;
		while (out[n][j])
			dec[k++] = (char)decoded_char(out[n], &j);
		dec[k] = 0;
		n++;
		out[n++] = dec;
		i = end > i ? end : i + 1;
	}
	return n;
}

/* Do a and b share a run of min(3, the shorter) characters? (libpq quotes pieces of a
 * password it split at an unencoded '/', '?' or '@'.) */
static bool overlap(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), w = alen < blen ? alen : blen;
	w = w < 3 ? w : 3;
	if (!w)
		return false;
	for (size_t i = 0; i + w <= alen; i++)
		for (size_t j = 0; j + w <= blen; j++)
			if (!memcmp(a + i, b + j, w))
				return true;
	return false;
}

char *cm_redact_msg(const char *msg, const char *conninfo)
{
	char *secrets[16];
	size_t ns = conninfo ? secrets_of(conninfo, secrets, 16) : 0;
	struct cm_buf b = { 0 };
	/* every "quoted" piece that shares characters with a secret, then every whole secret */
	for (const char *p = msg ? msg : ""; *p;) {
		const char *q = *p == '"' ? strchr(p + 1, '"') : NULL;
		bool hide = false;
		for (size_t k = 0; q && k < ns && !hide; k++)
			hide = overlap(p + 1, (size_t)(q - p - 1), secrets[k]);
		if (hide) {
			cm_buf_puts(&b, "\"" MASK "\"");
			p = q + 1;
			continue;
		}
		size_t k = 0, len = 0;
		for (; k < ns; k++)
			if (*secrets[k] && !strncmp(p, secrets[k], (len = strlen(secrets[k]))))
				break;
		if (k < ns) {
			cm_buf_puts(&b, MASK);
			p += len;
		} else {
			cm_buf_append(&b, p++, 1);
		}
	}
	for (size_t k = 0; k < ns; k++)
		free(secrets[k]);
	char *r = cm_redact(b.s ? b.s : "");
	cm_buf_free(&b);
	return r;
}
