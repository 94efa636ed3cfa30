// Increments a .bss counter and a .data counter (direct map value access through ld_imm64 map_value).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 hits;
__u64 total = 5;

SEC("xdp")
int data_bss_counters(struct xdp_md *ctx)
{
	hits++;
	__sync_fetch_and_add(&total, ctx->ingress_ifindex);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
