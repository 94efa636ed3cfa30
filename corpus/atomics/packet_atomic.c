// Atomic add into packet data is refused even after a bound check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int packet_atomic(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + 4 > data_end)
		return XDP_DROP;
	__sync_fetch_and_add((__u32 *)data, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
