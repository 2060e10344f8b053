/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP inside TLS: uprobes on OpenSSL's SSL_write/SSL_read (and their _ex forms) see the
 * plaintext a process hands to or gets from the library. The addon attaches them to every
 * libssl.so* and every executable exporting those symbols (ssl_attach.c); these programs tie
 * the plaintext to its TCP connection and send it down the same path as plaintext syscall data.
 *
 * The socket comes from the syscalls the TLS call makes on the same thread: the entry probe
 * marks the thread, the data syscalls inside the call note their fd (ssl_note_fd), the return
 * probe reads it. An SSL_read answered from the library's buffer makes no syscall, so the last
 * fd seen for each SSL* is kept (ssl_fds; SSL_free forgets it, as the address will be reused). Node does no I/O inside its TLS calls (its BIOs are
 * memory buffers that libuv fills and drains): there, the SSL* learns its socket on its first
 * call from the socket the thread read last, which is the one whose bytes Node is feeding to
 * OpenSSL (a client's first SSL_write runs in the cycle that read the server's last handshake
 * message), provided that socket carries TLS records.
 *
 * The plaintext goes out as data records of the connection's own conn_id, flagged `tls`, at
 * positions in the plaintext stream (tls_streams): user space sees only the
 * plaintext of a TLS connection, since its ciphertext is counted (tls_ciphertext_bytes), never
 * copied. Scope (cgroup, self), sides, conn_ctl and overload shedding apply as to syscalls.
 */
#ifndef WISP_SSL_BPF_H
#define WISP_SSL_BPF_H

/* Defined in socket_trace.bpf.c, after this file's include. */
static __always_inline int traced(__u64 pid_tgid);
static __always_inline int side_traced(__u8 role);
static __always_inline void emit_open(const struct wisp_conn_key *k, struct wisp_conn_state *st,
				      struct sock *sk, __u64 ts);
static __always_inline void apply_ctl(struct wisp_conn_state *st, struct syscall_args *a);

#define WISP_SSL_NO_FD 0xffffffffu

enum ssl_call_kind {
	SSL_CALL_PLAIN = 0, /* SSL_write/SSL_read: the return value is the byte count */
	SSL_CALL_EX,        /* SSL_write_ex/SSL_read_ex: 1 on success, the count in *out */
};

/* A TLS call in flight on a thread, from its entry probe to its return probe. */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 out;     /* _ex: the size_t * the count goes to */
	/*
	 * When the last data syscall inside the call began: an SSL_write's bytes reach the peer
	 * then, while the call's return can come much later (the woken reader may run first on
	 * this CPU), so its record carries this time, as a syscall's would.
	 */
	__u64 io_ts;
	__u32 fd;      /* the socket a data syscall inside the call used, WISP_SSL_NO_FD if none */
	/*
	 * The socket this thread last read from outside a TLS call, and its value when the call
	 * began: where a library with memory BIOs (Node's TLSWrap) got the records it decrypts.
	 */
	__u32 last_in_fd;
	__u32 guess_fd;
	__u8 active;
	__u8 direction;
	__u8 kind;
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* The fd each SSL* last did I/O on: for reads served from the library's buffer. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ssl_key);
	__type(value, __u32);
} ssl_fds SEC(".maps");

/* The plaintext stream of a TLS connection, by conn_id. */
struct tls_stream {
	__u64 pos[2]; /* plaintext bytes so far, by enum wisp_direction */
	__u8 proto;   /* enum wisp_proto, of the plaintext */
	__u8 attempts;
	__u8 pad[6];
};

/* LRU: an entry outliving its connection costs a slot, and conn_ids are never reused. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tls_stream);
} tls_streams SEC(".maps");

/*
 * Per process (tgid): its connections seen carrying TLS records and those a TLS call was tied
 * to. One with TLS connections and none decoded uses a library Wisp cannot probe (GnuTLS, Go's
 * crypto/tls, rustls, BoringSSL without symbols): the addon lists it as "encrypted, not
 * decoded". Counted when seen rather than at close, since processes often exit without
 * closing (wget does).
 */
