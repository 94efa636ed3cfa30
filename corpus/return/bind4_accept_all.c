// The kernel selftest "bind4 reject all": a cgroup/post_bind4 program that just returns 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/post_bind4")
int bind4_accept_all(struct bpf_sock *sk)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
