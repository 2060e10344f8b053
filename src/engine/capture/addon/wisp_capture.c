// SPDX-License-Identifier: Apache-2.0
/*
 * wisp_capture.node: loads the socket tracer (the skeleton embeds the BPF object), attaches
 * it, and hands what it captures to JS.
 *
 * Two modes. Stitched (the engine's): a native thread (drain.c) consumes the ring in place and
 * feeds the HTTP stitcher (src/engine/http/native); JS takes finished rows as column batches
 * (take()). Raw (the kernel tests' and the dump tool's): a JS timer calls drain(), which copies
 * the ring's records into one Buffer. Either way the BPF side never needs to wake anyone, so it
 * submits every record with BPF_RB_NO_WAKEUP.
 *
 * Raw batch format, decoded by decode.ts: repeated [u32 record length][u32 zero][record][pad to 8].
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "socket_trace.h"
#include "socket_trace.skel.h"
#include "conns_host.h"
#include "conns_js.h"
#include "ctl.h"
#include "drain.h"
#include "js.h"
#include "ssl_attach.h"

#define TRACEFS_DIR "/sys/kernel/tracing"
#define DEBUGFS_TRACING_DIR "/sys/kernel/debug/tracing"
#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define CGROUP2_MAGIC 0x63677270
#define PRIVILEGE_HINT "needs root, or CAP_BPF + CAP_PERFMON (+ CAP_SYS_RESOURCE)"

static const char *const drop_names[WISP_DROP__COUNT] = {
	[WISP_DROP_RINGBUF_FULL_EVENTS] = "ringbuf_full_events",
	[WISP_DROP_TRUNCATED_BYTES] = "truncated_bytes",
	[WISP_DROP_READ_FAULT_BYTES] = "read_fault_bytes",
	[WISP_DROP_CONN_MAP_FULL] = "conn_map_full",
	[WISP_DROP_ARGS_MAP_FULL] = "args_map_full",
	[WISP_DROP_NON_HTTP_BYTES] = "non_http_bytes",
	[WISP_DROP_UNCOPYABLE_BYTES] = "uncopyable_bytes",
	[WISP_DROP_IOV_LIMIT] = "iov_limit",
	[WISP_DROP_MUTED_BYTES] = "muted_bytes",
	[WISP_DROP_SKIPPED_BYTES] = "skipped_bytes",
	[WISP_DROP_SIDE_BYTES] = "side_bytes",
	[WISP_DROP_SHED_EXCHANGES] = "shed_exchanges",
	[WISP_DROP_SHED_BYTES] = "shed_bytes",
	[WISP_DROP_SHED_KEPT_5XX] = "shed_kept_5xx",
	[WISP_DROP_TLS_CIPHERTEXT_BYTES] = "tls_ciphertext_bytes",
	[WISP_DROP_TLS_NO_SOCKET_BYTES] = "tls_no_socket_bytes",
};

struct tracer {
	struct socket_trace *skel;
	struct ring_buffer *rb;
	int raw;
	struct drain drain;
	/* The TLS uprobes and the thread that follows new processes for them. */
	struct ssl_attach ssl;
	/* The conn_ctl map, mmapped (stitched mode at open; setConnCtl on first use). */
	struct wisp_conn_ctl *ctl;
	unsigned char *batch;
	size_t batch_len;
	size_t batch_cap;
	size_t batch_limit;
	int batch_oom;
};

/* The tail of libbpf's log, so a failed load can show the verifier's complaint. */
static char libbpf_log[4096];
static size_t libbpf_log_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (libbpf_log_len + n >= sizeof(libbpf_log)) {
		size_t keep = sizeof(libbpf_log) / 2;

		if (libbpf_log_len > keep) {
			memmove(libbpf_log, libbpf_log + libbpf_log_len - keep, keep);
			libbpf_log_len = keep;
		}
		if ((size_t)n >= sizeof(libbpf_log) - libbpf_log_len)
			n = sizeof(libbpf_log) - libbpf_log_len - 1;
	}
	memcpy(libbpf_log + libbpf_log_len, line, n);
	libbpf_log_len += n;
	libbpf_log[libbpf_log_len] = 0;
	return 0;
}

#define CTL_MAP_BYTES (WISP_CTL_SLOTS * sizeof(struct wisp_conn_ctl))