struct tls_proc {
	__u64 connections;
	__u64 decoded;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct tls_proc);
} tls_procs SEC(".maps");

static __always_inline struct tls_proc *tls_proc_of(__u32 tgid)
{
	struct tls_proc fresh = {}, *p = bpf_map_lookup_elem(&tls_procs, &tgid);

	if (p)
		return p;
	bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
	bpf_map_update_elem(&tls_procs, &tgid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tls_procs, &tgid);
}

/*
 * A connection carries TLS records: past its handshake (tls.bpf.h) its ciphertext is counted,
 * never copied, and its process counts one more TLS connection.
 */
static __always_inline void tls_conn_seen(const struct wisp_conn_key *k, struct wisp_conn_state *st)
{
	struct tls_proc *p;

	if (st->tls)
		return;
	st->tls = 1;
	p = tls_proc_of(k->tgid);
	if (p)
		__sync_fetch_and_add(&p->connections, 1);
}

/*
 * Whether the first bytes of a syscall start like a TLS record: handshake (22) or application
 * data (23), version 3.x. Three bytes tell: OpenSSL reads a record's 5-byte header on its own
 * before its body.
 */
static __always_inline int tls_record_head(const __u8 *b, __u32 len)
{
	return len >= 3 && (b[0] == 22 || b[0] == 23) && b[1] == 3 && b[2] <= 4;
}

/*
 * Called for every data syscall on a TCP socket of a traced task, at its enter: notes the fd
 * for the TLS call in flight, or as the thread's last read. Threads that never made a TLS
 * call have no storage and pay one lookup.
 */
static __always_inline void ssl_note_fd(__u32 fd, __u8 dir)
{
	struct ssl_call *c = bpf_task_storage_get(&ssl_calls, bpf_get_current_task_btf(), 0, 0);

	if (!c)
		return;
	if (c->active) {
		c->fd = fd;
		c->io_ts = bpf_ktime_get_ns();
	} else if (dir == WISP_DIR_INGRESS)
		c->last_in_fd = fd;
}

static __always_inline int ssl_enter(void *ssl, void *buf, void *out, __u8 dir, __u8 kind)
{
	struct ssl_call *c;

	if (!traced(bpf_get_current_pid_tgid()))
		return 0;
	c = bpf_task_storage_get(&ssl_calls, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c) {
		count_drop(WISP_DROP_ARGS_MAP_FULL, 1);
		return 0;
	}
	/* Fresh storage is zeroed: fd 0 is no socket this thread read. */
	if (c->ssl == 0)
		c->last_in_fd = WISP_SSL_NO_FD;
	c->ssl = (__u64)ssl;
	c->buf = (__u64)buf;
	c->out = (__u64)out;
	c->fd = WISP_SSL_NO_FD;
	c->io_ts = 0;
	c->guess_fd = c->last_in_fd;
	c->direction = dir;
	c->kind = kind;
	c->active = 1;
	return 0;
}

/* The byte count of the call that returned ret; 0 when it moved nothing. */
static __always_inline __u32 ssl_count(const struct ssl_call *c, long ret)
{
	/* The functions return int: the register's upper half is not part of the value. */
	int r = (int)ret;
	__u64 n = 0;

	if (c->kind == SSL_CALL_PLAIN)
		return r > 0 ? (__u32)r : 0;
	if (r != 1 || bpf_probe_read_user(&n, sizeof(n), (const void *)c->out))
		return 0;
	return n > 0x7fffffff ? 0 : (__u32)n;
}

/* The socket the call moved its bytes through (its fd, remembered for the SSL*). */
static __always_inline int ssl_fd(const struct ssl_call *c, __u32 tgid, __u32 *fd)
{
	struct ssl_key key = { .ssl = c->ssl, .tgid = tgid };
	struct wisp_conn_key ck = { .tgid = tgid };
	struct wisp_conn_state *st;
	__u32 *known;

	if (c->fd != WISP_SSL_NO_FD) {
		*fd = c->fd;
		bpf_map_update_elem(&ssl_fds, &key, fd, BPF_ANY);
		return 1;
	}
	known = bpf_map_lookup_elem(&ssl_fds, &key);
	if (known) {
		*fd = *known;
		return 1;
	}
	if (c->guess_fd == WISP_SSL_NO_FD)
		return 0;
	ck.fd = c->guess_fd;
	st = bpf_map_lookup_elem(&conns, &ck);
	if (!st || !st->tls)
		return 0;
	*fd = c->guess_fd;
	bpf_map_update_elem(&ssl_fds, &key, fd, BPF_ANY);
	return 1;
}

