/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration globals, maps and counters shared by the socket tracer's programs. */
#ifndef WISP_MAPS_BPF_H
#define WISP_MAPS_BPF_H

/* Set by the addon before load (skeleton rodata); the verifier then sees them as constants. */
const volatile __u32 self_tgid = 0;
/*
 * What a row needs of one syscall (TracerOptions.maxBytesPerSyscall / tailBytesPerSyscall):
 * its head, cap - tail = 16 KiB, holds a message's start line and headers (Node's default
 * maxHeaderSize is 16 KiB, nginx's large header buffers 8 KiB; most heads are < 1 KiB) and the
 * kept body prefix, in one record; its tail, 4 KiB, holds what sits at a syscall's end: a
 * chunked body's last chunk-size line and terminator, trailers, a pipelined small message.
 * The bytes between are counted (truncated_bytes), and user space skips whole bodies it does
 * not need through conn_ctl. A record's cost is the ring reservation more than its bytes, so
 * the cap bounds ring traffic, not CPU per syscall.
 */
const volatile __u32 max_bytes_per_syscall = 20 * 1024;
const volatile __u32 tail_bytes_per_syscall = 4 * 1024;
const volatile __u32 lazy_detect_attempts = 32;
/*
 * Bytes of each direction of a TLS connection copied at most (TracerOptions.tlsCaptureBytes):
 * the plaintext handshake is in the first few KiB (a certificate chain rarely passes 10 KiB);
 * user space mutes the connection once it has parsed the handshake, this bounds the copy when
 * it does not. A syscall that starts past it is only counted (tls_ciphertext_bytes).
 */
const volatile __u32 tls_capture_bytes = 32 * 1024;
/*
 * Which ends are traced (TracerOptions.sides), as a mask of enum wisp_role: 1 client, 2
 * server, 3 both. A connection of the other role makes no records at all; its bytes are only
 * counted (side_bytes), decided at accept/connect or when a connection found mid-stream shows
 * its role.
 */
const volatile __u8 trace_sides = WISP_ROLE_CLIENT | WISP_ROLE_SERVER;
/* Ring fill (% of its size unconsumed) where shedding starts, and where it sheds everything. */
const volatile __u8 shed_from_pct = 50;
const volatile __u8 shed_all_pct = 95;
/* Non-zero: trace only tasks in the cgroup held by cgroup_scope[0], or below it. */
const volatile __u8 filter_cgroup = 0;

/*
 * The cgroup v2 directory capture is scoped to (TracerOptions.cgroup), put in slot 0 by the
 * addon before attach. bpf_current_task_under_cgroup checks the whole ancestry, so processes
 * in nested cgroups count too, and it works from syscall tracepoints.
 */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_scope SEC(".maps");

/* What the enter half of a syscall leaves for its exit half. */
enum wisp_op {
	OP_ACCEPT = 1,
	OP_CONNECT,
	OP_DATA_BUF,  /* one user buffer */
	OP_DATA_IOV,  /* an iovec array */
	OP_DATA_NONE, /* sendfile/splice: bytes move inside the kernel, nothing to copy */
	OP_COUNT,     /* bytes to count, not copy: the connection is muted or not HTTP */
};

struct syscall_args {
	__u64 buf;     /* user buffer or iovec array */
	__u64 sock;    /* struct sock * seen at enter */
	__u64 file;    /* struct file * the fd held at enter */
	__u64 skip_to; /* conn_ctl: stream position before which nothing is copied */
	__u32 fd;
	__u32 iovcnt;
	__u8 op;
	__u8 direction;
	__u8 count_as; /* OP_COUNT: the enum wisp_drop counter the bytes go to */
	__u8 pad[5];
};

/*
 * Per thread (one syscall in flight each): task storage hangs off the task itself, cheaper
 * than hashing pid_tgid twice per syscall, and freed when the thread exits. op == 0: empty.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct syscall_args);
} args SEC(".maps");

/*
 * LRU so that entries of processes that exit without close(2) (the kernel closes their fds, no
 * syscall fires) age out instead of filling the map; a live entry is only evicted when more
 * than max_entries connections are traced at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct wisp_conn_key);
	__type(value, struct wisp_conn_state);
} conns SEC(".maps");

/*
 * The negative cache: (tgid, fd) -> struct file * of fds found not to be TCP sockets (files,
 * pipes, eventfds, unix and UDP sockets), so a process writing its log does not walk from the
 * file to the socket on every write. An entry counts only while the fd still holds that file;
 * close(2) removes it, so a later file at the same address on the same fd is looked at anew.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct wisp_conn_key);
	__type(value, __u64);
} not_tcp SEC(".maps");

/* Written by user space, see struct wisp_conn_ctl; mmapable, so a slot is a few stores. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WISP_CTL_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct wisp_conn_ctl);
} conn_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WISP_DROP__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Size set by the addon before load (TracerOptions.ringBufferBytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

/* Progress of the copy of one syscall's bytes, see copy.bpf.h. */
struct copy_state {
	__u64 iov;      /* user iovec array (OP_DATA_IOV) */
	__u64 seg_base; /* user address of the next byte of the current segment */
	__u32 seg_left; /* bytes left in the current segment */
	__u32 left;     /* bytes still to copy, within the per-syscall cap */
	__u32 done;     /* bytes of the syscall walked so far: the offset of the next byte */
	__u32 fill;     /* bytes waiting in the record */
	__u32 records;  /* records emitted for this syscall */
	__u32 skip;     /* bytes of the iovecs to pass over before copying (the tail pass) */
};

/*
 * Where a data record is assembled before bpf_ringbuf_output, with the copy's progress beside
 * it. One slot per CPU, indexed by CPU id (max_entries is set to the CPU count before load):
 * not a per-CPU array, whose values are capped at 32 KiB. The data area is twice the chunk so
 * the verifier can bound "fill + piece" without knowing they sum to at most one chunk. The
 * progress lives here rather than on the stack so that the bpf_loop callbacks read it as
 * plain bounded scalars; on the stack the verifier tracks each value precisely and never
 * finishes exploring the loop.
 */
struct scratch_slot {
	struct copy_state copy;
	__u8 rec[sizeof(struct wisp_data_event) + 2 * WISP_CHUNK_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_slot);
} scratch SEC(".maps");

/* Connection ids; bumped atomically, never reused while the object is loaded. */
__u64 next_conn_id = 0;

static __always_inline void count_drop(__u32 reason, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);

	if (v)
		*v += n;
}

/* The header every record starts with. */
static __always_inline void fill_header(struct wisp_event_header *h, __u8 kind,
					const struct wisp_conn_key *k, __u64 conn_id, __u64 ts)
{
	h->kind = kind;
	h->tgid = k->tgid;
	h->fd = k->fd;
	h->conn_id = conn_id;
	h->ts_ns = ts;
}

static __always_inline struct scratch_slot *scratch_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/*
 * The addon drains the ring on a timer (non-blocking ring_buffer__consume), so nobody sleeps
 * on the ring's epoll fd: a wake-up per record would be pure cost.
 */
#define WISP_RB_FLAGS BPF_RB_NO_WAKEUP

#endif
