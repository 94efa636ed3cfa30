// cgroup/sock_create must return 0 or 1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/sock_create")
int sock_create_ret2(struct bpf_sock *sk)
{
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
