// bpf_skb_store_bytes is not available to socket filters (they may not modify the packet).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int store_bytes_socket(struct __sk_buff *skb)
{
	__u8 x = 0;

	bpf_skb_store_bytes(skb, 0, &x, 1, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
