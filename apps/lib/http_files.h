/* Finding what a request names under a document root, without ever leaving
 * it, and the page that lists a directory without an index.html. */
#ifndef TAPSTACK_HTTP_FILES_H
#define TAPSTACK_HTTP_FILES_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

enum http_file_kind {
	HTTP_FILE_REGULAR,   /* serve fd (st: its size and time) */
	HTTP_FILE_LISTING,   /* a directory with no index.html: list dir */
	HTTP_FILE_ADD_SLASH, /* a directory named without its final '/': redirect */
};

struct http_file {
	enum http_file_kind kind;
	int fd;                    /* HTTP_FILE_REGULAR: open for reading; else -1 */
	struct stat st;
	char real[PATH_MAX];       /* the resolved path on the disk */
};

/* Looks path (normalised by http_path_normalize) up under root (a path
 * already resolved by realpath). Returns 0 and *f, or the status to answer
 * with: 404 (nothing there), 403 (outside the root once symbolic links are
 * followed, not readable, or not a regular file or directory). A directory
 * is served by its index.html when it has one. */
int http_file_open(const char *root, const char *path, struct http_file *f);

/* Makes the HTML page that lists the directory dir, seen at url_path (which
 * ends with '/'). Returns it (malloc'ed, *len bytes) or NULL. */
char *http_listing(const char *dir, const char *url_path, size_t *len);

#endif
