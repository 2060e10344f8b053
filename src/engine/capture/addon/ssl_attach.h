/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the TLS uprobes of bpf/ssl.bpf.h go: every libssl.so* mapped by a process and every
 * executable that exports SSL_write (Node carries OpenSSL inside its binary), attached once per
 * file (device, inode) for every process that maps it, now and later. Found at start in the
 * system's library folders and in /proc/PID/maps of the running processes, then for each new
 * process: the exec tracepoint (wisp_exec) names it, a thread looks at its executable at once and
 * at its maps a few times over its first seconds (libraries are mapped by the loader, and
 * dlopen'd ones later still).
 */
#ifndef WISP_SSL_ATTACH_H
#define WISP_SSL_ATTACH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;
struct ring_buffer;

/* SSL_write, SSL_read, SSL_write_ex, SSL_read_ex (entry and return), then SSL_free (entry). */
#define SSL_ATTACH_FUNCS 5
#define SSL_ATTACH_LINKS (2 * SSL_ATTACH_FUNCS - 1)
#define SSL_ATTACH_PENDING 256

/* A file looked at: attached (links) or found not to export the symbols (nlinks 0). */
struct ssl_file {
	dev_t dev;
	ino_t ino;
	struct bpf_link *links[SSL_ATTACH_LINKS];
	uint32_t nlinks;
};

struct ssl_attach_stats {
	uint64_t files;     /* files with the probes attached */
	uint64_t failures;  /* attach attempts that failed (the file exports the symbols) */
	uint64_t processes; /* processes looked at */
	char last_error[256];
};

struct ssl_attach {
	struct bpf_program *entry[SSL_ATTACH_FUNCS];
	struct bpf_program *ret;
	int exec_map_fd;
	struct ring_buffer *exec_rb;
	pthread_t thread;
	int started;
	atomic_int stop;
	/* Written by the start-up scan, then by the thread alone; changed under lock, which JS takes to read. */
	pthread_mutex_t lock;
	struct ssl_file *files;
	uint32_t nfiles;
	uint32_t cap;
	struct ssl_attach_stats stats;
	/* The thread's alone: processes whose maps are looked at again, and when. */
	struct { uint32_t pid; uint32_t round; int64_t due_ns; } pending[SSL_ATTACH_PENDING];
	uint32_t npending;
};

/*
 * Attaches to what exists now (system libraries, running processes), then starts the thread
 * that follows new processes. Errno-style negative value when the thread cannot start; attach
 * failures are counted, not fatal.
 */
int ssl_attach_start(struct ssl_attach *a);

/* Stops the thread and detaches every probe; safe to call when not started. */
void ssl_attach_stop(struct ssl_attach *a);

void ssl_attach_snapshot(struct ssl_attach *a, struct ssl_attach_stats *out);

#endif
