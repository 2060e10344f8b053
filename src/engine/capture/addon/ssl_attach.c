// SPDX-License-Identifier: Apache-2.0
/* Attaching the TLS uprobes; see ssl_attach.h. */
#include "ssl_attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

static const char *const funcs[SSL_ATTACH_FUNCS] = { "SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex", "SSL_free" };
#define SSL_FREE 4

/* Where a distribution keeps its shared libraries: their libssl is attached before any use. */
static const char *const lib_dirs[] = {
	"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib",
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
};

/* A new process's maps are looked at again after these delays (ms after its exec). */
static const int64_t rescan_ms[] = { 0, 20, 100, 500, 2000 };
#define RESCANS (sizeof(rescan_ms) / sizeof(rescan_ms[0]))

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * The file offsets of funcs[] in the ELF file at path, from its dynamic and static symbol
 * tables, in one pass (libbpf would read the tables again for every probe: seconds for Node's
 * binary). Returns a bitmask of the functions found.
 */
static unsigned elf_func_offsets(const char *path, size_t offs[SSL_ATTACH_FUNCS])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned found = 0;
	Elf_Scn *scn = NULL;
	Elf *e;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) ||
		    sh.sh_entsize == 0 || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			GElf_Shdr text;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC || !(n = elf_strptr(e, sh.sh_link, sym.st_name)))
				continue;
			for (int f = 0; f < SSL_ATTACH_FUNCS; f++) {
				if ((found & (1u << f)) || strcmp(n, funcs[f]) != 0 ||
				    !gelf_getshdr(elf_getscn(e, sym.st_shndx), &text))
					continue;
				/* Where the function's bytes are in the file, which is what a uprobe names. */
				offs[f] = sym.st_value - text.sh_addr + text.sh_offset;
				found |= 1u << f;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

static struct ssl_file *find_file(struct ssl_attach *a, dev_t dev, ino_t ino)
{
	for (uint32_t i = 0; i < a->nfiles; i++)
		if (a->files[i].dev == dev && a->files[i].ino == ino)
			return &a->files[i];
	return NULL;
}

static void note_failure(struct ssl_attach *a, const char *path, const char *func, int err)
{
	a->stats.failures++;
	snprintf(a->stats.last_error, sizeof(a->stats.last_error), "attaching to %s in %s: %s", func, path,
		 strerror(err < 0 ? -err : err));
}

/*
 * Looks at the file at path (as this process reaches it: through /proc/PID/root for another
 * mount namespace) once per (device, inode): attaches the probes if it exports SSL_write.
 */
static void consider(struct ssl_attach *a, const char *path)
{
	size_t offs[SSL_ATTACH_FUNCS];
	struct ssl_file *f, *grown;
	struct stat st;
	unsigned found;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	/* Only this thread writes the list; the lock is for JS reading it (ids()). */
	pthread_mutex_lock(&a->lock);
	f = find_file(a, st.st_dev, st.st_ino);
	if (!f && a->nfiles == a->cap) {
		uint32_t cap = a->cap ? a->cap * 2 : 64;

		grown = realloc(a->files, cap * sizeof(*grown));
		if (grown) {
			a->files = grown;
			a->cap = cap;
		}
	}
	if (f || a->nfiles == a->cap) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	f = &a->files[a->nfiles++];
	memset(f, 0, sizeof(*f));
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	pthread_mutex_unlock(&a->lock);
	/* OpenSSL before 1.1.1 has no _ex forms: only SSL_write and SSL_read are needed. */
	found = elf_func_offsets(path, offs);
	if ((found & 3) != 3)
		return;
	for (int i = 0; i < SSL_ATTACH_FUNCS; i++) {
		if (!(found & (1u << i)))
			continue;
		for (int ret = 0; ret < (i == SSL_FREE ? 1 : 2); ret++) {
			LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret);
			struct bpf_link *l = bpf_program__attach_uprobe_opts(ret ? a->ret : a->entry[i], -1, path, offs[i], &o);

			int err = l ? 0 : errno;

			pthread_mutex_lock(&a->lock);
			if (l)
				f->links[f->nlinks++] = l;
			else
				note_failure(a, path, funcs[i], err);
			pthread_mutex_unlock(&a->lock);
		}
	}
	pthread_mutex_lock(&a->lock);
	if (f->nlinks > 0)
		a->stats.files++;
	pthread_mutex_unlock(&a->lock);
}

static int is_libssl(const char *path)
{
	const char *base = strrchr(path, '/');

	return strncmp(base ? base + 1 : path, "libssl.so", 9) == 0;
}

