/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copying a syscall's bytes out of user memory into ring-buffer records of at most one chunk
 * each. The record header (connection, direction, syscall size, stream position) is written
 * into the scratch slot once; each record stamps its chunk's offset and length. A syscall
 * whose bytes could not be copied at all still yields one record with no data, so user space
 * always learns the true size and position.
 *
 * Three ways into the ring, cheapest first:
 * - direct, for single buffers: the record is reserved in the ring and bpf_probe_read_user
 *   writes the bytes straight into it, one copy. A reservation's size must be a constant, so a
 *   record is reserved in the smallest size class that holds its bytes (a data area of 128 B to
 *   a chunk, powers of two; data_len says how much of it is data).
 * - gathered, for iovec arrays of at most WISP_SMALL_IOVECS segments within one chunk (nginx's
 *   and Node's header + body writev): the segments are read into the scratch record by an
 *   unrolled loop and emitted as one record with bpf_ringbuf_output. One record costs less than
 *   one per segment: a ring reservation costs more than copying a few KiB twice.
 * - assembled, for other iovec arrays (Node's corked writes carry hundreds of small segments):
 *   walked with bpf_loop; small pieces are gathered into the scratch slot a chunk at a time,
 *   pieces of WISP_DIRECT_PIECE bytes or more (a big body segment) go in place like a single
 *   buffer's.
 *
 * A syscall bigger than the per-syscall cap is copied as its head (cap - tail) and its tail
 * (tail_bytes_per_syscall): the tail is where a chunked body's terminator and the start of a
 * pipelined message sit, so user space can still find message boundaries after the middle.
 */
#ifndef WISP_COPY_BPF_H
#define WISP_COPY_BPF_H

/* Node's writev can carry hundreds of iovecs; the kernel's own limit is UIO_MAXIOV (1024). */
#define WISP_MAX_IOVECS 1024
/* iovec arrays up to this many segments are gathered without bpf_loop. */
#define WISP_SMALL_IOVECS 4
/* In an assembled copy, a piece of at least this many bytes is written in place instead. */
#define WISP_DIRECT_PIECE 2048

/*
 * Where a syscall's first contiguous bytes are (the buffer, or the first iovec) and how many
 * there are; 0 when there are none to read (sendfile/splice, an empty or unreadable iovec).
 */
static __always_inline __u32 first_segment(const struct syscall_args *a, __u32 size, __u64 *addr)
{
	struct iovec iv;

	*addr = a->buf;
	if (a->op == OP_DATA_BUF)
		return size;
	if (a->op != OP_DATA_IOV || a->iovcnt == 0 ||
	    bpf_probe_read_user(&iv, sizeof(iv), (const void *)a->buf))
		return 0;
	*addr = (__u64)iv.iov_base;
	return iv.iov_len < size ? iv.iov_len : size;
}

/* Reads the first n bytes of a segment of seg bytes at addr into b: n, or 0 if it is shorter. */
static __always_inline __u32 read_head(__u8 *b, __u32 n, __u64 addr, __u32 seg)
{
	if (seg < n || bpf_probe_read_user(b, n, (const void *)addr))
		return 0;
	return n;
}

/*
 * Reserves a record for n <= WISP_CHUNK_BYTES bytes of data in the smallest size class that
 * holds them, and fills it. Each class is its own call with a constant size (the verifier needs one), and
 * each branch reads the bytes itself, so the compiler cannot merge the reservations into one
 * call with a computed size.
 */
#define WISP_DIRECT_CLASS(C)                                                              \
	if (n <= (C)) {                                                                   \
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + (C), 0);                  \
		if (!ev)                                                                  \
			goto full;                                                        \
		*ev = *h;                                                                 \
		ev->chunk_offset = off;                                                   \
		ev->data_len = n;                                                         \
		/* Bound the register the call gets, not a copy the compiler compared. */ \
		len = n;                                                                  \
		barrier_var(len);                                                         \
		if (len > (C))                                                            \
			len = (C);                                                        \
		if (bpf_probe_read_user(ev->data, len, (const void *)src))                \
			goto fault;                                                       \
		bpf_ringbuf_submit(ev, WISP_RB_FLAGS);                                    \
		return 1;                                                                 \
	}

/*
 * Emits bytes [off, off + n) of the syscall, found at user address src, as one record written
 * in place; h is the record header the syscall's records share. Returns the records emitted (0
 * or 1); a fault leaves a gap in the chunk offsets. A global function, so the verifier checks
 * its eight reservations once rather than at every call site.
 */
__noinline int emit_direct(const struct wisp_data_event *h, __u64 src, __u32 off, __u32 n)
{
	struct wisp_data_event *ev;
	__u64 len;

	if (!h || n == 0 || n > WISP_CHUNK_BYTES)
		return 0;
	WISP_DIRECT_CLASS(128)
	WISP_DIRECT_CLASS(256)
	WISP_DIRECT_CLASS(512)
	WISP_DIRECT_CLASS(1024)
	WISP_DIRECT_CLASS(2048)
	WISP_DIRECT_CLASS(4096)
	WISP_DIRECT_CLASS(8192)
	WISP_DIRECT_CLASS(WISP_CHUNK_BYTES)
	return 0;
full:
	count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
	return 0;
fault:
	bpf_ringbuf_discard(ev, WISP_RB_FLAGS);
	count_drop(WISP_DROP_READ_FAULT_BYTES, n);
	return 0;
}

/* One bpf_loop step over a single buffer: the next chunk of the range, written in place. */
static long copy_buf_chunk(__u32 i, void *unused)
{
	struct scratch_slot *s = scratch_slot();
	struct copy_state *c;
	__u32 n;

	if (!s)
		return 1;
	c = &s->copy;
	n = c->left;
	if (n == 0)
		return 1;
	if (n > WISP_CHUNK_BYTES)
		n = WISP_CHUNK_BYTES;
	c->records += emit_direct((const struct wisp_data_event *)s->rec, c->seg_base, c->done, n);
	c->seg_base += n;
	c->done += n;
	c->left -= n;
	return 0;
}

static __always_inline void flush_chunk(struct scratch_slot *s)
{
	struct wisp_data_event *ev = (struct wisp_data_event *)s->rec;
	__u32 fill = s->copy.fill;

	if (fill > WISP_CHUNK_BYTES)
		fill = WISP_CHUNK_BYTES;
	ev->chunk_offset = s->copy.done - fill;
	ev->data_len = fill;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + fill, WISP_RB_FLAGS))
		count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
	s->copy.fill = 0;
	s->copy.records++;
}

