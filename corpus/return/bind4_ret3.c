// cgroup/post_bind4 must return 0 or 1; 3 is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/post_bind4")
int bind4_ret3(struct bpf_sock *sk)
{
	return 3;
}

char LICENSE[] SEC("license") = "GPL";
