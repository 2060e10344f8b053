/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wisp socket tracer: the records the BPF programs write into the ring buffer and the addon
 * hands to TypeScript (src/engine/capture/decode.ts decodes them; decode.test.ts checks every
 * size and offset below against this object's BTF, so keep both sides in step).
 *
 * Every field is fixed-width and every hole is an explicit padding field, so the layout is the
 * same for the BPF target, the host compiler and the TS decoder.
 */
#ifndef WISP_SOCKET_TRACE_H
#define WISP_SOCKET_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of syscall data one ring-buffer record carries; bigger messages go out as several. */
#define WISP_CHUNK_BYTES 16384

enum wisp_event_kind {
	WISP_EV_OPEN = 1,
	WISP_EV_DATA = 2,
	WISP_EV_CLOSE = 3,
	WISP_EV_SHED = 4,
};

enum wisp_role {
	WISP_ROLE_UNKNOWN = 0,
	WISP_ROLE_CLIENT = 1,
	WISP_ROLE_SERVER = 2,
};

enum wisp_direction {
	WISP_DIR_EGRESS = 0,
	WISP_DIR_INGRESS = 1,
};

/* What the bytes of a data record are (struct wisp_data_event.protocol). */
enum wisp_protocol {
	WISP_PROTOCOL_HTTP = 0,
	/* The first bytes of a TLS connection: its plaintext handshake (tls_capture_bytes at most). */
	WISP_PROTOCOL_TLS = 1,
};

/* Leads every record; `kind` says which struct follows. */
struct wisp_event_header {
	__u8 kind;
	__u8 pad0[3];
	__u32 tgid;
	__u32 fd;
	__u32 pad1;
	/* Assigned in the kernel per connection, never reused while the object is loaded. */
	__u64 conn_id;
	/* CLOCK_MONOTONIC ns at syscall exit. */
	__u64 ts_ns;
};

struct wisp_open_event {
	struct wisp_event_header hdr;
	__u8 role;
	/* AF_INET (2) or AF_INET6 (10), as the socket has it. */
	__u8 family;
	__u16 local_port;
	__u16 remote_port;
	__u16 pad0;
	/* IPv4 in the first 4 bytes; IPv6 in all 16 (v4-mapped ones are rendered as IPv4). */
	__u8 local_addr[16];
	__u8 remote_addr[16];
	/*
	 * The process as the kernel saw it at open, for when it is gone before user space reads
	 * /proc (short-lived clients): its main thread's start time (CLOCK_BOOTTIME ns, what
	 * /proc/<pid>/stat's starttime counts in clock ticks) and command name (/proc/<pid>/comm,
	 * NUL-padded).
	 */
	__u64 start_boottime_ns;
	char comm[16];
};

struct wisp_data_event {
	struct wisp_event_header hdr;
	__u8 direction;
	/* enum wisp_protocol: which user-space stage reads the bytes. */
	__u8 protocol;
	/* 1: the plaintext of a TLS connection, read by the uprobes of bpf/ssl.bpf.h. */
	__u8 tls;
	__u8 pad0;
	/* The syscall's return value: all the bytes it moved, captured or not. */
	__u32 size;
	/* Stream offset of the syscall's first byte in this direction. */
	__u64 pos;
	/* Offset of data[0] within the syscall's bytes. */
	__u32 chunk_offset;
	/* Bytes of data[] present in this record (0 for sendfile/splice: counted, not copied). */
	__u32 data_len;
	__u8 data[];
};

struct wisp_close_event {
	struct wisp_event_header hdr;
	__u64 egress_bytes;
	__u64 ingress_bytes;
};

/*
 * Under overload (bpf/shed.bpf.h) a connection's data stops being copied from a request start
 * on; this marks where, once per shed range. Until the connection's next data record, its
 * bytes are shed (counted in WISP_DROP_SHED_BYTES, not lost at random): user space counts the
 * exchanges in between as shed, not as gaps or parse errors.
 */
struct wisp_shed_event {
	struct wisp_event_header hdr;
	/* By enum wisp_direction: the stream position where shedding began. */
	__u64 pos[2];
};

/*
 * The `conns` map: (tgid, fd) -> what the kernel tracks of every TCP connection of a traced
 * task, HTTP or not. User space reads it on a period (conn_stats), so its layout is part of the
 * contract too.
 */
struct wisp_conn_key {
	__u32 tgid;
	__u32 fd;
};

/* struct wisp_conn_state.proto: what the connection's bytes were found to be. */
enum wisp_conn_proto {
	WISP_CONN_PROTO_UNKNOWN = 0, /* not decided yet */
	WISP_CONN_PROTO_HTTP,
	WISP_CONN_PROTO_OTHER,       /* bytes only counted */
	WISP_CONN_PROTO_TLS,         /* its handshake is being copied (then OTHER, with tls set) */
};

struct wisp_conn_state {
	__u64 sock;    /* tells a reused fd from the connection it held before */
	__u64 file;    /* the fd's file when the socket was found: an fd-table read revalidates it */
	__u64 conn_id;
	__u64 pos[2];  /* bytes moved so far, by enum wisp_direction */
	__u8 role;
	__u8 proto;    /* enum wisp_conn_proto */
	__u8 attempts; /* protocol detection tries left on a connection picked up mid-stream */
	__u8 opened;   /* an open event went out, so a close event must follow */
	__u8 shed;     /* its data is shed under overload, see shed.bpf.h */
	__u8 tls;      /* a TLS handshake started on it (stays set once its copy ends) */
	__u8 pad[2];
};

/* Slots of the conn_ctl map; a connection's slot is conn_id % WISP_CTL_SLOTS. */
#define WISP_CTL_SLOTS 65536

/*
 * Per-connection control from user space: one slot of the mmapable ARRAY map `conn_ctl`. The
 * kernel reads it for each data syscall of the connection named by conn_id (a slot whose
 * conn_id differs says nothing). Bytes of the syscall before skip_to[direction] are counted,
 * not copied (WISP_DROP_SKIPPED_BYTES): its records start past them, and a syscall wholly
 * before it yields one record with no data, so positions stay exact. muted: nothing more is
 * copied on the connection, its bytes are only counted (WISP_DROP_MUTED_BYTES); the enter half
 * checks it first, so a muted syscall costs a lookup and a count. Close totals stay exact.
 *
 * Writing a slot (mmap the map, or bpf_map_update_elem): set conn_id to 0, then skip_to and
 * muted, then conn_id last, with release ordering. The kernel reads conn_id before and after
 * the other fields and uses them only when both reads name the connection, so a slot being
 * handed to another connection is never half-read.
 */
struct wisp_conn_ctl {
	__u64 conn_id;
	/* By enum wisp_direction: stream position before which bytes are not copied. */
	__u64 skip_to[2];
	__u8 muted;
	__u8 pad[7];
};

/* Index into the per-CPU `drops` array; each counts what was lost, in the unit its name says. */
enum wisp_drop {
	WISP_DROP_RINGBUF_FULL_EVENTS = 0,
	WISP_DROP_TRUNCATED_BYTES,
	WISP_DROP_READ_FAULT_BYTES,
	WISP_DROP_CONN_MAP_FULL,
	WISP_DROP_ARGS_MAP_FULL,
	WISP_DROP_NON_HTTP_BYTES,
	WISP_DROP_UNCOPYABLE_BYTES,
	WISP_DROP_IOV_LIMIT,
	/* Not losses: bytes user space asked not to copy, through conn_ctl. */
	WISP_DROP_MUTED_BYTES,
	WISP_DROP_SKIPPED_BYTES,
	/* Bytes of connections of the side not traced (TracerOptions.sides). */
	WISP_DROP_SIDE_BYTES,
	/* Overload (struct wisp_shed_event): request starts and bytes of shed connections. */
	WISP_DROP_SHED_EXCHANGES,
	WISP_DROP_SHED_BYTES,
	/* Not a loss: exchanges sent through shedding because their answer was a 5xx. */
	WISP_DROP_SHED_KEPT_5XX,
	/*
	 * Not a loss: the ciphertext of TLS connections past the handshake copy (tls.bpf.h),
	 * counted, never copied; their plaintext comes from bpf/ssl.bpf.h.
	 */
	WISP_DROP_TLS_CIPHERTEXT_BYTES,
	/* Plaintext of a TLS call whose socket was not found (no syscall tied it to one). */
	WISP_DROP_TLS_NO_SOCKET_BYTES,
	WISP_DROP__COUNT,
};

#endif
