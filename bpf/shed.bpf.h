/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Overload: when the ring buffer fills faster than user space drains it, whole connections are
 * shed, chosen by a hash of their id, so that records are not lost at random in the middle of
 * messages. The share shed grows with the ring's fill: none below WISP_SHED_FROM_PCT, all of
 * them from about WISP_SHED_ALL_PCT.
 *
 * A connection starts or stops being shed only at a request start (a syscall on the request
 * direction whose first bytes are a request line), so streams change hands at message
 * boundaries. When it starts, a shed marker (struct wisp_shed_event) gives the positions where
 * shedding began; while shed, its data makes no records (positions keep counting) and each
 * request start counts as a shed exchange. The next data record user space sees of it ends the
 * shed range.
 *
 * 5xx answers are kept: while shed, the first WISP_STASH_BYTES of each request start are kept
 * aside; a response-direction syscall that starts with a 5xx status line sends the kept
 * request as a data record (its real position and size, its head as data), then itself
 * normally, and the connection is not shed until its next request start.
 */
#ifndef WISP_SHED_BPF_H
#define WISP_SHED_BPF_H

#define WISP_SHED_LEVELS 16
#define WISP_STASH_BYTES 512

/* The head of a request start of a shed connection, waiting for its answer. */
struct shed_stash {
	__u64 pos;
	__u64 ts;
	__u32 size;
	__u32 len;
	__u8 data[WISP_STASH_BYTES];
};

/* By conn_id; an entry goes when its 5xx is sent or the connection closes, or ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct shed_stash);
} shed_stash SEC(".maps");

/* How many of WISP_SHED_LEVELS hash buckets to shed now, from the ring's unconsumed bytes. */
static __always_inline __u32 shed_level(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	__u64 pct, level;

	if (size == 0)
		return 0;
	pct = avail * 100 / size;
	if (pct < shed_from_pct)
		return 0;
	if (pct >= shed_all_pct || shed_all_pct <= shed_from_pct)
		return WISP_SHED_LEVELS;
	level = 1 + (pct - shed_from_pct) * (WISP_SHED_LEVELS - 1) / (shed_all_pct - shed_from_pct);
	return level > WISP_SHED_LEVELS ? WISP_SHED_LEVELS : level;
}

/* A connection's bucket: its id mixed (ids are sequential) and cut to 0..WISP_SHED_LEVELS-1. */
static __always_inline __u32 shed_bucket(__u64 conn_id)
{
	return (conn_id * 0x9E3779B97F4A7C15ULL) >> 60;
}

static __always_inline int is_5xx_status(const __u8 *b, __u32 len)
{
	return len >= 10 && has_prefix(b, "HTTP/1.", 7) && b[8] == ' ' && b[9] == '5';
}

static __always_inline void emit_shed(const struct wisp_conn_key *k, const struct wisp_conn_state *st,
				      __u8 req_dir, __u64 req_pos, __u64 ts)
{
	struct wisp_shed_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_header(&ev->hdr, WISP_EV_SHED, k, st->conn_id, ts);
	ev->pos[req_dir & 1] = req_pos;
	ev->pos[(req_dir ^ 1) & 1] = st->pos[(req_dir ^ 1) & 1];
	bpf_ringbuf_submit(ev, WISP_RB_FLAGS);
}

/* Keeps the head of a request start of a shed connection: its first n bytes at user address first. */
static __always_inline void stash_request(const struct wisp_conn_state *st, __u64 first, __u32 first_len,
					  __u64 pos, __u32 size, __u64 ts)
{
	struct shed_stash *s = bpf_map_lookup_elem(&shed_stash, &st->conn_id);
	struct scratch_slot *blank;
	__u64 n = first_len;

	if (!s) {
		/* A value this big cannot be built on the stack; any bytes do, all are set below. */
		blank = scratch_slot();
		if (!blank)
			return;
		bpf_map_update_elem(&shed_stash, &st->conn_id, blank->rec, BPF_ANY);
		s = bpf_map_lookup_elem(&shed_stash, &st->conn_id);
		if (!s)
			return;
	}
	barrier_var(n);
	if (n > WISP_STASH_BYTES)
		n = WISP_STASH_BYTES;
	s->pos = pos;
	s->ts = ts;
	s->size = size;
	s->len = bpf_probe_read_user(s->data, n, (const void *)first) ? 0 : n;
}

/* Sends the kept request of a shed connection as the data record its syscall would have made. */
static __always_inline int emit_stash(const struct wisp_conn_key *k, const struct wisp_conn_state *st,
				      __u8 req_dir)
{
	struct shed_stash *s = bpf_map_lookup_elem(&shed_stash, &st->conn_id);
	struct scratch_slot *slot = scratch_slot();
	struct wisp_data_event *ev;
	__u64 n;

	if (!s || !slot)
		return 0;
	ev = (struct wisp_data_event *)slot->rec;
	fill_header(&ev->hdr, WISP_EV_DATA, k, st->conn_id, s->ts);
	ev->direction = req_dir;
	ev->size = s->size;
	ev->pos = s->pos;
	ev->chunk_offset = 0;
	n = s->len;
	barrier_var(n);
	if (n > WISP_STASH_BYTES)
		n = WISP_STASH_BYTES;
	ev->data_len = n;
	if (bpf_probe_read_kernel(ev->data, n, s->data) ||
	    bpf_ringbuf_output(&events, ev, sizeof(*ev) + n, WISP_RB_FLAGS))
		count_drop(WISP_DROP_RINGBUF_FULL_EVENTS, 1);
	bpf_map_delete_elem(&shed_stash, &st->conn_id);
	return 1;
}

/*
 * Decides whether this data syscall of an HTTP connection is shed (returns 1: count it, copy
 * nothing) or copied as usual (0). pos is where the syscall's bytes start.
 */
static __always_inline int shed_syscall(const struct wisp_conn_key *k, struct wisp_conn_state *st,
					const struct syscall_args *a, __u64 pos, __u32 size,
					__u64 ts)
{
	__u8 req_dir = st->role == WISP_ROLE_CLIENT ? WISP_DIR_EGRESS : WISP_DIR_INGRESS;
	__u8 b[WISP_SNIFF_BYTES + 2] = {};
	__u32 level = 0, seg, len;
	__u64 first;

	if (a->direction == req_dir) {
		if (!st->shed) {
			level = shed_level();
			if (level == 0)
				return 0;
		}
		seg = first_segment(a, size, &first);
		len = read_head(b, sizeof(b), first, seg);
		if (http_sniff(b, len) == SNIFF_REQUEST) {
			if (st->shed)
				level = shed_level();
			if (shed_bucket(st->conn_id) < level) {
				if (!st->shed)
					emit_shed(k, st, req_dir, pos, ts);
				st->shed = 1;
				count_drop(WISP_DROP_SHED_EXCHANGES, 1);
				stash_request(st, first, seg, pos, size, ts);
			} else {
				st->shed = 0;
			}
		}
	} else if (st->shed) {
		seg = first_segment(a, size, &first);
		if (is_5xx_status(b, read_head(b, sizeof(b), first, seg))) {
			if (emit_stash(k, st, req_dir))
				count_drop(WISP_DROP_SHED_KEPT_5XX, 1);
			st->shed = 0;
		}
	}
	if (st->shed)
		count_drop(WISP_DROP_SHED_BYTES, size);
	return st->shed;
}

#endif
