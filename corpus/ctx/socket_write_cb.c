// Socket filters may write __sk_buff->cb[].
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int socket_write_cb(struct __sk_buff *skb)
{
	skb->cb[0] = skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
