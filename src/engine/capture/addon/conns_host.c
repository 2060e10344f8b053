// SPDX-License-Identifier: Apache-2.0
/*
 * What the connections stage asks of the host (struct wisp_conns_host), answered from /proc:
 * whether a process still runs, and which end of a connection found mid-stream a process holds.
 */
#include "conns_host.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ns per clock tick of /proc/<pid>/stat (USER_HZ is 100 on every Linux architecture). */
#define NS_PER_TICK 10000000ull
/* A /proc/<pid>/net/tcp* file read at most: 150 bytes a socket, thousands of sockets. */
#define NET_TCP_MAX (4u << 20)

/* The whole of a /proc file up to `max` bytes, NUL-terminated; NULL when it cannot be read. */
static char *slurp(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0, cap = 4096;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		if (got == cap) {
			char *nb = cap >= max ? NULL : realloc(buf, cap * 2 + 1);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + got, cap - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (buf) {
		buf[got] = 0;
		*len = got;
	}
	return buf;
}

/*
 * 1 while (pid, start time) runs, 0 once it is gone (no such pid, or the pid now names a
 * process that started at another time), -1 when /proc cannot tell.
 */
static int proc_alive(void *ctx, uint32_t pid, uint64_t start_boottime_ns)
{
	char path[64], *stat, *p;
	size_t len;
	unsigned long long ticks;
	int field = 2;

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	stat = slurp(path, 4096, &len);
	if (!stat)
		return access("/proc/self/stat", R_OK) == 0 ? 0 : -1;
	/* comm may hold spaces and parentheses: fields are counted from the last ')'. */
	p = strrchr(stat, ')');
	while (p && field < 22) {
		p = strchr(p + 1, ' ');
		field++;
	}
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1) {
		free(stat);
		return -1;
	}
	free(stat);
	if (start_boottime_ns == 0)
		return 1;
	return ticks == start_boottime_ns / NS_PER_TICK ? 1 : 0;
}

/* Whether /proc/<pid>/net/<file> lists a listening socket (state 0A) on `port`; -1 when unreadable. */
static int listens_on(uint32_t pid, const char *file, uint16_t port)
{
	char path[64], *text, *line, *save = NULL;
	size_t len;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%u/net/%s", pid, file);
	text = slurp(path, NET_TCP_MAX, &len);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char local[64];
		unsigned st;
		const char *colon;

		if (sscanf(line, " %*s %63s %*s %x", local, &st) != 2 || st != 0x0A)
			continue;
		colon = strrchr(local, ':');
		found = colon && strtoul(colon + 1, NULL, 16) == port;
	}
	free(text);
	return found;
}

/*
 * A connection found mid-stream whose bytes did not show its role: the server end is the one
 * whose local port a socket of its network namespace listens on (it accepted the connection).
 */
static uint8_t listen_role(void *ctx, uint32_t pid, uint16_t local_port, int v6)
{
	int a = listens_on(pid, "tcp", local_port), b = listens_on(pid, "tcp6", local_port);

	(void)ctx;
	(void)v6;
	if (a < 0 && b < 0)
		return 0;
	return a > 0 || b > 0 ? 2 : 1;
}

void conns_host_init(struct wisp_conns_host *h, wisp_conns_ctl_fn ctl, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->alive = proc_alive;
	h->listen_role = listen_role;
	h->ctl = ctl;
	h->ctx = ctx;
}
