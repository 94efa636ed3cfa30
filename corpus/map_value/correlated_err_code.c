// An error code set on one side of a test (0 or -155) is tested again later together
// with the same condition: the NULL-unchecked dereference is only on a side that
// cannot run. The kernel walks the two sides apart; a join of err = 0 and err = -155
// would lose which side is which.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} vals SEC(".maps");

SEC("xdp")
int correlated_err_code(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u32 *v = bpf_map_lookup_elem(&vals, &k);
	int r = (int)bpf_get_prandom_u32();
	int err = 0;

	if (r < 0) {
		/* a call keeps the branch a branch (no select) */
		bpf_get_smp_processor_id();
		err = -155;
	}
	/* a call at the join point keeps the paths joined (no tail duplication) */
	bpf_get_smp_processor_id();
	bpf_get_smp_processor_id();
	asm volatile("" : "+r"(err));
	if (r < 0) {
		if (err < 0)
			return XDP_DROP;
		return *v;
	}
	if (!v)
		return XDP_PASS;
	return *v & 1;
}

char LICENSE[] SEC("license") = "GPL";
