// cgroup_skb returning 5 is outside [0, 1].
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup_skb/egress")
int cgroup_skb_ret5(struct __sk_buff *skb)
{
	return 5;
}

char LICENSE[] SEC("license") = "GPL";
