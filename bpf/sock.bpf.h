/* SPDX-License-Identifier: Apache-2.0 */
/* From a file descriptor of the current task to its TCP socket, read with CO-RE. */
#ifndef WISP_SOCK_BPF_H
#define WISP_SOCK_BPF_H

#define WISP_AF_INET 2
#define WISP_AF_INET6 10
#define WISP_S_IFMT 00170000
#define WISP_S_IFSOCK 0140000

/*
 * task->files->fdt->fd[fd]: the open file behind fd, or NULL. The task pointer is BTF-typed,
 * so the walk down to the fd array is plain loads the JIT guards against faults, not helper
 * calls; only the array slot (a pointer to pointers, opaque to the verifier) takes a probed
 * read. This is the check every cached lookup pays.
 */
static __always_inline struct file *fd_file(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	return file;
}

/*
 * file -> socket -> sock. Returns NULL for anything that is not an IPv4/IPv6 TCP socket (files,
 * pipes, unix and UDP sockets). Addresses come from the socket later, never from syscall
 * arguments: libuv's accept4 passes a NULL sockaddr.
 */
static __always_inline struct sock *tcp_sock_of_file(struct file *file)
{
	struct socket *socket;
	struct sock *sk;
	__u16 mode, family, protocol;

	if (!file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & WISP_S_IFMT) != WISP_S_IFSOCK)
		return NULL;
	socket = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(socket, sk);
	if (!sk)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != WISP_AF_INET && family != WISP_AF_INET6)
		return NULL;
	/* A bitfield before Linux 5.6, a u16 after: the probed read handles both. */
	protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (protocol != IPPROTO_TCP)
		return NULL;
	return sk;
}

/* The full walk, for the rare syscalls that do not go through the caches (accept, connect). */
static __always_inline struct sock *tcp_sock_of_fd(__u32 fd)
{
	return tcp_sock_of_file(fd_file(fd));
}

static __always_inline void read_sock_addrs(struct sock *sk, struct wisp_open_event *ev)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	ev->family = family;
	ev->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == WISP_AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)ev->local_addr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)ev->remote_addr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO((struct in6_addr *)ev->local_addr, sk,
				   __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)ev->remote_addr, sk,
				   __sk_common.skc_v6_daddr);
	}
}

/*
 * The thread group leader's start time and name: what /proc/<pid>/stat and /proc/<pid>/comm
 * report, whichever thread made the syscall.
 */
static __always_inline void read_process(struct wisp_open_event *ev)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	ev->start_boottime_ns = BPF_CORE_READ(leader, start_boottime);
	BPF_CORE_READ_STR_INTO(&ev->comm, leader, comm);
}

#endif
