// tc (sched_cls) programs may write __sk_buff->mark.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int tc_write_mark(struct __sk_buff *skb)
{
	skb->mark = 42;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
