/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copying a syscall's bytes out of user memory into ring-buffer records of at most one chunk
 * each. The record header (connection, direction, syscall size, stream position) is written
 * into the scratch slot once; each flush stamps the chunk's offset and length and emits it. A
 * syscall whose bytes could not be copied at all still yields one record with no data, so user
 * space always learns the true size and position.
 *
 * A syscall bigger than the per-syscall cap is copied as its head and its last chunk: the tail
 * is where a chunked body's terminator and the start of a pipelined message sit, so user space
 * can still find message boundaries after skipping the middle.
 */
#ifndef WISP_COPY_BPF_H
#define WISP_COPY_BPF_H

/* Node's writev can carry hundreds of iovecs; the kernel's own limit is UIO_MAXIOV (1024). */
#define WISP_MAX_IOVECS 1024

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
	ev = (struct wisp_data_event *)s->rec;
	if (bpf_probe_read_user(ev->data + off, n, (const void *)c->seg_base)) {
		/* Emit what we have so the skipped bytes show up as a gap in chunk offsets. */
		if (c->fill > 0)
			flush_chunk(s);
		count_drop(WISP_DROP_READ_FAULT_BYTES, n);
	} else {
		c->fill += n;
	}
	c->done += n;
	c->left -= n;
	c->seg_base += n;
	c->seg_left -= n;
	if (c->fill >= WISP_CHUNK_BYTES)
		flush_chunk(s);
	return 0;
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
		bpf_loop(pieces_per_segment(), copy_piece, NULL, 0);
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
 * Emits the bytes of one syscall that moved `size` bytes. The record header in the slot must
 * already hold everything but chunk_offset and data_len.
 */
static __always_inline void copy_syscall_data(struct scratch_slot *s, const struct syscall_args *a,
					      __u32 size)
{
	__u32 cap = max_bytes_per_syscall;
	__u32 tail = cap / 2 < WISP_CHUNK_BYTES ? cap / 2 : WISP_CHUNK_BYTES;

	s->copy.iov = a->buf;
	s->copy.fill = 0;
	s->copy.records = 0;
	if (size <= cap) {
		copy_range(s, a, 0, size);
	} else {
		count_drop(WISP_DROP_TRUNCATED_BYTES, size - cap);
		copy_range(s, a, 0, cap - tail);
		copy_range(s, a, size - tail, tail);
	}
	if (s->copy.records == 0)
		flush_chunk(s);
}

#endif
