/* Files under a document root: the last safety check (symbolic links are
 * followed by realpath, and what they lead to must still be inside the
 * root), index.html, and generated directory listings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/lib/http.h"
#include "apps/lib/http_files.h"

/* True if the resolved path real is root itself or under it. */
static bool inside_root(const char *root, const char *real)
{
	size_t n = strlen(root);
	if (n == 1 && root[0] == '/')
		return real[0] == '/';
	return strncmp(real, root, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* Resolves root + path with realpath into f->real and stats it. Returns 0,
 * 404 or 403. */
static int resolve(const char *root, const char *path, struct http_file *f)
{
	char full[PATH_MAX * 2];
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (!realpath(full, f->real))
		return errno == EACCES ? 403 : 404;
	if (!inside_root(root, f->real))
		return 403; /* a symbolic link that leads out of the root */
	if (stat(f->real, &f->st) < 0)
		return 404;
	return 0;
}

/* Opens f->real for reading. Returns 0 or 403. */
static int open_regular(struct http_file *f)
{
	if (!S_ISREG(f->st.st_mode))
		return 403; /* devices, FIFOs, sockets: never */
	f->fd = open(f->real, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return 403;
	f->kind = HTTP_FILE_REGULAR;
	return 0;
}

int http_file_open(const char *root, const char *path, struct http_file *f)
{
	f->fd = -1;
	int st = resolve(root, path, f);
	if (st)
		return st;
	if (!S_ISDIR(f->st.st_mode))
		return path[strlen(path) - 1] == '/' ? 404 : open_regular(f);
	if (path[strlen(path) - 1] != '/') {
		f->kind = HTTP_FILE_ADD_SLASH; /* so that relative links work */
		return 0;
	}
	char dir[PATH_MAX], index[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s", f->real);
	snprintf(index, sizeof(index), "%s/index.html", dir);
	if (access(index, F_OK) == 0) {
		char ipath[PATH_MAX + 16];
		snprintf(ipath, sizeof(ipath), "%sindex.html", path);
		st = resolve(root, ipath, f);
		return st ? st : open_regular(f);
	}
	if (access(dir, R_OK | X_OK) < 0)
		return 403;
	f->kind = HTTP_FILE_LISTING;
	return 0;
}

/* A growable text buffer for the listing. */
struct textbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void tb_add(struct textbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* Adds one line of the listing: a link to name (a directory gets a '/'). */
static void listing_entry(struct textbuf *b, const char *dir, const char *name)
{
	char full[PATH_MAX], href[3 * NAME_MAX + 4], text[6 * NAME_MAX + 8], line[sizeof(href) +
										sizeof(text) + 64];
	struct stat st;
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	bool isdir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
	http_url_escape(name, href, sizeof(href) - 2);
	http_html_escape(name, text, sizeof(text) - 2);
	if (isdir) {
		strcat(href, "/");
		strcat(text, "/");
	}
	snprintf(line, sizeof(line), "<li><a href=\"%s\">%s</a></li>\n", href, text);
	tb_add(b, line);
}

char *http_listing(const char *dir, const char *url_path, size_t *len)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return NULL;
	struct textbuf b = { 0 };
	char title[6 * PATH_MAX];
	http_html_escape(url_path, title, sizeof(title));
	tb_add(&b, "<!DOCTYPE html>\n<html><head><title>Index of ");
	tb_add(&b, title);
	tb_add(&b, "</title></head>\n<body><h1>Index of ");
	tb_add(&b, title);
	tb_add(&b, "</h1>\n<ul>\n");
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		bool at_top = strcmp(url_path, "/") == 0;
		bool skip = strcmp(name, ".") == 0 || (strcmp(name, "..") == 0 && at_top);
		if (!skip)
			listing_entry(&b, dir, name);
		free(names[i]);
	}
	free(names);
	tb_add(&b, "</ul>\n<hr><address>tapstack httpd</address></body></html>\n");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
