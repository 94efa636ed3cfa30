// bpf_probe_read_kernel is GPL-only; this object declares a proprietary license.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobe/do_nanosleep")
int gpl_only_non_gpl(void *ctx)
{
	__u64 x = 0;

	bpf_probe_read_kernel(&x, sizeof(x), ctx);
	return x != 0;
}

char LICENSE[] SEC("license") = "Proprietary";