static void tracer_destroy(struct tracer *t)
{
	drain_stop(&t->drain);
	ssl_attach_stop(&t->ssl);
	if (t->ctl)
		munmap(t->ctl, CTL_MAP_BYTES);
	t->ctl = NULL;
	ring_buffer__free(t->rb);
	t->rb = NULL;
	socket_trace__destroy(t->skel);
	t->skel = NULL;
	free(t->batch);
	t->batch = NULL;
	{
		struct proc_info *procs = NULL;

		struct wisp_rows *rows[2];

		wisp_batch_free(drain_take(&t->drain, &procs, rows));
		proc_info_free(procs);
		wisp_rows_free(rows[0]);
		wisp_rows_free(rows[1]);
	}
	wisp_stitcher_free(t->drain.st);
	t->drain.st = NULL;
	wisp_conns_free(t->drain.conns);
	t->drain.conns = NULL;
}

static napi_value throw_step(napi_env env, const char *step, int err, const char *hint)
{
	char msg[6144];
	char code[32];

	if (err < 0)
		err = -err;
	snprintf(code, sizeof(code), "WISP_CAPTURE_E%d", err);
	snprintf(msg, sizeof(msg), "wisp capture: %s failed: %s%s%s%s%s", step, strerror(err),
		 hint ? " — " : "", hint ? hint : "", libbpf_log_len ? "\nlibbpf: " : "",
		 libbpf_log_len ? libbpf_log : "");
	napi_throw_error(env, code, msg);
	return NULL;
}

/* libbpf finds tracepoint ids in tracefs, which is not mounted at boot on every host. */
static int ensure_tracefs(napi_env env)
{
	if (access(DEBUGFS_TRACING_DIR "/events/syscalls", F_OK) == 0 ||
	    access(TRACEFS_DIR "/events/syscalls", F_OK) == 0)
		return 0;
	if (errno == EACCES) {
		throw_step(env, "reading tracefs at " TRACEFS_DIR, EACCES, PRIVILEGE_HINT);
		return -1;
	}
	if (mount("tracefs", TRACEFS_DIR, "tracefs", 0, NULL) == 0 &&
	    access(TRACEFS_DIR "/events/syscalls", F_OK) == 0)
		return 0;
	{
		int err = errno;
		const char *hint = err == EPERM || err == EACCES
			? PRIVILEGE_HINT "; or mount it first: mount -t tracefs tracefs " TRACEFS_DIR
			: "mount it: mount -t tracefs tracefs " TRACEFS_DIR
			  " (the kernel needs CONFIG_FTRACE_SYSCALLS for syscall tracepoints)";
		throw_step(env, "mounting tracefs at " TRACEFS_DIR, err ? err : ENOENT, hint);
	}
	return -1;
}

/* Reads an optional string option into buf; 1 when present, 0 when absent, -1 after a throw. */
static int get_str_opt(napi_env env, napi_value obj, const char *name, char *buf, size_t cap)
{
	napi_value v;
	bool has = false;
	size_t len = 0;

	if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has)
		return 0;
	if (napi_get_named_property(env, obj, name, &v) != napi_ok ||
	    napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok || len + 1 >= cap) {
		char msg[128];

		snprintf(msg, sizeof(msg), "wisp capture: option %s must be a string shorter than %zu bytes",
			 name, cap - 1);
		napi_throw_type_error(env, NULL, msg);
		return -1;
	}
	return 1;
}

/* Opens the cgroup v2 directory `path` for the cgroup_scope map; -1 after a throw. */
static int open_cgroup(napi_env env, const char *path)
{
	struct statfs sfs;
	char step[4200];
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(step, sizeof(step), "opening the cgroup %s", path);
		throw_step(env, step, errno, "give the path of a cgroup v2 directory, e.g. /sys/fs/cgroup/NAME");
		return -1;
	}
	if (fstatfs(fd, &sfs) != 0 || sfs.f_type != CGROUP2_MAGIC) {
		snprintf(step, sizeof(step), "checking that %s is a cgroup v2 directory", path);
		throw_step(env, step, EINVAL, "it is not on a cgroup2 filesystem (see `mount -t cgroup2`)");
		close(fd);
		return -1;
	}
	return fd;
}

static uint32_t round_up_pow2(uint32_t v)
{
	uint32_t p = 4096;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

static void tracer_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	tracer_destroy(data);
	free(data);
}

