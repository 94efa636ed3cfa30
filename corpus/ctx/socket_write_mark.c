// Socket filters may write only __sk_buff->cb[]; writing ->mark (off=8) is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int socket_write_mark(struct __sk_buff *skb)
{
	skb->mark = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
