// cgroup_skb may read the packet directly after a bound check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup_skb/ingress")
int cgroup_skb_read(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *p = data;

	if ((void *)(p + 1) > data_end)
		return 1;
	return *p == 0x45;
}

char LICENSE[] SEC("license") = "GPL";