static struct tracer *get_tracer(napi_env env, napi_callback_info info, napi_value *argv,
				 size_t *argc)
{
	size_t n = *argc;
	void *data = NULL;

	if (napi_get_cb_info(env, info, &n, argv, NULL, NULL) != napi_ok || n < 1 ||
	    napi_get_value_external(env, argv[0], &data) != napi_ok) {
		napi_throw_type_error(env, NULL, "wisp capture: expected a tracer handle");
		return NULL;
	}
	*argc = n;
	return data;
}

static int batch_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	size_t need = 8 + ((size + 7) & ~(size_t)7);

	if (t->batch_len + need > t->batch_cap) {
		size_t cap = t->batch_cap ? t->batch_cap : 1 << 20;
		unsigned char *nb;

		while (cap < t->batch_len + need)
			cap <<= 1;
		nb = realloc(t->batch, cap);
		if (!nb) {
			t->batch_oom = 1;
			return -ENOMEM;
		}
		t->batch = nb;
		t->batch_cap = cap;
	}
	*(uint32_t *)(t->batch + t->batch_len) = (uint32_t)size;
	*(uint32_t *)(t->batch + t->batch_len + 4) = 0;
	memcpy(t->batch + t->batch_len + 8, data, size);
	memset(t->batch + t->batch_len + 8 + size, 0, need - 8 - size);
	t->batch_len += need;
	/* Stop once the batch is full; libbpf has already consumed this record. */
	return t->batch_len >= t->batch_limit ? -E2BIG : 0;
}

/* Reads the optional boolean option `name` (default 0); -1 after a throw. */
static int get_bool_opt(napi_env env, napi_value obj, const char *name, int *out)
{
	napi_value v;
	bool has = false, b;

	if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has)
		return 0;
	if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_get_value_bool(env, v, &b) != napi_ok) {
		char msg[128];

		snprintf(msg, sizeof(msg), "wisp capture: option %s must be a boolean", name);
		napi_throw_type_error(env, NULL, msg);
		return -1;
	}
	*out = b;
	return 0;
}

/* Maps the conn_ctl map into this process once; an errno-style negative value on failure. */
static int map_ctl(struct tracer *t)
{
	void *m;

	if (t->ctl)
		return 0;
	m = mmap(NULL, CTL_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(t->skel->maps.conn_ctl), 0);
	if (m == MAP_FAILED)
		return -errno;
	t->ctl = m;
	return 0;
}

/* The uprobes of bpf/ssl.bpf.h: on what runs now, then on what starts (ssl_attach.c). */
static int start_ssl(struct tracer *t)
{
	struct ssl_attach *a = &t->ssl;

	a->entry[0] = t->skel->progs.wisp_ssl_write;
	a->entry[1] = t->skel->progs.wisp_ssl_read;
	a->entry[2] = t->skel->progs.wisp_ssl_write_ex;
	a->entry[3] = t->skel->progs.wisp_ssl_read_ex;
	a->entry[4] = t->skel->progs.wisp_ssl_free;
	a->ret = t->skel->progs.wisp_ssl_ret;
	a->exec_map_fd = bpf_map__fd(t->skel->maps.exec_events);
	return ssl_attach_start(a);
}

/* Starts stitched mode once the programs are attached: the ring's consumer and the drain thread; -1 after a throw. */
static int start_stitched(napi_env env, struct tracer *t, uint32_t drain_ms)
{
	int err = map_ctl(t);

	if (err) {
		throw_step(env, "mapping the conn_ctl map", err, NULL);
		return -1;
	}
	t->drain.ctl = t->ctl;
	t->drain.poll_us = drain_ms * 1000;
	t->drain.max_ready_rows = 1u << 20;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), drain_record, &t->drain, NULL);
	if (!t->rb) {
		throw_step(env, "opening the ring buffer", errno, NULL);
		return -1;
	}
	t->drain.rb = t->rb;
	t->drain.conns_map_fd = bpf_map__fd(t->skel->maps.conns);
	wisp_stitcher_on_process(t->drain.st, drain_proc, &t->drain);
	err = drain_start(&t->drain);
	if (err) {
		throw_step(env, "starting the drain thread", err, NULL);
		return -1;
	}
	return 0;
}

/*
 * open({ selfTgid, maxBytesPerSyscall, tailBytesPerSyscall?, ringBufferBytes, lazyDetectAttempts,
 *        batchBytes, cgroupPath?, traceSides?, shedFromPercent?, shedAllPercent?, raw?,
 *        drainIntervalMs?, tlsCaptureBytes?, connStatsPeriodMs?, http? })
 * traceSides: 1 client, 2 server, 3 both (default); shedding from 50 % of the ring to all at 95 %;
 * conn_stats reported every connStatsPeriodMs (default 5000, Pixie's period).
 */
