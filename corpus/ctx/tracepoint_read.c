// A tracepoint reads 8 bytes at offset 16 of its raw record (any aligned offset below PERF_MAX_TRACE_SIZE is allowed at load time).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint_read(void *ctx)
{
	return *(volatile __u64 *)((char *)ctx + 16) != 0;
}

char LICENSE[] SEC("license") = "GPL";