/*
 * Whether the plaintext carries HTTP, decided on its first bytes like detect_http does for
 * syscalls (HTTP/2 after ALPN "h2" does not: its bytes are only counted). Also settles the
 * role of a connection found mid-stream.
 */
static __always_inline int tls_is_http(struct tls_stream *ts, struct wisp_conn_state *st,
				       const struct ssl_call *c, __u32 size)
{
	__u8 b[WISP_SNIFF_BYTES] = {};
	int verdict;

	if (ts->proto != WISP_CONN_PROTO_UNKNOWN)
		return ts->proto == WISP_CONN_PROTO_HTTP;
	verdict = http_sniff(b, read_head(b, sizeof(b), c->buf, size));
	if (verdict == SNIFF_REQUEST || verdict == SNIFF_RESPONSE) {
		ts->proto = WISP_CONN_PROTO_HTTP;
		if (st->role == WISP_ROLE_UNKNOWN)
			st->role = (verdict == SNIFF_REQUEST) == (c->direction == WISP_DIR_EGRESS)
					   ? WISP_ROLE_CLIENT : WISP_ROLE_SERVER;
		return 1;
	}
	/* A connection followed from its start knows at once; one found mid-stream keeps trying. */
	if ((st->opened && verdict == SNIFF_OTHER) || ts->attempts == 0 || --ts->attempts == 0)
		ts->proto = WISP_CONN_PROTO_OTHER;
	return 0;
}

/* The plaintext stream of a connection, made on the first TLS call tied to it. */
static __always_inline struct tls_stream *tls_stream_of(__u32 tgid, __u64 conn_id)
{
	struct tls_stream fresh = { .attempts = lazy_detect_attempts > 255 ? 255 : lazy_detect_attempts };
	struct tls_stream *ts = bpf_map_lookup_elem(&tls_streams, &conn_id);
	struct tls_proc *p;

	if (ts)
		return ts;
	p = tls_proc_of(tgid);
	if (p)
		__sync_fetch_and_add(&p->decoded, 1);
	bpf_map_update_elem(&tls_streams, &conn_id, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tls_streams, &conn_id);
}