static napi_value js_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], handle, http_obj;
	uint32_t self_tgid = 0, max_bytes = 20 * 1024, tail_bytes = 4 * 1024, ring_bytes = 32u << 20;
	uint32_t attempts = 32, sides = WISP_ROLE_CLIENT | WISP_ROLE_SERVER, shed_from = 50, shed_all = 95;
	uint32_t batch_bytes = 4u << 20, drain_ms = 10, tls_bytes = 32 * 1024, period_ms = 5000;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct tracer *t;
	struct js_options http;
	char cgroup_path[4096];
	int err, ncpu, has_cgroup, cgroup_fd = -1, raw = 0;
	bool has_http = false;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
		napi_throw_type_error(env, NULL, "wisp capture: open() needs an options object");
		return NULL;
	}
	if (js_u32_opt(env, argv[0], "selfTgid", &self_tgid) ||
	    js_u32_opt(env, argv[0], "maxBytesPerSyscall", &max_bytes) ||
	    js_u32_opt(env, argv[0], "tailBytesPerSyscall", &tail_bytes) ||
	    js_u32_opt(env, argv[0], "ringBufferBytes", &ring_bytes) ||
	    js_u32_opt(env, argv[0], "lazyDetectAttempts", &attempts) ||
	    js_u32_opt(env, argv[0], "batchBytes", &batch_bytes) ||
	    js_u32_opt(env, argv[0], "traceSides", &sides) ||
	    js_u32_opt(env, argv[0], "shedFromPercent", &shed_from) ||
	    js_u32_opt(env, argv[0], "shedAllPercent", &shed_all) ||
	    js_u32_opt(env, argv[0], "drainIntervalMs", &drain_ms) ||
	    js_u32_opt(env, argv[0], "tlsCaptureBytes", &tls_bytes) ||
	    js_u32_opt(env, argv[0], "connStatsPeriodMs", &period_ms) || get_bool_opt(env, argv[0], "raw", &raw))
		return NULL;
	if (period_ms < 100 || period_ms > 3600 * 1000) {
		napi_throw_range_error(env, NULL, "wisp capture: option connStatsPeriodMs must be in [100, 3600000]");
		return NULL;
	}
	if (shed_from < 1 || shed_from >= shed_all || shed_all > 100) {
		napi_throw_range_error(env, NULL, "wisp capture: options shedFromPercent < shedAllPercent must be in [1, 100]");
		return NULL;
	}
	if (sides < 1 || sides > 3) {
		napi_throw_range_error(env, NULL, "wisp capture: option traceSides must be 1 (client), 2 (server) or 3 (both)");
		return NULL;
	}
	if (drain_ms == 0 || drain_ms > 1000) {
		napi_throw_range_error(env, NULL, "wisp capture: option drainIntervalMs must be in [1, 1000]");
		return NULL;
	}
	has_cgroup = get_str_opt(env, argv[0], "cgroupPath", cgroup_path, sizeof(cgroup_path));
	if (has_cgroup < 0)
		return NULL;
	if (napi_has_named_property(env, argv[0], "http", &has_http) != napi_ok ||
	    (has_http && napi_get_named_property(env, argv[0], "http", &http_obj) != napi_ok))
		return NULL;

	libbpf_log_len = 0;
	libbpf_log[0] = 0;
	libbpf_set_print(libbpf_print);

	if (access(BTF_PATH, R_OK) != 0)
		return throw_step(env, "reading kernel BTF at " BTF_PATH, errno,
				  errno == EACCES ? PRIVILEGE_HINT
						  : "the kernel must be built with CONFIG_DEBUG_INFO_BTF=y");
	if (ensure_tracefs(env))
		return NULL;
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; newer ones ignore it. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0 && errno != EPERM)
		return throw_step(env, "raising RLIMIT_MEMLOCK", errno, NULL);

	if (has_cgroup) {
		cgroup_fd = open_cgroup(env, cgroup_path);
		if (cgroup_fd < 0)
			return NULL;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		if (cgroup_fd >= 0)
			close(cgroup_fd);
		return throw_step(env, "allocating the tracer", ENOMEM, NULL);
	}
	t->batch_limit = batch_bytes ? batch_bytes : 1;
	t->raw = raw;
	if (!raw) {
		/* The stitcher copies what it keeps of the options, so they are freed at once. */
		memset(&http, 0, sizeof(http));
		wisp_http_options_default(&http.o);
		if (has_http && js_http_options(env, http_obj, &http)) {
			free(t);
			if (cgroup_fd >= 0)
				close(cgroup_fd);
			return NULL;
		}
		t->drain.st = wisp_stitcher_new(&http.o, drain_ctl, &t->drain);
		js_options_free(&http);
		{
			struct wisp_conns_options co;
			struct wisp_conns_host host;

			wisp_conns_options_default(&co);
			co.period_ns = (uint64_t)period_ms * 1000000;
			co.sides = (uint8_t)sides;
			co.tls_max_bytes = tls_bytes;
			conns_host_init(&host, drain_ctl, &t->drain);
			t->drain.conns = wisp_conns_new(&co, &host);
			t->drain.report_ns = (int64_t)co.period_ns;
		}
		if (!t->drain.st || !t->drain.conns) {
			wisp_stitcher_free(t->drain.st);
			wisp_conns_free(t->drain.conns);
			free(t);
			if (cgroup_fd >= 0)
				close(cgroup_fd);
			return throw_step(env, "allocating the HTTP and connections stages", ENOMEM, NULL);
		}
	}

	t->skel = socket_trace__open();
	if (!t->skel) {
		err = errno;
		free(t);
		if (cgroup_fd >= 0)
			close(cgroup_fd);
		return throw_step(env, "opening the BPF object", err, NULL);
	}
	t->skel->rodata->self_tgid = self_tgid;
	t->skel->rodata->filter_cgroup = cgroup_fd >= 0;
	t->skel->rodata->max_bytes_per_syscall = max_bytes;
	t->skel->rodata->tail_bytes_per_syscall = tail_bytes;
	t->skel->rodata->trace_sides = sides;
	t->skel->rodata->shed_from_pct = shed_from;
	t->skel->rodata->shed_all_pct = shed_all;
	t->skel->rodata->lazy_detect_attempts = attempts;
	t->skel->rodata->tls_capture_bytes = tls_bytes;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 ||
	    bpf_map__set_max_entries(t->skel->maps.scratch, ncpu) ||
	    bpf_map__set_max_entries(t->skel->maps.events, round_up_pow2(ring_bytes))) {
		tracer_destroy(t);
		free(t);
		if (cgroup_fd >= 0)
			close(cgroup_fd);
		return throw_step(env, "sizing the BPF maps", ncpu < 0 ? ncpu : EINVAL, NULL);
	}

	err = socket_trace__load(t->skel);
	if (!err && cgroup_fd >= 0) {
		uint32_t slot = 0;

		/* The map keeps its own reference to the cgroup; our fd is not needed after. */
		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.cgroup_scope), &slot, &cgroup_fd, BPF_ANY)) {
			err = -errno;
			close(cgroup_fd);
			tracer_destroy(t);
			free(t);
			return throw_step(env, "scoping capture to the cgroup", err, NULL);
		}
	}
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	if (err) {
		tracer_destroy(t);
		free(t);
		return throw_step(env, "loading the BPF programs", err,
				  err == -EPERM || err == -EACCES ? PRIVILEGE_HINT : NULL);
	}
	err = socket_trace__attach(t->skel);
	if (err) {
		tracer_destroy(t);
		free(t);
		return throw_step(env, "attaching the syscall tracepoints", err,
				  err == -EPERM || err == -EACCES
					  ? PRIVILEGE_HINT
					  : "is tracefs mounted at " TRACEFS_DIR
					    " and are syscall tracepoints enabled (CONFIG_FTRACE_SYSCALLS)?");
	}
	err = start_ssl(t);
	if (err) {
		tracer_destroy(t);
		free(t);
		return throw_step(env, "starting the TLS attach thread", err, NULL);
	}
	if (raw) {
		t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), batch_record, t, NULL);
		if (!t->rb) {
			err = errno;
			tracer_destroy(t);
			free(t);
			return throw_step(env, "opening the ring buffer", err, NULL);
		}
	} else if (start_stitched(env, t, drain_ms)) {
		tracer_destroy(t);
		free(t);
		return NULL;
	}
	if (napi_create_external(env, t, tracer_finalize, NULL, &handle) != napi_ok) {
		tracer_destroy(t);
		free(t);
		napi_throw_error(env, NULL, "wisp capture: creating the tracer handle failed");
		return NULL;
	}
	return handle;
}