/* One bpf_loop step: copy as much of the current segment as fits in the open chunk. */
static long copy_piece(__u32 i, void *unused)
{
	struct scratch_slot *s = scratch_slot();
	struct copy_state *c;
	struct wisp_data_event *ev;
	__u32 n, room, off;

	if (!s)
		return 1;
	c = &s->copy;
	n = c->seg_left;
	if (n == 0 || c->left == 0)
		return 1;
	if (n > c->left)
		n = c->left;
	off = c->fill;
	if (off >= WISP_CHUNK_BYTES) {
		flush_chunk(s);
		off = 0;
	}
	room = WISP_CHUNK_BYTES - off;
	if (n > room)
		n = room;
	if (n > WISP_CHUNK_BYTES)
		n = WISP_CHUNK_BYTES;
	if (n >= WISP_DIRECT_PIECE) {
		/* Big pieces go straight into their own record: no second copy out of the scratch. */
		if (c->fill > 0)
			flush_chunk(s);
		c->records += emit_direct((const struct wisp_data_event *)s->rec, c->seg_base,
					  c->done, n);
		goto advance;
	}
	ev = (struct wisp_data_event *)s->rec;
	if (bpf_probe_read_user(ev->data + off, n, (const void *)c->seg_base)) {
		/* Emit what we have so the skipped bytes show up as a gap in chunk offsets. */
		if (c->fill > 0)
			flush_chunk(s);
		count_drop(WISP_DROP_READ_FAULT_BYTES, n);
	} else {
		c->fill += n;
	}
advance:
	c->done += n;
	c->left -= n;
	c->seg_base += n;
	c->seg_left -= n;
	if (c->fill >= WISP_CHUNK_BYTES)
		flush_chunk(s);
	return 0;
}

/*
 * An iovec array of at most WISP_SMALL_IOVECS segments holding at most one chunk, gathered into
 * the scratch record by an unrolled loop and emitted as one record. Offset and length are each
 * at most a chunk, so every copy stays inside the scratch's two-chunk data area.
 */
static __always_inline void copy_iov_small(struct scratch_slot *s, const struct syscall_args *a,
					   __u32 size)
{
	struct wisp_data_event *ev = (struct wisp_data_event *)s->rec;
	struct iovec iv[WISP_SMALL_IOVECS];
	__u32 done = 0, n_iov = a->iovcnt;
	__u64 off, len = (__u64)n_iov * sizeof(iv[0]);

	barrier_var(len);
	if (len > sizeof(iv))
		len = sizeof(iv);
	if (bpf_probe_read_user(iv, len, (const void *)a->buf)) {
		count_drop(WISP_DROP_READ_FAULT_BYTES, size);
		return;
	}
#pragma unroll
	for (int i = 0; i < WISP_SMALL_IOVECS; i++) {
		if (i >= n_iov || done >= size)
			break;
		len = iv[i].iov_len < size - done ? iv[i].iov_len : size - done;
		off = done;
		barrier_var(off);
		barrier_var(len);
		if (off > WISP_CHUNK_BYTES || len > WISP_CHUNK_BYTES)
			break;
		if (bpf_probe_read_user(ev->data + off, len, iv[i].iov_base)) {
			count_drop(WISP_DROP_READ_FAULT_BYTES, size - done);
			break;
		}
		done += len;
	}
	s->copy.fill = done;
	s->copy.done = done;
	if (done > 0)
		flush_chunk(s);
}

