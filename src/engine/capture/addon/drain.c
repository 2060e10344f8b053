// SPDX-License-Identifier: Apache-2.0
/* The drain thread; see drain.h. */
#include "drain.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"

/* What is read of a process's files at most; longer command lines are cut there. */
#define CMDLINE_MAX 4096
#define CGROUP_MAX 8192
/* Processes waiting for JS at most; beyond, the oldest wait no longer (JS then reads /proc itself). */
#define PROCS_MAX 4096

/* Records per consume round: bounds how long one round holds the stitcher before publishing. */
#define ROUND_RECORDS 8192
/*
 * Rows are published at least this often, or sooner once 4096 wait: JS pays a fixed cost per
 * batch (tens of µs), and request → queryable (this, plus the JS poll) stays well under 250 ms.
 */
#define PUBLISH_NS (50 * 1000000ll)
/* Holes and idle connections are looked at this often. */
#define FLUSH_NS (100 * 1000000ll)

static int64_t now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * A realtime reading between two monotonic ones is matched with their midpoint; a thread
 * preempted between the reads would put that midpoint milliseconds off, shifting every
 * timestamp of the round, so the tightest of a few samples is used (each is three vDSO calls).
 */
int64_t drain_clock_offset(void)
{
	int64_t best_window = INT64_MAX, offset = 0;

	for (int i = 0; i < 5; i++) {
		int64_t a = now_ns(CLOCK_MONOTONIC), r = now_ns(CLOCK_REALTIME), b = now_ns(CLOCK_MONOTONIC);

		if (b - a < best_window) {
			best_window = b - a;
			offset = r - (a + (b - a) / 2);
		}
	}
	return offset;
}

int drain_record(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;

	wisp_stitcher_record(d->st, data, size, d->offset);
	if (d->conns)
		wisp_conns_record(d->conns, data, size, d->offset);
	/* libbpf has consumed this record; a negative return only ends the round. */
	return ++d->round_records >= ROUND_RECORDS ? -E2BIG : 0;
}

void drain_ctl(void *ctx, uint64_t conn_id, const uint64_t skip_to[2], int muted)
{
	struct drain *d = ctx;

	if (d->ctl)
		ctl_write(d->ctl, conn_id, skip_to, muted);
}

void proc_info_free(struct proc_info *p)
{
	while (p) {
		struct proc_info *next = p->next;

		free(p->comm);
		free(p->cmdline);
		free(p->cgroup);
		free(p);
		p = next;
	}
}

/* The whole of a small /proc file, up to `max` bytes (NULL when it cannot be read). */
static char *read_small(uint32_t pid, const char *file, size_t max, size_t *len)
{
	char path[64];
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(max);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += (size_t)n;
	close(fd);
	*len = got;
	return buf;
}

void drain_proc(void *ctx, uint32_t pid, uint64_t start_boottime_ns)
{
	struct drain *d = ctx;
	uint64_t *slot = d->seen[(pid * 2654435761u ^ (uint32_t)(start_boottime_ns >> 7)) % PROC_SEEN_SLOTS];
	struct proc_info *p, *old = NULL;

	if (slot[0] == pid && slot[1] == start_boottime_ns)
		return;
	slot[0] = pid;
	slot[1] = start_boottime_ns;
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->pid = pid;
	p->start_boottime_ns = start_boottime_ns;
	p->comm = read_small(pid, "comm", 64, &p->comm_len);
	p->cmdline = read_small(pid, "cmdline", CMDLINE_MAX, &p->cmdline_len);
	p->cgroup = read_small(pid, "cgroup", CGROUP_MAX, &p->cgroup_len);
	pthread_mutex_lock(&d->lock);
	if (d->procs_tail)
		d->procs_tail->next = p;
	else
		d->procs = p;
	d->procs_tail = p;
	if (++d->nprocs > PROCS_MAX) {
		old = d->procs;
		d->procs = old->next;
		old->next = NULL;
		d->nprocs--;
	}
	pthread_mutex_unlock(&d->lock);
	proc_info_free(old);
}

/*
 * Reads the kernel's `conns` map whole (in batches of SNAPSHOT_BATCH entries) and makes the
 * connections stage's report. An entry changed or gone while the map is read is seen as it was
 * then; the next report sees it again, and closes come as records anyway.
 */
static void report(struct drain *d, int64_t now)
{
	struct wisp_conn_key *keys = d->snap_keys;
	struct wisp_conn_state *vals = d->snap_vals;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint64_t in = 0, out = 0;
	int first = 1;

	wisp_conns_snapshot_begin(d->conns, now);
	for (;;) {
		uint32_t n = SNAPSHOT_BATCH;
		int err = bpf_map_lookup_batch(d->conns_map_fd, first ? NULL : &in, &out, keys, vals, &n, &opts);

		first = 0;
		for (uint32_t i = 0; i < n; i++)
			wisp_conns_snapshot_entry(d->conns, &keys[i], sizeof(keys[i]), &vals[i], sizeof(vals[i]));
		if (err)
			break; /* ENOENT: the whole map was read */
		in = out;
	}
	wisp_conns_report(d->conns, now);
}

