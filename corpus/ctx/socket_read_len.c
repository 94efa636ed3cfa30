// A socket filter reads __sk_buff->len (off=0) and ->protocol.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int socket_read_len(struct __sk_buff *skb)
{
	return skb->len > 64 && skb->protocol ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