/* drain(handle) -> Buffer | null: everything in the ring, up to about batchBytes. */
static napi_value js_drain(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	struct tracer *t = get_tracer(env, info, argv, &argc);
	int err;

	if (!t)
		return NULL;
	if (!t->rb) {
		napi_throw_error(env, NULL, "wisp capture: drain() after close()");
		return NULL;
	}
	if (!t->raw) {
		napi_throw_error(env, NULL, "wisp capture: drain() is for raw mode; a stitched tracer hands rows to take()");
		return NULL;
	}
	t->batch_len = 0;
	t->batch_oom = 0;
	err = ring_buffer__consume(t->rb);
	if (t->batch_oom)
		return throw_step(env, "growing the drain batch", ENOMEM, NULL);
	if (err < 0 && err != -E2BIG)
		return throw_step(env, "consuming the ring buffer", err, NULL);
	if (t->batch_len == 0) {
		napi_get_null(env, &out);
		return out;
	}
	if (napi_create_buffer_copy(env, t->batch_len, t->batch, NULL, &out) != napi_ok) {
		napi_throw_error(env, NULL, "wisp capture: allocating the batch Buffer failed");
		return NULL;
	}
	return out;
}

static void set_number(napi_env env, napi_value obj, const char *name, double v)
{
	napi_value n;

	napi_create_double(env, v, &n);
	napi_set_named_property(env, obj, name, n);
}

