// __sk_buff->len is read-only even for tc.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int tc_write_len(struct __sk_buff *skb)
{
	skb->len = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
