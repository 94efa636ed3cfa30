// cgroup_skb returning an unknown 32-bit value from ctx.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup_skb/egress")
int cgroup_skb_ret_unknown(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
