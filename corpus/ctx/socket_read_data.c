// Socket filters have no direct packet access: reading __sk_buff->data (off=76) is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int socket_read_data(struct __sk_buff *skb)
{
	return skb->data;
}

char LICENSE[] SEC("license") = "GPL";
