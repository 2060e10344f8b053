// SPDX-License-Identifier: Apache-2.0
/*
 * The connections stage: every TCP connection by kernel id, `conn_stats` totals per key, and
 * the TLS handshakes handed to handshakes.c. See wisp_conns.h.
 *
 * conn_stats, as Pixie keeps it (stirling's conn_stats.cc): one key per upid × remote address ×
 * remote port × role, the remote port 0 for servers (their clients' ports change with every
 * connection); counters since tracing began, conn_active = conn_open - conn_close. A
 * connection found mid-stream (open before tracing began) counts as opened when first seen,
 * its bytes from then on. Rows:
 * - at each report (the period), one per key with open connections or changes since its last
 *   row, stamped with the report's time;
 * - at the close of a key's last open connection, a row stamped with the close, unless the key
 *   had a row less than a quarter period before (then the next report has the close);
 * - when a key goes from no open connection to one and its last row is older than a period (or
 *   it has none), a row of its totals just before, stamped 1 ns before the open: so max - min of
 *   a key's counters over any window that holds the open counts everything, even a connection
 *   opened and closed within one period (Pixie's scripts take max - min).
 * Bytes come from the kernel's `conns` map (positions, read each report: no cost per syscall),
 * and from close records (exact totals).
 */
#include "wisp_conns.h"
#include "handshakes.h"
#include "../../http/native/addr.h"
#include "../../native/idtable.h"

#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"

/* Pixie's traffic_protocol_t values for the protocol column. */
#define PROTOCOL_UNKNOWN 0
#define PROTOCOL_HTTP 1
#define PROTOCOL_TLS 13

/* Snapshots in a row a connection may be missing from before it counts as gone. */
#define VANISH_AFTER 2

struct cs_proc {
	struct wisp_proc proc;
	struct cs_proc *hnext;
	uint32_t conns;          /* tracked connections of it */
	uint32_t keys;           /* keys of it */
	uint64_t active_ns;      /* last time one of its connections opened or moved bytes */
	uint64_t check_ns;       /* when it may next be checked for having exited */
	uint8_t dead;
};

struct cs_key {
	struct wisp_lru_link lru; /* least recently active first */
	struct cs_key *hnext;
	struct cs_proc *proc;
	uint8_t addr[16];
	uint16_t port;           /* 0 for servers */
	uint8_t family;
	uint8_t role;
	uint8_t protocol;
	uint8_t ssl;
	uint8_t dirty;           /* changed since its last row */
	uint8_t emitted;         /* has had a row */
	uint32_t active;
	uint64_t conn_open;
	uint64_t conn_close;
	uint64_t bytes[2];       /* by enum wisp_direction: sent, received */
	int64_t last_row_ns;
	uint8_t text_len;
	char text[48];
};

struct cs_conn {
	struct wisp_id_entry e;  /* by kernel id, least recently active first */
	struct cs_proc *proc;
	struct cs_key *key;      /* NULL until its role is known and reported */
	uint8_t role;
	uint8_t family;
	uint8_t http;
	uint8_t tls;
	uint8_t missed;          /* snapshots in a row it was not in */
	uint16_t local_port;
	uint16_t remote_port;
	uint8_t local_addr[16];
	uint8_t remote_addr[16];
	uint64_t open_ns;
	uint64_t bytes[2];       /* latest known positions */
	uint64_t counted[2];     /* bytes already added to its key */
	uint32_t gen;            /* the last snapshot it was in */
};

struct wisp_conns {
	struct wisp_conns_options o;
	struct wisp_conns_counters c;
	struct wisp_conns_host host;
	struct handshakes *hs;
	struct rows_out out[2];
	struct wisp_id_table conns;
	struct cs_key **key_buckets;
	uint32_t key_mask;
	struct wisp_lru keys;
	struct cs_proc **proc_buckets;
	uint32_t proc_mask;
	uint32_t gen;
	int64_t snapshot_ns;
};

