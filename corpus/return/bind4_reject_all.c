// The kernel selftest "bind4 reject all" (test_sock.c): a cgroup/post_bind4 program that just returns 0, denying every bind; the verifier accepts it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/post_bind4")
int bind4_reject_all(struct bpf_sock *sk)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
