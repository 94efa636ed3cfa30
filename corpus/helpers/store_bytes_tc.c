// bpf_skb_store_bytes is available to tc programs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int store_bytes_tc(struct __sk_buff *skb)
{
	__u8 x = 0;

	bpf_skb_store_bytes(skb, 0, &x, 1, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
