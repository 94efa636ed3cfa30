// A variable packet offset (0..255) followed by a data_end check on the moved pointer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
SEC("xdp")
int var_off_checked(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	__u8 *p = (__u8 *)data + (ctx->rx_queue_index & 0xff);

	if ((void *)(p + 1) > data_end)
		return XDP_DROP;
	return *p;
}

char LICENSE[] SEC("license") = "GPL";