static void publish(struct drain *d)
{
	struct wisp_rows *conn_rows[2] = { NULL, NULL };
	struct wisp_batch *b = wisp_stitcher_take(d->st), *last = b;
	uint64_t rows = 0, n = 0;

	for (; last; last = last->next) {
		rows += last->rows;
		n++;
		if (!last->next)
			break;
	}
	for (int t = 0; d->conns && t < 2; t++)
		conn_rows[t] = wisp_conns_take(d->conns, (enum wisp_conns_table)t);
	pthread_mutex_lock(&d->lock);
	for (int t = 0; t < 2; t++) {
		struct wisp_rows *r = conn_rows[t];

		if (!r)
			continue;
		if (d->conns_ready[t].tail)
			d->conns_ready[t].tail->next = r;
		else
			d->conns_ready[t].head = r;
		while (r->next)
			r = r->next;
		d->conns_ready[t].tail = r;
	}
	if (d->conns)
		d->conns_counters = *wisp_conns_counters(d->conns);
	if (b) {
		if (d->ready_tail)
			d->ready_tail->next = b;
		else
			d->ready = b;
		d->ready_tail = last;
		d->ready_rows += rows;
		d->stats.batches += n;
	}
	d->counters = *wisp_stitcher_counters(d->st);
	pthread_mutex_unlock(&d->lock);
}

static uint64_t ready_rows(struct drain *d)
{
	uint64_t n;

	pthread_mutex_lock(&d->lock);
	n = d->ready_rows;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void pause_us(uint32_t us)
{
	struct timespec t = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&t, NULL);
}

/* One round: consume, let time pass in the stitcher, publish when due. Returns records consumed. */
static uint32_t round_once(struct drain *d, int64_t *last_flush, int64_t *last_publish)
{
	int64_t now;

	d->offset = drain_clock_offset();
	d->round_records = 0;
	ring_buffer__consume(d->rb);
	now = now_ns(CLOCK_REALTIME);
	if (now - *last_flush >= FLUSH_NS) {
		wisp_stitcher_flush_idle(d->st, now);
		if (d->conns)
			wisp_conns_flush_idle(d->conns, now);
		*last_flush = now;
	}
	if (d->conns && now - d->last_report >= d->report_ns) {
		report(d, now);
		d->last_report = now;
		publish(d);
		*last_publish = now;
	}
	if (now - *last_publish >= PUBLISH_NS || wisp_stitcher_pending_rows(d->st) >= 4096) {
		publish(d);
		*last_publish = now;
	}
	return d->round_records;
}

static void *run(void *arg)
{
	struct drain *d = arg;
	int64_t last_flush = now_ns(CLOCK_REALTIME), last_publish = last_flush;
	sigset_t all;

	/* Signals are the JS thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!atomic_load(&d->stop)) {
		uint32_t n;

		if (ready_rows(d) >= d->max_ready_rows) {
			pthread_mutex_lock(&d->lock);
			d->stats.stalls++;
			pthread_mutex_unlock(&d->lock);
			pause_us(d->poll_us);
			continue;
		}
		n = round_once(d, &last_flush, &last_publish);
		pthread_mutex_lock(&d->lock);
		d->stats.loops++;
		pthread_mutex_unlock(&d->lock);
		/* A full round means more is waiting; a short one that the ring is (nearly) empty. */
		if (n < ROUND_RECORDS)
			pause_us(d->poll_us);
	}
	return NULL;
}

int drain_start(struct drain *d)
{
	int err;

	atomic_store(&d->stop, 0);
	d->last_report = now_ns(CLOCK_REALTIME);
	err = pthread_mutex_init(&d->lock, NULL);
	if (err)
		return -err;
	err = pthread_create(&d->thread, NULL, run, d);
	if (err) {
		pthread_mutex_destroy(&d->lock);
		return -err;
	}
	d->started = 1;
	return 0;
}

void drain_stop(struct drain *d)
{
	int64_t last_flush, last_publish = 0;

	if (!d->started)
		return;
	atomic_store(&d->stop, 1);
	pthread_join(d->thread, NULL);
	d->started = 0;
	last_flush = now_ns(CLOCK_REALTIME);
	while (round_once(d, &last_flush, &last_publish) >= ROUND_RECORDS)
		;
	/* A last report, so connections closed since the previous one are in the table. */
	if (d->conns)
		report(d, now_ns(CLOCK_REALTIME));
	publish(d);
}

struct wisp_batch *drain_take(struct drain *d, struct proc_info **procs, struct wisp_rows *conns[2])
{
	struct wisp_batch *b;

	pthread_mutex_lock(&d->lock);
	for (int t = 0; t < 2; t++) {
		conns[t] = d->conns_ready[t].head;
		d->conns_ready[t].head = d->conns_ready[t].tail = NULL;
	}
	b = d->ready;
	d->ready = d->ready_tail = NULL;
	d->ready_rows = 0;
	*procs = d->procs;
	d->procs = d->procs_tail = NULL;
	d->nprocs = 0;
	pthread_mutex_unlock(&d->lock);
	return b;
}

void drain_snapshot(struct drain *d, struct wisp_http_counters *c, struct wisp_conns_counters *cc, struct drain_stats *s)
{
	pthread_mutex_lock(&d->lock);
	*c = d->counters;
	*cc = d->conns_counters;
	*s = d->stats;
	pthread_mutex_unlock(&d->lock);
}
