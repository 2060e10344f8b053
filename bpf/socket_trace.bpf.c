// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * Wisp socket tracer: syscall tracepoints only (no kprobes or fentry on the target kernels).
 * Each traced syscall's enter half saves its arguments per thread; the exit half acts on the
 * real return value: it opens, advances or closes the (tgid, fd) connection state of every TCP
 * connection (open and close records with byte totals; user space reads the positions of open
 * ones from the `conns` map), copies the bytes of HTTP connections and the handshake of TLS
 * ones into the ring buffer, and only counts the rest. The programs filter, identify, copy and
 * count; parsing happens in user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "socket_trace.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "http.bpf.h"
#include "tls.bpf.h"
#include "copy.bpf.h"
#include "shed.bpf.h"
#include "ssl.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define WISP_EINPROGRESS 115
#define WISP_MSG_PEEK 2

/*
 * Whether the current task is traced at all. Every enter half and close asks first, so an
 * out-of-scope task costs this check and nothing else: no socket walk, no saved arguments,
 * no drop counted. Its exit halves find no saved arguments and return at once.
 */
static __always_inline int traced(__u64 pid_tgid)
{
	if ((__u32)(pid_tgid >> 32) == self_tgid)
		return 0;
	/* 1: under the cgroup; 0: not; < 0: slot empty or not a cgroup, so trace nothing. */
	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_scope, 0) != 1)
		return 0;
	return 1;
}

/* Whether a connection of this role is traced; one whose role is still unknown may be. */
static __always_inline int side_traced(__u8 role)
{
	return role == WISP_ROLE_UNKNOWN || (trace_sides & role);
}


static __always_inline void emit_open(const struct wisp_conn_key *k, struct wisp_conn_state *st,
				      struct sock *sk, __u64 ts)
{
	struct wisp_open_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	st->opened = 1;
	if (!ev) {
		count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_header(&ev->hdr, WISP_EV_OPEN, k, st->conn_id, ts);
	ev->role = st->role;
	read_sock_addrs(sk, ev);
	read_process(ev);
	bpf_ringbuf_submit(ev, WISP_RB_FLAGS);
}

/* Ends a connection: a close event if user space was told it opened. */
static __always_inline void emit_close(const struct wisp_conn_key *k, const struct wisp_conn_state *st,
				       __u64 ts)
{
	struct wisp_close_event *ev;

	if (!st->opened)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_header(&ev->hdr, WISP_EV_CLOSE, k, st->conn_id, ts);
	ev->egress_bytes = st->pos[WISP_DIR_EGRESS];
	ev->ingress_bytes = st->pos[WISP_DIR_INGRESS];
	bpf_ringbuf_submit(ev, WISP_RB_FLAGS);
}

/*
 * Starts tracking (k -> sk). Whatever the fd held before is over (its close may have happened
 * through dup2, close_range or exec), so the old state is closed first.
 */
static __always_inline struct wisp_conn_state *conn_start(const struct wisp_conn_key *k, struct sock *sk,
						     struct file *file, __u8 role, __u64 ts)
{
	struct wisp_conn_state *old = bpf_map_lookup_elem(&conns, k);
	struct wisp_conn_state st = {};