/* Must match struct tls_proc of bpf/ssl.bpf.h (a map value, not a ring record). */
struct tls_proc {
	uint64_t connections;
	uint64_t decoded;
	char comm[16];
};

/* [{ pid, comm, connections }]: processes with TLS connections and none decoded. */
static napi_value js_undecoded(napi_env env, struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.tls_procs);
	uint32_t key, next, n = 0;
	uint32_t *prev = NULL;
	struct tls_proc u;
	napi_value arr, o, s;

	napi_create_array(env, &arr);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &u) != 0 || u.decoded > 0)
			continue;
		napi_create_object(env, &o);
		set_number(env, o, "pid", key);
		set_number(env, o, "connections", (double)u.connections);
		napi_create_string_utf8(env, u.comm, strnlen(u.comm, sizeof(u.comm)), &s);
		napi_set_named_property(env, o, "comm", s);
		napi_set_element(env, arr, n++, o);
	}
	return arr;
}

/* stats(handle) -> { drops: { reason: count } }, summed over CPUs */
static napi_value js_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out, drops;
	struct tracer *t = get_tracer(env, info, argv, &argc);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (!t)
		return NULL;
	if (!t->skel) {
		napi_throw_error(env, NULL, "wisp capture: stats() after close()");
		return NULL;
	}
	vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(uint64_t));
	if (!vals)
		return throw_step(env, "reading the drop counters", ENOMEM, NULL);
	napi_create_object(env, &out);
	napi_create_object(env, &drops);
	for (uint32_t i = 0; i < WISP_DROP__COUNT; i++) {
		double sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.drops), &i, vals) != 0) {
			free(vals);
			return throw_step(env, "reading the drop counters", errno, NULL);
		}
		for (int c = 0; c < ncpu; c++)
			sum += (double)vals[c];
		set_number(env, drops, drop_names[i], sum);
	}
	free(vals);
	napi_set_named_property(env, out, "drops", drops);
	{
		struct ssl_attach_stats a;
		napi_value tls, last;

		ssl_attach_snapshot(&t->ssl, &a);
		napi_create_object(env, &tls);
		set_number(env, tls, "files", (double)a.files);
		set_number(env, tls, "failures", (double)a.failures);
		set_number(env, tls, "processes", (double)a.processes);
		napi_create_string_utf8(env, a.last_error, NAPI_AUTO_LENGTH, &last);
		napi_set_named_property(env, tls, "lastError", last);
		napi_set_named_property(env, tls, "undecoded", js_undecoded(env, t));
		napi_set_named_property(env, out, "tls", tls);
	}
	if (!t->raw) {
		struct wisp_http_counters c;
		struct wisp_conns_counters cc;
		struct drain_stats d;
		napi_value ds;

		drain_snapshot(&t->drain, &c, &cc, &d);
		napi_set_named_property(env, out, "http", js_counters(env, &c));
		napi_set_named_property(env, out, "conns", js_conns_counters(env, &cc));
		napi_create_object(env, &ds);
		set_number(env, ds, "loops", (double)d.loops);
		set_number(env, ds, "stalls", (double)d.stalls);
		set_number(env, ds, "batches", (double)d.batches);
		napi_set_named_property(env, out, "drain", ds);
	}
	return out;
}

