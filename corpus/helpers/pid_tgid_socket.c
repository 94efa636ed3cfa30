// bpf_get_current_pid_tgid called from a socket filter: on 6.18 it is part of the base helper set every program type gets, so this is accepted.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int pid_tgid_socket(struct __sk_buff *skb)
{
	return bpf_get_current_pid_tgid() & 1;
}

char LICENSE[] SEC("license") = "GPL";
