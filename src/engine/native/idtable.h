/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entries kept in least-recently-used order, and found by a 64-bit kernel id: the connection
 * tables of the HTTP stage (pairing.c) and of the connections stage (conns.c, handshakes.c).
 * Intrusive: an entry embeds the link (or the id entry) and is found back with WISP_CONTAINER;
 * the caller allocates, bounds, counts and frees entries, so each stage keeps its own caps and
 * eviction counters.
 */
#ifndef WISP_IDTABLE_H
#define WISP_IDTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The struct of type `type` whose member `member` `p` points to; NULL stays NULL. */
#define WISP_CONTAINER(p, type, member) \
	((type *)wisp_container_at((p), offsetof(type, member)))

static inline void *wisp_container_at(void *p, size_t offset)
{
	return p ? (char *)p - offset : NULL;
}

struct wisp_lru_link {
	struct wisp_lru_link *prev;
	struct wisp_lru_link *next;
};

/* Least recently used first. */
struct wisp_lru {
	struct wisp_lru_link *head;
	struct wisp_lru_link *tail;
};

static inline void wisp_lru_unlink(struct wisp_lru *l, struct wisp_lru_link *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static inline void wisp_lru_append(struct wisp_lru *l, struct wisp_lru_link *e)
{
	e->prev = l->tail;
	e->next = NULL;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
}

/* The entry was used: it goes last. */
static inline void wisp_lru_touch(struct wisp_lru *l, struct wisp_lru_link *e)
{
	if (e == l->tail)
		return;
	wisp_lru_unlink(l, e);
	wisp_lru_append(l, e);
}

struct wisp_id_entry {
	struct wisp_lru_link lru;
	uint64_t id;
	struct wisp_id_entry *hnext;
};

struct wisp_id_table {
	struct wisp_id_entry **buckets;
	uint32_t mask;
	struct wisp_lru lru;
};

/* `slots` is a power of two; 0 when there is no memory for them. */
static inline int wisp_idt_init(struct wisp_id_table *t, uint32_t slots)
{
	t->buckets = calloc(slots, sizeof(*t->buckets));
	t->mask = slots - 1;
	t->lru.head = t->lru.tail = NULL;
	return t->buckets != NULL;
}

/* Frees the slots only: the entries are the caller's (remove them first). */
static inline void wisp_idt_free(struct wisp_id_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

static inline struct wisp_id_entry **wisp_idt_bucket(const struct wisp_id_table *t, uint64_t id)
{
	return &t->buckets[(id * 0x9e3779b97f4a7c15ull >> 32) & t->mask];
}

static inline struct wisp_id_entry *wisp_idt_find(const struct wisp_id_table *t, uint64_t id)
{
	struct wisp_id_entry *e = *wisp_idt_bucket(t, id);

	while (e && e->id != id)
		e = e->hnext;
	return e;
}

/* Adds an entry whose id is set and not in the table, as the most recently used. */
static inline void wisp_idt_insert(struct wisp_id_table *t, struct wisp_id_entry *e)
{
	struct wisp_id_entry **b = wisp_idt_bucket(t, e->id);

	e->hnext = *b;
	*b = e;
	wisp_lru_append(&t->lru, &e->lru);
}

static inline void wisp_idt_remove(struct wisp_id_table *t, struct wisp_id_entry *e)
{
	struct wisp_id_entry **pp = wisp_idt_bucket(t, e->id);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	wisp_lru_unlink(&t->lru, &e->lru);
}

#endif