static const char *const conn_stats_num[] = {
	"remote_port", "trace_role", "addr_family", "protocol", "ssl", "conn_open", "conn_close", "conn_active", "bytes_sent",
	"bytes_recv",
};
static const char *const conn_stats_str[] = { "remote_addr" };

const struct wisp_rows_schema wisp_conn_stats_schema = { "conn_stats", 10, 1, conn_stats_num, conn_stats_str };

/* In the order of handshakes.c's row. */
static const char *const tls_num[] = { "remote_port", "local_port", "trace_role", "handshake_duration", "cert_not_after" };
static const char *const tls_str[] = {
	"remote_addr", "local_addr", "sni", "alpn_offered", "alpn", "versions_offered", "version", "cipher", "cert_subject",
	"cert_issuer", "cert_sans",
};

const struct wisp_rows_schema wisp_tls_handshakes_schema = { "tls_handshakes", 5, 11, tls_num, tls_str };

void wisp_conns_options_default(struct wisp_conns_options *o)
{
	memset(o, 0, sizeof(*o));
	o->period_ns = 5000000000ull;
	o->sides = 3;
	o->max_conns = 65536;
	o->max_keys = 65536;
	o->exit_check_ns = 10000000000ull;
	o->max_handshakes = 4096;
	o->tls_max_bytes = 32 * 1024;
	o->tls_max_buffered = 16ull << 20;
	o->tls_timeout_ns = 10000000000ull;
	o->batch_rows = 65536;
}

const struct wisp_conns_counters *wisp_conns_counters(const struct wisp_conns *s)
{
	return &s->c;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x9e3779b97f4a7c15ull;
}

/* ---- processes ---- */

static struct cs_proc **proc_bucket(struct wisp_conns *s, uint32_t pid, uint64_t start)
{
	return &s->proc_buckets[mix(mix(0, pid), start) >> 40 & s->proc_mask];
}

static struct cs_proc *proc_get(struct wisp_conns *s, const struct wisp_proc *p)
{
	struct cs_proc **b = proc_bucket(s, p->pid, p->start_boottime_ns), *q = *b;

	while (q && (q->proc.pid != p->pid || q->proc.start_boottime_ns != p->start_boottime_ns))
		q = q->hnext;
	if (q)
		return q;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->proc = *p;
	q->hnext = *b;
	*b = q;
	return q;
}

/* Forgets a process once nothing refers to it. */
static void proc_put(struct wisp_conns *s, struct cs_proc *q)
{
	struct cs_proc **pp;

	if (q->conns || q->keys)
		return;
	pp = proc_bucket(s, q->proc.pid, q->proc.start_boottime_ns);
	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
	free(q);
}

/* ---- keys ---- */

static struct cs_key **key_bucket(struct wisp_conns *s, const struct cs_proc *p, const uint8_t addr[16], uint16_t port,
				  uint8_t role)
{
	uint64_t h = mix(mix((uint64_t)(uintptr_t)p, port), role), w;

	memcpy(&w, addr, 8);
	h = mix(h, w);
	memcpy(&w, addr + 8, 8);
	h = mix(h, w);
	return &s->key_buckets[h >> 40 & s->key_mask];
}

static struct cs_key *key_of(struct wisp_lru_link *l)
{
	return WISP_CONTAINER(l, struct cs_key, lru);
}

static void key_remove(struct wisp_conns *s, struct cs_key *k)
{
	struct cs_key **pp = key_bucket(s, k->proc, k->addr, k->port, k->role);

	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
	wisp_lru_unlink(&s->keys, &k->lru);
	k->proc->keys--;
	proc_put(s, k->proc);
	s->c.keys--;
	free(k);
}

