// Tracepoint records are read-only.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint_write(void *ctx)
{
	*(volatile __u64 *)((char *)ctx + 16) = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