static __always_inline int ssl_exit(long ret)
{
	struct ssl_call *c = bpf_task_storage_get(&ssl_calls, bpf_get_current_task_btf(), 0, 0);
	struct wisp_conn_key k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct syscall_args a = {};
	struct wisp_conn_state *st, view;
	struct scratch_slot *slot;
	struct wisp_data_event *ev;
	struct tls_stream *ts;
	__u32 size, skip = 0;
	__u64 pos, now;

	if (!c || !c->active)
		return 0;
	c->active = 0;
	size = ssl_count(c, ret);
	/* Even a call that moved nothing (a handshake step) tells the SSL* its socket. */
	if (!ssl_fd(c, k.tgid, &k.fd)) {
		count_drop(WISP_DROP_TLS_NO_SOCKET_BYTES, size);
		return 0;
	}
	st = bpf_map_lookup_elem(&conns, &k);
	if (!st) {
		count_drop(WISP_DROP_TLS_NO_SOCKET_BYTES, size);
		return 0;
	}
	/*
	 * Its ciphertext is only counted from now on, whatever its first bytes were, except while
	 * its handshake is still being copied for the connections stage (tls.bpf.h): a library
	 * with memory BIOs (Node) returns from its calls before its records reach the socket, so
	 * only that stage, once it has parsed the handshake, knows when it is over (it mutes the
	 * connection then).
	 */
	tls_conn_seen(&k, st);
	if (st->proto != WISP_CONN_PROTO_TLS)
		st->proto = WISP_CONN_PROTO_OTHER;
	ts = tls_stream_of(k.tgid, st->conn_id);
	if (!ts || size == 0)
		return 0;
	a.buf = c->buf;
	a.fd = k.fd;
	a.op = OP_DATA_BUF;
	a.direction = c->direction & 1;
	pos = ts->pos[a.direction];
	ts->pos[a.direction] = pos + size;
	if (!tls_is_http(ts, st, c, size)) {
		count_drop(WISP_DROP_NON_HTTP_BYTES, size);
		return 0;
	}
	if (!side_traced(st->role)) {
		count_drop(WISP_DROP_SIDE_BYTES, size);
		return 0;
	}
	now = c->direction == WISP_DIR_EGRESS && c->io_ts ? c->io_ts : bpf_ktime_get_ns();
	if (!st->opened)
		emit_open(&k, st, (struct sock *)st->sock, now);
	apply_ctl(st, &a);
	/*
	 * A TLS connection's mute is the handshake stage's, done with the ciphertext once it has
	 * parsed the handshake: the plaintext goes on.
	 */
	if (a.op == OP_COUNT)
		a.op = OP_DATA_BUF;
	/* Shedding reads the other direction's position from the state: show it the plaintext's. */
	view = *st;
	view.pos[0] = ts->pos[0];
	view.pos[1] = ts->pos[1];
	view.pos[a.direction] = pos;
	if (shed_syscall(&k, &view, &a, pos, size, now)) {
		st->shed = view.shed;
		return 0;
	}
	st->shed = view.shed;
	slot = scratch_slot();
	if (!slot)
		return 0;
	ev = (struct wisp_data_event *)slot->rec;
	fill_header(&ev->hdr, WISP_EV_DATA, &k, st->conn_id, now);
	ev->direction = a.direction;
	ev->protocol = WISP_PROTOCOL_HTTP;
	ev->tls = 1;
	ev->size = size;
	ev->pos = pos;
	if (a.skip_to > pos) {
		skip = a.skip_to - pos < size ? a.skip_to - pos : size;
		count_drop(WISP_DROP_SKIPPED_BYTES, skip);
	}
	copy_syscall_data(slot, &a, size, skip);
	/* The slot's header is shared with the syscall path, which leaves this byte alone. */
	ev->tls = 0;
	return 0;
}

/* int SSL_write(SSL *ssl, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(wisp_ssl_write, void *ssl, void *buf)
{
	return ssl_enter(ssl, buf, NULL, WISP_DIR_EGRESS, SSL_CALL_PLAIN);
}

/* int SSL_read(SSL *ssl, void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(wisp_ssl_read, void *ssl, void *buf)
{
	return ssl_enter(ssl, buf, NULL, WISP_DIR_INGRESS, SSL_CALL_PLAIN);
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(wisp_ssl_write_ex, void *ssl, void *buf, __u64 num, void *written)
{
	return ssl_enter(ssl, buf, written, WISP_DIR_EGRESS, SSL_CALL_EX);
}

/* int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes) */
SEC("uprobe")
int BPF_KPROBE(wisp_ssl_read_ex, void *ssl, void *buf, __u64 num, void *readbytes)
{
	return ssl_enter(ssl, buf, readbytes, WISP_DIR_INGRESS, SSL_CALL_EX);
}

/* void SSL_free(SSL *ssl): the address will name another connection. */
SEC("uprobe")
int BPF_KPROBE(wisp_ssl_free, void *ssl)
{
	struct ssl_key key = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };

	bpf_map_delete_elem(&ssl_fds, &key);
	return 0;
}

/* One return probe serves all four: the entry probe said which call it was. */
SEC("uretprobe")
int BPF_KRETPROBE(wisp_ssl_ret, long ret)
{
	return ssl_exit(ret);
}

/* Pids of traced processes that just called exec, for the addon to look at (ssl_attach.c). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} exec_events SEC(".maps");

/* Execs are rare next to data syscalls: each wakes the addon's attach thread. */
SEC("tracepoint/sched/sched_process_exec")
int wisp_exec(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;

	if (traced(id))
		bpf_ringbuf_output(&exec_events, &pid, sizeof(pid), 0);
	return 0;
}

#endif