/* A key's row at `ns`; conn_active is what it is now. */
static void key_row(struct wisp_conns *s, struct cs_key *k, int64_t ns, uint32_t active)
{
	struct wisp_row r;

	memset(&r, 0, sizeof(r));
	r.time_ns = ns;
	r.num[0] = k->port;
	r.num[1] = k->role;
	r.num[2] = k->family;
	r.num[3] = k->protocol;
	r.num[4] = k->ssl;
	r.num[5] = (double)k->conn_open;
	r.num[6] = (double)k->conn_close;
	r.num[7] = active;
	r.num[8] = (double)k->bytes[WISP_DIR_EGRESS];
	r.num[9] = (double)k->bytes[WISP_DIR_INGRESS];
	r.str[0] = (const uint8_t *)k->text;
	r.str_len[0] = k->text_len;
	r.proc = &k->proc->proc;
	rows_out_append(&s->out[WISP_TABLE_CONN_STATS], &r);
	k->emitted = 1;
	k->last_row_ns = ns;
}

static struct cs_key *key_get(struct wisp_conns *s, struct cs_conn *c)
{
	uint16_t port = c->role == WISP_ROLE_SERVER ? 0 : c->remote_port;
	struct cs_key **b = key_bucket(s, c->proc, c->remote_addr, port, c->role), *k = *b;

