// cgroup/sock_create may read bpf_sock->family and write ->mark.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/sock_create")
int cgroup_sock_write_mark(struct bpf_sock *sk)
{
	if (sk->family == 2)
		sk->mark = 7;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