/*
 * take(handle) -> { batches, procs, conns }: the column batches finished since the last take,
 * the processes first seen since, as /proc described them then, and the connections stage's
 * row batches (conn_stats and tls_handshakes, each saying its table) (stitched mode).
 */
static napi_value js_take(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out, batches, procs;
	struct tracer *t = get_tracer(env, info, argv, &argc);
	struct proc_info *seen = NULL;
	struct wisp_rows *rows[2];
	struct wisp_batch *b;
	napi_value conns, more;
	uint32_t n = 0;

	if (!t)
		return NULL;
	if (t->raw) {
		napi_throw_error(env, NULL, "wisp capture: take() is for stitched mode; a raw tracer hands records to drain()");
		return NULL;
	}
	b = drain_take(&t->drain, &seen, rows);
	procs = js_procs(env, seen);
	proc_info_free(seen);
	napi_create_array(env, &conns);
	for (int i = 0; i < 2; i++) {
		uint32_t len = 0;

		more = js_rows(env, rows[i]);
		napi_get_array_length(env, more, &len);
		for (uint32_t j = 0; j < len; j++) {
			napi_value e;

			napi_get_element(env, more, j, &e);
			napi_set_element(env, conns, n++, e);
		}
	}
	batches = js_batches(env, b);
	if (!batches)
		return NULL;
	napi_create_object(env, &out);
	napi_set_named_property(env, out, "batches", batches);
	napi_set_named_property(env, out, "procs", procs);
	napi_set_named_property(env, out, "conns", conns);
	return out;
}

/*
 * stop(handle): stops the drain thread after it has consumed and published everything in the
 * ring (take() then returns the last rows); the programs stay attached until close().
 */
static napi_value js_stop(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct tracer *t = get_tracer(env, info, argv, &argc);

	if (t && !t->raw && t->skel)
		drain_stop(&t->drain);
	return NULL;
}

/* Appends the id of link l to links; the running count is *n. */
static void push_link_id(napi_env env, napi_value links, uint32_t *n, struct bpf_link *l)
{
	struct bpf_link_info li = {};
	uint32_t len = sizeof(li);
	napi_value v;

	if (l && bpf_obj_get_info_by_fd(bpf_link__fd(l), &li, &len) == 0) {
		napi_create_uint32(env, li.id, &v);
		napi_set_element(env, links, (*n)++, v);
	}
}

/* ids(handle) -> { programs: number[], links: number[] }: what this tracer holds in the kernel, TLS uprobes included. */
static napi_value js_ids(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out, progs, links, v;
	struct tracer *t = get_tracer(env, info, argv, &argc);
	struct bpf_object_skeleton *s;
	uint32_t np = 0, nl = 0;

	if (!t)
		return NULL;
	napi_create_object(env, &out);
	napi_create_array(env, &progs);
	napi_create_array(env, &links);
	if (t->skel) {
		s = t->skel->skeleton;
		for (int i = 0; i < s->prog_cnt; i++) {
			struct bpf_program *p = *s->progs[i].prog;
			struct bpf_prog_info pi = {};
			uint32_t len = sizeof(pi);

			if (bpf_program__fd(p) >= 0 &&
			    bpf_obj_get_info_by_fd(bpf_program__fd(p), &pi, &len) == 0) {
				napi_create_uint32(env, pi.id, &v);
				napi_set_element(env, progs, np++, v);
			}
			push_link_id(env, links, &nl, *s->progs[i].link);
		}
		pthread_mutex_lock(&t->ssl.lock);
		for (uint32_t f = 0; f < t->ssl.nfiles; f++)
			for (uint32_t j = 0; j < t->ssl.files[f].nlinks; j++)
				push_link_id(env, links, &nl, t->ssl.files[f].links[j]);
		pthread_mutex_unlock(&t->ssl.lock);
	}
	napi_set_named_property(env, out, "programs", progs);
	napi_set_named_property(env, out, "links", links);
	return out;
}