	while (k && (k->proc != c->proc || k->port != port || k->role != c->role || memcmp(k->addr, c->remote_addr, 16)))
		k = k->hnext;
	if (k)
		return k;
	if (s->c.keys >= s->o.max_keys) {
		/* Forget the least recently active idle key: its totals start over if it comes back. */
		struct cs_key *old = key_of(s->keys.head);

		while (old && (old->active || old->dirty))
			old = key_of(old->lru.next);
		if (!old)
			return NULL;
		s->c.key_evictions++;
		key_remove(s, old);
		b = key_bucket(s, c->proc, c->remote_addr, port, c->role);
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->proc = c->proc;
	memcpy(k->addr, c->remote_addr, 16);
	k->port = port;
	k->role = c->role;
	k->family = c->family;
	k->text_len = wisp_format_addr(k->text, c->remote_addr, c->family == 10);
	k->hnext = *b;
	*b = k;
	wisp_lru_append(&s->keys, &k->lru);
	c->proc->keys++;
	s->c.keys++;
	return k;
}

/* ---- connections ---- */

static struct cs_conn *conn_of(struct wisp_lru_link *l)
{
	return WISP_CONTAINER(l, struct cs_conn, e.lru);
}

static struct cs_conn *conn_find(struct wisp_conns *s, uint64_t id)
{
	return WISP_CONTAINER(wisp_idt_find(&s->conns, id), struct cs_conn, e);
}

/* The connection moved bytes (or opened) at `ns`: it goes last in the LRU order. */
static void conn_touch(struct wisp_conns *s, struct cs_conn *c, uint64_t ns)
{
	if (ns > c->proc->active_ns)
		c->proc->active_ns = ns;
	wisp_lru_touch(&s->conns.lru, &c->e.lru);
}

/* Adds the bytes the connection moved since they were last counted to its key. */
static void settle(struct cs_conn *c)
{
	struct cs_key *k = c->key;

	if (!k)
		return;
	for (int d = 0; d < 2; d++) {
		if (c->bytes[d] > c->counted[d]) {
			k->bytes[d] += c->bytes[d] - c->counted[d];
			c->counted[d] = c->bytes[d];
			k->dirty = 1;
		}
	}
	if (c->tls) {
		k->protocol = PROTOCOL_TLS;
		k->ssl = 1;
	} else if (c->http) {
		k->protocol = PROTOCOL_HTTP;
	}
}

/* Counts the connection in its key (its role is known and reported). */
static void attach(struct wisp_conns *s, struct cs_conn *c)
{
	struct cs_key *k = key_get(s, c);

	if (!k)
		return;
	if (k->active == 0 && (!k->emitted || (int64_t)c->open_ns - k->last_row_ns >= (int64_t)s->o.period_ns))
		key_row(s, k, (int64_t)c->open_ns - 1, 0);
	c->key = k;
	k->conn_open++;
	k->active++;
	k->dirty = 1;
	wisp_lru_touch(&s->keys, &k->lru);
	s->c.opened++;
	settle(c);
}

static void conn_remove(struct wisp_conns *s, struct cs_conn *c)
{
	wisp_idt_remove(&s->conns, &c->e);
	c->proc->conns--;
	proc_put(s, c->proc);
	s->c.conns--;
	free(c);
}

/* The connection is over: its key counts the close, and it is forgotten. */
static void conn_end(struct wisp_conns *s, struct cs_conn *c)
{
	struct cs_key *k = c->key;

	if (k) {
		settle(c);
		k->conn_close++;
		k->active--;
		k->dirty = 1;
		wisp_lru_touch(&s->keys, &k->lru);
	}
	conn_remove(s, c);
}

/* Whether a connection of this role is reported (TracerOptions.sides). */
static int side_reported(const struct wisp_conns *s, uint8_t role)
{
	return (s->o.sides & role) != 0;
}

/* Tries to learn a connection's role and count it; 0 when it stays unknown. */
/*
 * The role of a connection whose other end is traced too (loopback, or two processes of the
 * node): the opposite of that end's, when it is known. A walk over the connections, only for
 * the rare one whose own process could not tell (it exited right after).
 */
static uint8_t peer_role(const struct wisp_conns *s, const struct cs_conn *c)
{
	for (const struct cs_conn *p = conn_of(s->conns.lru.head); p; p = conn_of(p->e.lru.next)) {
		if (p == c || p->role == WISP_ROLE_UNKNOWN || p->family != c->family || p->local_port != c->remote_port ||
		    p->remote_port != c->local_port || memcmp(p->local_addr, c->remote_addr, 16) ||
		    memcmp(p->remote_addr, c->local_addr, 16))
			continue;
		return p->role == WISP_ROLE_CLIENT ? WISP_ROLE_SERVER : WISP_ROLE_CLIENT;
	}
	return WISP_ROLE_UNKNOWN;
}

static int resolve(struct wisp_conns *s, struct cs_conn *c)
{
	if (c->key)
		return 1;
	if (c->role == WISP_ROLE_UNKNOWN && s->host.listen_role) {
		c->role = s->host.listen_role(s->host.ctx, c->proc->proc.pid, c->local_port, c->family == 10);
		if (c->role > WISP_ROLE_SERVER)
			c->role = WISP_ROLE_UNKNOWN;
		if (c->role != WISP_ROLE_UNKNOWN)
			s->c.role_from_listen++;
	}
	if (c->role == WISP_ROLE_UNKNOWN) {
		c->role = peer_role(s, c);
		if (c->role != WISP_ROLE_UNKNOWN)
			s->c.role_from_peer++;
	}
	if (c->role == WISP_ROLE_UNKNOWN || !side_reported(s, c->role))
		return 0;
	attach(s, c);
	return c->key != NULL;
}

static void on_open(struct wisp_conns *s, const struct wisp_open_event *ev, uint64_t ts)
{
	struct cs_conn *c = conn_find(s, ev->hdr.conn_id);
	struct wisp_proc p;

	if (c) {
		/* Announced again: a connection found mid-stream whose first message told its role. */
		if (c->role == WISP_ROLE_UNKNOWN && ev->role != WISP_ROLE_UNKNOWN)
			c->role = ev->role;
		return;
	}
	memset(&p, 0, sizeof(p));
	p.pid = ev->hdr.tgid;
	p.start_boottime_ns = ev->start_boottime_ns;
	memcpy(p.comm, ev->comm, sizeof(p.comm));
	for (size_t i = 0, z = 0; i < sizeof(p.comm); i++) {
		z |= p.comm[i] == 0;
		if (z)
			p.comm[i] = 0;
	}
	if (s->c.conns >= s->o.max_conns && s->conns.lru.head) {
		s->c.conn_evictions++;
		conn_end(s, conn_of(s->conns.lru.head));
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->proc = proc_get(s, &p);
	if (!c->proc) {
		free(c);
		return;
	}
	c->proc->conns++;
	c->e.id = ev->hdr.conn_id;
	c->role = ev->role;
	c->family = ev->family;
	c->local_port = ev->local_port;
	c->remote_port = ev->remote_port;
	memcpy(c->local_addr, ev->local_addr, 16);
	memcpy(c->remote_addr, ev->remote_addr, 16);
	c->open_ns = ts;
	c->gen = s->gen;
	wisp_idt_insert(&s->conns, &c->e);
	s->c.conns++;
	if (ts > c->proc->active_ns)
		c->proc->active_ns = ts;
	/*
	 * One found mid-stream is asked about at once, while its process surely runs: a client
	 * that closes and exits before the next report could not be told later.
	 */
	resolve(s, c);
}

static void on_close(struct wisp_conns *s, const struct wisp_close_event *ev, uint64_t ts)
{
	struct cs_conn *c = conn_find(s, ev->hdr.conn_id);
	struct cs_key *k;

	hs_close(s->hs, ev->hdr.conn_id, ts);
	if (!c)
		return;
	if (ev->egress_bytes > c->bytes[WISP_DIR_EGRESS])
		c->bytes[WISP_DIR_EGRESS] = ev->egress_bytes;
	if (ev->ingress_bytes > c->bytes[WISP_DIR_INGRESS])
		c->bytes[WISP_DIR_INGRESS] = ev->ingress_bytes;
	if (!resolve(s, c) && c->role == WISP_ROLE_UNKNOWN)
		s->c.role_unknown++;
	s->c.closed++;
	k = c->key;
	conn_end(s, c);
	/*
	 * Reported at close: a key whose last connection closed gets its row now, with the exact
	 * totals, unless it had one less than a quarter period ago (a client opening one connection
	 * after another would make a row per connection); then the next report writes it.
	 */
	if (k && k->active == 0 && (int64_t)ts - k->last_row_ns >= (int64_t)s->o.period_ns / 4) {
		key_row(s, k, (int64_t)ts, 0);
		k->dirty = 0;
	}
}

static void meta_of(const struct cs_conn *c, struct hs_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->proc = c->proc->proc;
	m->role = c->role;
	m->local_port = c->local_port;
	m->remote_port = c->remote_port;
	m->local_len = wisp_format_addr(m->local_addr, c->local_addr, c->family == 10);
	m->remote_len = wisp_format_addr(m->remote_addr, c->remote_addr, c->family == 10);
}

static void on_tls(struct wisp_conns *s, const struct wisp_data_event *ev, const uint8_t *data, uint64_t ts)
{
	struct cs_conn *c = conn_find(s, ev->hdr.conn_id);
	struct hs_meta m;

	if (c) {
		c->tls = 1;
		meta_of(c, &m);
	}
	hs_data(s->hs, ev->hdr.conn_id, c ? &m : NULL, ev, data, ts);
}

void wisp_conns_record(struct wisp_conns *s, const void *rec, size_t len, int64_t clock_offset_ns)
{
	const uint8_t *r = rec;
	struct wisp_event_header h;
	uint64_t ts;

	s->c.records++;
	if (len < sizeof(h)) {
		s->c.malformed_records++;
		return;
	}
	memcpy(&h, r, sizeof(h));
	ts = (uint64_t)((int64_t)h.ts_ns + clock_offset_ns);
	switch (h.kind) {
	case WISP_EV_OPEN: {
		struct wisp_open_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		if (ev.role > WISP_ROLE_SERVER || (ev.family != 2 && ev.family != 10))
			break;
		on_open(s, &ev, ts);
		return;
	}
	case WISP_EV_CLOSE: {
		struct wisp_close_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		on_close(s, &ev, ts);
		return;
	}
	case WISP_EV_DATA: {
		struct wisp_data_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		if (ev.protocol != WISP_PROTOCOL_TLS)
			return;
		if (ev.direction > 1 || ev.data_len > len - sizeof(ev) || ev.pos > UINT64_MAX - ev.size)
			break;
		on_tls(s, &ev, r + sizeof(ev), ts);
		return;
	}
	case WISP_EV_SHED:
		return;
	default:
		break;
	}
	s->c.malformed_records++;
}

/* ---- reports ---- */

void wisp_conns_snapshot_begin(struct wisp_conns *s, int64_t now_ns)
{
	s->gen++;
	s->snapshot_ns = now_ns;
}

void wisp_conns_snapshot_entry(struct wisp_conns *s, const void *key, size_t key_len, const void *value, size_t value_len)
{
	struct wisp_conn_state st;
	struct cs_conn *c;

	(void)key;
	if (key_len != sizeof(struct wisp_conn_key) || value_len != sizeof(st))
		return;
	memcpy(&st, value, sizeof(st));
	c = conn_find(s, st.conn_id);
	/* Not announced (the side not traced), or its open record is still on its way. */
	if (!c)
		return;
	c->gen = s->gen;
	c->missed = 0;
	if (c->role == WISP_ROLE_UNKNOWN && st.role <= WISP_ROLE_SERVER)
		c->role = st.role;
	c->http |= st.proto == WISP_CONN_PROTO_HTTP;
	c->tls |= st.tls != 0;
	if (st.pos[0] > c->bytes[0] || st.pos[1] > c->bytes[1]) {
		for (int d = 0; d < 2; d++)
			if (st.pos[d] > c->bytes[d])
				c->bytes[d] = st.pos[d];
		conn_touch(s, c, (uint64_t)s->snapshot_ns);
	}
}

/* Connections of a process that exited without close(2) end; so do its keys after their last row. */
static void exited(struct wisp_conns *s, struct cs_proc *q)
{
	struct cs_conn *c = conn_of(s->conns.lru.head), *next;

	q->dead = 1;
	q->conns++; /* held while its connections go, so it outlives the walk */
	for (; c; c = next) {
		next = conn_of(c->e.lru.next);
		if (c->proc == q) {
			s->c.exited++;
			conn_end(s, c);
		}
	}
	q->conns--;
}

/* Asks whether quiet processes still run, each at most once per exit_check_ns. */
static void check_exits(struct wisp_conns *s, int64_t now)
{
	for (uint32_t i = 0; i <= s->proc_mask && s->host.alive; i++) {
		struct cs_proc *q = s->proc_buckets[i], *next;

		for (; q; q = next) {
			next = q->hnext;
			if (q->dead || (int64_t)q->active_ns > now - (int64_t)s->o.period_ns || (int64_t)q->check_ns > now)
				continue;
			q->check_ns = (uint64_t)now + s->o.exit_check_ns;
			if (s->host.alive(s->host.ctx, q->proc.pid, q->proc.start_boottime_ns) != 0)
				continue;
			q->keys++; /* held while its connections go */
			exited(s, q);
			q->keys--;
			next = q->hnext;
			proc_put(s, q);
		}
	}
}

void wisp_conns_report(struct wisp_conns *s, int64_t now)
{
	struct cs_conn *c, *cnext;
	struct cs_key *k, *knext;

	for (c = conn_of(s->conns.lru.head); c; c = cnext) {
		cnext = conn_of(c->e.lru.next);
		if (c->gen != s->gen && (int64_t)c->open_ns < s->snapshot_ns && ++c->missed >= VANISH_AFTER) {
			/* The kernel's map lost it with no close record (its LRU evicted it). */
			resolve(s, c);
			s->c.vanished++;
			conn_end(s, c);
			continue;
		}
		if (!c->key && !resolve(s, c)) {
			if (c->role == WISP_ROLE_UNKNOWN)
				s->c.role_unknown++;
			conn_remove(s, c);
			continue;
		}
		settle(c);
	}
	check_exits(s, now);
	for (k = key_of(s->keys.head); k; k = knext) {
		knext = key_of(k->lru.next);
		if (k->active > 0 || k->dirty) {
			key_row(s, k, now, k->active);
			k->dirty = 0;
		}
		if (k->proc->dead && k->active == 0)
			key_remove(s, k);
	}
}

void wisp_conns_flush_idle(struct wisp_conns *s, int64_t now_ns)
{
	hs_flush(s->hs, now_ns);
}

struct wisp_rows *wisp_conns_take(struct wisp_conns *s, enum wisp_conns_table table)
{
	return table <= WISP_TABLE_TLS_HANDSHAKES ? rows_out_take(&s->out[table]) : NULL;
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 64;

	while (p < n && p < (1u << 24))
		p *= 2;
	return p;
}

struct wisp_conns *wisp_conns_new(const struct wisp_conns_options *o, const struct wisp_conns_host *host)
{
	struct wisp_conns *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->o = *o;
	if (s->o.max_conns == 0)
		s->o.max_conns = 1;
	/* Every open key holds an open connection: with at least as many keys, an idle one can always go. */
	if (s->o.max_keys < s->o.max_conns)
		s->o.max_keys = s->o.max_conns;
	if (s->o.batch_rows == 0)
		s->o.batch_rows = 1;
	if (s->o.period_ns == 0)
		s->o.period_ns = 1;
	if (host)
		s->host = *host;
	wisp_idt_init(&s->conns, pow2_at_least((uint64_t)s->o.max_conns * 2));
	s->key_mask = pow2_at_least((uint64_t)s->o.max_keys * 2) - 1;
	s->proc_mask = pow2_at_least(s->o.max_conns / 4 + 1) - 1;
	s->key_buckets = calloc((size_t)s->key_mask + 1, sizeof(*s->key_buckets));
	s->proc_buckets = calloc((size_t)s->proc_mask + 1, sizeof(*s->proc_buckets));
	for (int t = 0; t < 2; t++) {
		s->out[t].schema = t == WISP_TABLE_CONN_STATS ? &wisp_conn_stats_schema : &wisp_tls_handshakes_schema;
		s->out[t].batch_rows = s->o.batch_rows;
		s->out[t].rows = t == WISP_TABLE_CONN_STATS ? &s->c.stats_rows : &s->c.handshakes;
		s->out[t].failures = &s->c.row_alloc_failures;
	}
	s->hs = hs_new(&s->o, &s->c, &s->out[WISP_TABLE_TLS_HANDSHAKES], s->host.ctl, s->host.ctx);
	if (!s->conns.buckets || !s->key_buckets || !s->proc_buckets || !s->hs) {
		wisp_conns_free(s);
		return NULL;
	}
	return s;
}

void wisp_conns_free(struct wisp_conns *s)
{
	if (!s)
		return;
	hs_free(s->hs);
	while (s->conns.lru.head)
		conn_remove(s, conn_of(s->conns.lru.head));
	while (s->keys.head)
		key_remove(s, key_of(s->keys.head));
	for (uint32_t i = 0; s->proc_buckets && i <= s->proc_mask; i++) {
		while (s->proc_buckets[i]) {
			struct cs_proc *q = s->proc_buckets[i];

			s->proc_buckets[i] = q->hnext;
			free(q);
		}
	}
	for (int t = 0; t < 2; t++)
		rows_out_free(&s->out[t]);
	wisp_idt_free(&s->conns);
	free(s->key_buckets);
	free(s->proc_buckets);
	free(s);
}
