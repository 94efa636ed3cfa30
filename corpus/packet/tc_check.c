// tc direct packet access through __sk_buff->data/data_end after a bound check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
SEC("tc")
int tc_check(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	eth->h_source[0] = 0;
	return eth->h_proto == 8 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
