// cgroup_skb programs must return 0 or 1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup_skb/egress")
int cgroup_skb_ret01(struct __sk_buff *skb)
{
	return skb->len > 100 ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