static __always_inline __u32 pieces_per_segment(void)
{
	return max_bytes_per_syscall / WISP_CHUNK_BYTES + 2;
}

/* One bpf_loop step over the iovec array: copy segment i. */
static long copy_iovec(__u32 i, void *unused)
{
	struct scratch_slot *s = scratch_slot();
	struct copy_state *c;
	struct iovec iv;

	if (!s)
		return 1;
	c = &s->copy;
	if (c->left == 0)
		return 1;
	if (bpf_probe_read_user(&iv, sizeof(iv), (const void *)(c->iov + (__u64)i * sizeof(iv)))) {
		if (c->fill > 0)
			flush_chunk(s);
		count_drop(WISP_DROP_READ_FAULT_BYTES, c->left);
		c->done += c->left;
		c->left = 0;
		return 1;
	}
	if (c->skip >= iv.iov_len) {
		c->skip -= iv.iov_len;
		return 0;
	}
	c->seg_base = (__u64)iv.iov_base + c->skip;
	iv.iov_len -= c->skip;
	c->skip = 0;
	c->seg_left = iv.iov_len > c->left ? c->left : (__u32)iv.iov_len;
	bpf_loop(pieces_per_segment(), copy_piece, NULL, 0);
	return 0;
}

/* Copies `len` bytes starting `from` bytes into the syscall's data. */
static __always_inline void copy_range(struct scratch_slot *s, const struct syscall_args *a,
				       __u32 from, __u32 len)
{
	s->copy.seg_base = a->buf + from;
	s->copy.seg_left = a->op == OP_DATA_BUF ? len : 0;
	s->copy.left = len;
	s->copy.done = from;
	s->copy.skip = from;
	if (a->op == OP_DATA_BUF) {
		if (len <= WISP_CHUNK_BYTES)
			s->copy.records += emit_direct((const struct wisp_data_event *)s->rec,
						       a->buf + from, from, len);
		else
			bpf_loop(pieces_per_segment(), copy_buf_chunk, NULL, 0);
		return;
	} else if (a->op == OP_DATA_IOV) {
		__u32 n = a->iovcnt;

		if (n > WISP_MAX_IOVECS) {
			count_drop(WISP_DROP_IOV_LIMIT, n - WISP_MAX_IOVECS);
			n = WISP_MAX_IOVECS;
		}
		bpf_loop(n, copy_iovec, NULL, 0);
	}
	if (s->copy.fill > 0)
		flush_chunk(s);
}

/*
 * Emits the bytes of one syscall that moved `size` bytes, the first `skip` of which are not
 * wanted (conn_ctl). The record header in the slot must already hold everything but
 * chunk_offset and data_len.
 */
static __always_inline void copy_syscall_data(struct scratch_slot *s, const struct syscall_args *a,
					      __u32 size, __u32 skip)
{
	__u32 cap = max_bytes_per_syscall;
	__u32 tail = tail_bytes_per_syscall;
	__u32 avail = size - skip;

	if (tail > cap / 2)
		tail = cap / 2;
	if (tail > WISP_CHUNK_BYTES)
		tail = WISP_CHUNK_BYTES;

	s->copy.iov = a->buf;
	s->copy.fill = 0;
	s->copy.records = 0;
	if (avail == 0) {
		/* Wholly skipped: the empty record below still tells its size and position. */
	} else if (skip == 0 && a->op == OP_DATA_IOV && a->iovcnt <= WISP_SMALL_IOVECS &&
		   size <= WISP_CHUNK_BYTES && size <= cap) {
		copy_iov_small(s, a, size);
	} else if (avail <= cap) {
		copy_range(s, a, skip, avail);
	} else {
		count_drop(WISP_DROP_TRUNCATED_BYTES, avail - cap);
		copy_range(s, a, skip, cap - tail);
		copy_range(s, a, size - tail, tail);
	}
	if (s->copy.records == 0) {
		s->copy.fill = 0;
		s->copy.done = 0;
		flush_chunk(s);
	}
}

#endif