/* A uint64 argument given as a non-negative safe integer or a bigint; -1 after a throw. */
static int get_u64_arg(napi_env env, napi_value v, const char *name, uint64_t *out)
{
	napi_valuetype type;
	bool lossless = true;
	double d;
	char msg[160];

	if (napi_typeof(env, v, &type) == napi_ok) {
		if (type == napi_bigint && napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok &&
		    lossless)
			return 0;
		if (type == napi_number && napi_get_value_double(env, v, &d) == napi_ok && d >= 0 &&
		    d <= 9007199254740991.0 && d == (double)(uint64_t)d) {
			*out = (uint64_t)d;
			return 0;
		}
	}
	snprintf(msg, sizeof(msg), "wisp capture: %s must be a non-negative integer (number or bigint)", name);
	napi_throw_type_error(env, NULL, msg);
	return -1;
}

/*
 * setConnCtl(handle, connId, skipEgress, skipIngress, muted): writes connection connId's slot
 * of conn_ctl (see struct wisp_conn_ctl for what it does and the write order used here).
 */
static napi_value js_set_conn_ctl(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5];
	struct tracer *t = get_tracer(env, info, argv, &argc);
	uint64_t conn_id, skip[2];
	bool muted;
	int err;

	if (!t)
		return NULL;
	if (!t->skel) {
		napi_throw_error(env, NULL, "wisp capture: setConnCtl() after close()");
		return NULL;
	}
	if (argc < 5) {
		napi_throw_type_error(env, NULL, "wisp capture: setConnCtl() needs 5 arguments");
		return NULL;
	}
	if (get_u64_arg(env, argv[1], "connId", &conn_id) ||
	    get_u64_arg(env, argv[2], "skipEgress", &skip[WISP_DIR_EGRESS]) ||
	    get_u64_arg(env, argv[3], "skipIngress", &skip[WISP_DIR_INGRESS]))
		return NULL;
	if (napi_get_value_bool(env, argv[4], &muted) != napi_ok) {
		napi_throw_type_error(env, NULL, "wisp capture: muted must be a boolean");
		return NULL;
	}
	if (conn_id == 0) {
		napi_throw_range_error(env, NULL, "wisp capture: connId 0 names no connection");
		return NULL;
	}
	err = map_ctl(t);
	if (err)
		return throw_step(env, "mapping the conn_ctl map", err, NULL);
	ctl_write(t->ctl, conn_id, skip, muted);
	return NULL;
}

/*
 * attachedPrograms(handle) -> number of programs attached right now: the tracepoints, and the
 * TLS uprobe programs once they are on at least one file.
 */
static napi_value js_attached(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	struct tracer *t = get_tracer(env, info, argv, &argc);
	uint32_t n = 0;

	if (!t)
		return NULL;
	if (t->skel) {
		struct bpf_object_skeleton *s = t->skel->skeleton;

		for (int i = 0; i < s->prog_cnt; i++)
			n += *s->progs[i].link != NULL;
		struct ssl_attach_stats a;

		ssl_attach_snapshot(&t->ssl, &a);
		/* The entry programs and the one return program. */
		if (a.files > 0)
			n += SSL_ATTACH_FUNCS + 1;
	}
	napi_create_uint32(env, n, &out);
	return out;
}

/* close(handle): detaches and frees everything; safe to call twice. */
static napi_value js_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct tracer *t = get_tracer(env, info, argv, &argc);

	if (t)
		tracer_destroy(t);
	return NULL;
}

/* clockOffsetNs() -> bigint: CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns (see drain_clock_offset). */
static napi_value js_clock_offset(napi_env env, napi_callback_info info)
{
	napi_value out;

	(void)info;
	napi_create_bigint_int64(env, drain_clock_offset(), &out);
	return out;
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor props[] = {
		{ "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
		{ "drain", NULL, js_drain, NULL, NULL, NULL, napi_default, NULL },
		{ "take", NULL, js_take, NULL, NULL, NULL, napi_default, NULL },
		{ "stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL },
		{ "stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
		{ "ids", NULL, js_ids, NULL, NULL, NULL, napi_default, NULL },
		{ "attachedPrograms", NULL, js_attached, NULL, NULL, NULL, napi_default, NULL },
		{ "setConnCtl", NULL, js_set_conn_ctl, NULL, NULL, NULL, napi_default, NULL },
		{ "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
		{ "clockOffsetNs", NULL, js_clock_offset, NULL, NULL, NULL, napi_default, NULL },
	};

	if (js_keys_init(env)) {
		napi_throw_error(env, NULL, "wisp capture: creating the batch property names failed");
		return NULL;
	}
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	js_define_stitcher(env, exports);
	return exports;
}
