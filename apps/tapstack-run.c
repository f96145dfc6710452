/* tapstack-run: runs an unmodified program with its sockets on tapstack.
 *
 *   tapstack-run --tap tap1 --ip 10.0.0.3/24 --gw 10.0.0.1 -- curl http://10.0.0.1/
 *
 * It checks the host flags (the same parser as every app, stack/host.c),
 * leaves them in the environment (TAPSTACK_RUN_FLAGS), preloads the shim
 * (build/libtapstack_preload.so, next to this program) and execs PROGRAM.
 * The shim opens the host inside the program's process: each program is one
 * host on one TAP, as every tapstack app is (stack/README.md, decision 9).
 * apps/README.md, "Run your own programs over tapstack", has the rest. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stack/host.h"

#define SHIM_NAME "libtapstack_preload.so"

static void usage(FILE *out)
{
	fputs("usage: tapstack-run HOST-OPTIONS -- PROGRAM [ARGS...]\n"
	      "\n"
	      "Runs PROGRAM with its IPv4 and IPv6 sockets (TCP and UDP) on a tapstack host\n"
	      "of its own, built from HOST-OPTIONS inside PROGRAM's process (LD_PRELOAD of\n"
	      SHIM_NAME "). Names go to tapstack's resolver (the gateway's DNS).\n"
	      "Give the host a free TAP of the lab (sudo labs/net up 2 makes tap1):\n"
	      "  sudo labs/net exec build/tapstack-run --tap tap1 --ip 10.0.0.3/24 \\\n"
	      "      --gw 10.0.0.1 -- curl http://10.0.0.1/\n"
	      "Not for static or setuid programs (the preload cannot reach them).\n"
	      "\n",
	      out);
	host_opts_usage(out);
}

/* Finds PROGRAM as execvp would (a name without '/' in $PATH) into path. */
static int find_program(const char *prog, char *path, size_t len)
{
	if (strchr(prog, '/')) {
		snprintf(path, len, "%s", prog);
		return access(path, X_OK);
	}
	const char *p = getenv("PATH");
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		snprintf(path, len, "%.*s/%s", (int)n, n ? p : ".", prog);
		if (access(path, X_OK) == 0)
			return 0;
		p += n + (end != NULL);
	}
	return -1;
}

/* Returns a reason the preload cannot reach PROGRAM (static, setuid), or
 * NULL. Scripts and files it cannot read are let through: the kernel
 * runs their interpreter, which is dynamic as a rule. */
static const char *unreachable(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) && geteuid() != st.st_uid)
		return "is setuid or setgid: the loader ignores LD_PRELOAD for it";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	Elf64_Ehdr eh;
	const char *why = NULL;
	if (read(fd, &eh, sizeof(eh)) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64) {
		why = "is statically linked: its socket calls cannot be interposed";
		for (int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			off_t at = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;
			if (pread(fd, &ph, sizeof(ph), at) != (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP) {
				why = NULL;
				break;
			}
		}
	}
	close(fd);
	return why;
}

int main(int argc, char **argv)
{
	struct host_opts o;
	host_opts_init(&o);
	int i, prog = -1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			prog = i + 1;
			break;
		}
		int r = host_opts_parse(&o, "tapstack-run", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (host_std_flag("tapstack-run", argv[i], usage))
			return 0;
		fprintf(stderr, "tapstack-run: unknown option '%s' (the program comes after --; "
			"see --help)\n", argv[i]);
		return 2;
	}
	if (prog < 0 || prog >= argc) {
		fprintf(stderr, "tapstack-run: give the program after -- (see --help)\n");
		return 2;
	}
	if (host_opts_check(&o, "tapstack-run") < 0)
		return 2;

	/* The flags, as given, for the shim: separated by 0x1f. */
	char flags[4096];
	size_t n = 0;
	for (int k = 1; k < prog - 1; k++) {
		size_t l = strlen(argv[k]);
		if (strchr(argv[k], '\x1f') || n + l + 2 > sizeof(flags)) {
			fprintf(stderr, "tapstack-run: the host flags are too long\n");
			return 2;
		}
		if (n)
			flags[n++] = '\x1f';
		memcpy(flags + n, argv[k], l);
		n += l;
	}
	flags[n] = '\0';

	char shim[PATH_MAX];
	const char *given = getenv("TAPSTACK_PRELOAD");
	if (given) {
		snprintf(shim, sizeof(shim), "%s", given);
	} else {
		char self[PATH_MAX];
		ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (l < 0) {
			fprintf(stderr, "tapstack-run: cannot find myself: %s\n", strerror(errno));
			return 1;
		}
		self[l] = '\0';
		char *slash = strrchr(self, '/');
		*slash = '\0';
		snprintf(shim, sizeof(shim), "%.*s/%s", (int)(sizeof(shim) - sizeof(SHIM_NAME) - 2),
			 self, SHIM_NAME);
	}
	if (access(shim, R_OK) < 0) {
		fprintf(stderr, "tapstack-run: cannot read %s (make apps builds it)\n", shim);
		return 1;
	}

	char path[PATH_MAX];
	if (find_program(argv[prog], path, sizeof(path)) < 0) {
		fprintf(stderr, "tapstack-run: %s: command not found\n", argv[prog]);
		return 127;
	}
	const char *why = unreachable(path);
	if (why) {
		fprintf(stderr, "tapstack-run: %s %s\n", path, why);
		return 126;
	}

	/* Ours first, then any the caller preloads already. */
	char preload[2 * PATH_MAX];
	const char *old = getenv("LD_PRELOAD");
	snprintf(preload, sizeof(preload), "%s%s%s", shim, old && *old ? ":" : "",
		 old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	setenv("TAPSTACK_RUN_FLAGS", flags, 1);
	execv(path, argv + prog);
	fprintf(stderr, "tapstack-run: cannot run %s: %s\n", path, strerror(errno));
	return 126;
}