	if (old)
		emit_close(k, old, ts);
	st.sock = (__u64)sk;
	st.file = (__u64)file;
	st.conn_id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	st.role = role;
	st.attempts = lazy_detect_attempts > 255 ? 255 : lazy_detect_attempts;
	if (bpf_map_update_elem(&conns, k, &st, BPF_ANY)) {
		count_drop(WISP_DROP_CONN_MAP_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&conns, k);
}

static __always_inline void save_args(const struct syscall_args *a)
{
	struct syscall_args *slot = bpf_task_storage_get(&args, bpf_get_current_task_btf(), 0,
							 BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!slot) {
		count_drop(WISP_DROP_ARGS_MAP_FULL, 1);
		return;
	}
	*slot = *a;
	if (a->op >= OP_DATA_BUF)
		ssl_note_fd(a->fd, a->direction);
}

/* Takes what the enter half saved for this thread's syscall, if anything. */
static __always_inline int take_args(struct syscall_args *a)
{
	struct syscall_args *slot = bpf_task_storage_get(&args, bpf_get_current_task_btf(), 0, 0);

	if (!slot || slot->op == 0)
		return 0;
	*a = *slot;
	slot->op = 0;
	return 1;
}

/* ---- accept / connect / close ---- */

static __always_inline int enter_accept(__u32 listen_fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args a = { .op = OP_ACCEPT };

	if (!traced(id) || !tcp_sock_of_fd(listen_fd))
		return 0;
	save_args(&a);
	return 0;
}

static __always_inline int exit_accept_or_connect(long ret)
{
	struct wisp_conn_key k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct syscall_args a;
	struct wisp_conn_state *st;
	struct file *file;
	struct sock *sk;
	__u8 role;
	__u64 ts;

	if (!take_args(&a))
		return 0;
	if (a.op == OP_ACCEPT) {
		if (ret < 0)
			return 0;
		k.fd = ret;
		role = WISP_ROLE_SERVER;
	} else {
		/* A non-blocking connect still becomes this client connection. */
		if (ret != 0 && ret != -WISP_EINPROGRESS)
			return 0;
		k.fd = a.fd;
		role = WISP_ROLE_CLIENT;
	}
	file = fd_file(k.fd);
	sk = tcp_sock_of_file(file);
	if (!sk)
		return 0;
	ts = bpf_ktime_get_ns();
	st = conn_start(&k, sk, file, role, ts);
	if (st && side_traced(role))
		emit_open(&k, st, sk, ts);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int wisp_e_accept(struct trace_event_raw_sys_enter *ctx)
{
	return enter_accept(ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int wisp_x_accept(struct trace_event_raw_sys_exit *ctx)
{
	return exit_accept_or_connect(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int wisp_e_accept4(struct trace_event_raw_sys_enter *ctx)
{
	return enter_accept(ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int wisp_x_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return exit_accept_or_connect(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int wisp_e_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args a = { .op = OP_CONNECT, .fd = ctx->args[0] };

	if (!traced(id) || !tcp_sock_of_fd(a.fd))
		return 0;
	save_args(&a);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int wisp_x_connect(struct trace_event_raw_sys_exit *ctx)
{
	return exit_accept_or_connect(ctx->ret);
}

/* close(2) releases the fd whatever it returns, so the connection ends at enter. */
SEC("tracepoint/syscalls/sys_enter_close")
int wisp_e_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct wisp_conn_key k = { .tgid = id >> 32, .fd = ctx->args[0] };
	struct wisp_conn_state *st;

	if (!traced(id))
		return 0;
	st = bpf_map_lookup_elem(&conns, &k);
	if (!st) {
		if (bpf_map_lookup_elem(&not_tcp, &k))
			bpf_map_delete_elem(&not_tcp, &k);
		return 0;
	}
	if (st->shed)
		bpf_map_delete_elem(&shed_stash, &st->conn_id);
	emit_close(&k, st, bpf_ktime_get_ns());
	bpf_map_delete_elem(&conns, &k);
	return 0;
}

/* ---- data syscalls ---- */

static __always_inline void count_only(struct syscall_args *a, __u8 reason)
{
	a->op = OP_COUNT;
	a->count_as = reason;
}

/*
 * What user space asked for this connection (struct wisp_conn_ctl), if its slot names it. A
 * muted TLS connection (its handshake is parsed) becomes a plain counted one, so its later
 * syscalls take the cheapest path and no longer read the slot; its bytes are ciphertext.
 */
static __always_inline void apply_ctl(struct wisp_conn_state *st, struct syscall_args *a)
{
	__u32 slot = st->conn_id % WISP_CTL_SLOTS;
	struct wisp_conn_ctl *c = bpf_map_lookup_elem(&conn_ctl, &slot);
	__u64 skip_to;
	__u8 muted;

	if (!c || c->conn_id != st->conn_id)
		return;
	barrier();
	skip_to = c->skip_to[a->direction & 1];
	muted = c->muted;
	barrier();
	if (c->conn_id != st->conn_id)
		return;
	if (muted) {
		count_only(a, st->tls ? WISP_DROP_TLS_CIPHERTEXT_BYTES : WISP_DROP_MUTED_BYTES);
		if (st->proto == WISP_CONN_PROTO_TLS)
			st->proto = WISP_CONN_PROTO_OTHER;
	} else
		a->skip_to = skip_to;
}

/*
 * For a task already known to be traced. The fd's file is read from the fd table every time;
 * when it is the file the connection (or the negative cache) was found through, the socket is
 * known without walking from the file to it.
 */
static __always_inline int enter_data_traced(__u32 fd, __u64 buf, __u32 iovcnt, __u8 op, __u8 dir)
{
	struct syscall_args a = { .buf = buf, .fd = fd, .iovcnt = iovcnt, .op = op, .direction = dir };
	struct wisp_conn_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct file *file = fd_file(fd);
	struct wisp_conn_state *st;
	__u64 *not_sock;
	struct sock *sk;

	if (!file)
		return 0;
	a.file = (__u64)file;
	st = bpf_map_lookup_elem(&conns, &k);
	if (st && st->file == (__u64)file) {
		a.sock = st->sock;
		if (!side_traced(st->role))
			count_only(&a, WISP_DROP_SIDE_BYTES);
		else if (st->proto == WISP_CONN_PROTO_OTHER)
			count_only(&a, st->tls ? WISP_DROP_TLS_CIPHERTEXT_BYTES : WISP_DROP_NON_HTTP_BYTES);
		else
			apply_ctl(st, &a);
		save_args(&a);
		return 0;
	}
	not_sock = bpf_map_lookup_elem(&not_tcp, &k);
	if (not_sock && *not_sock == (__u64)file)
		return 0;
	sk = tcp_sock_of_file(file);
	if (!sk) {
		bpf_map_update_elem(&not_tcp, &k, &a.file, BPF_ANY);
		return 0;
	}
	a.sock = (__u64)sk;
	save_args(&a);
	return 0;
}

static __always_inline int enter_data(__u32 fd, __u64 buf, __u32 iovcnt, __u8 op, __u8 dir)
{
	if (!traced(bpf_get_current_pid_tgid()))
		return 0;
	return enter_data_traced(fd, buf, iovcnt, op, dir);
}

/*
 * The connection the bytes belong to. A connection already open when we started is picked up
 * here with role unknown; its positions start at the bytes first seen (see exit_data for when
 * it is announced).
 */
static __always_inline struct wisp_conn_state *conn_for_data(const struct wisp_conn_key *k,
							const struct syscall_args *a, __u64 ts)
{
	struct wisp_conn_state *st = bpf_map_lookup_elem(&conns, k);

	if (st && st->sock == a->sock) {
		/* The same socket through another file (dup2 of a dup): cache the file seen now. */
		if (st->file != a->file)
			st->file = a->file;
		return st;
	}
	return conn_start(k, (struct sock *)a->sock, (struct file *)a->file, WISP_ROLE_UNKNOWN, ts);
}

/*
 * Decides what st carries from the first bytes of this syscall: HTTP (copied), a TLS handshake
 * (its first bytes copied) or anything else (counted). A connection seen from accept/connect
 * decides on its first message. One picked up mid-stream may start inside a message, so it
 * keeps trying at syscall boundaries for lazy_detect_attempts syscalls; whoever writes the
 * request (or the ClientHello) is then the client, and the connection is announced now if it
 * was not yet (one side traced).
 */
static __always_inline void detect_protocol(struct wisp_conn_state *st, const struct syscall_args *a,
					    __u32 size, const struct wisp_conn_key *k, __u64 ts)
{
	__u8 b[WISP_SNIFF_BYTES] = {};
	__u64 first;
	__u32 seg = first_segment(a, size, &first), len = read_head(b, sizeof(b), first, seg);
	int verdict, hello, writes_request, role_was_unknown = st->role == WISP_ROLE_UNKNOWN;

	if (a->op == OP_DATA_IOV && seg == 0)
		return;
	/* OpenSSL reads a record's 5-byte header alone: enough to tell a TLS handshake. */
	if (len == 0)
		len = read_head(b, 5, first, seg);
	verdict = a->op == OP_DATA_NONE ? SNIFF_OTHER : http_sniff(b, len);
	hello = verdict == SNIFF_OTHER || verdict == SNIFF_SHORT ? tls_sniff(b, len) : 0;
	/* A lone record header does not say who sent the hello: it decides only a known role. */
	if (hello == WISP_TLS_HEADER_ONLY && st->role == WISP_ROLE_UNKNOWN)
		hello = 0;
	if (verdict == SNIFF_REQUEST || verdict == SNIFF_RESPONSE || hello) {
		st->proto = hello ? WISP_CONN_PROTO_TLS : WISP_CONN_PROTO_HTTP;
		if (hello)
			tls_conn_seen(k, st);
		if (st->role == WISP_ROLE_UNKNOWN) {
			writes_request = (verdict == SNIFF_REQUEST || hello == WISP_TLS_CLIENT_HELLO) ==
					 (a->direction == WISP_DIR_EGRESS);
			st->role = writes_request ? WISP_ROLE_CLIENT : WISP_ROLE_SERVER;
		}
		/* Announced with role 0 already (exit_data): again, now with its role. */
		if ((!st->opened || role_was_unknown) && side_traced(st->role))
			emit_open(k, st, (struct sock *)st->sock, ts);
		return;
	}
	/* TLS records past the hello (a connection found mid-stream): ciphertext, counted. */
	if (a->op != OP_DATA_NONE && tls_record_head(b, len)) {
		tls_conn_seen(k, st);
		st->proto = WISP_CONN_PROTO_OTHER;
		return;
	}
	if (st->role != WISP_ROLE_UNKNOWN && verdict == SNIFF_OTHER) {
		st->proto = WISP_CONN_PROTO_OTHER;
		return;
	}
	if (st->attempts > 0)
		st->attempts--;
	if (st->attempts == 0)
		st->proto = WISP_CONN_PROTO_OTHER;
}

static __always_inline int exit_data(long ret)
{
	struct syscall_args a;
	struct wisp_conn_key k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct wisp_conn_state *st;
	struct scratch_slot *slot;
	struct wisp_data_event *ev;
	__u64 ts, pos;
	__u32 size, skip = 0;

	if (!take_args(&a))
		return 0;
	if (ret <= 0)
		return 0;
	size = ret;
	k.fd = a.fd;
	if (a.op == OP_COUNT) {
		st = bpf_map_lookup_elem(&conns, &k);
		if (st && st->sock == a.sock) {
			st->pos[a.direction & 1] += size;
			count_drop(a.count_as, size);
		}
		return 0;
	}
	ts = bpf_ktime_get_ns();
	st = conn_for_data(&k, &a, ts);
	if (!st)
		return 0;
	pos = st->pos[a.direction & 1];
	st->pos[a.direction & 1] = pos + size;
	if (st->proto == WISP_CONN_PROTO_UNKNOWN && side_traced(st->role))
		detect_protocol(st, &a, size, &k, ts);
	/*
	 * A connection found mid-stream whose first syscall did not show its role: with both
	 * sides traced it is announced now, role 0, so that every TCP connection counts in
	 * conn_stats whatever its protocol (user space tells the role from the listening sockets);
	 * a later message start announces it again with its role. With one side traced it waits
	 * for that message, as no record may name the other side.
	 */
	if (!st->opened && trace_sides == (WISP_ROLE_CLIENT | WISP_ROLE_SERVER))
		emit_open(&k, st, (struct sock *)st->sock, ts);
	if (!side_traced(st->role)) {
		count_drop(WISP_DROP_SIDE_BYTES, size);
		return 0;
	}
	if (st->proto == WISP_CONN_PROTO_TLS) {
		if (!tls_copy(st, a.direction & 1, pos, size))
			return 0;
	} else if (st->proto != WISP_CONN_PROTO_HTTP) {
		count_drop(st->tls ? WISP_DROP_TLS_CIPHERTEXT_BYTES : WISP_DROP_NON_HTTP_BYTES, size);
		return 0;
	} else if (shed_syscall(&k, st, &a, pos, size, ts)) {
		return 0;
	}
	slot = scratch_slot();
	if (!slot)
		return 0;
	ev = (struct wisp_data_event *)slot->rec;
	fill_header(&ev->hdr, WISP_EV_DATA, &k, st->conn_id, ts);
	ev->direction = a.direction;
	ev->protocol = st->proto == WISP_CONN_PROTO_TLS ? WISP_PROTOCOL_TLS : WISP_PROTOCOL_HTTP;
	ev->size = size;
	ev->pos = pos;
	if (a.op == OP_DATA_NONE) {
		/* sendfile/splice move bytes inside the kernel: there is nothing to copy, but the
		 * record keeps user space's stream positions right. */
		count_drop(WISP_DROP_UNCOPYABLE_BYTES, size);
		ev->chunk_offset = 0;
		ev->data_len = 0;
		if (bpf_ringbuf_output(&events, ev, sizeof(*ev), WISP_RB_FLAGS))
			count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
		return 0;
	}
	if (a.skip_to > pos) {
		skip = a.skip_to - pos < size ? a.skip_to - pos : size;
		count_drop(WISP_DROP_SKIPPED_BYTES, skip);
	}
	copy_syscall_data(slot, &a, size, skip);
	return 0;
}

#define DATA_BUF_PROGS(name, dir)                                                   \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                \
	int wisp_e_##name(struct trace_event_raw_sys_enter *ctx)                   \
	{                                                                          \
		return enter_data(ctx->args[0], ctx->args[1], 0, OP_DATA_BUF, dir); \
	}                                                                          \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                 \
	int wisp_x_##name(struct trace_event_raw_sys_exit *ctx)                    \
	{                                                                          \
		return exit_data(ctx->ret);                                        \
	}

#define DATA_IOV_PROGS(name, dir)                                                             \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                          \
	int wisp_e_##name(struct trace_event_raw_sys_enter *ctx)                             \
	{                                                                                    \
		return enter_data(ctx->args[0], ctx->args[1], ctx->args[2], OP_DATA_IOV, dir); \
	}                                                                                    \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                           \
	int wisp_x_##name(struct trace_event_raw_sys_exit *ctx)                              \
	{                                                                                    \
		return exit_data(ctx->ret);                                                  \
	}

DATA_BUF_PROGS(read, WISP_DIR_INGRESS)
DATA_BUF_PROGS(write, WISP_DIR_EGRESS)
DATA_BUF_PROGS(sendto, WISP_DIR_EGRESS)
DATA_IOV_PROGS(readv, WISP_DIR_INGRESS)
DATA_IOV_PROGS(writev, WISP_DIR_EGRESS)

/* MSG_PEEK leaves the bytes in the socket to be read again: counting them would double them. */
SEC("tracepoint/syscalls/sys_enter_recvfrom")
int wisp_e_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[3] & WISP_MSG_PEEK)
		return 0;
	return enter_data(ctx->args[0], ctx->args[1], 0, OP_DATA_BUF, WISP_DIR_INGRESS);
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int wisp_x_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	return exit_data(ctx->ret);
}

static __always_inline int enter_msg(__u32 fd, __u64 msg, __u8 dir)
{
	struct user_msghdr m;

	if (!traced(bpf_get_current_pid_tgid()) ||
	    bpf_probe_read_user(&m, sizeof(m), (const void *)msg))
		return 0;
	return enter_data_traced(fd, (__u64)m.msg_iov, m.msg_iovlen, OP_DATA_IOV, dir);
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int wisp_e_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[2] & WISP_MSG_PEEK)
		return 0;
	return enter_msg(ctx->args[0], ctx->args[1], WISP_DIR_INGRESS);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int wisp_x_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return exit_data(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int wisp_e_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return enter_msg(ctx->args[0], ctx->args[1], WISP_DIR_EGRESS);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int wisp_x_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return exit_data(ctx->ret);
}

/* sendfile(out_fd, in_fd, offset, count): only byte counts, see exit_data. */
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int wisp_e_sendfile(struct trace_event_raw_sys_enter *ctx)
{
	return enter_data(ctx->args[0], 0, 0, OP_DATA_NONE, WISP_DIR_EGRESS);
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int wisp_x_sendfile(struct trace_event_raw_sys_exit *ctx)
{
	return exit_data(ctx->ret);
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags): a socket on either end, counts only. */
SEC("tracepoint/syscalls/sys_enter_splice")
int wisp_e_splice(struct trace_event_raw_sys_enter *ctx)
{
	__u32 fd_out = ctx->args[2];

	if (!traced(bpf_get_current_pid_tgid()))
		return 0;
	if (tcp_sock_of_fd(fd_out))
		return enter_data_traced(fd_out, 0, 0, OP_DATA_NONE, WISP_DIR_EGRESS);
	return enter_data_traced(ctx->args[0], 0, 0, OP_DATA_NONE, WISP_DIR_INGRESS);
}

SEC("tracepoint/syscalls/sys_exit_splice")
int wisp_x_splice(struct trace_event_raw_sys_exit *ctx)
{
	return exit_data(ctx->ret);
}

/*
 * Unused by the programs: these put the record types into the object's BTF, where
 * src/engine/capture/decode.test.ts reads their sizes and offsets.
 */
const struct wisp_open_event *btf_anchor_open __attribute__((unused));
const struct wisp_data_event *btf_anchor_data __attribute__((unused));
const struct wisp_close_event *btf_anchor_close __attribute__((unused));
const struct wisp_shed_event *btf_anchor_shed __attribute__((unused));