/* The process's executable and the libssl.so* it maps. */
static void scan_process(struct ssl_attach *a, uint32_t pid, int with_exe)
{
	char path[4352], line[4096];
	FILE *maps;

	if (with_exe) {
		snprintf(path, sizeof(path), "/proc/%u/exe", pid);
		consider(a, path);
	}
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	maps = fopen(path, "re");
	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		char *file = strchr(line, '/');
		size_t n;

		if (!file)
			continue;
		n = strlen(file);
		if (n > 0 && file[n - 1] == '\n')
			file[n - 1] = 0;
		if (!is_libssl(file))
			continue;
		snprintf(path, sizeof(path), "/proc/%u/root%s", pid, file);
		consider(a, path);
	}
	fclose(maps);
	pthread_mutex_lock(&a->lock);
	a->stats.processes++;
	pthread_mutex_unlock(&a->lock);
}

static void scan_lib_dirs(struct ssl_attach *a)
{
	char path[4352];

	for (size_t i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
		DIR *d = opendir(lib_dirs[i]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d)))
			if (is_libssl(e->d_name)) {
				snprintf(path, sizeof(path), "%s/%s", lib_dirs[i], e->d_name);
				consider(a, path);
			}
		closedir(d);
	}
}

static void scan_all(struct ssl_attach *a)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (*end == 0 && pid > 0)
			scan_process(a, (uint32_t)pid, 1);
	}
	closedir(d);
}

static void schedule(struct ssl_attach *a, uint32_t pid, uint32_t round, int64_t base)
{
	if (round >= RESCANS || a->npending >= SSL_ATTACH_PENDING)
		return;
	a->pending[a->npending].pid = pid;
	a->pending[a->npending].round = round;
	a->pending[a->npending].due_ns = base + rescan_ms[round] * 1000000;
	a->npending++;
}

static int on_exec(void *ctx, void *data, size_t size)
{
	struct ssl_attach *a = ctx;
	uint32_t pid;

	if (size < sizeof(pid))
		return 0;
	memcpy(&pid, data, sizeof(pid));
	/* The executable is there at once; its libraries come with the loader, soon after. */
	scan_process(a, pid, 1);
	schedule(a, pid, 1, mono_ns() - rescan_ms[0] * 1000000);
	return 0;
}

static void run_due(struct ssl_attach *a)
{
	int64_t now = mono_ns();

	for (uint32_t i = 0; i < a->npending;) {
		if (a->pending[i].due_ns > now) {
			i++;
			continue;
		}
		{
			uint32_t pid = a->pending[i].pid, round = a->pending[i].round;
			int64_t base = a->pending[i].due_ns - rescan_ms[round] * 1000000;

			a->pending[i] = a->pending[--a->npending];
			scan_process(a, pid, 0);
			schedule(a, pid, round + 1, base);
		}
	}
}

static void *attach_main(void *arg)
{
	struct ssl_attach *a = arg;

	while (!atomic_load(&a->stop)) {
		ring_buffer__poll(a->exec_rb, a->npending > 0 ? 10 : 100);
		run_due(a);
	}
	return NULL;
}

int ssl_attach_start(struct ssl_attach *a)
{
	int err;

	pthread_mutex_init(&a->lock, NULL);
	scan_lib_dirs(a);
	a->exec_rb = ring_buffer__new(a->exec_map_fd, on_exec, a, NULL);
	if (!a->exec_rb)
		return -errno;
	/* After the exec ring exists, so a process started during the scan is not missed. */
	scan_all(a);
	atomic_store(&a->stop, 0);
	err = pthread_create(&a->thread, NULL, attach_main, a);
	if (err)
		return -err;
	a->started = 1;
	return 0;
}

void ssl_attach_stop(struct ssl_attach *a)
{
	if (a->started) {
		atomic_store(&a->stop, 1);
		pthread_join(a->thread, NULL);
		a->started = 0;
	}
	ring_buffer__free(a->exec_rb);
	a->exec_rb = NULL;
	for (uint32_t i = 0; i < a->nfiles; i++)
		for (uint32_t j = 0; j < a->files[i].nlinks; j++)
			bpf_link__destroy(a->files[i].links[j]);
	free(a->files);
	a->files = NULL;
	a->nfiles = a->cap = 0;
}

void ssl_attach_snapshot(struct ssl_attach *a, struct ssl_attach_stats *out)
{
	pthread_mutex_lock(&a->lock);
	*out = a->stats;
	pthread_mutex_unlock(&a->lock);
}
