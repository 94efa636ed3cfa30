// A 1-byte load of __sk_buff->mark: narrow ctx loads are allowed for __sk_buff.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int tc_narrow_load(struct __sk_buff *skb)
{
	return *(volatile __u8 *)&skb->mark;
}

char LICENSE[] SEC("license") = "GPL";
