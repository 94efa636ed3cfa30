// An 8-byte load of the 4-byte __sk_buff->len.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int ctx_wide_load(struct __sk_buff *skb)
{
	return *(volatile __u64 *)&skb->len != 0;
}

char LICENSE[] SEC("license") = "GPL";
