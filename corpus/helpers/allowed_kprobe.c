// bpf_get_current_pid_tgid is available to kprobes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobe/do_nanosleep")
int allowed_kprobe(void *ctx)
{
	return bpf_get_current_pid_tgid() & 1;
}

char LICENSE[] SEC("license") = "GPL";
